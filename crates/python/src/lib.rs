//! `harmonyql._harmonyql`, the native half of the `harmonyql` Python package (built by maturin from
//! `pyproject.toml`): the evaluator's session for Python, `{name}` expansion for `%%hq` cells, the language's
//! keyword table for the Pygments lexer, and granule readers into NumPy.
//!
//! Everything with logic lives here; `python/harmonyql` only maps calls onto IPython and Pygments.

mod convert;
mod interpolate;
mod readers;
mod session;

use harmonyql::lang::keyword::{CLAUSES, VERBS};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The cell with every `{name}` replaced by the HarmonyQL text of `namespace[name]` (see the module docs of
/// `harmonyql.magic`).
#[pyfunction]
fn expand(cell: &str, namespace: &Bound<'_, PyAny>) -> PyResult<String> {
    interpolate::expand(cell, namespace)
}

/// The words the language gives meaning to, from the parser's own tables: `verbs` and `clauses` (multi-word ones
/// spelt with `_`, which may be typed as a space), `plots`, `environments`, `formats` and `statuses`.
#[pyfunction]
fn keywords(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    use harmonyql::api::environment::Environment;
    use harmonyql::api::job::JobStatus;
    use harmonyql::lang::check::FORMATS;
    use harmonyql::lang::query::PlotKind;
    let words = PyDict::new(py);
    words.set_item("verbs", VERBS.iter().map(|verb| verb.name).collect::<Vec<_>>())?;
    words.set_item("clauses", CLAUSES.iter().map(|clause| clause.keyword).collect::<Vec<_>>())?;
    words.set_item("plots", PlotKind::NAMES.to_vec())?;
    words.set_item("environments", Environment::NAMES.to_vec())?;
    words.set_item("formats", FORMATS.iter().map(|(name, _)| *name).collect::<Vec<_>>())?;
    words.set_item("statuses", JobStatus::ALL.iter().map(|status| status.as_str()).collect::<Vec<_>>())?;
    Ok(words)
}

#[pymodule]
fn _harmonyql(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<session::PySession>()?;
    module.add_class::<session::Cell>()?;
    module.add_class::<session::Output>()?;
    module.add_class::<session::Job>()?;
    module.add_function(wrap_pyfunction!(expand, module)?)?;
    module.add_function(wrap_pyfunction!(keywords, module)?)?;
    module.add_function(wrap_pyfunction!(readers::read_photons, module)?)?;
    module.add_function(wrap_pyfunction!(readers::read_raster, module)?)?;
    Ok(())
}
