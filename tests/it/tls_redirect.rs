//! https → http on the wire: a hostile loopback TLS server (certificate from the test CA in `tests/it/tls/`)
//! answers `hq run` with a redirect to a plain-http loopback recorder, after setting a cookie. The client
//! trusts the test CA the way any user adds a root (`SSL_CERT_FILE`, read by rustls' platform verifier), so
//! no production code path weakens TLS. The recorder must never see `Authorization`, a cookie or a password;
//! the TLS server (the origin the user chose) must see the credentials, which proves the TLS leg worked.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::AsyncWriteExt;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const TOKEN: &str = "tls-tok-SECRET-1";
const PASSWORD: &str = "tls-pw-SECRET-2";
const NETRC_PASSWORD: &str = "tls-netrc-SECRET-3";
const COOKIE: &str = "tls-cookie-SECRET-4";

fn tls_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/tls")
}

/// Every request head a server received.
type Heads = Arc<Mutex<Vec<String>>>;

/// A loopback https server that records each head and answers a redirect to `location`, setting a cookie.
async fn hostile_tls_origin(location: String) -> (u16, Heads) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_dir().join("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Heads::default();
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, seen, location) = (acceptor.clone(), seen.clone(), location.clone());
            tokio::spawn(async move {
                let Ok(Ok(mut tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(socket)).await
                else {
                    return;
                };
                let Some(head) = crate::peer::read_head(&mut tls).await else { return };
                seen.lock().unwrap().push(head);
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nSet-Cookie: token={COOKIE}; Path=/; HttpOnly\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, heads)
}

/// A plain-http loopback recorder answering an empty job listing.
async fn plain_recorder() -> (u16, Heads) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Heads::default();
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some(head) = crate::peer::read_head(&mut socket).await else { return };
                seen.lock().unwrap().push(head);
                let body = r#"{"count":0,"jobs":[],"links":[]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, heads)
}

/// The test secrets, as written and as Basic credentials.
fn secrets() -> Vec<String> {
    let mut all: Vec<String> = [TOKEN, PASSWORD, NETRC_PASSWORD, COOKIE].map(str::to_owned).into();
    for (user, password) in [("alice", PASSWORD), ("netrc-user", NETRC_PASSWORD)] {
        all.push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_origin_redirecting_to_plain_http_gets_no_credential_across() {
    let (plain_port, plain_heads) = plain_recorder().await;
    let (tls_port, tls_heads) = hostile_tls_origin(format!("http://127.0.0.1:{plain_port}/jobs")).await;
    let origin = format!("https://127.0.0.1:{tls_port}");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".netrc"),
        format!("machine 127.0.0.1 login netrc-user password {NETRC_PASSWORD}\n"),
    )
    .unwrap();
    let credentials: [(&str, &[(&str, &str)]); 3] = [
        ("token", &[("EDL_TOKEN", TOKEN)]),
        ("user and password", &[("EDL_USERNAME", "alice"), ("EDL_PASSWORD", PASSWORD)]),
        ("netrc", &[]),
    ];
    for (what, variables) in credentials {
        let before = tls_heads.lock().unwrap().len();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hq"));
        command
            .args(["run", "--env", &origin, "-e", "jobs"])
            .env("SSL_CERT_FILE", tls_dir().join("ca.pem"))
            .env("HOME", home.path())
            .env_remove("SSL_CERT_DIR")
            .kill_on_drop(true);
        for name in ["EDL_TOKEN", "EARTHDATA_TOKEN", "EDL_USERNAME", "EDL_PASSWORD", "EARTHDATA_USERNAME"] {
            command.env_remove(name);
        }
        command.env_remove("EARTHDATA_PASSWORD").env_remove("NETRC");
        for (name, value) in variables {
            command.env(name, value);
        }
        let output =
            tokio::time::timeout(Duration::from_secs(60), command.output()).await.expect("hq run ends").unwrap();
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        for secret in secrets() {
            assert!(!printed.contains(&secret), "{what}: hq printed a secret:\n{printed}");
        }
        // The TLS leg worked and the origin the user chose got the credential.
        let heads = tls_heads.lock().unwrap()[before..].to_vec();
        assert!(!heads.is_empty(), "{what}: the https origin was never reached:\n{printed}");
        assert!(
            heads.iter().any(|head| head.to_ascii_lowercase().contains("\r\nauthorization:")),
            "{what}: the https origin got no credential:\n{heads:?}\n{printed}"
        );
    }
    let plain = plain_heads.lock().unwrap().clone();
    assert!(!plain.is_empty(), "the redirect to http was never followed");
    for head in &plain {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("\r\nauthorization:"), "Authorization crossed to http:\n{head}");
        assert!(!lower.contains("\r\ncookie:"), "a cookie crossed to http:\n{head}");
        for secret in secrets() {
            assert!(!head.contains(&secret), "a secret crossed to http:\n{head}");
        }
    }
}
