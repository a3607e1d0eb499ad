//! Fault injection for `hq serve` (off by default): added latency, 5xx and 429 answers (with
//! `Retry-After`), bodies dropped mid-way and slow bodies, so clients can be tested against a Harmony that
//! misbehaves as the real one sometimes does. Only idempotent requests (GET, HEAD) get errors and broken
//! bodies: a client must never resubmit a job, so a fault there would test nothing but the test.
//! [`JobFaults`] reach the job engine instead: work items that stall or fail mid-way, and restarts of the
//! engine mid-job (the engine applies them; this module only decides).
//! Deterministic for a seed (SplitMix64), so a failing soak run can be replayed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use harmonyql_lang::api::error::ErrorBody;

/// Largest added latency and per-chunk delay: faults slow a client down, they never hang it.
pub const MAX_DELAY: Duration = Duration::from_secs(10);
/// Largest rate of each fault: at least half of the answers stay good, so every retry loop can finish.
pub const MAX_RATE: f64 = 0.5;

/// Which faults, how often. Rates are fractions of eligible requests (clamped to [`MAX_RATE`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// GETs answered 503 (half of them) or 429 with `Retry-After: 1` (the other half).
    pub error_rate: f64,
    /// GET bodies cut after half their bytes (the connection is closed mid-body).
    pub drop_rate: f64,
    /// Delay before each body chunk.
    pub slow_body: Duration,
    /// Seed of the fault sequence.
    pub seed: u64,
    /// Faults of the job engine.
    pub jobs: JobFaults,
}

impl Faults {
    /// Whether any fault on the wire is on (the job faults are the engine's).
    pub fn any(&self) -> bool {
        !self.latency.is_zero() || self.error_rate > 0.0 || self.drop_rate > 0.0 || !self.slow_body.is_zero()
    }

    fn bounded(mut self) -> Self {
        self.latency = self.latency.min(MAX_DELAY);
        self.slow_body = self.slow_body.min(MAX_DELAY);
        self.error_rate = self.error_rate.clamp(0.0, MAX_RATE);
        self.drop_rate = self.drop_rate.clamp(0.0, MAX_RATE);
        self
    }
}

/// Faults of the job engine, each a fraction of work items (clamped to [`MAX_RATE`], so every job ends).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFaults {
    /// Work items that stall (the job makes no progress) for [`JobFaults::stall`] before they run.
    pub stall_rate: f64,
    /// How long a stalled item waits (at most [`MAX_DELAY`]).
    pub stall: Duration,
    /// Work items that fail mid-job: recorded failed with an "injected fault" message naming the granule.
    pub fail_rate: f64,
    /// Work items during which the engine restarts as after `kill -9`: what was not committed is lost,
    /// the jobs are read back from the database and the interrupted items run again.
    pub restart_rate: f64,
    /// Seed of the job fault sequence.
    pub seed: u64,
}

/// What happens to one work item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFault {
    /// Nothing: it runs.
    None,
    /// It waits this long first, then runs.
    Stall(Duration),
    /// It fails without running.
    Fail,
    /// The engine restarts while it runs.
    Restart,
}

impl JobFaults {
    /// Whether any job fault is on.
    pub fn any(&self) -> bool {
        self.stall_rate > 0.0 || self.fail_rate > 0.0 || self.restart_rate > 0.0
    }

    /// The same faults, bounded.
    pub fn bounded(mut self) -> Self {
        self.stall = self.stall.min(MAX_DELAY);
        self.stall_rate = self.stall_rate.clamp(0.0, MAX_RATE);
        self.fail_rate = self.fail_rate.clamp(0.0, MAX_RATE);
        self.restart_rate = self.restart_rate.clamp(0.0, MAX_RATE);
        self
    }

    /// Draws the fault of the next work item (restart first, then fail, then stall: at most one each).
    pub fn draw(&self, dice: &Dice) -> ItemFault {
        if !self.any() {
            return ItemFault::None;
        }
        let roll = dice.next();
        if roll < self.restart_rate {
            ItemFault::Restart
        } else if dice.next() < self.fail_rate {
            ItemFault::Fail
        } else if dice.next() < self.stall_rate && !self.stall.is_zero() {
            ItemFault::Stall(self.stall)
        } else {
            ItemFault::None
        }
    }
}

/// A shared, seeded random sequence (SplitMix64): the same seed gives the same faults in the same order.
#[derive(Debug, Clone, Default)]
pub struct Dice {
    state: Arc<Mutex<u64>>,
}

impl Dice {
    /// A sequence starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Dice { state: Arc::new(Mutex::new(seed)) }
    }

    /// A uniform number in [0, 1).
    pub fn next(&self) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The middleware's state: the settings and the random sequence.
#[derive(Debug, Clone)]
pub struct Injector {
    faults: Faults,
    dice: Dice,
}

impl Injector {
    /// An injector for `faults` (bounded).
    pub fn new(faults: Faults) -> Self {
        let dice = Dice::new(faults.seed);
        Injector { faults: faults.bounded(), dice }
    }

    fn next(&self) -> f64 {
        self.dice.next()
    }
}

/// Adds the fault layer to `router` when any fault is on.
pub fn inject(router: axum::Router, faults: Faults) -> axum::Router {
    if !faults.any() {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(Injector::new(faults), layer))
}

async fn layer(State(injector): State<Injector>, request: Request, next: Next) -> Response {
    let faults = &injector.faults;
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let idempotent = matches!(*request.method(), Method::GET | Method::HEAD);
    if idempotent && injector.next() < faults.error_rate {
        return if injector.next() < 0.5 {
            let body = ErrorBody::new("ServiceUnavailable", "injected fault: service unavailable, try again");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        } else {
            let body = ErrorBody::new("TooManyRequests", "injected fault: too many requests, retry after 1 s");
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        };
    }
    let drop_body = idempotent && injector.next() < faults.drop_rate;
    let response = next.run(request).await;
    if !drop_body && faults.slow_body.is_zero() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let announced =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok()).unwrap_or(0);
    // Cut after half the announced bytes (at least one), or not at all.
    let mut budget = if drop_body && announced > 1 { Some(announced / 2) } else { None };
    let delay = faults.slow_body;
    let stream = body.into_data_stream().flat_map(move |chunk| {
        let items: Vec<Result<axum::body::Bytes, std::io::Error>> = match (chunk, budget.as_mut()) {
            (Err(error), _) => vec![Err(std::io::Error::other(error))],
            (Ok(bytes), None) => vec![Ok(bytes)],
            (Ok(_), Some(0)) => vec![Err(std::io::Error::other("injected fault: connection dropped mid-body"))],
            (Ok(bytes), Some(left)) if bytes.len() <= *left => {
                *left -= bytes.len();
                vec![Ok(bytes)]
            }
            (Ok(bytes), Some(left)) => {
                let head = bytes.slice(..*left);
                *left = 0;
                vec![Ok(head), Err(std::io::Error::other("injected fault: connection dropped mid-body"))]
            }
        };
        futures_util::stream::iter(items).then(move |item| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            item
        })
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_delays_are_bounded_and_the_sequence_is_uniform_enough() {
        let faults = Faults { latency: Duration::from_secs(99), error_rate: 3.0, drop_rate: -1.0, ..Faults::default() };
        let bounded = faults.bounded();
        assert_eq!((bounded.latency, bounded.error_rate, bounded.drop_rate), (MAX_DELAY, MAX_RATE, 0.0));
        let injector = Injector::new(Faults { seed: 7, ..Faults::default() });
        let draws: Vec<f64> = (0..10_000).map(|_| injector.next()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let below = draws.iter().filter(|d| **d < 0.2).count();
        assert!((1700..2300).contains(&below), "{below}");
        assert!(!Faults::default().any());
    }

    #[test]
    fn job_faults_are_bounded_and_drawn_at_their_rates() {
        let faults =
            JobFaults { stall_rate: 9.0, stall: Duration::from_secs(99), fail_rate: 0.2, restart_rate: 0.1, seed: 3 }
                .bounded();
        assert_eq!((faults.stall_rate, faults.stall), (MAX_RATE, MAX_DELAY));
        let dice = Dice::new(3);
        let drawn: Vec<ItemFault> = (0..10_000).map(|_| faults.draw(&dice)).collect();
        let count = |wanted: fn(&ItemFault) -> bool| drawn.iter().filter(|f| wanted(f)).count();
        // Restart 10 %; fail 20 % of the other 90 %; stall half of the remaining 72 %.
        assert!((800..1200).contains(&count(|f| *f == ItemFault::Restart)), "{drawn:?}");
        assert!((1600..2000).contains(&count(|f| *f == ItemFault::Fail)));
        assert!((3300..3900).contains(&count(|f| matches!(f, ItemFault::Stall(_)))));
        assert_eq!(JobFaults::default().draw(&dice), ItemFault::None);
    }
}
