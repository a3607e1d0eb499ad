//! Rich display in evcxr_jupyter (Rust notebooks): a value whose type has an `evcxr_display` method is
//! shown through it. The method prints the bundle in evcxr's content protocol on stdout, which evcxr
//! turns into display data; it is the one place `output` writes anything.

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
