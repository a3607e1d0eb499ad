//! The `hq` command line: clap front end; one file per subcommand, each a thin caller of the library.

mod check;
mod kernel;
mod render;
mod run;
mod serve;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use harmonyql::api::environment::Environment;
use harmonyql::harmony::starting::starting_environment;

const AFTER_HELP: &str = "\
Examples:
  hq url 'subset C1256407609-NSIDC_CUAT bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)' --env uat
  hq curl 'subset ATL03 polygon((-105.5 40, -105 40, -105 41, -105.5 41, -105.5 40))'
  hq check tutorial.hq

Exit codes:
  0  success
  1  the HarmonyQL text has errors (shown with the line and a caret)
  2  the command line is wrong
  3  a file could not be read
  4  an operation failed (the kernel, a request)
  130  interrupted (Ctrl-C) during `hq run`

Environment:
  HARMONY_ROOT_URL  the Harmony to use when --env is not given (any root URL)
  EDL_TOKEN, EARTHDATA_TOKEN  an Earthdata Login bearer token (`hq run`, `hq check --online`, the kernel)
  EDL_USERNAME, EDL_PASSWORD  Earthdata Login credentials (also EARTHDATA_USERNAME, EARTHDATA_PASSWORD; else ~/.netrc)
  HQ_LOG            log filter for `hq serve` and the kernel (e.g. info, debug)";

/// HarmonyQL: subset and fetch NASA Earthdata through NASA Harmony with one line.
#[derive(Debug, Parser)]
#[command(name = "hq", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand; each is implemented in its own file under `src/cli/`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Show a request as the URL harmony-py's request_as_url gives, without sending it.
    Url(render::RenderArgs),
    /// Show a request as the curl command that sends it (secrets masked), without sending it.
    Curl(render::RenderArgs),
    /// Parse and check a HarmonyQL script; errors are shown as FILE:LINE:COL with a caret.
    Check(check::CheckArgs),
    /// Run the Jupyter kernel (Jupyter starts it), or install/uninstall its kernelspec.
    Kernel(kernel::KernelArgs),
    /// Run a HarmonyQL script (or -e STATEMENTS) against Harmony: submit, wait, download, with progress bars.
    Run(run::RunArgs),
    /// Run the local Harmony on 127.0.0.1 (sample collections, real transformations, jobs kept across restarts).
    Serve(serve::ServeArgs),
}

/// Options every subcommand that talks about Harmony shares.
#[derive(Debug, clap::Args)]
struct EnvArgs {
    /// The Harmony to use: prod, uat, sit, local, local:PORT or a root URL [default: HARMONY_ROOT_URL, else prod — as the kernel and %%hq]
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// The label added to every job [default: harmonyql]; use harmony-py to match harmony-py exactly
    #[arg(long, value_name = "LABEL", conflicts_with = "no_label")]
    label: Option<String>,
    /// Add no default label to jobs
    #[arg(long)]
    no_label: bool,
}

impl EnvArgs {
    fn environment(&self) -> Result<Environment, Failure> {
        match &self.env {
            Some(text) => text
                .parse()
                .map_err(|error: harmonyql::api::environment::UnknownEnvironment| Failure::Usage(error.to_string())),
            None => starting_environment().map_err(|error| Failure::Usage(error.to_string())),
        }
    }

    fn default_label(&self) -> Option<String> {
        if self.no_label {
            return None;
        }
        Some(self.label.clone().unwrap_or_else(|| harmonyql::lang::compile::DEFAULT_LABEL.to_owned()))
    }
}

/// Why a subcommand did not succeed; `main` turns it into the exit code.
#[derive(Debug)]
enum Failure {
    /// The HarmonyQL text had errors, already shown.
    Input,
    /// The command line is wrong.
    Usage(String),
    /// A file could not be read.
    Io(String),
    /// An operation failed (the kernel, a request).
    Operation(String),
    /// An operation failed and the evaluator already showed why.
    Reported,
    /// Ctrl-C stopped the run; what was stopped and how to go on is already shown.
    Interrupted,
}

/// Runs `hq` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Url(args) => render::run(args, harmonyql::eval::session::Mode::ShowUrl),
        Command::Curl(args) => render::run(args, harmonyql::eval::session::Mode::ShowCurl),
        Command::Check(args) => check::run(args),
        Command::Run(args) => run::run(args),
        Command::Kernel(args) => kernel::run(args).map_err(|error| Failure::Operation(error.to_string())),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input) => ExitCode::from(1),
        Err(Failure::Interrupted) => ExitCode::from(130),
        Err(Failure::Reported) => ExitCode::from(4),
        Err(Failure::Usage(message)) => {
            eprintln!("hq: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Io(message)) => {
            eprintln!("hq: {message}");
            ExitCode::from(3)
        }
        Err(Failure::Operation(message)) => {
            eprintln!("hq: {message}");
            ExitCode::from(4)
        }
    }
}
