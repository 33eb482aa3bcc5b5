#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The checked-in `include/rtsp_core.h` is exactly what the pinned cbindgen generates for
//! `src/ffi` (runs `scripts/check-header.sh`, which installs that cbindgen version if needed), and
//! it declares every C entry point of the crate.

use std::path::Path;
use std::process::Command;

#[test]
fn header_matches_the_pinned_cbindgen_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("bash")
        .arg(root.join("scripts/check-header.sh"))
        .current_dir(root)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
}

#[test]
fn header_declares_every_entry_point() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(crate_dir.join("include/rtsp_core.h")).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(crate_dir.join("src/ffi")).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[no_mangle]" {
                let decl = lines.next().unwrap();
                let name = decl.split("fn ").nth(1).unwrap().split('(').next().unwrap();
                names.push(name.to_owned());
            }
        }
    }
    assert!(names.len() >= 30, "{names:?}");
    for name in &names {
        assert!(name.starts_with("rtsp_core_"), "{name}");
        assert!(
            header.contains(&format!("{name}(")),
            "{name} is not in the header"
        );
    }
    // No Rust type leaks into the header: every declared type is an rtsp_core_ one.
    for line in header.lines().filter(|l| l.starts_with("typedef ")) {
        assert!(line.contains("rtsp_core_"), "{line}");
    }
}

/// The value of `#define NAME value` in the header, if it defines NAME.
fn define<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.lines().find_map(|line| {
        let rest = line.strip_prefix("#define ")?.strip_prefix(name)?;
        rest.starts_with(' ').then(|| rest.trim())
    })
}

#[test]
fn header_version_macros_are_the_crate_version() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(crate_dir.join("include/rtsp_core.h")).unwrap();
    for (name, want) in [
        ("RTSP_CORE_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("RTSP_CORE_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("RTSP_CORE_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert_eq!(define(&header, name), Some(want), "{name}");
    }
    let string = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        define(&header, "RTSP_CORE_VERSION_STRING"),
        Some(string.as_str())
    );
    // What the library reports at run time is what the header promises.
    let runtime = unsafe { std::ffi::CStr::from_ptr(rtsp_core::ffi::rtsp_core_version()) };
    assert_eq!(format!("\"{}\"", runtime.to_str().unwrap()), string);
}

/// The parameter list of the function `name` as the header declares it (one line per parameter).
fn parameters(header: &str, name: &str) -> Vec<String> {
    let pattern = format!(" {name}(");
    let start = header
        .match_indices(&pattern)
        .map(|(at, _)| at)
        .find(|&at| {
            let line = header[..at].rfind('\n').map_or(0, |n| n + 1);
            !header[line..].starts_with("//")
        })
        .unwrap_or_else(|| panic!("{name} is not declared"));
    let rest = &header[start + name.len() + 2..];
    let end = rest.find(')').unwrap();
    rest[..end]
        .split(',')
        .map(|p| {
            // `struct X` and `X` are the same type (cbindgen's style "both").
            let words: Vec<&str> = p.split_whitespace().filter(|w| *w != "struct").collect();
            words.join(" ")
        })
        .collect()
}

#[test]
fn functions_that_only_read_take_const_pointers() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(crate_dir.join("include/rtsp_core.h")).unwrap();
    // Queries: they read through the handle and write only to the caller's out-parameters.
    for (name, handle) in [
        ("rtsp_core_client_state", "rtsp_core_client"),
        ("rtsp_core_client_transport", "rtsp_core_client"),
        ("rtsp_core_client_stats", "rtsp_core_client"),
        ("rtsp_core_server_port", "rtsp_core_server"),
        (
            "rtsp_core_jpeg_depacketizer_stats",
            "rtsp_core_jpeg_depacketizer",
        ),
    ] {
        let first = &parameters(&header, name)[0];
        assert!(
            first.starts_with(&format!("const {handle} *")),
            "{name} takes `{first}`"
        );
    }
    // Inputs that are only read.
    for (name, index, param) in [
        (
            "rtsp_core_client_new",
            0,
            "const rtsp_core_client_config *config",
        ),
        (
            "rtsp_core_client_new",
            1,
            "const rtsp_core_client_callbacks *callbacks",
        ),
        (
            "rtsp_core_rtp_encode",
            0,
            "const rtsp_core_rtp_header *header",
        ),
    ] {
        assert_eq!(parameters(&header, name)[index], param, "{name}");
    }
    // A handle is mutable only where the call changes it: a getter-like name with a mutable
    // handle is a mistake.
    let declarations = header
        .lines()
        .filter(|l| !l.starts_with("//") && !l.starts_with('#') && !l.starts_with(' '));
    for line in declarations {
        let Some(open) = line.find('(') else { continue };
        let name = line[..open].rsplit(' ').next().unwrap_or("");
        let query = ["_state", "_transport", "_stats", "_port", "_version"]
            .iter()
            .any(|suffix| name.ends_with(suffix));
        if query && name.starts_with("rtsp_core_") {
            let first = &parameters(&header, name)[0];
            assert!(
                first.starts_with("const ") || first == "void" || !first.contains('*'),
                "{name} takes `{first}`"
            );
        }
    }
}
