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
