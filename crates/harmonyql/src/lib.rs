//! HarmonyQL: subset and fetch NASA Earthdata through NASA Harmony with one line.
//!
//! ```text
//! cell text ──lang::parse──▶ Ast ──lang::check──▶ Query ──lang::compile──▶ api::Request
//!                                                                     │
//!             harmony::Client (send, wait, download) ◀────────────────┘
//!                        │
//!             files ──data──▶ summaries ──plot──▶ SVG / PNG ──output──▶ MIME bundles
//! ```
//!
//! One line, checked and compiled to the exact request harmony-py 1.8 would send:
//!
//! ```
//! use harmonyql::eval::session::{Config, Mode, Session};
//! use harmonyql::eval::sink::Report;
//!
//! let mut session = Session::new(Config { mode: Mode::ShowUrl, ..Config::default() });
//! let mut reports = Vec::new();
//! session.run("env uat\nsubset ATL03 bbox(-105.5, 40, -105, 41)", &mut reports);
//! let Report::Url(url) = &reports[1] else { panic!("{reports:?}") };
//! assert!(url.ends_with("/ATL03/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&subset=lat%2840%3A41%29&subset=lon%28-105.5%3A-105%29&label=harmonyql&variable=all"));
//! ```
//!
//! The architecture (what each module owns and must not do) is in `ARCHITECTURE.md`, included below.
#![doc = include_str!("../../../ARCHITECTURE.md")]
#![warn(missing_docs)]

pub use harmonyql_data as data;
pub use harmonyql_data::shape;
pub use harmonyql_lang as lang;
pub use harmonyql_lang::api;

pub mod eval;
pub mod harmony;
pub mod kernel;
pub mod output;
pub mod plot;
