//! Any numeric HDF5 dataset as f64 with its fill value masked (NaN), read whole or in bounded chunks of
//! rows, with its units and long_name, and the time axis of its group (an ATLAS `delta_time` of the same
//! length). What plots of "any variable" and exports build on. Read-only; knows no product layout beyond
//! the `delta_time` naming convention.

use std::ops::Range;

use crate::chunked;
use crate::h5::{attr, text};
use crate::{Error, Result};
use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, File};

/// Rows read at a time by the chunked readers: bounded memory (8 MB of f64 per column) whatever the file.
pub const CHUNK_ROWS: usize = 1 << 20;

/// One variable's values and description.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Path in the file without the leading slash.
    pub path: String,
    /// Values, flattened row-major; NaN where the file holds the fill value or a non-finite number.
    pub values: Vec<f64>,
    /// Shape as stored.
    pub shape: Vec<usize>,
    /// `units` attribute.
    pub units: Option<String>,
    /// `long_name` attribute.
    pub long_name: Option<String>,
}

impl Variable {
    /// The last path component, e.g. `h_ph`.
    pub fn name(&self) -> &str {
        leaf(&self.path)
    }

    /// `h_ph (m)`: the name with its units, for axis labels and CSV headers.
    pub fn label(&self) -> String {
        label(self.name(), self.units.as_deref())
    }
}

/// `name (units)`, or `name` when there are none.
pub fn label(name: &str, units: Option<&str>) -> String {
    match units.map(str::trim).filter(|u| !u.is_empty()) {
        Some(units) => format!("{name} ({units})"),
        None => name.to_owned(),
    }
}

/// The last component of a path.
pub fn leaf(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether `value` stands for missing data given the dataset's `_FillValue`: equal to it (relatively,
/// for the 3.4e38 float fills that lose digits through f32), or not finite.
pub fn is_missing(value: f64, fill: Option<f64>) -> bool {
    let is_fill = fill.is_some_and(|f| value == f || (f.abs() > 1e30 && (value - f).abs() / f.abs() < 1e-6));
    is_fill || !value.is_finite()
}

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

/// Opens dataset `path` (a leading slash is allowed).
pub fn dataset(file: &File, path: &str) -> Result<Dataset> {
    file.dataset(path.trim_start_matches('/')).map_err(|_| Error::Missing(path.to_string()))
}

/// Whether a dataset holds numbers (integers, floats, booleans or enums), not strings or compounds.
pub fn is_numeric(dataset: &Dataset) -> bool {
    matches!(
        dataset.dtype().and_then(|d| d.to_descriptor()),
        Ok(TypeDescriptor::Integer(_)
            | TypeDescriptor::Unsigned(_)
            | TypeDescriptor::Float(_)
            | TypeDescriptor::Boolean
            | TypeDescriptor::Enum(_))
    )
}

/// The dataset's `_FillValue` as f64, if it has a numeric one.
pub fn fill_value(dataset: &Dataset) -> Option<f64> {
    attr(dataset, "_FillValue").ok().and_then(|v| v.as_number())
}

/// Reads all of numeric dataset `path` with fill values masked.
pub fn read(file: &File, path: &str) -> Result<Variable> {
    let dataset = dataset(file, path)?;
    if !is_numeric(&dataset) {
        return Err(Error::Invalid(format!("{path} does not hold numbers")));
    }
    let fill = fill_value(&dataset);
    let (mut values, _) = chunked::read_vec::<f64>(&dataset, None)?;
    mask(&mut values, fill);
    Ok(Variable {
        path: path.trim_start_matches('/').to_owned(),
        values,
        shape: dataset.shape(),
        units: text(&dataset, "units"),
        long_name: text(&dataset, "long_name"),
    })
}

fn mask(values: &mut [f64], fill: Option<f64>) {
    for value in values {
        if is_missing(*value, fill) {
            *value = f64::NAN;
        }
    }
}

/// Reads rows `rows` of a 1-D or 2-D numeric dataset as f64, row-major, with fill values masked.
pub fn read_rows(dataset: &Dataset, rows: Range<usize>) -> Result<Vec<f64>> {
    let fill = fill_value(dataset);
    let ndim = dataset.ndim();
    if !(1..=2).contains(&ndim) {
        return Err(Error::Invalid(format!(
            "{} has {ndim} dimensions; rows are read from 1-D or 2-D data",
            dataset.name()
        )));
    }
    let (mut values, _) = chunked::read_vec::<f64>(dataset, Some(rows))?;
    mask(&mut values, fill);
    Ok(values)
}

/// Calls `each(first_row, values)` for consecutive chunks of at most `chunk_rows` rows of a 1-D or 2-D
/// dataset, so callers can stream files of any size in bounded memory.
pub fn for_each_chunk(
    dataset: &Dataset,
    chunk_rows: usize,
    mut each: impl FnMut(usize, &[f64]) -> Result<()>,
) -> Result<()> {
    let n = dataset.shape().first().copied().unwrap_or(0);
    let mut start = 0;
    while start < n {
        let end = (start + chunk_rows.max(1)).min(n);
        each(start, &read_rows(dataset, start..end)?)?;
        start = end;
    }
    Ok(())
}

/// The `delta_time` beside `path` in the same group, when it has as many rows as `path` and is not
/// `path` itself: the time axis of ATLAS variables.
pub fn time_axis(file: &File, path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    let group = path.rsplit_once('/').map_or("", |(group, _)| group);
    let time = if group.is_empty() { "delta_time".to_owned() } else { format!("{group}/delta_time") };
    if time == path {
        return None;
    }
    let rows = |p: &str| file.dataset(p).ok().and_then(|d| d.shape().first().copied());
    (rows(&time).is_some() && rows(&time) == rows(path)).then_some(time)
}

/// Paths of every numeric dataset in the file with `ndim` dimensions, sorted, for defaults and hints.
pub fn numeric_paths(file: &File, ndim: usize) -> Result<Vec<String>> {
    let mut groups = Vec::new();
    crate::h5::collect_groups(file, &mut groups)?;
    let mut out = Vec::new();
    for group in groups {
        for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
            if dataset.ndim() == ndim && is_numeric(&dataset) {
                out.push(dataset.name().trim_start_matches('/').to_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_values_and_non_finite_numbers_are_missing() {
        for (value, fill, missing) in [
            (3.0, None, false),
            (f64::NAN, None, true),
            (f64::INFINITY, Some(0.0), true),
            (-9999.0, Some(-9999.0), true),
            (f64::from(f32::MAX), Some(3.4028234663852886e38), true),
            (3.4e38, Some(3.4028234663852886e38), false),
            (1.0, Some(-9999.0), false),
        ] {
            assert_eq!(is_missing(value, fill), missing, "{value} with fill {fill:?}");
        }
    }

    #[test]
    fn labels_carry_units_when_there_are_some() {
        assert_eq!(label("h_ph", Some("meters")), "h_ph (meters)");
        assert_eq!(label("signal_conf_ph", Some(" ")), "signal_conf_ph");
        assert_eq!(label("x", None), "x");
        assert_eq!(leaf("gt1l/heights/h_ph"), "h_ph");
    }

    #[test]
    fn the_real_fixture_reads_in_chunks_as_a_whole() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5");
        let file = File::open(path).unwrap();
        let whole = read(&file, "gt1l/heights/h_ph").unwrap();
        let dataset = dataset(&file, "/gt1l/heights/h_ph").unwrap();
        let mut chunked = Vec::new();
        let mut starts = Vec::new();
        for_each_chunk(&dataset, 1000, |start, values| {
            starts.push(start);
            chunked.extend_from_slice(values);
            Ok(())
        })
        .unwrap();
        assert_eq!(starts, [0, 1000, 2000]);
        assert_eq!(chunked.len(), whole.values.len());
        assert!(chunked.iter().zip(&whole.values).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
        assert_eq!(time_axis(&file, "gt1l/heights/h_ph").as_deref(), Some("gt1l/heights/delta_time"));
        assert_eq!(time_axis(&file, "gt1l/heights/delta_time"), None);
        assert!(numeric_paths(&file, 1).unwrap().contains(&"gt1l/heights/h_ph".to_owned()));
    }
}
