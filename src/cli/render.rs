//! `hq url` and `hq curl`: run statements through the evaluator in a mode that shows requests instead of sending them.

use crate::cli::terminal::Terminal;
use crate::cli::{EnvArgs, Failure};
use harmonyql::eval::session::{Config, Mode, Session};

/// Arguments of `hq url` and `hq curl`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// HarmonyQL statements; `env` and `set` statements before the request apply to it
    #[arg(value_name = "STATEMENTS")]
    text: String,
    #[command(flatten)]
    env: EnvArgs,
}

/// Shows each request statement of `args.text` as a URL or a curl command.
pub(crate) fn run(args: RenderArgs, mode: Mode) -> Result<(), Failure> {
    let config =
        Config { env: args.env.environment()?, default_label: args.env.default_label(), mode, ..Config::default() };
    let mut session = Session::new(config);
    let mut terminal = Terminal::new("statement");
    if session.run(&args.text, &mut terminal).ok { Ok(()) } else { Err(Failure::Input) }
}
