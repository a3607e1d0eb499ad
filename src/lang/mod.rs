//! The HarmonyQL language: cell text → diagnostics, completions and compiled requests. Pure: no I/O.
//!
//! The stages are public functions with a type between each:
//!
//! ```text
//! parse(text) ─▶ Parsed { Ast, diagnostics } ─check(ast, scope)─▶ Checked { Vec<Query>, diagnostics }
//!   ─compile(query, env, options)─▶ api::Request
//! ```
//!
//! Everything `lang` needs (bindings in scope, the environment, the default label) arrives as an
//! argument. It imports nothing from the crate but `api`.

pub mod assist;
pub mod ast;
pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod keyword;
pub mod lex;
pub mod parse;
pub mod query;
pub mod span;
