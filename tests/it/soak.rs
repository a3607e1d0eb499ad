//! A bounded soak: many jobs and downloads through `hq serve`'s injected faults — on the wire (503s, 429s
//! with Retry-After, bodies cut mid-way, latency) and in the job engine (work items that stall, fail mid-job
//! or are interrupted by a restart). Every file must land complete and byte-identical to the server's copy
//! (SHA-256), no partial file may remain, no job may be submitted twice, every failed job must say which
//! file failed and how to retry, and memory must stay bounded. A few jobs by default (seconds);
//! `HQ_SOAK_JOBS=100` runs 100 jobs and 500 downloads (see docs/security/wire-and-server.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use harmonyql::api::environment::Environment;
use harmonyql::api::request::{Body, Method, Request};
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::client::{Client, Submission};
use harmonyql::harmony::download::{DownloadConfig, download_all};
use harmonyql::harmony::error::Error;
use harmonyql::harmony::jobs::{WaitConfig, result_links, wait};
use harmonyql::harmony::retry::RetryConfig;
use harmonyql_server::engine::Processor;
use harmonyql_server::faults::{Faults, JobFaults};
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use tokio_util::sync::CancellationToken;

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
/// The fixture collection: one granule, so each job is one work item and a failed item fails its job.
const FIXTURE: &str = "C1000000001-HQ_LOCAL";
const GRANULE: &str = "ATL03_gt1l.h5";
/// Files per job: 100 jobs give 500 downloads.
const FILES_PER_JOB: usize = 5;
/// Jobs submitted and downloaded at once.
const CONCURRENT_JOBS: usize = 4;
/// Submissions per job before the soak gives up: with a 10 % failure and 10 % restart rate, ten failed
/// attempts in a row come once in 10^10.
const MAX_ATTEMPTS: usize = 10;
/// Peak resident memory allowed for this process (client and server together), a generous bound: the
/// files are streamed, so memory must not grow with the number of jobs or files.
const MAX_PEAK_RSS_KIB: u64 = 1024 * 1024;

/// Writes five 100 KB files per granule.
struct FiveFiles;

impl Processor for FiveFiles {
    fn process(&self, granule: &SampleGranule, _: &Operation, out_dir: &Path) -> Result<Vec<Output>, TransformError> {
        crate::processor::write_outputs(granule, out_dir, FILES_PER_JOB, 100_000, "")
    }
}

fn sha256(path: &Path) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, &std::fs::read(path).unwrap()).as_ref().to_vec()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { found.push(path) }
        }
    }
    found
}

/// What one job of the soak did.
struct Soaked {
    job_id: String,
    /// Failed attempts before it, each reported with the file and the retry line.
    failures: Vec<String>,
    paths: Vec<PathBuf>,
}

/// Submits until a job succeeds (each failure must name the granule and say how to retry), then downloads
/// its files.
async fn soak_one(client: &Client, base: &str, target: &Path, submissions: &AtomicUsize) -> Soaked {
    let mut failures = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let request = Request::new(Method::Post, base, format!("/{FIXTURE}/{RANGESET}"), Body::Multipart)
            .text("forceAsync", "true")
            .text("variable", "all");
        let job_id = match client.submit(&request).await.unwrap() {
            Submission::Job(job) => job.job_id,
            Submission::Body(body) => panic!("not a job: {body}"),
        };
        submissions.fetch_add(1, Ordering::SeqCst);
        let waited = tokio::time::timeout(
            Duration::from_secs(60),
            wait(
                client,
                &job_id,
                &WaitConfig { interval: Duration::from_millis(20) },
                &mut |_| {},
                &CancellationToken::new(),
            ),
        )
        .await
        .expect("the job must end");
        match waited {
            Ok(job) => assert_eq!(job.status.as_str(), "successful", "{job_id}"),
            Err(error @ Error::JobFailed { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&job_id), "{message}");
                assert!(message.contains(GRANULE), "the failure must name the file: {message}");
                assert!(message.contains("submit the request again to retry it"), "{message}");
                failures.push(message);
                continue;
            }
            Err(error) => panic!("waiting for {job_id}: {error}"),
        }
        let links = result_links(client, &job_id, "https", None, None).await.unwrap();
        let urls: Vec<String> = links.iter().map(|link| link.href.clone()).collect();
        let config =
            DownloadConfig { concurrency: 4, stall_timeout: Duration::from_secs(10), ..DownloadConfig::default() };
        let paths = tokio::time::timeout(
            Duration::from_secs(120),
            download_all(client, &urls, &target.join(&job_id), &config, &mut |_| {}, &CancellationToken::new()),
        )
        .await
        .expect("downloads must end")
        .unwrap_or_else(|error| panic!("downloading {job_id}: {error}"));
        return Soaked { job_id, failures, paths };
    }
    panic!("{MAX_ATTEMPTS} attempts failed: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_downloads_survive_injected_faults_byte_for_byte() {
    let jobs: usize = std::env::var("HQ_SOAK_JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let faults = Faults {
        latency: Duration::from_millis(2),
        error_rate: 0.2,
        drop_rate: 0.2,
        slow_body: Duration::ZERO,
        seed: 13,
        jobs: JobFaults {
            stall_rate: 0.2,
            stall: Duration::from_millis(300),
            fail_rate: 0.1,
            restart_rate: 0.1,
            seed: 13,
        },
    };
    let config = ServeConfig {
        port: 0,
        data_dir: data.path().to_path_buf(),
        auth: AuthMode::None,
        faults,
        ..ServeConfig::default()
    };
    let server = Server::bind_with_processor(config, Arc::new(FiveFiles)).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    // The faults are on: some plain GETs get 503 or 429 (with Retry-After), some bodies are cut.
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = reqwest::get(format!("{base}/health")).await.unwrap();
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.iter().any(|s| *s == 503 || *s == 429), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() >= 10, "{statuses:?}");
    // Patient enough for a run of faults at a 20 % rate: 10 retries, quick backoff.
    let retry = RetryConfig {
        max_retries: 10,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
    };
    let client = Client::new(Environment::Url(base.clone()), Credentials::Anonymous).unwrap().with_retry(retry);
    let target = tempfile::tempdir().unwrap();
    let submissions = AtomicUsize::new(0);
    let soaked: Vec<Soaked> = futures_util::stream::iter(0..jobs)
        .map(|_| soak_one(&client, &base, target.path(), &submissions))
        .buffer_unordered(CONCURRENT_JOBS)
        .collect()
        .await;
    let mut downloaded = 0;
    for Soaked { job_id, paths, .. } in &soaked {
        downloaded += paths.len();
        assert_eq!(paths.len(), FILES_PER_JOB, "{job_id}");
        // Byte-identical to the server's copy of each result.
        let served = files_under(&data.path().join("results").join(job_id));
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let original = served
                .iter()
                .find(|s| name.ends_with(&*s.file_name().unwrap().to_string_lossy()))
                .unwrap_or_else(|| panic!("{name} not served"));
            assert_eq!(sha256(path), sha256(original), "{name}");
        }
    }
    let left: Vec<_> =
        files_under(target.path()).into_iter().filter(|p| p.to_string_lossy().contains("hq-part")).collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(downloaded, FILES_PER_JOB * jobs);
    // One job per submission, none duplicated by a retry or a restart, each in a final state.
    let listing = loop {
        let response = reqwest::get(format!("{base}/jobs?limit=2000")).await.unwrap();
        if response.status() == 200 {
            break response.json::<serde_json::Value>().await.unwrap();
        }
    };
    let listed = listing["jobs"].as_array().unwrap();
    let n_submitted = submissions.load(Ordering::SeqCst);
    assert_eq!(listed.len(), n_submitted, "{listing}");
    assert!(listed.iter().all(|job| matches!(job["status"].as_str(), Some("successful" | "failed"))), "{listing}");
    let n_failed = soaked.iter().map(|s| s.failures.len()).sum::<usize>();
    assert_eq!(listed.iter().filter(|job| job["status"] == "failed").count(), n_failed, "{listing}");
    let peak = crate::server_load::peak_rss_kib("self");
    eprintln!(
        "soak: {jobs} jobs ({n_submitted} submissions, {n_failed} failed and retried), {downloaded} downloads in {:.1} s; peak RSS of client and server {} MiB",
        started.elapsed().as_secs_f64(),
        peak / 1024
    );
    assert!(peak < MAX_PEAK_RSS_KIB, "peak RSS {peak} KiB");
}
