//! `collections …` and `granules …` → CMR searches ([`api::cmr::Search`](crate::api::cmr::Search)).
//!
//! A bbox becomes `bounding_box`, WKT points, lines and polygons become `point`, `line` and `polygon`
//! (several of them OR-ed), a shape file's polygons become `polygon`s, and a time range becomes
//! `temporal` in UTC. Polygon holes are left out: CMR's `polygon` parameter takes an outer ring only, so
//! the search finds a superset, never less than the request will order.

use crate::api::cmr::{self, Concept, Format, Search, SpatialFilter};
use crate::api::environment::Environment;
use crate::api::request::Request;
use crate::ast::{Arg, ArgKind, TermKind};
use crate::compile::CompileError;
use crate::query::{DEFAULT_SEARCH_LIMIT, DateTime, SearchQuery, Spatial, SubsetQuery, Wkt, WktKind};

/// The search a query asks for, with the page size for its first page.
pub fn search(query: &SearchQuery) -> Result<Search, CompileError> {
    let mut search = Search { keyword: query.keyword.clone(), ..Search::default() };
    if let Some(collection) = &query.collection {
        if collection.is_concept_id() {
            search.collection_concept_id = Some(collection.0.clone());
        } else {
            search.short_name = Some(collection.0.clone());
        }
    }
    search.version = query.version.clone();
    search.provider = query.provider.clone();
    search.cloud_hosted = query.cloud_hosted;
    match &query.spatial {
        Some(Spatial::BBox(bbox)) => search.spatial.push(SpatialFilter::BoundingBox {
            west: bbox.west.text.clone(),
            south: bbox.south.text.clone(),
            east: bbox.east.text.clone(),
            north: bbox.north.text.clone(),
        }),
        Some(Spatial::Wkt(wkt)) => search.spatial.extend(wkt_filters(wkt)),
        None => {}
    }
    if let Some(shape) = &query.shape {
        let rings = query.shape_rings.as_ref().ok_or_else(|| CompileError::UnreadShape(shape.path.clone()))?;
        search.spatial.extend(rings.iter().map(|ring| SpatialFilter::Polygon(ring.clone())));
    }
    if let Some(range) = &query.temporal {
        search.temporal = Some((range.start.as_ref().map(cmr_time), range.stop.as_ref().map(cmr_time)));
    }
    search.page_size = Some(query.limit.unwrap_or(DEFAULT_SEARCH_LIMIT).min(cmr::MAX_PAGE_SIZE));
    if query.concept == Concept::Granules {
        // A fixed order keeps CMR-Search-After paging stable and lists granules in time order.
        search.sort_key.push("start_date".to_owned());
    }
    Ok(search)
}

/// The granule search that selects what a `subset` would process: its collection, area, shape and time.
/// Granule IDs and names are not CMR search parameters here, so a request naming granules is overestimated.
pub fn granules_of(subset: &SubsetQuery) -> Option<SearchQuery> {
    Some(SearchQuery {
        concept: Concept::Granules,
        keyword: None,
        collection: Some(subset.collection.clone()?),
        provider: None,
        version: None,
        cloud_hosted: None,
        spatial: subset.spatial.clone(),
        shape: subset.shape.clone(),
        shape_rings: None,
        temporal: subset.temporal.clone(),
        limit: subset.max_results.map(|max| max.min(crate::query::MAX_SEARCH_LIMIT)),
    })
}

/// The request for the first page of a query's search, against the environment's CMR.
///
/// ```
/// use harmonyql_lang::api::environment::Environment;
/// use harmonyql_lang::{check::{check, Scope}, parse::parse, query::Query, search::request};
/// let checked = check(&parse("granules ATL03 bbox(-105.5, 40, -105, 41) limit 3").ast, &Scope::default());
/// let Query::Search(query) = &checked.statements[0].query else { panic!() };
/// assert_eq!(
///     request(query, &Environment::Prod).unwrap().to_url().unwrap(),
///     "https://cmr.earthdata.nasa.gov/search/granules.json?short_name=ATL03&bounding_box=-105.5%2C40%2C-105%2C41&page_size=3&sort_key=start_date"
/// );
/// ```
pub fn request(query: &SearchQuery, env: &Environment) -> Result<Request, CompileError> {
    Ok(search(query)?.to_request(&cmr::cmr_root(env), query.concept, Format::Json))
}

/// An instant as CMR writes it: UTC, `Z`.
fn cmr_time(time: &DateTime) -> String {
    time.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A checked WKT geometry as CMR spatial parameters.
fn wkt_filters(wkt: &Wkt) -> Vec<SpatialFilter> {
    let Ok((_, args)) = crate::parse::parse_call(&wkt.text) else { return Vec::new() };
    match wkt.kind {
        WktKind::Point => points(&args).into_iter().map(SpatialFilter::Point).collect(),
        // `MULTIPOINT((1 2), (3 4))` and `MULTIPOINT(1 2, 3 4)` are both WKT.
        WktKind::MultiPoint => args
            .iter()
            .flat_map(|arg| group(arg).map_or_else(|| points(std::slice::from_ref(arg)), |inner| points(&inner)))
            .map(SpatialFilter::Point)
            .collect(),
        WktKind::LineString => vec![SpatialFilter::Line(points(&args))],
        WktKind::MultiLineString => {
            args.iter().filter_map(group).map(|line| SpatialFilter::Line(points(&line))).collect()
        }
        WktKind::Polygon => outer_ring(&args).map(SpatialFilter::Polygon).into_iter().collect(),
        WktKind::MultiPolygon => {
            args.iter().filter_map(group).filter_map(|rings| outer_ring(&rings)).map(SpatialFilter::Polygon).collect()
        }
    }
}

fn outer_ring(rings: &[Arg]) -> Option<Vec<[f64; 2]>> {
    rings.first().and_then(group).map(|ring| points(&ring))
}

fn group(arg: &Arg) -> Option<Vec<Arg>> {
    match &arg.kind {
        ArgKind::Terms(terms) if terms.len() == 1 => match &terms[0].node {
            TermKind::Group(inner) => Some(inner.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `lon lat [z]` arguments as `[lon, lat]`.
fn points(args: &[Arg]) -> Vec<[f64; 2]> {
    args.iter()
        .filter_map(|arg| match &arg.kind {
            ArgKind::Terms(terms) if terms.len() >= 2 => {
                let number = |index: usize| match &terms[index].node {
                    TermKind::Number(text) => text.parse::<f64>().ok(),
                    _ => None,
                };
                Some([number(0)?, number(1)?])
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Scope, check};
    use crate::parse::parse;
    use crate::query::Query;

    fn url(cell: &str) -> String {
        let checked = check(&parse(cell).ast, &Scope::default());
        assert!(checked.diagnostics.is_empty(), "{cell}: {:?}", checked.diagnostics);
        let Query::Search(query) = &checked.statements[0].query else { panic!("{cell} is not a search") };
        request(query, &Environment::Prod).unwrap().to_url().unwrap()
    }

    #[test]
    fn every_area_subset_takes_becomes_a_cmr_area() {
        assert_eq!(
            url("granules ATL03 polygon((-105.5 40, -105.5 41, -105 41, -105 40, -105.5 40))"),
            "https://cmr.earthdata.nasa.gov/search/granules.json?short_name=ATL03&polygon=-105.5%2C40%2C-105%2C40%2C-105%2C41%2C-105.5%2C41%2C-105.5%2C40&page_size=10&sort_key=start_date"
        );
        assert!(url("granules ATL03 point(-105.2 40.5)").contains("&point=-105.2%2C40.5&"));
        assert!(url("granules ATL03 linestring(1 2, 3 4)").contains("&line=1%2C2%2C3%2C4&"));
        assert!(
            url("granules ATL03 wkt(\"MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))\")")
                .contains("polygon%5B%5D=0%2C0%2C1%2C0%2C1%2C1%2C0%2C0&polygon%5B%5D=5%2C5%2C6%2C5%2C6%2C6%2C5%2C5&options%5Bspatial%5D%5Bor%5D=true")
        );
        assert!(url("granules ATL03 multipoint((1 2), (3 4))").contains("point%5B%5D=1%2C2&point%5B%5D=3%2C4"));
    }

    #[test]
    fn times_are_utc_and_either_end_may_be_open() {
        assert!(
            url("granules ATL03 time(2020-04-27 .. 2020-05-28)")
                .contains("&temporal=2020-04-27T00%3A00%3A00Z%2C2020-05-28T00%3A00%3A00Z&")
        );
        assert!(
            url("granules ATL03 time(2020-04-27T12:00:00+02:00 ..)").contains("&temporal=2020-04-27T10%3A00%3A00Z%2C&")
        );
        assert!(url("collections ATL03 time(.. 2020-01-01)").contains("temporal=%2C2020-01-01T00%3A00%3A00Z"));
    }

    #[test]
    fn collections_by_text_name_or_id() {
        assert_eq!(
            url("collections \"sea ice\" cloud limit 5"),
            "https://cmr.earthdata.nasa.gov/search/collections.json?keyword=sea+ice&cloud_hosted=true&page_size=5"
        );
        assert_eq!(
            url("collections ATL03 provider NSIDC_CPRD version 006"),
            "https://cmr.earthdata.nasa.gov/search/collections.json?short_name=ATL03&version=006&provider=NSIDC_CPRD&page_size=10"
        );
        assert!(
            url("granules C2596864127-NSIDC_CPRD limit 5000")
                .contains("collection_concept_id=C2596864127-NSIDC_CPRD&page_size=2000")
        );
    }

    #[test]
    fn a_shape_file_must_be_read_first() {
        let checked = check(&parse("granules ATL03 shape(\"area.geojson\")").ast, &Scope::default());
        let Query::Search(mut query) = checked.statements[0].query.clone() else { panic!() };
        assert_eq!(search(&query), Err(CompileError::UnreadShape("area.geojson".into())));
        query.shape_rings = Some(vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]);
        assert!(request(&query, &Environment::Uat).unwrap().to_url().unwrap().starts_with(
            "https://cmr.uat.earthdata.nasa.gov/search/granules.json?short_name=ATL03&polygon=0%2C0%2C1%2C0%2C1%2C1%2C0%2C0&"
        ));
    }
}
