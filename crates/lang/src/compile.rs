//! Query + Environment → [`api::request::Request`](crate::api::request::Request), byte-identical to harmony-py 1.8.
//!
//! Parameter order, repeated versus comma-joined fields, number and time formatting all follow
//! harmony-py's `_params`. One deliberate difference: the default label is never added twice (harmony-py
//! appends it to the caller's list in place, so resubmitting a request labels it `harmony-py` twice).

use crate::api::endpoint::{self, StateChange};
use crate::api::environment::Environment;
use crate::api::request::{Body, Method, Request, Shapefile};
use crate::query::{JobAction, JobRef, Query, Spatial, SubsetQuery};

/// Choices that shape compiled requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    /// The label added to every job (harmony-py adds `harmony-py`); `None` adds none.
    pub default_label: Option<String>,
}

/// The label HarmonyQL adds to every job unless told otherwise.
pub const DEFAULT_LABEL: &str = "harmonyql";

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { default_label: Some(DEFAULT_LABEL.to_owned()) }
    }
}

/// Why a query has no single request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The statement is not one HTTP request (`wait`, `download`, `env`, …).
    #[error("`{0}` is not a single Harmony request")]
    NotARequest(&'static str),
    /// A job named by a binding or "the last job" must be resolved to its ID first.
    #[error("the job `{0}` has not been resolved to a job ID")]
    UnresolvedJob(String),
    /// A `subset NAME` of a `granules` result must have its granules filled in by the session first.
    #[error("the granules of `{0}` have not been resolved to their IDs")]
    UnresolvedGranules(String),
    /// A search's shape file must be read (by the evaluator) before its polygons can be sent to CMR.
    #[error("the shape file `{0}` has not been read: its polygons are what CMR is sent")]
    UnreadShape(String),
}

/// Compiles a query into the request harmony-py would send for it.
///
/// ```
/// use harmonyql_lang::api::environment::Environment;
/// use harmonyql_lang::{compile::{compile, CompileOptions}, check::{check, Scope}, parse::parse};
/// let parsed = parse("subset C1940468263-POCLOUD bbox(-107, 40, -105, 42)");
/// let checked = check(&parsed.ast, &Scope::default());
/// let options = CompileOptions { default_label: Some("harmony-py".into()) };
/// let request = compile(&checked.statements[0].query, &Environment::Prod, &options).unwrap();
/// assert_eq!(request.to_url().unwrap(), "https://harmony.earthdata.nasa.gov/C1940468263-POCLOUD/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&subset=lat%2840%3A42%29&subset=lon%28-107%3A-105%29&label=harmony-py&variable=all");
/// ```
pub fn compile(query: &Query, env: &Environment, options: &CompileOptions) -> Result<Request, CompileError> {
    let root = env.root_url();
    let root = root.as_str();
    Ok(match query {
        Query::Capabilities(capabilities) => endpoint::capabilities(
            root,
            &capabilities.collection.0,
            capabilities.collection.is_concept_id(),
            capabilities.version.as_deref(),
        ),
        Query::Subset(subset) if subset.collection.is_none() && subset.granules_from.is_some() => {
            return Err(CompileError::UnresolvedGranules(subset.granules_from.clone().unwrap_or_default()));
        }
        Query::Subset(subset) => compile_subset(subset, root, options),
        Query::Search(search) => crate::search::request(search, env)?,
        Query::Jobs(jobs) => endpoint::jobs(root, jobs.page, jobs.limit, &jobs.labels),
        Query::Labels(labels) => {
            let ids = labels.jobs.iter().map(job_id).collect::<Result<Vec<_>, _>>()?;
            endpoint::labels(root, labels.add, &labels.labels, &ids)
        }
        Query::Steps(steps) => endpoint::steps(root, &job_id(&steps.job)?, &steps.filter),
        Query::Job(action, job) => {
            let id = job_id(job)?;
            match action {
                JobAction::Status => endpoint::job_status(root, &id, "https", None, None),
                JobAction::Pause => endpoint::job_state_change(root, &id, StateChange::Pause),
                JobAction::Resume => endpoint::job_state_change(root, &id, StateChange::Resume),
                JobAction::Cancel => endpoint::job_state_change(root, &id, StateChange::Cancel),
                JobAction::SkipPreview => endpoint::job_state_change(root, &id, StateChange::SkipPreview),
                JobAction::Stac => endpoint::stac_catalog(root, &id, "https"),
                JobAction::Wait => return Err(CompileError::NotARequest("wait")),
            }
        }
        Query::Results(results) => {
            endpoint::job_status(root, &job_id(&results.job)?, results.link_type.as_str(), results.page, results.limit)
        }
        Query::Url(inner) | Query::Curl(inner) => compile(inner, env, options)?,
        Query::Env(_) => return Err(CompileError::NotARequest("env")),
        Query::Set(_) => return Err(CompileError::NotARequest("set")),
        Query::Login(_) => return Err(CompileError::NotARequest("login")),
        Query::Logout => return Err(CompileError::NotARequest("logout")),
        Query::Download(_) => return Err(CompileError::NotARequest("download")),
        Query::WaitJobs(_) => return Err(CompileError::NotARequest("wait")),
        Query::Open(_) => return Err(CompileError::NotARequest("open")),
        Query::Plot(_) => return Err(CompileError::NotARequest("plot")),
        Query::Export(_) => return Err(CompileError::NotARequest("export")),
        Query::Help(_) => return Err(CompileError::NotARequest("help")),
        Query::Print(_) => return Err(CompileError::NotARequest("print")),
        Query::Warn(_) => return Err(CompileError::NotARequest("warn")),
        Query::Clear => return Err(CompileError::NotARequest("clear")),
        Query::Show(_) => return Err(CompileError::NotARequest("a name")),
    })
}

fn job_id(job: &JobRef) -> Result<String, CompileError> {
    match job {
        JobRef::Id(id) => Ok(id.clone()),
        JobRef::Name(name) => Err(CompileError::UnresolvedJob(name.clone())),
        JobRef::Last => Err(CompileError::UnresolvedJob("the last job".to_owned())),
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// The transformation request: OGC Coverages (multipart) for a bbox or no spatial subset, OGC EDR
/// (JSON) for a WKT geometry, parameters in harmony-py's order.
fn compile_subset(query: &SubsetQuery, root: &str, options: &CompileOptions) -> Request {
    let collection = query.collection.as_ref().map(|c| c.0.as_str()).unwrap_or_default();
    let wkt = match &query.spatial {
        Some(Spatial::Wkt(wkt)) => Some(wkt),
        _ => None,
    };
    let mut request = match wkt {
        Some(wkt) => Request::new(
            Method::Post,
            root,
            format!("/ogc-api-edr/1.1.0/collections/{collection}/{}", wkt.kind.edr_route()),
            Body::Json,
        ),
        None => Request::new(
            Method::Post,
            root,
            format!("/{collection}/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset"),
            Body::Multipart,
        ),
    }
    .text("forceAsync", "true");

    let dimensions = query.dimensions.iter().map(|d| {
        let min = d.min.as_ref().map_or("*", |n| n.text.as_str());
        let max = d.max.as_ref().map_or("*", |n| n.text.as_str());
        format!("{}({min}:{max})", d.name)
    });
    if let Some(wkt) = wkt {
        request = request.text("coords", wkt.text.clone());
        if let Some(time) = &query.temporal {
            let start = time.start.as_ref().map_or("..".to_owned(), |t| t.edr_format());
            let stop = time.stop.as_ref().map_or("..".to_owned(), |t| t.edr_format());
            request = request.text("datetime", format!("{start}/{stop}"));
        }
        let subsets: Vec<String> = dimensions.collect();
        if !subsets.is_empty() {
            request = request.list("subset", subsets);
        }
    } else {
        let mut subsets = Vec::new();
        if let Some(Spatial::BBox(bbox)) = &query.spatial {
            subsets.push(format!("lat({}:{})", bbox.south.text, bbox.north.text));
            subsets.push(format!("lon({}:{})", bbox.west.text, bbox.east.text));
        }
        if let Some(time) = &query.temporal {
            let start = time.start.as_ref().map_or("*".to_owned(), |t| format!("\"{}\"", t.isoformat()));
            let stop = time.stop.as_ref().map_or("*".to_owned(), |t| format!("\"{}\"", t.isoformat()));
            subsets.push(format!("time({start}:{stop})"));
        }
        subsets.extend(dimensions);
        if !subsets.is_empty() {
            request = request.list("subset", subsets);
        }
    }

    let mut labels = query.labels.clone();
    let default_label_first = options.default_label.is_some();
    if let Some(default) = &options.default_label {
        if !labels.contains(default) {
            labels.push(default.clone());
        }
        request = request.list("label", labels.clone());
    }

    let is_edr = wkt.is_some();
    if let Some(crs) = &query.crs {
        request = request.text(if is_edr { "crs" } else { "outputcrs" }, crs.clone());
    }
    if let Some(destination) = &query.destination_url {
        request = request.text("destinationUrl", destination.clone());
    }
    if let Some(interpolation) = &query.interpolation {
        request = request.text("interpolation", interpolation.clone());
    }
    if let Some(extent) = &query.scale_extent {
        request = request.text("scaleExtent", join_numbers(extent));
    }
    if let Some(size) = &query.scale_size {
        request = request.text("scaleSize", join_numbers(size));
    }
    if !query.granule_ids.is_empty() {
        request = request.list("granuleId", query.granule_ids.clone());
    }
    if !query.granule_names.is_empty() {
        request = request.list("granuleName", query.granule_names.clone());
    }
    if let Some(width) = query.width {
        request = request.integer("width", width as i64);
    }
    if let Some(height) = query.height {
        request = request.integer("height", height as i64);
    }
    if let Some(format) = &query.format {
        request = request.text(if is_edr { "f" } else { "format" }, format.clone());
    }
    if let Some(max_results) = query.max_results {
        request = request.integer("maxResults", max_results as i64);
    }
    if let Some(concatenate) = query.concatenate {
        request = request.text("concatenate", bool_text(concatenate));
    }
    if let (Some(average), false) = (&query.average, is_edr) {
        request = request.text("average", average.clone());
    }
    if let Some(skip) = query.skip_preview {
        request = request.text("skipPreview", bool_text(skip));
    }
    if let Some(ignore) = query.ignore_errors {
        request = request.text("ignoreErrors", bool_text(ignore));
    }
    if let Some(grid) = &query.grid {
        request = request.text("grid", grid.clone());
    }
    if !query.extend.is_empty() {
        request = request.list("extend", query.extend.clone());
    }
    let variables = if query.variables.is_empty() { vec!["all".to_owned()] } else { query.variables.clone() };
    request = request.list(if is_edr { "parameter-name" } else { "variable" }, variables);
    if !default_label_first && !labels.is_empty() {
        request = request.list("label", labels);
    }
    if let Some(pixel_subset) = query.pixel_subset {
        request = request.text("pixelSubset", bool_text(pixel_subset));
    }
    if let Some(service) = &query.service_id {
        request = request.text("serviceId", service.clone());
    }
    if let (Some(shape), false) = (&query.shape, is_edr) {
        request.shapefile = Some(Shapefile { path: shape.path.clone(), mime: shape.mime.clone() });
    }
    request
}

fn join_numbers(numbers: &[crate::query::Number]) -> String {
    numbers.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    //! The parity vectors of ../shared/spec/harmony-api.md §2.7, each a harmony-py 1.8 request
    //! written in HarmonyQL, compiled with the default label set to `harmony-py`.
    use super::*;
    use crate::api::request::{Header, HeaderValue};
    use crate::check::{Scope, check};
    use crate::parse::parse;

    const ROOT: &str = "https://harmony.earthdata.nasa.gov";
    const RS: &str = "/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";

    fn request_with(cell: &str, label: Option<&str>) -> Request {
        let parsed = parse(cell);
        assert!(parsed.diagnostics.is_empty(), "{cell}: {:?}", parsed.diagnostics);
        let checked = check(&parsed.ast, &Scope::default());
        assert!(!checked.has_errors(), "{cell}: {:?}", checked.diagnostics);
        let options = CompileOptions { default_label: label.map(str::to_owned) };
        compile(&checked.statements[0].query, &Environment::Prod, &options).unwrap()
    }

    fn request(cell: &str) -> Request {
        request_with(cell, Some("harmony-py"))
    }

    fn fields(cell: &str) -> Vec<String> {
        request(cell).form_fields().into_iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn a1_request_as_url() {
        assert_eq!(
            request("subset C1940468263-POCLOUD bbox(-107, 40, -105, 42)").to_url().unwrap(),
            format!(
                "{ROOT}/C1940468263-POCLOUD{RS}?forceAsync=true&subset=lat%2840%3A42%29&subset=lon%28-107%3A-105%29&label=harmony-py&variable=all"
            )
        );
    }

    #[test]
    fn a2_bounding_box_multipart() {
        let submitted = request("subset C1940468263-POCLOUD bbox(-107, 40, -105, 42)");
        assert_eq!((submitted.method, submitted.body), (Method::Post, Body::Multipart));
        assert_eq!(submitted.sent_url(), format!("{ROOT}/C1940468263-POCLOUD{RS}"));
        assert_eq!(
            fields("subset C1940468263-POCLOUD bbox(-107, 40, -105, 42)"),
            ["forceAsync=true", "subset=lat(40:42)", "subset=lon(-107:-105)", "label=harmony-py", "variable=all"]
        );
    }

    #[test]
    fn a3_temporal_range() {
        assert_eq!(
            request("subset C1234-TATOOINE time(2010-12-01 .. 2010-12-31)").sent_url(),
            format!("{ROOT}/C1234-TATOOINE{RS}")
        );
        assert_eq!(
            fields("subset C1234-TATOOINE time(2010-12-01 .. 2010-12-31)"),
            [
                "forceAsync=true",
                "subset=time(\"2010-12-01T00:00:00\":\"2010-12-31T00:00:00\")",
                "label=harmony-py",
                "variable=all"
            ]
        );
    }

    #[test]
    fn a4_multiple_dimensions() {
        let cell = "subset C1234-TATOOINE dim(foo, .. 20.5) dim(bar, -10.2 .. 20.1) dim(baz) dim(alpha, -10 ..) dim(bravo, .. 30) dim(charlie, 20 ..) dim(delta, 0 .. 20.5)";
        let subsets: Vec<String> = fields(cell).into_iter().filter(|f| f.starts_with("subset=")).collect();
        assert_eq!(
            subsets,
            [
                "subset=foo(*:20.5)",
                "subset=bar(-10.2:20.1)",
                "subset=baz(*:*)",
                "subset=alpha(-10:*)",
                "subset=bravo(*:30)",
                "subset=charlie(20:*)",
                "subset=delta(0:20.5)"
            ]
        );
    }

    #[test]
    fn a5_each_query_parameter() {
        for (clause, expected) in [
            ("crs epsg:3141", vec!["outputcrs=epsg:3141"]),
            ("destination s3://bucket", vec!["destinationUrl=s3://bucket"]),
            ("format r2d2/hologram", vec!["format=r2d2/hologram"]),
            ("granule(G1-P, G2-P, G3-P)", vec!["granuleId=G1-P,G2-P,G3-P"]),
            ("granule_id(G1, G2, G3)", vec!["granuleId=G1,G2,G3"]),
            (
                "granule_name(\"abc*123\", ab?d123, abcd123)",
                vec!["granuleName=abc*123", "granuleName=ab?d123", "granuleName=abcd123"],
            ),
            ("height 200", vec!["height=200"]),
            ("interpolation nearest", vec!["interpolation=nearest"]),
            ("limit 7", vec!["maxResults=7"]),
            ("scale_extent(1.0, 2.0, 1.0, 4.0)", vec!["scaleExtent=1.0,2.0,1.0,4.0"]),
            ("scale_size(1.0, 2.0)", vec!["scaleSize=1.0,2.0"]),
            ("width 100", vec!["width=100"]),
            ("concatenate", vec!["concatenate=true"]),
            ("grid theGridName", vec!["grid=theGridName"]),
            ("extend(lat, lon)", vec!["extend=lat", "extend=lon"]),
            ("extend(singleDimension)", vec!["extend=singleDimension"]),
        ] {
            let all = fields(&format!("subset C1234-TATOOINE {clause}"));
            assert_eq!(all.first().map(String::as_str), Some("forceAsync=true"), "{clause}");
            assert_eq!(all.last().map(String::as_str), Some("variable=all"), "{clause}");
            let middle: Vec<&str> = all
                .iter()
                .map(String::as_str)
                .filter(|f| !f.starts_with("forceAsync") && !f.starts_with("label=") && !f.starts_with("variable="))
                .collect();
            assert_eq!(middle, expected, "{clause}");
        }
    }

    #[test]
    fn a6_shapefile_goes_as_a_file_part_with_no_query() {
        let submitted =
            request("subset C333666999-EOSDIS shape(\"examples/asf_example.json\") bbox(-107, 40, -105, 42)");
        assert_eq!(submitted.sent_url(), format!("{ROOT}/C333666999-EOSDIS{RS}"));
        assert_eq!(submitted.shapefile.as_ref().unwrap().mime, "application/geo+json");
        let fields: Vec<String> = submitted.form_fields().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(fields[..3], ["forceAsync=true", "subset=lat(40:42)", "subset=lon(-107:-105)"]);
        assert!(submitted.to_url().is_err());
        assert!(
            submitted
                .to_curl(&[])
                .contains("-F 'shapefile=@examples/asf_example.json;filename=shapefile;type=application/geo+json'")
        );
    }

    #[test]
    fn a7_user_labels_then_the_default() {
        let with_default = request_with("subset C1-PROV label(one, two)", Some("harmony-py")).form_fields();
        let labels: Vec<&str> = with_default.iter().filter(|(k, _)| k == "label").map(|(_, v)| v.as_str()).collect();
        assert_eq!(labels, ["one", "two", "harmony-py"]);
        let without = request_with("subset C1-PROV label(one, two)", None).form_fields();
        let labels: Vec<&str> = without.iter().filter(|(k, _)| k == "label").map(|(_, v)| v.as_str()).collect();
        assert_eq!(labels, ["one", "two"]);
    }

    #[test]
    fn b1_all_scalars() {
        let cell = "subset C1-PROV crs EPSG:4326 format image/tiff scale_extent(1.0, 2.0, 1.0, 4.0) scale_size(1.0, 2.0) width 100 height 200 interpolation nearest limit 7 concatenate true skip_preview true ignore_errors false destination s3://bucket/p extend(lat, lon) label(one, two) pixel_subset true service S123-PROV average time";
        // harmony-py rejects nothing here, but Harmony refuses grid with crs/scale/size, so grid is tested apart.
        let url = request(cell).to_url().unwrap();
        assert_eq!(
            url,
            format!(
                "{ROOT}/C1-PROV{RS}?forceAsync=true&label=one&label=two&label=harmony-py&outputcrs=EPSG%3A4326&destinationUrl=s3%3A%2F%2Fbucket%2Fp&interpolation=nearest&scaleExtent=1.0%2C2.0%2C1.0%2C4.0&scaleSize=1.0%2C2.0&width=100&height=200&format=image%2Ftiff&maxResults=7&concatenate=true&average=time&skipPreview=true&ignoreErrors=false&extend=lat&extend=lon&variable=all&pixelSubset=true&serviceId=S123-PROV"
            )
        );
        let grid = request("subset C1-PROV ignore_errors false grid theGridName extend(lat, lon)").to_url().unwrap();
        assert!(grid.ends_with("&ignoreErrors=false&grid=theGridName&extend=lat&extend=lon&variable=all"), "{grid}");
    }

    #[test]
    fn b2_variables() {
        let submitted = request("subset C1-PROV vars(red_var, green_var, /var/with/a/path)");
        assert_eq!(
            submitted.to_url().unwrap(),
            format!(
                "{ROOT}/C1-PROV{RS}?forceAsync=true&label=harmony-py&variable=red_var&variable=green_var&variable=%2Fvar%2Fwith%2Fa%2Fpath"
            )
        );
        let variables: Vec<String> =
            submitted.form_fields().into_iter().filter(|(k, _)| k == "variable").map(|(_, v)| v).collect();
        assert_eq!(variables, ["red_var", "green_var", "/var/with/a/path"]);
    }

    #[test]
    fn b3_granules_repeat_in_urls_and_join_in_forms() {
        let submitted = request("subset C1-PROV granule_id(G1, G2, G3) granule_name(\"abc*123\", ab?d123)");
        assert!(submitted.to_url().unwrap().ends_with(
            "&granuleId=G1&granuleId=G2&granuleId=G3&granuleName=abc%2A123&granuleName=ab%3Fd123&variable=all"
        ));
        assert!(submitted.form_fields().contains(&("granuleId".to_owned(), "G1,G2,G3".to_owned())));
    }

    #[test]
    fn b4_open_ended_aware_time() {
        assert!(
            fields("subset C1-PROV time(2020-01-01T00:00:00Z ..)")
                .contains(&"subset=time(\"2020-01-01T00:00:00+00:00\":*)".to_owned())
        );
    }

    #[test]
    fn b5_edr_polygon() {
        let cell = "subset C1-PROV polygon((-140 20, -50 20, -50 60, -140 60, -140 20)) time(2020-01-01 .. 2020-01-31T23:59:59) vars(a, b) format application/x-netcdf4 crs EPSG:4326 dim(lev, 10 .. 20) average area";
        let parsed = parse(cell);
        let checked = check(&parsed.ast, &Scope::default());
        assert_eq!(
            checked.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["average-with-wkt"],
            "a warning, not an error"
        );
        let submitted = request(cell);
        assert_eq!(submitted.sent_url(), format!("{ROOT}/ogc-api-edr/1.1.0/collections/C1-PROV/area"));
        assert_eq!(
            submitted.json_body().to_string(),
            r#"{"forceAsync":"true","coords":"POLYGON((-140 20, -50 20, -50 60, -140 60, -140 20))","datetime":"2020-01-01T00:00:00Z/2020-01-31T23:59:59Z","subset":["lev(10:20)"],"label":["harmony-py"],"crs":"EPSG:4326","f":"application/x-netcdf4","parameter-name":["a","b"]}"#
        );
        assert_eq!(
            submitted.to_url().unwrap(),
            format!(
                "{ROOT}/ogc-api-edr/1.1.0/collections/C1-PROV/area?forceAsync=true&coords=POLYGON%28%28-140+20%2C+-50+20%2C+-50+60%2C+-140+60%2C+-140+20%29%29&datetime=2020-01-01T00%3A00%3A00Z%2F2020-01-31T23%3A59%3A59Z&subset=lev%2810%3A20%29&label=harmony-py&crs=EPSG%3A4326&f=application%2Fx-netcdf4&parameter-name=a&parameter-name=b"
            )
        );
    }

    #[test]
    fn b6_edr_point() {
        let submitted = request("subset C1-PROV point(-40 10)");
        assert_eq!(submitted.sent_url(), format!("{ROOT}/ogc-api-edr/1.1.0/collections/C1-PROV/position"));
        assert_eq!(
            submitted.json_body().to_string(),
            r#"{"forceAsync":"true","coords":"POINT(-40 10)","label":["harmony-py"],"parameter-name":["all"]}"#
        );
    }

    #[test]
    fn b7_edr_multiline() {
        let submitted =
            request("subset C1-PROV multilinestring((-40 10, -30 20), (1 2, 3 4)) limit 2 granule_id(G1, G2)");
        assert_eq!(submitted.sent_url(), format!("{ROOT}/ogc-api-edr/1.1.0/collections/C1-PROV/trajectory"));
        let body = submitted.json_body().to_string();
        assert!(body.contains(r#""granuleId":["G1","G2"],"maxResults":2"#), "{body}");
    }

    #[test]
    fn b9_without_default_label_labels_move_after_variable() {
        assert_eq!(
            request_with("subset C1-PROV label(a, b) granule_id(G1)", None).to_url().unwrap(),
            format!("{ROOT}/C1-PROV{RS}?forceAsync=true&granuleId=G1&variable=all&label=a&label=b")
        );
    }

    #[test]
    fn b10_curl_masks_the_token() {
        let submitted = request("capabilities C1234-PROV");
        let headers = [Header { name: "Authorization".into(), value: HeaderValue::Masked }];
        assert_eq!(
            submitted.to_curl(&headers),
            format!("curl -L -H 'Authorization: *****' '{ROOT}/capabilities?collectionid=C1234-PROV'")
        );
    }

    #[test]
    fn default_label_is_harmonyql_and_never_doubled() {
        let ours = request_with("subset C1-PROV label(harmonyql, x)", Some(DEFAULT_LABEL)).form_fields();
        let labels: Vec<&str> = ours.iter().filter(|(k, _)| k == "label").map(|(_, v)| v.as_str()).collect();
        assert_eq!(labels, ["harmonyql", "x"]);
    }

    #[test]
    fn tutorial_uat_url() {
        let parsed = parse("subset C1256407609-NSIDC_CUAT bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)");
        let checked = check(&parsed.ast, &Scope::default());
        let url = compile(&checked.statements[0].query, &Environment::Uat, &CompileOptions::default())
            .unwrap()
            .to_url()
            .unwrap();
        assert_eq!(
            url,
            "https://harmony.uat.earthdata.nasa.gov/C1256407609-NSIDC_CUAT/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&subset=lat%2840%3A41.0%29&subset=lon%28-105.5%3A-105%29&subset=time%28%222020-04-27T00%3A00%3A00%22%3A%222020-05-28T00%3A00%3A00%22%29&label=harmonyql&variable=all"
        );
    }

    #[test]
    fn job_statements_need_resolved_ids() {
        let parsed = parse("job = subset A\nstatus job");
        let checked = check(&parsed.ast, &Scope::default());
        assert_eq!(
            compile(&checked.statements[1].query, &Environment::Prod, &CompileOptions::default()),
            Err(CompileError::UnresolvedJob("job".into()))
        );
    }
}
