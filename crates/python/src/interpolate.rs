//! `{name}` in a `%%hq` cell: Python values passed into HarmonyQL text.
//!
//! `{name}` or `{name.attribute}` is replaced by the value's HarmonyQL text, looked up in the namespace given
//! (the notebook's); `{{` and `}}` stand for literal braces. A `str` goes in as written (a collection, a job ID, a
//! keyword), a number as Python prints it, `True`/`False` as `true`/`false`, a path or a date-time as a quoted
//! string, a date as `YYYY-MM-DD`, a `harmonyql.Job` as its ID, and a list or tuple as its items joined by `, `
//! (so `bbox({box})` takes a 4-tuple).

use pyo3::exceptions::{PyNameError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};

/// The cell with every `{name}` replaced by its value's HarmonyQL text.
pub fn expand(cell: &str, namespace: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut expanded = String::with_capacity(cell.len());
    let mut rest = cell;
    while let Some(at) = rest.find(['{', '}']) {
        expanded.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            expanded.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let reference = tail[1..].find('}').map(|end| &tail[1..=end]).filter(|inner| is_reference(inner));
        match reference {
            Some(reference) => {
                expanded.push_str(&text_of(&lookup(namespace, reference)?)?);
                rest = &tail[reference.len() + 2..];
            }
            // Braces around anything else are the cell's own text.
            None => {
                expanded.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    expanded.push_str(rest);
    Ok(expanded)
}

/// `name` or `name.attribute…`, each part a Python identifier (ASCII).
fn is_reference(text: &str) -> bool {
    text.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn lookup<'py>(namespace: &Bound<'py, PyAny>, reference: &str) -> PyResult<Bound<'py, PyAny>> {
    let mut parts = reference.split('.');
    let name = parts.next().unwrap_or_default();
    let mapping = namespace.cast::<PyMapping>()?;
    if !mapping.contains(name)? {
        return Err(PyNameError::new_err(format!(
            "name '{name}' is not defined (used as {{{reference}}} in the cell; write {{{{ for a literal brace)"
        )));
    }
    let mut value = mapping.get_item(name)?;
    for attribute in parts {
        value = value.getattr(attribute)?;
    }
    Ok(value)
}

/// A Python value as HarmonyQL text.
fn text_of(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = value.py();
    if let Some(id) = crate::session::job_id(value) {
        return Ok(id);
    }
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.to_owned());
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(value.str()?.to_string());
    }
    if value.is_instance_of::<PyFloat>() {
        let number: f64 = value.extract()?;
        if !number.is_finite() {
            return Err(PyValueError::new_err(format!(
                "{number} cannot be passed into HarmonyQL: numbers must be finite"
            )));
        }
        return Ok(value.repr()?.to_string());
    }
    if value.is_instance_of::<PyString>() {
        return value.extract();
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<String>> = value.try_iter()?.map(|item| text_of(&item?)).collect();
        return Ok(items?.join(", "));
    }
    let datetime = py.import("datetime")?;
    if value.is_instance(&datetime.getattr("datetime")?)? {
        return Ok(quoted(&value.call_method0("isoformat")?.extract::<String>()?));
    }
    if value.is_instance(&datetime.getattr("date")?)? {
        return value.call_method0("isoformat")?.extract();
    }
    if value.is_instance(&py.import("os")?.getattr("PathLike")?)? {
        let path = py.import("os")?.call_method1("fspath", (value,))?;
        return Ok(quoted(&path.str()?.to_string()));
    }
    Err(PyTypeError::new_err(format!(
        "a {} cannot be passed into HarmonyQL: use a str, number, bool, path, date, datetime, harmonyql.Job, \
         or a list or tuple of these",
        value.get_type().name()?
    )))
}

/// A HarmonyQL string literal (`"…"` with `\"` and `\\` escaped), as the lexer reads it back.
fn quoted(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for character in text.chars() {
        match character {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\t' => literal.push_str("\\t"),
            other => literal.push(other),
        }
    }
    literal.push('"');
    literal
}
