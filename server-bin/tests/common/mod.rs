//! The server harness and peer launchers live in the workspace's `rtsp-tests` support library,
//! shared with the end-to-end tests there.
pub use rtsp_tests::*;
