//! NASA CMR's search vocabulary: collection and granule searches as [`Request`]s, the CMR root of each
//! environment, and serde types for the `.json` and `.umm_json` answers, shared by the client and `hq serve`.
//!
//! Pure. Parameters are spelled as the CMR Search API documents them (`keyword`, `short_name`,
//! `version`, `provider`, `cloud_hosted`, `bounding_box=W,S,E,N`, `polygon=lon,lat,…` counter-clockwise
//! and closed, `temporal=start,end`, `page_size`, `sort_key`). Paging is by the `CMR-Search-After`
//! header, never `page_num`, which CMR deprecates for deep paging.

use serde::{Deserialize, Deserializer, Serialize};

use super::environment::Environment;
use super::request::{Body, Method, Request};

/// The header carrying the number of matches.
pub const HITS_HEADER: &str = "CMR-Hits";
/// The header carrying the paging token, sent back to get the next page.
pub const SEARCH_AFTER_HEADER: &str = "CMR-Search-After";
/// CMR's largest `page_size`.
pub const MAX_PAGE_SIZE: u64 = 2000;
/// CMR's `page_size` when none is given.
pub const DEFAULT_PAGE_SIZE: u64 = 10;

/// The CMR an environment's Harmony searches: NASA's for prod/UAT/SIT, the server itself when local.
///
/// ```
/// use harmonyql_lang::api::{cmr::cmr_root, environment::Environment};
/// assert_eq!(cmr_root(&Environment::Prod), "https://cmr.earthdata.nasa.gov");
/// assert_eq!(cmr_root(&Environment::Local { port: 3000 }), "http://localhost:3000");
/// ```
pub fn cmr_root(env: &Environment) -> String {
    match env {
        Environment::Prod => "https://cmr.earthdata.nasa.gov".to_owned(),
        Environment::Uat => "https://cmr.uat.earthdata.nasa.gov".to_owned(),
        Environment::Sit => "https://cmr.sit.earthdata.nasa.gov".to_owned(),
        // `hq serve` (or any Harmony on this machine) answers CMR's search paths itself.
        Environment::Local { .. } => env.root_url(),
        Environment::Url(url) if env.is_local() => url.clone(),
        // A Harmony at another URL is assumed to search NASA's production CMR, as harmony-py does.
        Environment::Url(_) => "https://cmr.earthdata.nasa.gov".to_owned(),
    }
}

/// What is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concept {
    /// Collections (`/search/collections`).
    Collections,
    /// Granules (`/search/granules`).
    Granules,
}

impl Concept {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Concept::Collections => "collections",
            Concept::Granules => "granules",
        }
    }
}

/// The answer's format, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `.json`: the Atom-like `feed.entry` document.
    #[default]
    Json,
    /// `.umm_json`: `hits`, `took`, `items[].meta`/`umm`.
    UmmJson,
}

impl Format {
    /// The extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::UmmJson => "umm_json",
        }
    }
}

/// A spatial constraint, in CMR's coordinate order (longitude first).
#[derive(Debug, Clone, PartialEq)]
pub enum SpatialFilter {
    /// `bounding_box=W,S,E,N`; the numbers keep the text they were typed with.
    BoundingBox {
        /// West.
        west: String,
        /// South.
        south: String,
        /// East.
        east: String,
        /// North.
        north: String,
    },
    /// `point=lon,lat`.
    Point([f64; 2]),
    /// `line=lon,lat,lon,lat,…`.
    Line(Vec<[f64; 2]>),
    /// `polygon=…`: an outer ring; written closed and counter-clockwise whatever order it was given in.
    Polygon(Vec<[f64; 2]>),
}

impl SpatialFilter {
    /// The parameter name and value.
    pub fn param(&self) -> (&'static str, String) {
        match self {
            SpatialFilter::BoundingBox { west, south, east, north } => {
                ("bounding_box", format!("{west},{south},{east},{north}"))
            }
            SpatialFilter::Point(point) => ("point", coordinates(std::slice::from_ref(point))),
            SpatialFilter::Line(points) => ("line", coordinates(points)),
            SpatialFilter::Polygon(ring) => ("polygon", coordinates(&counter_clockwise_ring(ring))),
        }
    }
}

fn coordinates(points: &[[f64; 2]]) -> String {
    points.iter().map(|[lon, lat]| format!("{lon},{lat}")).collect::<Vec<_>>().join(",")
}

/// The ring closed (last point = first) and counter-clockwise, as CMR requires of `polygon`.
pub fn counter_clockwise_ring(ring: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut points = ring.to_vec();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    // Twice the signed area (shoelace): negative means clockwise.
    let area: f64 = (0..points.len())
        .map(|i| {
            let [x1, y1] = points[i];
            let [x2, y2] = points[(i + 1) % points.len()];
            x1 * y2 - x2 * y1
        })
        .sum();
    if area < 0.0 && points.len() > 1 {
        // Reversed, but still starting where the user started.
        points[1..].reverse();
    }
    if let Some(first) = points.first().copied() {
        points.push(first);
    }
    points
}

/// A collection or granule search, every field optional; `to_request` writes only what is set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Search {
    /// Free text (`keyword`; `*` and `?` wildcards allowed).
    pub keyword: Option<String>,
    /// Collection short name (`short_name`).
    pub short_name: Option<String>,
    /// Collection concept ID: `concept_id` for collections, `collection_concept_id` for granules.
    pub collection_concept_id: Option<String>,
    /// Collection version (`version`).
    pub version: Option<String>,
    /// Provider (`provider`).
    pub provider: Option<String>,
    /// Only (or never) collections in NASA's cloud (`cloud_hosted`).
    pub cloud_hosted: Option<bool>,
    /// Spatial constraints; several are OR-ed (`options[spatial][or]=true`).
    pub spatial: Vec<SpatialFilter>,
    /// `temporal=start,end`, each end an ISO 8601 UTC time or empty for open.
    pub temporal: Option<(Option<String>, Option<String>)>,
    /// Results per page (`page_size`, at most 2000).
    pub page_size: Option<u64>,
    /// Sort keys (`sort_key`, `-` for descending).
    pub sort_key: Vec<String>,
}

impl Search {
    /// The request for one page of this search.
    ///
    /// ```
    /// use harmonyql_lang::api::cmr::{Concept, Format, Search, SpatialFilter};
    /// let search = Search {
    ///     short_name: Some("ATL03".into()),
    ///     spatial: vec![SpatialFilter::BoundingBox { west: "-105.5".into(), south: "40".into(), east: "-105".into(), north: "41".into() }],
    ///     page_size: Some(10),
    ///     ..Search::default()
    /// };
    /// let request = search.to_request("https://cmr.earthdata.nasa.gov", Concept::Granules, Format::Json);
    /// assert_eq!(
    ///     request.to_url().unwrap(),
    ///     "https://cmr.earthdata.nasa.gov/search/granules.json?short_name=ATL03&bounding_box=-105.5%2C40%2C-105%2C41&page_size=10"
    /// );
    /// ```
    pub fn to_request(&self, root: &str, concept: Concept, format: Format) -> Request {
        let path = format!("/search/{}.{}", concept.as_str(), format.extension());
        let mut request = Request::new(Method::Get, root, path, Body::Query);
        if let Some(keyword) = &self.keyword {
            request = request.text("keyword", keyword.clone());
        }
        if let Some(concept_id) = &self.collection_concept_id {
            let name = match concept {
                Concept::Collections => "concept_id",
                Concept::Granules => "collection_concept_id",
            };
            request = request.text(name, concept_id.clone());
        }
        if let Some(short_name) = &self.short_name {
            request = request.text("short_name", short_name.clone());
        }
        if let Some(version) = &self.version {
            request = request.text("version", version.clone());
        }
        if let Some(provider) = &self.provider {
            request = request.text("provider", provider.clone());
        }
        if let Some(cloud_hosted) = self.cloud_hosted {
            request = request.text("cloud_hosted", if cloud_hosted { "true" } else { "false" });
        }
        match self.spatial.as_slice() {
            [] => {}
            [one] => {
                let (name, value) = one.param();
                request = request.text(name, value);
            }
            several => {
                for filter in several {
                    let (name, value) = filter.param();
                    request = request.text(&format!("{name}[]"), value);
                }
                request = request.text("options[spatial][or]", "true");
            }
        }
        if let Some((start, stop)) = &self.temporal {
            let value = format!("{},{}", start.as_deref().unwrap_or(""), stop.as_deref().unwrap_or(""));
            request = request.text("temporal", value);
        }
        if let Some(page_size) = self.page_size {
            request = request.integer("page_size", page_size.min(MAX_PAGE_SIZE) as i64);
        }
        for key in &self.sort_key {
            request = request.text("sort_key", key.clone());
        }
        request
    }
}

/// CMR's error body: `{"errors": ["…"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The messages.
    pub errors: Vec<String>,
}

/// The `.json` answer: `{"feed": {"entry": […]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Feed<T> {
    /// The feed.
    pub feed: FeedBody<T>,
}

/// The feed's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct FeedBody<T> {
    /// `en-US`.
    #[serde(default)]
    pub updated: Option<String>,
    /// The request URL.
    #[serde(default)]
    pub id: Option<String>,
    /// `ECHO dataset metadata` / `ECHO granule metadata`.
    #[serde(default)]
    pub title: Option<String>,
    /// The matches on this page.
    #[serde(default)]
    pub entry: Vec<T>,
}

/// A link of a `.json` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedLink {
    /// The URL.
    pub href: String,
    /// Relation, e.g. `http://esipfed.org/ns/fedsearch/1.1/data#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// MIME type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether it is inherited from the collection (granules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited: Option<bool>,
}

/// The `rel` of links to the data itself.
pub const DATA_REL: &str = "http://esipfed.org/ns/fedsearch/1.1/data#";

impl FeedLink {
    /// Whether this link points at data to download (not metadata, documentation or the collection's links).
    pub fn is_data(&self) -> bool {
        self.rel.as_deref() == Some(DATA_REL) && self.inherited != Some(true)
    }
}

/// One collection of `collections.json` (the fields HarmonyQL shows; CMR sends more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionEntry {
    /// Concept ID (`C…-PROV`).
    pub id: String,
    /// Short name.
    pub short_name: String,
    /// Version.
    #[serde(default)]
    pub version_id: String,
    /// Entry title.
    #[serde(default)]
    pub title: String,
    /// Entry title again (`dataset_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    /// Provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_center: Option<String>,
    /// Abstract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Start of the collection's time coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_start: Option<String>,
    /// End of its time coverage; absent while it is ongoing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_end: Option<String>,
    /// Whether it is in NASA's cloud.
    #[serde(default)]
    pub cloud_hosted: bool,
    /// Whether its granules can be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_access_flag: Option<bool>,
    /// Bounding boxes as `"S W N E"` strings (CMR's order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<String>,
    /// Concept IDs associated with it (`services`, `variables`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associations: Option<Associations>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<FeedLink>,
}

/// Concept IDs associated with a collection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Associations {
    /// UMM-S services (Harmony's chains among them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// UMM-Var variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<String>,
}

/// One granule of `granules.json` (the fields HarmonyQL shows and maps; CMR sends more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GranuleEntry {
    /// Concept ID (`G…-PROV`).
    pub id: String,
    /// Granule UR, usually the file name.
    pub title: String,
    /// Producer granule ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer_granule_id: Option<String>,
    /// The collection's concept ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_concept_id: Option<String>,
    /// Provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_center: Option<String>,
    /// Start of its time coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_start: Option<String>,
    /// End of its time coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_end: Option<String>,
    /// Size in megabytes (CMR writes it as a string; numbers are read too).
    #[serde(default, deserialize_with = "size_megabytes", skip_serializing_if = "Option::is_none")]
    pub granule_size: Option<String>,
    /// Whether it can be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_access_flag: Option<bool>,
    /// Bounding boxes as `"S W N E"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<String>,
    /// Polygons: rings as `"lat lon lat lon …"` strings (CMR's order: latitude first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygons: Vec<Vec<String>>,
    /// Lines as `"lat lon lat lon …"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// Links to data, metadata and documentation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<FeedLink>,
}

fn size_megabytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(deserializer)? {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

impl GranuleEntry {
    /// The size in bytes, from `granule_size` in megabytes (CMR's MB are 1024 × 1024 bytes).
    pub fn size_bytes(&self) -> Option<u64> {
        let megabytes: f64 = self.granule_size.as_deref()?.trim().parse().ok()?;
        (megabytes.is_finite() && megabytes >= 0.0).then(|| (megabytes * 1024.0 * 1024.0).round() as u64)
    }

    /// The URLs of the data files.
    pub fn data_links(&self) -> impl Iterator<Item = &str> {
        self.links.iter().filter(|link| link.is_data()).map(|link| link.href.as_str())
    }

    /// The footprint as `[lon, lat]` rings and lines: polygons' rings, then lines, then boxes as rings.
    pub fn footprints(&self) -> Vec<Vec<[f64; 2]>> {
        let lat_lon_pairs = |text: &str| -> Option<Vec<[f64; 2]>> {
            let numbers: Vec<f64> = text.split_whitespace().map(|n| n.parse().ok()).collect::<Option<_>>()?;
            (numbers.len().is_multiple_of(2) && !numbers.is_empty())
                .then(|| numbers.chunks(2).map(|pair| [pair[1], pair[0]]).collect())
        };
        let mut shapes: Vec<Vec<[f64; 2]>> = Vec::new();
        shapes.extend(self.polygons.iter().filter_map(|rings| rings.first()).filter_map(|ring| lat_lon_pairs(ring)));
        shapes.extend(self.lines.iter().filter_map(|line| lat_lon_pairs(line)));
        for text in &self.boxes {
            if let Some(&[[west, south], [east, north]]) = lat_lon_pairs(text).as_deref() {
                shapes.push(vec![[west, south], [east, south], [east, north], [west, north], [west, south]]);
            }
        }
        shapes
    }
}

/// The `.umm_json` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UmmResults {
    /// Matches in all.
    pub hits: u64,
    /// Milliseconds the search took.
    pub took: u64,
    /// The matches on this page.
    pub items: Vec<UmmItem>,
}

/// One item of a `.umm_json` answer: CMR's metadata about the record, and the UMM record itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UmmItem {
    /// `concept-id`, `provider-id`, `revision-id`, …
    pub meta: UmmMeta,
    /// The UMM-C or UMM-G record (kept as JSON: HarmonyQL shows `.json` answers).
    pub umm: serde_json::Value,
}

/// The `meta` of a `.umm_json` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UmmMeta {
    /// Concept ID.
    #[serde(rename = "concept-id")]
    pub concept_id: String,
    /// `collection` or `granule`.
    #[serde(rename = "concept-type")]
    pub concept_type: String,
    /// Provider.
    #[serde(rename = "provider-id")]
    pub provider_id: String,
    /// Native ID.
    #[serde(rename = "native-id")]
    pub native_id: String,
    /// Revision.
    #[serde(rename = "revision-id")]
    pub revision_id: u64,
    /// Format of the native record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str = "https://cmr.earthdata.nasa.gov";

    fn url(search: &Search, concept: Concept, format: Format) -> String {
        search.to_request(PROD, concept, format).to_url().unwrap()
    }

    #[test]
    fn roots_follow_the_environment() {
        assert_eq!(cmr_root(&Environment::Uat), "https://cmr.uat.earthdata.nasa.gov");
        assert_eq!(cmr_root(&Environment::Sit), "https://cmr.sit.earthdata.nasa.gov");
        assert_eq!(cmr_root(&Environment::Local { port: 4000 }), "http://localhost:4000");
        assert_eq!(cmr_root(&Environment::Url("http://127.0.0.1:5000".into())), "http://127.0.0.1:5000");
        assert_eq!(cmr_root(&Environment::Url("https://harmony.example.org".into())), PROD);
    }

    #[test]
    fn collection_searches_are_written_as_cmr_documents_them() {
        let keyword = Search { keyword: Some("sea ice".into()), page_size: Some(10), ..Search::default() };
        assert_eq!(
            url(&keyword, Concept::Collections, Format::Json),
            "https://cmr.earthdata.nasa.gov/search/collections.json?keyword=sea+ice&page_size=10"
        );
        let exact = Search {
            short_name: Some("ATL03".into()),
            version: Some("006".into()),
            provider: Some("NSIDC_CPRD".into()),
            cloud_hosted: Some(true),
            temporal: Some((Some("2020-04-27T00:00:00Z".into()), None)),
            ..Search::default()
        };
        assert_eq!(
            url(&exact, Concept::Collections, Format::UmmJson),
            "https://cmr.earthdata.nasa.gov/search/collections.umm_json?short_name=ATL03&version=006&provider=NSIDC_CPRD&cloud_hosted=true&temporal=2020-04-27T00%3A00%3A00Z%2C"
        );
        let by_id = Search { collection_concept_id: Some("C2596864127-NSIDC_CPRD".into()), ..Search::default() };
        assert_eq!(
            url(&by_id, Concept::Collections, Format::Json),
            "https://cmr.earthdata.nasa.gov/search/collections.json?concept_id=C2596864127-NSIDC_CPRD"
        );
        assert_eq!(
            url(&by_id, Concept::Granules, Format::Json),
            "https://cmr.earthdata.nasa.gov/search/granules.json?collection_concept_id=C2596864127-NSIDC_CPRD"
        );
    }

    #[test]
    fn granule_searches_take_every_spatial_form() {
        let search = Search {
            short_name: Some("ATL03".into()),
            temporal: Some((Some("2020-04-27T00:00:00Z".into()), Some("2020-05-28T00:00:00Z".into()))),
            spatial: vec![SpatialFilter::BoundingBox {
                west: "-105.5".into(),
                south: "40".into(),
                east: "-105".into(),
                north: "41".into(),
            }],
            page_size: Some(10),
            sort_key: vec!["start_date".into()],
            ..Search::default()
        };
        assert_eq!(
            url(&search, Concept::Granules, Format::Json),
            "https://cmr.earthdata.nasa.gov/search/granules.json?short_name=ATL03&bounding_box=-105.5%2C40%2C-105%2C41&temporal=2020-04-27T00%3A00%3A00Z%2C2020-05-28T00%3A00%3A00Z&page_size=10&sort_key=start_date"
        );
        // A clockwise, open ring is closed and turned counter-clockwise.
        let clockwise = vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]];
        assert_eq!(SpatialFilter::Polygon(clockwise).param(), ("polygon", "0,0,1,0,1,1,0,1,0,0".to_owned()));
        let ccw = vec![[-10.0, -5.0], [10.0, -5.0], [10.0, 5.0], [-10.0, 5.0], [-10.0, -5.0]];
        assert_eq!(SpatialFilter::Polygon(ccw).param(), ("polygon", "-10,-5,10,-5,10,5,-10,5,-10,-5".to_owned()));
        assert_eq!(SpatialFilter::Point([-105.25, 40.5]).param(), ("point", "-105.25,40.5".to_owned()));
        assert_eq!(SpatialFilter::Line(vec![[1.0, 2.0], [3.0, 4.0]]).param(), ("line", "1,2,3,4".to_owned()));
        let several = Search {
            spatial: vec![SpatialFilter::Point([1.0, 2.0]), SpatialFilter::Point([3.0, 4.0])],
            ..Search::default()
        };
        assert_eq!(
            url(&several, Concept::Granules, Format::Json),
            "https://cmr.earthdata.nasa.gov/search/granules.json?point%5B%5D=1%2C2&point%5B%5D=3%2C4&options%5Bspatial%5D%5Bor%5D=true"
        );
        let huge = Search { page_size: Some(50_000), ..Search::default() };
        assert!(url(&huge, Concept::Granules, Format::Json).ends_with("page_size=2000"));
    }

    #[test]
    fn granule_entries_read_as_cmr_writes_them() {
        let body = r#"{"feed":{"updated":"2024-01-01T00:00:00.000Z","id":"x","title":"ECHO granule metadata","entry":[{
            "id":"G2670184404-NSIDC_CPRD","title":"ATL03_20200427193622_04930702_006_02.h5",
            "producer_granule_id":"ATL03_20200427193622_04930702_006_02.h5","time_start":"2020-04-27T19:36:22.000Z",
            "time_end":"2020-04-27T19:44:52.000Z","granule_size":"4096.5","polygons":[["39.85 -105.18 41.15 -105.34 41.15 -105.30 39.85 -105.14 39.85 -105.18"]],
            "links":[{"rel":"http://esipfed.org/ns/fedsearch/1.1/data#","type":"application/x-hdf5","href":"https://data/x.h5"},
                     {"rel":"http://esipfed.org/ns/fedsearch/1.1/data#","href":"https://coll","inherited":true},
                     {"rel":"http://esipfed.org/ns/fedsearch/1.1/metadata#","href":"https://meta"}],
            "some_field_we_ignore": 1}]}}"#;
        let feed: Feed<GranuleEntry> = serde_json::from_str(body).unwrap();
        let granule = &feed.feed.entry[0];
        assert_eq!(granule.size_bytes(), Some(4_295_491_584));
        assert_eq!(granule.data_links().collect::<Vec<_>>(), ["https://data/x.h5"]);
        assert_eq!(granule.footprints()[0][0], [-105.18, 39.85]);
        let numeric: GranuleEntry = serde_json::from_str(r#"{"id":"G1-P","title":"t","granule_size":2}"#).unwrap();
        assert_eq!(numeric.size_bytes(), Some(2 * 1024 * 1024));
        let boxed: GranuleEntry =
            serde_json::from_str(r#"{"id":"G1-P","title":"t","boxes":["40 -106 41 -105"]}"#).unwrap();
        assert_eq!(
            boxed.footprints()[0],
            vec![[-106.0, 40.0], [-105.0, 40.0], [-105.0, 41.0], [-106.0, 41.0], [-106.0, 40.0]]
        );
    }
}
