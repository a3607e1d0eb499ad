//! CMR's search API for the local catalog: `/search/collections.{json,umm_json}` and
//! `/search/granules.{json,umm_json}`, so `collections`, `granules` and third-party CMR clients run offline.
//!
//! Parameters are CMR's (`keyword`, `short_name`, `version`, `provider`, `concept_id`,
//! `collection_concept_id`, `cloud_hosted`, `bounding_box`, `polygon`, `point`, `line`, `temporal`,
//! `page_size`, `page_num`, `sort_key`, each also as `name[]`, plus `options[…]`); the answer carries
//! `CMR-Hits` and, when more results follow, `CMR-Search-After`. Errors use CMR's body
//! `{"errors": ["…"]}`; an unknown parameter is a 400, as in CMR, never silently ignored.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::catalog::{Collection, GranuleQuery};
use crate::routes::AppState;
use crate::sample::SampleGranule;
use harmonyql_lang::api::cmr::{
    CollectionEntry, Concept, ErrorBody, Feed, FeedBody, Format, GranuleEntry, HITS_HEADER, MAX_PAGE_SIZE,
    SEARCH_AFTER_HEADER, UmmItem, UmmMeta, UmmResults,
};

/// The provider of a collection (and its granules): the part of its concept ID after `-`, so the sample
/// collections keep NASA's providers (`NSIDC_CPRD`) and `provider NSIDC_CPRD` finds them offline too.
fn provider(collection: &Collection) -> &'static str {
    collection.concept_id().split_once('-').map_or("", |(_, provider)| provider)
}

/// The CMR search routes, merged into the server's router.
pub fn router() -> Router<AppState> {
    Router::new().route("/search/{file}", get(search))
}

/// A CMR error: status and messages, answered as `{"errors": […]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmrError {
    status: StatusCode,
    errors: Vec<String>,
}

impl CmrError {
    fn bad(message: impl Into<String>) -> Self {
        CmrError { status: StatusCode::BAD_REQUEST, errors: vec![message.into()] }
    }
}

impl IntoResponse for CmrError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorBody { errors: self.errors })).into_response()
    }
}

async fn search(
    State(state): State<AppState>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, CmrError> {
    let (concept, format) = match file.as_str() {
        "collections.json" | "collections" => (Concept::Collections, Format::Json),
        "collections.umm_json" => (Concept::Collections, Format::UmmJson),
        "granules.json" | "granules" => (Concept::Granules, Format::Json),
        "granules.umm_json" => (Concept::Granules, Format::UmmJson),
        other => {
            return Err(CmrError {
                status: StatusCode::NOT_FOUND,
                errors: vec![format!(
                    "The search path [/search/{other}] is not supported by this CMR; use collections or granules with .json or .umm_json"
                )],
            });
        }
    };
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|query| query.0)
        .map_err(|error| CmrError::bad(format!("The query string could not be read: {}", error.body_text())))?;
    let params = Params::read(&pairs, concept)?;
    let search_after = headers
        .get(SEARCH_AFTER_HEADER)
        .map(|value| value.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| CmrError::bad("The CMR-Search-After header must be text"))?;
    let started = std::time::Instant::now();
    let root = crate::routes::root_url(&headers);
    let catalog = &state.catalog;
    let (hits, body, last) = match concept {
        Concept::Collections => {
            let found = find_collections(catalog.collections(), catalog, &params)?;
            let keys: Vec<String> = found.iter().map(|c| c.concept_id().to_owned()).collect();
            let range = page(&keys, &params, search_after.as_deref())?;
            let chosen = &found[range.clone()];
            let body = match format {
                Format::Json => serde_json::to_value(Feed {
                    feed: FeedBody {
                        updated: Some(Utc::now().to_rfc3339()),
                        id: Some(format!("{root}{uri}")),
                        title: Some("ECHO dataset metadata".into()),
                        entry: chosen.iter().map(|c| collection_entry(c, catalog)).collect(),
                    },
                }),
                Format::UmmJson => serde_json::to_value(UmmResults {
                    hits: found.len() as u64,
                    took: started.elapsed().as_millis() as u64,
                    items: chosen.iter().map(|c| collection_umm(c, catalog)).collect(),
                }),
            };
            (found.len(), body, more_after(&keys, &range))
        }
        Concept::Granules => {
            let found = find_granules(catalog, &params)?;
            let keys: Vec<String> = found.iter().map(|(_, g)| g.concept_id.clone()).collect();
            let range = page(&keys, &params, search_after.as_deref())?;
            let chosen = &found[range.clone()];
            let body = match format {
                Format::Json => serde_json::to_value(Feed {
                    feed: FeedBody {
                        updated: Some(Utc::now().to_rfc3339()),
                        id: Some(format!("{root}{uri}")),
                        title: Some("ECHO granule metadata".into()),
                        entry: chosen
                            .iter()
                            .map(|(c, g)| granule_entry(c, g, state.samples.known_size(g), &root))
                            .collect(),
                    },
                }),
                Format::UmmJson => serde_json::to_value(UmmResults {
                    hits: found.len() as u64,
                    took: started.elapsed().as_millis() as u64,
                    items: chosen.iter().map(|(c, g)| granule_umm(c, g, state.samples.known_size(g), &root)).collect(),
                }),
            };
            (found.len(), body, more_after(&keys, &range))
        }
    };
    let body = body.map_err(|error| CmrError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        errors: vec![format!("the answer could not be written: {error}")],
    })?;
    let mut response = axum::Json(body).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(HITS_HEADER, HeaderValue::from(hits as u64));
    response_headers.insert("CMR-Took", HeaderValue::from(started.elapsed().as_millis() as u64));
    if let Some(last) = last
        && let Ok(value) = HeaderValue::from_str(&json!([last]).to_string())
    {
        response_headers.insert(SEARCH_AFTER_HEADER, value);
    }
    Ok(response)
}

/// A `temporal` range; either end may be open.
type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The search's parameters, read and checked.
#[derive(Debug, Default)]
struct Params {
    keyword: Vec<String>,
    short_name: Vec<String>,
    version: Vec<String>,
    provider: Vec<String>,
    concept_id: Vec<String>,
    collection_concept_id: Vec<String>,
    granule_names: Vec<String>,
    cloud_hosted: Option<bool>,
    /// Areas as boxes `[w, s, e, n]` (granules are matched against their footprints by the catalog).
    areas: Vec<[f64; 4]>,
    /// Polygons, matched through the catalog's shape search.
    polygons: Vec<Vec<[f64; 2]>>,
    spatial_or: bool,
    temporal: Vec<TimeRange>,
    page_size: usize,
    page_num: Option<usize>,
    sort_key: Vec<String>,
}

const COLLECTION_PARAMS: &[&str] = &[
    "keyword",
    "short_name",
    "version",
    "provider",
    "concept_id",
    "cloud_hosted",
    "bounding_box",
    "polygon",
    "point",
    "line",
    "temporal",
    "page_size",
    "page_num",
    "sort_key",
    "has_granules",
    "include_facets",
    "include_granule_counts",
    "include_has_granules",
];

const GRANULE_PARAMS: &[&str] = &[
    "short_name",
    "version",
    "provider",
    "concept_id",
    "collection_concept_id",
    "readable_granule_name",
    "producer_granule_id",
    "granule_ur",
    "cloud_hosted",
    "bounding_box",
    "polygon",
    "point",
    "line",
    "temporal",
    "page_size",
    "page_num",
    "sort_key",
];

impl Params {
    fn read(pairs: &[(String, String)], concept: Concept) -> Result<Params, CmrError> {
        let known = match concept {
            Concept::Collections => COLLECTION_PARAMS,
            Concept::Granules => GRANULE_PARAMS,
        };
        let mut params = Params { page_size: 10, ..Params::default() };
        let mut unknown = Vec::new();
        for (raw_key, value) in pairs {
            let key = raw_key.to_ascii_lowercase();
            let key = key.strip_suffix("[]").unwrap_or(&key);
            if let Some(option) = key.strip_prefix("options[") {
                // `options[param][flag]`: ignore_case, pattern, and, or; only the spatial `or` changes results here.
                let param = option.split(']').next().unwrap_or_default();
                if !known.contains(&param) {
                    unknown.push(raw_key.clone());
                } else if param == "spatial" || option.starts_with("spatial][or]") {
                    params.spatial_or = value.eq_ignore_ascii_case("true");
                }
                continue;
            }
            if !known.contains(&key) {
                unknown.push(raw_key.clone());
                continue;
            }
            let value = value.trim();
            match key {
                "keyword" => params.keyword.extend(value.split_whitespace().map(str::to_lowercase)),
                "short_name" => params.short_name.push(value.to_owned()),
                "version" => params.version.push(value.to_owned()),
                "provider" => params.provider.push(value.to_owned()),
                "concept_id" => params.concept_id.push(value.to_owned()),
                "collection_concept_id" => params.collection_concept_id.push(value.to_owned()),
                "readable_granule_name" | "producer_granule_id" | "granule_ur" => {
                    params.granule_names.push(value.to_owned())
                }
                "cloud_hosted" => params.cloud_hosted = Some(boolean(key, value)?),
                "bounding_box" => params.areas.push(bounding_box(value)?),
                "point" => {
                    let [lon, lat] = <[f64; 2]>::try_from(numbers(key, value, Some(2))?.as_slice())
                        .map_err(|_| CmrError::bad("point must be lon,lat"))?;
                    params.areas.push([lon, lat, lon, lat]);
                }
                "line" | "polygon" => {
                    let values = numbers(key, value, None)?;
                    let minimum = if key == "line" { 4 } else { 8 };
                    if values.len() < minimum || values.len() % 2 != 0 {
                        return Err(CmrError::bad(format!(
                            "[{key}] must be longitude,latitude pairs ({} points at least), found [{value}]",
                            minimum / 2
                        )));
                    }
                    let points: Vec<[f64; 2]> = values.chunks(2).map(|pair| [pair[0], pair[1]]).collect();
                    if key == "polygon" && points.first() != points.last() {
                        return Err(CmrError::bad(format!(
                            "Polygon boundary was not closed. The last point must be equal to the first point: [{value}]"
                        )));
                    }
                    params.polygons.push(points);
                }
                "temporal" => params.temporal.push(temporal(value)?),
                "page_size" => {
                    params.page_size =
                        value.parse::<usize>().ok().filter(|size| *size as u64 <= MAX_PAGE_SIZE).ok_or_else(|| {
                            CmrError::bad(format!("page_size must be a number between 0 and {MAX_PAGE_SIZE}"))
                        })?
                }
                "page_num" => {
                    params.page_num = Some(
                        value
                            .parse::<usize>()
                            .ok()
                            .filter(|page| *page >= 1)
                            .ok_or_else(|| CmrError::bad("page_num must be a number greater than or equal to 1"))?,
                    )
                }
                "sort_key" => params.sort_key.push(value.to_owned()),
                // Facets and granule counts are not computed here; the flags are accepted as CMR accepts them.
                _ => {}
            }
        }
        if !unknown.is_empty() {
            return Err(CmrError {
                status: StatusCode::BAD_REQUEST,
                errors: unknown.iter().map(|key| format!("Parameter [{key}] was not recognized.")).collect(),
            });
        }
        Ok(params)
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, CmrError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(CmrError::bad(format!("Parameter {key} must take value of true or false but was [{value}]"))),
    }
}

fn numbers(key: &str, value: &str, count: Option<usize>) -> Result<Vec<f64>, CmrError> {
    let parsed: Option<Vec<f64>> =
        value.split(',').map(|part| part.trim().parse::<f64>().ok().filter(|n| n.is_finite())).collect();
    match parsed {
        Some(values) if count.is_none_or(|count| values.len() == count) => Ok(values),
        _ => Err(CmrError::bad(format!("[{value}] is not a valid {key}: expected comma-separated numbers"))),
    }
}

fn bounding_box(value: &str) -> Result<[f64; 4], CmrError> {
    let values = numbers("bounding_box", value, Some(4))?;
    let [west, south, east, north] = [values[0], values[1], values[2], values[3]];
    let lon_ok = |lon: f64| (-180.0..=180.0).contains(&lon);
    let lat_ok = |lat: f64| (-90.0..=90.0).contains(&lat);
    if !lon_ok(west) || !lon_ok(east) || !lat_ok(south) || !lat_ok(north) || south > north {
        return Err(CmrError::bad(format!(
            "[{value}] is not a valid bounding_box: expected west,south,east,north with longitudes in -180..180, latitudes in -90..90 and south <= north"
        )));
    }
    Ok([west, south, east, north])
}

fn instant(text: &str) -> Result<DateTime<Utc>, CmrError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(time.and_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(CmrError::bad(format!("[{text}] is not a valid datetime")))
}

fn temporal(value: &str) -> Result<TimeRange, CmrError> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [start, end] = parts.as_slice() else {
        return Err(CmrError::bad(format!(
            "temporal [{value}] must be start,end (either may be empty); periodic ranges are not supported by this CMR"
        )));
    };
    let read = |text: &str| if text.is_empty() { Ok(None) } else { instant(text).map(Some) };
    let (start, end) = (read(start)?, read(end)?);
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(CmrError::bad(format!("temporal [{value}]: the start date must be before the end date")));
    }
    Ok((start, end))
}

/// CMR keyword matching: every word (with `*`/`?` wildcards) matches a word of some field, ignoring case.
fn keyword_matches(words: &[String], fields: &[&str]) -> bool {
    let tokens: Vec<String> = fields
        .iter()
        .flat_map(|field| {
            let lower = field.to_lowercase();
            let mut tokens: Vec<String> =
                lower.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_owned).collect();
            tokens.extend(lower.split_whitespace().map(str::to_owned));
            tokens
        })
        .collect();
    words.iter().all(|word| tokens.iter().any(|token| crate::catalog::wildcard_match(word, token)))
}

fn any_matches(patterns: &[String], value: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|pattern| crate::catalog::wildcard_match(pattern, value))
}

fn collection_span(
    collection: &Collection,
    catalog: &crate::catalog::Catalog,
) -> Option<(DateTime<Utc>, DateTime<Utc>, [f64; 4])> {
    let granules = catalog.granules(collection);
    let start = granules.iter().map(|g| g.start).min()?;
    let end = granules.iter().map(|g| g.end).max()?;
    let mut bbox = granules[0].bbox;
    for granule in &granules[1..] {
        bbox = [
            bbox[0].min(granule.bbox[0]),
            bbox[1].min(granule.bbox[1]),
            bbox[2].max(granule.bbox[2]),
            bbox[3].max(granule.bbox[3]),
        ];
    }
    Some((start, end, bbox))
}

fn find_collections<'c>(
    collections: &'c [Collection],
    catalog: &crate::catalog::Catalog,
    params: &Params,
) -> Result<Vec<&'c Collection>, CmrError> {
    let mut found: Vec<&Collection> = collections
        .iter()
        .filter(|c| any_matches(&params.short_name, c.short_name))
        .filter(|c| any_matches(&params.version, c.version))
        .filter(|c| any_matches(&params.provider, provider(c)))
        .filter(|c| {
            params.concept_id.is_empty() || c.concept_ids.iter().any(|id| params.concept_id.iter().any(|p| p == id))
        })
        // Every local collection stands in for one in Earthdata Cloud, where Harmony works.
        .filter(|_| params.cloud_hosted != Some(false))
        .filter(|c| {
            params.keyword.is_empty()
                || keyword_matches(
                    &params.keyword,
                    &[c.short_name, c.version, c.title, c.concept_id(), c.service.name, provider(c)],
                )
        })
        .filter(|c| {
            // A collection matches an area or a time when any of its granules does.
            (params.areas.is_empty() && params.polygons.is_empty() && params.temporal.is_empty())
                || !matching_granules(c, catalog, params).is_empty()
        })
        .collect();
    sort(&mut found, &params.sort_key, Concept::Collections, |c, key| match key {
        "short_name" => Key::Text(c.short_name.to_owned()),
        "entry_title" => Key::Text(c.title.to_owned()),
        "version" => Key::Text(c.version.to_owned()),
        "provider" => Key::Text(provider(c).to_owned()),
        "start_date" => Key::Time(collection_span(c, catalog).map(|s| s.0)),
        _ => Key::Time(collection_span(c, catalog).map(|s| s.1)),
    })?;
    Ok(found)
}

fn matching_granules(
    collection: &Collection,
    catalog: &crate::catalog::Catalog,
    params: &Params,
) -> Vec<SampleGranule> {
    let mut granules = catalog.granules(collection);
    granules.retain(|g| {
        params.temporal.iter().all(|(start, end)| start.is_none_or(|s| g.end >= s) && end.is_none_or(|e| g.start <= e))
    });
    let names = GranuleQuery { granule_names: params.granule_names.clone(), ..GranuleQuery::default() };
    let mut sets: Vec<Vec<String>> = Vec::new();
    for area in &params.areas {
        let query = GranuleQuery { bbox: Some(*area), ..names.clone() };
        sets.push(catalog.search(collection, &query).into_iter().map(|g| g.concept_id).collect());
    }
    for polygon in &params.polygons {
        let query = GranuleQuery { shape: vec![vec![polygon.clone()]], ..names.clone() };
        sets.push(catalog.search(collection, &query).into_iter().map(|g| g.concept_id).collect());
    }
    let named: Vec<String> = catalog.search(collection, &names).into_iter().map(|g| g.concept_id).collect();
    granules.retain(|g| {
        let in_area = |set: &Vec<String>| set.contains(&g.concept_id);
        let spatial =
            sets.is_empty() || if params.spatial_or { sets.iter().any(in_area) } else { sets.iter().all(in_area) };
        spatial && named.contains(&g.concept_id)
    });
    granules
}

fn find_granules<'c>(
    catalog: &'c crate::catalog::Catalog,
    params: &Params,
) -> Result<Vec<(&'c Collection, SampleGranule)>, CmrError> {
    let names_collection = !params.short_name.is_empty()
        || !params.collection_concept_id.is_empty()
        || !params.provider.is_empty()
        || !params.concept_id.is_empty();
    if !names_collection {
        return Err(CmrError::bad(
            "The CMR does not allow querying across granules in all collections. To help optimize your search, you should limit your query using conditions that identify one or more collections, such as provider, concept_id, short_name, or entry_title.",
        ));
    }
    // A collection concept ID among `concept_id`s selects that collection's granules, as in CMR.
    let (collection_ids, granule_ids): (Vec<String>, Vec<String>) =
        params.concept_id.iter().cloned().partition(|id| id.starts_with('C'));
    let mut found = Vec::new();
    for collection in catalog.collections() {
        let chosen = any_matches(&params.short_name, collection.short_name)
            && any_matches(&params.version, collection.version)
            && any_matches(&params.provider, provider(collection))
            && (params.collection_concept_id.is_empty()
                || collection.concept_ids.iter().any(|id| params.collection_concept_id.iter().any(|p| p == id)))
            && (collection_ids.is_empty()
                || collection.concept_ids.iter().any(|id| collection_ids.contains(&id.to_string())))
            && params.cloud_hosted != Some(false);
        if !chosen {
            continue;
        }
        for granule in matching_granules(collection, catalog, params) {
            if granule_ids.is_empty() || granule_ids.contains(&granule.concept_id) {
                found.push((collection, granule));
            }
        }
    }
    sort(&mut found, &params.sort_key, Concept::Granules, |(_, g), key| match key {
        "end_date" => Key::Time(Some(g.end)),
        "producer_granule_id" | "readable_granule_name" | "granule_ur" => Key::Text(g.name.clone()),
        "short_name" => Key::Text(g.short_name.clone()),
        _ => Key::Time(Some(g.start)),
    })?;
    Ok(found)
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Text(String),
    Time(Option<DateTime<Utc>>),
}

/// Sorts by CMR `sort_key`s (`-` descending, `+` or nothing ascending); granules default to start date.
fn sort<T>(
    items: &mut [T],
    keys: &[String],
    concept: Concept,
    key_of: impl Fn(&T, &str) -> Key,
) -> Result<(), CmrError> {
    let valid: &[&str] = match concept {
        Concept::Collections => &["short_name", "entry_title", "version", "provider", "start_date", "end_date"],
        Concept::Granules => {
            &["start_date", "end_date", "producer_granule_id", "readable_granule_name", "granule_ur", "short_name"]
        }
    };
    let mut parsed = Vec::new();
    for key in keys {
        let (descending, name) = match key.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, key.strip_prefix('+').unwrap_or(key)),
        };
        if !valid.contains(&name) {
            let what = if concept == Concept::Granules { "granules" } else { "collections" };
            return Err(CmrError::bad(format!("The sort key [{name}] is not a valid field for sorting {what}.")));
        }
        parsed.push((descending, name));
    }
    if parsed.is_empty() && concept == Concept::Granules {
        parsed.push((false, "start_date"));
    }
    // Stable: ties keep catalog order, so paging is deterministic.
    items.sort_by(|a, b| {
        parsed
            .iter()
            .map(|(descending, name)| {
                let order = key_of(a, name).cmp(&key_of(b, name));
                if *descending { order.reverse() } else { order }
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(())
}

/// The page of `keys` (in result order) to answer: after the `CMR-Search-After` key, or by `page_num`.
fn page(keys: &[String], params: &Params, search_after: Option<&str>) -> Result<std::ops::Range<usize>, CmrError> {
    let start = match (search_after, params.page_num) {
        (Some(_), Some(_)) => return Err(CmrError::bad("page_num cannot be used with the CMR-Search-After header")),
        (Some(token), None) => {
            let invalid = || {
                CmrError::bad(format!(
                    "CMR-Search-After header value is invalid, must be the JSON array CMR sent: [{token}]"
                ))
            };
            let value: serde_json::Value = serde_json::from_str(token).map_err(|_| invalid())?;
            let last = value.as_array().and_then(|a| a.first()).and_then(|v| v.as_str()).ok_or_else(invalid)?;
            keys.iter().position(|key| key == last).ok_or_else(invalid)? + 1
        }
        (None, Some(page)) => (page - 1).saturating_mul(params.page_size),
        (None, None) => 0,
    };
    let start = start.min(keys.len());
    Ok(start..(start + params.page_size).min(keys.len()))
}

/// The key to search after when results follow this page.
fn more_after(keys: &[String], range: &std::ops::Range<usize>) -> Option<String> {
    (range.end < keys.len() && range.end > range.start).then(|| keys[range.end - 1].clone())
}

fn cmr_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn collection_entry(collection: &Collection, catalog: &crate::catalog::Catalog) -> CollectionEntry {
    let span = collection_span(collection, catalog);
    CollectionEntry {
        id: collection.concept_id().to_owned(),
        short_name: collection.short_name.to_owned(),
        version_id: collection.version.to_owned(),
        title: collection.title.to_owned(),
        dataset_id: Some(collection.title.to_owned()),
        data_center: Some(provider(collection).to_owned()),
        summary: Some(format!("{} (served by hq serve from its sample granules)", collection.title)),
        time_start: span.map(|s| cmr_time(s.0)),
        time_end: span.map(|s| cmr_time(s.1)),
        cloud_hosted: true,
        online_access_flag: Some(true),
        boxes: span.map(|(_, _, [w, s, e, n])| vec![format!("{s} {w} {n} {e}")]).unwrap_or_default(),
        associations: Some(harmonyql_lang::api::cmr::Associations {
            services: vec![collection.service.umm_s.to_owned()],
            variables: collection.variables.iter().map(|(_, id)| id.clone()).collect(),
        }),
        links: Vec::new(),
    }
}

fn collection_umm(collection: &Collection, catalog: &crate::catalog::Catalog) -> UmmItem {
    let span = collection_span(collection, catalog);
    let rectangles: Vec<serde_json::Value> = span
        .map(|(_, _, [w, s, e, n])| {
            vec![json!({"WestBoundingCoordinate": w, "SouthBoundingCoordinate": s, "EastBoundingCoordinate": e, "NorthBoundingCoordinate": n})]
        })
        .unwrap_or_default();
    UmmItem {
        meta: UmmMeta {
            concept_id: collection.concept_id().to_owned(),
            concept_type: "collection".into(),
            provider_id: provider(collection).into(),
            native_id: format!("{}_{}", collection.short_name, collection.version),
            revision_id: 1,
            format: Some("application/vnd.nasa.cmr.umm+json".into()),
        },
        umm: json!({
            "ShortName": collection.short_name,
            "Version": collection.version,
            "EntryTitle": collection.title,
            "TemporalExtents": span.map(|(start, end, _)| vec![json!({"RangeDateTimes": [{"BeginningDateTime": cmr_time(start), "EndingDateTime": cmr_time(end)}]})]).unwrap_or_default(),
            "SpatialExtent": {"HorizontalSpatialDomain": {"Geometry": {"CoordinateSystem": "CARTESIAN", "BoundingRectangles": rectangles}}},
            "DirectDistributionInformation": {"Region": "us-west-2"},
        }),
    }
}

/// Where `hq serve` serves a granule's own file (generated on first use), as CMR links to a DAAC's copy.
fn data_url(root: &str, granule: &SampleGranule) -> String {
    format!("{root}/hq/granules/{}", granule.concept_id)
}

fn granule_entry(collection: &Collection, granule: &SampleGranule, size: Option<u64>, root: &str) -> GranuleEntry {
    let [w, s, e, n] = granule.bbox;
    let line = (!granule.footprint.is_empty())
        .then(|| granule.footprint.iter().map(|[lon, lat]| format!("{lat} {lon}")).collect::<Vec<_>>().join(" "));
    GranuleEntry {
        id: granule.concept_id.clone(),
        title: granule.name.clone(),
        producer_granule_id: Some(granule.name.clone()),
        collection_concept_id: Some(collection.concept_id().to_owned()),
        data_center: Some(provider(collection).to_owned()),
        time_start: Some(cmr_time(granule.start)),
        time_end: Some(cmr_time(granule.end)),
        // Sample files are generated on first use, so a sample's size is known once a job (or `--prepare`) has
        // made it; the user's own files (`--granules`) have theirs. In CMR's megabytes of 1024 × 1024 bytes.
        granule_size: size.map(|bytes| format!("{}", bytes as f64 / (1024.0 * 1024.0))),
        online_access_flag: Some(true),
        boxes: if line.is_none() { vec![format!("{s} {w} {n} {e}")] } else { Vec::new() },
        polygons: Vec::new(),
        lines: line.into_iter().collect(),
        links: vec![harmonyql_lang::api::cmr::FeedLink {
            href: data_url(root, granule),
            rel: Some(harmonyql_lang::api::cmr::DATA_REL.to_owned()),
            mime: Some("application/x-hdf5".to_owned()),
            title: Some(format!("Download {}", granule.name)),
            inherited: None,
        }],
    }
}

fn granule_umm(collection: &Collection, granule: &SampleGranule, size: Option<u64>, root: &str) -> UmmItem {
    let [w, s, e, n] = granule.bbox;
    let geometry = if granule.footprint.is_empty() {
        json!({"BoundingRectangles": [{"WestBoundingCoordinate": w, "SouthBoundingCoordinate": s, "EastBoundingCoordinate": e, "NorthBoundingCoordinate": n}]})
    } else {
        json!({"Lines": [{"Points": granule.footprint.iter().map(|[lon, lat]| json!({"Longitude": lon, "Latitude": lat})).collect::<Vec<_>>()}]})
    };
    UmmItem {
        meta: UmmMeta {
            concept_id: granule.concept_id.clone(),
            concept_type: "granule".into(),
            provider_id: provider(collection).into(),
            native_id: granule.name.clone(),
            revision_id: 1,
            format: Some("application/vnd.nasa.cmr.umm+json".into()),
        },
        umm: json!({
            "GranuleUR": granule.name,
            "CollectionReference": {"ShortName": collection.short_name, "Version": collection.version},
            "TemporalExtent": {"RangeDateTime": {"BeginningDateTime": cmr_time(granule.start), "EndingDateTime": cmr_time(granule.end)}},
            "SpatialExtent": {"HorizontalSpatialDomain": {"Geometry": geometry}},
            "DataGranule": {
                "DayNightFlag": "Unspecified",
                "Identifiers": [{"Identifier": granule.name, "IdentifierType": "ProducerGranuleId"}],
                "ArchiveAndDistributionInformation": size.map(|bytes| vec![json!({"Name": granule.name, "SizeInBytes": bytes})]).unwrap_or_default(),
            },
            "RelatedUrls": [{"URL": data_url(root, granule), "Type": "GET DATA", "Description": format!("Download {}", granule.name)}],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str, concept: Concept) -> Result<Params, CmrError> {
        let pairs: Vec<(String, String)> = url_pairs(query);
        Params::read(&pairs, concept)
    }

    fn url_pairs(query: &str) -> Vec<(String, String)> {
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&format!("/x?{query}").parse().unwrap()).unwrap().0
    }

    fn granule_names(query: &str) -> Vec<String> {
        let catalog = crate::catalog::Catalog::default();
        let params = params(query, Concept::Granules).unwrap();
        find_granules(&catalog, &params).unwrap().into_iter().map(|(_, g)| g.name).collect()
    }

    #[test]
    fn unknown_parameters_are_refused_as_cmr_refuses_them() {
        let error = params("short_name=ATL03&page_nmu=2", Concept::Granules).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.errors, ["Parameter [page_nmu] was not recognized."]);
        assert!(params("cloud_hosted=true", Concept::Collections).is_ok());
        assert!(params("cloud_hosted=true&collection_concept_id=C1-X", Concept::Collections).is_err());
        assert!(params("options[short_name][ignore_case]=true&short_name[]=atl03", Concept::Granules).is_ok());
        assert!(params("bounding_box=40,-105.5,41,-105", Concept::Granules).is_err());
        assert!(params("polygon=0,0,1,0,1,1,0,1", Concept::Granules).unwrap_err().errors[0].contains("not closed"));
        assert!(params("temporal=2020-05-01T00:00:00Z,2020-04-01T00:00:00Z", Concept::Granules).is_err());
        assert!(params("sort_key=size", Concept::Granules).is_ok(), "sort keys are checked when sorting");
    }

    #[test]
    fn granules_are_found_by_box_time_and_polygon() {
        let colorado = "short_name=ATL03&bounding_box=-105.5,40,-105,41";
        assert_eq!(
            granule_names(colorado),
            ["ATL03_20200427193622_04930702_006_02.h5", "ATL03_20200612190211_12190702_006_01.h5"]
        );
        assert_eq!(
            granule_names(&format!("{colorado}&temporal=2020-04-27T00:00:00Z,2020-05-28T00:00:00Z")),
            ["ATL03_20200427193622_04930702_006_02.h5"]
        );
        assert_eq!(
            granule_names(
                "short_name=ATL03&polygon=-105.5,40,-105,40,-105,41,-105.5,41,-105.5,40&sort_key=-start_date"
            ),
            ["ATL03_20200612190211_12190702_006_01.h5", "ATL03_20200427193622_04930702_006_02.h5"]
        );
        let catalog = crate::catalog::Catalog::default();
        let everything = params("provider=NOPE", Concept::Granules).unwrap();
        assert!(find_granules(&catalog, &everything).unwrap().is_empty());
        let unconstrained = params("temporal=2020-01-01T00:00:00Z,", Concept::Granules).unwrap();
        assert!(find_granules(&catalog, &unconstrained).unwrap_err().errors[0].contains("all collections"));
    }

    #[test]
    fn pages_follow_the_search_after_key() {
        let keys: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let two = Params { page_size: 2, ..Params::default() };
        let first = page(&keys, &two, None).unwrap();
        assert_eq!(first, 0..2);
        assert_eq!(more_after(&keys, &first).as_deref(), Some("b"));
        let second = page(&keys, &two, Some(r#"["b"]"#)).unwrap();
        assert_eq!(second, 2..3);
        assert_eq!(more_after(&keys, &second), None);
        assert!(page(&keys, &two, Some("b")).is_err());
        assert!(page(&keys, &two, Some(r#"["zzz"]"#)).is_err());
    }

    #[test]
    fn keywords_match_words_with_wildcards() {
        let fields = ["ATL03", "ATLAS/ICESat-2 L2A Global Geolocated Photon Data"];
        assert!(keyword_matches(&["photon".into(), "icesat*".into()], &fields));
        assert!(keyword_matches(&["atl03".into()], &fields));
        assert!(!keyword_matches(&["sea".into(), "ice".into()], &fields));
    }
}
