//! Index selection along a coordinate, as the Trajectory Subsetter computes it (data-formats.md §1.12):
//! one contiguous temporal range, then runs of consecutive points inside a bounding box (antimeridian
//! aware; invalid coordinates extend an open run but never start one), then runs split by polygons.
//! Pure functions over slices; no I/O.

// Selections are lists of index runs; a list holding a single run is the common, intended case.
#![allow(clippy::single_range_in_vec_init)]

use std::ops::Range;

use crate::transform::Polygon;

/// The contiguous index range whose times lie in `[start, end]` (times assumed monotonic).
pub fn temporal_range(times: &[f64], start: f64, end: f64) -> Range<usize> {
    let first = times.iter().position(|&t| t >= start && t <= end);
    let last = times.iter().rposition(|&t| t >= start && t <= end);
    match (first, last) {
        (Some(first), Some(last)) => first..last + 1,
        _ => 0..0,
    }
}

/// Whether a point is inside `[west, south, east, north]`, inclusive; west > east wraps the antimeridian.
pub fn in_bbox(bbox: [f64; 4], lon: f64, lat: f64) -> bool {
    let [west, south, east, north] = bbox;
    let lon_ok = if west <= east { lon >= west && lon <= east } else { lon >= west || lon <= east };
    lat >= south && lat <= north && lon_ok
}

fn is_valid(lon: f64, lat: f64) -> bool {
    lat.abs() <= 90.0 && lon.abs() <= 180.0
}

/// Runs of consecutive indices within `range` whose points are inside `bbox`.
pub fn bbox_runs(lons: &[f64], lats: &[f64], range: Range<usize>, bbox: [f64; 4]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut open: Option<usize> = None;
    for idx in range.clone() {
        let (lon, lat) = (lons[idx], lats[idx]);
        let keep = if is_valid(lon, lat) { in_bbox(bbox, lon, lat) } else { open.is_some() };
        match (keep, open) {
            (true, None) => open = Some(idx),
            (false, Some(start)) => {
                runs.push(start..idx);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        runs.push(start..range.end);
    }
    runs
}

/// Ray-casting point-in-polygon test with holes (the first ring is the outer boundary).
///
/// The costly step of every shape subset (points × vertices), so it is where a canceled job stops:
/// once [`crate::transform::cancel::requested`], every point is outside and the loops end at once.
pub fn in_polygon(polygon: &Polygon, lon: f64, lat: f64) -> bool {
    if crate::transform::cancel::requested() {
        return false;
    }
    let mut rings = polygon.iter();
    let Some(outer) = rings.next() else {
        return false;
    };
    in_ring(outer, lon, lat) && !rings.any(|hole| in_ring(hole, lon, lat))
}

fn in_ring(ring: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let [xi, yi] = ring[i];
        let [xj, yj] = ring[j];
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Bounding box `[west, south, east, north]` of polygons; a box that would span more than half the globe
/// in longitude while its points hug ±180 is returned wrapped (west > east).
pub fn polygons_bbox(polygons: &[Polygon]) -> Option<[f64; 4]> {
    let points: Vec<[f64; 2]> = polygons.iter().filter_map(|p| p.first()).flatten().copied().collect();
    if points.is_empty() {
        return None;
    }
    let south = points.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
    let north = points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
    let west = points.iter().map(|p| p[0]).fold(f64::MAX, f64::min);
    let east = points.iter().map(|p| p[0]).fold(f64::MIN, f64::max);
    // Antimeridian: if shifting negative longitudes by 360 gives a narrower box, the shape wraps.
    let shifted: Vec<f64> = points.iter().map(|p| if p[0] < 0.0 { p[0] + 360.0 } else { p[0] }).collect();
    let shifted_west = shifted.iter().copied().fold(f64::MAX, f64::min);
    let shifted_east = shifted.iter().copied().fold(f64::MIN, f64::max);
    if shifted_east - shifted_west < east - west - 1e-9 && shifted_east > 180.0 {
        return Some([shifted_west, south, shifted_east - 360.0, north]);
    }
    // Shapes drawn with longitudes past ±180 (Ross Sea shapes use 160..200) wrap the same way.
    if east > 180.0 && west >= -180.0 {
        return Some([west.min(180.0), south, east - 360.0, north]);
    }
    if west < -180.0 && east <= 180.0 {
        return Some([west + 360.0, south, east.max(-180.0), north]);
    }
    Some([west, south, east, north])
}

/// Splits `runs` so only points inside any polygon remain (invalid points extend an open run, as in
/// the bounding-box pass).
pub fn polygon_runs(lons: &[f64], lats: &[f64], runs: &[Range<usize>], polygons: &[Polygon]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for run in runs {
        let mut open: Option<usize> = None;
        for idx in run.clone() {
            let (lon, lat) = (lons[idx], lats[idx]);
            let keep = if is_valid(lon, lat) {
                polygons.iter().any(|p| {
                    in_polygon(p, lon, lat) || in_polygon(p, lon + 360.0, lat) || in_polygon(p, lon - 360.0, lat)
                })
            } else {
                open.is_some()
            };
            match (keep, open) {
                (true, None) => open = Some(idx),
                (false, Some(start)) => {
                    out.push(start..idx);
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            out.push(start..run.end);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_runs(lons: &[f64], lats: &[f64], bbox: [f64; 4], expected: &[Range<usize>]) {
        assert_eq!(bbox_runs(lons, lats, 0..lons.len(), bbox), expected);
    }

    #[test]
    fn bbox_runs_follow_the_subsetter_rules() {
        let lats = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        check_runs(&[0.0; 6], &lats, [-1.0, 1.0, 1.0, 3.0], &[1..4]);
        check_runs(&[0.0, 0.0, 9.0, 0.0, 0.0, 9.0], &lats, [-1.0, -1.0, 1.0, 9.0], &[0..2, 3..5]);
        // Invalid coordinates extend an open run but never start one.
        check_runs(&[999.0, 0.0, 999.0, 9.0, 999.0, 0.0], &lats, [-1.0, -1.0, 1.0, 9.0], &[1..3, 5..6]);
        // West > east wraps the antimeridian.
        check_runs(&[179.5, -179.5, 0.0], &[0.0, 0.0, 0.0], [179.0, -1.0, -179.0, 1.0], &[0..2]);
    }

    #[test]
    fn temporal_range_is_one_contiguous_span() {
        assert_eq!(temporal_range(&[1.0, 2.0, 3.0, 4.0], 1.5, 3.5), 1..3);
        assert_eq!(temporal_range(&[1.0, 2.0], 5.0, 6.0), 0..0);
    }

    #[test]
    fn polygons_with_holes_and_wrapping_boxes() {
        let square = vec![vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]];
        let mut holed = square.clone();
        holed.push(vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]);
        assert!(in_polygon(&square, 5.0, 5.0));
        assert!(!in_polygon(&holed, 5.0, 5.0));
        assert!(in_polygon(&holed, 2.0, 2.0));
        assert!(!in_polygon(&square, 11.0, 5.0));
        let wrap = vec![vec![[170.0, 0.0], [-170.0, 0.0], [-170.0, 5.0], [170.0, 5.0], [170.0, 0.0]]];
        assert_eq!(polygons_bbox(&[wrap]), Some([170.0, 0.0, -170.0, 5.0]));
        assert_eq!(polygons_bbox(&[square]), Some([0.0, 0.0, 10.0, 10.0]));
        let past = vec![vec![[170.0, -75.0], [200.0, -75.0], [200.0, -70.0], [170.0, -75.0]]];
        assert_eq!(polygons_bbox(&[past]), Some([170.0, -75.0, -160.0, -70.0]));
    }
}
