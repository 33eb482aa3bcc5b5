//! `rtsp_core.Stats`: the engine's [`Stats`] struct itself, read through its field list
//! ([`Stats::FIELDS`], checked against the struct by the compiler), so Python has exactly the
//! fields, names and units that Rust and C have.

use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rtsp_core::client::{Stats as EngineStats, StatsKind, StatsValue};

/// Receive statistics: a snapshot, with counters since the client connected.
///
/// The engine's statistics struct (`rtsp_core_stats` in C): `FIELDS` lists its fields with
/// their Python types, each readable as an attribute. A field's name says its unit:
/// `bitrate_bps_*` in bits per second, `frame_rate_fps_*` in frames per second, `*_ms` in
/// milliseconds; `*_recent` covers the last 2 seconds, `*_overall` the time spent playing.
/// `first_frame_latency_ms` is None until a frame arrived. `Stats()` is an empty snapshot.
#[pyclass(
    module = "rtsp_core._native",
    name = "Stats",
    frozen,
    eq,
    skip_from_py_object
)]
#[derive(PartialEq)]
pub struct Stats(pub EngineStats);

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

#[pymethods]
impl Stats {
    #[new]
    fn new() -> Self {
        Self(EngineStats::default())
    }

    /// Every field's name and Python type, in order: the engine's field list.
    #[classattr]
    #[allow(non_snake_case)]
    fn FIELDS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let fields = EngineStats::FIELDS
            .iter()
            .map(|&(name, kind)| (name, python_type(kind)));
        Ok(PyTuple::new(py, fields)?.unbind())
    }

    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match self.0.value(name) {
            Some(value) => to_python(py, value),
            None => Err(PyAttributeError::new_err(format!(
                "'Stats' object has no attribute '{name}'"
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
        format!("Stats({})", fields.join(", "))
    }
}
