//! Harmony's REST vocabulary, shared by the client and the local server.
//!
//! Pure: serde types and string building only. No I/O, no async, no secrets.

pub mod capabilities;
pub mod cmr;
pub mod endpoint;
pub mod environment;
pub mod error;
pub mod job;
pub mod request;
pub mod stac;
