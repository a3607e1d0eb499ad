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
pub mod parent;
pub mod server;
pub mod wire;

use std::path::Path;

pub use interpreter::{
    Completeness, Completion, Completions, DisplayId, ExecuteContext, ExecuteError, ExecuteOutcome, InputError,
    Interpreter, KernelInfo, LanguageInfo, Output, OutputEvent, Stream,
};
pub use parent::ParentWatch;
pub use server::{Error, Result, ServeOptions, read_connection_file, serve};

/// Reads a Jupyter connection file and serves `interpreter` on it until shutdown, treating SIGINT
/// as an interrupt and ending when the process that started it has gone (`JPY_PARENT_PID`, as
/// ipykernel does). This is what `hq kernel --connection-file F` runs.
pub async fn run<I: Interpreter>(connection_file: &Path, interpreter: I) -> Result<()> {
    let connection = read_connection_file(connection_file)?;
    serve(&connection, interpreter, ServeOptions { handle_sigint: true, parent: ParentWatch::from_env() }).await
}

/// [`run`] on a fresh tokio runtime, logging to stderr (Jupyter shows a kernel's stderr in the server
/// log; filter with `HQ_LOG`). What `hq kernel --connection-file F` and the mock kernel example call.
pub fn serve_connection_file<I: Interpreter>(connection_file: &Path, interpreter: I) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HQ_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second kernel in one process (tests) finds the subscriber already set; the first one stays.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)?;
    let result = runtime.block_on(run(connection_file, interpreter));
    // Dropping a runtime waits for every blocking task; a cell stuck in one must not keep a kernel that
    // was told to stop (or lost its parent) alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
