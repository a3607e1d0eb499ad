//! `Client`: sends `api::request::Request` values to one Harmony, following redirects by hand so each
//! hop decides whether `Authorization` may go, keeping Harmony's `token` cookie, and retrying only what
//! is safe to retry.
//!
//! It knows nothing of the language, Jupyter or the local server.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method as HttpMethod, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use tokio::sync::OnceCell;

use crate::api::environment::Environment;
use crate::api::error::ErrorBody;
use crate::api::job::Job;
use crate::api::request::{Body, Method, Request, Shapefile};
use crate::harmony::auth::{Credentials, Netrc, OriginCookies, authorization, is_edl_host};
use crate::harmony::error::{Error, Result, redact};
use crate::harmony::retry::{RetryConfig, is_transient_status, may_retry_error};

/// Redirect hops any Harmony flow needs (request → URS → callback → request, plus a data redirect).
const MAX_REDIRECTS: usize = 10;

/// A client for one Harmony environment.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    env: Environment,
    credentials: Credentials,
    netrc: Arc<Netrc>,
    retry: RetryConfig,
    signed_in: Arc<OnceCell<()>>,
    /// Host names pinned to addresses (see [`Client::with_resolved`]).
    resolved: Vec<(String, SocketAddr)>,
}

/// What a submission returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// An asynchronous job (the usual case; harmony-py sends `forceAsync=true`).
    Job(Box<Job>),
    /// A body that is not a job document (a synchronous answer, a label change).
    Body(Json),
}

/// Temporary AWS credentials from `GET /cloud-access` (for `s3://` links, in us-west-2 only).
#[derive(Debug, Clone, PartialEq)]
pub struct AwsCredentials {
    /// `AccessKeyId`.
    pub access_key_id: String,
    /// `SecretAccessKey`.
    pub secret_access_key: crate::harmony::auth::Secret,
    /// `SessionToken`.
    pub session_token: crate::harmony::auth::Secret,
    /// `Expiration`, as sent.
    pub expiration: Option<String>,
}

/// One hop of a request: what to send where.
#[derive(Debug, Clone)]
enum HopBody {
    None,
    Form(Vec<(String, String)>, Option<Shapefile>),
    Json(Json),
}

impl Client {
    /// A client for `env` with these credentials (`.netrc` is read once here).
    ///
    /// ```
    /// use harmonyql::api::environment::Environment;
    /// use harmonyql::harmony::{auth::Credentials, client::Client};
    /// let client = Client::new(Environment::Uat, Credentials::Anonymous).unwrap();
    /// assert_eq!(client.root_url(), "https://harmony.uat.earthdata.nasa.gov");
    /// ```
    pub fn new(env: Environment, credentials: Credentials) -> Result<Self> {
        let http = http_client(&[])?;
        let netrc = match credentials {
            Credentials::Netrc => Netrc::load(),
            _ => Netrc::default(),
        };
        Ok(Client {
            http,
            env,
            credentials,
            netrc: Arc::new(netrc),
            retry: RetryConfig::default(),
            signed_in: Arc::new(OnceCell::new()),
            resolved: Vec::new(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The same client with these `.netrc` entries (tests, or a file other than `~/.netrc`).
    pub fn with_netrc(mut self, netrc: Netrc) -> Self {
        self.netrc = Arc::new(netrc);
        self
    }

    /// The same client with `host` resolved to `addr`'s IP address instead of through DNS (the port
    /// still comes from each URL), as curl's `--resolve` does: for tests that play Earthdata Login or a
    /// foreign host on loopback, or for a mirror. Starts a fresh connection pool and cookie store.
    pub fn with_resolved(mut self, host: &str, addr: SocketAddr) -> Result<Self> {
        self.resolved.push((host.to_ascii_lowercase(), addr));
        self.http = http_client(&self.resolved)?;
        self.signed_in = Arc::new(OnceCell::new());
        Ok(self)
    }

    /// The environment.
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The environment's root URL.
    pub fn root_url(&self) -> String {
        self.env.root_url()
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// Signs in once with `GET /jobs`, as harmony-py's `validate_auth` does, so the Earthdata Login dance
    /// happens on a GET and later submissions (multipart with a shape file, JSON) carry the `token` cookie.
    pub async fn sign_in(&self) -> Result<()> {
        self.signed_in
            .get_or_try_init(|| async {
                let url = format!("{}/jobs", self.root_url());
                let response = self.get(&url, HeaderMap::new()).await?;
                match response.status() {
                    status if status.is_success() => Ok(()),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::Unauthenticated {
                        url: redact(&url),
                        hint: "incorrect or missing credentials during credential validation".to_owned(),
                    }),
                    _ => Err(error_from(response).await),
                }
            })
            .await
            .map(|_| ())
    }

    /// Sends a request, following redirects; returns the final response whatever its status.
    pub async fn send(&self, request: &Request) -> Result<Response> {
        let idempotent = is_idempotent(request);
        if !idempotent && !matches!(self.credentials, Credentials::Token(_) | Credentials::Anonymous) {
            self.sign_in().await?;
        }
        let (url, body) = match request.body {
            Body::Query => {
                let mut url = parse_url(&request.endpoint())?;
                if !request.params.is_empty() {
                    url.query_pairs_mut().extend_pairs(request.query_pairs());
                }
                (url, HopBody::None)
            }
            Body::Multipart => {
                (parse_url(&request.endpoint())?, HopBody::Form(request.form_fields(), request.shapefile.clone()))
            }
            Body::Json => (parse_url(&request.endpoint())?, HopBody::Json(request.json_body())),
        };
        self.follow(http_method(request.method), url, body, HeaderMap::new(), idempotent).await
    }

    /// `GET url` with extra headers (a `Range`), following redirects with the same per-hop auth rule.
    pub async fn get(&self, url: &str, headers: HeaderMap) -> Result<Response> {
        self.follow(HttpMethod::GET, parse_url(url)?, HopBody::None, headers, true).await
    }

    /// Sends a request and parses a successful JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, request: &Request) -> Result<T> {
        let response = checked(self.send(request).await?).await?;
        parse_json(response).await
    }

    /// Like [`Client::json`], but an answer with no body (Harmony's `204 No Content` to `DELETE /labels`) is `None`.
    pub async fn json_or_nothing(&self, request: &Request) -> Result<Option<Json>> {
        let response = checked(self.send(request).await?).await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT || response.content_length() == Some(0) {
            return Ok(None);
        }
        parse_json(response).await.map(Some)
    }

    /// Submits a transformation (or any request) and returns the job it created, or the body if it is not one.
    pub async fn submit(&self, request: &Request) -> Result<Submission> {
        let response = checked(self.send(request).await?).await?;
        let body: Json = parse_json(response).await?;
        if body.get("jobID").is_some() {
            let url = redact(&request.endpoint());
            let job = serde_json::from_value(body)
                .map_err(|error| Error::BadResponse { url, message: format!("not a job document: {error}") })?;
            return Ok(Submission::Job(Box::new(job)));
        }
        Ok(Submission::Body(body))
    }

    /// Temporary AWS credentials for direct S3 access (harmony-py's `aws_credentials`).
    pub async fn cloud_credentials(&self) -> Result<AwsCredentials> {
        let request = crate::api::endpoint::cloud_access(&self.root_url());
        let body: Json = self.json(&request).await?;
        let field = |name: &str| body.get(name).and_then(Json::as_str).map(str::to_owned);
        let missing = |name: &str| Error::BadResponse {
            url: redact(&request.endpoint()),
            message: format!("the cloud-access answer has no `{name}`"),
        };
        Ok(AwsCredentials {
            access_key_id: field("AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?,
            secret_access_key: crate::harmony::auth::Secret::new(
                field("SecretAccessKey").ok_or_else(|| missing("SecretAccessKey"))?,
            ),
            session_token: crate::harmony::auth::Secret::new(
                field("SessionToken").ok_or_else(|| missing("SessionToken"))?,
            ),
            expiration: field("Expiration"),
        })
    }

    /// `GET url` and the body as text (harmony-py's `read_text`).
    pub async fn read_text(&self, url: &str) -> Result<String> {
        let response = checked(self.get(url, HeaderMap::new()).await?).await?;
        let url = redact(url);
        response.text().await.map_err(|source| Error::Connection { url, source })
    }

    async fn follow(
        &self,
        mut method: HttpMethod,
        mut url: Url,
        mut body: HopBody,
        headers: HeaderMap,
        mut idempotent: bool,
    ) -> Result<Response> {
        let origin = url.clone();
        for _ in 0..MAX_REDIRECTS {
            let response = self.hop(&method, &url, &body, &headers, idempotent).await?;
            let status = response.status();
            let location = response.headers().get(LOCATION).and_then(|value| value.to_str().ok());
            let (true, Some(location)) = (status.is_redirection(), location) else { return Ok(response) };
            let next = url.join(location).map_err(|error| Error::BadResponse {
                url: redact(url.as_str()),
                message: format!("bad redirect location: {error}"),
            })?;
            let keeps_method = matches!(status, StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT);
            if !keeps_method {
                method = HttpMethod::GET;
                body = HopBody::None;
                idempotent = true;
            }
            if next.path().ends_with("/oauth/authorize")
                && authorization(&self.credentials, &self.netrc, &parse_url(&self.root_url())?, &next).is_none()
            {
                let host = next.host_str().unwrap_or_default().to_owned();
                let hint = if is_edl_host(&host) && next.scheme() != "https" {
                    format!(
                        "the sign-in was sent to Earthdata Login over plain {}: credentials go to {host} over \
                         https only, so none were sent; check the Harmony URL",
                        next.scheme()
                    )
                } else {
                    self.netrc.missing_entry_hint(&host)
                };
                return Err(Error::Unauthenticated { url: redact(origin.as_str()), hint });
            }
            url = next;
        }
        Err(Error::TooManyRedirects { url: redact(origin.as_str()) })
    }

    async fn hop(
        &self,
        method: &HttpMethod,
        url: &Url,
        body: &HopBody,
        headers: &HeaderMap,
        idempotent: bool,
    ) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let mut builder = self.http.request(method.clone(), url.clone()).headers(headers.clone());
            // Credentials go to the Harmony this client talks to and to Earthdata Login, never elsewhere.
            let root = parse_url(&self.root_url())?;
            if let Some(value) = authorization(&self.credentials, &self.netrc, &root, url)
                && let Ok(mut header) = HeaderValue::from_str(value.expose())
            {
                header.set_sensitive(true);
                builder = builder.header(AUTHORIZATION, header);
            }
            builder = match body {
                HopBody::None => builder,
                HopBody::Json(json) => builder.json(json),
                HopBody::Form(fields, shapefile) => builder.multipart(form(fields, shapefile.as_ref()).await?),
            };
            match builder.send().await {
                Ok(response)
                    if idempotent
                        && is_transient_status(response.status().as_u16())
                        && attempt < self.retry.max_retries =>
                {
                    tracing::debug!(url = %redact(url.as_str()), status = %response.status(), "retrying");
                }
                Ok(response) => return Ok(response),
                Err(error) if attempt < self.retry.max_retries && may_retry_error(&error, idempotent) => {
                    tracing::debug!(url = %redact(url.as_str()), "retrying after a transport error");
                }
                Err(source) if !idempotent && !source.is_connect() => {
                    return Err(Error::SubmissionUncertain { url: redact(url.as_str()), source });
                }
                Err(source) => return Err(Error::Connection { url: redact(url.as_str()), source }),
            }
            tokio::time::sleep(self.retry.backoff(attempt)).await;
            attempt += 1;
        }
    }
}

/// The HTTP client: redirects are followed by hand in [`Client::follow`], so each hop decides on
/// credentials.
fn http_client(resolved: &[(String, SocketAddr)]) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(Arc::new(OriginCookies::default()))
        .user_agent(format!("harmonyql/{}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30));
    for (host, addr) in resolved {
        builder = builder.resolve(host, *addr);
    }
    builder.build().map_err(Error::Setup)
}

/// Turns an unsuccessful response into an error; a successful one passes through.
pub async fn checked(response: Response) -> Result<Response> {
    if response.status().is_success() { Ok(response) } else { Err(error_from(response).await) }
}

/// The error for an unsuccessful response: Harmony's `{code, description}` when the body has it.
pub async fn error_from(response: Response) -> Error {
    let status = response.status().as_u16();
    let url = redact(response.url().as_str());
    let text = response.text().await.unwrap_or_default();
    if let Ok(json) = serde_json::from_str::<Json>(&text)
        && let Some(description) = json.get("description").or_else(|| json.get("error")).and_then(Json::as_str)
    {
        let code = json.get("code").and_then(Json::as_str).unwrap_or_default().to_owned();
        return Error::Harmony { status, url, body: ErrorBody { code, description: description.to_owned() } };
    }
    if status == 401 || text.contains("Earthdata Login") {
        return Error::Unauthenticated {
            url,
            hint: "sign in with a token, EDL_USERNAME and EDL_PASSWORD, or a .netrc entry for urs.earthdata.nasa.gov"
                .to_owned(),
        };
    }
    let text: String = text.chars().take(200).collect();
    Error::Http { status, url, text: text.trim().to_owned() }
}

async fn parse_json<T: DeserializeOwned>(response: Response) -> Result<T> {
    let url = redact(response.url().as_str());
    let text = response.text().await.map_err(|source| Error::Connection { url: url.clone(), source })?;
    serde_json::from_str(&text).map_err(|error| {
        if text.contains("Earthdata Login") {
            Error::Unauthenticated {
                url: url.clone(),
                hint: "Harmony answered with the Earthdata Login page: add a .netrc entry for urs.earthdata.nasa.gov"
                    .to_owned(),
            }
        } else {
            Error::BadResponse { url: url.clone(), message: format!("not the JSON expected: {error}") }
        }
    })
}

async fn form(fields: &[(String, String)], shapefile: Option<&Shapefile>) -> Result<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    if let Some(shape) = shapefile {
        let bytes =
            tokio::fs::read(&shape.path).await.map_err(|source| Error::Io { path: shape.path.clone(), source })?;
        let name = std::path::Path::new(&shape.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "shapefile".into());
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name).mime_str(&shape.mime).map_err(|error| {
            Error::Io { path: shape.path.clone(), source: std::io::Error::other(error.to_string()) }
        })?;
        form = form.part("shapefile", part);
    }
    Ok(form)
}

fn is_idempotent(request: &Request) -> bool {
    match request.method {
        Method::Get | Method::Put | Method::Delete => true,
        // Bulk status reads; every other POST creates something.
        Method::Post => request.path == "/jobs/status",
    }
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Put => HttpMethod::PUT,
        Method::Delete => HttpMethod::DELETE,
    }
}

fn parse_url(text: &str) -> Result<Url> {
    Url::parse(text).map_err(|error| Error::BadResponse { url: redact(text), message: format!("not a URL: {error}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_count_as_idempotent() {
        let root = "http://h";
        let cases = [
            (Request::new(Method::Get, root, "/jobs", Body::Query), true),
            (Request::new(Method::Post, root, "/jobs/status", Body::Json), true),
            (Request::new(Method::Post, root, "/C1/ogc-api-coverages/1.0.0/x", Body::Multipart), false),
            (Request::new(Method::Post, root, "/ogc-api-edr/1.1.0/collections/C1/area", Body::Json), false),
        ];
        for (request, expected) in cases {
            assert_eq!(is_idempotent(&request), expected, "{}", request.path);
        }
    }
}
