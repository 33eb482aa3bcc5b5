from rtsp_core import VideoStream  # noqa: F401  (the lab VideoStream on the Rust engine)
