//! Rich display in evcxr_jupyter (Rust notebooks): a value whose type has an `evcxr_display` method is
//! shown through it. The method prints the bundle in evcxr's content protocol on stdout, which evcxr
//! turns into display data; it is the one place `output` writes anything.

use crate::eval::blocking::CellOutput;
use crate::eval::sink::Report;
use crate::output::MimeBundle;
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
        let bundles = crate::output::report::bundles(self);
        match bundles.len() {
            0 => None,
            1 => bundles.into_iter().next(),
            _ => Some(crate::output::combine(&bundles)),
        }
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
        let bundles: Vec<MimeBundle> = self.reports.iter().flat_map(crate::output::report::bundles).collect();
        crate::output::combine(&bundles)
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
