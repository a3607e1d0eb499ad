//! Earthdata Login emulated on loopback (`hq serve --auth edl`), so that clients' auth code runs for real:
//! a local URS (`/oauth/authorize`, `/api/users/token`) that checks HTTP Basic credentials against a users file,
//! Harmony's redirect dance (303 to URS with `state`, `/oauth2/redirect`, signed `token` cookie, 307 back to the
//! original request), and bearer tokens.
//!
//! Tokens are `hq1.<hex user>.<expiry>.<hex HMAC-SHA256>` signed with a key kept in the data directory, so
//! they stay valid across restarts. Secrets never appear in logs or error messages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ring::hmac;

use crate::error::ServerError;
use crate::routes::{Identity, root_url};

/// Lifetime of a token (cookie or bearer), like EDL's 30-day user tokens.
const TOKEN_SECONDS: i64 = 30 * 24 * 3600;
/// Lifetime of an authorization code.
const CODE_SECONDS: i64 = 300;

/// Why EDL emulation could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// `--auth edl` without `--users`.
    #[error("--auth edl needs --users FILE (lines of username:password)")]
    NoUsersFile,
    /// The users file could not be read.
    #[error("could not read the users file {path}: {source}")]
    UsersFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `username:password`.
    #[error("users file {path}, line {line}: expected username:password")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The signing key could not be read or written.
    #[error("could not read or write the signing key {path}: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// The EDL emulation's state.
pub struct Edl {
    users: HashMap<String, String>,
    key: hmac::Key,
    codes: Mutex<HashMap<String, (String, i64)>>,
}

impl std::fmt::Debug for Edl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print passwords or the key.
        f.debug_struct("Edl").field("users", &self.users.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

/// `n_bytes` from the operating system's CSPRNG, as hex: signing keys, OAuth codes and states.
fn random_hex(n_bytes: usize) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; n_bytes];
    // The system generator fails only when the OS has none; no key is better than a guessable one.
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("the operating system's random number generator failed");
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Decodes standard base64 (as in HTTP Basic), padded or not; `None` on anything malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const BASIC: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    BASIC.decode(text.trim()).ok()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Edl {
    /// Loads the users file and the signing key (created in `data_dir` on first use).
    pub fn load(data_dir: &Path, users: Option<&Path>) -> Result<Self, AuthError> {
        let path = users.ok_or(AuthError::NoUsersFile)?;
        let text = std::fs::read_to_string(path)
            .map_err(|source| AuthError::UsersFile { path: path.to_path_buf(), source })?;
        let mut map = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, password) = line
                .split_once(':')
                .filter(|(u, p)| !u.is_empty() && !p.is_empty())
                .ok_or(AuthError::BadLine { path: path.to_path_buf(), line: i + 1 })?;
            map.insert(user.to_string(), password.to_string());
        }
        let key_path = data_dir.join("edl-signing-key");
        let key_error = |message: String| AuthError::Key { path: key_path.clone(), message };
        let secret = match std::fs::read_to_string(&key_path) {
            Ok(text) => {
                unhex(text.trim()).filter(|k| k.len() >= 32).ok_or_else(|| key_error("not a hex key".into()))?
            }
            Err(_) => {
                let fresh = random_hex(32);
                let temp = data_dir.join(format!(".edl-signing-key.{}.tmp", random_hex(4)));
                std::fs::write(&temp, &fresh).map_err(|e| key_error(e.to_string()))?;
                std::fs::rename(&temp, &key_path).map_err(|e| key_error(e.to_string()))?;
                unhex(&fresh).unwrap_or_default()
            }
        };
        Ok(Edl { users: map, key: hmac::Key::new(hmac::HMAC_SHA256, &secret), codes: Mutex::new(HashMap::new()) })
    }

    fn sign(&self, text: &str) -> String {
        hex(hmac::sign(&self.key, text.as_bytes()).as_ref())
    }

    /// Issues a token for `user`.
    pub fn issue(&self, user: &str) -> String {
        let body = format!("hq1.{}.{}", hex(user.as_bytes()), now() + TOKEN_SECONDS);
        let signature = self.sign(&body);
        format!("{body}.{signature}")
    }

    /// The user of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Option<String> {
        let (body, signature) = token.rsplit_once('.')?;
        hmac::verify(&self.key, body.as_bytes(), &unhex(signature)?).ok()?;
        let mut parts = body.split('.');
        let (Some("hq1"), Some(user), Some(expiry), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let expiry: i64 = expiry.parse().ok()?;
        let user = String::from_utf8(unhex(user)?).ok()?;
        (expiry > now() && self.users.contains_key(&user)).then_some(user)
    }

    /// The user named by a valid HTTP Basic header.
    fn basic_user(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(base64_decode(encoded)?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        // Constant-time comparison of the password: compare MACs of both.
        let expected = self.users.get(user)?;
        let same =
            hmac::verify(&self.key, expected.as_bytes(), hmac::sign(&self.key, password.as_bytes()).as_ref()).is_ok();
        same.then(|| user.to_string())
    }
}

/// Paths Harmony does not protect (`HS:app/routers/router.ts` `authorizedRoutes` leaves them out).
fn is_public(path: &str) -> bool {
    path == "/"
        || path == "/health"
        || path == "/versions"
        || path == "/hq/collections"
        // CMR's search API, which `hq serve` answers for its catalog, needs no login (as NASA's CMR).
        || path.starts_with("/search/")
        || path.starts_with("/stac/")
        || path.starts_with("/docs")
        || path.starts_with("/oauth")
        || path.starts_with("/api/users/")
}

/// The value of cookie `name` in the request's `Cookie` headers (parsed by the `cookie` crate: RFC 6265's
/// pairs, whitespace and quotes, not a hand-made split).
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value_trimmed().to_owned())
}

/// Appends a `Set-Cookie` for `name` (host-only, whole site, not readable by scripts, sent on top-level
/// navigations only); `max_age` 0 deletes it.
fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: Option<i64>) {
    let mut built = cookie::Cookie::build((name, value)).path("/").http_only(true).same_site(cookie::SameSite::Lax);
    if let Some(seconds) = max_age {
        built = built.max_age(cookie::time::Duration::seconds(seconds));
    }
    if let Ok(header) = HeaderValue::from_str(&built.build().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, header);
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COMPONENT).to_string()
}

fn decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(|text| text.into_owned())
}

fn unauthorized(message: &str) -> Response {
    let mut response = ServerError::Unauthorized(message.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Earthdata Login (hq serve)\""));
    response
}

/// Adds the URS and OAuth routes to `router` and guards Harmony's authorized routes.
pub fn protect(router: Router, edl: Arc<Edl>) -> Router {
    let urs = Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth2/redirect", get(oauth_redirect))
        .route("/oauth2/logout", get(logout))
        .route("/api/users/token", post(issue_token))
        .route("/api/users/find_or_create_token", post(issue_token))
        .with_state(edl.clone());
    router.merge(urs).layer(axum::middleware::from_fn_with_state(edl, guard))
}

/// The middleware: bearer token or signed cookie → [`Identity`]; otherwise the redirect dance (or 401).
async fn guard(State(edl): State<Arc<Edl>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if is_public(&path) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, token)) = value.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return match edl.verify(token.trim()) {
            Some(user) => {
                request.extensions_mut().insert(Identity(user));
                next.run(request).await
            }
            None => unauthorized("the bearer token is invalid or expired"),
        };
    }
    let cookie_token = cookie(headers, "token");
    if let Some(user) = cookie_token.as_deref().and_then(|t| edl.verify(t)) {
        request.extensions_mut().insert(Identity(user));
        return next.run(request).await;
    }
    let mut response = start_dance(&edl, request).await;
    if cookie_token.is_some() {
        set_cookie(&mut response, "token", "", Some(0));
    }
    response
}

/// Saves where the client wanted to go and sends it to the local URS (303), as Harmony does.
async fn start_dance(edl: &Edl, request: Request) -> Response {
    if request.method() == Method::PUT || request.method() == Method::OPTIONS {
        return unauthorized("PUT requests need a bearer token or a token cookie from an earlier request");
    }
    let root = root_url(request.headers());
    let mut target = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into());
    if request.method() == Method::POST {
        // Harmony replays a POST as a GET with the form fields in the query; shape files and JSON cannot be.
        let content_type =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if !content_type.starts_with("multipart/form-data") {
            return unauthorized("sign in first: a GET request (e.g. GET /jobs) performs the Earthdata Login redirect");
        }
        let Ok(mut multipart) = axum::extract::Multipart::from_request(request, &()).await else {
            return ServerError::BadRequest("the multipart body could not be read".into()).into_response();
        };
        let mut fields = Vec::new();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    if field.file_name().is_some() || field.name() == Some("shapefile") {
                        return unauthorized(
                            "sign in first: a shape file upload cannot be replayed after the Earthdata Login redirect",
                        );
                    }
                    let name = field.name().unwrap_or_default().to_string();
                    let Ok(value) = field.text().await else {
                        return ServerError::BadRequest("the multipart body could not be read".into()).into_response();
                    };
                    fields.push(format!("{}={}", encode(&name), encode(&value)));
                }
                Ok(None) => break,
                Err(_) => {
                    return ServerError::BadRequest("the multipart body could not be read".into()).into_response();
                }
            }
        }
        if !fields.is_empty() {
            let separator = if target.contains('?') { '&' } else { '?' };
            target = format!("{target}{separator}{}", fields.join("&"));
        }
    }
    let state = random_hex(16);
    let signed_target = format!("{}.{}", encode(&target), edl.sign(&target));
    let location = format!(
        "{root}/oauth/authorize?client_id=hq-local&response_type=code&redirect_uri={}&state={state}",
        encode(&format!("{root}/oauth2/redirect"))
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    set_cookie(&mut response, "state", &state, None);
    set_cookie(&mut response, "redirect", &signed_target, None);
    response
}

use axum::extract::FromRequest;

/// A query parameter, decoded as browsers encode forms (`+` is a space).
fn query_value(request: &Request, key: &str) -> Option<String> {
    form_urlencoded::parse(request.uri().query()?.as_bytes())
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

/// The local URS: checks Basic credentials and redirects to `redirect_uri` with a one-time code.
async fn authorize(State(edl): State<Arc<Edl>>, request: Request) -> Response {
    let Some(user) = edl.basic_user(request.headers()) else {
        return unauthorized("incorrect or missing Earthdata Login credentials (HTTP Basic, from the users file)");
    };
    let root = root_url(request.headers());
    let redirect_uri = query_value(&request, "redirect_uri").unwrap_or_default();
    // Only this server's own callback: no open redirect.
    if redirect_uri != format!("{root}/oauth2/redirect") {
        return ServerError::BadRequest("redirect_uri must be this server's /oauth2/redirect".into()).into_response();
    }
    let state = query_value(&request, "state").unwrap_or_default();
    let code = random_hex(16);
    {
        let mut codes = edl.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.retain(|_, (_, expiry)| *expiry > now());
        codes.insert(code.clone(), (user, now() + CODE_SECONDS));
    }
    let location = format!("{redirect_uri}?code={code}&state={}", encode(&state));
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Harmony's callback: checks `state`, exchanges the code, sets the signed `token` cookie, 307s back.
async fn oauth_redirect(State(edl): State<Arc<Edl>>, request: Request) -> Response {
    let headers = request.headers();
    let state = query_value(&request, "state");
    if state.is_none() || state != cookie(headers, "state") {
        return ServerError::BadRequest("the OAuth state does not match this browser's login attempt".into())
            .into_response();
    }
    let code = query_value(&request, "code").unwrap_or_default();
    let user = {
        let mut codes = edl.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.remove(&code).filter(|(_, expiry)| *expiry > now()).map(|(user, _)| user)
    };
    let Some(user) = user else {
        return unauthorized("the authorization code is invalid or expired");
    };
    let target = cookie(headers, "redirect")
        .as_deref()
        .and_then(|signed| signed.rsplit_once('.'))
        .and_then(|(encoded, signature)| {
            let target = decode(encoded)?;
            hmac::verify(&edl.key, target.as_bytes(), &unhex(signature)?).ok()?;
            target.starts_with('/').then_some(target).filter(|t| !t.starts_with("//"))
        })
        .unwrap_or_else(|| "/".to_string());
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(value) = HeaderValue::from_str(&target) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    set_cookie(&mut response, "token", &edl.issue(&user), Some(TOKEN_SECONDS));
    set_cookie(&mut response, "state", "", Some(0));
    set_cookie(&mut response, "redirect", "", Some(0));
    response
}

async fn logout() -> Response {
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/"));
    set_cookie(&mut response, "token", "", Some(0));
    response
}

/// EDL's user-token API: Basic credentials in, a bearer token out.
async fn issue_token(State(edl): State<Arc<Edl>>, headers: HeaderMap) -> Response {
    let Some(user) = edl.basic_user(&headers) else {
        return unauthorized("incorrect or missing Earthdata Login credentials");
    };
    let expiration = chrono::Utc::now() + chrono::Duration::seconds(TOKEN_SECONDS);
    axum::Json(serde_json::json!({
        "access_token": edl.issue(&user),
        "token_type": "Bearer",
        "expiration_date": expiration.format("%m/%d/%Y").to_string(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edl(dir: &Path) -> Edl {
        let users = dir.join("users");
        std::fs::write(&users, "# test users\nalice:wonderland\nbob:builder\n").unwrap();
        Edl::load(dir, Some(&users)).unwrap()
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hq-auth-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn cookies_are_read_and_written_by_the_cookie_crate() {
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
            }
            map
        };
        let cases: [(&[&str], Option<&str>); 6] = [
            (&["token=abc"], Some("abc")),
            (&["state=s1; token=abc.def=="], Some("abc.def==")),
            // Whitespace around the `=` and a quoted value, both RFC 6265 spellings a hand-made split missed.
            (&["state=s1;  token = abc "], Some("abc")),
            (&["token=\"abc\""], Some("abc")),
            (&["other=1", "token=abc"], Some("abc")),
            (&["tokens=abc; xtoken=abc"], None),
        ];
        for (values, expected) in cases {
            assert_eq!(cookie(&headers(values), "token").as_deref(), expected, "{values:?}");
        }
        let mut response = StatusCode::OK.into_response();
        set_cookie(&mut response, "token", "abc", Some(60));
        set_cookie(&mut response, "state", "", Some(0));
        set_cookie(&mut response, "redirect", "x.y", None);
        let written: Vec<cookie::Cookie<'static>> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect();
        let summary: Vec<_> = written
            .iter()
            .map(|c| {
                (c.name(), c.value(), c.path(), c.http_only(), c.same_site(), c.max_age().map(|a| a.whole_seconds()))
            })
            .collect();
        let lax = Some(cookie::SameSite::Lax);
        assert_eq!(
            summary,
            [
                ("token", "abc", Some("/"), Some(true), lax, Some(60)),
                ("state", "", Some("/"), Some(true), lax, Some(0)),
                ("redirect", "x.y", Some("/"), Some(true), lax, None),
            ]
        );
    }

    #[test]
    fn random_values_are_not_uuids() {
        // A v4 UUID's 13th hex digit is always `4`: values made from UUIDs show it every time.
        let values: Vec<String> = (0..64).map(|_| random_hex(16)).collect();
        assert!(values.iter().any(|v| v.as_bytes()[12] != b'4'), "{values:?}");
        assert!(values.iter().all(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    #[test]
    fn query_values_decode_plus_and_percent_like_a_form() {
        let request = |query: &str| {
            Request::builder().uri(format!("/oauth2/redirect?{query}")).body(axum::body::Body::empty()).unwrap()
        };
        let cases = [
            ("state=a+b%2Bc&code=x", "state", Some("a b+c")),
            ("code=1&state=%E2%9C%93", "state", Some("✓")),
            ("state", "state", Some("")),
            ("other=1", "state", None),
        ];
        for (query, key, expected) in cases {
            assert_eq!(query_value(&request(query), key).as_deref(), expected, "{query}");
        }
    }

    #[test]
    fn base64_decodes_basic_credentials() {
        let cases =
            [("YWxpY2U6d29uZGVybGFuZA==", Some("alice:wonderland")), ("Ym9i", Some("bob")), ("!!!", None), ("a", None)];
        for (text, expected) in cases {
            assert_eq!(base64_decode(text).and_then(|b| String::from_utf8(b).ok()).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn tokens_verify_only_when_intact_and_survive_a_reload() {
        let dir = temp_dir();
        let first = edl(&dir);
        let token = first.issue("alice");
        assert_eq!(first.verify(&token).as_deref(), Some("alice"));
        assert_eq!(edl(&dir).verify(&token).as_deref(), Some("alice"), "same key after reload");
        let tampered = token.replacen(&hex(b"alice"), &hex(b"bob"), 1);
        for bad in [tampered.as_str(), "hq1.x.y.z", "", "....", &token[..token.len() - 2]] {
            assert_eq!(first.verify(bad), None, "{bad}");
        }
        assert_eq!(edl(&temp_dir()).verify(&token), None, "another server's key");
    }

    #[test]
    fn basic_credentials_are_checked_against_the_users_file() {
        let edl = edl(&temp_dir());
        let header = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert_eq!(edl.basic_user(&header("Basic YWxpY2U6d29uZGVybGFuZA==")).as_deref(), Some("alice"));
        assert_eq!(edl.basic_user(&header("Basic YWxpY2U6d3Jvbmc=")), None);
        assert_eq!(edl.basic_user(&header("Bearer x")), None);
        assert_eq!(edl.basic_user(&HeaderMap::new()), None);
    }

    #[test]
    fn malformed_users_files_are_reported_with_the_line() {
        let dir = temp_dir();
        let users = dir.join("users");
        std::fs::write(&users, "alice:pw\nnocolon\n").unwrap();
        let error = Edl::load(&dir, Some(&users)).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(matches!(Edl::load(&dir, None), Err(AuthError::NoUsersFile)));
    }
}
