//! Variable (and box/shape) subsetting of SMAP granules into HDF5, like HOSS and the Trajectory Subsetter
//! do for SMAP: only the requested variables plus the coordinates they name are kept; a box or shape keeps
//! the swath cells inside it (SPL2SMP) or the block of grid rows covering it (SPL3SMP, SPL4CMDL).

// Selections are lists of index runs; a list holding a single run is the common, intended case.
#![allow(clippy::single_range_in_vec_init)]

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use hdf5::Group;

use crate::data::ease_grid::{M09, M36};
use crate::data::h5::{self, copy_attrs, copy_object, copy_rows};
use crate::data::{Error, Result};
use crate::server::transform::Operation;
use crate::server::transform::selection::{in_bbox, in_polygon};

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
        let Ok(dataset) = source.dataset(path) else {
            continue;
        };
        let (group_path, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let rows = if spatial { selection(&source, group_path, &dataset, operation)? } else { None };
        let target_group = ensure_group(&source, &target, group_path)?;
        match rows {
            Some(rows) if rows.iter().map(ExactSizeIterator::len).sum::<usize>() == 0 => continue,
            Some(rows) => {
                if copy_rows(&dataset, &target_group, name, &rows).is_err() {
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

/// The rows of `dataset` a spatial request keeps, or `None` to copy it whole.
fn selection(
    file: &hdf5::File,
    group_path: &str,
    dataset: &hdf5::Dataset,
    operation: &Operation,
) -> Result<Option<Vec<Range<usize>>>> {
    let shape = dataset.shape();
    let keeps = |lon: f64, lat: f64| {
        operation.bbox.is_none_or(|b| in_bbox(b, lon, lat))
            && (operation.shape.is_empty() || operation.shape.iter().any(|p| in_polygon(p, lon, lat)))
    };
    // Gridded: the block of rows whose cells meet the request.
    for grid in [M36, M09] {
        if shape.len() >= 2 && shape[0] == grid.rows && shape[1] == grid.cols {
            let rows: Vec<usize> = (0..grid.rows)
                .filter(|&r| {
                    (0..grid.cols).step_by(4).any(|c| {
                        let (lon, lat) = grid.cell_lonlat(r, c);
                        keeps(lon, lat)
                    })
                })
                .collect();
            return Ok(Some(match (rows.first(), rows.last()) {
                (Some(&first), Some(&last)) => vec![first..last + 1],
                _ => Vec::new(),
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
    Ok(Some(runs))
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
