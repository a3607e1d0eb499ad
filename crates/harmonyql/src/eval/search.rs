//! Running `collections` and `granules`: shape files read into the polygons CMR is sent, the search sent
//! through [`crate::harmony::cmr`], and its typed result reported.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::api::cmr::{Concept, Format, SpatialFilter, cmr_root};
use crate::api::environment::Environment;
use crate::eval::error::{EvalError, EvalResult};
use crate::eval::sink::Report;
use crate::harmony::client::Client;
use crate::harmony::cmr::{CollectionResults, GranuleResults, search_all};
use crate::lang::query::{DEFAULT_SEARCH_LIMIT, SearchQuery};
use crate::plot::{DEFAULT_SIZE, Figure, Track, TrackMap, render};

/// The outer rings of a shape file's polygons, `[lon, lat]`, for CMR's `polygon` parameter.
pub fn shape_rings(path: &Path, mime: &str) -> EvalResult<Vec<Vec<[f64; 2]>>> {
    let bytes = std::fs::read(path).map_err(EvalError::io(format!("cannot read the shape file {}", path.display())))?;
    let polygons = crate::shape::parse(&bytes, mime)
        .map_err(|error| EvalError::Unusable(format!("{}: {error}", path.display())))?;
    Ok(polygons.into_iter().filter_map(|polygon| polygon.into_iter().next()).collect())
}

/// The search with its shape file, if any, read.
pub fn with_shape_read(query: &SearchQuery) -> EvalResult<SearchQuery> {
    let mut query = query.clone();
    if let (Some(shape), None) = (&query.shape, &query.shape_rings) {
        query.shape_rings = Some(shape_rings(Path::new(&shape.path), &shape.mime)?);
    }
    Ok(query)
}

/// Runs a search against the environment's CMR; the typed result is what the statement shows (and what a
/// name bound to it shows again).
pub async fn run(
    client: &Client,
    query: &SearchQuery,
    env: &Environment,
    cancel: &CancellationToken,
) -> EvalResult<Report> {
    let query = with_shape_read(query)?;
    let search = crate::lang::search::search(&query).map_err(|error| EvalError::Unusable(error.to_string()))?;
    let root = cmr_root(env);
    let url = search
        .to_request(&root, query.concept, Format::Json)
        .to_url()
        .map_err(|error| EvalError::Unusable(error.to_string()))?;
    let limit = query.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    Ok(match query.concept {
        Concept::Collections => {
            let (hits, collections) = search_all(client, &root, &search, Concept::Collections, limit, cancel).await?;
            Report::Collections(Box::new(CollectionResults { url, hits, collections }))
        }
        Concept::Granules => {
            let (hits, granules) = search_all(client, &root, &search, Concept::Granules, limit, cancel).await?;
            let collection = query.collection.as_ref().map(|c| c.0.clone()).unwrap_or_default();
            let areas = search.spatial.iter().filter_map(area_ring).collect();
            Report::Granules(Box::new(GranuleResults { url, collection, hits, granules, areas }))
        }
    })
}

/// A searched area as a closed ring: a bounding box's four corners or a polygon (points and lines have none).
fn area_ring(filter: &SpatialFilter) -> Option<Vec<[f64; 2]>> {
    match filter {
        SpatialFilter::BoundingBox { west, south, east, north } => {
            let [w, s, e, n] = [west, south, east, north].map(|text| text.parse::<f64>().unwrap_or(f64::NAN));
            // A box across the antimeridian is drawn east of it, so the ring stays one piece.
            let e = if w > e { e + 360.0 } else { e };
            Some(vec![[w, s], [e, s], [e, n], [w, n], [w, s]])
        }
        SpatialFilter::Polygon(ring) => Some(crate::api::cmr::counter_clockwise_ring(ring)),
        SpatialFilter::Point(_) | SpatialFilter::Line(_) => None,
    }
}

/// The footprints of the listed granules over the coastline map, with the searched area outlined.
pub fn plot_granules(results: &GranuleResults) -> EvalResult<Figure> {
    let tracks: Vec<Track> = results
        .granules
        .iter()
        .flat_map(|granule| {
            granule.footprints().into_iter().map(|footprint| Track {
                name: granule.title.clone(),
                strong: false,
                points: footprint.into_iter().map(|[lon, lat]| (lon, lat)).collect(),
            })
        })
        .collect();
    if tracks.is_empty() {
        return Err(EvalError::Unusable(format!(
            "none of the {} listed granule(s) of {} has a footprint to draw",
            results.granules.len(),
            results.collection
        )));
    }
    let title = format!("{}: {} of {} granule(s)", results.collection, results.granules.len(), results.hits);
    let areas = results.areas.iter().map(|ring| ring.iter().map(|&[lon, lat]| (lon, lat)).collect()).collect();
    render(&TrackMap { title, tracks, areas }, DEFAULT_SIZE).map_err(EvalError::plot("the granule footprints"))
}

/// What `subset NAME` orders for a `granules` result: its collection's concept ID and the concept IDs of
/// exactly the granules it listed.
pub fn order_exactly(results: &GranuleResults) -> EvalResult<(String, Vec<String>)> {
    if results.granules.is_empty() {
        return Err(EvalError::Unusable(format!(
            "the search of {} found no granules: there is nothing to order",
            results.collection
        )));
    }
    let collection = results
        .granules
        .iter()
        .find_map(|granule| granule.collection_concept_id.clone())
        .unwrap_or_else(|| results.collection.clone());
    Ok((collection, results.granules.iter().map(|granule| granule.id.clone()).collect()))
}

/// Harmony pauses a request of more granules than this for preview (`skip preview` lets it run).
pub const PREVIEW_THRESHOLD: u64 = 300;

/// Harmony's system granule limit (`MAX_GRANULE_LIMIT`): a request selecting more processes only the first
/// this many (harmony-api.md §4.12).
pub const GRANULE_LIMIT: u64 = 10_000_000;

/// How long the kernel's checking step waits for CMR's count before submitting without it.
pub const ESTIMATE_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// What a `subset` would select, found before sending it: the granules and bytes, and Harmony's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Granules matching the request's collection, area and time (`CMR-Hits`).
    pub granules: u64,
    /// Granules Harmony would process: `limit` caps them.
    pub processed: u64,
    /// Their input size (exact, or estimated from the first page's sizes), if CMR gives sizes.
    pub bytes: Option<(u64, bool)>,
}

impl Estimate {
    /// One line: `selects 2 granule(s), 4.0 GiB` with the preview warning when Harmony would pause.
    pub fn describe(&self) -> String {
        let mut text = format!("selects {} granule(s)", self.granules);
        if self.processed < self.granules {
            text.push_str(&format!(" (limit: {} processed)", self.processed));
        }
        match self.bytes {
            Some((bytes, true)) => text.push_str(&format!(", {}", crate::output::cmr::human_bytes(bytes))),
            Some((bytes, false)) => text.push_str(&format!(", about {}", crate::output::cmr::human_bytes(bytes))),
            None => text.push_str(", size not given by CMR"),
        }
        if self.is_limited() {
            text.push_str(&format!(
                "; Harmony will process only the first {GRANULE_LIMIT} (its granule limit): narrow the area or time"
            ));
        }
        if self.pauses_for_preview() {
            text.push_str(&format!(
                "; Harmony will pause it for preview (more than {PREVIEW_THRESHOLD} granules): `skip preview` or `skip_preview` in the request runs it all"
            ));
        }
        text
    }

    /// True when Harmony will process a preview and pause (unless the request skips preview).
    pub fn pauses_for_preview(&self) -> bool {
        self.processed > PREVIEW_THRESHOLD
    }

    /// True when more granules match than Harmony processes in one request.
    pub fn is_limited(&self) -> bool {
        self.granules > GRANULE_LIMIT
    }
}

/// What the checking step says before `subset` is submitted, shared by the kernel, `hq run` and every front
/// end: the granules and bytes it selects, as a warning when Harmony will pause it for preview or cut it at
/// its granule limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionEstimate {
    /// `subset ATL03 selects 2 granule(s), 10.4 MiB` and, when it warns, what Harmony will do.
    pub text: String,
    /// True when Harmony will pause the job for preview or process only part of what it selects.
    pub warns: bool,
}

/// The estimate of a `subset` before it is submitted. `None` when CMR did not answer within [`ESTIMATE_BOUND`]
/// (offline stays offline: nothing is guessed). A `subset NAME` of a bound `granules` result is estimated from
/// that result, without asking CMR again.
pub async fn submission_estimate(
    client: &Client,
    subset: &crate::lang::query::SubsetQuery,
    ordered: Option<&GranuleResults>,
    env: &Environment,
    cancel: &CancellationToken,
) -> Option<SubmissionEstimate> {
    let estimate = match ordered {
        Some(results) => {
            let listed = results.granules.len() as u64;
            let processed = subset.max_results.map_or(listed, |max| max.min(listed));
            let (bytes, known) = results.listed_size();
            Estimate { granules: listed, processed, bytes: (known > 0).then_some((bytes, known as u64 == listed)) }
        }
        None => tokio::time::timeout(ESTIMATE_BOUND, estimate(client, subset, env, cancel)).await.ok()?.ok()?,
    };
    let pauses = estimate.pauses_for_preview() && subset.skip_preview != Some(true);
    let collection = subset.collection.as_ref().map_or("", |c| c.0.as_str());
    let mut text = format!("subset {collection} {}", estimate.describe());
    if !pauses && let Some(cut) = text.find("; Harmony will pause") {
        text.truncate(cut);
    }
    let empty = estimate.granules == 0;
    if empty {
        text.push_str(": Harmony will find nothing to process (\"No matching granules\"); widen the area or the time");
    }
    Some(SubmissionEstimate { text, warns: pauses || estimate.is_limited() || empty })
}

/// Finds what `subset` would select, with one CMR page (up to 2000 granules) for the sizes.
pub async fn estimate(
    client: &Client,
    subset: &crate::lang::query::SubsetQuery,
    env: &Environment,
    cancel: &CancellationToken,
) -> EvalResult<Estimate> {
    let query = crate::lang::search::granules_of(subset)
        .ok_or_else(|| EvalError::Unusable("the request names no collection".to_owned()))?;
    let query = with_shape_read(&query)?;
    let search = crate::lang::search::search(&query).map_err(|error| EvalError::Unusable(error.to_string()))?;
    let root = cmr_root(env);
    let (hits, granules) = search_all::<crate::api::cmr::GranuleEntry>(
        client,
        &root,
        &search,
        Concept::Granules,
        crate::api::cmr::MAX_PAGE_SIZE,
        cancel,
    )
    .await?;
    let processed = subset.max_results.map_or(hits, |max| max.min(hits)).min(GRANULE_LIMIT);
    let results =
        GranuleResults { url: String::new(), collection: String::new(), hits: processed, granules, areas: Vec::new() };
    let bytes = if processed < hits {
        // The first `processed` granules in CMR's order are the ones Harmony takes.
        let listed =
            GranuleResults { granules: results.granules.iter().take(processed as usize).cloned().collect(), ..results };
        listed.total_size()
    } else {
        results.total_size()
    };
    Ok(Estimate { granules: hits, processed, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(n: usize) -> GranuleResults {
        let granules = (0..n)
            .map(|i| serde_json::json!({"id": format!("G{i}-P"), "title": format!("g{i}"), "granule_size": "1024"}))
            .collect::<Vec<_>>();
        GranuleResults {
            url: String::new(),
            collection: "ATL03".into(),
            hits: n as u64,
            granules: serde_json::from_value(serde_json::Value::Array(granules)).unwrap(),
            areas: Vec::new(),
        }
    }

    #[tokio::test]
    async fn ordering_more_than_the_preview_threshold_is_warned_about_before_submitting() {
        // An unroutable Harmony: ordering a bound result is estimated from it, never by asking CMR again.
        let env = Environment::Url("http://127.0.0.1:9".into());
        let client = Client::new(env.clone(), crate::harmony::auth::Credentials::Anonymous).unwrap();
        let cancel = CancellationToken::new();
        let mut subset = crate::lang::query::SubsetQuery {
            collection: Some(crate::lang::query::Collection("ATL03".into())),
            ..Default::default()
        };
        let warn = |subset: crate::lang::query::SubsetQuery, n: usize| {
            let (client, env, cancel) = (client.clone(), env.clone(), cancel.clone());
            async move {
                let estimate = submission_estimate(&client, &subset, Some(&listed(n)), &env, &cancel).await.unwrap();
                (estimate.warns, estimate.text)
            }
        };
        assert_eq!(
            warn(subset.clone(), 300).await,
            (false, "subset ATL03 selects 300 granule(s), 300.0 GiB".to_owned()),
            "300 granules run without a preview: said, not warned"
        );
        let (warns, warning) = warn(subset.clone(), 301).await;
        assert!(
            warns
                && warning
                    .starts_with("subset ATL03 selects 301 granule(s), 301.0 GiB; Harmony will pause it for preview"),
            "{warning}"
        );
        subset.skip_preview = Some(true);
        assert_eq!(
            warn(subset.clone(), 301).await,
            (false, "subset ATL03 selects 301 granule(s), 301.0 GiB".to_owned()),
            "skip preview: nothing to warn about"
        );
        subset.skip_preview = None;
        let (warns, nothing) = warn(subset.clone(), 0).await;
        assert!(warns && nothing.contains("nothing to process"), "{nothing}");
        subset.max_results = Some(10);
        assert!(!warn(subset, 301).await.0, "a limit of 10 processes 10");
    }

    #[test]
    fn estimates_warn_before_harmony_pauses_for_preview() {
        let small = Estimate { granules: 2, processed: 2, bytes: Some((4 << 30, true)) };
        assert_eq!(small.describe(), "selects 2 granule(s), 4.0 GiB");
        let large = Estimate { granules: 5000, processed: 5000, bytes: Some((5000 << 30, false)) };
        assert!(
            large.describe().starts_with("selects 5000 granule(s), about 4.9 TiB; Harmony will pause it for preview")
        );
        let capped = Estimate { granules: 5000, processed: 300, bytes: None };
        assert_eq!(capped.describe(), "selects 5000 granule(s) (limit: 300 processed), size not given by CMR");
        let limited = Estimate { granules: 12_000_000, processed: GRANULE_LIMIT, bytes: None };
        let text = limited.describe();
        assert!(text.contains("(limit: 10000000 processed)") && text.contains("only the first 10000000"), "{text}");
        assert!(limited.is_limited() && limited.pauses_for_preview() && !small.is_limited());
    }
}
