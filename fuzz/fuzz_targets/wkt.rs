//! Fuzz target: any text through `Geometry::parse_wkt`, the reader behind `within`/`intersects`
//! clauses and hq serve's EDR `coords`. It must refuse with a reason or give a geometry whose every
//! position is finite and whose polygon rings are closed with at least four positions; what it gives
//! must survive the map outline (`lines`) and CMR's polygon parameter (`counter_clockwise_ring`).
#![no_main]

use harmonyql_lang::api::cmr::{SpatialFilter, counter_clockwise_ring};
use harmonyql_lang::geometry::Geometry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let geometry = match Geometry::parse_wkt(text) {
        Ok(geometry) => geometry,
        Err(error) => {
            // Messages quote at most 40 characters of the text.
            assert!(error.0.chars().count() < 200, "a long message: {}", error.0);
            return;
        }
    };
    let rings: Vec<&Vec<[f64; 2]>> = match &geometry {
        Geometry::Polygon(rings) => rings.iter().collect(),
        Geometry::MultiPolygon(polygons) => polygons.iter().flatten().collect(),
        _ => Vec::new(),
    };
    for ring in rings {
        assert!(ring.len() >= 4 && ring.first() == ring.last(), "an open ring: {ring:?}");
        let written = counter_clockwise_ring(ring);
        assert_eq!(written.first(), written.last());
        let _ = SpatialFilter::Polygon(ring.clone()).param();
    }
    for line in geometry.lines() {
        assert!(!line.is_empty());
        assert!(line.iter().flatten().all(|n| n.is_finite()), "a non-finite position in {line:?}");
    }
    let _ = geometry.kind();
});
