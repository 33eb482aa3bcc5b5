#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Replays the checked-in fuzz inputs on stable Rust: every file under
//! `fuzz/seeds/<target>/` and `fuzz/corpus/<target>/` (the minimized corpus grown by
//! `scripts/fuzz.sh`) goes through the same target body the fuzzer runs
//! (`rtsp_core::fuzzing`), so a regression of any past finding or any input that once reached new
//! code fails here. Also checks that the seeds model the traffic they are named after.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rtsp_core::fuzzing::{self, rtsp_message};
use rtsp_core::rtsp::headers::{
    Accept, CSeq, ContentType, Header, Public, Range, RtpInfo, Session, Transport,
};
use rtsp_core::rtsp::url::RequestUri;
use rtsp_core::rtsp::MessageParser;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>`, sorted; panics when the folder is missing or empty, so
/// that a renamed or forgotten folder cannot make the replay pass vacuously.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let hint = "add seeds, or run `scripts/fuzz.sh SECONDS TARGET` and `scripts/fuzz.sh --minimize TARGET`";
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}; {hint}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert!(!files.is_empty(), "{} is empty; {hint}", dir.display());
    files.sort();
    files
}

/// Runs every input of every target, collecting failures instead of stopping at the first one.
fn replay(kind: &str) {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in fuzzing::targets() {
        for path in inputs(kind, target.name) {
            replayed += 1;
            let data = std::fs::read(&path).unwrap();
            if let Err(cause) = catch_unwind(AssertUnwindSafe(|| (target.run)(&data))) {
                let message = cause
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| cause.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    eprintln!(
        "{kind}: {replayed} inputs of {} targets",
        fuzzing::targets().len()
    );
    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn seeds_pass_every_target() {
    replay("seeds");
}

#[test]
fn minimized_corpus_passes_every_target() {
    replay("corpus");
}

/// Only names from `fuzzing::targets()`, so that the list, the fuzz crate and the input folders
/// cannot drift apart.
fn assert_known(names: impl IntoIterator<Item = String>, what: &str) {
    let known: Vec<&str> = fuzzing::targets().iter().map(|t| t.name).collect();
    for name in names {
        assert!(
            known.contains(&name.as_str()),
            "{what} {name:?} is not in fuzzing::targets()"
        );
    }
}

#[test]
fn fuzz_crate_and_folders_match_the_target_list() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let bins: Vec<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .map(|section| {
            let line = section.lines().find(|l| l.starts_with("name")).unwrap();
            line.split('"').nth(1).unwrap().to_owned()
        })
        .collect();
    assert_eq!(bins.len(), fuzzing::targets().len(), "{bins:?}");
    assert_known(bins.iter().cloned(), "fuzz crate binary");
    for target in fuzzing::targets() {
        let path = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", target.name));
        let body = std::fs::read_to_string(&path).unwrap();
        let call = format!("rtsp_core::fuzzing::{}(data)", target.name);
        assert!(body.contains(&call), "{} must call {call}", path.display());
    }
    for kind in ["seeds", "corpus"] {
        let names = std::fs::read_dir(fuzz_dir().join(kind))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap());
        assert_known(names, &format!("{kind} folder"));
    }
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = fuzz_dir().join("seeds").join(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The seeds start the fuzzer from inputs that reach deep into the parser: each decodes (with the
/// target's layout) into complete messages of the traffic it is named after.
#[test]
fn rtsp_message_seeds_decode_to_complete_messages() {
    for (name, count) in [
        ("lab_client", 6),
        ("lab_server", 3),
        ("ffmpeg_pipelined", 5),
        ("tcp_interleaved", 4),
        ("gst_setup_reply", 1),
        ("folded_and_lf", 2),
    ] {
        let data = seed("rtsp_message", name);
        let (limits, reads) = rtsp_message::decode(&data).unwrap();
        let mut parser = MessageParser::with_limits(limits);
        let mut items = 0;
        for (chunk, boundary) in reads {
            parser.push(chunk).unwrap();
            if boundary {
                parser.end_of_read();
            }
            while parser
                .next()
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .is_some()
            {
                items += 1;
            }
        }
        assert_eq!(items, count, "{name}");
        assert!(parser.is_idle(), "{name}: incomplete message left");
    }
    // The SDP body does not fit the small limits: that seed exercises the limit path.
    let data = seed("rtsp_message", "describe_reply_small_limits");
    let (limits, reads) = rtsp_message::decode(&data).unwrap();
    assert_eq!(limits.max_body_len, 100);
    assert!(rtsp_message::feed(limits, &reads).1.is_some());
}

fn parses<H: Header>(value: &str) -> bool {
    H::parse(value).is_ok()
}

#[test]
fn rtsp_headers_seeds_select_a_parser_that_accepts_them() {
    let header_seed = |name: &str| {
        let data = seed("rtsp_headers", name);
        (data[0], String::from_utf8(data[1..].to_vec()).unwrap())
    };
    for (name, which, ok) in [
        ("cseq", 0, parses::<CSeq> as fn(&str) -> bool),
        ("session", 1, parses::<Session>),
        ("transport_lab", 2, parses::<Transport>),
        ("transport_alternatives", 2, parses::<Transport>),
        ("range_hhmmss", 3, parses::<Range>),
        ("rtp_info", 4, parses::<RtpInfo>),
        ("public", 5, parses::<Public>),
        ("content_type", 6, parses::<ContentType>),
        ("accept", 9, parses::<Accept>),
    ] {
        let (selector, value) = header_seed(name);
        assert_eq!(selector % 12, which, "{name}");
        assert!(ok(&value), "{name}: {value:?}");
    }
    let (selector, value) = header_seed("url");
    assert_eq!(selector % 12, 11);
    assert!(matches!(
        RequestUri::parse(&value),
        Ok(RequestUri::Absolute(_))
    ));
}
