//! Credentials on the wire: hostile loopback servers redirect the client to another port, to Earthdata
//! Login over plain http, to look-alike hosts and in loops; each server records every request head, and no
//! `Authorization`, cookie or password may reach one that must not see it. Host names are pinned to
//! 127.0.0.1 with [`Client::with_resolved`], so nothing leaves the machine.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use harmonyql::api::environment::Environment;
use harmonyql::harmony::auth::{Credentials, Netrc, Secret};
use harmonyql::harmony::client::Client;
use harmonyql::harmony::retry::RetryConfig;
use reqwest::header::HeaderMap;
use tokio::io::AsyncWriteExt;

const TOKEN: &str = "tok-SECRET-1";
const PASSWORD: &str = "pw-SECRET-2";
const NETRC_PASSWORD: &str = "netrc-SECRET-3";
const DEFAULT_PASSWORD: &str = "default-SECRET-4";
const COOKIE: &str = "cookie-SECRET-5";

/// A loopback server that answers every request with `answer(port)` and records every request head.
struct Recorder {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    async fn start(answer: impl Fn(u16) -> String + Send + Sync + 'static) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let Some(head) = crate::peer::read_head(&mut socket).await else { return };
                    seen.lock().unwrap().push(head);
                    let text = answer(port).replace('\n', "\r\n");
                    let _ = socket.write_all(text.as_bytes()).await;
                    let _ = socket.write_all(b"\r\n").await;
                    let _ = socket.flush().await;
                });
            }
        });
        Recorder { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn redirect(status: &str, location: &str, extra: &str) -> String {
    format!("HTTP/1.1 {status}\nLocation: {location}\n{extra}Content-Length: 0\nConnection: close\n")
}

fn ok() -> String {
    "HTTP/1.1 200 OK\nContent-Length: 0\nConnection: close\n".to_owned()
}

/// Every way the test secrets could be written in a request head.
fn secrets() -> Vec<String> {
    let mut all: Vec<String> = [TOKEN, PASSWORD, NETRC_PASSWORD, DEFAULT_PASSWORD, COOKIE].map(str::to_owned).into();
    for (user, password) in [("alice", PASSWORD), ("netrc-user", NETRC_PASSWORD), ("default-user", DEFAULT_PASSWORD)] {
        all.push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
    }
    all
}

/// Asserts that no head carries `Authorization`, a cookie or any test secret.
fn assert_clean(heads: &[String], what: &str) {
    for head in heads {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("\r\nauthorization:"), "{what}: Authorization reached it:\n{head}");
        assert!(!lower.contains("\r\ncookie:"), "{what}: a cookie reached it:\n{head}");
        for secret in secrets() {
            assert!(!head.contains(&secret), "{what}: a secret reached it:\n{head}");
        }
    }
}

fn netrc() -> Netrc {
    Netrc::parse(&format!(
        "machine urs.earthdata.nasa.gov login netrc-user password {NETRC_PASSWORD}\n\
         default login default-user password {DEFAULT_PASSWORD}\n"
    ))
}

fn every_credential() -> Vec<Credentials> {
    vec![
        Credentials::Token(Secret::new(TOKEN)),
        Credentials::Basic { user: "alice".into(), password: Secret::new(PASSWORD) },
        Credentials::Netrc,
    ]
}

/// A client for the Harmony at `origin` port with these credentials, the test `.netrc`, and the given host
/// names pinned to 127.0.0.1.
fn client(origin_port: u16, credentials: Credentials, pinned: &[&str]) -> Client {
    let retry = RetryConfig { max_retries: 0, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO };
    let mut client = Client::new(Environment::Url(format!("http://127.0.0.1:{origin_port}")), credentials)
        .unwrap()
        .with_retry(retry)
        .with_netrc(netrc());
    for host in pinned {
        client = client.with_resolved(host, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    }
    client
}

/// Follows `GET /jobs` at the origin, whatever the outcome; the heads are what matter.
async fn get_jobs(client: &Client, origin_port: u16) {
    let _ = tokio::time::timeout(
        Duration::from_secs(20),
        client.get(&format!("http://127.0.0.1:{origin_port}/jobs"), HeaderMap::new()),
    )
    .await
    .expect("the client gives up within its redirect limit");
}

#[tokio::test]
async fn earthdata_login_over_plain_http_gets_no_credentials() {
    // Harmony sends the client to URS as usual, but over http: the token, the Basic password and the
    // `.netrc` password would all cross the network in cleartext.
    for host in ["urs.earthdata.nasa.gov", "URS.earthdata.nasa.gov.", "uat.urs.earthdata.nasa.gov"] {
        let edl = Recorder::start(|_| ok()).await;
        let location = format!("http://{host}:{}/oauth/authorize?client_id=harmony", edl.port);
        let origin = Recorder::start(move |_| redirect("302 Found", &location, "")).await;
        for credentials in every_credential() {
            let client = client(origin.port, credentials, &["urs.earthdata.nasa.gov", "uat.urs.earthdata.nasa.gov"]);
            let url = format!("http://127.0.0.1:{}/jobs", origin.port);
            let error = client.get(&url, HeaderMap::new()).await.expect_err("no sign-in over http");
            let text = format!("{error} {error:?}");
            assert!(text.contains("over plain http"), "{text}");
            assert!(!secrets().iter().any(|secret| text.contains(secret)), "{text}");
        }
        assert_clean(&edl.heads(), &format!("http://{host}"));
    }
}

#[tokio::test]
async fn another_port_a_look_alike_host_and_redirect_loops_get_no_credentials() {
    let foreign = Recorder::start(|_| ok()).await;
    let foreign_port = foreign.port;
    let targets = [
        format!("http://127.0.0.1:{foreign_port}/other-port"),
        format!("http://localhost:{foreign_port}/same-machine-other-name"),
        format!("http://urs.earthdata.nasa.gov.evil.example:{foreign_port}/oauth/authorize"),
        format!("http://evil.example:{foreign_port}/urs.earthdata.nasa.gov/oauth/authorize"),
    ];
    for target in targets {
        let origin = Recorder::start(move |_| redirect("307 Temporary Redirect", &target, "")).await;
        for credentials in every_credential() {
            let pinned = ["urs.earthdata.nasa.gov.evil.example", "evil.example"];
            get_jobs(&client(origin.port, credentials, &pinned), origin.port).await;
        }
    }
    // A loop: the origin sends the client to another port, which sends it back, until the redirect limit.
    let origin_port = Arc::new(std::sync::atomic::AtomicU16::new(0));
    let back = origin_port.clone();
    let bouncer = Recorder::start(move |_| {
        let port = back.load(std::sync::atomic::Ordering::SeqCst);
        redirect("302 Found", &format!("http://127.0.0.1:{port}/jobs"), "")
    })
    .await;
    let bouncer_port = bouncer.port;
    let looping =
        Recorder::start(move |_| redirect("302 Found", &format!("http://127.0.0.1:{bouncer_port}/"), "")).await;
    origin_port.store(looping.port, std::sync::atomic::Ordering::SeqCst);
    for credentials in every_credential() {
        get_jobs(&client(looping.port, credentials, &[]), looping.port).await;
    }
    assert_clean(&foreign.heads(), "another port or host");
    assert_clean(&bouncer.heads(), "a redirect loop");
    assert!(bouncer.heads().len() >= 2, "the loop was followed");
}

#[tokio::test]
async fn harmonys_token_cookie_stays_with_its_own_origin() {
    // Harmony sets its `token` cookie, then sends the client to the same host on another port.
    let other = Recorder::start(|_| ok()).await;
    let other_port = other.port;
    let origin = Recorder::start(move |_| {
        redirect(
            "302 Found",
            &format!("http://127.0.0.1:{other_port}/results/f.h5"),
            &format!("Set-Cookie: token={COOKIE}; Path=/; HttpOnly\n"),
        )
    })
    .await;
    let client = client(origin.port, Credentials::Anonymous, &[]);
    get_jobs(&client, origin.port).await;
    // A second request to the origin carries the cookie back: it was kept, for the right place only.
    get_jobs(&client, origin.port).await;
    assert!(origin.heads()[1].contains(&format!("token={COOKIE}")), "{}", origin.heads()[1]);
    let direct = client.get(&format!("http://127.0.0.1:{other_port}/direct"), HeaderMap::new()).await;
    assert!(direct.is_ok());
    assert_eq!(other.heads().len(), 3);
    assert_clean(&other.heads(), "another port of the same host");
}
