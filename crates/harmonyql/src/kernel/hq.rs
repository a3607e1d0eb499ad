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
use crate::lang::diagnostic::Diagnostic;
use crate::output::{MimeBundle, escape_html};

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

impl Default for HqInterpreter {
    fn default() -> Self {
        HqInterpreter::new(Environment::Local { port: crate::api::environment::LOCAL_PORT })
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
        if cancel.is_cancelled() && reports.iter().any(|r| matches!(r, Report::Diagnostics { .. })) {
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
        let (span, candidates) = assist::complete(code, cursor, &self.session.known());
        let mut items: Vec<Completion> =
            candidates.into_iter().map(|c| Completion { text: c.text, kind: Some(c.kind.to_owned()) }).collect();
        let context = assist::context_at(code, cursor);
        if context.expect == assist::Expect::Path
            && let Ok(cwd) = std::env::current_dir()
        {
            let paths = crate::eval::paths::complete_paths(&context.prefix, &cwd);
            items.extend(paths.into_iter().map(|text| Completion { text, kind: Some("path".to_owned()) }));
        }
        Completions { items, start: span.start, end: span.end }
    }

    fn inspect(&self, code: &str, cursor: usize, _detail_level: u8) -> Option<MimeBundle> {
        // A collection's capabilities (fetched by `prepare_assist`) say more than the keyword table.
        let markdown = match self.session.collection_help(code, cursor) {
            Some(markdown) => markdown,
            None => assist::inspect(code, cursor)?.1,
        };
        let plain = markdown.replace("**", "").replace('`', "");
        Some(MimeBundle::text(plain).with_markdown(markdown))
    }

    fn is_complete(&self, code: &str) -> Completeness {
        match assist::is_complete(code) {
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
            Report::JobProgress { job_id, status, percent } => {
                let hint = match status.as_str() {
                    "paused" | "previewing" => format!(
                        " — paused for preview: `resume {job_id}` runs the rest, `skip preview {job_id}` skips it"
                    ),
                    "running_with_errors" => " — some granules failed; see `status` for the errors".to_owned(),
                    _ => String::new(),
                };
                let text = format!("job {job_id}: {} {percent}%{hint}", status.as_str());
                let html = format!(
                    "<div><progress value=\"{percent}\" max=\"100\" style=\"width:24em\"></progress> <b>{percent}%</b> \
                     <code>{}</code> job <code>{}</code>{}</div>",
                    status.as_str(),
                    escape_html(job_id),
                    escape_html(&hint)
                );
                let bundle = MimeBundle::text(text).with_html(html);
                match self.jobs.iter().find(|(id, _)| id == job_id) {
                    Some((_, display)) => output.update_display(display, bundle),
                    None => {
                        let display = output.display_updatable(bundle);
                        self.jobs.push((job_id.clone(), display));
                    }
                }
            }
            Report::DownloadProgress(progress) => {
                let percent = if progress.total_bytes > 0 {
                    (progress.bytes as f64 / progress.total_bytes as f64 * 100.0).min(100.0)
                } else {
                    0.0
                };
                let left = progress.eta.map(|eta| format!(", {} s left", eta.as_secs())).unwrap_or_default();
                let text = format!(
                    "downloaded {}/{} files, {:.1} of {:.1} MB, {:.1} MB/s{left}",
                    progress.files_done,
                    progress.files_total,
                    progress.bytes as f64 / 1e6,
                    progress.total_bytes as f64 / 1e6,
                    progress.bytes_per_second / 1e6
                );
                let html = format!(
                    "<div><progress value=\"{percent:.0}\" max=\"100\" style=\"width:24em\"></progress> {}</div>",
                    escape_html(&text)
                );
                let bundle = MimeBundle::text(text).with_html(html);
                match &self.downloads {
                    Some(display) => output.update_display(display, bundle),
                    None => self.downloads = Some(output.display_updatable(bundle)),
                }
            }
            _ => {}
        }
    }
}

/// Shows the reports of one cell; the last rendering becomes the cell's value.
fn show(reports: Vec<Report>, output: &mut Output) -> ExecuteOutcome {
    let mut value = None;
    let mut page = None;
    let count = reports.len();
    for (index, report) in reports.into_iter().enumerate() {
        let last = index + 1 == count;
        match report {
            Report::Text(text) => output.print(with_newline(text)),
            Report::Warning(text) => output.eprint(with_newline(text)),
            Report::Help(text) => page = Some(MimeBundle::text(text)),
            Report::Clear => output.clear_output(false),
            Report::Url(text) | Report::Curl(text) => {
                let bundle = MimeBundle::text(text.clone()).with_html(format!(
                    "<pre style=\"white-space:pre-wrap;word-break:break-all;user-select:all\">{}</pre>",
                    escape_html(&text)
                ));
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            Report::Environment { env, root_url } => {
                let note = if env.is_local() {
                    "local Harmony: no Earthdata Login account needed"
                } else {
                    "needs an Earthdata Login account: `login` before submitting"
                };
                output.display(MimeBundle::text(format!("environment: {env} ({root_url})")).with_html(format!(
                    "<div><b>environment</b> <code>{}</code> &rarr; <a href=\"{url}\">{url}</a><br><small>{}</small></div>",
                    escape_html(&env.to_string()),
                    escape_html(note),
                    url = escape_html(&root_url)
                )))
            }
            Report::Diagnostics { source, diagnostics } => {
                if let Some(error) = diagnostics.iter().find(|d| d.is_error()) {
                    return ExecuteOutcome::Error(ExecuteError {
                        ename: if error.code.starts_with("unclosed") || is_syntax(error) {
                            "SyntaxError"
                        } else if error.code == "request-failed" {
                            // The text was fine; Harmony or the network said no.
                            "HarmonyError"
                        } else {
                            "CheckError"
                        }
                        .to_owned(),
                        evalue: error.message.clone(),
                        traceback: diagnostics.iter().flat_map(|d| traceback_lines(d, &source)).collect(),
                    });
                }
                for warning in diagnostics {
                    output.eprint(warning.render_ansi(&source, "cell"));
                }
            }
            // Progress is drawn live by the front end that waits; a finished cell shows only the outcome.
            Report::JobProgress { .. } | Report::DownloadProgress(_) => {}
            Report::Figure { figure, .. } => {
                let bundle = figure.to_bundle();
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            report @ (Report::Job(_)
            | Report::Files(_)
            | Report::Links(_)
            | Report::Json { .. }
            | Report::Exported { .. }) => {
                let plain = report.harmony_text().unwrap_or_default();
                let bundle = match &report {
                    Report::Job(job) => crate::output::harmony::job(job, plain),
                    Report::Files(files) => crate::output::harmony::files(files, plain),
                    Report::Links(links) => crate::output::harmony::links(links, plain),
                    Report::Json { kind, value } if kind == "capabilities" => {
                        // The table first, then the whole answer as a collapsible JSON view.
                        output.display(crate::output::harmony::capabilities(value, plain));
                        crate::output::harmony::json_view(value, "Harmony's capabilities answer")
                    }
                    Report::Json { kind, value } if kind == "jobs" => match crate::eval::sink::jobs_listing(value) {
                        Some(listing) => crate::output::harmony::jobs(&listing, plain),
                        None => {
                            MimeBundle::text(plain.clone()).with_html(format!("<pre>{}</pre>", escape_html(&plain)))
                        }
                    },
                    _ => MimeBundle::text(plain.clone()).with_html(format!("<pre>{}</pre>", escape_html(&plain))),
                };
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            Report::Collections(results) => {
                let bundle = crate::output::cmr::collections_bundle(&results);
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            Report::Granules(results) => {
                let bundle = crate::output::cmr::granules_bundle(&results);
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            Report::Opened(summary) => {
                let bundle = crate::output::data::summary(&summary);
                if last { value = Some(bundle) } else { output.display(bundle) }
            }
            Report::NotAvailable { statement, reason } => {
                let evalue = format!("{statement}: {reason}");
                return ExecuteOutcome::Error(ExecuteError {
                    ename: "NotAvailable".to_owned(),
                    evalue: evalue.clone(),
                    traceback: vec![evalue],
                });
            }
        }
    }
    ExecuteOutcome::Ok { value, page }
}

fn is_syntax(diagnostic: &Diagnostic) -> bool {
    matches!(
        diagnostic.code,
        "syntax"
            | "unexpected-text"
            | "unexpected-character"
            | "expected-statement"
            | "unknown-statement"
            | "unknown-clause"
            | "expected-paren"
            | "expected-value"
            | "expected-comma"
            | "bad-range"
            | "keyword-as-name"
    )
}

fn traceback_lines(diagnostic: &Diagnostic, source: &str) -> Vec<String> {
    diagnostic.render_ansi(source, "cell").lines().map(str::to_owned).collect()
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
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
        assert_eq!(value.text_plain(), "http://localhost:3000/capabilities?shortname=ATL03");
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
