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
//! The architecture (what each module owns and must not do) is in `ARCHITECTURE.md`.
#![warn(missing_docs)]

pub mod lang;
pub mod api;
pub mod data;
pub mod server;
pub mod cli;
