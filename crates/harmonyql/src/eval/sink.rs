//! What the evaluator reports, and the trait front ends implement to show it.
//!
//! The kernel's sink publishes Jupyter messages, the CLI's prints lines, a test's collects a `Vec`.

use std::path::PathBuf;

use crate::api::environment::Environment;
use crate::api::job::{Job, JobListing, JobStatus};
use crate::harmony::download::DownloadProgress;
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
