//! A blocking face of [`Session`] for programs and Rust notebooks (evcxr_jupyter): each cell runs on a runtime
//! of its own to the end, and its reports come back as a value that renders itself.
//!
//! Owns no evaluation of its own: everything goes through `Session::run_async`. Must not print; the
//! evcxr rendering of [`CellOutput`] lives in `output::evcxr`.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::api::environment::Environment;
use crate::eval::session::{Config, Session};
use crate::eval::sink::Report;

/// A [`Session`] that runs cells to the end on a tokio runtime of their own, so a plain `fn main` or an
/// evcxr cell can run statements without `async`.
///
/// ```no_run
/// use harmonyql::eval::blocking::BlockingSession;
/// let mut hq = BlockingSession::connect("http://127.0.0.1:3000").unwrap();
/// let cell = hq.run("job = subset ATL03 bbox(-105.5, 40, -105, 41)\nwait job");
/// assert!(cell.ok, "{:?}", cell.reports);
/// println!("{}", cell.job_id().unwrap());
/// ```
#[derive(Debug)]
pub struct BlockingSession {
    session: Session,
}

/// What one cell reported, in order, and whether it all ran.
#[derive(Debug, Clone, PartialEq)]
pub struct CellOutput {
    /// Everything the cell reported (progress included).
    pub reports: Vec<Report>,
    /// Whether every statement ran without error.
    pub ok: bool,
}

impl BlockingSession {
    /// A session with these settings.
    pub fn new(config: Config) -> std::io::Result<Self> {
        Ok(BlockingSession { session: Session::new(config) })
    }

    /// A session talking to the Harmony at `url` (`http://127.0.0.1:3000` for `hq serve`).
    pub fn connect(url: &str) -> std::io::Result<Self> {
        BlockingSession::new(Config {
            env: Environment::Url(url.trim_end_matches('/').to_owned()),
            ..Config::default()
        })
    }

    /// Runs one cell to its end (waits and downloads included) and returns what it reported. Call it from
    /// plain (non-async) code: inside an async runtime use [`Session::run_async`] instead.
    pub fn run(&mut self, cell: &str) -> CellOutput {
        let mut reports: Vec<Report> = Vec::new();
        // A runtime and an HTTP client of this call's own: in evcxr every cell is a separate library with its
        // own copy of tokio, and a runtime or client made by an earlier cell's copy is invisible to this
        // one's (hyper panics with "no reactor running" and the cell hangs). One thread keeps everything
        // under the copy that runs the cell; downloads stay concurrent (async), only not parallel.
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let message = format!("cannot start the async runtime: {error}");
                return CellOutput { reports: vec![Report::Warning(message)], ok: false };
            }
        };
        self.session.forget_connections();
        let outcome = runtime.block_on(self.session.run_async(cell, &mut reports, &CancellationToken::new()));
        CellOutput { reports, ok: outcome.ok }
    }

    /// The session underneath (its names, environment, last job).
    pub fn session(&self) -> &Session {
        &self.session
    }
}

impl CellOutput {
    /// The ID of the last job the cell showed.
    pub fn job_id(&self) -> Option<&str> {
        self.reports.iter().rev().find_map(|report| match report {
            Report::Job(job) => Some(job.job_id.as_str()),
            _ => None,
        })
    }

    /// The files the cell downloaded.
    pub fn files(&self) -> Vec<PathBuf> {
        self.reports
            .iter()
            .filter_map(|report| match report {
                Report::Files(files) => Some(files.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The result links the cell listed.
    pub fn links(&self) -> Vec<String> {
        self.reports
            .iter()
            .filter_map(|report| match report {
                Report::Links(links) => Some(links.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The figures the cell drew.
    pub fn figures(&self) -> Vec<&crate::plot::Figure> {
        self.reports
            .iter()
            .filter_map(|report| match report {
                Report::Figure { figure, .. } => Some(figure.as_ref()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::session::Mode;

    #[test]
    fn a_blocking_session_keeps_names_and_settings_across_cells() {
        let mut hq = BlockingSession::new(Config { mode: Mode::ShowUrl, ..Config::default() }).unwrap();
        assert!(hq.run("env uat").ok);
        let cell = hq.run("capabilities ATL03");
        assert!(cell.ok, "{:?}", cell.reports);
        assert_eq!(
            cell.reports,
            [Report::Url("https://harmony.uat.earthdata.nasa.gov/capabilities?shortname=ATL03".into())]
        );
        let failed = hq.run("subset ATL03 bbox(1, 2");
        assert!(!failed.ok && failed.job_id().is_none() && failed.files().is_empty());
    }
}
