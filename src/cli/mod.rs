//! The `hq` command line: clap front end; one file per subcommand, each a thin caller of the library.

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
enum Command {}

/// Runs `hq` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
