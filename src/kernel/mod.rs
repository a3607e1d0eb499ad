//! The Jupyter front end: a kernel core that speaks Jupyter protocol 5.3 over ZeroMQ and drives
//! any [`Interpreter`], plus kernelspec installation.
//!
//! Map: `interpreter` (the protocol-free trait and its plain values), `server` (sockets, channel
//! loops, bookkeeping), `wire` (every message built and decoded, the serialisation fixes, cursor
//! conversion), `install` (kernelspecs). Only `server` and `wire` name jupyter-protocol types.
//! Must not contain language logic: a language arrives as an `Interpreter`.

pub mod hq;
pub mod install;
pub mod interpreter;
pub mod server;
pub mod wire;

use std::path::Path;

pub use interpreter::{
    Completeness, Completion, Completions, DisplayId, ExecuteContext, ExecuteError, ExecuteOutcome, InputError,
    Interpreter, KernelInfo, LanguageInfo, Output, OutputEvent, Stream,
};
pub use server::{Error, Result, ServeOptions, read_connection_file, serve};

/// Reads a Jupyter connection file and serves `interpreter` on it until shutdown, treating SIGINT
/// as an interrupt. This is what `hq kernel --connection-file F` runs.
pub async fn run<I: Interpreter>(connection_file: &Path, interpreter: I) -> Result<()> {
    let connection = read_connection_file(connection_file)?;
    serve(&connection, interpreter, ServeOptions { handle_sigint: true }).await
}
