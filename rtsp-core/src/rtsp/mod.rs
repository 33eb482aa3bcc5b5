//! rtsp (under construction)
