//! What the evaluator reports, and the trait front ends implement to show it.
//!
//! The kernel's sink publishes Jupyter messages, the CLI's prints lines, a test's collects a `Vec`.

use std::path::PathBuf;

use crate::api::environment::Environment;
use crate::api::job::{Job, JobStatus};
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
    /// Collections CMR found (`collections …`).
    Collections(Box<crate::harmony::cmr::CollectionResults>),
    /// Granules CMR found (`granules …`): how many, how large, the first of them.
    Granules(Box<crate::harmony::cmr::GranuleResults>),
    /// A JSON answer shown as it came (capabilities, jobs, steps, labels).
    Json {
        /// What it is (`capabilities`, `jobs`, …), for renderers that show some kinds as tables.
        kind: String,
        /// The document.
        value: serde_json::Value,
    },
}

impl Report {
    /// A plain-text rendering of the reports that come from talking to Harmony; `None` for the others,
    /// which front ends render themselves.
    pub fn harmony_text(&self) -> Option<String> {
        Some(match self {
            Report::Job(job) => {
                let mut text =
                    format!("job {}: {} ({}%) {}", job.job_id, job.status.as_str(), job.progress, job.message);
                let data = job.data_links().count();
                if data > 0 {
                    text.push_str(&format!("\n{data} result link(s) on this page"));
                }
                text
            }
            Report::JobProgress { job_id, status, percent } => format!("job {job_id}: {} {percent}%", status.as_str()),
            Report::DownloadProgress(p) => format!(
                "{}/{} files, {} of {} bytes, {:.0} B/s",
                p.files_done, p.files_total, p.bytes, p.total_bytes, p.bytes_per_second
            ),
            Report::Files(paths) => paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join("\n"),
            Report::Links(links) => links.join("\n"),
            Report::Opened(summary) => summary.to_string(),
            Report::Exported { path, rows } => {
                let is_geojson = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e == "json");
                format!("exported {rows} {} to {}", if is_geojson { "tracks" } else { "rows" }, path.display())
            }
            Report::Json { kind, value } if kind == "jobs" => match jobs_listing(value) {
                Some(listing) => jobs_text(&listing),
                None => serde_json::to_string_pretty(value).unwrap_or_default(),
            },
            Report::Json { value, .. } => serde_json::to_string_pretty(value).unwrap_or_default(),
            Report::Collections(results) => crate::output::cmr::collections_text(results),
            Report::Granules(results) => crate::output::cmr::granules_text(results),
            _ => return None,
        })
    }
}

/// Harmony's answer to `jobs`, when it has the documented shape.
pub fn jobs_listing(value: &serde_json::Value) -> Option<crate::api::job::JobListing> {
    serde_json::from_value(value.clone()).ok()
}

/// A jobs listing as aligned columns: job ID, status, progress, created, labels; then the count.
fn jobs_text(listing: &crate::api::job::JobListing) -> String {
    let mut text = format!("{:<36}  {:<20}  {:>4}  {:<24}  labels\n", "job", "status", "%", "created");
    for job in &listing.jobs {
        text.push_str(&format!(
            "{:<36}  {:<20}  {:>4}  {:<24}  {}\n",
            job.job_id,
            job.status.as_str(),
            job.progress,
            job.created_at,
            job.labels.join(", ")
        ));
    }
    text.push_str(&format!("{} of {} job(s)", listing.jobs.len(), listing.count));
    text
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
