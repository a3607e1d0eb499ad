//! What the evaluator reports, and the trait front ends implement to show it.
//!
//! The kernel's sink publishes Jupyter messages, the CLI's prints lines, a test's collects a `Vec`.

use crate::api::environment::Environment;
use crate::lang::diagnostic::Diagnostic;

/// One thing the evaluator has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Problems in the cell text; `source` is the whole cell so renderers can show the line.
    Diagnostics {
        /// The cell.
        source: String,
        /// Its problems, errors and warnings.
        diagnostics: Vec<Diagnostic>,
    },
    /// A request shown as a GET URL (`url …`).
    Url(String),
    /// A request shown as a curl command (`curl …`).
    Curl(String),
    /// The environment in use (after `env`).
    Environment {
        /// The environment.
        env: Environment,
        /// Its root URL.
        root_url: String,
    },
    /// Plain text: `print`, confirmations.
    Text(String),
    /// Text for standard error: `warn`.
    Warning(String),
    /// Help text (`help`), shown in a pager where there is one.
    Help(String),
    /// Clear what the cell has shown so far.
    Clear,
    /// A statement that parsed and checked but whose execution is not available in this build.
    NotAvailable {
        /// The statement's verb.
        statement: String,
        /// Why, and what to do instead.
        reason: String,
    },
}

/// Receives reports as the evaluator produces them.
pub trait Sink {
    /// Shows one report.
    fn report(&mut self, report: Report);
}

impl Sink for Vec<Report> {
    fn report(&mut self, report: Report) {
        self.push(report);
    }
}
