//! `hq serve` under load and after `kill -9`: a thousand concurrent status requests and a hundred concurrent
//! jobs without an error and with bounded memory; the real `hq serve` killed mid-job and started again on the
//! same data directory, after which every job ends consistent and no half-written file is ever served.

use std::io::BufRead as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use harmonyql::api::environment::Environment;
use harmonyql::api::request::{Body, Method, Request};
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::client::{Client, Submission};
use harmonyql_server::engine::Processor;
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
const FIXTURE: &str = "C1000000001-HQ_LOCAL";
/// Peak resident memory allowed (KiB): generous, but far below what a leak per request or per job would reach.
const MAX_PEAK_RSS_KIB: u64 = 1024 * 1024;

/// Writes two 10 KB files per granule, taking a little while so jobs overlap.
struct TwoSmallFiles;

impl Processor for TwoSmallFiles {
    fn process(&self, granule: &SampleGranule, _: &Operation, out_dir: &Path) -> Result<Vec<Output>, TransformError> {
        std::thread::sleep(Duration::from_millis(5));
        crate::processor::write_outputs(granule, out_dir, 2, 10_000, "")
    }
}

/// `VmHWM` (peak resident memory) of a process (`self` for this one), in KiB.
pub fn peak_rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn submit(client: &Client, base: &str) -> String {
    let request = Request::new(Method::Post, base, format!("/{FIXTURE}/{RANGESET}"), Body::Multipart)
        .text("forceAsync", "true")
        .text("variable", "all");
    match client.submit(&request).await {
        Ok(Submission::Job(job)) => job.job_id,
        Ok(Submission::Body(body)) => panic!("not a job: {body}"),
        Err(error) => panic!("submitting: {error}"),
    }
}

/// Polls `GET /jobs/{id}` until the job is final (bounded), and returns its document.
async fn final_job(http: &reqwest::Client, base: &str, job_id: &str, bound: Duration) -> serde_json::Value {
    let deadline = Instant::now() + bound;
    loop {
        let job: serde_json::Value =
            http.get(format!("{base}/jobs/{job_id}")).send().await.unwrap().json().await.unwrap();
        let status = job["status"].as_str().unwrap_or_default().to_owned();
        if ["successful", "failed", "canceled", "complete_with_errors"].contains(&status.as_str()) {
            return job;
        }
        assert!(Instant::now() < deadline, "job {job_id} still {status} after {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_status_requests_and_a_hundred_jobs_at_once_get_no_error_in_bounded_memory() {
    let data = tempfile::tempdir().unwrap();
    let config =
        ServeConfig { port: 0, data_dir: data.path().to_path_buf(), auth: AuthMode::None, ..ServeConfig::default() };
    let server = Server::bind_with_processor(config, Arc::new(TwoSmallFiles)).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    let client = Client::new(Environment::Url(base.clone()), Credentials::Anonymous).unwrap();
    // A hundred submissions at once.
    let job_ids: Vec<String> = futures_util::future::join_all((0..100).map(|_| submit(&client, &base))).await;
    assert_eq!(job_ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 100);
    // A thousand status requests at once, while the jobs run: each its own connection.
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(0..1000)
        .map(|n| {
            let url = format!("{base}/jobs/{}", job_ids[n % job_ids.len()]);
            async move {
                let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
                let response = tokio::time::timeout(Duration::from_secs(60), http.get(url).send())
                    .await
                    .expect("a status request must be answered within 60 s");
                match response {
                    Ok(response) => response.status().as_u16(),
                    Err(error) => panic!("status request {n}: {error}"),
                }
            }
        })
        .buffer_unordered(1000)
        .collect()
        .await;
    let answered_in = started.elapsed();
    let bad: Vec<&u16> = statuses.iter().filter(|s| **s != 200).collect();
    assert!(bad.is_empty(), "{} of 1000 status requests failed: {bad:?}", bad.len());
    let http = reqwest::Client::new();
    for job_id in &job_ids {
        let job = final_job(&http, &base, job_id, Duration::from_secs(120)).await;
        assert_eq!(job["status"], "successful", "{job}");
        assert_eq!(job["links"].as_array().unwrap().iter().filter(|l| l["rel"] == "data").count(), 2, "{job}");
    }
    let peak = peak_rss_kib("self");
    eprintln!("load: 1000 status requests in {answered_in:?}, 100 jobs; peak RSS {} MiB", peak / 1024);
    assert!(peak < MAX_PEAK_RSS_KIB, "peak RSS {peak} KiB");
}

/// A running `hq serve` child, killed when dropped.
struct ServeProcess {
    child: std::process::Child,
    base: String,
}

impl ServeProcess {
    fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hq"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver.recv_timeout(Duration::from_secs(30)).expect("hq serve must say where it listens");
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        ServeProcess { child, base }
    }

    fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(&self.child.id().to_string())
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush; what the database has committed is all that survives.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every file under `dir` whose name marks it partial.
fn partial_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".part") || name.ends_with(".tmp") {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hq_serve_killed_mid_job_and_restarted_ends_every_job_and_serves_only_whole_files() {
    let data = tempfile::tempdir().unwrap();
    // Stalls keep jobs in flight long enough for the kill to land mid-job.
    let mut first = ServeProcess::start(data.path(), &["--fault-stall-rate", "0.5", "--fault-stall-ms", "400"]);
    let client = Client::new(Environment::Url(first.base.clone()), Credentials::Anonymous).unwrap();
    let mut job_ids = Vec::new();
    for _ in 0..12 {
        job_ids.push(submit(&client, &first.base).await);
    }
    // Kill once some jobs have finished and others have not.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let finished_before = loop {
        let mut finished = 0;
        for job_id in &job_ids {
            let job: serde_json::Value =
                http.get(format!("{}/jobs/{job_id}", first.base)).send().await.unwrap().json().await.unwrap();
            finished += usize::from(job["status"] == "successful");
        }
        if finished >= 2 {
            break finished;
        }
        assert!(Instant::now() < deadline, "no job finished in 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let serve_peak = first.peak_rss_kib();
    first.kill();
    assert!(finished_before < job_ids.len(), "every job finished before the kill; nothing was interrupted");
    // Started again on the same data directory: the killed run's partial files gone (the new run may be
    // writing its own), every job resumed to its end.
    let left_by_the_kill = partial_files(data.path());
    let second = ServeProcess::start(data.path(), &[]);
    let still_there: Vec<&String> = left_by_the_kill.iter().filter(|p| Path::new(p).exists()).collect();
    assert!(still_there.is_empty(), "{still_there:?}");
    for job_id in &job_ids {
        let job = final_job(&http, &second.base, job_id, Duration::from_secs(180)).await;
        assert_eq!((job["status"].as_str(), job["progress"].as_u64()), (Some("successful"), Some(100)), "{job}");
        let links: Vec<String> = job["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["rel"] == "data")
            .map(|l| l["href"].as_str().unwrap().to_owned())
            .collect();
        assert!(!links.is_empty(), "{job}");
        for href in links {
            // Whole: the served bytes open as HDF5 and match the length the server announced.
            let response = http.get(&href).send().await.unwrap();
            assert_eq!(response.status(), 200, "{href}");
            let announced = response.content_length();
            let bytes = response.bytes().await.unwrap();
            assert_eq!(announced, Some(bytes.len() as u64), "{href}");
            let copy = data.path().join(format!("served-{}.h5", uuid::Uuid::new_v4()));
            std::fs::write(&copy, &bytes).unwrap();
            let opened = hdf5::File::open(&copy);
            assert!(opened.is_ok(), "{href} is not a whole HDF5 file: {:?}", opened.err());
            std::fs::remove_file(&copy).unwrap();
        }
    }
    // No job lost, none duplicated.
    let listing: serde_json::Value =
        http.get(format!("{}/jobs?limit=2000", second.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(listing["jobs"].as_array().unwrap().len(), job_ids.len(), "{listing}");
    assert_eq!(partial_files(data.path()), Vec::<String>::new(), "every job has ended: nothing is being written");
    eprintln!(
        "kill -9: {finished_before} of {} jobs had finished, {} partial files left; peak RSS of hq serve before the kill {} MiB, after the restart {} MiB",
        job_ids.len(),
        left_by_the_kill.len(),
        serve_peak / 1024,
        second.peak_rss_kib() / 1024
    );
    assert!(serve_peak < MAX_PEAK_RSS_KIB && second.peak_rss_kib() < MAX_PEAK_RSS_KIB);
}
