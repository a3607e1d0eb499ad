//! How one cell's reports are delivered, decided once for every notebook front end (our kernel and the Python
//! module's `%%hq`): what goes to stdout, stderr and the pager, which displays are shown, which rendering is the
//! cell's value (`Out[n]`), and when the cell is an error (with the `ename` Jupyter shows and the caret lines).
//! Front ends only carry the result over their own channel.

use crate::eval::sink::Report;
use crate::lang::diagnostic::Diagnostic;
use crate::output::{MimeBundle, report};

/// One thing a cell shows, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Text for the cell's standard output stream.
    Stdout(String),
    /// Warnings, for the standard error stream.
    Stderr(String),
    /// Help text for the pager.
    Page(String),
    /// Clear the cell's output so far.
    Clear,
    /// A display that is not the cell's value.
    Display(MimeBundle),
}

/// Why a cell failed, as Jupyter shows errors: a name, a one-line value and the traceback lines (ANSI colours,
/// the source line and its caret).
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    /// The error's kind: `SyntaxError`, `HarmonyError`, `LoginError`, …
    pub ename: String,
    /// One line: what went wrong, with its causes.
    pub evalue: String,
    /// The lines shown under it: the message, the source line and the caret.
    pub traceback: Vec<String>,
}

/// A cell as a notebook shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShownCell {
    /// What the cell shows before its value, in order.
    pub shown: Vec<Shown>,
    /// The last statement's rendering, unless it was a notice (`env`) or the cell failed.
    pub value: Option<MimeBundle>,
    /// The first error stops the delivery: what came after it is not shown.
    pub error: Option<CellError>,
}

/// Delivers a finished cell's reports. Progress reports are skipped: front ends that wait draw them live.
pub fn deliver(reports: Vec<Report>) -> ShownCell {
    let mut cell = ShownCell::default();
    let count = reports.len();
    for (index, report) in reports.into_iter().enumerate() {
        let last = index + 1 == count;
        match report {
            Report::Text(text) => cell.shown.push(Shown::Stdout(with_newline(text))),
            Report::Warning(text) => cell.shown.push(Shown::Stderr(with_newline(text))),
            Report::Help(text) => cell.shown.push(Shown::Page(with_newline(text))),
            Report::Clear => cell.shown.push(Shown::Clear),
            Report::Diagnostics { source, diagnostics } => {
                if let Some(error) = diagnostics.iter().find(|d| d.is_error()) {
                    cell.error = Some(CellError {
                        ename: error.stage.error_name().to_owned(),
                        evalue: error.message.clone(),
                        traceback: diagnostics.iter().flat_map(|d| traceback_lines(d, &source)).collect(),
                    });
                    break;
                }
                for warning in diagnostics {
                    cell.shown.push(Shown::Stderr(warning.render_ansi(&source, "cell")));
                }
            }
            Report::Failed(failure) => {
                cell.error = Some(CellError {
                    ename: failure.error.name().to_owned(),
                    evalue: failure.message(),
                    traceback: traceback_lines(&report::failure_as_caret(&failure), &failure.source),
                });
                break;
            }
            Report::NotAvailable { statement, reason } => {
                let evalue = format!("{statement}: {reason}");
                cell.error = Some(CellError {
                    ename: "NotAvailable".to_owned(),
                    evalue: evalue.clone(),
                    traceback: vec![evalue],
                });
                break;
            }
            Report::JobProgress { .. } | Report::DownloadProgress(_) => {}
            // Switching environments is a notice, never the cell's value.
            report @ Report::Environment { .. } => {
                cell.shown.extend(report::bundles(&report).into_iter().map(Shown::Display));
            }
            report => {
                let mut bundles = report::bundles(&report);
                if last {
                    cell.value = bundles.pop();
                }
                cell.shown.extend(bundles.into_iter().map(Shown::Display));
            }
        }
    }
    if cell.error.is_some() {
        cell.value = None;
    }
    cell
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
    use crate::api::environment::Environment;
    use crate::eval::error::EvalError;
    use crate::eval::sink::Failure;
    use crate::lang::span::Span;

    fn environment() -> Report {
        Report::Environment {
            env: Environment::Prod,
            root_url: Environment::Prod.root_url(),
            cmr_url: crate::api::cmr::cmr_root(&Environment::Prod),
        }
    }

    #[test]
    fn the_last_rendering_is_the_value_but_a_notice_never_is() {
        let cell = deliver(vec![Report::Text("hi".into()), Report::Links(vec!["http://h/f.h5".into()])]);
        assert_eq!(cell.shown, [Shown::Stdout("hi\n".into())]);
        assert!(cell.value.unwrap().text_plain().contains("f.h5"));
        let cell = deliver(vec![environment()]);
        assert!(cell.value.is_none() && matches!(cell.shown.as_slice(), [Shown::Display(_)]), "{cell:?}");
    }

    #[test]
    fn a_failed_statement_is_the_cells_error_with_its_caret_and_stops_what_follows() {
        let source = "print \"a\"\nfiles = download job to \"x\"\nprint \"b\"";
        let failure =
            Failure::new(source, Span { start: 10, end: 38 }, EvalError::Unusable("no job named `job`".into()));
        let cell = deliver(vec![Report::Text("a".into()), Report::Failed(failure), Report::Text("b".into())]);
        assert_eq!(cell.shown, [Shown::Stdout("a\n".into())]);
        assert!(cell.value.is_none());
        let error = cell.error.expect("an error");
        assert_eq!(error.ename, "UsageError");
        assert_eq!(error.evalue, "no job named `job`");
        let traceback = error.traceback.join("\n");
        assert!(traceback.contains("files = download job") && traceback.contains('^'), "{traceback}");
    }
}
