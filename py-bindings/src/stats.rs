//! `rtsp_core.Stats` and `rtsp_core.PublisherStats`: the engine's [`EngineStats`] and
//! [`EnginePublisherStats`] structs themselves, read through their field lists (`FIELDS`,
//! checked against the structs by the compiler), so Python has exactly the fields, names and
//! units that Rust and C have.

use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rtsp_core::client::{
    PublisherStats as EnginePublisherStats, Stats as EngineStats, StatsKind, StatsValue,
};

fn python_type(kind: StatsKind) -> &'static str {
    match kind {
        StatsKind::Count => "int",
        StatsKind::Number => "float",
        StatsKind::Optional => "float | None",
    }
}

fn to_python(py: Python<'_>, value: StatsValue) -> PyResult<Py<PyAny>> {
    Ok(match value {
        StatsValue::Count(n) => n.into_pyobject(py)?.into_any().unbind(),
        StatsValue::Number(x) => x.into_pyobject(py)?.into_any().unbind(),
        StatsValue::Missing => py.None(),
    })
}

/// A Python class over one of the engine's statistics structs: `FIELDS`, one attribute per
/// field, `as_dict()`, a repr.
macro_rules! stats_class {
    ($(#[$doc:meta])* $class:ident, $engine:ty, $name:literal) => {
        $(#[$doc])*
        #[pyclass(module = "rtsp_core._native", name = $name, frozen, eq, skip_from_py_object)]
        #[derive(PartialEq)]
        pub struct $class(pub $engine);

        #[pymethods]
        impl $class {
            #[new]
            fn new() -> Self {
                Self(<$engine>::default())
            }

            /// Every field's name and Python type, in order: the engine's field list.
            #[classattr]
            #[allow(non_snake_case)]
            fn FIELDS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
                let fields = <$engine>::FIELDS
                    .iter()
                    .map(|&(name, kind)| (name, python_type(kind)));
                Ok(PyTuple::new(py, fields)?.unbind())
            }

            fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
                match self.0.value(name) {
                    Some(value) => to_python(py, value),
                    None => Err(PyAttributeError::new_err(format!(
                        "'{}' object has no attribute '{name}'",
                        $name
                    ))),
                }
            }

            /// The fields as a dict, in `FIELDS` order.
            fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                for (name, value) in self.0.values() {
                    d.set_item(name, to_python(py, value)?)?;
                }
                Ok(d)
            }

            fn __repr__(&self) -> String {
                let fields: Vec<String> = self
                    .0
                    .values()
                    .into_iter()
                    .map(|(name, value)| match value {
                        StatsValue::Count(n) => format!("{name}={n}"),
                        StatsValue::Number(x) => format!("{name}={x:?}"),
                        StatsValue::Missing => format!("{name}=None"),
                    })
                    .collect();
                format!("{}({})", $name, fields.join(", "))
            }
        }
    };
}

stats_class!(
    /// Receive statistics: a snapshot, with counters since the client connected.
    ///
    /// The engine's statistics struct (`rtsp_core_stats` in C): `FIELDS` lists its fields with
    /// their Python types, each readable as an attribute. A field's name says its unit:
    /// `bitrate_bps_*` in bits per second, `frame_rate_fps_*` in frames per second, `*_ms` in
    /// milliseconds; `*_recent` covers the last 2 seconds, `*_overall` the time spent playing.
    /// `first_frame_latency_ms` is None until a frame arrived. `Stats()` is an empty snapshot.
    Stats,
    EngineStats,
    "Stats"
);

stats_class!(
    /// A publisher's statistics: frames sent, refused (by reason) and re-encoded, packets
    /// dropped, and what the server's last RTCP receiver report said.
    ///
    /// The engine's struct (`rtsp_core_publisher_stats` in C), read like `Stats`: `FIELDS`,
    /// one attribute per field, `as_dict()`. `report_fraction_lost` and `report_jitter_ms` are
    /// None until a report arrived (`receiver_reports` counts them; a server need not send any).
    PublisherStats,
    EnginePublisherStats,
    "PublisherStats"
);
