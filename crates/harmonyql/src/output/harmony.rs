//! Rich renderings of Harmony's answers: a job as a compact card, capabilities as tables, result links
//! and local files as lists. HTML is escaped and needs no JavaScript; every bundle keeps `text/plain`.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use crate::api::job::Job;
use crate::output::{MimeBundle, escape_html};

/// How many variables a capabilities table lists before it says how many more there are.
const MAX_VARIABLES: usize = 40;

/// A job: status, progress bar, message, granules, labels and its data links.
pub fn job(job: &Job, plain: String) -> MimeBundle {
    let colour = match job.status.as_str() {
        "successful" => "#1b7f3b",
        "failed" | "canceled" => "#b00020",
        "complete_with_errors" | "running_with_errors" | "paused" | "previewing" => "#8a6d00",
        _ => "#1f5fa8",
    };
    let mut html = format!(
        "<div style=\"border:1px solid #ccc;border-radius:6px;padding:6px 10px;display:inline-block\">\
         <b>job</b> <code>{}</code> <b style=\"color:{colour}\">{}</b> \
         <progress value=\"{}\" max=\"100\"></progress> {}%<br>{}<br>\
         <small>{} input granule(s); created {}",
        escape_html(&job.job_id),
        escape_html(job.status.as_str()),
        job.progress,
        job.progress,
        escape_html(&job.message),
        job.num_input_granules,
        escape_html(&job.created_at),
    );
    if !job.labels.is_empty() {
        let _ = write!(html, "; labels {}", escape_html(&job.labels.join(", ")));
    }
    html.push_str("</small>");
    let links: Vec<_> = job.data_links().collect();
    if !links.is_empty() {
        html.push_str("<ol style=\"margin:4px 0\">");
        for link in links.iter().take(20) {
            let _ = write!(
                html,
                "<li><a href=\"{0}\">{1}</a></li>",
                escape_html(&link.href),
                escape_html(link.title.as_deref().unwrap_or(&link.href))
            );
        }
        if links.len() > 20 {
            let _ = write!(html, "<li>… {} more</li>", links.len() - 20);
        }
        html.push_str("</ol>");
    }
    html.push_str("</div>");
    MimeBundle::text(plain).with_html(html)
}

/// Capabilities: the yes/no operations and formats, the services, and the variables (truncated).
pub fn capabilities(value: &Value, plain: String) -> MimeBundle {
    let mut html = String::from("<div>");
    let title = [value.get("shortName"), value.get("conceptId")]
        .iter()
        .filter_map(|v| v.and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" · ");
    let _ = write!(
        html,
        "<b>capabilities</b> {}<table><tr><th style=\"text-align:left\">operation</th><th>supported</th></tr>",
        escape_html(&title)
    );
    if let Some(object) = value.as_object() {
        for (key, item) in object {
            if let Some(flag) = item.as_bool() {
                let _ = write!(html, "<tr><td>{}</td><td>{}</td></tr>", escape_html(key), if flag { "✔" } else { "✘" });
            }
        }
    }
    html.push_str("</table>");
    let list = |key: &str| -> Vec<String> {
        value.get(key).and_then(Value::as_array).map_or_else(Vec::new, |items| {
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .or_else(|| item.get("name").and_then(Value::as_str).map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect()
        })
    };
    let formats = list("outputFormats");
    let _ = write!(html, "<p><b>output formats ({})</b>: {}</p>", formats.len(), escape_html(&formats.join(", ")));
    let services = list("services");
    let _ = write!(html, "<p><b>services ({})</b>: {}</p>", services.len(), escape_html(&services.join(", ")));
    let variables = list("variables");
    let _ = write!(html, "<p><b>variables ({})</b>: ", variables.len());
    let shown: Vec<String> =
        variables.iter().take(MAX_VARIABLES).map(|v| format!("<code>{}</code>", escape_html(v))).collect();
    html.push_str(&shown.join(", "));
    if variables.len() > MAX_VARIABLES {
        let _ = write!(html, " … and {} more", variables.len() - MAX_VARIABLES);
    }
    html.push_str("</p></div>");
    MimeBundle::text(plain).with_html(html)
}

/// Harmony's whole answer as `application/json`, which JupyterLab shows as a collapsible tree. It is a bundle of
/// its own: JupyterLab prefers `application/json` to `text/html`, so in the table's bundle it would hide the table.
/// Renderers without a JSON view (nbconvert, VS Code) get a `<details>` block, collapsed, with the JSON text.
pub fn json_view(value: &Value, title: &str) -> MimeBundle {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    let html = format!(
        "<details><summary>{} (JSON)</summary><pre style=\"white-space:pre-wrap\">{}</pre></details>",
        escape_html(title),
        escape_html(&pretty)
    );
    MimeBundle::text(format!("{title}: JSON, {} bytes", pretty.len())).with_html(html).with_json(value.clone())
}

/// A jobs listing as a table: job ID, status with a progress bar, created, labels, the request.
pub fn jobs(listing: &crate::api::job::JobListing, plain: String) -> MimeBundle {
    let mut html = String::from(
        "<table><tr><th style=\"text-align:left\">job</th><th style=\"text-align:left\">status</th>\
         <th>progress</th><th style=\"text-align:left\">created</th><th style=\"text-align:left\">labels</th>\
         <th style=\"text-align:left\">request</th></tr>",
    );
    for job in &listing.jobs {
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td><progress max=\"100\" value=\"{}\"></progress> {}%</td>\
             <td>{}</td><td>{}</td><td><a href=\"{request}\">{request}</a></td></tr>",
            escape_html(&job.job_id),
            escape_html(job.status.as_str()),
            job.progress,
            job.progress,
            escape_html(&job.created_at),
            escape_html(&job.labels.join(", ")),
            request = escape_html(&job.request)
        );
    }
    let _ = write!(html, "</table><small>{} of {} job(s)</small>", listing.jobs.len(), listing.count);
    MimeBundle::text(plain).with_html(html)
}

/// A jobs listing as aligned columns: job ID, status, progress, created, labels; then the count.
pub fn jobs_text(listing: &crate::api::job::JobListing) -> String {
    let mut text = format!("{:<36}  {:<20}  {:>4}  {:<24}  labels\n", "job", "status", "%", "created");
    for job in &listing.jobs {
        let _ = writeln!(
            text,
            "{:<36}  {:<20}  {:>4}  {:<24}  {}",
            job.job_id,
            job.status.as_str(),
            job.progress,
            job.created_at,
            job.labels.join(", ")
        );
    }
    let _ = write!(text, "{} of {} job(s)", listing.jobs.len(), listing.count);
    text
}

/// The capabilities document as a two-column table of its scalar and list fields, then one line per service
/// and the number of variables: what a terminal shows for `capabilities`.
pub fn capabilities_table(value: &Value) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(object) = value.as_object() {
        for (key, field) in object {
            if key == "services" || key == "variables" {
                continue;
            }
            let text = match field {
                Value::String(text) => text.clone(),
                Value::Array(items) => items
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
    if let Some(services) = value.get("services").and_then(Value::as_array) {
        let _ = writeln!(text, "services ({}):", services.len());
        for service in services {
            let name = service.get("name").and_then(Value::as_str).unwrap_or("?");
            let _ = writeln!(text, "  {name}");
        }
    }
    if let Some(variables) = value.get("variables").and_then(Value::as_array) {
        let _ = writeln!(text, "variables: {}", variables.len());
    }
    text.trim_end().to_owned()
}

/// Result links as a numbered list of links.
pub fn links(links: &[String], plain: String) -> MimeBundle {
    let items: String = links.iter().map(|l| format!("<li><a href=\"{0}\">{0}</a></li>", escape_html(l))).collect();
    MimeBundle::text(plain).with_html(format!("<b>{} result link(s)</b><ol>{items}</ol>", links.len()))
}

/// Local files as a list.
pub fn files(files: &[PathBuf], plain: String) -> MimeBundle {
    let items: String =
        files.iter().map(|f| format!("<li><code>{}</code></li>", escape_html(&f.display().to_string()))).collect();
    MimeBundle::text(plain).with_html(format!("<b>{} file(s)</b><ul>{items}</ul>", files.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_table_is_escaped_and_truncated() {
        let variables: Vec<Value> = (0..50).map(|i| Value::String(format!("gt1l/v<{i}>"))).collect();
        let doc = serde_json::json!({"shortName": "ATL03", "bboxSubset": true, "reproject": false,
            "outputFormats": ["application/x-hdf5"], "services": [{"name": "sds/trajectory-subsetter"}], "variables": variables});
        let bundle = capabilities(&doc, "ATL03".into());
        let html = bundle.get("text/html").and_then(Value::as_str).unwrap();
        assert!(html.contains("bboxSubset</td><td>✔") && html.contains("reproject</td><td>✘"));
        assert!(html.contains("gt1l/v&lt;0&gt;") && !html.contains("<0>"));
        assert!(html.contains("variables (50)") && html.contains("and 10 more"));
        assert!(bundle.get("application/json").is_none(), "JupyterLab would show the JSON instead of the table");
    }

    #[test]
    fn jobs_listing_is_a_table_with_progress_escaped_labels_and_the_count() {
        let listing = serde_json::json!({"count": 7, "links": [], "jobs": [{
            "username": "anonymous", "status": "running", "message": "m", "progress": 42,
            "createdAt": "2026-11-28T00:00:00.000Z", "updatedAt": "2026-11-28T00:00:01.000Z", "links": [],
            "labels": ["<b>x</b>", "harmonyql"], "request": "http://localhost:3000/ATL03?a=1&b=2",
            "numInputGranules": 1, "jobID": "c21d248e-6332-4a23-a1ec-c8ad86ac72fe"}]});
        let listing: crate::api::job::JobListing = serde_json::from_value(listing).expect("a listing");
        let plain = jobs_text(&listing);
        assert!(plain.contains("c21d248e-6332-4a23-a1ec-c8ad86ac72fe  running") && plain.ends_with("1 of 7 job(s)"));
        let bundle = jobs(&listing, plain);
        let html = bundle.get("text/html").and_then(Value::as_str).unwrap();
        assert!(html.contains("<progress max=\"100\" value=\"42\">"));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;, harmonyql") && !html.contains("<b>x</b>"));
        assert!(html.contains("a=1&amp;b=2") && html.contains("1 of 7 job(s)"));
    }

    #[test]
    fn json_view_is_collapsed_escaped_html_and_json() {
        let doc = serde_json::json!({"shortName": "<ATL03>"});
        let bundle = json_view(&doc, "capabilities");
        let html = bundle.get("text/html").and_then(Value::as_str).unwrap();
        assert!(html.starts_with("<details><summary>capabilities (JSON)</summary>"));
        assert!(html.contains("&lt;ATL03&gt;") && !html.contains("<ATL03>"));
        assert_eq!(bundle.get("application/json"), Some(&doc));
    }
}
