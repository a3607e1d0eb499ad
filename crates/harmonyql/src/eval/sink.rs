//! What the evaluator reports, and the trait front ends implement to show it.
//!
//! The kernel's sink publishes Jupyter messages, the CLI's prints lines, a test's collects a `Vec`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::environment::Environment;
use crate::api::job::{Job, JobListing, JobStatus};
use crate::eval::error::EvalError;
use crate::harmony::download::DownloadProgress;
use crate::lang::diagnostic::Diagnostic;
use crate::lang::span::Span;

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
    /// A statement that checked fine failed when it ran (Harmony said no, a file was unreadable, a wait
    /// was stopped): not a diagnostic of the text, an error with its causes.
    Failed(Failure),
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
        /// The CMR that `collections` and `granules` search there (NASA's prod/UAT/SIT, or `hq serve` itself).
        cmr_url: String,
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
    /// A job document (after `subset`, `status`, `wait`, `pause`, …).
    Job(Box<Job>),
    /// A job's progress while waiting; the same `job_id` repeats as it advances.
    JobProgress {
        /// The job.
        job_id: String,
        /// Its state.
        status: JobStatus,
        /// 0..=100.
        percent: u8,
    },
    /// Downloads advancing: bytes, files, rate and time left.
    DownloadProgress(DownloadProgress),
    /// Local files (after `download`).
    Files(Vec<PathBuf>),
    /// Result URLs (after `results`).
    Links(Vec<String>),
    /// What `open` found in a file.
    Opened(Box<crate::data::summary::Summary>),
    /// A file `export` wrote.
    Exported {
        /// The file.
        path: PathBuf,
        /// CSV rows or GeoJSON features written.
        rows: u64,
    },
    /// A plot (`plot`).
    Figure {
        /// A name for it, from the file and beam (used for file names by the CLI).
        name: String,
        /// The figure.
        figure: Box<crate::plot::Figure>,
    },
    /// Harmony's capabilities answer for a collection, as it came (shown as a table and as JSON).
    Capabilities(Box<serde_json::Value>),
    /// Collections CMR found (`collections …`).
    Collections(Box<crate::harmony::cmr::CollectionResults>),
    /// Granules CMR found (`granules …`): how many, how large, the first of them.
    Granules(Box<crate::harmony::cmr::GranuleResults>),
    /// A jobs listing (`jobs`).
    Jobs(Box<JobListing>),
    /// Any other answer Harmony gave as a JSON document (steps, labels, a synchronous subset), as it came.
    Answer {
        /// The statement that asked, for the heading (`steps`, `labels`, …); never matched on.
        statement: &'static str,
        /// The document.
        document: Box<serde_json::Value>,
    },
}

/// A failed statement: the cell and the statement's span (front ends show the line and a caret) and why.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The whole cell.
    pub source: String,
    /// The statement that failed.
    pub span: Span,
    /// Why, with its causes; shared so reports stay cheap to clone.
    pub error: Arc<EvalError>,
}

impl Failure {
    /// A failure of the statement at `span` in `cell`.
    pub fn new(cell: &str, span: Span, error: EvalError) -> Self {
        Failure { source: cell.to_owned(), span, error: Arc::new(error) }
    }

    /// The error and every cause below it that its message does not already include, joined by `: `.
    pub fn message(&self) -> String {
        let mut message = self.error.to_string();
        let mut cause = std::error::Error::source(&*self.error);
        while let Some(error) = cause {
            let text = error.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = error.source();
        }
        message
    }
}

/// Failures are equal when they name the same statement with the same message (errors are not comparable).
impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.span == other.span && self.message() == other.message()
    }
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
