//! Downloads against hostile loopback servers: servers that stall or never answer, lie about lengths, change
//! the file between attempts (ETag, length), ignore ranges, and result names near the file-system limit.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmonyql::api::environment::Environment;
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::client::Client;
use harmonyql::harmony::download::{DownloadConfig, download_all, part_path};
use harmonyql::harmony::error::Error;
use harmonyql::harmony::retry::RetryConfig;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::peer::{Reply, reply};

/// The request heads a scripted server saw, in order.
type Heads = Arc<Mutex<Vec<String>>>;

/// A loopback server that answers request number N (from 0), whose head is `head`, with `script(N, head)`.
async fn scripted(script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> (String, Heads) {
    scripted_on("http://127.0.0.1:0", script).await
}

/// [`scripted`] on the address of `base` (port 0: any free port).
async fn scripted_on(base: &str, script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> (String, Heads) {
    let listener = tokio::net::TcpListener::bind(base.trim_start_matches("http://")).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let heads: Heads = Arc::default();
    let seen = heads.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let Some(head) = crate::peer::read_head(&mut socket).await else { return };
                let head = head.to_ascii_lowercase();
                let index = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(head.clone());
                    seen.len() - 1
                };
                let answer = script(index, &head);
                let _ = socket.write_all(&answer.bytes).await;
                let _ = socket.flush().await;
                if answer.stall {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
    });
    (base, heads)
}

/// The value of header `name` (lower case) in a lower-cased request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(str::trim))
}

/// The first byte a `Range: bytes=N-` asks for.
fn range_start(head: &str) -> Option<usize> {
    header(head, "range")?.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()
}

/// A well-behaved answer for `data` (with `etag`, if any): 206 for a satisfiable range whose `If-Range` (if
/// sent) matches, 416 past the end, else 200 with everything.
fn serve(data: &[u8], etag: Option<&str>, head: &str) -> Reply {
    let tag = etag.map(|tag| format!("ETag: {tag}\n")).unwrap_or_default();
    let if_range_holds = header(head, "if-range").is_none_or(|sent| etag.is_some_and(|tag| tag == sent));
    match range_start(head) {
        Some(start) if start >= data.len() => reply(
            &format!(
                "HTTP/1.1 416 Range Not Satisfiable\nContent-Range: bytes */{}\nContent-Length: 0\n{tag}Connection: close\n",
                data.len()
            ),
            b"",
        ),
        Some(start) if if_range_holds => reply(
            &format!(
                "HTTP/1.1 206 Partial Content\nContent-Length: {}\nContent-Range: bytes {start}-{}/{}\n{tag}Connection: close\n",
                data.len() - start,
                data.len() - 1,
                data.len()
            ),
            &data[start..],
        ),
        _ => reply(&format!("HTTP/1.1 200 OK\nContent-Length: {}\n{tag}Connection: close\n", data.len()), data),
    }
}

fn version(n: u32) -> Vec<u8> {
    (0..1000u32).map(|i| ((i * 7 + n * 13) % 251) as u8).collect()
}

fn client(base: &str, max_retries: u32) -> Client {
    let retry =
        RetryConfig { max_retries, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(50) };
    Client::new(Environment::Url(base.to_owned()), Credentials::Anonymous).unwrap().with_retry(retry)
}

fn config(stall_timeout: Duration) -> DownloadConfig {
    DownloadConfig { concurrency: 1, stall_timeout, ..DownloadConfig::default() }
}

/// Downloads `urls` into `dir`, failing the test (not hanging it) after 20 s.
async fn fetch(
    client: &Client,
    urls: &[String],
    dir: &Path,
    config: &DownloadConfig,
) -> Result<Vec<std::path::PathBuf>, Error> {
    tokio::time::timeout(
        Duration::from_secs(20),
        download_all(client, urls, dir, config, &mut |_| {}, &CancellationToken::new()),
    )
    .await
    .expect("the download must end by itself, not hang")
}

/// Every name in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_server_that_stalls_mid_body_is_retried_and_the_file_lands_whole() {
    let data = version(1);
    let body = data.clone();
    let (base, heads) = scripted(move |n, head| match n {
        0 => Reply { stall: true, ..reply("HTTP/1.1 200 OK\nContent-Length: 1000\n", &body[..400]) },
        _ => serve(&body, None, head),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let urls = vec![format!("{base}/granule.h5")];
    let paths = fetch(&client(&base, 3), &urls, dir.path(), &config(Duration::from_millis(300))).await.unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
    assert_eq!(names(dir.path()), ["granule.h5"]);
    let heads = heads.lock().unwrap();
    assert_eq!(range_start(&heads[1]), Some(400), "{heads:?}");
}

#[tokio::test]
async fn a_server_that_always_stalls_or_never_answers_is_reported_naming_the_file() {
    let stalls_mid_body = |_: usize, _: &str| Reply {
        stall: true,
        ..reply("HTTP/1.1 200 OK\nContent-Length: 1000\n", &version(1)[..400])
    };
    let never_answers = |_: usize, _: &str| Reply { bytes: Vec::new(), stall: true };
    for (case, script) in [
        ("mid-body", Box::new(stalls_mid_body) as Box<dyn Fn(usize, &str) -> Reply + Send + Sync>),
        ("no answer", Box::new(never_answers)),
    ] {
        let (base, heads) = scripted(script).await;
        let dir = tempfile::tempdir().unwrap();
        let urls = vec![format!("{base}/r/granule.h5")];
        let error = fetch(&client(&base, 2), &urls, dir.path(), &config(Duration::from_millis(200))).await.unwrap_err();
        assert!(matches!(error, Error::Stalled { .. }), "{case}: {error:?}");
        let message = error.to_string();
        assert!(message.contains("granule.h5") && message.contains("resume"), "{case}: {message}");
        assert_eq!(heads.lock().unwrap().len(), 3, "{case}: the first attempt and two retries");
        assert!(!dir.path().join("granule.h5").exists(), "{case}");
    }
}

#[tokio::test]
async fn a_foreign_part_file_is_not_spliced_into_the_download() {
    let data = version(1);
    let body = data.clone();
    let (base, _) = scripted(move |_, head| serve(&body, None, head)).await;
    let dir = tempfile::tempdir().unwrap();
    // Someone else's bytes under the name a download of `granule.h5` would resume from.
    std::fs::write(part_path(dir.path(), "granule.h5"), vec![b'x'; 400]).unwrap();
    let urls = vec![format!("{base}/granule.h5")];
    let paths = fetch(&client(&base, 3), &urls, dir.path(), &config(Duration::from_secs(5))).await.unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
    assert_eq!(names(dir.path()), ["granule.h5"]);
}

/// Interrupts a first download of version 1 after 400 bytes, then lets `second` answer the resumption.
async fn resume_against(second: impl Fn(&str) -> Reply + Send + Sync + 'static) -> (Vec<u8>, Heads) {
    let first = version(1);
    let (base, heads) = scripted(move |n, head| match n {
        0 => Reply {
            stall: true,
            ..reply(
                "HTTP/1.1 200 OK\nContent-Length: 1000\nETag: \"v1\"\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\n",
                &first[..400],
            )
        },
        _ => second(head),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let urls = vec![format!("{base}/granule.h5")];
    let error = fetch(&client(&base, 0), &urls, dir.path(), &config(Duration::from_millis(200))).await.unwrap_err();
    assert!(matches!(error, Error::Stalled { .. }), "{error:?}");
    let paths = fetch(&client(&base, 3), &urls, dir.path(), &config(Duration::from_secs(5))).await.unwrap();
    let bytes = std::fs::read(&paths[0]).unwrap();
    assert_eq!(names(dir.path()), ["granule.h5"]);
    (bytes, heads)
}

#[tokio::test]
async fn a_file_changed_between_attempts_is_downloaded_again_not_spliced() {
    // A server that honours If-Range: the new version comes whole.
    let (bytes, heads) = resume_against(|head| serve(&version(2), Some("\"v2\""), head)).await;
    assert_eq!(bytes, version(2));
    assert_eq!(header(&heads.lock().unwrap()[1], "if-range"), Some("\"v1\""));
    // A server that ignores If-Range but says the new ETag on its 206: thrown away, started again.
    let (bytes, _) = resume_against(|head| {
        let head = head.replace("if-range", "x-ignored");
        serve(&version(2), Some("\"v2\""), &head)
    })
    .await;
    assert_eq!(bytes, version(2));
    // The same ETag but another total length: the object is not the one we started.
    let (bytes, _) = resume_against(|head| {
        let mut longer = version(2);
        longer.extend_from_slice(&version(3));
        serve(&longer, Some("\"v1\""), head)
    })
    .await;
    assert_eq!(bytes.len(), 2000);
    // A 206 that starts somewhere else than asked.
    let (bytes, _) = resume_against(|head| match range_start(head) {
        Some(_) => reply(
            "HTTP/1.1 206 Partial Content\nContent-Length: 500\nContent-Range: bytes 500-999/1000\nETag: \"v1\"\nConnection: close\n",
            &version(1)[500..],
        ),
        None => serve(&version(1), Some("\"v1\""), head),
    })
    .await;
    assert_eq!(bytes, version(1));
}

#[tokio::test]
async fn a_part_file_longer_than_the_remote_file_is_started_again() {
    let data = version(1);
    let body = data.clone();
    let (base, _) = scripted(move |_, head| serve(&body, None, head)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(part_path(dir.path(), "granule.h5"), vec![b'x'; 1500]).unwrap();
    let urls = vec![format!("{base}/granule.h5")];
    for run in 0..2 {
        let paths = fetch(&client(&base, 3), &urls, dir.path(), &config(Duration::from_secs(5))).await;
        let paths = paths.unwrap_or_else(|error| panic!("run {run}: {error}"));
        assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
        std::fs::remove_file(&paths[0]).unwrap();
    }
}

#[tokio::test]
async fn result_names_up_to_255_bytes_download_under_their_own_name() {
    let data = version(1);
    let body = data.clone();
    let (base, _) = scripted(move |_, head| serve(&body, None, head)).await;
    for length in [200, 240, 247, 250, 255] {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}.h5", "g".repeat(length - 3));
        let urls = vec![format!("{base}/r/{name}")];
        let paths = fetch(&client(&base, 3), &urls, dir.path(), &config(Duration::from_secs(5))).await;
        let paths = paths.unwrap_or_else(|error| panic!("{length} bytes: {error}"));
        assert_eq!(paths[0], dir.path().join(&name));
        assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
        assert_eq!(names(dir.path()), [name]);
    }
}

#[tokio::test]
async fn an_existing_file_stays_whole_until_its_replacement_is_complete() {
    let (base, _) =
        scripted(|_, _| reply("HTTP/1.1 200 OK\nContent-Length: 1000\nConnection: close\n", &version(2)[..300])).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("granule.h5"), version(1)).unwrap();
    let urls = vec![format!("{base}/granule.h5")];
    let overwrite = DownloadConfig { overwrite: true, ..config(Duration::from_secs(5)) };
    let error = fetch(&client(&base, 1), &urls, dir.path(), &overwrite).await.unwrap_err();
    assert!(matches!(error, Error::Incomplete { .. }), "{error:?}");
    assert_eq!(std::fs::read(dir.path().join("granule.h5")).unwrap(), version(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_stalls_for_good_says_which_file_and_which_statement_resumes_it() {
    let job_id = "a7aee059-7531-4388-86e0-85af1de9c31a";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let json = |body: serde_json::Value| {
        let body = body.to_string();
        let head = format!(
            "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: {}\nConnection: close\n",
            body.len()
        );
        reply(&head, body.as_bytes())
    };
    let own = base.clone();
    let (base, _) = scripted_on(&base, move |_, head| {
        if head.starts_with("post /jobs/status") {
            json(serde_json::json!({
                "jobStatuses": [{"jobID": job_id, "status": "successful", "progress": 100}], "notFoundJobIDs": []
            }))
        } else if head.starts_with("get /jobs/") {
            json(serde_json::json!({
                "status": "successful", "message": "done", "progress": 100, "createdAt": "2020-01-01T00:00:00.000Z",
                "updatedAt": "2020-01-01T00:00:00.000Z", "request": "x", "numInputGranules": 1, "jobID": job_id,
                "links": [{"href": format!("{own}/data/granule.h5"), "rel": "data", "title": "granule.h5"}]
            }))
        } else {
            Reply { stall: true, ..reply("HTTP/1.1 200 OK\nContent-Length: 1000\n", &version(1)[..400]) }
        }
    })
    .await;
    let target = tempfile::tempdir().unwrap();
    let mut session = harmonyql::eval::session::Session::new(harmonyql::eval::session::Config {
        env: Environment::Url(base.clone()),
        mode: harmonyql::eval::session::Mode::Execute,
        credentials: Credentials::Anonymous,
        poll_interval: Duration::from_millis(50),
        download: config(Duration::from_millis(100)),
        ..harmonyql::eval::session::Config::default()
    });
    let statement = format!("download {job_id} to \"{}\"", target.path().display());
    let mut reports = Vec::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        session.run_async(&statement, &mut reports, &CancellationToken::new()),
    )
    .await
    .expect("a stalled download must end with an error, not hang");
    assert!(!outcome.ok);
    let message = match reports.last() {
        Some(harmonyql::eval::sink::Report::Failed(failure)) => failure.message(),
        other => panic!("no error: {other:?}"),
    };
    assert!(message.contains("granule.h5") && message.contains("received nothing"), "{message}");
    assert!(message.contains(&format!("`{statement}`")), "{message}");
}
