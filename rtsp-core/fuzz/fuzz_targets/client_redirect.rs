#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rtsp_core::fuzzing::client_redirect(data));
