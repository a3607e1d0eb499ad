//! THE evaluator: every front end (CLI, kernel, Rust library) runs cells through [`session::Session`].
//!
//! The evaluator never prints: it reports to a [`sink::Sink`]. It is the only module that combines
//! `lang` with the I/O modules.

pub mod assist;
pub mod blocking;
pub mod catalog;
pub mod error;
pub mod files;
pub mod help;
pub mod login;
pub mod paths;
pub mod search;
pub mod session;
pub mod sink;
