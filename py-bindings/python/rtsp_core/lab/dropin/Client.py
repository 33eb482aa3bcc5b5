from rtsp_core.lab import Client  # noqa: F401  (the lab Tk client on the Rust engine)
