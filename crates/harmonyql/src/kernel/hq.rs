//! `HqInterpreter`: HarmonyQL behind the kernel's [`Interpreter`] trait, over one `eval::Session`.
//!
//! Turns the evaluator's reports into Jupyter outputs: text on streams, renderings as rich bundles
//! (every one with `text/plain`), the last value as `Out[n]`, diagnostics as one error with the caret,
//! help in the pager. Names no jupyter-protocol type.

use tokio_util::sync::CancellationToken;

use crate::api::environment::Environment;
use crate::eval::login::{OTHER_WAYS, PromptError, PromptFuture, Prompter};
use crate::eval::session::{Config, Session};
use crate::eval::sink::{Report, Sink};
use crate::kernel::interpreter::{
    Completeness, Completion, Completions, DisplayId, ExecuteContext, ExecuteError, ExecuteOutcome, InputError,
    Interpreter, KernelInfo, Output,
};
use crate::lang::assist;
use crate::output::MimeBundle;
use crate::output::cell::{CellError, Shown};

/// HarmonyQL in a Jupyter kernel. Cells share one session: environment, settings and names live
/// across cells.
pub struct HqInterpreter {
    session: Session,
    /// Questions `login` asks while a cell runs; answered over the stdin channel by `execute`.
    asks: tokio::sync::mpsc::UnboundedReceiver<Ask>,
}

impl HqInterpreter {
    /// A kernel session; notebooks start on the local Harmony (`hq serve`), which needs no account.
    pub fn new(env: Environment) -> Self {
        let mut session = Session::new(Config { env, ..Config::default() });
        let (sender, asks) = tokio::sync::mpsc::unbounded_channel();
        session.set_prompter(std::sync::Arc::new(StdinPrompter(sender)));
        HqInterpreter { session, asks }
    }
}

/// One question from the evaluator for the front end, and where the answer goes.
struct Ask {
    prompt: String,
    hidden: bool,
    answer: tokio::sync::oneshot::Sender<Result<String, PromptError>>,
}

/// The evaluator's [`Prompter`] in the kernel: passes each question to the running cell, which asks it
/// with an `input_request` on the stdin channel (`password: true` for secrets, which the front end
/// neither echoes nor puts in history).
#[derive(Debug)]
struct StdinPrompter(tokio::sync::mpsc::UnboundedSender<Ask>);

impl std::fmt::Debug for Ask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask").field("prompt", &self.prompt).field("hidden", &self.hidden).finish_non_exhaustive()
    }
}

impl Prompter for StdinPrompter {
    fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a> {
        Box::pin(async move {
            let (answer, answered) = tokio::sync::oneshot::channel();
            let ask = Ask { prompt: prompt.to_owned(), hidden, answer };
            let gone = || PromptError::Unavailable("the cell ended before the question could be asked".to_owned());
            self.0.send(ask).map_err(|_| gone())?;
            answered.await.unwrap_or_else(|_| Err(gone()))
        })
    }
}

/// The evaluator's view of why the front end returned no answer.
fn prompt_error(error: InputError) -> PromptError {
    match error {
        InputError::NotAllowed => PromptError::Unavailable(format!(
            "this front end does not allow input (allow_stdin is false, as in nbconvert and papermill): {OTHER_WAYS}"
        )),
        InputError::Interrupted => PromptError::Interrupted,
        InputError::NoAnswer => PromptError::Unavailable(format!("the front end did not answer: {OTHER_WAYS}")),
    }
}

/// NASA's production Harmony: what a kernel starts on when `HARMONY_ROOT_URL` is not set
/// (`harmony::starting`).
impl Default for HqInterpreter {
    fn default() -> Self {
        HqInterpreter::new(Environment::Prod)
    }
}

impl Interpreter for HqInterpreter {
    fn kernel_info(&self) -> KernelInfo {
        KernelInfo::harmonyql()
    }

    async fn execute<'a>(
        &'a mut self,
        code: &'a str,
        output: &'a mut Output,
        cancel: CancellationToken,
        _context: &'a ExecuteContext,
    ) -> ExecuteOutcome {
        if cancel.is_cancelled() {
            return ExecuteOutcome::Interrupted;
        }
        // Reports stream through a channel so progress shows while Harmony works; the rest is shown
        // when the cell ends, so the last value can become `Out[n]`.
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let session = &mut self.session;
        let asks = &mut self.asks;
        let run = {
            let cancel = cancel.clone();
            async move {
                let mut sink = ChannelSink(sender);
                // Request statements go to Harmony; an interrupt cancels waits and downloads (no half files).
                session.run_async(code, &mut sink, &cancel).await
            }
        };
        let mut reports = Vec::new();
        let mut live = LiveProgress::default();
        let forward = async {
            loop {
                tokio::select! {
                    report = receiver.recv() => match report {
                        Some(report @ (Report::JobProgress { .. } | Report::DownloadProgress(_))) => {
                            live.show(&report, output)
                        }
                        Some(other) => reports.push(other),
                        None => break,
                    },
                    Some(ask) = asks.recv() => {
                        let answer = output.input(&ask.prompt, ask.hidden).await.map_err(prompt_error);
                        // The question's asker may have been interrupted meanwhile; nobody is left to tell.
                        let _ = ask.answer.send(answer);
                    }
                }
            }
        };
        tokio::join!(run, forward);
        if cancel.is_cancelled() && reports.iter().any(|r| matches!(r, Report::Failed(_))) {
            // The evaluator's message says what stopped and how to go on (`wait ID` follows the job again).
            return match show(reports, output) {
                ExecuteOutcome::Error(error) => ExecuteOutcome::Error(ExecuteError {
                    ename: "Interrupted".to_owned(),
                    evalue: format!("interrupted: {}", error.evalue),
                    traceback: error.traceback,
                }),
                _ => ExecuteOutcome::Interrupted,
            };
        }
        show(reports, output)
    }

    fn prepare_assist<'a>(
        &'a mut self,
        code: &'a str,
        cursor: usize,
    ) -> impl std::future::Future<Output = ()> + Send + 'a {
        self.session.prepare_assist(code, cursor)
    }

    fn complete(&self, code: &str, cursor: usize) -> Completions {
        let cwd = std::env::current_dir().unwrap_or_default();
        let found = self.session.complete(code, cursor, &cwd);
        let items = found.items.into_iter().map(|(text, kind)| Completion { text, kind: Some(kind.to_owned()) });
        Completions { items: items.collect(), start: found.start, end: found.end }
    }

    fn inspect(&self, code: &str, cursor: usize, _detail_level: u8) -> Option<MimeBundle> {
        let markdown = self.session.inspect(code, cursor)?;
        let plain = markdown.replace("**", "").replace('`', "");
        Some(MimeBundle::text(plain).with_markdown(markdown))
    }

    fn is_complete(&self, code: &str) -> Completeness {
        match self.session.is_complete(code) {
            assist::Completeness::Complete => Completeness::Complete,
            assist::Completeness::Incomplete => Completeness::Incomplete { indent: "    ".to_owned() },
            assist::Completeness::Invalid => Completeness::Invalid,
        }
    }

    fn shutdown(&mut self, _restart: bool) {}
}

/// Passes the evaluator's reports to the cell's forwarding loop.
struct ChannelSink(tokio::sync::mpsc::UnboundedSender<Report>);

impl Sink for ChannelSink {
    fn report(&mut self, report: Report) {
        // The receiver lives until the cell ends, so a failed send can only mean the cell is gone.
        let _ = self.0.send(report);
    }
}

/// Progress displays of one cell: one updatable display per job, one for downloads. Each update
/// replaces the display in place, so the saved notebook keeps the final state.
#[derive(Default)]
struct LiveProgress {
    jobs: Vec<(String, DisplayId)>,
    downloads: Option<DisplayId>,
}

impl LiveProgress {
    fn show(&mut self, report: &Report, output: &mut Output) {
        match report {
            Report::JobProgress { job_id, .. } => {
                let Some(bundle) = crate::output::report::progress(report) else { return };
                match self.jobs.iter().find(|(id, _)| id == job_id) {
                    Some((_, display)) => output.update_display(display, bundle),
                    None => {
                        let display = output.display_updatable(bundle);
                        self.jobs.push((job_id.clone(), display));
                    }
                }
            }
            Report::DownloadProgress(_) => {
                let Some(bundle) = crate::output::report::progress(report) else { return };
                match &self.downloads {
                    Some(display) => output.update_display(display, bundle),
                    None => self.downloads = Some(output.display_updatable(bundle)),
                }
            }
            _ => {}
        }
    }
}

/// Shows the reports of one cell as `output::cell` delivers them; help goes to the pager.
fn show(reports: Vec<Report>, output: &mut Output) -> ExecuteOutcome {
    let cell = crate::output::cell::deliver(reports);
    let mut page = None;
    for shown in cell.shown {
        match shown {
            Shown::Stdout(text) => output.print(text),
            Shown::Stderr(text) => output.eprint(text),
            Shown::Page(text) => page = Some(MimeBundle::text(text)),
            Shown::Clear => output.clear_output(false),
            Shown::Display(bundle) => output.display(bundle),
        }
    }
    match cell.error {
        Some(CellError { ename, evalue, traceback }) => {
            ExecuteOutcome::Error(ExecuteError { ename, evalue, traceback })
        }
        None => ExecuteOutcome::Ok { value: cell.value, page },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::interpreter::OutputEvent;

    fn context() -> ExecuteContext {
        ExecuteContext { execution_count: 1, silent: false, store_history: true, allow_stdin: false }
    }

    async fn run(interpreter: &mut HqInterpreter, code: &str) -> (ExecuteOutcome, Vec<OutputEvent>) {
        let mut output = Output::recording(Vec::<String>::new());
        let outcome = interpreter.execute(code, &mut output, CancellationToken::new(), &context()).await;
        (outcome, output.recorded().to_vec())
    }

    #[tokio::test]
    async fn print_goes_to_stdout_and_url_is_the_value() {
        let mut interpreter = HqInterpreter::default();
        let (outcome, events) = run(&mut interpreter, "print \"hello, world\"\nurl capabilities ATL03").await;
        assert_eq!(events.len(), 1, "{events:?}");
        let ExecuteOutcome::Ok { value: Some(value), .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(value.text_plain(), "https://harmony.earthdata.nasa.gov/capabilities?shortname=ATL03");
        assert!(value.get("text/html").is_some());
    }

    #[tokio::test]
    async fn a_syntax_error_is_one_error_with_the_caret() {
        let mut interpreter = HqInterpreter::default();
        let (outcome, _) = run(&mut interpreter, "subset ATL03 bbox(1,2").await;
        let ExecuteOutcome::Error(error) = outcome else { panic!("{outcome:?}") };
        assert_eq!(error.ename, "SyntaxError");
        assert!(error.traceback.iter().any(|line| line.contains('^')), "{:?}", error.traceback);
    }

    #[tokio::test]
    async fn settings_live_across_cells() {
        let mut interpreter = HqInterpreter::default();
        run(&mut interpreter, "env uat").await;
        let (outcome, _) = run(&mut interpreter, "url capabilities ATL03").await;
        let ExecuteOutcome::Ok { value: Some(value), .. } = outcome else { panic!() };
        assert!(value.text_plain().starts_with("https://harmony.uat.earthdata.nasa.gov/"));
    }

    #[tokio::test]
    async fn help_goes_to_the_pager() {
        let mut interpreter = HqInterpreter::default();
        let (outcome, _) = run(&mut interpreter, "help subset").await;
        let ExecuteOutcome::Ok { page: Some(page), .. } = outcome else { panic!() };
        assert!(page.text_plain().contains("subset COLLECTION"));
    }

    #[tokio::test]
    async fn login_asks_for_the_password_hidden_over_stdin_and_never_shows_it() {
        // Port 9 (discard) on loopback: nothing answers, so the check cannot run and says so.
        let mut interpreter = HqInterpreter::new(Environment::Local { port: 9 });
        let mut output = Output::recording(["hunter2-secret".to_owned()]);
        let outcome = interpreter.execute("login user alice", &mut output, CancellationToken::new(), &context()).await;
        assert!(matches!(outcome, ExecuteOutcome::Ok { .. }), "{outcome:?}");
        assert_eq!(output.recorded_prompts(), [("Password for alice at localhost: ".to_owned(), true)]);
        let shown = format!("{:?}", output.recorded());
        assert!(shown.contains("as user alice") && shown.contains("could not be checked"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn login_without_stdin_says_how_else_to_log_in() {
        let mut interpreter = HqInterpreter::new(Environment::Local { port: 9 });
        let (outcome, _) = run(&mut interpreter, "login token").await;
        let ExecuteOutcome::Error(error) = outcome else { panic!("{outcome:?}") };
        assert!(error.evalue.contains("login env") && error.evalue.contains("login netrc"), "{}", error.evalue);
    }

    #[test]
    fn completion_and_completeness_come_from_the_grammar() {
        let interpreter = HqInterpreter::default();
        let completions = interpreter.complete("subset ATL03 bb", 15);
        assert_eq!((completions.start, completions.end), (13, 15));
        assert_eq!(completions.items[0].text, "bbox");
        assert_eq!(interpreter.is_complete("subset ATL03 bbox(1"), Completeness::Incomplete { indent: "    ".into() });
        assert!(interpreter.inspect("subset", 2, 0).unwrap().text_plain().contains("subset COLLECTION"));
    }
}
