//! The terminal sink: results to stdout, diagnostics, notes and progress bars (indicatif) to stderr,
//! colour only on a terminal.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use harmonyql::eval::sink::{Report, Sink};
use harmonyql::output::report;

/// Prints reports for a person at a terminal (or a pipe).
pub struct Terminal {
    /// Name shown in diagnostics (`cell`, a file path).
    pub origin: String,
    /// Print JSON answers as JSON instead of tables.
    pub json: bool,
    job_bar: Option<ProgressBar>,
    download_bar: Option<ProgressBar>,
}

impl Terminal {
    /// A sink naming `origin` in diagnostics.
    pub fn new(origin: &str) -> Self {
        Terminal { origin: origin.to_owned(), json: false, job_bar: None, download_bar: None }
    }

    fn finish_bars(&mut self) {
        for bar in [self.job_bar.take(), self.download_bar.take()].into_iter().flatten() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.finish_bars();
    }
}

fn bar(length: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

impl Sink for Terminal {
    fn report(&mut self, report: Report) {
        match &report {
            Report::JobProgress { job_id, status, percent } => {
                let bar = self.job_bar.get_or_insert_with(|| bar(100, "[ Processing: {pos:>3}% ] [{bar:40}] {msg}"));
                bar.set_position(u64::from(*percent));
                bar.set_message(format!("{} {}", status.as_str(), job_id));
                return;
            }
            Report::DownloadProgress(progress) => {
                let bar = self.download_bar.get_or_insert_with(|| {
                    bar(0, "[ Downloading ] [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}")
                });
                bar.set_length(progress.total_bytes.max(progress.bytes));
                bar.set_position(progress.bytes);
                bar.set_message(format!("{}/{} files", progress.files_done, progress.files_total));
                return;
            }
            _ => self.finish_bars(),
        }
        let mut out = std::io::stdout().lock();
        // A closed pipe (`hq url … | head`) is not an error worth reporting.
        let _ = match report {
            Report::Url(text) | Report::Curl(text) => writeln!(out, "{text}"),
            Report::Text(text) | Report::Help(text) => writeln!(out, "{}", text.trim_end()),
            Report::Warning(text) => writeln!(std::io::stderr(), "{}", text.trim_end()),
            Report::Clear => Ok(()),
            Report::Environment { .. } => writeln!(out, "{}", harmonyql::output::report::plain(&report)),
            Report::Diagnostics { source, diagnostics } => {
                let colour = std::io::stderr().is_terminal();
                let mut err = std::io::stderr().lock();
                for diagnostic in diagnostics {
                    let text = if colour {
                        diagnostic.render_ansi(&source, &self.origin)
                    } else {
                        diagnostic.render_plain(&source, &self.origin)
                    };
                    let _ = writeln!(err, "{text}");
                }
                Ok(())
            }
            Report::Failed(failure) => {
                let shown = report::failure_as_caret(&failure);
                let text = if std::io::stderr().is_terminal() {
                    shown.render_ansi(&failure.source, &self.origin)
                } else {
                    shown.render_plain(&failure.source, &self.origin)
                };
                writeln!(std::io::stderr(), "{text}")
            }
            Report::NotAvailable { statement, reason } => writeln!(std::io::stderr(), "hq: {statement}: {reason}"),
            Report::Figure { name, figure } => {
                let stem: String =
                    name.chars().map(|c| if c.is_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
                let written = [("png", figure.png.as_slice()), ("svg", figure.svg.as_bytes())]
                    .iter()
                    .map(|(extension, bytes)| {
                        let path = std::path::PathBuf::from(format!("{stem}.{extension}"));
                        harmonyql::data::write_atomically(&path, |temporary| {
                            std::fs::write(temporary, bytes)
                                .map_err(|source| harmonyql::data::Error::Io { path: temporary.to_path_buf(), source })
                        })
                        .map(|()| path.display().to_string())
                    })
                    .collect::<Result<Vec<_>, _>>();
                match written {
                    Ok(paths) => writeln!(out, "plot: {}", paths.join(", ")),
                    Err(error) => writeln!(std::io::stderr(), "hq: cannot write the plot: {error}"),
                }
            }
            // --json: Harmony's answers as they came, not the tables made of them.
            report => match report::document(&report).filter(|_| self.json) {
                Some(document) => writeln!(out, "{}", serde_json::to_string_pretty(&document).unwrap_or_default()),
                None => writeln!(out, "{}", report::plain(&report)),
            },
        };
    }
}
