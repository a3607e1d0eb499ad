//! The Jupyter front end: a kernel core that speaks Jupyter protocol 5.3 over ZeroMQ and drives
//! any [`Interpreter`], plus kernelspec installation.
//!
//! Map: `interpreter` (the protocol-free trait and its plain values), `server` (sockets, channel
//! loops, bookkeeping), `wire` (every message built and decoded, the serialisation fixes, cursor
//! conversion), `install` (kernelspecs). Only `server` and `wire` name jupyter-protocol types.
//! Must not contain language logic: a language arrives as an `Interpreter`.

pub mod install;
pub mod interpreter;
pub mod server;
pub mod wire;

use std::path::{Path, PathBuf};

pub use interpreter::{
    Completeness, Completion, Completions, DisplayId, ExecuteContext, ExecuteError, ExecuteOutcome, InputError,
    Interpreter, KernelInfo, LanguageInfo, Output, OutputEvent, Stream,
};
pub use server::{ServeOptions, serve};

/// Why the kernel could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection file Jupyter passed could not be read.
    #[error("cannot read the connection file {path}: {source}")]
    ReadConnectionFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection file is not a Jupyter connection file.
    #[error("{path} is not a Jupyter connection file: {source}")]
    ParseConnectionFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The connection file asks for a signature scheme other than HMAC-SHA256.
    #[error("unsupported signature scheme {scheme:?} in {path}; only hmac-sha256 is supported")]
    SignatureScheme {
        /// The file.
        path: PathBuf,
        /// The scheme it names.
        scheme: String,
    },
    /// A channel's socket could not be bound (port taken, bad address).
    #[error("cannot bind the {channel} channel: {source}")]
    Bind {
        /// shell, control, stdin, iopub or heartbeat.
        channel: &'static str,
        /// Why.
        #[source]
        source: jupyter_zmq_client::RuntimeError,
    },
}

/// `Result` with the kernel's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Reads a Jupyter connection file and serves `interpreter` on it until shutdown, treating SIGINT
/// as an interrupt. This is what `hq kernel --connection-file F` runs.
pub async fn run<I: Interpreter>(connection_file: &Path, interpreter: I) -> Result<()> {
    let connection = read_connection_file(connection_file)?;
    serve(&connection, interpreter, ServeOptions { handle_sigint: true }).await
}

/// Reads and checks a connection file.
pub fn read_connection_file(path: &Path) -> Result<jupyter_protocol::ConnectionInfo> {
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::ReadConnectionFile { path: path.to_owned(), source })?;
    let connection: jupyter_protocol::ConnectionInfo =
        serde_json::from_str(&text).map_err(|source| Error::ParseConnectionFile { path: path.to_owned(), source })?;
    if !connection.key.is_empty() && connection.signature_scheme != "hmac-sha256" {
        return Err(Error::SignatureScheme { path: path.to_owned(), scheme: connection.signature_scheme });
    }
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: std::result::Result<u16, &str>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kernel.json");
        std::fs::write(&path, text).expect("write");
        match (read_connection_file(&path), expected) {
            (Ok(info), Ok(port)) => assert_eq!(info.shell_port, port),
            (Err(error), Err(needle)) => assert!(error.to_string().contains(needle), "{error}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn connection_files_are_read_and_checked() {
        let base = r#""transport":"tcp","ip":"127.0.0.1","shell_port":5001,"iopub_port":5002,"stdin_port":5003,"control_port":5004,"hb_port":5005,"key":"k""#;
        check(&format!(r#"{{{base},"signature_scheme":"hmac-sha256","kernel_name":"hq","extra":1}}"#), Ok(5001));
        check(&format!(r#"{{{base},"signature_scheme":"hmac-md5"}}"#), Err("unsupported signature scheme"));
        check("{", Err("is not a Jupyter connection file"));
    }

    #[test]
    fn a_missing_connection_file_names_the_path() {
        let error = read_connection_file(Path::new("/nonexistent/kernel-1.json")).expect_err("missing");
        assert!(error.to_string().contains("/nonexistent/kernel-1.json"), "{error}");
    }
}
