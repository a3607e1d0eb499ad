//! Retries: exponential backoff with jitter, and the rule for what may be retried.
//!
//! Idempotent requests (GETs, bulk status) are retried on 429, 5xx and transport errors. A submission is
//! retried only when the connection failed before anything was sent, so a retry can never duplicate a job.

use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt (harmony-py 1.8: 5).
    pub max_retries: u32,
    /// First backoff.
    pub initial_backoff: Duration,
    /// Largest backoff (harmony-py: 5 s).
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig { max_retries: 5, initial_backoff: Duration::from_millis(500), max_backoff: Duration::from_secs(5) }
    }
}

impl RetryConfig {
    /// The wait before retry number `attempt` (0-based): doubling from `initial_backoff`, capped, plus up to
    /// half of it again as jitter so many clients do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.initial_backoff.saturating_mul(2u32.saturating_pow(attempt.min(16))).min(self.max_backoff);
        let jitter = base.mul_f64(jitter_fraction() * 0.5);
        (base + jitter).min(self.max_backoff.saturating_mul(2))
    }
}

/// Whether an HTTP status is worth retrying for an idempotent request.
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Whether a transport error may be retried: any for idempotent requests; for others only a failure to
/// connect, which proves the request never reached the server.
pub fn may_retry_error(error: &reqwest::Error, idempotent: bool) -> bool {
    if idempotent {
        error.is_connect() || error.is_timeout() || error.is_request() || error.is_body() || error.is_decode()
    } else {
        error.is_connect()
    }
}

fn jitter_fraction() -> f64 {
    // A fresh random UUID is a cheap, dependency-free source of randomness good enough for jitter.
    let bytes = uuid::Uuid::new_v4().into_bytes();
    f64::from(u16::from_le_bytes([bytes[0], bytes[1]])) / f64::from(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_capped() {
        let config = RetryConfig {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        let cases = [(0, 100, 150), (1, 200, 300), (2, 400, 600), (5, 1000, 1500), (30, 1000, 1500)];
        for (attempt, low, high) in cases {
            let wait = config.backoff(attempt).as_millis();
            assert!((low..=high).contains(&wait), "attempt {attempt}: {wait} ms");
        }
    }

    #[test]
    fn only_throttling_and_server_errors_are_transient() {
        let cases = [(429, true), (500, true), (503, true), (599, true), (400, false), (404, false), (431, false)];
        for (status, expected) in cases {
            assert_eq!(is_transient_status(status), expected, "{status}");
        }
    }
}
