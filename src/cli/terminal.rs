//! The terminal sink: results to stdout, diagnostics, notes and progress bars (indicatif) to stderr,
//! colour only on a terminal.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use harmonyql::eval::sink::{Report, Sink};

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
            Report::Environment { env, root_url } => writeln!(out, "environment: {env} ({root_url})"),
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
            Report::NotAvailable { statement, reason } => writeln!(std::io::stderr(), "hq: {statement}: {reason}"),
            Report::Json { kind, value } if kind == "capabilities" && !self.json => {
                writeln!(out, "{}", capabilities_table(&value))
            }
            // --json: Harmony's answer as it came, not the table `harmony_text` makes of a jobs listing.
            Report::Json { value, .. } if self.json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_default())
            }
            // --json: the search results as typed JSON (hits, URL, entries as CMR gave them).
            Report::Collections(results) if self.json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&results).unwrap_or_default())
            }
            Report::Granules(results) if self.json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&results).unwrap_or_default())
            }
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
            report => writeln!(out, "{}", report.harmony_text().unwrap_or_default()),
        };
    }
}

/// The capabilities document as a two-column table, then one line per service.
pub fn capabilities_table(value: &serde_json::Value) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(object) = value.as_object() {
        for (key, field) in object {
            if key == "services" || key == "variables" {
                continue;
            }
            let text = match field {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned).unwrap_or_else(|| item.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            rows.push((key.clone(), text));
        }
    }
    let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let mut text: String = rows.iter().map(|(key, value)| format!("{key:<width$}  {value}\n")).collect();
    if let Some(services) = value.get("services").and_then(|s| s.as_array()) {
        text.push_str(&format!("services ({}):\n", services.len()));
        for service in services {
            let name = service.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            text.push_str(&format!("  {name}\n"));
        }
    }
    if let Some(variables) = value.get("variables").and_then(|v| v.as_array()) {
        text.push_str(&format!("variables: {}\n", variables.len()));
    }
    text.trim_end().to_owned()
}
