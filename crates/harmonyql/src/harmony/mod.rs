//! The Harmony client: I/O over reqwest and tokio. Knows nothing of Jupyter, the CLI or the local server.
//!
//! `client` sends `api::request::Request` values with Earthdata Login attached per hop (`auth`) and
//! idempotency-aware retries (`retry`); `jobs` follows jobs; `download` fetches result files atomically.

pub mod auth;
pub mod client;
pub mod cmr;
pub mod concurrency;
pub mod download;
pub mod error;
pub mod jobs;
pub mod netrc;
pub mod retry;
pub mod s3;
pub mod starting;
mod writeback;
