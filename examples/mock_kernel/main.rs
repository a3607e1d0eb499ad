//! A test-only Jupyter kernel: the real kernel core serving the mock interpreter of
//! `mock.rs`, so the Python conformance tests (jupyter_kernel_test, jupyter_client) can exercise
//! the core before HarmonyQL's evaluator exists. Not shipped; never installed by `hq`.
//!
//! Usage: `mock_kernel --connection-file FILE` (or `-f FILE`), as a kernelspec's argv.

mod mock;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut connection_file = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-f" | "--connection-file" => connection_file = args.next().map(PathBuf::from),
            other => match other.strip_prefix("--connection-file=") {
                Some(path) => connection_file = Some(PathBuf::from(path)),
                None => {
                    eprintln!("error: unexpected argument {other:?}; usage: mock_kernel --connection-file FILE");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let Some(connection_file) = connection_file else {
        eprintln!("error: usage: mock_kernel --connection-file FILE");
        return ExitCode::from(2);
    };
    match harmonyql::kernel::serve_connection_file(&connection_file, mock::MockInterpreter::default()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
