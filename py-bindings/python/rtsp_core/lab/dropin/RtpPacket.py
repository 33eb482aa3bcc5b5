from rtsp_core import RtpPacket  # noqa: F401  (the lab RtpPacket on the Rust engine)
