//! Variable (and box/shape) subsetting of SMAP granules into HDF5, like HOSS and the Trajectory Subsetter
//! do for SMAP: only the requested variables plus the coordinates they name are kept; a box or shape keeps
//! the swath cells inside it (SPL2SMP) or the block of grid rows covering it (SPL3SMP, SPL4CMDL).

// Selections are lists of index runs; a list holding a single run is the common, intended case.
#![allow(clippy::single_range_in_vec_init)]

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use hdf5::Group;

use crate::transform::Operation;
use crate::transform::selection::{in_bbox, in_polygon};
use harmonyql_data::ease_grid::{M09, M36};
use harmonyql_data::h5::{self, copy_attrs, copy_object, copy_window};
use harmonyql_data::{Error, Result};

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

/// Subsets `input` into `output`; `Ok(false)` when nothing is left.
pub fn subset(input: &Path, output: &Path, operation: &Operation) -> Result<bool> {
    let source = hdf5::File::open(input).map_err(|e| hdf(e, &format!("opening {}", input.display())))?;
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    if operation.variables.is_empty() {
        let mut groups = Vec::new();
        h5::collect_groups(&source, &mut groups)?;
        for group in groups.iter().filter(|g| !g.name().starts_with("/Metadata")) {
            for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
                wanted.insert(dataset.name().trim_start_matches('/').to_string());
            }
        }
    } else {
        for variable in &operation.variables {
            let path = variable.trim_start_matches('/').to_string();
            let dataset = source.dataset(&path).map_err(|_| Error::Missing(format!("variable {path}")))?;
            // Supporting variables: the coordinates it names and the grid indices of its group.
            if let Some(coordinates) = h5::text(&dataset, "coordinates") {
                wanted.extend(coordinates.split_whitespace().map(|c| c.trim_start_matches('/').to_string()));
            }
            if let Some((group, _)) = path.rsplit_once('/') {
                for index in ["EASE_row_index", "EASE_column_index"] {
                    if source.dataset(&format!("{group}/{index}")).is_ok() {
                        wanted.insert(format!("{group}/{index}"));
                    }
                }
            }
            wanted.insert(path);
        }
    }
    let target = hdf5::File::create(output).map_err(|e| hdf(e, &format!("creating {}", output.display())))?;
    if source.group("Metadata").is_ok() {
        copy_object(&source, "Metadata", &target)?;
    }
    copy_attrs(&source, &target)?;
    let spatial = operation.bbox.is_some() || !operation.shape.is_empty();
    let mut written = 0;
    for path in &wanted {
        crate::transform::cancel::checkpoint()?;
        let Ok(dataset) = source.dataset(path) else {
            continue;
        };
        let (group_path, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let window = if spatial { selection(&source, group_path, &dataset, operation)? } else { None };
        let target_group = ensure_group(&source, &target, group_path)?;
        match window {
            Some((rows, _)) if rows.iter().map(ExactSizeIterator::len).sum::<usize>() == 0 => {
                continue;
            }
            Some((rows, cols)) => {
                if copy_window(&dataset, &target_group, name, &rows, cols).is_err() {
                    // Strings (tb_time_utc) cannot be cut row by row here; Harmony's gridder drops them too.
                    continue;
                }
            }
            None => {
                let source_group: &Group = if group_path.is_empty() {
                    &source
                } else {
                    &source.group(group_path).map_err(|e| hdf(e, group_path))?
                };
                copy_object(source_group, name, &target_group)?;
            }
        }
        written += 1;
    }
    target.close().map_err(|e| hdf(e, "closing the output"))?;
    Ok(written > 0)
}

/// Rows, and for grids the columns, that a spatial request keeps.
type Window = (Vec<Range<usize>>, Option<Range<usize>>);

/// The window of `dataset` a spatial request keeps, or `None` to copy it whole.
fn selection(
    file: &hdf5::File,
    group_path: &str,
    dataset: &hdf5::Dataset,
    operation: &Operation,
) -> Result<Option<Window>> {
    let shape = dataset.shape();
    let keeps = |lon: f64, lat: f64| {
        operation.bbox.is_none_or(|b| in_bbox(b, lon, lat))
            && (operation.shape.is_empty() || operation.shape.iter().any(|p| in_polygon(p, lon, lat)))
    };
    // Gridded: the block of rows and columns whose cells meet the request (HOSS's index ranges).
    for grid in [M36, M09] {
        if shape.len() >= 2 && shape[0] == grid.rows && shape[1] == grid.cols {
            // Latitude depends only on the row and longitude only on the column.
            let lats: Vec<f64> = (0..grid.rows).map(|r| grid.cell_lonlat(r, 0).1).collect();
            let lons: Vec<f64> = (0..grid.cols).map(|c| grid.cell_lonlat(0, c).0).collect();
            let mut rows: Option<(usize, usize)> = None;
            let mut cols: Option<(usize, usize)> = None;
            for (r, &lat) in lats.iter().enumerate() {
                for (c, &lon) in lons.iter().enumerate() {
                    if keeps(lon, lat) {
                        rows = Some(rows.map_or((r, r), |(a, b)| (a.min(r), b.max(r))));
                        cols = Some(cols.map_or((c, c), |(a, b)| (a.min(c), b.max(c))));
                    }
                }
            }
            // A box across the antimeridian keeps every column.
            let wraps = operation.bbox.is_some_and(|b| b[0] > b[2]);
            return Ok(Some(match (rows, cols) {
                (Some((r0, r1)), Some((c0, c1))) => (vec![r0..r1 + 1], (!wraps).then_some(c0..c1 + 1)),
                _ => (Vec::new(), None),
            }));
        }
    }
    // Swath: the cells whose latitude and longitude meet the request.
    let (Ok(lat), Ok(lon)) =
        (file.dataset(&format!("{group_path}/latitude")), file.dataset(&format!("{group_path}/longitude")))
    else {
        return Ok(None);
    };
    let lats = lat.read_raw::<f64>().map_err(|e| hdf(e, "reading latitude"))?;
    let lons = lon.read_raw::<f64>().map_err(|e| hdf(e, "reading longitude"))?;
    if shape.first() != Some(&lats.len()) {
        return Ok(None);
    }
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (idx, (&lat, &lon)) in lats.iter().zip(&lons).enumerate() {
        if lat.abs() <= 90.0 && keeps(lon, lat) {
            match runs.last_mut() {
                Some(run) if run.end == idx => run.end += 1,
                _ => runs.push(idx..idx + 1),
            }
        }
    }
    Ok(Some((runs, None)))
}

fn ensure_group(source: &hdf5::File, target: &hdf5::File, path: &str) -> Result<Group> {
    let mut current: Group = (**target).clone();
    let mut so_far = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        current = match target.group(&so_far) {
            Ok(group) => group,
            Err(_) => {
                let created = current.create_group(part).map_err(|e| hdf(e, &so_far))?;
                if let Ok(original) = source.group(&so_far) {
                    copy_attrs(&original, &created)?;
                }
                created
            }
        };
    }
    Ok(current)
}
