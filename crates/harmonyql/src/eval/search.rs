//! Running `collections` and `granules`: shape files read into the polygons CMR is sent, the search sent
//! through [`crate::harmony::cmr`], and its typed result reported.

use std::path::Path;

use crate::lang::query::SearchQuery;

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
