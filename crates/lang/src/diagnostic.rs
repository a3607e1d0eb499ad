//! Diagnostics: what is wrong with the text, where, and how to fix it; rendered as plain text with a caret,
//! as ANSI-coloured text for terminals, and as HTML for notebooks, all from the same data.
//!
//! A diagnostic is data about the cell text; failures of operations (network, files) are errors elsewhere.

use std::fmt::Write as _;

use crate::span::{Span, line_col};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// About the other diagnostics, such as how many were left out; nothing is wrong at its span.
    Note,
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

/// How many diagnostics [`first_shown`] keeps for one text.
pub const MAX_SHOWN: usize = 20;

/// How many characters of a long line a rendering shows around the caret.
pub const LINE_WINDOW: usize = 120;

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
    /// Text that may be a secret (words typed after `login`): renderings show `*` in its place.
    pub conceal: Option<Span>,
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
            conceal: None,
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

    /// Hides `span` of the text in every rendering (each character becomes `*`), for words that may be a
    /// password or token; the message must not quote them either.
    pub fn with_concealed(mut self, span: Span) -> Self {
        self.conceal = Some(span);
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
        let colour = match self.severity {
            Severity::Error => "#b00020",
            Severity::Warning => "#8a6d00",
            Severity::Note => "#1f4e99",
        };
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
            Severity::Note => "note",
        }
    }

    /// The line to show and where the caret goes in it. A line longer than [`LINE_WINDOW`] characters is cut
    /// to a window around the caret, marked with `…` at each cut end, so a diagnostic costs the same on a
    /// 1 MB line as on a short one; the column in the header stays the real one.
    fn layout(&self, text: &str) -> Layout {
        let (line_number, column, range) = line_col(text, self.span.start);
        let line = &text[range.clone()];
        let line_chars = line.chars().count();
        let span_end = self.span.end.min(range.end).max(self.span.start);
        let caret_width = text[self.span.start.min(text.len())..span_end.min(text.len())].chars().count().max(1);
        let caret_column = column - 1;
        let (first, last) = if line_chars <= LINE_WINDOW {
            (0, line_chars)
        } else {
            let first = caret_column.saturating_sub(LINE_WINDOW / 3).min(line_chars - LINE_WINDOW);
            (first, first + LINE_WINDOW)
        };
        let mut line_text = String::new();
        if first > 0 {
            line_text.push('…');
        }
        let concealed = self.conceal.unwrap_or_default();
        let shown = line.char_indices().skip(first).take(last - first).map(|(at, c)| {
            let at = range.start + at;
            if concealed.start <= at && at < concealed.end {
                '*'
            } else if c == '\t' {
                ' '
            } else {
                c
            }
        });
        line_text.extend(shown);
        if last < line_chars {
            line_text.push('…');
        }
        let shown_column = caret_column - first + usize::from(first > 0);
        // The caret may not run past the window (a span over the whole 1 MB line).
        let caret_width = caret_width.min(last.saturating_sub(caret_column)).max(1);
        Layout { line_number: line_number.to_string(), column, line_text, caret_column: shown_column, caret_width }
    }

    fn render(&self, text: &str, origin: &str, palette: &Palette) -> String {
        let parts = self.layout(text);
        let gutter = " ".repeat(parts.line_number.len());
        let colour = match self.severity {
            Severity::Error => palette.error,
            Severity::Warning => palette.warning,
            Severity::Note => palette.blue,
        };
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

/// The diagnostics worth showing for one text, in order of position: the first [`MAX_SHOWN`], then one note
/// counting the rest. A pasted cell can hold thousands of the same mistake, and each rendering repeats its
/// line: showing them all once printed 190 MB for a 32 KB cell. Decide whether the text has errors before
/// calling this, from the full list.
pub fn first_shown(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| d.span.start);
    if diagnostics.len() <= MAX_SHOWN {
        return diagnostics;
    }
    let hidden = diagnostics.split_off(MAX_SHOWN);
    let errors = hidden.iter().filter(|d| d.is_error()).count();
    let warnings = hidden.len() - errors;
    let counted = |count: usize, word: &str| format!("{count} more {word}{}", if count == 1 { "" } else { "s" });
    let what = match (errors, warnings) {
        (0, w) => counted(w, "warning"),
        (e, 0) => counted(e, "error"),
        (e, w) => format!("{} and {}", counted(e, "error"), counted(w, "warning")),
    };
    let next = Span::at(hidden[0].span.start);
    diagnostics.push(Diagnostic {
        severity: Severity::Note,
        label: Some("the next one is here".to_owned()),
        hints: vec!["fix the ones above first: many often share one cause".to_owned()],
        ..Diagnostic::error("more-diagnostics", format!("… and {what} not shown"), next)
    });
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and checks `text` as `hq check` and the kernel do, and renders what they would show.
    fn show(text: &str) -> (Vec<Diagnostic>, String) {
        let parsed = crate::parse::parse(text);
        let checked = crate::check::check(&parsed.ast, &crate::check::Scope::default());
        let mut all = parsed.diagnostics;
        all.extend(checked.diagnostics);
        let shown = first_shown(all);
        let rendered = shown.iter().map(|d| d.render_plain(text, "cell") + &d.render_html(text)).collect();
        (shown, rendered)
    }

    #[test]
    fn thousands_of_errors_in_a_32_kb_cell_render_in_a_few_kilobytes() {
        // Once ~190 MB: 3,999 errors, each repeating the whole 32 KB line.
        let one_line = "subset ATL03 ".to_owned() + &"limit 1 ".repeat(4_000);
        let (shown, rendered) = show(&one_line);
        assert!(rendered.len() < 64 * 1024, "{} bytes", rendered.len());
        assert_eq!(shown.len(), MAX_SHOWN + 1);
        let last = shown.last().unwrap();
        assert_eq!(last.code, "more-diagnostics");
        assert_eq!(last.message, format!("… and {} more errors not shown", 3_999 - MAX_SHOWN));
        // The same on continuation lines: each error on its own line, and still bounded.
        let many_lines = "subset ATL03\n".to_owned() + &"  limit 1\n".repeat(4_000);
        let (shown, rendered) = show(&many_lines);
        assert!(rendered.len() < 64 * 1024, "{} bytes", rendered.len());
        assert!(rendered.contains("--> cell:21:3"), "the 20th error is on line 21");
        assert_eq!(shown.len(), MAX_SHOWN + 1);
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_caret() {
        let text = format!("{}subset ATL03 bbx(1,2,3,4){}", "x ".repeat(5_000), " y".repeat(5_000));
        let start = text.find("bbx").unwrap();
        let d = Diagnostic::error("unknown-clause", "unknown clause `bbx`", Span::new(start, start + 3));
        let rendered = d.render_plain(&text, "cell");
        assert!(rendered.len() < 1024, "{} bytes:\n{rendered}", rendered.len());
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[1], " --> cell:1:10014", "the column is still the real one");
        let source = lines[3];
        let caret = lines[4];
        assert!(source.starts_with("1 | …") && source.ends_with('…'), "{source}");
        // The caret sits under `bbx` in the window.
        let at = caret.find('^').unwrap();
        assert_eq!(&source[source.char_indices().nth(caret[..at].chars().count()).unwrap().0..][..3], "bbx");
        assert!(d.render_html(&text).len() < 2048);
    }

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
