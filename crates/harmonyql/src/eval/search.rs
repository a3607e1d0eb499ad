//! Running `collections` and `granules`: shape files read into the polygons CMR is sent, the search sent
//! through [`crate::harmony::cmr`], and its typed result reported.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::api::cmr::{Concept, Format, cmr_root};
use crate::api::environment::Environment;
use crate::eval::error::{EvalError, EvalResult};
use crate::eval::sink::Report;
use crate::harmony::client::Client;
use crate::harmony::cmr::{CollectionResults, GranuleResults, search_all};
use crate::lang::query::{DEFAULT_SEARCH_LIMIT, SearchQuery};

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
            Report::Granules(Box::new(GranuleResults { url, collection, hits, granules }))
        }
    })
}
