//! Rust values as Python objects: JSON documents as dicts and lists, MIME bundles as the `(data, metadata)` pair
//! IPython's `display(..., raw=True)` and `_repr_mimebundle_` take, paths as `pathlib.Path`.
//!
//! Owns no rendering: bundles arrive rendered by `harmonyql::output::report`.

use std::path::PathBuf;

use harmonyql::output::MimeBundle;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A JSON value as the object `json.loads` would give.
pub fn json<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => flag.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(signed), _) => signed.into_pyobject(py)?.into_any(),
            (None, Some(unsigned)) => unsigned.into_pyobject(py)?.into_any(),
            _ => number.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(text) => text.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(object) => {
            let dict = PyDict::new(py);
            for (key, item) in object {
                dict.set_item(key, json(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A bundle's data and metadata as two dicts keyed by MIME type.
pub fn bundle<'py>(py: Python<'py>, bundle: &MimeBundle) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    let data = PyDict::new(py);
    for (mime, value) in bundle.data() {
        data.set_item(mime, json(py, value)?)?;
    }
    let metadata = PyDict::new(py);
    for (mime, value) in bundle.metadata() {
        metadata.set_item(mime, json(py, value)?)?;
    }
    Ok((data, metadata))
}

/// Paths as a `list[pathlib.Path]`.
pub fn paths<'py>(py: Python<'py>, paths: &[PathBuf]) -> PyResult<Bound<'py, PyAny>> {
    let path_type = py.import("pathlib")?.getattr("Path")?;
    let list = PyList::empty(py);
    for path in paths {
        list.append(path_type.call1((path.as_os_str(),))?)?;
    }
    Ok(list.into_any())
}
