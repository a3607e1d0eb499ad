//! The Harmony client and `hq run` against a real `server::Server` on 127.0.0.1 and a scripted loopback
//! mock for faults (dropped connections, hostile redirects, paging).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonyql::api::environment::Environment;
use harmonyql::api::request::{Body, Method, Request};
use harmonyql::harmony::auth::{Credentials, Netrc, Secret};
use harmonyql::harmony::client::{Client, Submission};
use harmonyql::harmony::download::{DownloadConfig, download_all, download_file};
use harmonyql::harmony::error::Error;
use harmonyql::harmony::jobs::{WaitConfig, result_links, wait};
use harmonyql::harmony::retry::RetryConfig;
use harmonyql_server::engine::Processor;
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
const FIXTURE: &str = "C1000000001-HQ_LOCAL";

/// Writes three 1000-byte files per granule, fast and without HDF5.
struct ThreeFiles;

impl Processor for ThreeFiles {
    fn process(
        &self,
        granule: &SampleGranule,
        _operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        crate::processor::write_outputs(granule, out_dir, 3, 1000, "")
    }
}

async fn start_server(auth: AuthMode, processor: Option<Arc<dyn Processor>>) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "alice:wonderland\n").unwrap();
    let config =
        ServeConfig { port: 0, data_dir: dir.path().to_path_buf(), auth, users: Some(users), ..ServeConfig::default() };
    let server = match processor {
        Some(processor) => Server::bind_with_processor(config, processor).await.unwrap(),
        None => Server::bind(config).await.unwrap(),
    };
    let base = format!("http://{}", server.addr());
    // The server stops with the test's runtime.
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    (base, dir)
}

fn fast() -> RetryConfig {
    RetryConfig { max_retries: 3, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(50) }
}

fn client(base: &str, credentials: Credentials) -> Client {
    Client::new(Environment::Url(base.to_owned()), credentials).unwrap().with_retry(fast())
}

fn submission(base: &str) -> Request {
    Request::new(Method::Post, base, format!("/{FIXTURE}/{RANGESET}"), Body::Multipart)
        .text("forceAsync", "true")
        .text("variable", "all")
}

async fn submit(client: &Client, base: &str) -> String {
    match client.submit(&submission(base)).await.unwrap() {
        Submission::Job(job) => job.job_id,
        Submission::Body(body) => panic!("not a job: {body}"),
    }
}

async fn finished(client: &Client, job_id: &str) -> harmonyql::api::job::Job {
    let config = WaitConfig { interval: Duration::from_millis(50) };
    let mut polls = 0;
    let job = tokio::time::timeout(
        Duration::from_secs(60),
        wait(client, job_id, &config, &mut |_| polls += 1, &CancellationToken::new()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(polls >= 1);
    job
}

#[tokio::test]
async fn submit_wait_results_and_download_against_hq_serve() {
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let client = client(&base, Credentials::Anonymous);
    let job_id = submit(&client, &base).await;
    let job = finished(&client, &job_id).await;
    assert_eq!(job.status.as_str(), "successful");
    let links = result_links(&client, &job_id, "https", None, None).await.unwrap();
    assert!(links.len() >= 3, "{links:?}");
    let one = result_links(&client, &job_id, "https", Some(2), Some(1)).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].href, links[1].href);

    let target = tempfile::tempdir().unwrap();
    let urls: Vec<String> = links.iter().map(|l| l.href.clone()).collect();
    let mut reports = Vec::new();
    let config = DownloadConfig { concurrency: 2, overwrite: false, ..DownloadConfig::default() };
    let paths = download_all(
        &client,
        &urls,
        target.path(),
        &config,
        &mut |p| reports.push(p.clone()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(paths.len(), urls.len());
    for path in &paths {
        assert!(path.starts_with(target.path()));
        assert_eq!(std::fs::metadata(path).unwrap().len(), 1000, "{}", path.display());
    }
    let last = reports.last().unwrap();
    assert_eq!((last.files_done, last.files_total, last.bytes), (urls.len(), urls.len(), 1000 * urls.len() as u64));
    assert_eq!(leftovers(target.path()), Vec::<String>::new());
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("hq-part"))
        .collect()
}

use crate::peer::{Reply as Answer, reply as answer};

/// A loopback server answering connection N with `answers[N]` (the last one repeats); records request heads.
async fn mock(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (base, mock_on(listener, answers))
}

fn mock_on(listener: tokio::net::TcpListener, answers: Vec<Answer>) -> Arc<Mutex<Vec<String>>> {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        let mut index = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let script = answers[index.min(answers.len() - 1)].clone();
            index += 1;
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some(head) = crate::peer::read_head(&mut socket).await else { return };
                seen.lock().unwrap().push(head);
                let _ = socket.write_all(&script.bytes).await;
                let _ = socket.flush().await;
                if script.stall {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    heads
}

fn content() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 253) as u8).collect()
}

#[tokio::test]
async fn a_dropped_download_resumes_with_range_and_lands_whole() {
    let data = content();
    let (base, heads) = mock(vec![
        answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &data[..400]),
        answer(
            "HTTP/1.1 206 Partial Content\nContent-Length: 600\nContent-Range: bytes 400-999/1000\nConnection: close\n",
            &data[400..],
        ),
    ])
    .await;
    let client = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let path =
        download_file(&client, &format!("{base}/files/granule.h5"), dir.path(), false, &CancellationToken::new())
            .await
            .unwrap();
    assert_eq!(path, dir.path().join("granule.h5"));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 2);
    assert!(heads[1].to_ascii_lowercase().contains("range: bytes=400-"), "{}", heads[1]);
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_download_that_never_completes_leaves_only_a_part_file() {
    let (base, _) =
        mock(vec![answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &content()[..10])]).await;
    let client = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let error = download_file(&client, &format!("{base}/f.h5"), dir.path(), false, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Incomplete { expected: 1000, .. }), "{error}");
    assert_eq!(complete_files(dir.path()), Vec::<String>::new());
    // The partial file and its sidecar (what remote file the bytes are from, for a safe resumption).
    let mut left = leftovers(dir.path());
    left.sort();
    assert_eq!(left, [".f.h5.hq-part", ".f.h5.hq-part.resume"]);
}

/// Files in `dir` that look complete (not partial downloads).
fn complete_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.contains("hq-part"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn cancelling_a_download_leaves_no_half_file() {
    let stalled = Answer { stall: true, ..answer("HTTP/1.1 200 OK\nContent-Length: 1000\n", &content()[..100]) };
    let (base, _) = mock(vec![stalled]).await;
    let client = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopper.cancel();
    });
    let urls = vec![format!("{base}/a.h5"), format!("{base}/b.h5")];
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        download_all(&client, &urls, dir.path(), &DownloadConfig::default(), &mut |_| {}, &cancel),
    )
    .await
    .unwrap();
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Cancelled { .. }), "{error}");
    assert!(error.to_string().contains("download"), "{error}");
    assert_eq!(complete_files(dir.path()), Vec::<String>::new());
}

/// Cancels `cancel` once `path` holds `size` bytes (bounded: 10 s).
fn cancel_when_file_has(path: PathBuf, size: u64, cancel: CancellationToken) {
    tokio::spawn(async move {
        for _ in 0..1000 {
            if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) >= size {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.cancel();
    });
}

#[tokio::test]
async fn an_interrupted_download_keeps_its_part_and_the_next_one_resumes_it() {
    let data = content();
    // 206 for the resumed request; the second case's server ignores ranges and sends the whole file again.
    let resumed =
        "HTTP/1.1 206 Partial Content\nContent-Length: 600\nContent-Range: bytes 400-999/1000\nConnection: close\n";
    for (second, ranged) in [
        (answer(resumed, &data[400..]), true),
        (answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &data), false),
    ] {
        let stalled = Answer { stall: true, ..answer("HTTP/1.1 200 OK\nContent-Length: 1000\n", &data[..400]) };
        let (base, heads) = mock(vec![stalled, second]).await;
        let client = client(&base, Credentials::Anonymous);
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        cancel_when_file_has(dir.path().join(".granule.h5.hq-part"), 400, cancel.clone());
        let urls = vec![format!("{base}/granule.h5")];
        let config = DownloadConfig { concurrency: 1, overwrite: false, ..DownloadConfig::default() };
        let first = tokio::time::timeout(
            Duration::from_secs(20),
            download_all(&client, &urls, dir.path(), &config, &mut |_| {}, &cancel),
        )
        .await
        .unwrap();
        assert!(matches!(first, Err(Error::Cancelled { .. })), "{first:?}");
        assert_eq!(complete_files(dir.path()), Vec::<String>::new(), "nothing looks complete");
        assert_eq!(std::fs::read(dir.path().join(".granule.h5.hq-part")).unwrap(), &data[..400]);

        let mut last = None;
        let paths = tokio::time::timeout(
            Duration::from_secs(20),
            download_all(
                &client,
                &urls,
                dir.path(),
                &config,
                &mut |p| last = Some(p.clone()),
                &CancellationToken::new(),
            ),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        let last = last.unwrap();
        assert_eq!((last.bytes, last.total_bytes, last.files_done), (1000, 1000, 1), "ranged: {ranged}");
        let heads = heads.lock().unwrap();
        assert!(heads[1].to_ascii_lowercase().contains("range: bytes=400-"), "{}", heads[1]);
    }
}

#[tokio::test]
async fn two_results_with_one_name_both_land_under_distinct_names() {
    let a: Vec<u8> = vec![b'a'; 300];
    let b: Vec<u8> = vec![b'b'; 500];
    let (base, _) = mock(vec![
        answer("HTTP/1.1 200 OK\nContent-Length: 300\nConnection: close\n", &a),
        answer("HTTP/1.1 200 OK\nContent-Length: 500\nConnection: close\n", &b),
    ])
    .await;
    let client = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let urls = vec![format!("{base}/one/out.h5"), format!("{base}/two/out.h5")];
    let config = DownloadConfig { concurrency: 1, overwrite: false, ..DownloadConfig::default() };
    let paths =
        download_all(&client, &urls, dir.path(), &config, &mut |_| {}, &CancellationToken::new()).await.unwrap();
    assert_eq!(paths, [dir.path().join("out.h5"), dir.path().join("out_2.h5")]);
    assert_eq!(std::fs::read(&paths[0]).unwrap(), a);
    assert_eq!(std::fs::read(&paths[1]).unwrap(), b);
}

#[tokio::test]
async fn hostile_result_names_never_leave_the_directory() {
    let (base, _) = mock(vec![answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &content())]).await;
    let client = client(&base, Credentials::Anonymous);
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("in");
    let hostile = [
        "../../x".to_owned(),
        "..%2F..%2Fx".to_owned(),
        "%2Fetc%2Fpasswd".to_owned(),
        "a%00b.h5".to_owned(),
        "..\\..\\evil.h5".to_owned(),
        "%5C..%5Cwin.h5".to_owned(),
        "%2e%2e".to_owned(),
    ];
    let urls: Vec<String> = hostile.iter().map(|name| format!("{base}/r/{name}")).collect();
    let paths = download_all(&client, &urls, &dir, &DownloadConfig::default(), &mut |_| {}, &CancellationToken::new())
        .await
        .unwrap();
    for path in &paths {
        assert_eq!(path.parent(), Some(dir.as_path()), "{}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!name.contains(['/', '\\', '\0']) && name != ".." && name != ".", "{name:?}");
    }
    let outside: Vec<_> = std::fs::read_dir(outer.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside, ["in"], "nothing written beside the target directory");
}

#[tokio::test]
async fn hostile_names_stay_inside_and_overwrite_is_respected() {
    let (base, heads) =
        mock(vec![answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &content())]).await;
    let client = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let never = CancellationToken::new();
    for url in [format!("{base}/x/..%2F..%2Fescape.h5"), format!("{base}/x/%2e%2e"), format!("{base}/a/b/..")] {
        let path = download_file(&client, &url, dir.path(), true, &never).await.unwrap();
        assert_eq!(path.parent(), Some(dir.path()), "{url} → {}", path.display());
    }
    let existing = dir.path().join("kept.h5");
    std::fs::write(&existing, b"old").unwrap();
    let requests_before = heads.lock().unwrap().len();
    download_file(&client, &format!("{base}/kept.h5"), dir.path(), false, &never).await.unwrap();
    assert_eq!(std::fs::read(&existing).unwrap(), b"old");
    assert_eq!(heads.lock().unwrap().len(), requests_before, "no request for a kept file");
    download_file(&client, &format!("{base}/kept.h5"), dir.path(), true, &never).await.unwrap();
    assert_eq!(std::fs::read(&existing).unwrap(), content());
}

#[tokio::test]
async fn result_links_follow_next_pages() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let page = |n: u32, next: Option<String>| {
        let mut links = vec![serde_json::json!({"href": format!("https://data.example/f{n}.h5"), "rel": "data"})];
        if let Some(next) = next {
            links.push(serde_json::json!({"href": next, "rel": "next"}));
        }
        let body = serde_json::json!({
            "status": "successful", "message": "done", "progress": 100, "createdAt": "2020-01-01T00:00:00.000Z",
            "updatedAt": "2020-01-01T00:00:00.000Z", "links": links, "request": "x", "numInputGranules": 2,
            "jobID": "a7aee059-7531-4388-86e0-85af1de9c31a"
        })
        .to_string();
        let head = format!(
            "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: {}\nConnection: close\n",
            body.len()
        );
        answer(&head, body.as_bytes())
    };
    let answers = vec![
        page(1, Some(format!("{base}/jobs/a7aee059-7531-4388-86e0-85af1de9c31a?page=2&limit=1"))),
        page(2, Some(format!("{base}/jobs/a7aee059-7531-4388-86e0-85af1de9c31a?page=3&limit=1"))),
        page(3, None),
    ];
    let heads = mock_on(listener, answers);
    let client = client(&base, Credentials::Anonymous);
    let links = result_links(&client, "a7aee059-7531-4388-86e0-85af1de9c31a", "https", None, None).await.unwrap();
    let hrefs: Vec<&str> = links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(hrefs, ["https://data.example/f1.h5", "https://data.example/f2.h5", "https://data.example/f3.h5"]);
    assert_eq!(heads.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn authorization_is_dropped_on_a_redirect_to_another_host() {
    let (foreign, foreign_heads) =
        mock(vec![answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &content())]).await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\nLocation: {foreign}/bucket/f.h5\nContent-Length: 0\nConnection: close\n"
    );
    let (origin, origin_heads) = mock(vec![answer(&redirect, b"")]).await;
    for credentials in [
        Credentials::Token(Secret::new("tok")),
        Credentials::Basic { user: "alice".into(), password: Secret::new("pw") },
    ] {
        let client = client(&origin, credentials);
        let dir = tempfile::tempdir().unwrap();
        download_file(&client, &format!("{origin}/service-results/f.h5"), dir.path(), true, &CancellationToken::new())
            .await
            .unwrap();
    }
    for head in origin_heads.lock().unwrap().iter() {
        assert!(head.to_ascii_lowercase().contains("authorization: "), "{head}");
    }
    let foreign_heads = foreign_heads.lock().unwrap();
    assert_eq!(foreign_heads.len(), 2);
    for head in foreign_heads.iter() {
        assert!(!head.to_ascii_lowercase().contains("authorization"), "{head}");
    }
}

#[tokio::test]
async fn a_submission_is_not_resent_after_a_server_error() {
    let (base, heads) =
        mock(vec![answer("HTTP/1.1 503 Service Unavailable\nContent-Length: 0\nConnection: close\n", b"")]).await;
    let client = client(&base, Credentials::Anonymous);
    let error = client.submit(&submission(&base)).await.unwrap_err();
    assert!(matches!(error, Error::Http { status: 503, .. }), "{error}");
    assert_eq!(heads.lock().unwrap().len(), 1, "a POST submission is sent once");
    let status = Request::new(Method::Get, &base, "/jobs", Body::Query);
    let _ = client.send(&status).await.unwrap();
    assert_eq!(heads.lock().unwrap().len(), 1 + 1 + fast().max_retries as usize, "a GET is retried");
}

async fn edl_round_trip(client: &Client, base: &str) {
    let job_id = submit(client, base).await;
    let job = finished(client, &job_id).await;
    assert_eq!(job.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn earthdata_login_works_with_basic_netrc_and_token() {
    let (base, _dir) = start_server(AuthMode::Edl, Some(Arc::new(ThreeFiles))).await;
    edl_round_trip(
        &client(&base, Credentials::Basic { user: "alice".into(), password: Secret::new("wonderland") }),
        &base,
    )
    .await;

    let home = tempfile::tempdir().unwrap();
    let netrc_path = home.path().join(".netrc");
    std::fs::write(&netrc_path, "machine 127.0.0.1\n  login alice\n  password wonderland\n").unwrap();
    let netrc = Netrc::read(&netrc_path);
    edl_round_trip(&client(&base, Credentials::Netrc).with_netrc(netrc), &base).await;

    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/users/token"))
        .basic_auth("alice", Some("wonderland"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    edl_round_trip(&client(&base, Credentials::Token(Secret::new(token))), &base).await;

    let wrong = client(&base, Credentials::Basic { user: "alice".into(), password: Secret::new("nope") });
    let error = wrong.submit(&submission(&base)).await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated { .. } | Error::Harmony { status: 401, .. }), "{error}");
    assert!(!format!("{error} {error:?}").contains("nope"));
}

#[tokio::test]
async fn a_missing_netrc_entry_says_which_line_to_add() {
    let (base, _dir) = start_server(AuthMode::Edl, Some(Arc::new(ThreeFiles))).await;
    let home = tempfile::tempdir().unwrap();
    let netrc_path: PathBuf = home.path().join(".netrc");
    std::fs::write(&netrc_path, "machine elsewhere login a password b\n").unwrap();
    let netrc = Netrc::read(&netrc_path);
    let client = client(&base, Credentials::Netrc).with_netrc(netrc);
    let error = client.submit(&submission(&base)).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("machine 127.0.0.1 login YOUR_USER password YOUR_PASSWORD"), "{text}");
    assert!(text.contains(&netrc_path.display().to_string()), "{text}");
}

#[tokio::test]
async fn hq_run_submits_waits_and_downloads_the_tutorial_line() {
    let (base, _dir) = start_server(AuthMode::None, None).await;
    let work = tempfile::tempdir().unwrap();
    let script = "j = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)\n\
                  wait j\n\
                  files = download j to \"out\"\n\
                  files";
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_hq"))
            .args(["run", "--env", &base, "--poll-interval", "0.2", "-e", script])
            .current_dir(work.path())
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(": successful (100%)"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(work.path().join("out")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("1_ATL03_") && name.ends_with("_subsetted.h5"), "{name}");
    assert!(std::fs::metadata(&files[0]).unwrap().len() > 1000);
    assert!(stdout.lines().any(|line| line == format!("out/{name}")), "{stdout}");
}

#[tokio::test]
async fn a_session_carries_jobs_and_files_between_statements_and_cells() {
    use harmonyql::eval::session::{Config, Mode, Session, Value};
    use harmonyql::eval::sink::Report;
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let target = tempfile::tempdir().unwrap();
    let mut session = Session::new(Config {
        env: Environment::Url(base.clone()),
        mode: Mode::Execute,
        credentials: Credentials::Anonymous,
        poll_interval: Duration::from_millis(50),
        ..Config::default()
    });
    let cancel = CancellationToken::new();
    let cell =
        format!("j = subset {FIXTURE}\nwait j\nlinks = results j\nf = download j to \"{}\"", target.path().display());
    let mut reports = Vec::new();
    let outcome =
        tokio::time::timeout(Duration::from_secs(60), session.run_async(&cell, &mut reports, &cancel)).await.unwrap();
    assert!(outcome.ok, "{reports:?}");
    let Some(Value::Job(job_id)) = session.value("j").cloned() else { panic!("{:?}", session.value("j")) };
    assert_eq!(session.last_job(), Some(job_id.as_str()));
    assert!(reports.iter().any(|r| matches!(r, Report::JobProgress { job_id: id, .. } if *id == job_id)));
    let Some(Value::Links(links)) = session.value("links") else { panic!() };
    let Some(Value::Files(files)) = session.value("f") else { panic!() };
    assert_eq!(files.len(), links.len());
    assert!(files.iter().all(|f| f.starts_with(target.path()) && f.exists()));

    let mut reports = Vec::new();
    let outcome = session.run_async("status", &mut reports, &cancel).await;
    assert!(outcome.ok, "{reports:?}");
    assert!(matches!(&reports[..], [Report::Job(job)] if job.job_id == job_id), "{reports:?}");

    let mut reports = Vec::new();
    let outcome = session.run_async("status 00000000-0000-4000-8000-000000000000", &mut reports, &cancel).await;
    assert!(!outcome.ok && outcome.failed_operation);
    let [Report::Failed(failure)] = &reports[..] else { panic!("{reports:?}") };
    assert!(failure.message().contains("404"), "{}", failure.message());
    assert_eq!(failure.error.name(), "HarmonyError", "a failed request is not a mistake in the text");
}

#[tokio::test]
async fn hq_run_shows_capabilities_as_a_table_or_as_json() {
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let run = |json: bool| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hq"));
        command.args(["run", "--env", &base, "-e", "capabilities ATL03"]);
        if json {
            command.arg("--json");
        }
        async move { tokio::time::timeout(Duration::from_secs(60), command.output()).await.unwrap().unwrap() }
    };
    let table = run(false).await;
    assert!(table.status.success(), "{}", String::from_utf8_lossy(&table.stderr));
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.lines().any(|l| l.starts_with("shortName") && l.ends_with("ATL03")), "{table}");
    assert!(table.contains("services ("), "{table}");
    let json = run(true).await;
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["shortName"], "ATL03");
}

/// Regression: a bound answer was shown as raw JSON under its name's kind (`caps` showed JSON, not the table).
#[tokio::test]
async fn a_bound_name_shows_exactly_what_its_statement_showed() {
    use harmonyql::eval::session::{Config, Mode, Session};
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let mut session = Session::new(Config {
        env: Environment::Url(base.clone()),
        mode: Mode::Execute,
        credentials: Credentials::Anonymous,
        ..Config::default()
    });
    let cancel = CancellationToken::new();
    for (statement, name) in [("capabilities ATL03", "caps"), ("jobs", "listing")] {
        let mut shown = Vec::new();
        let cell = format!("{name} = {statement}");
        assert!(session.run_async(&cell, &mut shown, &cancel).await.ok, "{shown:?}");
        let mut again = Vec::new();
        assert!(session.run_async(name, &mut again, &cancel).await.ok, "{again:?}");
        assert_eq!(shown, again, "`{name}` must show what `{cell}` showed");
        let bundles = harmonyql::output::report::bundles(&again[0]);
        assert!(bundles[0].get("text/html").is_some(), "{name}: a table, not only JSON");
    }
}

/// Takes a while per granule, so a run can be interrupted while it waits.
struct Slow;

impl Processor for Slow {
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        std::thread::sleep(Duration::from_secs(2));
        ThreeFiles.process(granule, operation, out_dir)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_hq_run_waiting_and_says_how_to_resume_or_cancel() {
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(Slow))).await;
    let work = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hq"))
        .args(["run", "--env", &base, "--poll-interval", "0.2", "-e", &format!("j = subset {FIXTURE}\nwait j")])
        .current_dir(work.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("`wait ") && stderr.contains("`cancel "), "{stderr}");
}

#[tokio::test]
async fn downloads_retry_server_errors_and_cloud_credentials_stay_secret() {
    let (base, heads) = mock(vec![
        answer("HTTP/1.1 503 Service Unavailable\nContent-Length: 0\nConnection: close\n", b""),
        answer("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &content()),
    ])
    .await;
    let retrying = client(&base, Credentials::Anonymous);
    let dir = tempfile::tempdir().unwrap();
    let path =
        download_file(&retrying, &format!("{base}/f.h5"), dir.path(), false, &CancellationToken::new()).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), content());
    assert_eq!(heads.lock().unwrap().len(), 2);

    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let credentials = client(&base, Credentials::Anonymous).cloud_credentials().await.unwrap();
    assert!(!credentials.access_key_id.is_empty());
    assert!(!credentials.secret_access_key.expose().is_empty());
    assert!(!format!("{credentials:?}").contains(credentials.secret_access_key.expose()));
}

#[tokio::test]
async fn a_shape_file_submission_signs_in_first_and_a_failed_job_is_an_error() {
    use harmonyql::eval::session::{Config, Mode, Session, Value};
    let (base, _dir) = start_server(AuthMode::Edl, Some(Arc::new(ThreeFiles))).await;
    let shapes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/shapes");
    let mut session = Session::new(Config {
        env: Environment::Url(base.clone()),
        mode: Mode::Execute,
        credentials: Credentials::Basic { user: "alice".into(), password: Secret::new("wonderland") },
        poll_interval: Duration::from_millis(50),
        ..Config::default()
    });
    let cell = format!("j = subset {FIXTURE} shape(\"{}\")\nwait j", shapes.join("box.geo.json").display());
    let mut reports = Vec::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        session.run_async(&cell, &mut reports, &CancellationToken::new()),
    )
    .await
    .unwrap();
    // The upload reached Harmony as alice (signed in before the multipart POST, which the EDL dance
    // could not replay); the box is far from the sample granules, so the job fails and `wait` says why.
    use harmonyql::eval::sink::Report;
    assert!(matches!(session.value("j"), Some(Value::Job(_))), "{reports:?}");
    // First the checking step's estimate (hq serve answers CMR: nothing lies in that box), then the job.
    assert!(
        matches!(&reports[0], Report::Warning(text) if text.contains("selects 0 granule(s)") && text.contains("nothing to process")),
        "{reports:?}"
    );
    assert!(matches!(&reports[1], Report::Job(job) if job.username.as_deref() == Some("alice")), "{reports:?}");
    assert!(!outcome.ok && outcome.failed_operation);
    let Some(Report::Failed(failure)) = reports.last() else { panic!("{reports:?}") };
    assert!(failure.message().contains("failed: No matching granules"), "{}", failure.message());
}

/// Fails the work item of the granule whose name contains `failing`; writes three files for the others.
struct FailOne {
    failing: &'static str,
}

impl Processor for FailOne {
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        if granule.name.contains(self.failing) {
            return Err(TransformError::Io(format!("no data in {}", granule.name)));
        }
        ThreeFiles.process(granule, operation, out_dir)
    }
}

fn execute_session(base: &str) -> harmonyql::eval::session::Session {
    use harmonyql::eval::session::{Config, Mode, Session};
    Session::new(Config {
        env: Environment::Url(base.to_owned()),
        mode: Mode::Execute,
        credentials: Credentials::Anonymous,
        poll_interval: Duration::from_millis(50),
        ..Config::default()
    })
}

/// Runs a cell (bounded: 60 s) and returns whether it went well and what it reported.
async fn run_cell(
    session: &mut harmonyql::eval::session::Session,
    cell: &str,
) -> (bool, Vec<harmonyql::eval::sink::Report>) {
    let mut reports = Vec::new();
    let outcome =
        tokio::time::timeout(Duration::from_secs(60), session.run_async(cell, &mut reports, &CancellationToken::new()))
            .await
            .unwrap();
    (outcome.ok, reports)
}

fn warnings(reports: &[harmonyql::eval::sink::Report]) -> Vec<String> {
    use harmonyql::eval::sink::Report;
    reports.iter().filter_map(|r| if let Report::Warning(text) = r { Some(text.clone()) } else { None }).collect()
}

fn error_message(reports: &[harmonyql::eval::sink::Report]) -> String {
    use harmonyql::eval::sink::Report;
    match reports.last() {
        Some(Report::Failed(failure)) => failure.message(),
        other => panic!("no error: {other:?}"),
    }
}

fn job_id_of(session: &harmonyql::eval::session::Session, name: &str) -> String {
    match session.value(name) {
        Some(harmonyql::eval::session::Value::Job(id)) => id.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn a_canceled_job_says_so_and_a_bad_state_change_is_a_409() {
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(Slow))).await;
    let mut session = execute_session(&base);
    let (ok, reports) = run_cell(&mut session, &format!("j = subset {FIXTURE}\ncancel j\nwait j")).await;
    assert!(ok, "{reports:?}");
    let id = job_id_of(&session, "j");
    assert!(warnings(&reports).iter().any(|w| w.contains(&format!("job {id} was canceled"))), "{reports:?}");
    let (ok, reports) = run_cell(&mut session, "resume j").await;
    assert!(!ok);
    let message = error_message(&reports);
    assert!(message.contains("409") && message.contains("canceled"), "{message}");
}

#[tokio::test]
async fn a_job_paused_after_its_preview_says_how_to_resume_and_its_preview_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        ServeConfig { port: 0, data_dir: dir.path().to_path_buf(), preview_threshold: 2, ..ServeConfig::default() };
    let server = Server::bind_with_processor(config, Arc::new(ThreeFiles)).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    let target = tempfile::tempdir().unwrap();
    let mut session = execute_session(&base);
    let (ok, reports) = run_cell(&mut session, "j = subset ATL03\nwait j").await;
    assert!(ok, "{reports:?}");
    let id = job_id_of(&session, "j");
    let notes = warnings(&reports);
    assert!(notes.iter().any(|w| w.contains("is paused") && w.contains(&format!("`resume {id}`"))), "{notes:?}");

    let (ok, reports) = run_cell(&mut session, &format!("f = download j to \"{}\"", target.path().display())).await;
    assert!(ok, "{reports:?}");
    assert_eq!(complete_files(target.path()).len(), 3, "the preview's files");

    let (ok, reports) = run_cell(&mut session, "resume j\nwait j").await;
    assert!(ok, "{reports:?}");
    use harmonyql::eval::sink::Report;
    assert!(matches!(reports.last(), Some(Report::Job(job)) if job.status.as_str() == "successful"), "{reports:?}");
}

#[tokio::test]
async fn complete_with_errors_downloads_what_succeeded_and_says_what_failed() {
    let failing = "ATL03_20200427193622";
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(FailOne { failing }))).await;
    let target = tempfile::tempdir().unwrap();
    let mut session = execute_session(&base);
    let cell = format!("j = subset ATL03\nf = download j to \"{}\"", target.path().display());
    let (ok, reports) = run_cell(&mut session, &cell).await;
    assert!(ok, "{reports:?}");
    let notes = warnings(&reports);
    assert!(notes.iter().any(|w| w.contains("completed with errors")), "{notes:?}");
    let files = complete_files(target.path());
    let granules = harmonyql_server::sample::granules("ATL03").len();
    assert_eq!(files.len(), 3 * (granules - 1), "{files:?}");
    assert!(files.iter().all(|name| !name.contains(failing)), "{files:?}");
}

#[tokio::test]
async fn an_unknown_job_is_a_404_and_expired_results_leave_nothing() {
    let (base, dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let mut session = execute_session(&base);
    let (ok, reports) = run_cell(&mut session, "wait 00000000-0000-4000-8000-000000000000").await;
    assert!(!ok);
    let message = error_message(&reports);
    assert!(message.contains("00000000-0000-4000-8000-000000000000"), "{message}");

    let (ok, reports) = run_cell(&mut session, &format!("j = subset {FIXTURE}\nwait j")).await;
    assert!(ok, "{reports:?}");
    // The staged outputs expire (Harmony deletes them after 30 days): the links now answer 404.
    std::fs::remove_dir_all(dir.path().join("results")).unwrap();
    let target = tempfile::tempdir().unwrap();
    let (ok, reports) = run_cell(&mut session, &format!("download j to \"{}\"", target.path().display())).await;
    assert!(!ok);
    let message = error_message(&reports);
    assert!(message.contains("404"), "{message}");
    assert_eq!(std::fs::read_dir(target.path()).map(|d| d.count()).unwrap_or(0), 0, "no file, not even a part");
}

#[tokio::test]
async fn a_batch_waits_once_for_all_and_downloads_every_job() {
    use harmonyql::eval::sink::Report;
    let (base, _dir) = start_server(AuthMode::None, Some(Arc::new(ThreeFiles))).await;
    let target = tempfile::tempdir().unwrap();
    let mut session = execute_session(&base);
    let cell = format!(
        "a = subset {FIXTURE}\nb = subset {FIXTURE}\nwait (a, b)\nf = download (a, b) to \"{}\"",
        target.path().display()
    );
    let (ok, reports) = run_cell(&mut session, &cell).await;
    assert!(ok, "{reports:?}");
    let (a, b) = (job_id_of(&session, "a"), job_id_of(&session, "b"));
    let finished: Vec<&str> = reports
        .iter()
        .filter_map(|r| if let Report::Job(job) = r { Some(job.job_id.as_str()) } else { None })
        .skip(2)
        .collect();
    assert_eq!(finished, [a.as_str(), b.as_str()], "the batch's jobs, in order, after waiting");
    let Some(harmonyql::eval::session::Value::Files(files)) = session.value("f") else { panic!() };
    assert_eq!(files.len(), 6, "{files:?}");
    let mut names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_owned()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6, "same-named outputs of two jobs do not overwrite each other");

    let links: Vec<String> = {
        let client = client(&base, Credentials::Anonymous);
        let mut all = Vec::new();
        for id in [&a, &b] {
            all.extend(result_links(&client, id, "https", None, None).await.unwrap().into_iter().map(|l| l.href));
        }
        all
    };
    assert_eq!(links.len(), 6);
    let jobs = harmonyql::harmony::jobs::wait_for_batch(
        &client(&base, Credentials::Anonymous),
        &[a.clone(), b.clone()],
        &WaitConfig { interval: Duration::from_millis(50) },
        &mut |_| {},
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(jobs.iter().map(|j| j.job_id.as_str()).collect::<Vec<_>>(), [a.as_str(), b.as_str()]);
}

#[tokio::test]
async fn an_interrupted_download_says_how_to_resume_and_the_same_statement_resumes_it() {
    let job_id = "a7aee059-7531-4388-86e0-85af1de9c31a";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let json = |body: serde_json::Value| {
        let body = body.to_string();
        let head = format!(
            "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: {}\nConnection: close\n",
            body.len()
        );
        answer(&head, body.as_bytes())
    };
    let bulk = json(serde_json::json!({
        "jobStatuses": [{"jobID": job_id, "status": "successful", "progress": 100}], "notFoundJobIDs": []
    }));
    let job = json(serde_json::json!({
        "status": "successful", "message": "done", "progress": 100, "createdAt": "2020-01-01T00:00:00.000Z",
        "updatedAt": "2020-01-01T00:00:00.000Z", "request": "x", "numInputGranules": 1, "jobID": job_id,
        "links": [{"href": format!("{base}/data/granule.h5"), "rel": "data", "title": "granule.h5"}]
    }));
    let data = content();
    let stalled = Answer { stall: true, ..answer("HTTP/1.1 200 OK\nContent-Length: 1000\n", &data[..400]) };
    let rest = answer(
        "HTTP/1.1 206 Partial Content\nContent-Length: 600\nContent-Range: bytes 400-999/1000\nConnection: close\n",
        &data[400..],
    );
    // Each request is its own connection (Connection: close): bulk status, the job, its links, the file.
    let heads = mock_on(listener, vec![bulk.clone(), job.clone(), job.clone(), stalled, bulk, job.clone(), job, rest]);
    let target = tempfile::tempdir().unwrap();
    let mut session = execute_session(&base);
    let statement = format!("download {job_id} to \"{}\"", target.path().display());
    let cancel = CancellationToken::new();
    cancel_when_file_has(target.path().join(".granule.h5.hq-part"), 400, cancel.clone());
    let mut reports = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(20), session.run_async(&statement, &mut reports, &cancel))
        .await
        .unwrap();
    assert!(!outcome.ok);
    let message = error_message(&reports);
    assert!(
        message.contains(&format!("`{statement}`")) && message.contains(&format!("`cancel {job_id}`")),
        "{message}"
    );
    assert_eq!(complete_files(target.path()), Vec::<String>::new());

    let (ok, reports) = run_cell(&mut session, &statement).await;
    assert!(ok, "{reports:?}");
    assert_eq!(std::fs::read(target.path().join("granule.h5")).unwrap(), data);
    assert_eq!(leftovers(target.path()), Vec::<String>::new());
    let heads = heads.lock().unwrap();
    assert!(heads.last().unwrap().to_ascii_lowercase().contains("range: bytes=400-"), "{heads:?}");
}

/// Regression: an environment nobody listens on gave a bare connection error; the first request now says what to do.
#[tokio::test]
async fn an_unreachable_harmony_says_what_to_do() {
    use harmonyql::eval::session::{Config, Mode, Session};
    use harmonyql::eval::sink::Report;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut session = Session::new(Config {
        env: Environment::Local { port },
        mode: Mode::Execute,
        credentials: Credentials::Anonymous,
        ..Config::default()
    });
    let mut reports = Vec::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        session.run_async("capabilities ATL03", &mut reports, &CancellationToken::new()),
    )
    .await
    .unwrap();
    assert!(!outcome.ok && outcome.failed_operation);
    let Some(Report::Failed(failure)) = reports.last() else { panic!("{reports:?}") };
    let message = failure.message();
    assert!(message.contains(&format!("hq serve --port {port}")) && message.contains("env prod"), "{message}");
    assert_eq!(failure.error.name(), "HarmonyError");
}
