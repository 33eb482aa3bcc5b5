//! `rtsp-player` (under construction).

fn main() {}
