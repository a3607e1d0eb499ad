//! MIME bundles: the one shape every rich result takes before a front end shows it.
//!
//! Owns [`MimeBundle`] (always carrying `text/plain`), HTML escaping and base64 PNG encoding.
//! Must not know any Jupyter wire type or do I/O: the kernel turns bundles into messages, other
//! front ends (the CLI) read `text/plain` or the richer entries directly. The only exception is
//! `evcxr.rs`, whose display hooks print in evcxr's protocol because that is how evcxr shows values.

pub mod cell;
pub mod cmr;
pub mod data;
mod evcxr;
pub mod harmony;
pub mod report;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

/// The MIME type every bundle carries, so consoles, diffs and nbconvert always have something to show.
pub const TEXT_PLAIN: &str = "text/plain";

/// A result rendered for display: data keyed by MIME type, plus per-type metadata.
///
/// `text/plain` is set at construction and cannot be removed, so every bundle degrades to text.
///
/// ```
/// use harmonyql::output::MimeBundle;
///
/// let bundle = MimeBundle::text("3 granules")
///     .with_html(format!("<b>{}</b>", harmonyql::output::escape_html("3 <granules>")));
/// assert_eq!(bundle.text_plain(), "3 granules");
/// assert_eq!(bundle.get("text/html").and_then(|v| v.as_str()), Some("<b>3 &lt;granules&gt;</b>"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MimeBundle {
    data: BTreeMap<String, Value>,
    metadata: BTreeMap<String, Value>,
}

impl MimeBundle {
    /// A bundle holding only `text/plain`.
    pub fn text(plain: impl Into<String>) -> Self {
        let mut data = BTreeMap::new();
        data.insert(TEXT_PLAIN.to_owned(), Value::String(plain.into()));
        Self { data, metadata: BTreeMap::new() }
    }

    /// Adds `text/html`; the caller escapes user text with [`escape_html`]. No JavaScript: notebooks
    /// opened elsewhere are untrusted and scripts would not run anyway.
    pub fn with_html(self, html: impl Into<String>) -> Self {
        self.with("text/html", Value::String(html.into()))
    }

    /// Adds `text/markdown`.
    pub fn with_markdown(self, markdown: impl Into<String>) -> Self {
        self.with("text/markdown", Value::String(markdown.into()))
    }

    /// Adds `image/svg+xml`.
    pub fn with_svg(self, svg: impl Into<String>) -> Self {
        self.with("image/svg+xml", Value::String(svg.into()))
    }

    /// Adds `image/png` from raw PNG bytes (base64-encoded here), with width and height metadata
    /// read from the PNG header when it has one.
    pub fn with_png(mut self, png: &[u8]) -> Self {
        if let Some((width, height)) = png_size(png) {
            self.metadata.insert("image/png".to_owned(), serde_json::json!({ "width": width, "height": height }));
        }
        self.with("image/png", Value::String(base64_png(png)))
    }

    /// Adds `application/json`. Jupyter wants an object there, so any other JSON value is wrapped
    /// as `{"value": …}`; the tree view opens expanded.
    pub fn with_json(mut self, json: Value) -> Self {
        let object = match json {
            Value::Object(object) => Value::Object(object),
            other => Value::Object(Map::from_iter([("value".to_owned(), other)])),
        };
        self.metadata.insert("application/json".to_owned(), serde_json::json!({ "expanded": true }));
        self.with("application/json", object)
    }

    /// Adds any MIME type with its data as JSON. Setting `text/plain` replaces the text.
    pub fn with(mut self, mime: impl Into<String>, data: Value) -> Self {
        self.data.insert(mime.into(), data);
        self
    }

    /// Sets the metadata for one MIME type (for example image size or `isolated`).
    pub fn with_metadata(mut self, mime: impl Into<String>, metadata: Value) -> Self {
        self.metadata.insert(mime.into(), metadata);
        self
    }

    /// The plain-text rendering (present in every bundle).
    pub fn text_plain(&self) -> &str {
        self.data.get(TEXT_PLAIN).and_then(Value::as_str).unwrap_or_default()
    }

    /// The data for one MIME type, if the bundle has it.
    pub fn get(&self, mime: &str) -> Option<&Value> {
        self.data.get(mime)
    }

    /// All MIME types and their data, sorted by MIME type.
    pub fn data(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.data.iter().map(|(mime, value)| (mime.as_str(), value))
    }

    /// All per-type metadata, sorted by MIME type.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.metadata.iter().map(|(mime, value)| (mime.as_str(), value))
    }
}

/// Several bundles as one, in order: their `text/plain` joined by lines, and their HTML (or SVG, or the text in a
/// `<pre>`) one after another. What a front end that shows one value per cell (evcxr) makes of a cell's reports.
pub fn combine(bundles: &[MimeBundle]) -> MimeBundle {
    let plain: Vec<&str> = bundles.iter().map(MimeBundle::text_plain).collect();
    let html: Vec<String> = bundles
        .iter()
        .map(|bundle| match (bundle.get("text/html"), bundle.get("image/svg+xml")) {
            (Some(Value::String(html)), _) => html.clone(),
            (None, Some(Value::String(svg))) => svg.clone(),
            _ => format!("<pre>{}</pre>", escape_html(bundle.text_plain())),
        })
        .collect();
    MimeBundle::text(plain.join("\n")).with_html(format!("<div>{}</div>", html.join("\n")))
}

/// Escapes text for HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Encodes PNG bytes as standard base64, the form `image/png` takes in a Jupyter bundle.
pub fn base64_png(png: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(png)
}

/// Width and height from a PNG's IHDR chunk, or `None` if the bytes are not a PNG.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || !png.starts_with(SIGNATURE) || &png[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_escape(input: &str, expected: &str) {
        assert_eq!(escape_html(input), expected, "escaping {input:?}");
    }

    #[test]
    fn html_escaping_neutralises_markup_and_quotes() {
        check_escape("plain", "plain");
        check_escape("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
        check_escape("a & b", "a &amp; b");
        check_escape("\"x\" 'y'", "&quot;x&quot; &#39;y&#39;");
        check_escape("ÅTL03 ✓", "ÅTL03 ✓");
    }

    #[test]
    fn base64_png_uses_the_standard_alphabet_with_padding() {
        assert_eq!(base64_png(b""), "");
        assert_eq!(base64_png(b"\x89PNG"), "iVBORw==");
        assert_eq!(base64_png(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn png_size_reads_the_ihdr_chunk_and_rejects_other_bytes() {
        let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        header.extend_from_slice(&64u32.to_be_bytes());
        header.extend_from_slice(&32u32.to_be_bytes());
        assert_eq!(png_size(&header), Some((64, 32)));
        assert_eq!(png_size(b"GIF89a"), None);
        assert_eq!(png_size(&header[..20]), None);
    }

    #[test]
    fn every_bundle_keeps_text_plain_and_wraps_non_object_json() {
        let bundle = MimeBundle::text("t").with_json(serde_json::json!([1, 2]));
        assert_eq!(bundle.text_plain(), "t");
        assert_eq!(bundle.get("application/json"), Some(&serde_json::json!({ "value": [1, 2] })));
        let mimes: Vec<&str> = bundle.data().map(|(mime, _)| mime).collect();
        assert_eq!(mimes, ["application/json", "text/plain"]);
    }

    #[test]
    fn png_bundles_carry_their_size_as_metadata() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 3]);
        let bundle = MimeBundle::text("image").with_png(&png);
        let metadata: Vec<(&str, &Value)> = bundle.metadata().collect();
        assert_eq!(metadata, [("image/png", &serde_json::json!({ "width": 2, "height": 3 }))]);
    }
}
