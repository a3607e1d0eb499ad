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
        if self.processed > PREVIEW_THRESHOLD {
            text.push_str(&format!(
                "; Harmony will pause it for preview (more than {PREVIEW_THRESHOLD} granules): `skip preview` or `skip_preview` in the request runs it all"
            ));
        }
        text
    }
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
    let processed = subset.max_results.map_or(hits, |max| max.min(hits));
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
    }
}
