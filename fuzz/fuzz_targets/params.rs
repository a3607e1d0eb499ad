//! Fuzz target: hq serve's request parameters (`Params::merge` then `params::parse`, what every
//! Coverages and EDR submission goes through after its query string and form body are decoded). It
//! must answer with Harmony's error or a submission, never panic, and a submission's numbers are finite.
//!
//! Input: the first byte picks the API (Coverages or one of EDR's four queries); the rest is text whose
//! first line is the Coverages `{variables}` path segment (empty: none) and whose other lines are
//! `key=value` pairs, query-string pairs unless the line starts with `>` (then form-body pairs).
//!
//! The target compiles crates/server/src/params.rs itself rather than depending on harmonyql-server:
//! that file is pure (no HTTP, no I/O), and the server's dependencies (axum, tokio, object_store, redb)
//! would more than double the instrumented build that scripts/test.sh pays for in CI.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/server/src/params.rs"]
mod params;

/// What params.rs imports as `crate::transform::Polygon` in the server.
mod transform {
    pub use harmonyql_data::shape::Polygon;
}

use libfuzzer_sys::fuzz_target;
use params::{Api, EdrQuery, Params, parse};

const APIS: [Api; 5] = [
    Api::Coverages,
    Api::Edr(EdrQuery::Area),
    Api::Edr(EdrQuery::Position),
    Api::Edr(EdrQuery::Trajectory),
    Api::Edr(EdrQuery::Cube),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let api = APIS[usize::from(selector) % APIS.len()];
    let mut lines = text.split('\n');
    let path_variables = lines.next().filter(|segment| !segment.is_empty());
    let (mut query, mut body) = (Vec::new(), Vec::new());
    for line in lines {
        let (target, pair) = match line.strip_prefix('>') {
            Some(pair) => (&mut body, pair),
            None => (&mut query, line),
        };
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        target.push((key.to_owned(), value.to_owned()));
    }
    let Ok(merged) = Params::merge(query, body) else { return };
    let Ok(submission) = parse(&merged, api, path_variables) else { return };
    if let Some(bbox) = submission.bbox {
        assert!(bbox.iter().all(|n| n.is_finite()), "bbox {bbox:?}");
    }
    for polygon in &submission.shape {
        assert!(polygon.iter().flatten().flatten().all(|n| n.is_finite()), "shape {polygon:?}");
    }
    for (name, low, high) in &submission.dimensions {
        assert!(low.is_none_or(f64::is_finite) && high.is_none_or(f64::is_finite), "{name} {low:?} {high:?}");
    }
});
