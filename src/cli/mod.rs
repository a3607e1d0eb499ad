//! The `hq` command line: clap front end; one file per subcommand, each a thin caller of the library.

pub mod serve;

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
    /// Run the local Harmony on 127.0.0.1 (sample collections, real transformations, jobs kept across restarts).
    Serve(serve::ServeArgs),
}

/// Runs `hq` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
    }
}
