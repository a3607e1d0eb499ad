//! Reprojection of EASE-Grid 2.0 data to EPSG:4326 (what harmony-regridder does for `crs EPSG:4326`):
//! a regular latitude/longitude grid at the EASE cell's longitude spacing, filled by nearest neighbour
//! (each output pixel takes the EASE cell containing its centre). Pure computation.

use crate::transform::geotiff::{FullGrid, pixels_of};
use harmonyql_data::ease_grid::{self, Grid};
use harmonyql_data::geotiff::Raster;

/// Degrees of longitude per EASE cell: the output resolution, so the cell count stays comparable.
pub fn resolution(grid: &Grid) -> f64 {
    let (metres_per_degree, _) = ease_grid::forward(1.0, 0.0);
    grid.cell / metres_per_degree
}

/// Resamples `full` onto EPSG:4326 over `extent` `[west, south, east, north]` (snapped outward to the
/// resolution); `None` when no valid value lands in it, or when the job is canceled (checked per row).
pub fn to_geographic(full: &FullGrid, extent: [f64; 4]) -> Option<Raster> {
    let res = resolution(&full.grid);
    let west = (extent[0] / res).floor() * res;
    let north = (extent[3] / res).ceil() * res;
    let east = (extent[2] / res).ceil() * res;
    let south = (extent[1] / res).floor() * res;
    let width = ((east - west) / res).round().max(1.0) as usize;
    let height = ((north - south) / res).round().max(1.0) as usize;
    let mut values = vec![full.fill; width * height];
    let mut any = false;
    for row in 0..height {
        if crate::transform::cancel::requested() {
            return None;
        }
        let lat = north - (row as f64 + 0.5) * res;
        for col in 0..width {
            let lon = west + (col as f64 + 0.5) * res;
            let wrapped = (lon + 180.0).rem_euclid(360.0) - 180.0;
            if let Some(value) = full.value_at(wrapped, lat) {
                values[row * width + col] = value;
                any = true;
            }
        }
    }
    any.then(|| Raster {
        width,
        height,
        pixels: pixels_of(full.stored, &values),
        epsg: 4326,
        transform: [west, res, 0.0, north, 0.0, -res],
        nodata: Some(full.fill),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmonyql_data::ease_grid::M36;

    #[test]
    fn resolution_of_m36_is_about_a_third_of_a_degree() {
        let res = resolution(&M36);
        assert!((res - 0.3734).abs() < 0.001, "{res}");
        // 964 cells span the globe.
        assert!((res * 964.0 - 360.0).abs() < 0.01);
    }

    #[test]
    fn a_canceled_job_stops_the_rasters_at_the_next_row() {
        use crate::transform::geotiff::{full_grid, to_ease};
        use crate::transform::{Operation, cancel};
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let full = FullGrid {
            grid: M36,
            values: vec![1.0; M36.rows * M36.cols],
            fill: -9999.0,
            stored: harmonyql_data::smap::StoredType::Float,
        };
        let globe = [-180.0, -85.0, 180.0, 85.0];
        assert!(to_geographic(&full, globe).is_some());
        assert!(to_ease(&full, &Operation::default(), false).is_some());
        let canceled = Arc::new(AtomicBool::new(true));
        assert!(cancel::run(canceled.clone(), || to_geographic(&full, globe)).is_none());
        assert!(cancel::run(canceled.clone(), || to_ease(&full, &Operation::default(), false)).is_none());
        // The mask stops too: once the job is canceled, no cell outside the box is masked.
        let variable = harmonyql_data::smap::Variable {
            path: "soil_moisture".into(),
            values: full.values.clone(),
            fill: Some(full.fill),
            stored: full.stored,
            units: None,
            long_name: None,
            placement: harmonyql_data::smap::Placement::Grid(M36),
        };
        let boxed = Operation { bbox: Some([0.0, 0.0, 1.0, 1.0]), ..Operation::default() };
        let masked = full_grid(&variable, &boxed);
        assert!(masked.values.iter().filter(|v| **v == full.fill).count() > M36.rows * M36.cols / 2);
        let unmasked = cancel::run(canceled, || full_grid(&variable, &boxed));
        assert!(unmasked.values.iter().all(|v| *v == 1.0));
    }
}
