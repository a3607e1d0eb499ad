//! The one renderer of the evaluator's reports: each typed [`Report`] becomes the MIME bundles every front end
//! shows. The kernel displays them, evcxr prints them, the CLI prints their `text/plain` (or, with `--json`, the
//! document behind them). A new report kind is rendered here once; no front end matches on it.
//!
//! What stays with a front end is how it *delivers* a kind, never how it renders one: the kernel turns an error
//! diagnostic into an error reply and progress into updating displays, the CLI draws progress bars and writes
//! figures to files.

use crate::eval::sink::{Failure, Report};
use crate::lang::diagnostic::{Diagnostic, Stage};
use crate::output::{MimeBundle, escape_html, harmony};

/// The displays a report makes, in order: none for progress and `Clear` (delivered live by front ends), two for
/// capabilities (the table, then Harmony's whole answer as a collapsible JSON view), one for everything else.
///
/// ```
/// use harmonyql::eval::sink::Report;
/// let bundles = harmonyql::output::report::bundles(&Report::Links(vec!["http://127.0.0.1:3000/f.h5".into()]));
/// assert_eq!(bundles.len(), 1);
/// assert!(bundles[0].text_plain().contains("f.h5"));
/// ```
pub fn bundles(report: &Report) -> Vec<MimeBundle> {
    let pre = |text: &str| MimeBundle::text(text.to_owned()).with_html(format!("<pre>{}</pre>", escape_html(text)));
    let bundle = match report {
        Report::JobProgress { .. } | Report::DownloadProgress(_) | Report::Clear => return Vec::new(),
        Report::Diagnostics { source, diagnostics } => {
            let plain: Vec<String> = diagnostics.iter().map(|d| d.render_plain(source, "cell")).collect();
            let html: Vec<String> = diagnostics.iter().map(|d| d.render_html(source)).collect();
            MimeBundle::text(plain.join("\n")).with_html(html.join("\n"))
        }
        Report::Failed(failure) => {
            let shown = failure_as_caret(failure);
            MimeBundle::text(shown.render_plain(&failure.source, "cell")).with_html(shown.render_html(&failure.source))
        }
        // Requests are for copying: the whole URL selects with one click and wraps instead of scrolling.
        Report::Url(text) | Report::Curl(text) => MimeBundle::text(text.clone()).with_html(format!(
            "<pre style=\"white-space:pre-wrap;word-break:break-all;user-select:all\">{}</pre>",
            escape_html(text)
        )),
        Report::Text(text) | Report::Warning(text) | Report::Help(text) => pre(text),
        Report::Environment { env, root_url, cmr_url } => {
            let note = if env.is_local() {
                "local Harmony: no Earthdata Login account needed"
            } else {
                "needs an Earthdata Login account: `login` before submitting"
            };
            MimeBundle::text(plain(report)).with_html(format!(
                "<div><b>environment</b> <code>{}</code> &rarr; <a href=\"{url}\">{url}</a><br>\
                 <b>CMR</b> <a href=\"{cmr}\">{cmr}</a><br><small>{}</small></div>",
                escape_html(&env.to_string()),
                escape_html(note),
                url = escape_html(root_url),
                cmr = escape_html(cmr_url)
            ))
        }
        Report::NotAvailable { statement, reason } => pre(&format!("{statement}: {reason}")),
        Report::Figure { figure, .. } => figure.to_bundle(),
        Report::Job(job) => harmony::job(job, plain(report)),
        Report::Files(files) => harmony::files(files, plain(report)),
        Report::Links(links) => harmony::links(links, plain(report)),
        Report::Capabilities(document) => {
            return vec![
                harmony::capabilities(document, plain(report)),
                harmony::json_view(document, "Harmony's capabilities answer"),
            ];
        }
        Report::Jobs(listing) => harmony::jobs(listing, plain(report)),
        Report::Collections(results) => crate::output::cmr::collections_bundle(results),
        Report::Granules(results) => crate::output::cmr::granules_bundle(results),
        Report::Answer { statement, document } => {
            return vec![harmony::json_view(document, &format!("Harmony's {statement} answer"))];
        }
        Report::Opened(summary) => crate::output::data::summary(summary),
        Report::Exported { .. } => pre(&plain(report)),
    };
    vec![bundle]
}

/// A progress report as the display that updates in place while a job runs or files download (what notebooks
/// show live); `None` for other reports.
pub fn progress(report: &Report) -> Option<MimeBundle> {
    match report {
        Report::JobProgress { job_id, status, percent } => {
            let hint = match status.as_str() {
                "paused" | "previewing" => {
                    format!(" — paused for preview: `resume {job_id}` runs the rest, `skip preview {job_id}` skips it")
                }
                "running_with_errors" => " — some granules failed; see `status` for the errors".to_owned(),
                _ => String::new(),
            };
            let text = format!("job {job_id}: {} {percent}%{hint}", status.as_str());
            let html = format!(
                "<div><progress value=\"{percent}\" max=\"100\" style=\"width:24em\"></progress> <b>{percent}%</b> \
                 <code>{}</code> job <code>{}</code>{}</div>",
                status.as_str(),
                escape_html(job_id),
                escape_html(&hint)
            );
            Some(MimeBundle::text(text).with_html(html))
        }
        Report::DownloadProgress(progress) => {
            let percent = if progress.total_bytes > 0 {
                (progress.bytes as f64 / progress.total_bytes as f64 * 100.0).min(100.0)
            } else {
                0.0
            };
            let left = progress.eta.map(|eta| format!(", {} s left", eta.as_secs())).unwrap_or_default();
            let text = format!(
                "downloaded {}/{} files, {:.1} of {:.1} MB, {:.1} MB/s{left}",
                progress.files_done,
                progress.files_total,
                progress.bytes as f64 / 1e6,
                progress.total_bytes as f64 / 1e6,
                progress.bytes_per_second / 1e6
            );
            let html = format!(
                "<div><progress value=\"{percent:.0}\" max=\"100\" style=\"width:24em\"></progress> {}</div>",
                escape_html(&text)
            );
            Some(MimeBundle::text(text).with_html(html))
        }
        _ => None,
    }
}

/// The plain text of a report, as a terminal shows it: what `text/plain` of its first bundle holds.
pub fn plain(report: &Report) -> String {
    match report {
        Report::Job(job) => {
            let mut text = format!("job {}: {} ({}%) {}", job.job_id, job.status.as_str(), job.progress, job.message);
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
        Report::Capabilities(document) => harmony::capabilities_table(document),
        Report::Jobs(listing) => harmony::jobs_text(listing),
        Report::Collections(results) => crate::output::cmr::collections_text(results),
        Report::Granules(results) => crate::output::cmr::granules_text(results),
        Report::Answer { document, .. } => serde_json::to_string_pretty(document).unwrap_or_default(),
        Report::Url(text) | Report::Curl(text) | Report::Text(text) | Report::Warning(text) | Report::Help(text) => {
            text.clone()
        }
        Report::Environment { env, root_url, cmr_url } => format!("environment: {env} ({root_url}), CMR {cmr_url}"),
        Report::NotAvailable { statement, reason } => format!("{statement}: {reason}"),
        Report::Figure { figure, .. } => format!("plot {}×{} px", figure.width, figure.height),
        Report::Diagnostics { source, diagnostics } => {
            diagnostics.iter().map(|d| d.render_plain(source, "cell")).collect::<Vec<_>>().join("\n")
        }
        Report::Failed(failure) => failure_as_caret(failure).render_plain(&failure.source, "cell"),
        Report::Clear => String::new(),
    }
}

/// A failure drawn the way diagnostics are (the statement's line, a caret under it, the message), so people read
/// both alike; it stays a failure everywhere else (the kernel names it after the error's kind, the CLI exits 4).
pub fn failure_as_caret(failure: &Failure) -> Diagnostic {
    Diagnostic::error(failure.error.name(), failure.message(), failure.span).in_stage(Stage::Run)
}

/// The JSON document behind a report, as Harmony sent it (`hq run --json`): jobs, listings, capabilities and
/// other answers; `None` for reports that are not documents.
pub fn document(report: &Report) -> Option<serde_json::Value> {
    match report {
        Report::Job(job) => serde_json::to_value(job).ok(),
        Report::Jobs(listing) => serde_json::to_value(listing).ok(),
        // Search results as typed JSON: hits, the URL, the entries as CMR gave them.
        Report::Collections(results) => serde_json::to_value(results).ok(),
        Report::Granules(results) => serde_json::to_value(results).ok(),
        Report::Capabilities(document) | Report::Answer { document, .. } => Some((**document).clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capabilities() -> serde_json::Value {
        serde_json::json!({"shortName": "ATL03", "bboxSubset": true, "variables": ["gt1l/heights/h_ph"],
            "services": [{"name": "sds/trajectory-subsetter"}], "outputFormats": ["application/x-hdf5"]})
    }

    #[test]
    fn capabilities_render_as_a_table_then_the_json_view() {
        let report = Report::Capabilities(Box::new(capabilities()));
        let shown = bundles(&report);
        assert_eq!(shown.len(), 2);
        assert!(shown[0].text_plain().starts_with("shortName"), "{}", shown[0].text_plain());
        assert!(shown[0].get("application/json").is_none(), "the table's bundle must not hide behind the JSON view");
        assert_eq!(shown[1].get("application/json"), Some(&capabilities()));
        assert_eq!(document(&report), Some(capabilities()));
    }

    #[test]
    fn every_report_but_progress_and_clear_renders_with_text() {
        let reports = [
            Report::Url("http://x".into()),
            Report::Text("t".into()),
            Report::Links(vec!["http://x/f.h5".into()]),
            Report::Answer { statement: "steps", document: Box::new(serde_json::json!({"count": 1})) },
        ];
        for report in &reports {
            let shown = bundles(report);
            assert!(!shown.is_empty() && !shown[0].text_plain().is_empty(), "{report:?}");
        }
        assert!(bundles(&Report::Clear).is_empty());
    }
}
