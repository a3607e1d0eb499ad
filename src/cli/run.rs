//! `hq run FILE.hq` and `hq run -e '…'`: execute statements against Harmony through the evaluator, with
//! progress bars on stderr; Ctrl-C stops waiting and downloading cleanly.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::cli::terminal::Terminal;
use crate::cli::{EnvArgs, Failure};
use harmonyql::eval::login::{OTHER_WAYS, PromptError, PromptFuture, Prompter};
use harmonyql::eval::session::{Config, Mode, Session};
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::download::DownloadConfig;

/// Arguments of `hq run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A HarmonyQL script
    #[arg(value_name = "FILE", required_unless_present = "expression", conflicts_with = "expression")]
    file: Option<PathBuf>,
    /// Statements to run instead of a file
    #[arg(short = 'e', long = "expression", value_name = "STATEMENTS")]
    expression: Option<String>,
    #[command(flatten)]
    env: EnvArgs,
    /// Print Harmony's answers (jobs, listings, capabilities) as the JSON documents they came as, not tables
    #[arg(long)]
    json: bool,
    /// Files downloaded at once, fixed [default: adaptive, from twice the number of cores up to 32 while
    /// throughput rises]
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Seconds a download may receive nothing before it is retried (then reported)
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    stall_timeout: f64,
    /// Seconds between job status polls
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    poll_interval: f64,
}

/// Runs the statements; credentials come by the rule every front end shares (`Credentials::from_env`).
pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let (origin, text) = match (&args.file, &args.expression) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|error| Failure::Io(format!("{}: {error}", path.display())))?;
            (path.display().to_string(), text)
        }
        (None, Some(text)) => ("statement".to_owned(), text.clone()),
        (None, None) => return Err(Failure::Usage("give a FILE or -e STATEMENTS".into())),
    };
    if !(args.poll_interval.is_finite() && args.poll_interval > 0.0) {
        return Err(Failure::Usage("--poll-interval must be a positive number of seconds".into()));
    }
    let credentials = Credentials::from_env();
    if !(args.stall_timeout.is_finite() && args.stall_timeout > 0.0) {
        return Err(Failure::Usage("--stall-timeout must be a positive number of seconds".into()));
    }
    let mut download = DownloadConfig {
        stall_timeout: std::time::Duration::from_secs_f64(args.stall_timeout),
        ..DownloadConfig::default()
    };
    if let Some(concurrency) = args.concurrency {
        download.concurrency = concurrency.max(1);
        download.adaptive = false;
    }
    let config = Config {
        env: args.env.environment()?,
        default_label: args.env.default_label(),
        mode: Mode::Execute,
        credentials,
        poll_interval: std::time::Duration::from_secs_f64(args.poll_interval),
        download,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Operation(format!("cannot start the runtime: {error}")))?;
    let mut session = Session::new(config);
    session.set_prompter(std::sync::Arc::new(TerminalPrompter));
    let mut terminal = Terminal::new(&origin);
    terminal.json = args.json;
    let cancel = CancellationToken::new();
    let outcome = runtime.block_on(async {
        let on_interrupt = cancel.clone();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let outcome = session.run_async(&text, &mut terminal, &cancel).await;
        watcher.abort();
        outcome
    });
    drop(terminal);
    if outcome.ok {
        Ok(())
    } else if cancel.is_cancelled() {
        Err(Failure::Interrupted)
    } else if outcome.failed_operation {
        Err(Failure::Reported)
    } else {
        Err(Failure::Input)
    }
}

/// `login`'s questions on the terminal: the prompt on stderr, secrets read without echo (rpassword).
/// Refuses when stdin is not a terminal, so a script piped into `hq run` never hangs or echoes.
#[derive(Debug)]
struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a> {
        let prompt = prompt.to_owned();
        Box::pin(async move {
            use std::io::IsTerminal as _;
            if !std::io::stdin().is_terminal() {
                return Err(PromptError::Unavailable(format!("standard input is not a terminal: {OTHER_WAYS}")));
            }
            // Reading the terminal blocks; keep it off the runtime's workers.
            let read = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
                if hidden {
                    rpassword::prompt_password(&prompt)
                } else {
                    use std::io::Write as _;
                    eprint!("{prompt}");
                    std::io::stderr().flush()?;
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
                }
            });
            match read.await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(error)) => {
                    Err(PromptError::Unavailable(format!("cannot read the terminal ({error}): {OTHER_WAYS}")))
                }
                Err(_) => Err(PromptError::Interrupted),
            }
        })
    }
}
