//! SMAP to GeoTIFF as Harmony's chains make it (data-formats.md §3.5): L2 swaths scattered onto the
//! global M36 grid (the SMAP L2 Gridder), L3/L4 grids cropped to the request's box (HOSS) with cells
//! outside the box or shape set to fill (MaskFill), optionally reprojected to EPSG:4326 (the regridder),
//! then one single-band GeoTIFF per variable named as net2cog names it.

use std::path::Path;

use crate::transform::selection::{in_bbox, in_polygon, polygons_bbox};
use crate::transform::{Operation, Polygon, reproject};
use harmonyql_data::ease_grid::{Grid, X0, Y0};
use harmonyql_data::geotiff::{self, Pixels, Raster};
use harmonyql_data::smap::{Placement, StoredType, Variable};

/// A variable scattered onto its whole EASE grid, with the request's mask applied.
pub struct FullGrid {
    /// The grid.
    pub grid: Grid,
    /// Row-major values, `fill` where missing or masked.
    pub values: Vec<f64>,
    /// The fill value (also the GeoTIFF nodata).
    pub fill: f64,
    /// Stored type, which decides the GeoTIFF pixel type.
    pub stored: StoredType,
}

impl FullGrid {
    /// Value of the cell holding a geographic point, if valid.
    pub fn value_at(&self, lon: f64, lat: f64) -> Option<f64> {
        let (row, col) = self.grid.cell_of(lon, lat)?;
        let value = self.values[row * self.grid.cols + col];
        (value != self.fill && value.is_finite()).then_some(value)
    }
}

fn default_fill(stored: StoredType) -> f64 {
    match stored {
        StoredType::U8 => 254.0,
        StoredType::U16 => 65534.0,
        StoredType::Float => -9999.0,
    }
}

/// Pixels of the stored type for `values`.
pub fn pixels_of(stored: StoredType, values: &[f64]) -> Pixels {
    match stored {
        StoredType::U8 => Pixels::U8(values.iter().map(|&v| v as u8).collect()),
        StoredType::U16 => Pixels::U16(values.iter().map(|&v| v as u16).collect()),
        StoredType::Float => Pixels::F32(values.iter().map(|&v| v as f32).collect()),
    }
}

/// Whether a geographic point passes the request's spatial constraints.
fn keeps(operation: &Operation, lon: f64, lat: f64) -> bool {
    operation.bbox.is_none_or(|bbox| in_bbox(bbox, lon, lat))
        && (operation.shape.is_empty() || operation.shape.iter().any(|p: &Polygon| in_polygon(p, lon, lat)))
}

/// Scatters `variable` onto its grid and masks cells outside the request.
pub fn full_grid(variable: &Variable, operation: &Operation) -> FullGrid {
    let grid = variable.placement.grid();
    let fill = variable.fill.unwrap_or_else(|| default_fill(variable.stored));
    let mut values = vec![fill; grid.rows * grid.cols];
    match &variable.placement {
        Placement::Grid(_) => values.copy_from_slice(&variable.values[..grid.rows * grid.cols]),
        Placement::Swath { rows, cols, .. } => {
            for ((&row, &col), &value) in rows.iter().zip(cols).zip(&variable.values) {
                if row < grid.rows && col < grid.cols {
                    values[row * grid.cols + col] = value;
                }
            }
        }
    }
    if operation.bbox.is_some() || !operation.shape.is_empty() {
        // Latitude depends only on the row and longitude only on the column.
        let lats: Vec<f64> = (0..grid.rows).map(|r| grid.cell_lonlat(r, 0).1).collect();
        let lons: Vec<f64> = (0..grid.cols).map(|c| grid.cell_lonlat(0, c).0).collect();
        for (row, cells) in values.chunks_mut(grid.cols).enumerate() {
            // A canceled job stops masking; the caller sees the flag and returns nothing.
            if crate::transform::cancel::requested() {
                break;
            }
            for (col, value) in cells.iter_mut().enumerate() {
                if *value != fill && !keeps(operation, lons[col], lats[row]) {
                    *value = fill;
                }
            }
        }
    }
    FullGrid { grid, values, fill, stored: variable.stored }
}

/// The request's extent `[west, south, east, north]`: the bbox, else the shape's bbox, else the globe.
pub fn extent(operation: &Operation, grid: &Grid) -> [f64; 4] {
    let globe = {
        let (_, north) = grid.cell_lonlat(0, 0);
        [-180.0, -north.abs(), 180.0, north.abs()]
    };
    operation.bbox.or_else(|| polygons_bbox(&operation.shape)).unwrap_or(globe)
}

/// The EPSG:6933 raster of the request: the whole grid for L2 (as the gridder writes it), the window of
/// cells covering the extent for gridded products when a box or shape is given.
pub fn to_ease(full: &FullGrid, operation: &Operation, crop: bool) -> Option<Raster> {
    let grid = full.grid;
    let (mut r0, mut r1, mut c0, mut c1) = (0, grid.rows, 0, grid.cols);
    if crop && (operation.bbox.is_some() || !operation.shape.is_empty()) {
        let [west, south, east, north] = extent(operation, &grid);
        let (top, left) = grid.locate(west, north);
        let (bottom, right) = grid.locate(east, south);
        r0 = (top.floor().max(0.0) as usize).min(grid.rows - 1);
        r1 = (bottom.ceil().max(1.0) as usize).min(grid.rows);
        if west <= east {
            c0 = (left.floor().max(0.0) as usize).min(grid.cols - 1);
            c1 = (right.ceil().max(1.0) as usize).min(grid.cols);
        }
    }
    let (width, height) = (c1 - c0, r1 - r0);
    let mut values = Vec::with_capacity(width * height);
    for row in r0..r1 {
        if crate::transform::cancel::requested() {
            return None;
        }
        values.extend_from_slice(&full.values[row * grid.cols + c0..row * grid.cols + c1]);
    }
    if values.iter().all(|&v| v == full.fill || !v.is_finite()) {
        return None;
    }
    Some(Raster {
        width,
        height,
        pixels: pixels_of(full.stored, &values),
        epsg: 6933,
        transform: [X0 + c0 as f64 * grid.cell, grid.cell, 0.0, Y0 - r0 as f64 * grid.cell, 0.0, -grid.cell],
        nodata: Some(full.fill),
    })
}

/// The raster for one variable under `operation`, or `None` if nothing valid remains.
pub fn raster(variable: &Variable, operation: &Operation) -> Option<Raster> {
    let full = full_grid(variable, operation);
    let is_swath = matches!(variable.placement, Placement::Swath { .. });
    match operation.output_crs.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("EPSG:4326") | Some("CRS:84") | Some("WGS84") => {
            reproject::to_geographic(&full, extent(operation, &full.grid))
        }
        _ => to_ease(&full, operation, !is_swath),
    }
}

/// Geographic extent of a raster, `[west, south, east, north]`.
pub fn raster_bbox(raster: &Raster) -> [f64; 4] {
    let t = raster.transform;
    let (x0, y0) = (t[0], t[3]);
    let (x1, y1) = (t[0] + t[1] * raster.width as f64, t[3] + t[5] * raster.height as f64);
    if raster.epsg == 4326 {
        return [x0, y1, x1, y0];
    }
    let (west, north) = harmonyql_data::ease_grid::inverse(x0, y0);
    let (east, south) = harmonyql_data::ease_grid::inverse(x1, y1);
    [west.max(-180.0), south.max(-90.0), east.min(180.0), north.min(90.0)]
}

/// Writes `raster` to `path`.
pub fn write(path: &Path, raster: &Raster) -> harmonyql_data::Result<()> {
    geotiff::write(path, raster)
}
