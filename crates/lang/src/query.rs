//! The typed, checked form of statements. Its types carry the invariants (a bounding box inside the
//! globe, a time range that does not end before it starts), so `compile` never sees unchecked input.
//!
//! Numbers and date-times remember how harmony-py would print them (Python's `str()` of the value,
//! `datetime.isoformat()`), which is what makes our URLs byte-identical to harmony-py's.

use crate::api::environment::Environment;
use crate::span::Span;

/// A checked statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStatement {
    /// Where it is in the cell.
    pub span: Span,
    /// The name its value is bound to.
    pub binding: Option<String>,
    /// What to do.
    pub query: Query,
}

/// What a statement asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Show the environment (`None`) or switch to another.
    Env(Option<Environment>),
    /// Change a session setting.
    Set(Setting),
    /// Log in to Earthdata Login.
    Login(Login),
    /// Forget credentials.
    Logout,
    /// A collection's capabilities.
    Capabilities(CapabilitiesQuery),
    /// A transformation request.
    Subset(Box<SubsetQuery>),
    /// A CMR search for collections or granules (`collections …`, `granules …`).
    Search(Box<SearchQuery>),
    /// The jobs listing.
    Jobs(JobsQuery),
    /// Add or remove job labels.
    Labels(LabelsQuery),
    /// A job's steps.
    Steps(StepsQuery),
    /// An action on one job.
    Job(JobAction, JobRef),
    /// Wait for several jobs at once (`wait (a, b)`): one bulk status poll for all of them.
    WaitJobs(Vec<JobRef>),
    /// A job's result links.
    Results(ResultsQuery),
    /// Download a job's results.
    Download(DownloadQuery),
    /// Open a file.
    Open(OpenQuery),
    /// Plot a file.
    Plot(PlotQuery),
    /// Write a file's data as CSV or GeoJSON.
    Export(ExportQuery),
    /// Help, on a topic or in general.
    Help(Option<String>),
    /// Print text.
    Print(String),
    /// Print text to standard error.
    Warn(String),
    /// Clear the cell's output.
    Clear,
    /// Show a bound value.
    Show(String),
    /// Show a request as a URL without sending it.
    Url(Box<Query>),
    /// Show a request as a curl command without sending it.
    Curl(Box<Query>),
}

/// A session setting.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// The label added to every job; `None` adds none.
    DefaultLabel(Option<String>),
}

/// How to log in.
#[derive(Debug, Clone, PartialEq)]
pub enum Login {
    /// Ask for a user name and a password.
    Prompt,
    /// Ask for the password of this user.
    User(String),
    /// Ask for an Earthdata Login bearer token.
    Token,
    /// Use `~/.netrc`.
    Netrc,
    /// Use `EDL_USERNAME` and `EDL_PASSWORD`, or `EDL_TOKEN`.
    Env,
}

/// An action on one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// Follow it to the end.
    Wait,
    /// Its status.
    Status,
    /// Pause it.
    Pause,
    /// Resume it.
    Resume,
    /// Cancel it.
    Cancel,
    /// Skip its preview.
    SkipPreview,
    /// Its STAC catalog.
    Stac,
}

/// Which job a statement means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRef {
    /// A job ID typed in the cell.
    Id(String),
    /// The job bound to a name.
    Name(String),
    /// The session's most recent job.
    Last,
}

/// A collection named by concept ID or short name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection(pub String);

impl Collection {
    /// Whether this is a CMR concept ID (`C1234-PROV`) rather than a short name.
    pub fn is_concept_id(&self) -> bool {
        is_concept_id(&self.0, 'C')
    }
}

/// Whether `text` is a CMR concept ID with this prefix letter (`C`, `G`, `S`, `V`).
pub fn is_concept_id(text: &str, prefix: char) -> bool {
    let Some(rest) = text.strip_prefix(prefix) else { return false };
    let Some((digits, provider)) = rest.split_once('-') else { return false };
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !provider.is_empty()
        && provider.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `capabilities COLLECTION [version V]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilitiesQuery {
    /// The collection.
    pub collection: Collection,
    /// The capabilities document version (`1`, `2`, `3-alpha`).
    pub version: Option<String>,
}

/// A number as harmony-py prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// Its value.
    pub value: f64,
    /// Python's `str()` of the value: `40` for an integer literal, `41.0` for `41.` or `41.0`.
    pub text: String,
}

impl Number {
    /// Reads a number literal as Python would: integer literals stay integers, others are floats.
    ///
    /// ```
    /// use harmonyql_lang::query::Number;
    /// assert_eq!(Number::from_literal("40").unwrap().text, "40");
    /// assert_eq!(Number::from_literal("41.").unwrap().text, "41.0");
    /// assert_eq!(Number::from_literal("-1e-5").unwrap().text, "-1e-05");
    /// ```
    pub fn from_literal(literal: &str) -> Option<Number> {
        let unsigned = literal.trim_start_matches(['+', '-']);
        let negative = literal.starts_with('-');
        if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
            let digits = unsigned.trim_start_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            let text = if negative && digits != "0" { format!("-{digits}") } else { digits.to_owned() };
            let value: f64 = text.parse().ok()?;
            return Some(Number { value, text });
        }
        let value: f64 = literal.parse().ok()?;
        if !value.is_finite() {
            return None;
        }
        Some(Number { value, text: python_float_repr(value) })
    }

    /// Whether the literal was an integer (`40`, not `40.0`).
    pub fn is_integer_literal(&self) -> bool {
        !self.text.contains(['.', 'e', 'n', 'i'])
    }
}

/// Python's `repr()` of a float: the shortest text that reads back to the same value, in fixed
/// notation when the decimal exponent is in `-4..16`, otherwise as `1e-05` / `1.5e+16`.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let body = if exponent >= 0 {
            let point = exponent as usize + 1;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exponent - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let fraction = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{}{fraction}e{exponent_sign}{:02}", &digits[..1], exponent.abs())
    }
}

/// A bounding box, west/south/east/north, inside the globe, south ≤ north (west > east crosses the antimeridian).
#[derive(Debug, Clone, PartialEq)]
pub struct BBox {
    /// Western longitude.
    pub west: Number,
    /// Southern latitude.
    pub south: Number,
    /// Eastern longitude.
    pub east: Number,
    /// Northern latitude.
    pub north: Number,
}

/// A WKT geometry; its kind decides the OGC EDR route.
#[derive(Debug, Clone, PartialEq)]
pub struct Wkt {
    /// The geometry type.
    pub kind: WktKind,
    /// The WKT text sent to Harmony.
    pub text: String,
    /// Its coordinates, read once by the checker (maps and the local subsetter use these).
    pub geometry: crate::geometry::Geometry,
}

/// Geometry types Harmony's EDR API takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WktKind {
    /// POINT
    Point,
    /// MULTIPOINT
    MultiPoint,
    /// LINESTRING
    LineString,
    /// MULTILINESTRING
    MultiLineString,
    /// POLYGON
    Polygon,
    /// MULTIPOLYGON
    MultiPolygon,
}

impl WktKind {
    /// The WKT keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            WktKind::Point => "POINT",
            WktKind::MultiPoint => "MULTIPOINT",
            WktKind::LineString => "LINESTRING",
            WktKind::MultiLineString => "MULTILINESTRING",
            WktKind::Polygon => "POLYGON",
            WktKind::MultiPolygon => "MULTIPOLYGON",
        }
    }

    /// The EDR route: `position`, `trajectory` or `area`.
    pub fn edr_route(self) -> &'static str {
        match self {
            WktKind::Point | WktKind::MultiPoint => "position",
            WktKind::LineString | WktKind::MultiLineString => "trajectory",
            WktKind::Polygon | WktKind::MultiPolygon => "area",
        }
    }
}

/// Where to subset.
#[derive(Debug, Clone, PartialEq)]
pub enum Spatial {
    /// A bounding box (OGC Coverages).
    BBox(BBox),
    /// A WKT geometry (OGC EDR).
    Wkt(Wkt),
}

/// A date-time as typed: calendar fields, optional fraction and zone, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct DateTime {
    /// The date and time of day.
    pub local: chrono::NaiveDateTime,
    /// The zone's offset from UTC in seconds, if one was given (`Z` is 0).
    pub offset_seconds: Option<i32>,
}

impl DateTime {
    /// Python's `datetime.isoformat()`: `2020-04-27T00:00:00`, with `.ffffff` when there are
    /// microseconds and `+HH:MM` when there is a zone.
    pub fn isoformat(&self) -> String {
        let mut text = self.local.format("%Y-%m-%dT%H:%M:%S").to_string();
        let micros = self.local.and_utc().timestamp_subsec_micros();
        if micros != 0 {
            text.push_str(&format!(".{micros:06}"));
        }
        if let Some(offset) = self.offset_seconds {
            let sign = if offset < 0 { '-' } else { '+' };
            let offset = offset.abs();
            text.push_str(&format!("{sign}{:02}:{:02}", offset / 3600, offset % 3600 / 60));
            if offset % 60 != 0 {
                text.push_str(&format!(":{:02}", offset % 60));
            }
        }
        text
    }

    /// harmony-py's EDR form: `strftime('%Y-%m-%dT%H:%M:%SZ')`, which appends `Z` without converting.
    pub fn edr_format(&self) -> String {
        self.local.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// The instant, reading a date-time without zone as UTC (as Harmony does in production).
    pub fn to_utc(&self) -> chrono::DateTime<chrono::Utc> {
        let utc = self.local.and_utc();
        utc - chrono::Duration::seconds(i64::from(self.offset_seconds.unwrap_or(0)))
    }
}

/// A time range with at least one end; when both are given, start is before stop.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRange {
    /// Start, inclusive.
    pub start: Option<DateTime>,
    /// Stop.
    pub stop: Option<DateTime>,
}

/// A dimension subset `name(min:max)`; when both ends are given, min ≤ max.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionSubset {
    /// Dimension name.
    pub name: String,
    /// Lower bound.
    pub min: Option<Number>,
    /// Upper bound.
    pub max: Option<Number>,
}

/// A shape file to upload, with its MIME type from the extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeFile {
    /// The path as typed.
    pub path: String,
    /// `application/geo+json`, `application/vnd.google-earth.kml+xml` or `application/shapefile+zip`.
    pub mime: String,
}

/// A transformation request, every field checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubsetQuery {
    /// The collection.
    pub collection: Option<Collection>,
    /// Bounding box or WKT.
    pub spatial: Option<Spatial>,
    /// Time range.
    pub temporal: Option<TimeRange>,
    /// Other dimensions.
    pub dimensions: Vec<DimensionSubset>,
    /// A shape file.
    pub shape: Option<ShapeFile>,
    /// Variables; empty means `all`.
    pub variables: Vec<String>,
    /// Granule concept IDs.
    pub granule_ids: Vec<String>,
    /// Granule names (wildcards allowed).
    pub granule_names: Vec<String>,
    /// `maxResults`.
    pub max_results: Option<u64>,
    /// Output CRS.
    pub crs: Option<String>,
    /// Output MIME type.
    pub format: Option<String>,
    /// `scaleExtent` numbers.
    pub scale_extent: Option<Vec<Number>>,
    /// `scaleSize` numbers.
    pub scale_size: Option<Vec<Number>>,
    /// Output width.
    pub width: Option<u64>,
    /// Output height.
    pub height: Option<u64>,
    /// Interpolation method.
    pub interpolation: Option<String>,
    /// UMM grid name.
    pub grid: Option<String>,
    /// `time` or `area`.
    pub average: Option<String>,
    /// Concatenate outputs.
    pub concatenate: Option<bool>,
    /// Skip preview.
    pub skip_preview: Option<bool>,
    /// Ignore errors.
    pub ignore_errors: Option<bool>,
    /// Pixel subset.
    pub pixel_subset: Option<bool>,
    /// S3 destination.
    pub destination_url: Option<String>,
    /// User labels.
    pub labels: Vec<String>,
    /// Service ID.
    pub service_id: Option<String>,
    /// Dimensions to extend.
    pub extend: Vec<String>,
    /// The name of a `granules` result whose listed granules this request orders exactly; the session
    /// replaces it with their collection and granule IDs before compiling.
    pub granules_from: Option<String>,
}

/// `collections …` or `granules …`: a CMR search, every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Collections or granules.
    pub concept: crate::api::cmr::Concept,
    /// Free text (`collections "sea ice"`).
    pub keyword: Option<String>,
    /// The collection, by short name or concept ID (always set for granules).
    pub collection: Option<Collection>,
    /// CMR provider.
    pub provider: Option<String>,
    /// Collection version.
    pub version: Option<String>,
    /// Only collections in (true) or outside (false) NASA's cloud.
    pub cloud_hosted: Option<bool>,
    /// Bounding box or WKT.
    pub spatial: Option<Spatial>,
    /// A shape file whose polygons become CMR `polygon`s.
    pub shape: Option<ShapeFile>,
    /// The shape file's polygons (outer rings, `[lon, lat]`), read by the evaluator: `lang` does no I/O.
    pub shape_rings: Option<Vec<Vec<[f64; 2]>>>,
    /// Time range.
    pub temporal: Option<TimeRange>,
    /// How many results to list (CMR-Hits still counts them all).
    pub limit: Option<u64>,
}

/// How many results `collections` and `granules` list unless `limit` says otherwise.
pub const DEFAULT_SEARCH_LIMIT: u64 = 10;
/// The most results `collections` and `granules` list: five pages of CMR's largest size.
///
/// It also bounds what `subset NAME` orders in one job: the granule concept IDs travel as one comma-joined
/// multipart field `granuleId` (as harmony-py sends them), which Harmony's multer parser accepts up to its
/// default field size of 1 MiB (its limits set `fields`, `fileSize`, `files` and `parts`, not `fieldSize`);
/// 10,000 IDs of CMR's longest form stay far below, so no ordered result needs splitting into several jobs.
pub const MAX_SEARCH_LIMIT: u64 = 10_000;

/// `jobs …`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobsQuery {
    /// Page from 1.
    pub page: Option<u64>,
    /// Jobs per page.
    pub limit: Option<u64>,
    /// Only jobs with any of these labels.
    pub labels: Vec<String>,
}

/// `labels add(…) to …` / `labels remove(…) from …`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelsQuery {
    /// Add (true) or remove (false).
    pub add: bool,
    /// The labels.
    pub labels: Vec<String>,
    /// The jobs.
    pub jobs: Vec<JobRef>,
}

/// `steps …`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepsQuery {
    /// The job.
    pub job: JobRef,
    /// Which steps, work items and pages.
    pub filter: crate::api::endpoint::StepsFilter,
}

/// How result links are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkType {
    /// `https` (the default).
    #[default]
    Https,
    /// `http`.
    Http,
    /// `s3`, for direct access in us-west-2.
    S3,
}

impl LinkType {
    /// The `linktype` value.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Https => "https",
            LinkType::Http => "http",
            LinkType::S3 => "s3",
        }
    }
}

/// `results …`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsQuery {
    /// The job.
    pub job: JobRef,
    /// Link type.
    pub link_type: LinkType,
    /// Only this page.
    pub page: Option<u64>,
    /// Links per page (1..=2000).
    pub limit: Option<u64>,
}

/// `download …`.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadQuery {
    /// The job, or the jobs of a batch (`download (a, b)`), in the order given.
    pub jobs: Vec<JobRef>,
    /// `https` (through Harmony) or `s3` (directly, with `/cloud-access` credentials).
    pub link_type: LinkType,
    /// Target directory; the current one if absent.
    pub directory: Option<String>,
    /// Download even if the file exists.
    pub overwrite: bool,
}

/// A file to open or plot: a path, or a bound value (files, a job's downloads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A path as typed.
    Path(String),
    /// A bound name.
    Name(String),
}

/// `open …`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenQuery {
    /// What to open.
    pub target: Target,
    /// HDF5 group to show.
    pub group: Option<String>,
}

/// The kinds of plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    /// ATL03 photon cloud.
    Photons,
    /// Ground tracks on a map.
    Track,
    /// A gridded variable or GeoTIFF.
    Raster,
    /// Histogram of a 1-D variable.
    Histogram,
    /// A 1-D variable as a line.
    Series,
    /// The footprints of a `granules` result on a map.
    Granules,
}

impl PlotKind {
    /// The names users type.
    pub const NAMES: [&'static str; 6] = ["photons", "track", "raster", "histogram", "series", "granules"];

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<PlotKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "photons" | "photon" => PlotKind::Photons,
            "track" | "tracks" => PlotKind::Track,
            "raster" | "map" => PlotKind::Raster,
            "histogram" | "hist" => PlotKind::Histogram,
            "series" | "line" => PlotKind::Series,
            "granules" | "footprints" => PlotKind::Granules,
            _ => return None,
        })
    }
}

/// `plot …`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotQuery {
    /// The kind; chosen from the file when absent.
    pub kind: Option<PlotKind>,
    /// What to plot.
    pub target: Target,
    /// HDF5 group.
    pub group: Option<String>,
    /// ICESat-2 beam.
    pub beam: Option<String>,
    /// X axis.
    pub by: Option<String>,
    /// Lowest signal confidence.
    pub confidence: Option<i64>,
    /// Surface type for confidence.
    pub surface: Option<String>,
    /// Variable.
    pub variable: Option<String>,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per index of a group's 1-D datasets.
    Csv,
    /// ATL03 ground tracks, one LineString per beam.
    GeoJson,
}

/// `export …`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportQuery {
    /// What to export.
    pub target: Target,
    /// HDF5 group (CSV).
    pub group: Option<String>,
    /// ICESat-2 beam: its `heights` group (CSV) or only its track (GeoJSON).
    pub beam: Option<String>,
    /// The file to write, as typed.
    pub to: String,
    /// Chosen from the file's extension.
    pub format: ExportFormat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_ordered_result_fits_harmonys_granule_id_field() {
        // `G` + 10 digits + `-` + a 10-character provider: the longest granule concept ID CMR issues.
        let longest = "G9999999999-ABCDEFGHIJ";
        let field = vec![longest; MAX_SEARCH_LIMIT as usize].join(",");
        assert!(field.len() < 1 << 20, "{} bytes: batch `subset NAME` before raising the limit", field.len());
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (value, expected) in [
            (40.0, "40.0"),
            (-105.5, "-105.5"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (-0.0, "-0.0"),
            (1.5e-7, "1.5e-07"),
            (2.5e300, "2.5e+300"),
            (20.1, "20.1"),
        ] {
            assert_eq!(python_float_repr(value), expected, "{value}");
        }
    }

    #[test]
    fn literals_read_as_python_would() {
        for (literal, expected) in [
            ("40", "40"),
            ("-107", "-107"),
            ("41.", "41.0"),
            ("41.0", "41.0"),
            ("+5", "5"),
            ("-0", "0"),
            ("007", "7"),
            (".5", "0.5"),
            ("1E3", "1000.0"),
        ] {
            assert_eq!(Number::from_literal(literal).unwrap().text, expected, "{literal}");
        }
        assert!(Number::from_literal("1e999").is_none());
    }

    #[test]
    fn datetimes_format_like_python() {
        let date = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        let naive = DateTime { local: date("2010-12-01T00:00:00"), offset_seconds: None };
        assert_eq!(naive.isoformat(), "2010-12-01T00:00:00");
        let utc = DateTime { local: date("2020-01-01T00:00:00"), offset_seconds: Some(0) };
        assert_eq!(utc.isoformat(), "2020-01-01T00:00:00+00:00");
        let fraction = DateTime { local: date("2020-01-01T10:00:00.25"), offset_seconds: Some(-19800) };
        assert_eq!(fraction.isoformat(), "2020-01-01T10:00:00.250000-05:30");
        assert_eq!(fraction.edr_format(), "2020-01-01T10:00:00Z");
    }

    #[test]
    fn concept_ids_are_recognised() {
        assert!(Collection("C1256407609-NSIDC_CUAT".into()).is_concept_id());
        assert!(!Collection("ATL03".into()).is_concept_id());
        assert!(is_concept_id("G1-PROV", 'G'));
        assert!(!is_concept_id("G1", 'G'));
    }
}
