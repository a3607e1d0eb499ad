//! The client's one error type. URLs in messages are redacted (no query string, no user info) so
//! presigned signatures, OAuth codes and the like never reach logs or screens.

use crate::api::error::ErrorBody;

/// Result with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Harmony or downloading its results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Harmony answered with its JSON error body; `code` and `description` are kept as sent.
    #[error("Harmony answered {status} for {url}: {} ({})", body.message(), body.code)]
    Harmony {
        /// HTTP status.
        status: u16,
        /// Redacted URL.
        url: String,
        /// Harmony's `{code, description}`.
        body: ErrorBody,
    },
    /// A non-Harmony HTTP error (no JSON error body).
    #[error("{url} answered HTTP {status}{}", if text.is_empty() { String::new() } else { format!(": {text}") })]
    Http {
        /// HTTP status.
        status: u16,
        /// Redacted URL.
        url: String,
        /// The start of the body.
        text: String,
    },
    /// Credentials were missing or refused.
    #[error("authentication failed at {url}: {hint}")]
    Unauthenticated {
        /// Redacted URL.
        url: String,
        /// What to do.
        hint: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("could not reach {url}: {source}")]
    Connection {
        /// Redacted URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A submission failed in a way that means the server may have received it; it is not re-sent.
    #[error(
        "the submission to {url} may have reached Harmony but no answer came back ({source}); check `jobs` before submitting again"
    )]
    SubmissionUncertain {
        /// Redacted URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not what Harmony sends.
    #[error("unexpected answer from {url}: {message}")]
    BadResponse {
        /// Redacted URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// More redirects than any Harmony flow needs.
    #[error("too many redirects starting at {url}")]
    TooManyRedirects {
        /// Redacted URL of the first request.
        url: String,
    },
    /// The job ended as `failed`.
    #[error("job {job_id} failed: {message}")]
    JobFailed {
        /// The job.
        job_id: String,
        /// Harmony's message.
        message: String,
    },
    /// A bulk status answer did not know these jobs.
    #[error("could not find job(s): {}", job_ids.join(", "))]
    JobsNotFound {
        /// The unknown IDs.
        job_ids: Vec<String>,
    },
    /// Waiting or downloading was stopped (Ctrl-C, a kernel interrupt).
    #[error("stopped: {what}")]
    Cancelled {
        /// What was stopped and how to go on.
        what: String,
    },
    /// A download ended short of its `Content-Length`.
    #[error("download of {url} stopped at {received} of {expected} bytes")]
    Incomplete {
        /// Redacted URL.
        url: String,
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// A download received nothing for the stall timeout on every attempt; what arrived is kept.
    #[error(
        "download of {file} from {url} received nothing for {seconds} s on each of {attempts} attempt(s); the {received} byte(s) received are kept: run the same download again to resume it"
    )]
    Stalled {
        /// The local file name.
        file: String,
        /// Redacted URL.
        url: String,
        /// The stall timeout, in seconds.
        seconds: f64,
        /// Attempts made.
        attempts: u32,
        /// Bytes kept in the partial file.
        received: u64,
    },
    /// Reading an `s3://` object failed (object_store's error; credentials never appear in it).
    #[error("could not read {url} from S3: {source}")]
    S3 {
        /// The `s3://` link.
        url: String,
        /// The cause.
        #[source]
        source: Box<object_store::Error>,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built (TLS backend).
    #[error("cannot build the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),
}

/// A URL safe to show: scheme, host, port and path only.
///
/// ```
/// use harmonyql::harmony::error::redact;
/// assert_eq!(redact("https://u:p@x.example/a/b?X-Amz-Signature=s#f"), "https://x.example/a/b");
/// ```
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_secrets_but_keeps_the_place() {
        let cases = [
            ("https://h.example/jobs/1?code=abc&state=s", "https://h.example/jobs/1"),
            ("http://alice:pw@127.0.0.1:3000/x", "http://127.0.0.1:3000/x"),
            ("not a url?token=t", "not a url"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact(url), expected, "{url}");
        }
    }

    #[test]
    fn harmony_errors_keep_code_and_description() {
        let error = Error::Harmony {
            status: 404,
            url: "http://h/jobs/x".into(),
            body: ErrorBody::new("NotFoundError", "Unable to find job x"),
        };
        assert_eq!(
            error.to_string(),
            "Harmony answered 404 for http://h/jobs/x: Unable to find job x (harmony.NotFoundError)"
        );
    }
}
