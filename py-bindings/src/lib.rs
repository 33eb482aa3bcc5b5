//! `rtsp_core._native`: the compiled half of the Python package `rtsp_core`.
//!
//! It exposes the engine's lab RTP dialect (`RtpPacket`), the indexed MJPEG reader
//! (`VideoStream`), the client runtime (`ClientCore`, wrapped by the pure-Python
//! `rtsp_core.Client`) with the engine's `Stats`, the in-process server (`Server`) and the
//! publisher (`Publisher`). The pure-Python parts of the
//! package (`python/rtsp_core/`) add the Pythonic client wrapper, the exceptions and the lab's
//! Tk client; maturin puts both together into one wheel.
//!
//! Build with `pip install ./py-bindings` (maturin sets `PYO3_BUILD_EXTENSION_MODULE`, so
//! the module does not link against libpython).

mod client;
mod errors;
mod publisher;
mod rtp;
mod server;
mod stats;
mod video;

use pyo3::prelude::*;

/// The compiled part of `rtsp_core`. Import `rtsp_core` instead.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<rtp::RtpPacket>()?;
    m.add_class::<video::VideoStream>()?;
    m.add_class::<client::ClientCore>()?;
    m.add_class::<client::Frame>()?;
    m.add_class::<stats::Stats>()?;
    m.add_class::<stats::PublisherStats>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<publisher::Publisher>()?;
    m.add("ENGINE_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
