//! `rtsp-server` (under construction).

fn main() {}
