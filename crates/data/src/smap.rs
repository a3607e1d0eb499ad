//! Reading SMAP variables (SPL2SMP swaths, SPL3SMP and SPL4CMDL grids) with their EASE-Grid 2.0
//! placement: every value knows its grid row and column, so callers can map, grid, crop or reproject it.
//! Values come back as f64 with the fill value kept apart; the stored type is reported for writers.

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, File};

use crate::ease_grid::{Grid, M09, M36};
use crate::h5::{attr, text};
use crate::{Error, Result};

/// The stored element type of a variable, as far as writers care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredType {
    /// 8-bit unsigned (land-cover classes).
    U8,
    /// 16-bit unsigned (indices, flags).
    U16,
    /// Any float or other integer, written as f32.
    Float,
}

/// Where a variable's values sit on the EASE grid.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// A full global grid, row-major (`rows * cols` values per layer).
    Grid(Grid),
    /// A swath: value `i` sits at `(rows[i], cols[i])` of the grid.
    Swath {
        /// The grid.
        grid: Grid,
        /// Row of each value.
        rows: Vec<usize>,
        /// Column of each value.
        cols: Vec<usize>,
    },
}

impl Placement {
    /// The grid.
    pub fn grid(&self) -> Grid {
        match self {
            Self::Grid(grid) | Self::Swath { grid, .. } => *grid,
        }
    }
}

/// One SMAP variable, first layer only for 3-layer variables such as `landcover_class`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Full path without the leading slash, e.g. `Soil_Moisture_Retrieval_Data_AM/soil_moisture`.
    pub path: String,
    /// Values (first layer), as f64.
    pub values: Vec<f64>,
    /// `_FillValue`, if any.
    pub fill: Option<f64>,
    /// Stored element type.
    pub stored: StoredType,
    /// `units` attribute.
    pub units: Option<String>,
    /// `long_name` attribute.
    pub long_name: Option<String>,
    /// Placement on the EASE grid.
    pub placement: Placement,
}

impl Variable {
    /// The valid values with their geographic positions: `(lon, lat, value)`.
    pub fn points(&self) -> Vec<(f64, f64, f64)> {
        let grid = self.placement.grid();
        let is_valid = |v: f64| v.is_finite() && self.fill.is_none_or(|fill| (v - fill).abs() > 1e-6);
        let cell = |i: usize| match &self.placement {
            Placement::Grid(grid) => (i / grid.cols, i % grid.cols),
            Placement::Swath { rows, cols, .. } => (rows[i], cols[i]),
        };
        self.values
            .iter()
            .enumerate()
            .filter(|(_, v)| is_valid(**v))
            .map(|(i, &v)| {
                let (row, col) = cell(i);
                let (lon, lat) = grid.cell_lonlat(row, col);
                (lon, lat, v)
            })
            .collect()
    }
}

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

/// The stored type of a dataset.
pub fn stored_type(dataset: &Dataset) -> Result<StoredType> {
    let descriptor = dataset.dtype().and_then(|d| d.to_descriptor()).map_err(|e| hdf(e, "reading a type"))?;
    Ok(match descriptor {
        TypeDescriptor::Unsigned(IntSize::U1) => StoredType::U8,
        TypeDescriptor::Unsigned(IntSize::U2) => StoredType::U16,
        TypeDescriptor::Integer(_)
        | TypeDescriptor::Unsigned(_)
        | TypeDescriptor::Float(FloatSize::U4)
        | TypeDescriptor::Float(FloatSize::U8) => StoredType::Float,
        other => {
            return Err(Error::Invalid(format!("{} holds {other}, not numbers", dataset.name())));
        }
    })
}

/// Whether a dataset holds numbers (SMAP also stores strings such as `tb_time_utc`).
pub fn is_numeric(dataset: &Dataset) -> bool {
    stored_type(dataset).is_ok()
}

/// Reads variable `path` of a SMAP file with its placement on the EASE grid.
pub fn read_variable(file: &File, path: &str) -> Result<Variable> {
    let path = path.trim_start_matches('/');
    let dataset = file.dataset(path).map_err(|_| Error::Missing(path.to_string()))?;
    let stored = stored_type(&dataset)?;
    let shape = dataset.shape();
    let all = dataset.read_raw::<f64>().map_err(|e| hdf(e, &format!("reading {path}")))?;
    let layer_len: usize = shape.iter().take(2).product::<usize>().max(1);
    let (placement, values) = match shape.as_slice() {
        [rows, cols, ..] if (*rows, *cols) == (M36.rows, M36.cols) || (*rows, *cols) == (M09.rows, M09.cols) => {
            let grid = if *rows == M36.rows { M36 } else { M09 };
            let layers = shape.get(2).copied().unwrap_or(1);
            (Placement::Grid(grid), all.iter().step_by(layers).copied().take(layer_len).collect())
        }
        [_, ..] => {
            // L2 swaths index each value (1-D indices); subsets of L3 grids keep a window whose cells carry
            // their grid row and column (2-D indices). Either way the variable's leading dimensions are the
            // indices' shape, and any further dimension is a layer.
            let group = path.rsplit_once('/').map_or("", |(g, _)| g);
            let read_index = |name: &str| -> Result<(Vec<usize>, Vec<usize>)> {
                let full = format!("{group}/{name}");
                let ds = file.dataset(&full).map_err(|_| Error::Missing(full.clone()))?;
                let values = ds.read_raw::<u16>().map_err(|e| hdf(e, &full))?.into_iter().map(usize::from).collect();
                Ok((values, ds.shape()))
            };
            let (rows, index_shape) = read_index("EASE_row_index")?;
            let (cols, _) = read_index("EASE_column_index")?;
            let rank = index_shape.len();
            if shape.len() < rank || shape[..rank] != index_shape[..] {
                return Err(Error::Invalid(format!(
                    "{path} has shape {shape:?} but the EASE indices have shape {index_shape:?}"
                )));
            }
            let layers: usize = shape[rank..].iter().product::<usize>().max(1);
            (Placement::Swath { grid: M36, rows, cols }, all.iter().step_by(layers).copied().collect())
        }
        [] => {
            return Err(Error::Invalid(format!("{path} is a scalar, not a SMAP variable")));
        }
    };
    Ok(Variable {
        path: path.to_string(),
        values,
        fill: attr(&dataset, "_FillValue").ok().and_then(|v| v.as_number()),
        stored,
        units: text(&dataset, "units"),
        long_name: text(&dataset, "long_name"),
        placement,
    })
}

/// Paths of the numeric data variables of a SMAP file (what net2cog converts when none are asked for):
/// every numeric dataset outside `Metadata`, except coordinates, grid indices and times.
pub fn data_variables(file: &File) -> Result<Vec<String>> {
    let mut groups = Vec::new();
    crate::h5::collect_groups(file, &mut groups)?;
    let mut out = Vec::new();
    for group in groups {
        if group.name().starts_with("/Metadata") || group.name() == "/GEO" {
            continue;
        }
        for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
            let name = dataset.name();
            let leaf = name.rsplit('/').next().unwrap_or_default();
            let skip = [
                "latitude",
                "longitude",
                "EASE_row_index",
                "EASE_column_index",
                "tb_time_seconds",
                "tb_time_utc",
                "EASE2_global_projection",
            ]
            .iter()
            .any(|s| leaf.starts_with(s));
            if !skip && dataset.ndim() >= 1 && is_numeric(&dataset) {
                out.push(name.trim_start_matches('/').to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
