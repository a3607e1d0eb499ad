//! Rich display in evcxr_jupyter (Rust notebooks): a value whose type has an `evcxr_display` method is
//! shown through it. The method prints the bundle in evcxr's content protocol on stdout, which evcxr
//! turns into display data; it is the one place `output` writes anything.

use crate::eval::blocking::CellOutput;
use crate::eval::sink::Report;
use crate::output::{MimeBundle, escape_html};
use crate::plot::Figure;

impl MimeBundle {
    /// The bundle in evcxr's protocol: one `EVCXR_BEGIN_CONTENT mime` … `EVCXR_END_CONTENT` block per type.
    ///
    /// ```
    /// use harmonyql::output::MimeBundle;
    /// let text = MimeBundle::text("3 granules").with_html("<b>3</b>").to_evcxr();
    /// assert!(text.contains("EVCXR_BEGIN_CONTENT text/html\n<b>3</b>\nEVCXR_END_CONTENT\n"));
    /// ```
    pub fn to_evcxr(&self) -> String {
        let mut out = String::new();
        for (mime, value) in self.data() {
            let body = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("EVCXR_BEGIN_CONTENT {mime}\n{body}\nEVCXR_END_CONTENT\n"));
        }
        out
    }

    /// Shows the bundle when it is a cell's value in evcxr_jupyter.
    pub fn evcxr_display(&self) {
        print!("{}", self.to_evcxr());
    }
}

impl Report {
    /// The report as a rich bundle, as the kernel shows it (jobs as cards, capabilities as tables, files
    /// and links as lists, diagnostics with the caret); `None` for progress, which only a live front end draws.
    ///
    /// ```
    /// use harmonyql::eval::sink::Report;
    /// let bundle = Report::Links(vec!["http://127.0.0.1:3000/f.h5".into()]).to_bundle().unwrap();
    /// assert!(bundle.text_plain().contains("f.h5"));
    /// ```
    pub fn to_bundle(&self) -> Option<MimeBundle> {
        let pre = |text: &str| MimeBundle::text(text.to_owned()).with_html(format!("<pre>{}</pre>", escape_html(text)));
        Some(match self {
            Report::JobProgress { .. } | Report::DownloadProgress(_) | Report::Clear => return None,
            Report::Diagnostics { source, diagnostics } => {
                let plain: Vec<String> = diagnostics.iter().map(|d| d.render_plain(source, "cell")).collect();
                let html: Vec<String> = diagnostics.iter().map(|d| d.render_html(source)).collect();
                MimeBundle::text(plain.join("\n")).with_html(html.join("\n"))
            }
            Report::Url(text)
            | Report::Curl(text)
            | Report::Text(text)
            | Report::Warning(text)
            | Report::Help(text) => pre(text),
            Report::Environment { env, root_url } => pre(&format!("environment: {env} ({root_url})")),
            Report::NotAvailable { statement, reason } => pre(&format!("{statement}: {reason}")),
            Report::Figure { figure, .. } => figure.to_bundle(),
            Report::Job(job) => crate::output::harmony::job(job, self.harmony_text().unwrap_or_default()),
            Report::Files(files) => crate::output::harmony::files(files, self.harmony_text().unwrap_or_default()),
            Report::Links(links) => crate::output::harmony::links(links, self.harmony_text().unwrap_or_default()),
            Report::Json { kind, value } if kind == "capabilities" => {
                crate::output::harmony::capabilities(value, self.harmony_text().unwrap_or_default())
            }
            Report::Json { kind, value } if kind == "jobs" => match crate::eval::sink::jobs_listing(value) {
                Some(listing) => crate::output::harmony::jobs(&listing, self.harmony_text().unwrap_or_default()),
                None => pre(&self.harmony_text().unwrap_or_default()),
            },
            Report::Opened(summary) => crate::output::data::summary(summary),
            Report::Collections(results) => crate::output::cmr::collections_bundle(results),
            Report::Granules(results) => crate::output::cmr::granules_bundle(results),
            Report::Json { .. } | Report::Exported { .. } => pre(&self.harmony_text().unwrap_or_default()),
        })
    }

    /// Shows the report when it is a cell's value in evcxr_jupyter.
    pub fn evcxr_display(&self) {
        if let Some(bundle) = self.to_bundle() {
            bundle.evcxr_display();
        }
    }
}

impl CellOutput {
    /// Everything the cell showed, as one bundle: the HTML and text of each report in order, and the
    /// last figure as PNG and SVG.
    pub fn to_bundle(&self) -> MimeBundle {
        let bundles: Vec<MimeBundle> = self.reports.iter().filter_map(Report::to_bundle).collect();
        let plain: Vec<&str> = bundles.iter().map(MimeBundle::text_plain).collect();
        let html: Vec<String> = bundles
            .iter()
            .map(|bundle| match (bundle.get("text/html"), bundle.get("image/svg+xml")) {
                (Some(serde_json::Value::String(html)), _) => html.clone(),
                (None, Some(serde_json::Value::String(svg))) => svg.clone(),
                _ => format!("<pre>{}</pre>", escape_html(bundle.text_plain())),
            })
            .collect();
        MimeBundle::text(plain.join("\n")).with_html(format!("<div>{}</div>", html.join("\n")))
    }

    /// Shows the cell's reports when it is a cell's value in evcxr_jupyter.
    pub fn evcxr_display(&self) {
        self.to_bundle().evcxr_display();
    }
}

impl Figure {
    /// The figure as a bundle: PNG and SVG, with a one-line text description.
    pub fn to_bundle(&self) -> MimeBundle {
        MimeBundle::text(format!("plot {}×{} px", self.width, self.height))
            .with_png(&self.png)
            .with_svg(self.svg.clone())
    }

    /// Shows the figure when it is a cell's value in evcxr_jupyter (`:dep harmonyql`).
    pub fn evcxr_display(&self) {
        self.to_bundle().evcxr_display();
    }
}
