//! The HarmonyQL language: cell text → diagnostics, completions and compiled requests. Pure: no I/O.
//!
//! The stages are public functions with a type between each:
//!
//! ```text
//! parse(text) ─▶ Parsed { Ast, diagnostics } ─check(ast, scope)─▶ Checked { Vec<Query>, diagnostics }
//!   ─compile(query, env, options)─▶ api::Request
//! ```
//!
//! Everything the language needs (bindings in scope, the environment, the default label) arrives as an
//! argument. [`api`] is Harmony's REST vocabulary (requests, jobs, capabilities), shared by the client and the
//! local server; the language compiles to it, and it depends on nothing of the language.
//!
//! This crate does no I/O, and Cargo keeps it so: no tokio, reqwest, hdf5 or axum in its dependency tree.

pub mod api;
pub mod assist;
pub mod ast;
pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod geometry;
pub mod keyword;
pub mod lex;
pub mod parse;
pub mod query;
pub mod search;
pub mod span;
