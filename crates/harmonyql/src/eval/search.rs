//! Running `collections` and `granules`: shape files read into the polygons CMR is sent, the search sent
//! through [`crate::harmony::cmr`], and its typed result reported.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::api::cmr::{Concept, Format, cmr_root};
use crate::api::environment::Environment;
use crate::eval::sink::{Report, Sink};
use crate::harmony::client::Client;
use crate::harmony::cmr::{CmrError, CollectionResults, GranuleResults, search_all};
use crate::lang::query::{DEFAULT_SEARCH_LIMIT, SearchQuery};

/// The outer rings of a shape file's polygons, `[lon, lat]`, for CMR's `polygon` parameter.
pub fn shape_rings(path: &Path, mime: &str) -> Result<Vec<Vec<[f64; 2]>>, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read the shape file {}: {error}", path.display()))?;
    let polygons = crate::shape::parse(&bytes, mime).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(polygons.into_iter().filter_map(|polygon| polygon.into_iter().next()).collect())
}

/// The search with its shape file, if any, read.
pub fn with_shape_read(query: &SearchQuery) -> Result<SearchQuery, String> {
    let mut query = query.clone();
    if let (Some(shape), None) = (&query.shape, &query.shape_rings) {
        query.shape_rings = Some(shape_rings(Path::new(&shape.path), &shape.mime)?);
    }
    Ok(query)
}

/// Runs a search against the environment's CMR and reports its typed result; the value to bind is its JSON.
pub async fn run(
    client: &Client,
    query: &SearchQuery,
    env: &Environment,
    sink: &mut (dyn Sink + Send),
    cancel: &CancellationToken,
) -> Result<serde_json::Value, String> {
    let query = with_shape_read(query)?;
    let search = crate::lang::search::search(&query).map_err(|error| error.to_string())?;
    let root = cmr_root(env);
    let url = search.to_request(&root, query.concept, Format::Json).to_url().map_err(|error| error.to_string())?;
    let limit = query.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    let text = |error: CmrError| error.to_string();
    match query.concept {
        Concept::Collections => {
            let (hits, collections) =
                search_all(client, &root, &search, Concept::Collections, limit, cancel).await.map_err(text)?;
            let results = CollectionResults { url, hits, collections };
            let value = serde_json::to_value(&results).unwrap_or_default();
            sink.report(Report::Collections(Box::new(results)));
            Ok(value)
        }
        Concept::Granules => {
            let (hits, granules) =
                search_all(client, &root, &search, Concept::Granules, limit, cancel).await.map_err(text)?;
            let collection = query.collection.as_ref().map(|c| c.0.clone()).unwrap_or_default();
            let results = GranuleResults { url, collection, hits, granules };
            let value = serde_json::to_value(&results).unwrap_or_default();
            sink.report(Report::Granules(Box::new(results)));
            Ok(value)
        }
    }
}
