//! `hq serve` over HTTP: every endpoint, every user-visible job transition, errors, persistence, EDL emulation.
//!
//! The server runs in-process on 127.0.0.1 with a port picked by the OS and a processor that writes small
//! files, so these tests need no HDF5; `tests/python/server/` drives the real transformations with harmony-py.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use harmonyql_server::engine::Processor;
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
const FIXTURE: &str = "C1000000001-HQ_LOCAL";

/// Writes `n` files per granule (`n` from a `subset=outputs(n:n)` dimension, default 1), 1000 bytes each;
/// sleeps when a `subset=sleep(ms:ms)` dimension is given; fails with NoData when bbox west ≥ 150.
struct FakeProcessor;

impl Processor for FakeProcessor {
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        let dimension = |name: &str| {
            operation.dimensions.iter().find(|(n, _, _)| n == name).and_then(|(_, low, _)| *low).map(|v| v as usize)
        };
        if let Some(ms) = dimension("sleep") {
            std::thread::sleep(Duration::from_millis(ms as u64));
        }
        if operation.bbox.is_some_and(|b| b[0] >= 150.0) {
            return Err(TransformError::NoData("No data found in the bounding box".into()));
        }
        let n = dimension("outputs").unwrap_or(1);
        crate::processor::write_outputs(granule, out_dir, n, 1000, "_subsetted")
    }
}

struct TestServer {
    base: String,
    data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    async fn start_in(data_dir: PathBuf, auth: AuthMode) -> Self {
        Self::start_with(data_dir, auth, 300).await
    }

    async fn start_with(data_dir: PathBuf, auth: AuthMode, preview_threshold: usize) -> Self {
        let users = data_dir.join("users.txt");
        std::fs::create_dir_all(&data_dir).unwrap();
        std::fs::write(&users, "alice:wonderland\n").unwrap();
        let config = ServeConfig {
            port: 0,
            data_dir: data_dir.clone(),
            auth,
            users: Some(users),
            preview_threshold,
            ..ServeConfig::default()
        };
        let server = Server::bind_with_processor(config, Arc::new(FakeProcessor)).await.unwrap();
        let base = format!("http://{}", server.addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer { base, data_dir, shutdown: Some(tx), task: Some(task) }
    }

    async fn start() -> Self {
        Self::start_in(temp_dir(), AuthMode::None).await
    }

    async fn stop(mut self) -> PathBuf {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.data_dir.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Submits a Coverages request with these multipart fields; returns the job ID.
    async fn submit(&self, fields: &[(&str, &str)]) -> String {
        let mut form = reqwest::multipart::Form::new();
        if !fields.iter().any(|(k, _)| *k == "forceAsync") {
            form = form.text("forceAsync", "true");
        }
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let response =
            no_redirect().post(self.url(&format!("/{FIXTURE}/{RANGESET}"))).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        location.strip_prefix("/jobs/").unwrap().to_string()
    }

    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let response = reqwest::get(self.url(path)).await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn wait_for(&self, id: &str, statuses: &[&str]) -> Value {
        for _ in 0..300 {
            let (_, job) = self.json(&format!("/jobs/{id}")).await;
            if statuses.iter().any(|s| job["status"] == *s) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} never reached {statuses:?}");
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hq-it-server-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str, text: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let description = body["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("Error: ") && description.contains(text),
        "{description:?} should contain {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_endpoints_answer_json() {
    let server = TestServer::start().await;
    let (status, health) = server.json("/health").await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("up")));
    let (_, versions) = server.json("/versions").await;
    let names: Vec<&str> = versions.as_array().unwrap().iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(
        names.contains(&"sds/trajectory-subsetter") && names.contains(&"sds/HOSS-regridder-reformatter"),
        "{names:?}"
    );
    let (status, listing) = server.json("/hq/collections").await;
    assert_eq!(status, StatusCode::OK);
    let atl03 = listing["collections"].as_array().unwrap().iter().find(|c| c["shortName"] == "ATL03").unwrap();
    assert_eq!(atl03["conceptIds"][0], "C2596864127-NSIDC_CPRD");
    let (status, landing) = server.json("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(landing["links"].as_array().unwrap().len() >= 3);
    let (status, creds) = server.json("/cloud-access").await;
    assert_eq!(status, StatusCode::OK);
    for key in ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] {
        assert!(creds[key].as_str().is_some_and(|v| !v.is_empty()), "{key}: {creds}");
    }
    let script = reqwest::get(server.url("/cloud-access.sh")).await.unwrap();
    assert_eq!(script.headers()["content-type"], "application/x-sh");
    let text = script.text().await.unwrap();
    assert!(text.starts_with("#!/bin/sh\n# Source this file"), "{text}");
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        assert!(text.contains(&format!("export {name}='")), "{name}");
    }
    let (status, body) = server.json("/no/such/page").await;
    assert_error(status, &body, 404, "harmony.NotFoundError", "The requested page was not found.");
    let response = reqwest::Client::new().delete(server.url("/jobs")).send().await.unwrap();
    let status = response.status();
    assert_error(status, &response.json().await.unwrap(), 404, "harmony.NotFoundError", "not found");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_v2_default_v1_and_errors() {
    let server = TestServer::start().await;
    for id in ["C2596864127-NSIDC_CPRD", "C1256407609-NSIDC_CUAT"] {
        let (status, caps) = server.json(&format!("/capabilities?collectionId={id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((caps["conceptId"].as_str(), caps["shortName"].as_str()), (Some(id), Some("ATL03")));
        assert_eq!(caps["capabilitiesVersion"], "2");
        assert_eq!(caps["bboxSubset"], true);
        assert_eq!(caps["outputFormats"], json!(["application/x-hdf5"]));
    }
    let (_, v3) = server.json("/capabilities?shortName=SPL2SMP&version=3-alpha").await;
    assert_eq!(v3["capabilitiesVersion"], "3-alpha");
    assert_eq!(v3["summary"]["reprojection"]["supported"], true);
    assert!(v3["summary"]["outputFormats"].as_array().unwrap().iter().any(|f| f["name"] == "GEOTIFF"), "{v3}");
    let (_, v1) = server.json("/capabilities?SHORTNAME=SPL3SMP&version=1").await;
    assert_eq!(v1["capabilitiesVersion"], "1");
    assert!(v1["variables"][0].is_string() && v1["services"][0].get("href").is_none(), "{v1}");
    assert_eq!(v1["reproject"], true);
    let cases = [
        ("/capabilities", 400, "Must specify either collectionId or shortName"),
        (
            "/capabilities?collectionId=C1&shortName=X",
            400,
            "Must specify only one of collectionId or shortName, not both",
        ),
        ("/capabilities?shortName=NOPE", 404, "Unable to find collection"),
        ("/capabilities?shortName=ATL03&version=7", 400, "Invalid API version 7"),
        ("/capabilities?shortName=ATL03&colour=red", 400, "Invalid parameter(s): colour"),
    ];
    for (path, code, text) in cases {
        let (status, body) = server.json(path).await;
        let class = if code == 400 { "harmony.RequestValidationError" } else { "harmony.NotFoundError" };
        assert_error(status, &body, code, class, text);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_job_succeeds_with_data_links_stac_steps_and_downloads() {
    let server = TestServer::start().await;
    let id = server
        .submit(&[
            ("forceAsync", "true"),
            ("subset", "lat(87:88)"),
            ("subset", "lon(-180:180)"),
            ("label", "harmony-py"),
            ("variable", "all"),
        ])
        .await;
    let job = server.wait_for(&id, &["successful"]).await;
    for key in [
        "username",
        "status",
        "message",
        "progress",
        "createdAt",
        "updatedAt",
        "dataExpiration",
        "links",
        "labels",
        "request",
        "numInputGranules",
        "jobID",
    ] {
        assert!(job.get(key).is_some(), "missing {key}: {job}");
    }
    assert_eq!((job["progress"].as_u64(), job["numInputGranules"].as_u64()), (Some(100), Some(1)));
    assert_eq!(job["message"], "The job has completed successfully");
    assert_eq!(job["labels"], json!(["harmony-py"]));
    assert!(job["request"].as_str().unwrap().contains("subset=lat(87%3A88)"), "{}", job["request"]);
    let links = job["links"].as_array().unwrap();
    let rels: Vec<&str> = links.iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(rels, ["stac-catalog-json", "data", "self"]);
    let data = &links[1];
    let href = data["href"].as_str().unwrap();
    let pattern = format!("{}/service-results/harmony-local-staging/public/{id}/", server.base);
    assert!(href.starts_with(&pattern) && href.ends_with("/ATL03_gt1l_0_subsetted.h5"), "{href}");
    let granule = &harmonyql_server::sample::granules("ATL03_GT1L")[0];
    assert_eq!(data["bbox"], json!(granule.bbox));
    assert_eq!(data["temporal"]["start"], granule.start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));

    let full = reqwest::get(href).await.unwrap();
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.headers()["content-type"], "application/x-hdf5");
    let bytes = full.bytes().await.unwrap();
    assert_eq!(bytes.len(), 1000);
    let client = reqwest::Client::new();
    let part = client.get(href).header("Range", "bytes=10-19").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[10..20]);
    let tail = client.get(href).header("Range", "bytes=-5").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[995..]);
    let beyond = client.get(href).header("Range", "bytes=5000-").send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.headers()["content-range"], "bytes */1000");
    let (status, _) = server.json(&format!("/service-results/harmony-local-staging/public/{id}/999/x.h5")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.json("/service-results/harmony-local-staging/public/../../etc/passwd").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, s3) = server.json(&format!("/jobs/{id}?linktype=s3")).await;
    let s3_rels: Vec<&str> = s3["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(s3_rels, ["stac-catalog-json", "cloud-access-sh", "cloud-access-json", "data", "self"]);
    assert!(s3["links"][3]["href"].as_str().unwrap().starts_with("s3://harmony-local-staging/public/"));

    let (status, catalog) = server.json(&format!("/stac/{id}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((catalog["type"].as_str(), catalog["stac_version"].as_str()), (Some("Catalog"), Some("1.0.0")));
    assert_eq!(catalog["links"][1], json!({"href": "./0", "rel": "item", "title": "ATL03_gt1l_0_subsetted.h5"}));
    let (_, item) = server.json(&format!("/stac/{id}/0?linktype=https")).await;
    assert_eq!(item["id"], format!("{id}_0"));
    assert_eq!(item["geometry"]["type"], "Polygon");
    assert!(item["assets"].as_object().unwrap().contains_key(href), "{item}");
    let (status, body) = server.json(&format!("/stac/{id}/5")).await;
    assert_error(status, &body, 400, "harmony.RequestValidationError", "STAC item index is out of bounds");

    let (_, steps) = server.json(&format!("/jobs/{id}/steps")).await;
    assert_eq!(steps["steps"][1]["serviceID"], "sds/trajectory-subsetter");
    let item_id = steps["steps"][1]["workItems"][0]["id"].as_u64().unwrap();
    assert!(href.contains(&format!("/{item_id}/")), "{href}");
    let (_, resolved) = server.json(&format!("/jobs/{id}/steps?workItem={item_id}&resolveFiles=true")).await;
    assert_eq!(resolved["steps"][1]["workItems"][0]["outputFiles"][0], href);
    let (status, body) = server.json(&format!("/jobs/{id}/steps?resolveFiles=true")).await;
    assert_error(status, &body, 400, "harmony.RequestValidationError", "resolveFiles requires a workItem");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_links_page_at_2000_with_next_and_prev() {
    let server = TestServer::start().await;
    let id = server.submit(&[("subset", "outputs(2001:2001)"), ("variable", "all")]).await;
    let job = server.wait_for(&id, &["successful"]).await;
    let count = |job: &Value, rel: &str| job["links"].as_array().unwrap().iter().filter(|l| l["rel"] == rel).count();
    assert_eq!(count(&job, "data"), 2000);
    let next = job["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").unwrap();
    assert_eq!(next["title"], "The next page (2 of 2)");
    let next_href = next["href"].as_str().unwrap();
    let second: Value = reqwest::get(next_href).await.unwrap().json().await.unwrap();
    assert_eq!(count(&second, "data"), 1);
    assert_eq!(count(&second, "prev"), 1);
    assert_eq!(count(&second, "stac-catalog-json"), 1);
    let (_, small) = server.json(&format!("/jobs/{id}?linktype=https&page=3&limit=5")).await;
    assert_eq!(count(&small, "data"), 5);
    let rels: Vec<&str> =
        small["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).filter(|r| *r != "data").collect();
    assert_eq!(rels, ["stac-catalog-json", "first", "prev", "self", "next", "last"]);
    let cases = [
        ("page=0", "Parameter \"page\" is invalid"),
        ("page=x", "Parameter \"page\" is invalid"),
        ("limit=2001", "Parameter \"limit\" is invalid"),
        ("linktype=ftp", "Invalid linkType 'ftp' must be http, https, or s3"),
    ];
    for (query, text) in cases {
        let (status, body) = server.json(&format!("/jobs/{id}?{query}")).await;
        assert_error(status, &body, 400, "harmony.RequestValidationError", text);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_cancel_and_conflicts() {
    let server = TestServer::start().await;
    let client = no_redirect();
    let id = server.submit(&[("subset", "sleep(600:600)"), ("variable", "all")]).await;
    let (_, running) = server.json(&format!("/jobs/{id}")).await;
    assert_eq!(running["status"], "running");
    let rels: Vec<&str> = running["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(&rels[..2], ["canceler", "pauser"]);
    let action = |name: &str| client.get(server.url(&format!("/jobs/{id}/{name}?linktype=https"))).send();
    let conflict = action("resume").await.unwrap();
    let status = conflict.status();
    assert_error(
        status,
        &conflict.json().await.unwrap(),
        409,
        "harmony.ConflictError",
        "Job status is running - only paused jobs can be resumed.",
    );
    let skip = action("skip-preview").await.unwrap();
    let status = skip.status();
    assert_error(
        status,
        &skip.json().await.unwrap(),
        409,
        "harmony.ConflictError",
        "only previewing jobs can skip preview",
    );
    let paused = action("pause").await.unwrap();
    assert_eq!(paused.status(), StatusCode::FOUND);
    assert_eq!(paused.headers()["location"], format!("/jobs/{id}"));
    let job = server.wait_for(&id, &["paused"]).await;
    let rels: Vec<&str> = job["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(&rels[..2], ["canceler", "resumer"]);
    assert_eq!(job["message"], "The job is paused and may be resumed using the provided link");
    let again = action("pause").await.unwrap();
    let status = again.status();
    assert_error(
        status,
        &again.json().await.unwrap(),
        409,
        "harmony.ConflictError",
        "Job status cannot be updated from paused to paused.",
    );
    // Following the redirect ends at the status document, as harmony-py's `resume` expects.
    let resumed: Value =
        reqwest::get(server.url(&format!("/jobs/{id}/resume?linktype=https"))).await.unwrap().json().await.unwrap();
    assert_eq!(resumed["jobID"], id);
    server.wait_for(&id, &["successful"]).await;
    let late = client.post(server.url(&format!("/jobs/{id}/cancel"))).send().await.unwrap();
    let status = late.status();
    assert_error(
        status,
        &late.json().await.unwrap(),
        409,
        "harmony.ConflictError",
        "Job status cannot be updated from successful to canceled.",
    );

    let second = server.submit(&[("subset", "sleep(600:600)"), ("variable", "all")]).await;
    let canceled = client.get(server.url(&format!("/jobs/{second}/cancel"))).send().await.unwrap();
    assert_eq!(canceled.status(), StatusCode::FOUND);
    let job = server.wait_for(&second, &["canceled"]).await;
    assert_eq!(job["message"], "The job was canceled");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, still) = server.json(&format!("/jobs/{second}")).await;
    assert_eq!(still["status"], "canceled");
    let (status, body) = server.json(&format!("/jobs/{second}/explode")).await;
    assert_error(status, &body, 404, "harmony.NotFoundError", "not found");
    let (status, body) = server.json("/jobs/a7aee059-7531-4388-86e0-85af1de9c31a/pause").await;
    assert_error(
        status,
        &body,
        404,
        "harmony.NotFoundError",
        "Unable to find job a7aee059-7531-4388-86e0-85af1de9c31a",
    );

    let third = server.submit(&[("subset", "sleep(600:600)"), ("variable", "all")]).await;
    let batch = client.post(server.url("/jobs/pause")).json(&json!({"jobIDs": [third]})).send().await.unwrap();
    assert_eq!(batch.json::<Value>().await.unwrap(), json!({"status": "paused"}));
    let batch = client.post(server.url("/jobs/cancel")).json(&json!({"jobIDs": [third]})).send().await.unwrap();
    assert_eq!(batch.json::<Value>().await.unwrap(), json!({"status": "canceled"}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_granules_fail_or_complete_with_errors_per_ignore_errors() {
    let server = TestServer::start().await;
    let strict = server.submit(&[("subset", "lon(150:160)"), ("ignoreErrors", "false"), ("variable", "all")]).await;
    let job = server.wait_for(&strict, &["failed"]).await;
    assert_eq!(job["message"], "No data found in the bounding box");
    assert_eq!(job["errors"][0]["message"], "No data found in the bounding box");
    let rels: Vec<&str> = job["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(rels, ["self"]);
    let (status, body) = server.json(&format!("/stac/{strict}")).await;
    assert_error(status, &body, 409, "harmony.ConflictError", "is not complete");
    let none = server.submit(&[("granuleName", "NOTHING*"), ("variable", "all")]).await;
    let job = server.wait_for(&none, &["failed"]).await;
    assert_eq!(
        (job["numInputGranules"].as_u64(), job["message"].as_str()),
        (Some(0), Some("No matching granules found."))
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_status_labels_and_listing() {
    let server = TestServer::start().await;
    let a = server.submit(&[("label", "One"), ("variable", "all")]).await;
    let b = server.submit(&[("label", "two"), ("variable", "all")]).await;
    let missing = "a7aee059-7531-4388-86e0-85af1de9c31a";
    let client = reqwest::Client::new();
    let bulk: Value = client
        .post(server.url("/jobs/status"))
        .json(&json!({"jobIDs": [a, missing]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bulk["jobStatuses"][0]["jobID"], a);
    assert!(bulk["jobStatuses"][0]["progress"].is_u64());
    assert_eq!(bulk["notFoundJobIDs"], json!([missing]));
    let bad = client.post(server.url("/jobs/status")).json(&json!({"jobIDs": ["x"]})).send().await.unwrap();
    let status = bad.status();
    assert_error(status, &bad.json().await.unwrap(), 400, "harmony.RequestValidationError", "Job ID must be a UUID");
    server.wait_for(&a, &["successful"]).await;
    server.wait_for(&b, &["successful"]).await;

    let put = client.put(server.url(&format!("/labels?label=Foo&label=bar&jobID={a}&jobID={b}"))).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(put.json::<Value>().await.unwrap(), json!({"labels": ["foo", "bar"]}));
    let (_, job) = server.json(&format!("/jobs/{a}")).await;
    assert_eq!(job["labels"], json!(["one", "foo", "bar"]));
    let delete =
        client.delete(server.url("/labels")).json(&json!({"jobID": [a], "label": ["foo"]})).send().await.unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let (_, job) = server.json(&format!("/jobs/{a}")).await;
    assert_eq!(job["labels"], json!(["one", "bar"]));
    let bad = client.put(server.url("/labels?label=x&jobID=nope")).send().await.unwrap();
    let status = bad.status();
    assert_error(
        status,
        &bad.json().await.unwrap(),
        400,
        "harmony.RequestValidationError",
        "jobId nope is in invalid format.",
    );
    let unknown = client.put(server.url(&format!("/labels?label=x&jobID={missing}"))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let response = reqwest::get(server.url("/jobs")).await.unwrap();
    assert_eq!(response.headers()["harmony-hits"], "2");
    let listing: Value = response.json().await.unwrap();
    assert_eq!(listing["count"], 2);
    assert_eq!(listing["jobs"][0]["jobID"], b, "newest first");
    assert!(listing["jobs"][0]["links"].as_array().unwrap().iter().any(|l| l["rel"] == "item"));
    let (_, two) = server.json("/jobs?label=TWO").await;
    assert_eq!((two["count"].as_u64(), two["jobs"][0]["jobID"].as_str()), (Some(1), Some(b.as_str())));
    let (_, paged) = server.json("/jobs?page=2&limit=1").await;
    assert_eq!(paged["jobs"][0]["jobID"], a);
    let rels: Vec<&str> = paged["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(rels, ["prev", "self"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edr_area_position_and_trajectory_submit_jobs() {
    let server = TestServer::start().await;
    let client = no_redirect();
    let cases = [
        (
            "area",
            json!({"forceAsync": "true", "coords": "POLYGON((-180 87, 180 87, 180 88, -180 88, -180 87))", "label": ["harmony-py"], "parameter-name": ["all"]}),
        ),
        (
            "position",
            json!({"forceAsync": "true", "coords": "POINT(120 87.296)", "label": ["harmony-py"], "parameter-name": ["all"]}),
        ),
        (
            "trajectory",
            json!({"forceAsync": "true", "coords": "LINESTRING(119 87.29, 121 87.3)", "maxResults": 1, "parameter-name": ["all"]}),
        ),
    ];
    for (route, body) in cases {
        let response = client
            .post(server.url(&format!("/ogc-api-edr/1.1.0/collections/{FIXTURE}/{route}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{route}: {:?}", response.text().await);
        let id = response.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_string();
        let job = server.wait_for(&id, &["successful"]).await;
        assert_eq!(job["numInputGranules"], 1, "{route}");
    }
    let wrong = client
        .post(server.url(&format!("/ogc-api-edr/1.1.0/collections/{FIXTURE}/area")))
        .json(&json!({"coords": "POINT(1 2)"}))
        .send()
        .await
        .unwrap();
    let status = wrong.status();
    assert_error(
        status,
        &wrong.json().await.unwrap(),
        400,
        "harmony.RequestValidationError",
        "Unsupported WKT type POINT",
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_validate_like_harmony() {
    let server = TestServer::start().await;
    let client = no_redirect();
    let url = server.url(&format!("/{FIXTURE}/{RANGESET}"));
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: &[Case] = &[
        (&[("subset", "lat(50:40)"), ("variable", "all")], 400, "ascending order"),
        (&[("bogus", "1"), ("variable", "all")], 400, "Invalid parameter(s): bogus"),
        (&[("forceAsync", "maybe"), ("variable", "all")], 400, "\"forceAsync\" must be either true or false"),
        (
            &[("variable", "/gt1l/heights/nope")],
            400,
            "Coverages were not found for the provided variables: /gt1l/heights/nope",
        ),
        (&[("format", "image/tiff"), ("variable", "all")], 422, "reformatting to image/tiff"),
        (&[("outputcrs", "EPSG:4326"), ("variable", "all")], 422, "reprojection"),
        (&[("forceAsync", "true")], 400, "no variable parameter given"),
    ];
    for (fields, code, text) in cases {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in *fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let response = client.post(&url).multipart(form).send().await.unwrap();
        let status = response.status();
        let class = if *code == 400 { "harmony.RequestValidationError" } else { "harmony.UnsupportedOperation" };
        assert_error(status, &response.json().await.unwrap(), *code, class, text);
    }
    let duplicate = client
        .post(format!("{url}?label=a"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("LABEL=b&variable=all")
        .send()
        .await
        .unwrap();
    let status = duplicate.status();
    assert_error(
        status,
        &duplicate.json().await.unwrap(),
        400,
        "harmony.RequestValidationError",
        "Duplicate keys \"LABEL\" found from request body and query string!",
    );
    let get = client.get(format!("{url}?variable=all&maxResults=1")).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::SEE_OTHER);
    let unknown = client.get(server.url(&format!("/C0-NOPE/{RANGESET}?variable=all"))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_get_a_500() {
    let server = TestServer::start().await;
    let client = no_redirect();
    let long = "x".repeat(20_000);
    let requests: Vec<reqwest::RequestBuilder> = vec![
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?subset=lat(((((&variable=all"))),
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?subset=time(\"\":\"\")&variable=all"))),
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?subset=lat(1e999:2)&variable=all"))),
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?subset=lat(NaN:2)&variable=all"))),
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?%FF%FE=1"))),
        client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?variable={long}"))),
        client
            .post(server.url(&format!("/{FIXTURE}/{RANGESET}")))
            .header("content-type", "multipart/form-data; boundary=x")
            .body("--x\r\ngarbage"),
        client
            .post(server.url(&format!("/{FIXTURE}/{RANGESET}")))
            .header("content-type", "application/json")
            .body("[1,2"),
        client
            .post(server.url(&format!("/{FIXTURE}/{RANGESET}")))
            .header("content-type", "application/json")
            .body("{\"variable\": {\"a\": 1}}"),
        client.post(server.url(&format!("/{FIXTURE}/{RANGESET}"))).header("content-type", "text/weird").body("x"),
        client.post(server.url(&format!("/{FIXTURE}/{RANGESET}"))).multipart(
            reqwest::multipart::Form::new()
                .part(
                    "shapefile",
                    reqwest::multipart::Part::bytes(vec![0u8, 159, 146, 150]).mime_str("application/geo+json").unwrap(),
                )
                .text("variable", "all"),
        ),
        client
            .post(server.url(&format!("/ogc-api-edr/1.1.0/collections/{FIXTURE}/area")))
            .json(&json!({"coords": "POLYGON((((((((((((0 0))))))))))))"})),
        client.post(server.url(&format!("/ogc-api-edr/1.1.0/collections/{FIXTURE}/radius"))).json(&json!({})),
        client.post(server.url("/jobs/status")).json(&json!({"jobIDs": "nope"})),
        client.post(server.url("/jobs/status")).body(vec![0xffu8; 64]),
        client.get(server.url("/jobs/status")),
        client.get(server.url(&format!("/jobs/{long}"))),
        client.get(server.url("/jobs?page=99999999999999999999999&limit=-1")),
        client.get(server.url("/jobs?page=18446744073709551615&limit=2000")),
        client.get(server.url("/jobs/a7aee059-7531-4388-86e0-85af1de9c31a?page=18446744073709551615")),
        client.get(server.url("/stac/x/y")),
        client.get(server.url("/stac/a7aee059-7531-4388-86e0-85af1de9c31a/-1")),
        client.put(server.url("/labels")).body("{"),
        client.delete(server.url("/labels?jobID=&label=")),
        client.get(server.url("/service-results/x/%2e%2e/%2e%2e/etc/passwd")),
        client.get(server.url("/capabilities?version=%00")),
        client.get(server.url("/")).header("host", "evil\"host"),
    ];
    for request in requests {
        let request = request.build().unwrap();
        let description =
            format!("{} {}", request.method(), &request.url().as_str()[..request.url().as_str().len().min(120)]);
        let response = client.execute(request).await.unwrap();
        let status = response.status();
        assert!(status.as_u16() < 500, "{description} answered {status}");
        if status.is_client_error() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(body["code"].as_str().is_some_and(|c| c.starts_with("harmony.")), "{description}: {body}");
        }
    }
    let (status, _) = server.json("/health").await;
    assert_eq!(status, StatusCode::OK, "still serving");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_files_survive_a_restart() {
    let server = TestServer::start().await;
    let id = server.submit(&[("label", "kept"), ("variable", "all")]).await;
    let job = server.wait_for(&id, &["successful"]).await;
    let old_href = job["links"][1]["href"].as_str().unwrap().to_string();
    let paused = server.submit(&[("subset", "sleep(300:300)"), ("variable", "all")]).await;
    no_redirect().get(server.url(&format!("/jobs/{paused}/pause"))).send().await.unwrap();
    let data_dir = server.stop().await;

    let server = TestServer::start_in(data_dir, AuthMode::None).await;
    let (status, job) = server.json(&format!("/jobs/{id}")).await;
    assert_eq!(
        (status, job["status"].as_str(), job["labels"].clone()),
        (StatusCode::OK, Some("successful"), json!(["kept"]))
    );
    let new_href = job["links"][1]["href"].as_str().unwrap();
    assert_eq!(new_href.rsplit_once("/public/").unwrap().1, old_href.rsplit_once("/public/").unwrap().1);
    let file = reqwest::get(new_href).await.unwrap();
    assert_eq!((file.status(), file.bytes().await.unwrap().len()), (StatusCode::OK, 1000));
    let job = server.wait_for(&paused, &["paused"]).await;
    assert_eq!(job["status"], "paused");
    reqwest::get(server.url(&format!("/jobs/{paused}/resume"))).await.unwrap();
    server.wait_for(&paused, &["successful"]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edl_emulation_runs_the_redirect_dance_and_accepts_bearer_tokens() {
    let server = TestServer::start_in(temp_dir(), AuthMode::Edl).await;
    let client = no_redirect();
    let (status, _) = server.json("/health").await;
    assert_eq!(status, StatusCode::OK, "public routes need no login");

    let first = client.get(server.url("/jobs?page=1")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let authorize = first.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&server.url("/oauth/authorize?")) && authorize.contains("state="), "{authorize}");
    let cookies: Vec<String> = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let cookie_header = cookies.join("; ");

    let refused = client.get(&authorize).basic_auth("alice", Some("wrong")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let granted = client.get(&authorize).basic_auth("alice", Some("wonderland")).send().await.unwrap();
    assert_eq!(granted.status(), StatusCode::FOUND);
    let callback = granted.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with(&server.url("/oauth2/redirect?code=")), "{callback}");
    let forged = client.get(&callback).header("cookie", "state=other").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let back = client.get(&callback).header("cookie", &cookie_header).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(back.headers()["location"], "/jobs?page=1");
    let token_cookie = back
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("token=") && c.len() > 6)
        .unwrap();
    let replay = client.get(&callback).header("cookie", &cookie_header).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "codes are single use");

    let listed = client.get(server.url("/jobs")).header("cookie", &token_cookie).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let forged = client.get(server.url("/jobs")).header("cookie", format!("{token_cookie}0")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER, "a bad cookie restarts the dance");

    let token: Value = client
        .post(server.url("/api/users/token"))
        .basic_auth("alice", Some("wonderland"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    let form = reqwest::multipart::Form::new().text("variable", "all").text("forceAsync", "true");
    let submitted = client
        .post(server.url(&format!("/{FIXTURE}/{RANGESET}")))
        .bearer_auth(bearer)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let job_path = submitted.headers()["location"].to_str().unwrap().to_string();
    let job: Value = client.get(server.url(&job_path)).bearer_auth(bearer).send().await.unwrap().json().await.unwrap();
    assert_eq!(job["username"], "alice");
    let put =
        client.put(server.url("/labels?label=x&jobID=a7aee059-7531-4388-86e0-85af1de9c31a")).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::UNAUTHORIZED, "PUT never redirects");
    let bad = client.get(server.url("/jobs")).bearer_auth("hq1.00.1.00").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_jobs_preview_then_pause_and_skip_preview_runs_them() {
    let server = TestServer::start_with(temp_dir(), AuthMode::None, 2).await;
    let client = no_redirect();
    let n_granules = harmonyql_server::sample::granules("ATL03").len();
    assert!(n_granules >= 2, "the sample catalog has {n_granules} ATL03 granules");
    let submit = |extra: &'static str| {
        client
            .get(server.url(&format!("/ATL03/{RANGESET}?forceAsync=true&variable=all&subset=sleep(300:300){extra}")))
            .send()
    };
    let response = submit("").await.unwrap();
    let id = response.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_string();
    let (_, job) = server.json(&format!("/jobs/{id}")).await;
    assert_eq!(job["status"], "previewing");
    assert_eq!(job["message"], "The job is generating a preview before auto-pausing");
    let rels: Vec<&str> = job["links"].as_array().unwrap().iter().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(&rels[..3], ["canceler", "pauser", "preview-skipper"]);
    let job = server.wait_for(&id, &["paused"]).await;
    assert_eq!(job["numInputGranules"].as_u64(), Some(n_granules as u64));
    let data = job["links"].as_array().unwrap().iter().filter(|l| l["rel"] == "data").count();
    assert_eq!(data, 1, "the preview granule's output is already listed");
    let skipped = client.post(server.url(&format!("/jobs/{id}/skip-preview"))).send().await.unwrap();
    assert_eq!(skipped.status(), StatusCode::FOUND);
    let (_, job) = server.json(&format!("/jobs/{id}")).await;
    assert_eq!(job["status"], "running");
    let job = server.wait_for(&id, &["successful"]).await;
    assert_eq!(job["progress"], 100);

    let live = submit("").await.unwrap();
    let live = live.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_string();
    let skipped = client.get(server.url(&format!("/jobs/{live}/skip-preview"))).send().await.unwrap();
    assert_eq!(skipped.status(), StatusCode::FOUND, "skip while previewing");
    let (_, job) = server.json(&format!("/jobs/{live}")).await;
    assert_eq!(job["status"], "running");
    client.get(server.url(&format!("/jobs/{live}/cancel"))).send().await.unwrap();

    let direct = submit("&skipPreview=true").await.unwrap();
    let direct = direct.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_string();
    let (_, job) = server.json(&format!("/jobs/{direct}")).await;
    assert_eq!(job["status"], "running");
    let limited = submit("&skipPreview=true&maxResults=1").await.unwrap();
    let limited = limited.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_string();
    let job = server.wait_for(&limited, &["successful"]).await;
    assert_eq!(job["numInputGranules"], 1);
    let expected = format!(
        "CMR query identified {n_granules} granules, but the request has been limited to process only the first 1 granules because you requested 1 maxResults. The job has completed successfully"
    );
    assert_eq!(job["message"], expected);
    client.get(server.url(&format!("/jobs/{direct}/cancel"))).send().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_granule_without_force_async_answers_synchronously() {
    let server = TestServer::start().await;
    let client = no_redirect();
    let response = client.get(server.url(&format!("/{FIXTURE}/{RANGESET}?variable=all"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/service-results/harmony-local-staging/public/"), "{location}");
    let file = reqwest::get(server.url(&location)).await.unwrap();
    assert_eq!((file.status(), file.bytes().await.unwrap().len()), (StatusCode::OK, 1000));
    let failed = client
        .get(server.url(&format!("/{FIXTURE}/{RANGESET}?variable=all&subset=lon(150:160)")))
        .send()
        .await
        .unwrap();
    let status = failed.status();
    assert_error(
        status,
        &failed.json().await.unwrap(),
        400,
        "harmony.ServiceError",
        "No data found in the bounding box",
    );
    let many = client
        .get(server.url(&format!("/{FIXTURE}/{RANGESET}?variable=all&subset=outputs(2:2)")))
        .send()
        .await
        .unwrap();
    assert!(many.headers()["location"].to_str().unwrap().starts_with("/jobs/"), "two outputs: the job");
    server.stop().await;
}
