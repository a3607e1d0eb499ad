//! Diagnostics: what is wrong with the text, where, and how to fix it; rendered as plain text with a caret,
//! as ANSI-coloured text for terminals, and as HTML for notebooks, all from the same data.
//!
//! A diagnostic is data about the cell text; failures of operations (network, files) are errors elsewhere.

use std::fmt::Write as _;

use crate::span::{Span, line_col};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; nothing is refused.
    Warning,
    /// The statement cannot run.
    Error,
}

/// The stage of running a cell that found a problem: front ends name errors after it (the kernel's `ename`), so
/// no front end keeps a list of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Stage {
    /// Reading the text: words, parentheses, strings, the grammar.
    Parse,
    /// Checking what the text means: names, ranges, values, harmony-py's rules.
    #[default]
    Check,
    /// Running a statement that was well-formed: Harmony, the network or a file said no.
    Run,
}

impl Stage {
    /// The error name a notebook shows for this stage (`SyntaxError`, `CheckError`, `HarmonyError`).
    pub fn error_name(self) -> &'static str {
        match self {
            Stage::Parse => "SyntaxError",
            Stage::Check => "CheckError",
            Stage::Run => "HarmonyError",
        }
    }
}

/// A replacement that fixes the problem, offered to the user (and to editors).
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// The text to replace.
    pub span: Span,
    /// What to put there.
    pub replacement: String,
}

/// A problem found in a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable, searchable code such as `unknown-clause`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Which stage found it.
    pub stage: Stage,
    /// What is wrong: lower-case start, no trailing period.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A short note shown under the caret.
    pub label: Option<String>,
    /// Things the user can do, each a sentence they can act on.
    pub hints: Vec<String>,
    /// An exact fix, when there is one.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// An error with `code` and `message` at `span`.
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            stage: Stage::default(),
            message: message.into(),
            span,
            label: None,
            hints: Vec::new(),
            fix: None,
        }
    }

    /// A warning with `code` and `message` at `span`.
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message, span) }
    }

    /// Says which stage found the problem (checking, unless told otherwise).
    pub fn in_stage(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// Adds the note shown under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Adds an exact fix, and a hint that shows it.
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix { span, replacement: replacement.into() });
        self
    }

    /// Whether this diagnostic stops the statement from running.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Plain text with the source line and a caret, e.g. for `hq check`; `origin` names the text (`cell`, a path).
    ///
    /// ```
    /// use harmonyql_lang::diagnostic::Diagnostic;
    /// use harmonyql_lang::span::Span;
    /// let d = Diagnostic::error("unknown-clause", "unknown clause `bbx`", Span::new(13, 16))
    ///     .with_label("did you mean `bbox`?");
    /// assert_eq!(d.render_plain("subset ATL03 bbx(1,2,3,4)", "cell"), "\
    /// error[unknown-clause]: unknown clause `bbx`
    ///  --> cell:1:14
    ///   |
    /// 1 | subset ATL03 bbx(1,2,3,4)
    ///   |              ^^^ did you mean `bbox`?
    /// ");
    /// ```
    pub fn render_plain(&self, text: &str, origin: &str) -> String {
        self.render(text, origin, &Palette::PLAIN)
    }

    /// Like [`Diagnostic::render_plain`] with ANSI colours, for terminals.
    pub fn render_ansi(&self, text: &str, origin: &str) -> String {
        self.render(text, origin, &Palette::ANSI)
    }

    /// The one-line `origin:line:col: severity: message` form, for logs and editors.
    pub fn render_short(&self, text: &str, origin: &str) -> String {
        let (line, column, _) = line_col(text, self.span.start);
        format!("{origin}:{line}:{column}: {}: {}", self.severity_word(), self.message)
    }

    /// An HTML rendering (escaped, no scripts) for notebooks.
    pub fn render_html(&self, text: &str) -> String {
        let parts = self.layout(text);
        let colour = if self.is_error() { "#b00020" } else { "#8a6d00" };
        let mut html = String::new();
        let _ = writeln!(
            html,
            "<div class=\"hq-diagnostic\"><pre style=\"margin:0\"><b style=\"color:{colour}\">{}[{}]</b><b>: {}</b>",
            self.severity_word(),
            self.code,
            escape_html(&self.message)
        );
        let _ = writeln!(html, "{} | {}", parts.line_number, escape_html(&parts.line_text));
        let _ = writeln!(
            html,
            "{} | {}<span style=\"color:{colour}\">{}{}</span>",
            " ".repeat(parts.line_number.len()),
            " ".repeat(parts.caret_column),
            "^".repeat(parts.caret_width),
            self.label.as_deref().map(|l| format!(" {}", escape_html(l))).unwrap_or_default()
        );
        for hint in &self.hints {
            let _ = writeln!(html, "<i>hint:</i> {}", escape_html(hint));
        }
        html.push_str("</pre></div>");
        html
    }

    fn severity_word(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    fn layout(&self, text: &str) -> Layout {
        let (line, column, range) = line_col(text, self.span.start);
        let line_text: String = text[range.clone()].chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
        let span_end = self.span.end.min(range.end).max(self.span.start);
        let caret_width = text[self.span.start.min(text.len())..span_end.min(text.len())].chars().count().max(1);
        Layout { line_number: line.to_string(), column, line_text, caret_column: column - 1, caret_width }
    }

    fn render(&self, text: &str, origin: &str, palette: &Palette) -> String {
        let parts = self.layout(text);
        let gutter = " ".repeat(parts.line_number.len());
        let colour = if self.is_error() { palette.error } else { palette.warning };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{colour}{}[{}]{}{}: {}{}",
            self.severity_word(),
            self.code,
            palette.reset,
            palette.bold,
            self.message,
            palette.reset
        );
        let _ = writeln!(
            out,
            "{gutter}{}-->{} {origin}:{}:{}",
            palette.blue, palette.reset, parts.line_number, parts.column
        );
        let _ = writeln!(out, "{gutter} {}|{}", palette.blue, palette.reset);
        let _ = writeln!(out, "{}{} |{} {}", palette.blue, parts.line_number, palette.reset, parts.line_text);
        let label = self.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{gutter} {}|{} {}{colour}{}{label}{}",
            palette.blue,
            palette.reset,
            " ".repeat(parts.caret_column),
            "^".repeat(parts.caret_width),
            palette.reset
        );
        for hint in &self.hints {
            let _ = writeln!(out, "{gutter} {}={} hint: {hint}", palette.blue, palette.reset);
        }
        out
    }
}

struct Layout {
    line_number: String,
    column: usize,
    line_text: String,
    caret_column: usize,
    caret_width: usize,
}

struct Palette {
    error: &'static str,
    warning: &'static str,
    blue: &'static str,
    bold: &'static str,
    reset: &'static str,
}

impl Palette {
    const PLAIN: Palette = Palette { error: "", warning: "", blue: "", bold: "", reset: "" };
    const ANSI: Palette =
        Palette { error: "\x1b[1;31m", warning: "\x1b[1;33m", blue: "\x1b[1;34m", bold: "\x1b[1m", reset: "\x1b[0m" };
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_span_on_the_right_line() {
        let text = "env local\nsubset ATL03 bbox(1, 2, 3)";
        let start = text.find("bbox").unwrap();
        let d = Diagnostic::error("bbox-arity", "bbox expected 4 numbers, found 3", Span::new(start, text.len()))
            .with_hint("write bbox(west, south, east, north)");
        insta::assert_snapshot!(d.render_plain(text, "x.hq"), @r"
        error[bbox-arity]: bbox expected 4 numbers, found 3
         --> x.hq:2:14
          |
        2 | subset ATL03 bbox(1, 2, 3)
          |              ^^^^^^^^^^^^^
          = hint: write bbox(west, south, east, north)
        ");
        assert_eq!(d.render_short(text, "x.hq"), "x.hq:2:14: error: bbox expected 4 numbers, found 3");
    }

    #[test]
    fn an_empty_span_at_the_end_still_gets_one_caret() {
        let d = Diagnostic::error("unclosed-paren", "unclosed `(`", Span::at(9));
        assert!(d.render_plain("bbox(1, 2", "cell").contains("|          ^\n"));
    }

    #[test]
    fn html_is_escaped() {
        let d = Diagnostic::error("x", "bad <b>", Span::new(0, 3));
        let html = d.render_html("<b>");
        assert!(html.contains("bad &lt;b&gt;") && html.contains("&lt;b&gt;") && !html.contains("<b>bad"));
    }
}
