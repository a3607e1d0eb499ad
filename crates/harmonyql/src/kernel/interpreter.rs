//! The protocol-free face of a language: the [`Interpreter`] trait the kernel core drives, and the
//! plain Rust values it takes and returns.
//!
//! Owns the contract between the kernel core (`kernel::server`) and a language (HarmonyQL's
//! `HqInterpreter`, or a test's mock). Must not name any jupyter-protocol type: cursors here are
//! byte offsets into the cell, outputs are [`MimeBundle`]s, errors are [`ExecuteError`]s.

use std::collections::VecDeque;
use std::future::Future;

use tokio_util::sync::CancellationToken;

use crate::kernel::server::CellLink;
use crate::output::MimeBundle;

/// A language the kernel core can run. The core owns the protocol and all bookkeeping (execution
/// count, `execute_input`, busy/idle, history, aborting queued cells, interrupt); an implementation
/// only evaluates and answers.
///
/// Requests arrive one at a time (the shell channel is sequential), so methods take `&mut self`
/// or `&self` freely; state kept in `self` lives across cells.
pub trait Interpreter: Send + 'static {
    /// Who the kernel is: sent in every `kernel_info_reply`. Called once at start.
    fn kernel_info(&self) -> KernelInfo;

    /// Runs one cell. Outputs go to `output` as they happen; the cell's value (the `Out[n]`) and
    /// any failure come back in the outcome.
    ///
    /// `cancel` fires on interrupt (control `interrupt_request` or SIGINT) and on shutdown: waits
    /// and downloads must select on it and return [`ExecuteOutcome::Interrupted`] promptly,
    /// leaving no half-written files and the state usable. If the future does not finish within a
    /// short grace period after cancellation, the core drops it. Long CPU work belongs on
    /// `tokio::task::spawn_blocking` so the runtime stays responsive.
    fn execute<'a>(
        &'a mut self,
        code: &'a str,
        output: &'a mut Output,
        cancel: CancellationToken,
        context: &'a ExecuteContext,
    ) -> impl Future<Output = ExecuteOutcome> + Send + 'a;

    /// Fetches what [`Interpreter::complete`] or [`Interpreter::inspect`] at `cursor` needs from outside
    /// (a catalog, a schema) and keeps it for them; called just before either. The core bounds it to
    /// about a second and then answers with what is known. Default: nothing to fetch.
    fn prepare_assist<'a>(&'a mut self, _code: &'a str, _cursor: usize) -> impl Future<Output = ()> + Send + 'a {
        async {}
    }

    /// Completions at `cursor` (a byte offset into `code`, on a char boundary).
    fn complete(&self, code: &str, cursor: usize) -> Completions;

    /// Help for what is at `cursor` (a byte offset), or `None` when there is nothing to say.
    /// `detail_level` is 0 for `x?` and 1 for `x??`.
    fn inspect(&self, code: &str, cursor: usize, detail_level: u8) -> Option<MimeBundle>;

    /// Whether `code` could run as is, needs more lines, or can never parse.
    fn is_complete(&self, code: &str) -> Completeness;

    /// Called once before the kernel exits (or before a restart); release what needs releasing.
    fn shutdown(&mut self, restart: bool);
}

/// Facts about one `execute_request` that the language may care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteContext {
    /// The number shown as `In [n]` (not incremented for cells outside history).
    pub execution_count: u32,
    /// The client asked for no output at all (the core already discards outputs in that case).
    pub silent: bool,
    /// The cell goes into history and counts.
    pub store_history: bool,
    /// The client can answer [`Output::input`]; without it input fails with [`InputError::NotAllowed`].
    pub allow_stdin: bool,
}

/// How a cell ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecuteOutcome {
    /// The cell ran. `value` becomes the `execute_result` (`Out[n]`); `page` is help text shown in
    /// the pager (the deprecated but widely used `page` payload).
    Ok {
        /// The cell's value, if it has one worth showing as `Out[n]`.
        value: Option<MimeBundle>,
        /// Text for the pager, if the cell asked for help.
        page: Option<MimeBundle>,
    },
    /// The cell failed; published as one `error` output and an error reply.
    Error(ExecuteError),
    /// The cell stopped because `cancel` fired; the core reports it as an `Interrupted` error.
    Interrupted,
}

impl ExecuteOutcome {
    /// A successful cell without a value.
    pub fn nothing() -> Self {
        Self::Ok { value: None, page: None }
    }

    /// A successful cell whose value is `value`.
    pub fn value(value: MimeBundle) -> Self {
        Self::Ok { value: Some(value), page: None }
    }
}

/// A cell's failure as Jupyter shows it: a class name, a one-line message, and traceback lines
/// (the source line with a caret; ANSI colours allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteError {
    /// The error class, for example `ParseError` or `JobFailed`.
    pub ename: String,
    /// One line saying what went wrong.
    pub evalue: String,
    /// The lines shown to the user, for example the cell line and a caret under the error.
    pub traceback: Vec<String>,
}

/// What the kernel says about itself (`kernel_info_reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelInfo {
    /// The implementation's name, for example `harmonyql`.
    pub implementation: String,
    /// The implementation's version.
    pub implementation_version: String,
    /// The language the kernel runs.
    pub language: LanguageInfo,
    /// Text a console shows at start.
    pub banner: String,
    /// Links for the Help menu: (text, url).
    pub help_links: Vec<(String, String)>,
}

impl KernelInfo {
    /// HarmonyQL's identity: language `harmonyql`, files `.hq`, highlighted with the SQL modes
    /// that JupyterLab (CodeMirror) and nbconvert (Pygments) already ship, which colour keywords,
    /// numbers, strings and comments close enough without an extension.
    pub fn harmonyql() -> Self {
        let version = env!("CARGO_PKG_VERSION").to_owned();
        Self {
            implementation: "harmonyql".to_owned(),
            implementation_version: version.clone(),
            language: LanguageInfo {
                name: "harmonyql".to_owned(),
                version,
                mimetype: "text/x-harmonyql".to_owned(),
                file_extension: ".hq".to_owned(),
                // The lexer the `harmonyql` wheel registers (python/harmonyql/lexer.py); where it is not installed,
                // nbconvert falls back to plain text, which beats `sql` colouring `#` comments as operators.
                pygments_lexer: Some("harmonyql".to_owned()),
                codemirror_mode: Some("sql".to_owned()),
            },
            banner: "HarmonyQL: subset and fetch NASA Earthdata through Harmony with one line. Type `help`.".to_owned(),
            help_links: vec![
                ("Harmony".to_owned(), "https://harmony.earthdata.nasa.gov/docs".to_owned()),
                ("Earthdata Login".to_owned(), "https://urs.earthdata.nasa.gov".to_owned()),
            ],
        }
    }
}

/// The `language_info` of `kernel_info_reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageInfo {
    /// Language name, for example `harmonyql`.
    pub name: String,
    /// Language version.
    pub version: String,
    /// MIME type of a cell's text.
    pub mimetype: String,
    /// Extension of script files, with the dot: `.hq`.
    pub file_extension: String,
    /// A Pygments lexer name for nbconvert, if one fits.
    pub pygments_lexer: Option<String>,
    /// A CodeMirror mode name for JupyterLab, if one fits.
    pub codemirror_mode: Option<String>,
}

/// Completion candidates replacing the byte range `start..end` of the cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completions {
    /// Candidates in display order.
    pub items: Vec<Completion>,
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Byte offset where the replaced text ends.
    pub end: usize,
}

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text to insert.
    pub text: String,
    /// What it is (`keyword`, `collection`, `variable`, …), shown by JupyterLab beside the text.
    pub kind: Option<String>,
}

/// Whether a cell is ready to run (`is_complete_reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// The cell parses (or fails in a way more input cannot fix later than now): run it.
    Complete,
    /// The input ended inside a construct; a console should read another line, indented so.
    Incomplete {
        /// The indentation to offer for the next line.
        indent: String,
    },
    /// The cell can never parse; running it shows the syntax error.
    Invalid,
    /// The language cannot tell.
    Unknown,
}

/// One thing a cell showed, as recorded by [`Output::recording`].
#[derive(Debug, Clone, PartialEq)]
pub enum OutputEvent {
    /// Text on stdout or stderr.
    Stream {
        /// Which stream.
        stream: Stream,
        /// The text, newlines included.
        text: String,
    },
    /// A rich display, updatable later if it has an id.
    Display {
        /// What to show.
        bundle: MimeBundle,
        /// The id that later updates refer to.
        display_id: Option<DisplayId>,
    },
    /// A new state for an earlier display.
    UpdateDisplay {
        /// The display to change.
        display_id: DisplayId,
        /// What it shows now.
        bundle: MimeBundle,
    },
    /// Clear the cell's output area (after the next output arrives, if `wait`).
    ClearOutput {
        /// Wait for the next output before clearing, to avoid flicker.
        wait: bool,
    },
}

/// An output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The id of an updatable display (`transient.display_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayId(String);

impl DisplayId {
    /// A new, unique id.
    pub fn new_unique() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why [`Output::input`] returned no text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    /// The client sent `allow_stdin: false` (nbconvert, papermill, most batch runners).
    #[error("this front end cannot ask for input (allow_stdin is false); provide the value another way")]
    NotAllowed,
    /// The cell was interrupted while waiting for the answer.
    #[error("interrupted while waiting for input")]
    Interrupted,
    /// The client went away or answered with an error.
    #[error("the front end did not answer the input request")]
    NoAnswer,
}

/// Where a cell's outputs go: bound to the request being executed, so every message carries the
/// right parent by construction. The core creates one per cell; tests of a language create one
/// with [`Output::recording`].
pub struct Output {
    target: Target,
}

enum Target {
    Live(CellLink),
    Recording { events: Vec<OutputEvent>, answers: VecDeque<String>, prompts: Vec<(String, bool)> },
}

impl Output {
    pub(crate) fn live(link: CellLink) -> Self {
        Self { target: Target::Live(link) }
    }

    /// An `Output` that records events instead of publishing them, answering input prompts with
    /// `answers` in order (for testing a language without sockets).
    pub fn recording(answers: impl IntoIterator<Item = String>) -> Self {
        Self {
            target: Target::Recording {
                events: Vec::new(),
                answers: answers.into_iter().collect(),
                prompts: Vec::new(),
            },
        }
    }

    /// What a recording `Output` saw so far (empty for a live one).
    pub fn recorded(&self) -> &[OutputEvent] {
        match &self.target {
            Target::Live(_) => &[],
            Target::Recording { events, .. } => events,
        }
    }

    /// The prompts a recording `Output` was asked, with their `password` flag.
    pub fn recorded_prompts(&self) -> &[(String, bool)] {
        match &self.target {
            Target::Live(_) => &[],
            Target::Recording { prompts, .. } => prompts,
        }
    }

    /// Writes `text` to stdout.
    pub fn print(&mut self, text: impl Into<String>) {
        self.emit(OutputEvent::Stream { stream: Stream::Stdout, text: text.into() });
    }

    /// Writes `text` to stderr.
    pub fn eprint(&mut self, text: impl Into<String>) {
        self.emit(OutputEvent::Stream { stream: Stream::Stderr, text: text.into() });
    }

    /// Shows a rich display that stays as it is.
    pub fn display(&mut self, bundle: MimeBundle) {
        self.emit(OutputEvent::Display { bundle, display_id: None });
    }

    /// Shows a rich display that [`Output::update_display`] can change later (a progress bar);
    /// returns its id.
    pub fn display_updatable(&mut self, bundle: MimeBundle) -> DisplayId {
        let display_id = DisplayId::new_unique();
        self.emit(OutputEvent::Display { bundle, display_id: Some(display_id.clone()) });
        display_id
    }

    /// Replaces what display `display_id` shows. Updates closer together than 100 ms are
    /// coalesced (the latest wins and is sent when due, at the latest when the cell ends), so
    /// callers may report progress as often as they like.
    pub fn update_display(&mut self, display_id: &DisplayId, bundle: MimeBundle) {
        self.emit(OutputEvent::UpdateDisplay { display_id: display_id.clone(), bundle });
    }

    /// Clears the cell's output area (`wait`: when the next output arrives).
    pub fn clear_output(&mut self, wait: bool) {
        self.emit(OutputEvent::ClearOutput { wait });
    }

    /// Asks the user for a line of text through the stdin channel. With `password`, the front
    /// end hides what is typed and the answer is never echoed or stored in history.
    pub async fn input(&mut self, prompt: &str, password: bool) -> Result<String, InputError> {
        match &mut self.target {
            Target::Live(link) => link.input(prompt, password).await,
            Target::Recording { answers, prompts, .. } => {
                prompts.push((prompt.to_owned(), password));
                answers.pop_front().ok_or(InputError::NoAnswer)
            }
        }
    }

    fn emit(&mut self, event: OutputEvent) {
        match &mut self.target {
            Target::Live(link) => link.publish(event),
            Target::Recording { events, .. } => events.push(event),
        }
    }

    pub(crate) fn into_link(self) -> Option<CellLink> {
        match self.target {
            Target::Live(link) => Some(link),
            Target::Recording { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recording_output_keeps_events_in_order_and_answers_prompts() {
        let mut output = Output::recording(["secret".to_owned()]);
        output.print("a\n");
        let id = output.display_updatable(MimeBundle::text("0%"));
        output.update_display(&id, MimeBundle::text("100%"));
        output.eprint("b\n");
        assert_eq!(output.input("Password: ", true).await, Ok("secret".to_owned()));
        assert_eq!(output.input("again: ", false).await, Err(InputError::NoAnswer));
        assert_eq!(
            output.recorded(),
            [
                OutputEvent::Stream { stream: Stream::Stdout, text: "a\n".into() },
                OutputEvent::Display { bundle: MimeBundle::text("0%"), display_id: Some(id.clone()) },
                OutputEvent::UpdateDisplay { display_id: id, bundle: MimeBundle::text("100%") },
                OutputEvent::Stream { stream: Stream::Stderr, text: "b\n".into() },
            ]
        );
        assert_eq!(output.recorded_prompts(), [("Password: ".to_owned(), true), ("again: ".to_owned(), false)]);
    }

    #[test]
    fn display_ids_are_unique() {
        assert_ne!(DisplayId::new_unique(), DisplayId::new_unique());
    }
}
