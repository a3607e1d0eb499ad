//! `hq serve`: a Harmony-compatible service on loopback, with sample collections and real transformations.
//!
//! Never imports `crate::harmony` (the client): the server and the client meet only in tests.

pub mod sample;
pub mod transform;
