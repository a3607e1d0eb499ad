//! A bounded soak: many jobs and downloads through `hq serve`'s injected faults (503s, 429s with
//! Retry-After, bodies cut mid-way, latency). Every file must land complete and byte-identical to the
//! server's copy (SHA-256), no partial file may remain, and no job may be submitted twice. A few jobs by
//! default (seconds); `HQ_SOAK_JOBS=N` runs more.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use harmonyql::api::environment::Environment;
use harmonyql::api::request::{Body, Method, Request};
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::client::{Client, Submission};
use harmonyql::harmony::download::{DownloadConfig, download_all};
use harmonyql::harmony::jobs::{WaitConfig, result_links, wait};
use harmonyql::harmony::retry::RetryConfig;
use harmonyql_server::engine::Processor;
use harmonyql_server::faults::Faults;
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use tokio_util::sync::CancellationToken;

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
const FIXTURE: &str = "C1000000001-HQ_LOCAL";

/// Writes two files per granule, 200 KB each, whose bytes depend on the granule and the file.
struct TwoFiles;

impl Processor for TwoFiles {
    fn process(&self, granule: &SampleGranule, _: &Operation, out_dir: &Path) -> Result<Vec<Output>, TransformError> {
        let seed = granule.name.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
        (0..2u32)
            .map(|i| {
                let path = out_dir.join(format!("{}_{i}.h5", granule.name.trim_end_matches(".h5")));
                let bytes: Vec<u8> =
                    (0..200_000u32).map(|b| (b.wrapping_mul(2_654_435_761) ^ seed ^ i) as u8).collect();
                std::fs::write(&path, bytes).map_err(|e| TransformError::Io(e.to_string()))?;
                Ok(Output {
                    path,
                    mime: "application/x-hdf5".into(),
                    bbox: granule.bbox,
                    start: granule.start,
                    end: granule.end,
                })
            })
            .collect()
    }
}

fn sha256(path: &Path) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, &std::fs::read(path).unwrap()).as_ref().to_vec()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { found.push(path) }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_downloads_survive_injected_faults_byte_for_byte() {
    let jobs: usize = std::env::var("HQ_SOAK_JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let data = tempfile::tempdir().unwrap();
    let faults = Faults {
        latency: Duration::from_millis(2),
        error_rate: 0.2,
        drop_rate: 0.2,
        slow_body: Duration::ZERO,
        seed: 13,
    };
    let config = ServeConfig {
        port: 0,
        data_dir: data.path().to_path_buf(),
        auth: AuthMode::None,
        faults,
        ..ServeConfig::default()
    };
    let server = Server::bind_with_processor(config, Arc::new(TwoFiles)).await.unwrap();
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
    let mut job_ids = Vec::new();
    let mut downloaded = 0;
    for _ in 0..jobs {
        let request = Request::new(Method::Post, &base, format!("/{FIXTURE}/{RANGESET}"), Body::Multipart)
            .text("forceAsync", "true")
            .text("variable", "all");
        let job_id = match client.submit(&request).await.unwrap() {
            Submission::Job(job) => job.job_id,
            Submission::Body(body) => panic!("not a job: {body}"),
        };
        let waited = tokio::time::timeout(
            Duration::from_secs(60),
            wait(
                &client,
                &job_id,
                &WaitConfig { interval: Duration::from_millis(20) },
                &mut |_| {},
                &CancellationToken::new(),
            ),
        )
        .await
        .expect("the job must end")
        .unwrap_or_else(|error| panic!("waiting for {job_id}: {error}"));
        assert_eq!(waited.status.as_str(), "successful", "{job_id}");
        let links = result_links(&client, &job_id, "https", None, None).await.unwrap();
        let urls: Vec<String> = links.iter().map(|link| link.href.clone()).collect();
        let directory = target.path().join(&job_id);
        let config =
            DownloadConfig { concurrency: 4, stall_timeout: Duration::from_secs(10), ..DownloadConfig::default() };
        let paths = tokio::time::timeout(
            Duration::from_secs(120),
            download_all(&client, &urls, &directory, &config, &mut |_| {}, &CancellationToken::new()),
        )
        .await
        .expect("downloads must end")
        .unwrap_or_else(|error| panic!("downloading {job_id}: {error}"));
        downloaded += paths.len();
        // Byte-identical to the server's copy of each result.
        let served = files_under(&data.path().join("results").join(&job_id));
        for path in &paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let original = served
                .iter()
                .find(|s| name.ends_with(&*s.file_name().unwrap().to_string_lossy()))
                .unwrap_or_else(|| panic!("{name} not served"));
            assert_eq!(sha256(path), sha256(original), "{name}");
        }
        job_ids.push(job_id);
    }
    let left: Vec<_> =
        files_under(target.path()).into_iter().filter(|p| p.to_string_lossy().contains("hq-part")).collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(downloaded >= 2 * jobs, "{downloaded} files for {jobs} jobs");
    // One job per submission: none duplicated by a retry.
    let listed = files_under(&data.path().join("results"))
        .into_iter()
        .filter_map(|p| {
            p.strip_prefix(data.path().join("results"))
                .ok()?
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
        })
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(listed.len(), jobs, "{listed:?}");
}
