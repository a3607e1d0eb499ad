//! `hq serve` against hostile clients and leftovers: oversize bodies, half-open connections, orphaned
//! partial files from a killed run. Each answer must be Harmony's JSON error shape with the right status.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use harmonyql_server::engine::Processor;
use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Operation, Output, TransformError};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RANGESET: &str = "ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset";
const FIXTURE: &str = "C1000000001-HQ_LOCAL";

/// Writes one small file per granule.
struct OneFile;

impl Processor for OneFile {
    fn process(&self, granule: &SampleGranule, _: &Operation, out_dir: &Path) -> Result<Vec<Output>, TransformError> {
        let path = out_dir.join(&granule.name);
        std::fs::write(&path, b"data").map_err(|e| TransformError::Io(e.to_string()))?;
        Ok(vec![Output {
            path,
            mime: "application/x-hdf5".into(),
            bbox: granule.bbox,
            start: granule.start,
            end: granule.end,
        }])
    }
}

/// Starts a server on `data_dir`; it stops with the test's runtime.
async fn start(data_dir: &Path) -> String {
    let config = ServeConfig {
        port: 0,
        data_dir: data_dir.to_path_buf(),
        auth: AuthMode::None,
        header_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    };
    let server = Server::bind_with_processor(config, Arc::new(OneFile)).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_get_413_in_harmonys_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(dir.path()).await;
    let big = vec![b'a'; 65 * 1024 * 1024];
    // A declared length over the limit is refused before the body is read; the client sees the answer
    // without having to send 65 MB (a raw socket: a client still writing when the server answers and closes
    // may see a broken pipe instead of the answer, which made a reqwest multipart upload flaky under load).
    for kind in ["multipart/form-data; boundary=hq", "application/x-www-form-urlencoded", "application/json"] {
        let mut socket = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "POST /{FIXTURE}/{RANGESET} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let _ = socket.write_all(&big[..1024]).await;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await.unwrap().unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert_too_large(kind, status, &serde_json::from_str(body).unwrap_or_default());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_crossing_the_limit_while_read_gets_413() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(dir.path()).await;
    let chunk = vec![b'a'; 1024 * 1024];
    // No Content-Length: the server learns the size only by reading, and must answer 413 once it crosses.
    let multipart_head = "--hq\r\nContent-Disposition: form-data; name=\"shapefile\"; filename=\"a.zip\"\r\nContent-Type: application/zip\r\n\r\n";
    for (kind, first) in [
        ("multipart/form-data; boundary=hq", multipart_head),
        ("application/x-www-form-urlencoded", "variable="),
        ("application/json", "{\"variable\":\""),
    ] {
        let mut socket = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "POST /{FIXTURE}/{RANGESET} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{first}\r\n",
            first.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        // 65 chunks of 1 MiB; the server may answer and close before the last (then writes fail).
        for _ in 0..65 {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if socket.write_all(&framed).await.is_err() {
                break;
            }
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(20), socket.read_to_end(&mut answer)).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        // A chunked answer body: its JSON sits between the chunk-size lines.
        let json = body.lines().find(|line| line.starts_with('{')).unwrap_or_default();
        assert_too_large(kind, status, &serde_json::from_str(json).unwrap_or_default());
    }
}

fn assert_too_large(kind: &str, status: u16, body: &serde_json::Value) {
    assert_eq!(status, 413, "{kind}: {body}");
    assert_eq!(body["code"], "harmony.PayloadTooLargeError", "{kind}: {body}");
    assert!(body["description"].as_str().unwrap_or_default().contains("64 MiB"), "{kind}: {body}");
}

/// Names of files under `dir`, recursively, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_files_left_by_a_killed_server_are_removed_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    // What a `kill -9` during generation or staging leaves: temporary files beside complete ones.
    let granules = dir.path().join("ATL03");
    std::fs::create_dir_all(&granules).unwrap();
    std::fs::write(granules.join("ATL03_kept.h5"), b"whole").unwrap();
    std::fs::write(granules.join(".ATL03_20181014.h5.4242-0.part"), b"half").unwrap();
    std::fs::write(dir.path().join(".edl-signing-key.a1b2.tmp"), b"half").unwrap();
    let results = dir.path().join("results").join("job").join("1");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("out.h5.part"), b"half").unwrap();
    let _base = start(dir.path()).await;
    let left = files_under(dir.path());
    assert!(left.contains(&"ATL03/ATL03_kept.h5".to_owned()), "{left:?}");
    let partial: Vec<&String> = left.iter().filter(|name| name.ends_with(".part") || name.contains(".tmp")).collect();
    assert!(partial.is_empty(), "{partial:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_connection_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(dir.path()).await;
    let address = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    // Half a request head, then silence: the server must hang up instead of holding the connection.
    socket.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the connection was still open 10 s after a 1 s header timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_files_carry_an_etag_and_a_stale_if_range_gets_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(dir.path()).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = reqwest::multipart::Form::new().text("forceAsync", "true").text("variable", "all");
    let submitted = client.post(format!("{base}/{FIXTURE}/{RANGESET}")).multipart(form).send().await.unwrap();
    let job = submitted.headers()["location"].to_str().unwrap().trim_start_matches("/jobs/").to_owned();
    let mut href = None;
    for _ in 0..200 {
        let status: serde_json::Value =
            client.get(format!("{base}/jobs/{job}")).send().await.unwrap().json().await.unwrap();
        if status["status"] == "successful" {
            href = status["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == "data")
                .map(|l| l["href"].as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let href = href.expect("a successful job with a data link");
    let whole = client.get(&href).send().await.unwrap();
    let etag = whole.headers().get("etag").expect("an ETag on result files").to_str().unwrap().to_owned();
    assert!(whole.headers().contains_key("last-modified"));
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let ranged = |validator: &str| client.get(&href).header("range", "bytes=1-").header("if-range", validator).send();
    assert_eq!(ranged(&etag).await.unwrap().status(), 206);
    let stale = ranged("\"another\"").await.unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.bytes().await.unwrap().as_ref(), b"data");
}
