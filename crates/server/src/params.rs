//! Harmony-style parameter parsing for submissions (OGC Coverages and EDR), done the way Harmony's server
//! does it (`HS:app/util/parameter-parsers.ts`, `parameter-parsing-helpers.ts`, `parameter-validation.ts`):
//! case-insensitive keys, body fields merged into the query with duplicates rejected, unknown names rejected.
//!
//! Pure: no HTTP types, no I/O. Never imports the client's encoder.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::transform::Polygon;
use harmonyql_lang::geometry::Geometry;

/// Parameters the Coverages and EDR routes accept (lower-cased).
const ALLOWED: &[&str] = &[
    "subset",
    "point",
    "outputcrs",
    "interpolation",
    "scaleextent",
    "scalesize",
    "width",
    "height",
    "format",
    "granuleid",
    "granulename",
    "maxresults",
    "forceasync",
    "concatenate",
    "skippreview",
    "ignoreerrors",
    "destinationurl",
    "grid",
    "extend",
    "variable",
    "average",
    "label",
    "pixelsubset",
    "serviceid",
    "coords",
    "datetime",
    "crs",
    "f",
    "parameter-name",
    "bbox",
];

/// Names whose values must be `true` or `false`, spelled as Harmony's validator reports them.
const BOOLEANS: &[&str] = &["forceAsync", "concatenate", "skipPreview", "ignoreErrors", "pixelSubset"];

/// A parameter problem; the message is Harmony's wording (without the `Error: ` prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

type Result<T> = std::result::Result<T, ParamError>;

fn invalid(message: impl Into<String>) -> ParamError {
    ParamError(message.into())
}

/// Query and body parameters merged, keys lower-cased, in arrival order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Merges query-string and body pairs; a key in both → Harmony's duplicate-key error.
    pub fn merge(query: Vec<(String, String)>, body: Vec<(String, String)>) -> Result<Self> {
        let query_keys: Vec<String> = query.iter().map(|(k, _)| k.to_lowercase()).collect();
        for (key, _) in &body {
            if query_keys.contains(&key.to_lowercase()) {
                return Err(invalid(format!("Duplicate keys \"{key}\" found from request body and query string!")));
            }
        }
        let pairs = query.into_iter().chain(body).map(|(k, v)| (k.to_lowercase(), v)).collect();
        Ok(Params { pairs })
    }

    /// Every value given for `key` (lower-case).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// Every value for `key`, comma lists split, trimmed, empty parts dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect()
    }

    /// The single value of `key`; several → error.
    pub fn one(&self, key: &str) -> Result<Option<&str>> {
        match self.all(key).as_slice() {
            [] => Ok(None),
            [value] => Ok(Some(value)),
            _ => Err(invalid(format!("query parameter \"{key}\" must have only one value"))),
        }
    }

    /// The pairs, in order (keys lower-cased).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Which API a submission came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `…/ogc-api-coverages/1.0.0/collections/{vars}/coverage/rangeset`.
    Coverages,
    /// `/ogc-api-edr/1.1.0/collections/{c}/{area|position|trajectory|cube}`.
    Edr(EdrQuery),
}

/// The EDR query type from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdrQuery {
    /// Polygons.
    Area,
    /// Points.
    Position,
    /// Lines.
    Trajectory,
    /// A bounding box.
    Cube,
}

impl EdrQuery {
    /// Parses the last path segment.
    pub fn from_path(segment: &str) -> Option<Self> {
        match segment {
            "area" => Some(EdrQuery::Area),
            "position" => Some(EdrQuery::Position),
            "trajectory" => Some(EdrQuery::Trajectory),
            "cube" => Some(EdrQuery::Cube),
            _ => None,
        }
    }
}

/// A validated submission: what to search and what to do to each granule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    /// `[w, s, e, n]` from `subset=lat(..)`/`lon(..)` or EDR `bbox`.
    pub bbox: Option<[f64; 4]>,
    /// Polygons from EDR `coords` (a shape file is added by the caller).
    pub shape: Vec<Polygon>,
    /// Temporal start.
    pub start: Option<DateTime<Utc>>,
    /// Temporal end.
    pub end: Option<DateTime<Utc>>,
    /// Other dimension subsets.
    pub dimensions: Vec<(String, Option<f64>, Option<f64>)>,
    /// Variables; empty means all.
    pub variables: Vec<String>,
    /// Normalized output MIME type.
    pub format: Option<String>,
    /// Output CRS.
    pub output_crs: Option<String>,
    /// Granule concept IDs.
    pub granule_ids: Vec<String>,
    /// Granule name patterns.
    pub granule_names: Vec<String>,
    /// Cap on input granules.
    pub max_results: Option<u64>,
    /// Never auto-pause.
    pub skip_preview: bool,
    /// Keep going when a granule fails (default true).
    pub ignore_errors: bool,
    /// Always answer with the job, even for a single granule (`forceAsync=true`).
    pub force_async: bool,
    /// Trimmed, lower-cased labels.
    pub labels: Vec<String>,
}

/// Parses merged parameters for `api`; `path_variables` is the `{variables}` path segment of a Coverages URL.
pub fn parse(params: &Params, api: Api, path_variables: Option<&str>) -> Result<Submission> {
    let unknown: Vec<&str> = params.pairs().iter().map(|(k, _)| k.as_str()).filter(|k| !ALLOWED.contains(k)).collect();
    if !unknown.is_empty() {
        let mut unique: Vec<&str> = Vec::new();
        for key in unknown {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        return Err(invalid(format!(
            "Invalid parameter(s): {}. Allowed parameters are: {}",
            unique.join(", "),
            ALLOWED.join(", ")
        )));
    }
    let mut submission = Submission { ignore_errors: true, ..Default::default() };
    for name in BOOLEANS {
        if let Some(value) = params.one(&name.to_lowercase())? {
            let flag = match value {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(invalid(format!("query parameter \"{name}\" must be either true or false")));
                }
            };
            match *name {
                "skipPreview" => submission.skip_preview = flag,
                "forceAsync" => submission.force_async = flag,
                "ignoreErrors" => submission.ignore_errors = flag,
                _ => {}
            }
        }
    }
    parse_subsets(params, &mut submission)?;
    match api {
        Api::Coverages => {
            let listed = params.list("variable");
            submission.variables = match path_variables {
                Some("parameter_vars") if params.all("variable").is_empty() => {
                    return Err(invalid("\"parameter_vars\" used in the url path, but no variable parameter given"));
                }
                Some("parameter_vars") => listed,
                Some(_) if !params.all("variable").is_empty() => {
                    return Err(invalid(
                        "Value \"parameter_vars\" must be used in the url path when variables are passed in the query parameters or request body",
                    ));
                }
                Some(path) => path.split(',').map(String::from).collect(),
                None => listed,
            };
            if let Some(crs) = params.one("outputcrs")? {
                submission.output_crs = Some(crs.to_string());
            }
            if let Some(format) = params.one("format")? {
                submission.format = Some(normalize_format(format));
            }
        }
        Api::Edr(query) => {
            submission.variables = params.list("parameter-name");
            if let Some(crs) = params.one("crs")? {
                submission.output_crs = Some(crs.to_string());
            }
            if let Some(format) = params.one("f")? {
                submission.format = Some(normalize_format(format));
            }
            if let Some(datetime) = params.one("datetime")? {
                let (start, end) = parse_datetime_interval(datetime)?;
                submission.start = start;
                submission.end = end;
            }
            if let Some(bbox) = params.one("bbox")? {
                submission.bbox = Some(parse_bbox(bbox)?);
            }
            match (params.one("coords")?, query) {
                (Some(wkt), _) => submission.shape = wkt_polygons(wkt, query)?,
                (None, EdrQuery::Cube) => {}
                (None, _) => return Err(invalid("query parameter \"coords\" is required")),
            }
        }
    }
    if submission.variables.iter().any(|v| v == "all") {
        submission.variables.clear();
    }
    submission.granule_ids = params.list("granuleid");
    submission.granule_names = params.list("granulename");
    if let Some(max) = params.one("maxresults")? {
        submission.max_results =
            Some(max.trim().parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                invalid("query parameter \"maxResults\" must be an integer greater than or equal to 1")
            })?);
    }
    for raw in params.all("label") {
        for label in raw.split(',') {
            let label = label.trim().to_lowercase();
            if label.is_empty() {
                return Err(invalid("Labels must contain at least one non-whitespace character"));
            }
            if label.chars().count() > 255 {
                return Err(invalid("Labels may not exceed 255 characters"));
            }
            if !submission.labels.contains(&label) {
                submission.labels.push(label);
            }
        }
    }
    if let Some(average) = params.one("average")?
        && !matches!(average.to_lowercase().as_str(), "time" | "area")
    {
        return Err(invalid("query parameter \"average\" must be either \"time\" or \"area\""));
    }
    if params.one("destinationurl")?.is_some() {
        return Err(invalid("destinationUrl is not supported by the local Harmony: it has no S3 access"));
    }
    for (key, what) in [("width", "width"), ("height", "height")] {
        if let Some(value) = params.one(key)?
            && value.trim().parse::<u32>().ok().filter(|n| *n >= 1).is_none()
        {
            return Err(invalid(format!("query parameter \"{what}\" must be an integer greater than or equal to 1")));
        }
    }
    Ok(submission)
}

fn parse_subsets(params: &Params, submission: &mut Submission) -> Result<()> {
    let mut seen: Vec<String> = Vec::new();
    let (mut lat, mut lon) = (None, None);
    for raw in params.all("subset") {
        let raw = raw.trim();
        let open = raw.find('(').ok_or_else(|| subset_error(raw))?;
        if !raw.ends_with(')') {
            return Err(subset_error(raw));
        }
        let name = raw[..open].trim().to_string();
        let inner = &raw[open + 1..raw.len() - 1];
        if name.is_empty() {
            return Err(subset_error(raw));
        }
        if seen.contains(&name.to_lowercase()) {
            return Err(invalid(format!("query parameter \"subset\" dimension \"{name}\" can only be specified once")));
        }
        seen.push(name.to_lowercase());
        match name.to_lowercase().as_str() {
            "time" => {
                let (start, end) = split_range(inner).ok_or_else(|| subset_error(raw))?;
                submission.start = start.map(parse_time).transpose()?;
                submission.end = match end {
                    Some(end) => Some(parse_time(end)?),
                    None if !inner.contains(':') || only_one_time(inner) => submission.start,
                    None => None,
                };
                if let (Some(s), Some(e)) = (submission.start, submission.end)
                    && s > e
                {
                    return Err(invalid(format!("query parameter \"subset\" time range {raw} has start after end")));
                }
            }
            axis => {
                let (low, high) = split_range(inner).ok_or_else(|| subset_error(raw))?;
                let low = low.map(|v| parse_number(v, raw)).transpose()?;
                let high = high.map(|v| parse_number(v, raw)).transpose()?;
                match axis {
                    "lat" => {
                        let (s, n) = (low.unwrap_or(-90.0), high.unwrap_or(90.0));
                        if !(-90.0..=90.0).contains(&s) || !(-90.0..=90.0).contains(&n) {
                            return Err(invalid(format!(
                                "query parameter \"subset\" subset dimension \"lat\" values must be between -90 and 90 (found {raw})"
                            )));
                        }
                        if s > n {
                            return Err(invalid(format!(
                                "query parameter \"subset\" subset dimension \"lat\" values must be in ascending order (found {raw})"
                            )));
                        }
                        lat = Some((s, n));
                    }
                    "lon" => {
                        let (w, e) = (low.unwrap_or(-180.0), high.unwrap_or(180.0));
                        if !(-180.0..=180.0).contains(&w) || !(-180.0..=180.0).contains(&e) {
                            return Err(invalid(format!(
                                "query parameter \"subset\" subset dimension \"lon\" values must be between -180 and 180 (found {raw})"
                            )));
                        }
                        lon = Some((w, e));
                    }
                    _ => {
                        if let (Some(l), Some(h)) = (low, high)
                            && l > h
                        {
                            return Err(invalid(format!(
                                "query parameter \"subset\" subset dimension \"{name}\" values must be in ascending order (found {raw})"
                            )));
                        }
                        submission.dimensions.push((name, low, high));
                    }
                }
            }
        }
    }
    if lat.is_some() || lon.is_some() {
        let (s, n) = lat.unwrap_or((-90.0, 90.0));
        let (w, e) = lon.unwrap_or((-180.0, 180.0));
        submission.bbox = Some([w, s, e, n]);
    }
    Ok(())
}

fn only_one_time(inner: &str) -> bool {
    // `time("2020-01-01T00:00:00")` contains colons inside the quotes only.
    let trimmed = inner.trim();
    trimmed.starts_with('"') && trimmed.ends_with('"') && trimmed[1..].find('"') == Some(trimmed.len() - 2)
}

fn subset_error(raw: &str) -> ParamError {
    invalid(format!("query parameter \"subset\" subset dimension \"{raw}\" could not be parsed"))
}

/// Splits `a:b` where either side may be `*` (→ None) and values may be quoted (quotes may hold colons).
fn split_range(inner: &str) -> Option<(Option<&str>, Option<&str>)> {
    let inner = inner.trim();
    let split_at = if let Some(quoted) = inner.strip_prefix('"') {
        let close = quoted.find('"')? + 1;
        inner[close + 1..].find(':').map(|offset| close + 1 + offset)
    } else {
        inner.find(':')
    };
    match split_at {
        Some(at) => Some((side(&inner[..at]), side(&inner[at + 1..]))),
        None if inner.starts_with('"') => Some((side(inner), None)),
        None => None,
    }
}

fn side(text: &str) -> Option<&str> {
    let text = text.trim();
    if text == "*" || text.is_empty() { None } else { Some(text.trim_matches('"')) }
}

fn parse_number(text: &str, raw: &str) -> Result<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| subset_error(raw))
}

/// Parses a Harmony time: RFC 3339, or a zone-less date-time or date (taken as UTC, the server's zone).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let text = text.trim().trim_matches('"');
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    if let Some(t) = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)) {
        return Ok(t.and_utc());
    }
    Err(invalid(format!("query parameter \"subset\" could not parse the date-time \"{text}\"")))
}

/// A time range whose ends may be open.
type Interval = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn parse_datetime_interval(text: &str) -> Result<Interval> {
    let side = |s: &str| -> Result<Option<DateTime<Utc>>> {
        let s = s.trim();
        if s.is_empty() || s == ".." {
            Ok(None)
        } else {
            parse_time(s).map(Some).map_err(|_| invalid(format!("datetime \"{text}\" is invalid")))
        }
    };
    match text.split_once('/') {
        Some((a, b)) => Ok((side(a)?, side(b)?)),
        None => {
            let t = side(text)?;
            Ok((t, t))
        }
    }
}

fn parse_bbox(text: &str) -> Result<[f64; 4]> {
    let numbers: Vec<f64> = text
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| invalid(format!("bbox \"{text}\" must be 4 or 6 comma-separated numbers")))?;
    match numbers.as_slice() {
        [w, s, e, n] | [w, s, _, e, n, _] if numbers.iter().all(|v| v.is_finite()) => Ok([*w, *s, *e, *n]),
        _ => Err(invalid(format!("bbox \"{text}\" must be 4 or 6 comma-separated numbers"))),
    }
}

/// Normalizes a `format` value the way Harmony does: case, spaces and quotes ignored, aliases folded.
pub fn normalize_format(raw: &str) -> String {
    let cleaned: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect();
    let lower = cleaned.to_lowercase();
    match lower.as_str() {
        "application/netcdf"
        | "application/netcdf4"
        | "application/x-netcdf"
        | "application/x-netcdf4"
        | "netcdf-4"
        | "netcdf4"
        | "netcdf" => "application/x-netcdf4".to_string(),
        "geotiff" | "image/geotiff" | "image/tiff" | "tiff" => "image/tiff".to_string(),
        "application/x-hdf5" | "application/x-hdf" | "hdf5" | "hdf-eos5" => "application/x-hdf5".to_string(),
        "png" => "image/png".to_string(),
        "zarr" => "application/x-zarr".to_string(),
        _ => lower,
    }
}

/// Turns EDR `coords` WKT into polygons: polygons as given; points become small squares (Harmony turns points
/// into circles), lines their envelope grown by the same margin, so both select the data around them. The text is
/// read by the language crate's one WKT reader, the same that checked it on the client's side.
pub fn wkt_polygons(wkt: &str, query: EdrQuery) -> Result<Vec<Polygon>> {
    let geometry = Geometry::parse_wkt(wkt)
        .map_err(|error| invalid(format!("query parameter \"coords\" is not valid WKT: {error}: {}", truncate(wkt))))?;
    let kind = geometry.kind().keyword();
    let expected = match query {
        EdrQuery::Area | EdrQuery::Cube => ["POLYGON", "MULTIPOLYGON"],
        EdrQuery::Position => ["POINT", "MULTIPOINT"],
        EdrQuery::Trajectory => ["LINESTRING", "MULTILINESTRING"],
    };
    if !expected.contains(&kind) {
        return Err(invalid(format!("Unsupported WKT type {kind} for this query; expected {}", expected.join(" or "))));
    }
    const MARGIN: f64 = 0.01;
    let square = |[x, y]: [f64; 2]| -> Polygon {
        vec![vec![
            [x - MARGIN, y - MARGIN],
            [x + MARGIN, y - MARGIN],
            [x + MARGIN, y + MARGIN],
            [x - MARGIN, y + MARGIN],
            [x - MARGIN, y - MARGIN],
        ]]
    };
    let envelope = |line: Vec<[f64; 2]>| -> Polygon {
        let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for [x, y] in line {
            (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
        }
        let (w, s, e, n) = (w - MARGIN, s - MARGIN, e + MARGIN, n + MARGIN);
        vec![vec![[w, s], [e, s], [e, n], [w, n], [w, s]]]
    };
    Ok(match geometry {
        Geometry::Polygon(rings) => vec![rings],
        Geometry::MultiPolygon(polygons) => polygons,
        Geometry::Point(point) => vec![square(point)],
        Geometry::MultiPoint(points) => points.into_iter().map(square).collect(),
        Geometry::LineString(line) => vec![envelope(line)],
        Geometry::MultiLineString(lines) => lines.into_iter().map(envelope).collect(),
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn coverages(items: &[(&str, &str)]) -> Result<Submission> {
        parse(&Params::merge(Vec::new(), pairs(items))?, Api::Coverages, Some("parameter_vars"))
    }

    #[test]
    fn harmony_py_bbox_and_temporal_fields_parse() {
        let s = coverages(&[
            ("forceAsync", "true"),
            ("subset", "lat(40:42)"),
            ("subset", "lon(-107:-105)"),
            ("subset", "time(\"2010-12-01T00:00:00\":\"2010-12-31T00:00:00\")"),
            ("label", "harmony-py"),
            ("variable", "all"),
        ])
        .unwrap();
        assert_eq!(s.bbox, Some([-107.0, 40.0, -105.0, 42.0]));
        assert_eq!(s.start.unwrap().to_rfc3339(), "2010-12-01T00:00:00+00:00");
        assert_eq!(s.end.unwrap().to_rfc3339(), "2010-12-31T00:00:00+00:00");
        assert!(s.variables.is_empty());
        assert_eq!(s.labels, ["harmony-py"]);
        assert!(s.ignore_errors && !s.skip_preview);
    }

    #[test]
    fn subset_forms_parse_like_harmony() {
        type Case<'a> = (&'a str, Option<[f64; 4]>, Option<&'a str>, Option<&'a str>);
        let cases: &[Case] = &[
            ("lat(40:*)", Some([-180.0, 40.0, 180.0, 90.0]), None, None),
            ("lon(170:-170)", Some([170.0, -90.0, -170.0, 90.0]), None, None),
            ("time(\"2020-01-01T00:00:00+00:00\":*)", None, Some("2020-01-01T00:00:00+00:00"), None),
            ("time(*:\"2020-01-02T00:00:00Z\")", None, None, Some("2020-01-02T00:00:00+00:00")),
            ("time(\"2020-01-03\")", None, Some("2020-01-03T00:00:00+00:00"), Some("2020-01-03T00:00:00+00:00")),
        ];
        for (subset, bbox, start, end) in cases {
            let s = coverages(&[("subset", subset), ("variable", "all")]).unwrap();
            assert_eq!(s.bbox, *bbox, "{subset}");
            assert_eq!(s.start.map(|t| t.to_rfc3339()).as_deref(), *start, "{subset}");
            assert_eq!(s.end.map(|t| t.to_rfc3339()).as_deref(), *end, "{subset}");
        }
        let s = coverages(&[("subset", "lev(10:20.5)"), ("subset", "baz(*:*)"), ("variable", "all")]).unwrap();
        assert_eq!(s.dimensions, [("lev".to_string(), Some(10.0), Some(20.5)), ("baz".to_string(), None, None)]);
    }

    #[test]
    fn bad_parameters_get_harmony_messages() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("subset", "lat(50:40)"), ("variable", "all")], "ascending order"),
            (&[("subset", "lat(0:91)"), ("variable", "all")], "between -90 and 90"),
            (&[("subset", "lat(a:b)"), ("variable", "all")], "could not be parsed"),
            (&[("subset", "lat(1:2)"), ("subset", "LAT(1:2)"), ("variable", "all")], "only be specified once"),
            (&[("subset", "nonsense"), ("variable", "all")], "could not be parsed"),
            (&[("subset", "time(\"x\":\"y\")"), ("variable", "all")], "date-time"),
            (&[("forceAsync", "yes"), ("variable", "all")], "\"forceAsync\" must be either true or false"),
            (&[("bogus", "1"), ("variable", "all")], "Invalid parameter(s): bogus"),
            (&[("maxResults", "0"), ("variable", "all")], "maxResults"),
            (&[("label", "  "), ("variable", "all")], "Labels must contain at least one non-whitespace character"),
            (&[("average", "space"), ("variable", "all")], "average"),
            (&[("format", "a"), ("format", "b"), ("variable", "all")], "only one value"),
            (&[], "no variable parameter given"),
        ];
        for (items, message) in cases {
            let error = coverages(items).unwrap_err();
            assert!(error.0.contains(message), "{items:?}: {error}");
        }
    }

    #[test]
    fn keys_are_case_insensitive_and_duplicates_across_query_and_body_are_rejected() {
        let params = Params::merge(pairs(&[("MAXRESULTS", "3")]), pairs(&[("Variable", "all")])).unwrap();
        assert_eq!(parse(&params, Api::Coverages, Some("parameter_vars")).unwrap().max_results, Some(3));
        let error = Params::merge(pairs(&[("label", "a")]), pairs(&[("LABEL", "b")])).unwrap_err();
        assert_eq!(error.0, "Duplicate keys \"LABEL\" found from request body and query string!");
    }

    #[test]
    fn lists_split_on_commas_and_labels_are_lowered() {
        let s = coverages(&[
            ("granuleId", "G1,G2"),
            ("granuleId", "G3"),
            ("granuleName", "a*"),
            ("label", "One, TWO"),
            ("variable", "/gt1l/heights/h_ph"),
            ("format", " \"Application/NetCDF4\" "),
        ])
        .unwrap();
        assert_eq!(s.granule_ids, ["G1", "G2", "G3"]);
        assert_eq!(s.granule_names, ["a*"]);
        assert_eq!(s.labels, ["one", "two"]);
        assert_eq!(s.variables, ["/gt1l/heights/h_ph"]);
        assert_eq!(s.format.as_deref(), Some("application/x-netcdf4"));
    }

    #[test]
    fn edr_coords_become_polygons() {
        let cases = [
            ("POLYGON((-140 20, -50 20, -50 60, -140 60, -140 20))", EdrQuery::Area, 1),
            ("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))", EdrQuery::Area, 2),
            ("POINT(-40 10)", EdrQuery::Position, 1),
            ("MULTIPOINT((1 2),(3 4))", EdrQuery::Position, 2),
            ("MULTILINESTRING((-40 10, 30 10),(0 0, 1 1))", EdrQuery::Trajectory, 2),
        ];
        for (wkt, query, n) in cases {
            assert_eq!(wkt_polygons(wkt, query).unwrap().len(), n, "{wkt}");
        }
        let bad = [
            ("POINT(1 2)", EdrQuery::Area),
            ("POLYGON((1 2, 3 4)", EdrQuery::Area),
            ("POLYGON((((((((((0 0))))))))))", EdrQuery::Area),
            ("POLYGON((a b, c d, e f, a b))", EdrQuery::Area),
            ("CIRCULARSTRING(0 0, 1 1, 1 0)", EdrQuery::Trajectory),
            ("POLYGON((0 0,1 0,1 1,0 0)) trailing", EdrQuery::Area),
        ];
        for (wkt, query) in bad {
            assert!(wkt_polygons(wkt, query).is_err(), "{wkt}");
        }
    }

    #[test]
    fn edr_submission_reads_datetime_and_parameter_names() {
        let params = Params::merge(
            Vec::new(),
            pairs(&[
                ("forceAsync", "true"),
                ("coords", "POINT(-40 10)"),
                ("datetime", "2020-01-01T00:00:00Z/.."),
                ("parameter-name", "a"),
                ("parameter-name", "b"),
                ("f", "image/tiff"),
            ]),
        )
        .unwrap();
        let s = parse(&params, Api::Edr(EdrQuery::Position), None).unwrap();
        assert_eq!(s.variables, ["a", "b"]);
        assert!(s.start.is_some() && s.end.is_none());
        assert_eq!(s.format.as_deref(), Some("image/tiff"));
        let missing = Params::merge(Vec::new(), pairs(&[("forceAsync", "true")])).unwrap();
        assert!(parse(&missing, Api::Edr(EdrQuery::Area), None).unwrap_err().0.contains("coords"));
    }
}
