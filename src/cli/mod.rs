//! The `hq` command line: clap front end; one file per subcommand, each a thin caller of the library.

pub mod kernel;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// HarmonyQL: subset and fetch NASA Earthdata through NASA Harmony with one line.
#[derive(Debug, Parser)]
#[command(name = "hq", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand; each is implemented in its own file under `src/cli/`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Jupyter kernel (Jupyter starts it), or install/uninstall its kernelspec.
    Kernel(kernel::KernelArgs),
}

/// Runs `hq` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Kernel(args) => report(kernel::run(args)),
    }
}

fn report<E: std::error::Error>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
