//! Fuzz target: any bytes as a shape file (`harmonyql_data::shape::parse`, what hq serve does with an
//! uploaded `shapefile` and the evaluator with `within file …`), under each MIME type a client may
//! send and under none (sniffed). It must refuse with an error or give polygons within the limits:
//! at least one, no more than `MAX_VERTICES` positions in all. A zip bomb must be refused before it is
//! inflated: the run's `-rss_limit_mb` (scripts/test.sh) turns unbounded memory into a crash.
#![no_main]

use harmonyql_data::shape::{MAX_VERTICES, parse};
use libfuzzer_sys::fuzz_target;

const MIMES: [&str; 6] = [
    "",
    "application/geo+json",
    "application/vnd.google-earth.kml+xml",
    "application/shapefile+zip",
    "application/zip; charset=binary",
    "text/plain",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the MIME type, so the seeds of each format reach every reader.
    let Some((&selector, bytes)) = data.split_first() else { return };
    let mime = MIMES[usize::from(selector) % MIMES.len()];
    if let Ok(polygons) = parse(bytes, mime) {
        assert!(!polygons.is_empty(), "Ok with no polygon");
        let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
        assert!(vertices <= MAX_VERTICES, "{vertices} vertices accepted");
    }
});
