//! axum routes mirroring Harmony's paths. Handlers are thin: read the request, call the catalog, parameter
//! parser, engine or view, and answer; every failure is a [`ServerError`] (Harmony's JSON error body).
//!
//! Bodies, queries and paths are read by hand rather than with axum's typed extractors, so that even hostile
//! input gets Harmony's JSON errors instead of axum's plain-text rejections.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{Duration, Utc};

use crate::catalog::{Catalog, Collection, GranuleQuery};
use crate::engine::{Engine, Event, NewJob};
use crate::error::ServerError;
use crate::params::{self, Api, EdrQuery, Params};
use crate::transform;
use crate::transform::Operation;
use crate::view::{self, BUCKET, LinkType, MAX_PAGE_SIZE, Page, StepsFilter};
use harmonyql_lang::api::job::{BulkStatus, JobIds, JobListing, JobStatusBrief, Labels};

/// Largest request body (shape files included).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Largest number of IDs in a bulk status or batch request.
const MAX_BULK_IDS: usize = 2000;
/// Harmony's `MAX_SYNCHRONOUS_GRANULES`: more granules (or `forceAsync`) make the request asynchronous.
const MAX_SYNCHRONOUS_GRANULES: usize = 1;
/// How long a synchronous request waits before answering with the job instead.
const SYNC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// Harmony's `MAX_GRANULE_LIMIT`.
const MAX_GRANULE_LIMIT: usize = 10_000_000;

/// Who made the request (set by the auth layer; `anonymous` without EDL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub String);

/// Shared handler state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The job engine.
    pub engine: Engine,
    /// The collections.
    pub catalog: Arc<Catalog>,
    /// The S3-compatible server results are also staged into (`--stage-s3`), whose keys `/cloud-access` gives.
    pub staging: Option<crate::staging::S3Staging>,
    /// The granule files: CMR's sizes, and `/hq/granules/{id}` (CMR's data links).
    pub samples: crate::sample::SampleFiles,
}

type Result<T, E = ServerError> = std::result::Result<T, E>;

/// Logs each request's method, path and answer (`HQ_LOG=info hq serve`). Never the query string or headers:
/// they may carry Earthdata Login codes, tokens and cookies.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64);
    response
}

/// The router for every Harmony path the local server answers.
pub fn router(state: AppState) -> Router {
    let coverages = "/{collections}/ogc-api-coverages/1.0.0/collections/{variables}/coverage/rangeset";
    let edr = "/ogc-api-edr/1.1.0/collections/{collection}/{query}";
    Router::new()
        .route("/", get(landing))
        .route("/health", get(health))
        .route("/versions", get(versions))
        .route("/hq/collections", get(hq_collections))
        .route("/capabilities", get(capabilities))
        .route(coverages, get(submit_coverages).post(submit_coverages))
        .route(&format!("{coverages}/"), get(submit_coverages).post(submit_coverages))
        .route(edr, get(submit_edr).post(submit_edr))
        .route(&format!("{edr}/"), get(submit_edr).post(submit_edr))
        .route("/jobs", get(list_jobs))
        .route("/jobs/", get(list_jobs))
        .route("/jobs/status", post(bulk_status))
        .route("/jobs/{id}", get(job_status).post(batch_change))
        .route("/jobs/{id}/steps", get(job_steps))
        .route("/jobs/{id}/{action}", get(change_state).post(change_state))
        .route("/labels", put(add_labels).delete(delete_labels))
        .route("/stac/{id}", get(stac_catalog))
        .route("/stac/{id}/", get(stac_catalog))
        .route("/stac/{id}/{index}", get(stac_item))
        .route("/cloud-access", get(cloud_access))
        .route("/cloud-access.sh", get(cloud_access_sh))
        .route("/service-results/{bucket}/{*path}", get(service_results))
        .route("/hq/granules/{concept_id}", get(granule_file))
        .merge(crate::cmr::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// `http://{Host}`: the local server has no TLS, so generated URLs use `http` (as Harmony does for localhost).
pub fn root_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c)))
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn identity(headers: &axum::http::Extensions) -> String {
    headers.get::<Identity>().map(|i| i.0.clone()).unwrap_or_else(|| "anonymous".to_string())
}

/// Query pairs with keys lower-cased (Harmony matches keys case-insensitively).
fn query_lower(uri: &Uri) -> Result<Vec<(String, String)>> {
    Ok(query_pairs(uri)?.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect())
}

fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ServerError::BadRequest(format!("the query string could not be read: {}", e.body_text())))
}

fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn parse_page(pairs: &[(String, String)], default_limit: usize) -> Result<Page> {
    let page = match single(pairs, "page") {
        None => 1,
        Some(text) => text.trim().parse::<usize>().ok().filter(|p| *p >= 1).ok_or_else(|| {
            ServerError::BadRequest(
                "Parameter \"page\" is invalid. Must be an integer greater than or equal to 1.".into(),
            )
        })?,
    };
    let limit = match single(pairs, "limit") {
        None => default_limit,
        Some(text) => text.trim().parse::<usize>().ok().filter(|l| *l <= MAX_PAGE_SIZE).ok_or_else(|| {
            ServerError::BadRequest(format!(
                "Parameter \"limit\" is invalid. Must be an integer greater than or equal to 0 and less than or equal to {MAX_PAGE_SIZE}."
            ))
        })?,
    };
    Ok(Page { page, limit })
}

fn parse_link_type(pairs: &[(String, String)]) -> Result<Option<LinkType>> {
    match single(pairs, "linktype") {
        None => Ok(None),
        Some(text) => LinkType::parse(text)
            .map(Some)
            .ok_or_else(|| ServerError::BadRequest(format!("Invalid linkType '{text}' must be http, https, or s3"))),
    }
}

/// Checks that `id` is a canonical UUID, with Harmony's message.
fn check_job_id(id: &str) -> Result<()> {
    match uuid::Uuid::parse_str(id) {
        Ok(uuid) if uuid.hyphenated().to_string() == id.to_lowercase() => Ok(()),
        _ => {
            Err(ServerError::BadRequest(format!("Invalid format for Job ID '{}'. Job ID must be a UUID.", shorten(id))))
        }
    }
}

/// Echoes user input in messages only up to a sane length.
fn shorten(text: &str) -> String {
    let short: String = text.chars().take(100).collect();
    if short.len() < text.len() { format!("{short}…") } else { short }
}

fn find_job(state: &AppState, id: &str, user: &str) -> Result<crate::engine::JobRecord> {
    check_job_id(id)?;
    state
        .engine
        .get(&id.to_lowercase())
        .filter(|job| job.username == user)
        .ok_or_else(|| ServerError::NotFound(format!("Unable to find job {id}")))
}

async fn landing(headers: HeaderMap) -> Json<serde_json::Value> {
    let root = root_url(&headers);
    Json(serde_json::json!({
        "description": "HarmonyQL's local Harmony: a Harmony-compatible service on loopback with sample collections",
        "links": [
            {"title": "Jobs", "href": format!("{root}/jobs"), "rel": "jobs", "type": "application/json"},
            {"title": "Capabilities", "href": format!("{root}/capabilities?shortName=ATL03"), "rel": "capabilities", "type": "application/json"},
            {"title": "Versions", "href": format!("{root}/versions"), "rel": "versions", "type": "application/json"},
            {"title": "Health", "href": format!("{root}/health"), "rel": "health", "type": "application/json"}
        ]
    }))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "up", "message": "Harmony is healthy", "version": env!("CARGO_PKG_VERSION")}))
}

/// `GET /hq/collections`: the sample collections, for completion in the kernel. Local-only: Harmony has no
/// such listing (CMR is the real catalog), so nothing but `hq serve` answers it.
async fn hq_collections(State(state): State<AppState>) -> Json<serde_json::Value> {
    let collections: Vec<serde_json::Value> = state
        .catalog
        .collections()
        .iter()
        .map(|collection| {
            serde_json::json!({
                "shortName": collection.short_name,
                "version": collection.version,
                "title": collection.title,
                "conceptIds": collection.concept_ids,
            })
        })
        .collect();
    Json(serde_json::json!({ "collections": collections }))
}

async fn versions(State(state): State<AppState>) -> Json<serde_json::Value> {
    let mut seen = Vec::new();
    for collection in state.catalog.collections() {
        if !seen.iter().any(|s: &serde_json::Value| s["name"] == collection.service.name) {
            seen.push(serde_json::json!({
                "name": collection.service.name,
                "images": [{"image": format!("hq-serve/{}", collection.service.name), "tag": env!("CARGO_PKG_VERSION")}]
            }));
        }
    }
    Json(serde_json::Value::Array(seen))
}

async fn capabilities(State(state): State<AppState>, uri: Uri) -> Result<Response> {
    let pairs = query_lower(&uri)?;
    let allowed = ["collectionid", "shortname", "version"];
    if let Some((key, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(ServerError::BadRequest(format!(
            "Invalid parameter(s): {}. Allowed parameters are: collectionId, shortName, version",
            shorten(key)
        )));
    }
    let version = single(&pairs, "version").unwrap_or("2");
    let (id, collection) = match (single(&pairs, "collectionid"), single(&pairs, "shortname")) {
        (None, None) => {
            return Err(ServerError::BadRequest("Must specify either collectionId or shortName".into()));
        }
        (Some(_), Some(_)) => {
            return Err(ServerError::BadRequest("Must specify only one of collectionId or shortName, not both".into()));
        }
        (Some(id), None) => {
            let collection = state
                .catalog
                .resolve(id)
                .filter(|c| c.concept_ids.contains(&id))
                .ok_or_else(|| ServerError::NotFound(format!("Unable to find collection {}", shorten(id))))?;
            (id.to_string(), collection)
        }
        (None, Some(short)) => {
            let collection = state.catalog.resolve(short).filter(|c| c.short_name == short).ok_or_else(|| {
                ServerError::NotFound(format!("Unable to find collection with short name {}", shorten(short)))
            })?;
            (collection.concept_id().to_string(), collection)
        }
    };
    let doc = collection.capabilities(&id);
    match version {
        "2" => Ok(Json(doc).into_response()),
        "1" => Ok(Json(harmonyql_lang::api::capabilities::CapabilitiesV1::from(doc)).into_response()),
        "3" | "3-alpha" => Ok(Json(harmonyql_lang::api::capabilities::CapabilitiesV3::from(&doc)).into_response()),
        other => Err(ServerError::BadRequest(format!(
            "Invalid API version {}, supported versions: 1, 2, and 3-alpha",
            shorten(other)
        ))),
    }
}

/// A body that could not be read: 413 when it is over [`MAX_BODY`] (the limit layer says so with its
/// status), else 400.
fn body_error(kind: &str, status: StatusCode, detail: String) -> ServerError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ServerError::PayloadTooLarge(format!(
            "the {kind} body is larger than the {} MiB limit of a request (shape files included)",
            MAX_BODY / (1024 * 1024)
        ));
    }
    ServerError::BadRequest(format!("the {kind} body could not be read: {detail}"))
}

/// Reads the body of a submission: form, multipart (with an optional `shapefile` part) or JSON.
async fn read_body(request: Request) -> Result<(Vec<(String, String)>, Option<(Bytes, String)>)> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_lowercase();
    if request.method() == Method::GET {
        return Ok((Vec::new(), None));
    }
    // A declared length over the limit is answered at once, before any of the body is read.
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(body_error("request", StatusCode::PAYLOAD_TOO_LARGE, String::new()));
    }
    if content_type.starts_with("multipart/form-data") {
        use crate::form::FormError;
        // crate::form reads it (multer, the whole stream bounded), so the fuzz target runs the same code.
        let refused = |error: FormError| match error {
            FormError::TooLarge { .. } => body_error("multipart", StatusCode::PAYLOAD_TOO_LARGE, String::new()),
            FormError::TwoShapefiles => ServerError::BadRequest(error.to_string()),
            FormError::NotText(name) => {
                ServerError::BadRequest(format!("form field \"{}\" is not UTF-8 text", shorten(&name)))
            }
            FormError::Malformed(cause) => body_error("multipart", StatusCode::BAD_REQUEST, cause.to_string()),
        };
        // From the header as sent: a boundary is case-sensitive, `content_type` is lower-cased.
        let raw_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let boundary = crate::form::boundary(raw_type).map_err(refused)?;
        let body = request.into_body().into_data_stream();
        let form = crate::form::read(body, boundary, MAX_BODY as u64).await.map_err(refused)?;
        return Ok((form.fields, form.shapefile));
    }
    let bytes =
        Bytes::from_request(request, &()).await.map_err(|e| body_error("request", e.status(), e.body_text()))?;
    if bytes.is_empty() {
        return Ok((Vec::new(), None));
    }
    if content_type.starts_with("application/json") {
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::BadRequest(format!("the JSON body could not be parsed: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ServerError::BadRequest("the JSON body must be an object".into()));
        };
        let mut fields = Vec::new();
        for (key, value) in map {
            let scalar = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            match &value {
                serde_json::Value::Array(items) => {
                    for item in items {
                        let text = scalar(item).ok_or_else(|| {
                            ServerError::BadRequest(format!(
                                "body field \"{}\" must hold strings or numbers",
                                shorten(&key)
                            ))
                        })?;
                        fields.push((key.clone(), text));
                    }
                }
                other => {
                    let text = scalar(other).ok_or_else(|| {
                        ServerError::BadRequest(format!(
                            "body field \"{}\" must be a string, number or array",
                            shorten(&key)
                        ))
                    })?;
                    fields.push((key, text));
                }
            }
        }
        return Ok((fields, None));
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(
            Request::builder()
                .method(Method::POST)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(bytes))
                .map_err(|e| ServerError::Internal(e.to_string()))?,
            &(),
        )
        .await
        .map_err(|e| ServerError::BadRequest(format!("the form body could not be read: {}", e.body_text())))?;
        return Ok((fields, None));
    }
    Err(ServerError::BadRequest(format!(
        "unsupported request body type \"{}\": send multipart/form-data, application/x-www-form-urlencoded or application/json",
        shorten(&content_type)
    )))
}

/// Percent-encodes a query component the way Harmony's request URLs read (parentheses and `*` kept).
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~()*!'".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn request_path(uri: &Uri, body: &[(String, String)]) -> String {
    let mut pairs = query_pairs(uri).unwrap_or_default();
    pairs.extend(body.iter().cloned());
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
    if query.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), query.join("&")) }
}

async fn submit_coverages(
    State(state): State<AppState>,
    Path((collections, variables)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    submit(state, &collections, Api::Coverages, Some(variables), request).await
}

async fn submit_edr(
    State(state): State<AppState>,
    Path((collection, query)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    let query =
        EdrQuery::from_path(&query).ok_or_else(|| ServerError::NotFound("The requested page was not found.".into()))?;
    submit(state, &collection, Api::Edr(query), None, request).await
}

fn resolve_collections<'a>(catalog: &'a Catalog, ids: &str) -> Result<&'a Collection> {
    let mut found: Option<&Collection> = None;
    for id in ids.split('+').filter(|s| !s.is_empty()) {
        let collection = catalog.resolve(id).ok_or_else(|| {
            ServerError::NotFound(format!(
                "Collection \"{}\" is not served by the local Harmony (collections: {})",
                shorten(id),
                catalog.collections().iter().map(|c| c.short_name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        match found {
            Some(previous) if previous.short_name != collection.short_name => {
                return Err(ServerError::Unsupported(
                    "the local Harmony runs one collection per job; submit one request per collection".into(),
                ));
            }
            _ => found = Some(collection),
        }
    }
    found.ok_or_else(|| ServerError::NotFound("Route must include a collection short name or CMR collection ID".into()))
}

fn check_operations(collection: &Collection, submission: &params::Submission) -> Result<()> {
    let missing: Vec<&str> =
        submission.variables.iter().map(String::as_str).filter(|v| !collection.has_variable(v)).collect();
    if !missing.is_empty() {
        return Err(ServerError::BadRequest(format!(
            "Coverages were not found for the provided variables: {}",
            missing.iter().map(|v| shorten(v)).collect::<Vec<_>>().join(", ")
        )));
    }
    let caps = collection.capabilities(collection.concept_id());
    let unsupported = |what: String| {
        ServerError::Unsupported(format!(
            "the requested combination of operations on {}: {what} is unsupported (service {})",
            collection.short_name, collection.service.name
        ))
    };
    if let Some(format) = &submission.format
        && !caps.output_formats.contains(format)
    {
        return Err(unsupported(format!("reformatting to {format} (formats: {})", caps.output_formats.join(", "))));
    }
    if submission.output_crs.is_some() && !caps.reproject {
        return Err(unsupported("reprojection".into()));
    }
    if !submission.shape.is_empty() && !caps.shape_subset {
        return Err(unsupported("shape subsetting".into()));
    }
    if !submission.variables.is_empty() && !caps.variable_subset {
        return Err(unsupported("variable subsetting".into()));
    }
    Ok(())
}

async fn submit(
    state: AppState,
    collections: &str,
    api: Api,
    path_variables: Option<String>,
    request: Request,
) -> Result<Response> {
    let user = identity(request.extensions());
    let uri = request.uri().clone();
    let collection = resolve_collections(&state.catalog, collections)?;
    let query = query_pairs(&uri)?;
    let (body, shapefile) = read_body(request).await?;
    let params = Params::merge(query, body.clone()).map_err(|e| ServerError::BadRequest(e.0))?;
    let mut submission =
        params::parse(&params, api, path_variables.as_deref()).map_err(|e| ServerError::BadRequest(e.0))?;
    if let Some((bytes, mime)) = shapefile {
        let polygons = transform::parse_shape(&bytes, &mime)
            .map_err(|e| ServerError::BadRequest(format!("the shapefile could not be read: {e}")))?;
        submission.shape.extend(polygons);
    }
    check_operations(collection, &submission)?;
    let query = GranuleQuery {
        bbox: submission.bbox,
        shape: submission.shape.clone(),
        start: submission.start,
        end: submission.end,
        granule_ids: submission.granule_ids.clone(),
        granule_names: submission.granule_names.clone(),
    };
    let mut granules = state.catalog.search(collection, &query);
    let hits = granules.len();
    let limit = submission.max_results.map_or(MAX_GRANULE_LIMIT, |m| (m as usize).min(MAX_GRANULE_LIMIT));
    let note = (hits > limit).then(|| {
        format!(
            "CMR query identified {hits} granules, but the request has been limited to process only the first {limit} granules because you requested {limit} maxResults."
        )
    });
    granules.truncate(limit);
    let mut labels = submission.labels.clone();
    labels.dedup();
    let job = state.engine.submit(NewJob {
        username: user,
        labels,
        request_path: request_path(&uri, &body),
        collection: collection.short_name.to_string(),
        service_name: collection.service.name.to_string(),
        ignore_errors: submission.ignore_errors,
        skip_preview: submission.skip_preview,
        note,
        operation: Operation {
            bbox: submission.bbox,
            shape: submission.shape,
            start: submission.start,
            end: submission.end,
            variables: submission.variables,
            format: submission.format,
            output_crs: submission.output_crs,
            dimensions: submission.dimensions,
        },
        granules,
    })?;
    if submission.force_async || job.work_items.len() > MAX_SYNCHRONOUS_GRANULES {
        return Ok(redirect(StatusCode::SEE_OTHER, &format!("/jobs/{}", job.job_id)));
    }
    synchronous(&state, &job.job_id).await
}

/// Harmony's synchronous answer for a one-granule request without `forceAsync`: wait for the job, then
/// 303 to its single output (or to the job when it has none or several); a failed job is an error.
async fn synchronous(state: &AppState, job_id: &str) -> Result<Response> {
    let deadline = tokio::time::Instant::now() + SYNC_TIMEOUT;
    // Subscribed before the first look, so a change between the look and the wait still wakes it.
    let mut changes = state.engine.subscribe();
    while let Some(job) = state.engine.get(job_id) {
        if job.status == harmonyql_lang::api::job::JobStatus::Failed {
            return Err(ServerError::ServiceFailed(job.message()));
        }
        if job.status.is_final() {
            let outputs = view::outputs(&job);
            if let [(item, output)] = outputs.as_slice() {
                let key = view::staged_key(job_id, item.id, &output.file);
                return Ok(redirect(StatusCode::SEE_OTHER, &format!("/service-results/{BUCKET}/{key}")));
            }
            break;
        }
        // Woken by the engine's next change (or the deadline), instead of polling.
        if !matches!(tokio::time::timeout_at(deadline, changes.changed()).await, Ok(Ok(()))) {
            break;
        }
    }
    // Too slow, or not exactly one output: the job status has everything.
    Ok(redirect(StatusCode::SEE_OTHER, &format!("/jobs/{job_id}")))
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn list_jobs(State(state): State<AppState>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let root = root_url(request.headers());
    let pairs = query_lower(request.uri())?;
    let page = parse_page(&pairs, 10)?;
    let labels: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "label")
        .flat_map(|(_, v)| v.split(','))
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    let jobs: Vec<_> = state
        .engine
        .list()
        .into_iter()
        .filter(|job| job.username == user)
        .filter(|job| labels.is_empty() || job.labels.iter().any(|l| labels.contains(l)))
        .collect();
    let total = jobs.len();
    let start = (page.page - 1).saturating_mul(page.limit).min(total);
    let end = start.saturating_add(page.limit).min(total);
    let label_query: String = labels.iter().map(|l| format!("label={}&", encode_component(l))).collect();
    let listing = JobListing {
        count: total as u64,
        jobs: jobs[start..end].iter().map(|job| view::job_summary(&root, job)).collect(),
        links: view::paging_links(&format!("{root}/jobs?{label_query}"), page, total),
    };
    let mut response = Json(listing).into_response();
    response.headers_mut().insert("Harmony-Hits", HeaderValue::from(total));
    Ok(response)
}

async fn job_status(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let root = root_url(request.headers());
    let pairs = query_lower(request.uri())?;
    let link_type = parse_link_type(&pairs)?;
    let page = parse_page(&pairs, MAX_PAGE_SIZE)?;
    let job = find_job(&state, &id, &user)?;
    Ok(Json(view::job_status(&root, &job, link_type, page)).into_response())
}

fn parse_ids(bytes: &Bytes) -> Result<Vec<String>> {
    let ids: JobIds = serde_json::from_slice(bytes)
        .map_err(|e| ServerError::BadRequest(format!("the body must be JSON {{\"jobIDs\": [...]}}: {e}")))?;
    if ids.job_ids.len() > MAX_BULK_IDS {
        return Err(ServerError::BadRequest(format!("at most {MAX_BULK_IDS} job IDs may be given at once")));
    }
    for id in &ids.job_ids {
        check_job_id(id)?;
    }
    Ok(ids.job_ids)
}

async fn bulk_status(State(state): State<AppState>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let bytes =
        Bytes::from_request(request, &()).await.map_err(|e| body_error("request", e.status(), e.body_text()))?;
    let ids = parse_ids(&bytes)?;
    let mut answer = BulkStatus { job_statuses: Vec::new(), not_found_job_ids: Vec::new() };
    for id in ids {
        match state.engine.get(&id.to_lowercase()).filter(|job| job.username == user) {
            Some(job) => {
                answer.job_statuses.push(JobStatusBrief { job_id: id, status: job.status, progress: job.progress })
            }
            None => answer.not_found_job_ids.push(id),
        }
    }
    Ok(Json(answer).into_response())
}

fn action_event(action: &str) -> Option<Event> {
    match action {
        "cancel" => Some(Event::Cancel),
        "pause" => Some(Event::Pause),
        "resume" => Some(Event::Resume),
        "skip-preview" => Some(Event::SkipPreview),
        _ => None,
    }
}

async fn change_state(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    let user = identity(request.extensions());
    let event =
        action_event(&action).ok_or_else(|| ServerError::NotFound("The requested page was not found.".into()))?;
    let job = find_job(&state, &id, &user)?;
    state.engine.apply(&job.job_id, event)?;
    Ok(redirect(StatusCode::FOUND, &format!("/jobs/{}", job.job_id)))
}

/// `POST /jobs/{cancel|pause|resume|skip-preview}` with `{"jobIDs": [...]}`.
async fn batch_change(State(state): State<AppState>, Path(action): Path<String>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let event =
        action_event(&action).ok_or_else(|| ServerError::NotFound("The requested POST page was not found.".into()))?;
    let bytes =
        Bytes::from_request(request, &()).await.map_err(|e| body_error("request", e.status(), e.body_text()))?;
    let ids = parse_ids(&bytes)?;
    for id in &ids {
        find_job(&state, id, &user)?;
    }
    for (processed, id) in ids.iter().enumerate() {
        if state.engine.apply(&id.to_lowercase(), event).is_err() {
            return Err(ServerError::Conflict(format!("Could not change all job statuses. Proccessed {processed}.")));
        }
    }
    let status = match event {
        Event::Cancel => "canceled",
        Event::Pause => "paused",
        _ => "running",
    };
    Ok(Json(serde_json::json!({ "status": status })).into_response())
}

async fn job_steps(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let root = root_url(request.headers());
    let pairs = query_lower(request.uri())?;
    let job = find_job(&state, &id, &user)?;
    let mut filter = StepsFilter { limit: 50, ..Default::default() };
    for (key, value) in &pairs {
        let bad = |what: &str| ServerError::BadRequest(format!("query parameter \"{key}\" {what}"));
        match key.as_str() {
            "step" => {
                filter.step = Some(
                    value.trim().parse().ok().filter(|s| *s >= 1).ok_or_else(|| bad("must be a positive integer"))?,
                )
            }
            "status" => filter.statuses.extend(value.split(',').map(|s| s.trim().to_lowercase())),
            "workitem" => {
                for part in value.split(',') {
                    filter.work_items.push(part.trim().parse().map_err(|_| bad("must be work item IDs"))?);
                }
            }
            "limit" => {
                filter.limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|l| *l <= 1000)
                    .ok_or_else(|| bad("must be an integer from 0 to 1000"))?
            }
            "resolvefiles" => filter.resolve_files = value == "true",
            "wilimit" => {}
            other if (other.starts_with("step") && other.ends_with("page")) || other.starts_with("workitem") => {}
            other => {
                return Err(ServerError::BadRequest(format!(
                    "Invalid parameter(s): {}. Allowed parameters are: step, status, workItem, limit, resolveFiles, wiLimit, step<N>page, workItem<N>inputPage, workItem<N>outputPage",
                    shorten(other)
                )));
            }
        }
    }
    if filter.resolve_files && filter.work_items.is_empty() {
        return Err(ServerError::BadRequest("resolveFiles requires a workItem filter".into()));
    }
    Ok(Json(view::steps(&root, &job, &filter)).into_response())
}

/// Reads job IDs and labels from the query or a JSON body (keys case-insensitive; comma lists or arrays).
async fn label_request(request: Request) -> Result<(String, Vec<String>, Vec<String>)> {
    let user = identity(request.extensions());
    let mut pairs = query_lower(request.uri())?;
    let bytes =
        Bytes::from_request(request, &()).await.map_err(|e| body_error("request", e.status(), e.body_text()))?;
    if !bytes.is_empty() {
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::BadRequest(format!("the JSON body could not be parsed: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ServerError::BadRequest("the JSON body must be an object".into()));
        };
        for (key, value) in map {
            let values = match value {
                serde_json::Value::Array(items) => items,
                other => vec![other],
            };
            for value in values {
                let serde_json::Value::String(text) = value else {
                    return Err(ServerError::BadRequest(format!("body field \"{}\" must hold strings", shorten(&key))));
                };
                pairs.push((key.to_lowercase(), text));
            }
        }
    }
    let split = |key: &str| -> Vec<String> {
        pairs.iter().filter(|(k, _)| k == key).flat_map(|(_, v)| v.split(',')).map(|v| v.trim().to_string()).collect()
    };
    let job_ids = split("jobid");
    let labels: Vec<String> = split("label").into_iter().map(|l| l.to_lowercase()).collect();
    if job_ids.is_empty() {
        return Err(ServerError::BadRequest("at least one jobID is required".into()));
    }
    if labels.is_empty() || labels.iter().any(|l| l.is_empty()) {
        return Err(ServerError::BadRequest("Labels must contain at least one non-whitespace character".into()));
    }
    if labels.iter().any(|l| l.chars().count() > 255) {
        return Err(ServerError::BadRequest("Labels may not exceed 255 characters".into()));
    }
    for id in &job_ids {
        if check_job_id(id).is_err() {
            return Err(ServerError::BadRequest(format!("jobId {} is in invalid format.", shorten(id))));
        }
    }
    Ok((user, job_ids.into_iter().map(|id| id.to_lowercase()).collect(), labels))
}

fn owned_ids(state: &AppState, user: &str, ids: &[String]) -> Result<()> {
    for id in ids {
        find_job(state, id, user)?;
    }
    Ok(())
}

async fn add_labels(State(state): State<AppState>, request: Request) -> Result<Response> {
    let (user, ids, labels) = label_request(request).await?;
    owned_ids(&state, &user, &ids)?;
    state.engine.label(&ids, &labels, true)?;
    Ok((StatusCode::CREATED, Json(Labels { labels })).into_response())
}

async fn delete_labels(State(state): State<AppState>, request: Request) -> Result<Response> {
    let (user, ids, labels) = label_request(request).await?;
    owned_ids(&state, &user, &ids)?;
    state.engine.label(&ids, &labels, false)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn stac_job(state: &AppState, id: &str, user: &str) -> Result<crate::engine::JobRecord> {
    let job = find_job(state, id, user)?;
    if !matches!(
        job.status,
        harmonyql_lang::api::job::JobStatus::Successful | harmonyql_lang::api::job::JobStatus::CompleteWithErrors
    ) {
        return Err(ServerError::Conflict(format!("Job {id} is not complete")));
    }
    if view::outputs(&job).is_empty() {
        return Err(ServerError::NotFound(format!("Service did not provide STAC items for job {id}")));
    }
    Ok(job)
}

async fn stac_catalog(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Result<Response> {
    let user = identity(request.extensions());
    let root = root_url(request.headers());
    let pairs = query_lower(request.uri())?;
    let link_type = parse_link_type(&pairs)?;
    let page = parse_page(&pairs, MAX_PAGE_SIZE)?;
    let job = stac_job(&state, &id, &user)?;
    Ok(Json(view::stac_catalog(&root, &job, link_type, page)).into_response())
}

async fn stac_item(
    State(state): State<AppState>,
    Path((id, index)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    let user = identity(request.extensions());
    let root = root_url(request.headers());
    let pairs = query_lower(request.uri())?;
    let link_type = parse_link_type(&pairs)?;
    let job = stac_job(&state, &id, &user)?;
    let out_of_bounds = || ServerError::BadRequest("STAC item index is out of bounds".into());
    let index: usize = index.parse().map_err(|_| out_of_bounds())?;
    let item = view::stac_item(&root, &job, index, link_type).ok_or_else(out_of_bounds)?;
    Ok(Json(item).into_response())
}

/// Temporary credentials shaped like AWS STS's: the staging server's keys with `--stage-s3`; without it the
/// local server has no S3, so they open nothing, and say so.
fn credentials(staging: Option<&crate::staging::S3Staging>) -> serde_json::Value {
    let hex = |n: usize| -> String {
        let mut text = String::new();
        while text.len() < n {
            text.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        text.truncate(n);
        text
    };
    if let Some(staging) = staging {
        return serde_json::json!({
            "AccessKeyId": staging.access_key_id,
            "SecretAccessKey": staging.secret_access_key,
            "SessionToken": format!("hq-local-staging-{}", hex(64)),
            "Expiration": view::iso(Utc::now() + Duration::hours(8)),
        });
    }
    serde_json::json!({
        "AccessKeyId": format!("ASIAHQLOCAL{}", hex(9).to_uppercase()),
        "SecretAccessKey": hex(40),
        "SessionToken": format!("hq-local-no-s3-access-{}", hex(64)),
        "Expiration": view::iso(Utc::now() + Duration::hours(8)),
    })
}

async fn cloud_access(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(credentials(state.staging.as_ref()))
}

async fn cloud_access_sh(State(state): State<AppState>) -> Response {
    let creds = credentials(state.staging.as_ref());
    let text = |key: &str| creds[key].as_str().unwrap_or_default().to_string();
    let expiration = chrono::DateTime::parse_from_rfc3339(&text("Expiration"))
        .map(|t| t.with_timezone(&Utc).format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    let body = format!(
        "#!/bin/sh\n# Source this file to set keys to access Harmony S3 outputs within the us-west-2 region.\n# Keys will expire on {expiration}\n\nexport AWS_ACCESS_KEY_ID='{}'\nexport AWS_SECRET_ACCESS_KEY='{}'\nexport AWS_SESSION_TOKEN='{}'\n",
        text("AccessKeyId"),
        text("SecretAccessKey"),
        text("SessionToken")
    );
    ([(header::CONTENT_TYPE, "application/x-sh")], body).into_response()
}

/// Resolves `public/{jobID}/{workItemId}/{file}` to a file of a job the user owns.
fn result_file(state: &AppState, bucket: &str, path: &str, user: &str) -> Result<(PathBuf, String)> {
    let not_found = || ServerError::NotFound(format!("The file {} was not found", shorten(path)));
    if bucket != BUCKET {
        return Err(not_found());
    }
    let parts: Vec<&str> = path.split('/').collect();
    let ["public", job_id, item_id, file] = parts.as_slice() else {
        return Err(not_found());
    };
    let item_id: u64 = item_id.parse().map_err(|_| not_found())?;
    let job = find_job(state, job_id, user).map_err(|_| not_found())?;
    let item = job.work_items.iter().find(|i| i.id == item_id).ok_or_else(not_found)?;
    let output = item.outputs.iter().find(|o| o.file == *file).ok_or_else(not_found)?;
    let path = state.engine.results_dir().join(&job.job_id).join(item_id.to_string()).join(&output.file);
    Ok((path, output.mime.clone()))
}

/// Parses a single `bytes=` range against a file of `len` bytes; `Ok(None)` means "send it all".
fn parse_range(header: Option<&HeaderValue>, len: u64) -> Result<Option<(u64, u64)>> {
    let Some(text) = header.and_then(|h| h.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = text.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: answering with the whole file is allowed (RFC 9110 §14.2).
        return Ok(None);
    }
    let unsatisfiable =
        || ServerError::RangeNotSatisfiable(format!("range {} is outside the file of {len} bytes", shorten(text)));
    let (first, last) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().map_err(|_| unsatisfiable())?;
        if suffix == 0 || len == 0 {
            return Err(unsatisfiable());
        }
        (len.saturating_sub(suffix), len - 1)
    } else {
        let start: u64 = first.parse().map_err(|_| unsatisfiable())?;
        let end: u64 =
            if last.is_empty() { len.saturating_sub(1) } else { last.parse().map_err(|_| unsatisfiable())? };
        if start >= len || end < start {
            return Err(unsatisfiable());
        }
        (start, end.min(len - 1))
    };
    Ok(Some(range))
}

async fn service_results(
    State(state): State<AppState>,
    Path((bucket, path)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    let user = identity(request.extensions());
    let (file_path, mime) = result_file(&state, &bucket, &path, &user)?;
    serve_file(&file_path, &mime, &shorten(&path), request.headers()).await
}

/// A granule's own file, as CMR's data link of `/search/granules` names it: a sample is generated first if no
/// job has needed it yet. Only catalog granules, by concept ID: no path comes from the request.
async fn granule_file(
    State(state): State<AppState>,
    Path(concept_id): Path<String>,
    request: Request,
) -> Result<Response> {
    let not_found = || ServerError::NotFound(format!("No granule has the concept ID {}", shorten(&concept_id)));
    let granule = state.catalog.granule(&concept_id).ok_or_else(not_found)?;
    let samples = state.samples.clone();
    let name = granule.name.clone();
    let path = tokio::task::spawn_blocking(move || samples.ensure(&granule))
        .await
        .map_err(|error| ServerError::Internal(format!("generating {name} stopped: {error}")))?
        .map_err(|error| ServerError::Internal(error.to_string()))?;
    serve_file(&path, "application/x-hdf5", &name, request.headers()).await
}

/// Serves a whole file or the range asked for, with the validators (`ETag`, `Last-Modified`) a resuming
/// client checks with `If-Range`. `shown` names the file in a not-found message.
async fn serve_file(file_path: &std::path::Path, mime: &str, shown: &str, request: &HeaderMap) -> Result<Response> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = tokio::fs::File::open(file_path)
        .await
        .map_err(|_| ServerError::NotFound(format!("The file {shown} was not found")))?;
    let metadata = file.metadata().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    let len = metadata.len();
    // Validators, so a client resuming a download can tell whether the file is still the one it started.
    let modified = metadata.modified().ok().map(chrono::DateTime::<chrono::Utc>::from);
    let etag = format!("\"{len:x}-{:x}\"", modified.map_or(0, |m| m.timestamp_nanos_opt().unwrap_or(0)));
    let last_modified = modified.map(|m| m.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    // `If-Range` that names another version: the range is ignored and the whole file sent (RFC 9110 §13.1.5).
    let current = request
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|validator| validator == etag || last_modified.as_deref() == Some(validator));
    let range_header = request.get(header::RANGE).filter(|_| current);
    let range = match parse_range(range_header, len) {
        Ok(range) => range,
        Err(error) => {
            let mut response = error.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let (status, start, count) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, len),
    };
    file.seek(std::io::SeekFrom::Start(start)).await.map_err(|e| ServerError::Internal(e.to_string()))?;
    let reader = file.take(count);
    let stream = futures_util::stream::unfold(reader, |mut reader| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), reader))
            }
            Err(error) => Some((Err(error), reader)),
        }
    });
    let file_name = file_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(value) = last_modified.and_then(|text| HeaderValue::from_str(&text).ok()) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=600"));
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file_name.replace('"', ""))) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some((first, last)) = range
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}"))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

async fn not_found(method: Method) -> ServerError {
    if method == Method::POST {
        ServerError::NotFound("The requested POST page was not found.".into())
    } else {
        ServerError::NotFound("The requested page was not found.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        type Case<'a> = (&'a str, u64, Option<(u64, u64)>);
        let cases: &[Case] = &[
            ("bytes=0-9", 100, Some((0, 9))),
            ("bytes=90-", 100, Some((90, 99))),
            ("bytes=-10", 100, Some((90, 99))),
            ("bytes=-1000", 100, Some((0, 99))),
            ("bytes=50-1000", 100, Some((50, 99))),
            ("bytes=0-1,5-6", 100, None),
            ("items=0-1", 100, None),
        ];
        for (text, len, expected) in cases {
            let value = HeaderValue::from_str(text).unwrap();
            assert_eq!(parse_range(Some(&value), *len).unwrap(), *expected, "{text}");
        }
        for text in ["bytes=100-", "bytes=5-2", "bytes=x-y", "bytes=-0", "bytes=", "bytes=18446744073709551616-"] {
            let value = HeaderValue::from_str(text).unwrap();
            assert!(parse_range(Some(&value), 100).is_err(), "{text}");
        }
    }

    #[test]
    fn job_ids_must_be_canonical_uuids() {
        let cases = [
            ("a7aee059-7531-4388-86e0-85af1de9c31a", true),
            ("A7AEE059-7531-4388-86E0-85AF1DE9C31A", true),
            ("a7aee05975314388", false),
            ("../etc", false),
            ("", false),
        ];
        for (id, ok) in cases {
            assert_eq!(check_job_id(id).is_ok(), ok, "{id}");
        }
    }

    #[test]
    fn request_urls_encode_like_harmony() {
        let cases = [
            ("lat(40:42)", "lat(40%3A42)"),
            ("harmony-py", "harmony-py"),
            ("a b/c", "a%20b%2Fc"),
            ("time(\"x\")", "time(%22x%22)"),
        ];
        for (text, encoded) in cases {
            assert_eq!(encode_component(text), encoded);
        }
    }
}
