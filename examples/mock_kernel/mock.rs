//! A mock HarmonyQL interpreter for testing the kernel core, in the spirit of xeus's mock
//! interpreter. Test-only: shared by `examples/mock_kernel` (run by the Python conformance tests)
//! and `tests/it/kernel.rs`. It emulates the conformance samples of HarmonyQL's future syntax and
//! a few statements that exercise the core (waits, panics, password input, state). It must never
//! be used as the product's interpreter.
//!
//! One statement per line:
//! `print "text"` (stdout), `warn "text"` (stderr), `help` (pager), `42` (a value), `clear`,
//! `subset COLLECTION bbox(a, b, c, d)` (a progress display updated to 100 %),
//! `wait MS` (sleeps, interruptible), `ignore-interrupt MS` (sleeps, deaf to the token),
//! `login` (password through stdin), `set NAME VALUE`, `get NAME`, `panic`.
//! Unbalanced parentheses are a syntax error pointing at the spot with a caret.

use std::collections::HashMap;
use std::time::Duration;

use harmonyql::kernel::{
    Completeness, Completion, Completions, ExecuteContext, ExecuteError, ExecuteOutcome, InputError, Interpreter,
    KernelInfo, Output,
};
use harmonyql::output::{MimeBundle, escape_html};
use tokio_util::sync::CancellationToken;

/// Words the mock completes and documents.
pub const KEYWORDS: &[(&str, &str)] = &[
    ("subset", "subset COLLECTION [bbox(W, S, E, N)] [time(START .. END)]: submit a Harmony subsetting job"),
    ("print", "print \"TEXT\": write TEXT to stdout"),
    ("warn", "warn \"TEXT\": write TEXT to stderr"),
    ("help", "help: show the HarmonyQL statements"),
    ("wait", "wait MS: wait MS milliseconds (interruptible)"),
    ("login", "login: log in to Earthdata; the password is read without echo"),
    ("bbox", "bbox(W, S, E, N): a bounding box in degrees"),
    ("time", "time(START .. END): a temporal range"),
    ("clear", "clear: clear the cell's output"),
];

/// Collections the mock completes after `subset`.
pub const COLLECTIONS: &[&str] = &["ATL03", "ATL06", "SPL3SMP"];

/// The mock's state: variables survive across cells (and across panics and interrupts).
#[derive(Debug, Default)]
pub struct MockInterpreter {
    variables: HashMap<String, String>,
    logged_in: Option<String>,
}

impl Interpreter for MockInterpreter {
    fn kernel_info(&self) -> KernelInfo {
        // The product's identity, so conformance checks what `hq kernel` will announce.
        KernelInfo {
            implementation: "harmonyql-mock".to_owned(),
            banner: "HarmonyQL (mock interpreter for kernel tests)".to_owned(),
            ..KernelInfo::harmonyql()
        }
    }

    async fn execute(
        &mut self,
        code: &str,
        output: &mut Output,
        cancel: CancellationToken,
        _context: &ExecuteContext,
    ) -> ExecuteOutcome {
        if let Some(error) = syntax_error(code) {
            return ExecuteOutcome::Error(error);
        }
        let mut value = None;
        let mut page = None;
        for line in code.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            match word {
                "print" => output.print(format!("{}\n", unquote(rest))),
                "warn" => output.eprint(format!("{}\n", unquote(rest))),
                "help" => page = Some(MimeBundle::text(help_text())),
                "clear" => output.clear_output(false),
                "subset" => {
                    let collection = rest.split_whitespace().next().unwrap_or("?");
                    let bar = |percent: u32| {
                        MimeBundle::text(format!("{collection}: {percent}%")).with_html(format!(
                            "<div><b>{}</b> <progress max=\"100\" value=\"{percent}\"></progress> {percent}%</div>",
                            escape_html(collection)
                        ))
                    };
                    let id = output.display_updatable(bar(0));
                    for percent in [20, 40, 60, 80, 100] {
                        output.update_display(&id, bar(percent));
                    }
                }
                "wait" | "ignore-interrupt" => {
                    let millis: u64 = rest.parse().unwrap_or(0);
                    let sleep = tokio::time::sleep(Duration::from_millis(millis));
                    if word == "ignore-interrupt" {
                        sleep.await;
                    } else {
                        tokio::select! {
                            _ = sleep => {}
                            _ = cancel.cancelled() => return ExecuteOutcome::Interrupted,
                        }
                    }
                }
                "login" => match output.input("Earthdata password: ", true).await {
                    Ok(password) => {
                        self.logged_in = Some(password.clone());
                        output.print(format!("logged in (password of {} characters)\n", password.chars().count()));
                    }
                    Err(InputError::Interrupted) => return ExecuteOutcome::Interrupted,
                    Err(error) => {
                        return ExecuteOutcome::Error(ExecuteError {
                            ename: "InputError".to_owned(),
                            evalue: error.to_string(),
                            traceback: vec![format!("InputError: {error}")],
                        });
                    }
                },
                "set" => {
                    let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
                    self.variables.insert(name.to_owned(), text.trim().to_owned());
                }
                "get" => match self.variables.get(rest) {
                    Some(text) => value = Some(MimeBundle::text(text.clone())),
                    None => return ExecuteOutcome::Error(runtime_error(&format!("{rest} is not set"))),
                },
                "panic" => panic!("the mock was asked to panic"),
                number if number.parse::<f64>().is_ok() => value = Some(MimeBundle::text(number.to_owned())),
                other => return ExecuteOutcome::Error(runtime_error(&format!("unknown statement {other:?}"))),
            }
        }
        ExecuteOutcome::Ok { value, page }
    }

    fn complete(&self, code: &str, cursor: usize) -> Completions {
        let start = word_start(code, cursor);
        let prefix = &code[start..cursor];
        let after_subset = code[..start].split_whitespace().last() == Some("subset");
        let candidates: Vec<&str> =
            if after_subset { COLLECTIONS.to_vec() } else { KEYWORDS.iter().map(|(word, _)| *word).collect() };
        let kind = if after_subset { "collection" } else { "keyword" };
        let items = candidates
            .into_iter()
            .filter(|candidate| candidate.starts_with(prefix))
            .map(|text| Completion { text: text.to_owned(), kind: Some(kind.to_owned()) })
            .collect();
        Completions { items, start, end: cursor }
    }

    fn inspect(&self, code: &str, cursor: usize, _detail_level: u8) -> Option<MimeBundle> {
        let start = word_start(code, cursor);
        let end = code[cursor..].find(|c: char| !c.is_alphanumeric()).map_or(code.len(), |offset| cursor + offset);
        let word = &code[start..end];
        KEYWORDS
            .iter()
            .find(|(keyword, _)| *keyword == word)
            .map(|(_, doc)| MimeBundle::text(*doc).with_markdown(format!("`{}`", doc.replace('`', "'"))))
    }

    fn is_complete(&self, code: &str) -> Completeness {
        if code.matches('"').count() % 2 == 1 {
            return Completeness::Incomplete { indent: String::new() };
        }
        match paren_balance(code) {
            Balance::Balanced => Completeness::Complete,
            Balance::Open(_) => Completeness::Incomplete { indent: "    ".to_owned() },
            Balance::ExtraClose(_) => Completeness::Invalid,
        }
    }

    fn shutdown(&mut self, _restart: bool) {
        self.logged_in = None;
    }
}

fn help_text() -> String {
    let mut text = String::from("HarmonyQL statements:\n");
    for (_, doc) in KEYWORDS {
        text.push_str("  ");
        text.push_str(doc);
        text.push('\n');
    }
    text
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(text)
}

fn word_start(code: &str, cursor: usize) -> usize {
    code[..cursor]
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |idx| idx + code[idx..].chars().next().map_or(1, char::len_utf8))
}

enum Balance {
    Balanced,
    /// Byte offset where input ended inside an open parenthesis.
    Open(usize),
    /// Byte offset of a `)` with nothing to close.
    ExtraClose(usize),
}

fn paren_balance(code: &str) -> Balance {
    let mut depth = 0usize;
    for (offset, character) in code.char_indices() {
        match character {
            '(' => depth += 1,
            ')' if depth == 0 => return Balance::ExtraClose(offset),
            ')' => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 { Balance::Open(code.len()) } else { Balance::Balanced }
}

fn syntax_error(code: &str) -> Option<ExecuteError> {
    let (offset, message) = match paren_balance(code) {
        Balance::Balanced => return None,
        Balance::Open(offset) => (offset, "expected ')' before the end of the cell"),
        Balance::ExtraClose(offset) => (offset, "unexpected ')'"),
    };
    let line_start = code[..offset].rfind('\n').map_or(0, |idx| idx + 1);
    let line_end = code[offset..].find('\n').map_or(code.len(), |idx| offset + idx);
    let column = code[line_start..offset].chars().count();
    Some(ExecuteError {
        ename: "ParseError".to_owned(),
        evalue: message.to_owned(),
        traceback: vec![
            format!("ParseError: {message}"),
            code[line_start..line_end].to_owned(),
            format!("{}^", " ".repeat(column)),
        ],
    })
}

fn runtime_error(message: &str) -> ExecuteError {
    ExecuteError {
        ename: "RuntimeError".to_owned(),
        evalue: message.to_owned(),
        traceback: vec![format!("RuntimeError: {message}")],
    }
}
