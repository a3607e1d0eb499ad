//! EASE-Grid 2.0 global (EPSG:6933): the cylindrical equal-area projection SMAP grids live on, with the
//! M36 and M09 grids, cell ↔ map ↔ geographic conversions (data-formats.md §3.4). Pure math, no I/O.

use std::f64::consts::PI;

const A: f64 = 6_378_137.0;
const E: f64 = 0.081_819_190_843;
const STANDARD_PARALLEL_DEG: f64 = 30.0;

/// Map x of the upper-left corner of cell (0, 0), metres.
pub const X0: f64 = -17_367_530.445_161_5;
/// Map y of the upper-left corner of cell (0, 0), metres.
pub const Y0: f64 = 7_314_540.830_638_6;

/// One EASE-Grid 2.0 global grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Name as NSIDC writes it (`M36`, `M09`).
    pub name: &'static str,
    /// Cell size in metres.
    pub cell: f64,
    /// Number of columns.
    pub cols: usize,
    /// Number of rows.
    pub rows: usize,
}

/// The 36 km grid of SPL2SMP and SPL3SMP.
pub const M36: Grid = Grid { name: "M36", cell: 36_032.220_840_584, cols: 964, rows: 406 };
/// The 9 km grid of SPL4CMDL.
pub const M09: Grid = Grid { name: "M09", cell: 9_008.055_210_146, cols: 3856, rows: 1624 };

fn k0() -> f64 {
    let phi = STANDARD_PARALLEL_DEG.to_radians();
    phi.cos() / (1.0 - E * E * phi.sin().powi(2)).sqrt()
}

fn q(phi: f64) -> f64 {
    let s = phi.sin();
    (1.0 - E * E) * (s / (1.0 - E * E * s * s) - (1.0 / (2.0 * E)) * ((1.0 - E * s) / (1.0 + E * s)).ln())
}

/// Projects geographic degrees to EPSG:6933 metres.
pub fn forward(lon: f64, lat: f64) -> (f64, f64) {
    let k0 = k0();
    (A * k0 * lon.to_radians(), A * q(lat.clamp(-90.0, 90.0).to_radians()) / (2.0 * k0))
}

/// Unprojects EPSG:6933 metres to geographic degrees (lon, lat).
pub fn inverse(x: f64, y: f64) -> (f64, f64) {
    let k0 = k0();
    let qp = q(PI / 2.0);
    let lon = (x / (A * k0)).to_degrees();
    let beta = (2.0 * y * k0 / (A * qp)).clamp(-1.0, 1.0).asin();
    let (e2, e4, e6) = (E * E, E.powi(4), E.powi(6));
    let phi = beta
        + (e2 / 3.0 + 31.0 * e4 / 180.0 + 517.0 * e6 / 5040.0) * (2.0 * beta).sin()
        + (23.0 * e4 / 360.0 + 251.0 * e6 / 3780.0) * (4.0 * beta).sin()
        + (761.0 * e6 / 45360.0) * (6.0 * beta).sin();
    (lon, phi.to_degrees())
}

impl Grid {
    /// Map coordinates (x, y) of the centre of cell (row, col).
    pub fn cell_center(&self, row: usize, col: usize) -> (f64, f64) {
        (X0 + (col as f64 + 0.5) * self.cell, Y0 - (row as f64 + 0.5) * self.cell)
    }

    /// Geographic (lon, lat) of the centre of cell (row, col).
    pub fn cell_lonlat(&self, row: usize, col: usize) -> (f64, f64) {
        let (x, y) = self.cell_center(row, col);
        inverse(x, y)
    }

    /// Fractional (row, col) of a geographic point; whole parts name the cell holding it.
    pub fn locate(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = forward(lon, lat);
        ((Y0 - y) / self.cell, (x - X0) / self.cell)
    }

    /// The cell holding a geographic point, if inside the grid.
    pub fn cell_of(&self, lon: f64, lat: f64) -> Option<(usize, usize)> {
        let (row, col) = self.locate(lon, lat);
        let inside = row >= 0.0 && col >= 0.0 && row < self.rows as f64 && col < self.cols as f64;
        inside.then_some((row as usize, col as usize))
    }

    /// GDAL geotransform of the whole grid: (x0, cell, 0, y0, 0, -cell).
    pub fn geotransform(&self) -> [f64; 6] {
        [X0, self.cell, 0.0, Y0, 0.0, -self.cell]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(row: usize, col: usize, lon: f64, lat: f64) {
        let (got_lon, got_lat) = M36.cell_lonlat(row, col);
        assert!((got_lon - lon).abs() < 1e-5 && (got_lat - lat).abs() < 1e-5, "{row},{col}: {got_lon},{got_lat}");
        assert_eq!(M36.cell_of(got_lon, got_lat), Some((row, col)));
    }

    #[test]
    fn cell_centres_match_proj() {
        // Values checked against PROJ (data-formats.md §3.4).
        check(120, 230, -93.92116, 23.97822);
        check(0, 0, -179.81328, 83.63198);
    }

    #[test]
    fn forward_and_inverse_round_trip() {
        for (lon, lat) in [(0.0, 0.0), (-105.25, 40.5), (179.9, -84.9), (12.0, 60.0)] {
            let (x, y) = forward(lon, lat);
            let (back_lon, back_lat) = inverse(x, y);
            assert!((back_lon - lon).abs() < 1e-8 && (back_lat - lat).abs() < 1e-7, "{lon},{lat}");
        }
    }
}
