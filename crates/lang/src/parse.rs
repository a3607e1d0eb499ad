//! The grammar (nom 8): cell text → [`Ast`] plus diagnostics. Never panics and never fails: a statement
//! with a syntax error is left out of the tree and reported, and the others are still parsed.
//!
//! Statements end at `;` or at a line break, unless the next line is indented or a parenthesis is open,
//! so a long `subset` can span several lines. The full grammar, in EBNF, is in `docs/LANGUAGE.md`.

// A syntax error ends the statement, so the size of the error value never matters for speed.
#![allow(clippy::result_large_err)]

use nom::IResult;
use nom::error::{ErrorKind, ParseError};

use crate::ast::{Arg, ArgKind, Ast, Clause, ClauseValue, Command, Statement, Term, TermKind};
use crate::diagnostic::{Diagnostic, Stage};
use crate::keyword::{CLAUSES, ClauseName, Form, VERBS, Verb, nearest};
use crate::lex;
use crate::span::{Span, Spanned};

/// How deeply parentheses (and `url`/`curl` prefixes) may nest in one statement. The parser recurses once
/// per level, so without a bound a pasted line of 10,000 `(` overflows the stack and takes the kernel down;
/// real requests need three (a polygon with holes in `wkt`), so 32 leaves room and keeps parse, check and
/// drop within a few hundred kilobytes of stack even in debug builds.
pub const MAX_NESTING: usize = 32;

/// The largest cell parsed, in bytes (2 MiB). Parsing and checking take memory in proportion to the text
/// (about 100 bytes per byte for a run of repeated clauses), so a pasted 20 MB blob would take a notebook
/// kernel to gigabytes; no real cell comes near this, and data belongs in files (`shape`, `open`).
pub const MAX_CELL_BYTES: usize = 2 * 1024 * 1024;

/// What parsing a cell gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The statements that parsed.
    pub ast: Ast,
    /// Syntax errors, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the text ended in the middle of a construct (open parenthesis or string, a clause
    /// waiting for its value): typing more could make it right.
    pub incomplete: bool,
}

/// Parses a cell.
///
/// ```
/// use harmonyql_lang::parse::parse;
/// let parsed = parse("subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)");
/// assert!(parsed.diagnostics.is_empty());
/// assert_eq!(parsed.ast.statements.len(), 1);
/// assert!(parse("subset ATL03 bbox(1, 2").incomplete);
/// ```
pub fn parse(cell: &str) -> Parsed {
    let mut parsed = Parsed::default();
    if cell.len() > MAX_CELL_BYTES {
        let mut limit = MAX_CELL_BYTES;
        while !cell.is_char_boundary(limit) {
            limit -= 1;
        }
        let diagnostic = Diagnostic::error(
            "cell-too-large",
            format!("this cell is {} bytes; the limit is {MAX_CELL_BYTES}", cell.len()),
            Span::at(limit),
        )
        .with_label("the limit is passed here")
        .with_hint("split it into smaller cells; a long outline belongs in a shape file: `shape(\"area.geojson\")`");
        parsed.diagnostics.push(diagnostic);
        return parsed;
    }
    for range in split_statements(cell) {
        let parser = Parser::new(cell);
        match parser.statement(&cell[range.clone()]) {
            Ok(statement) => parsed.ast.statements.push(statement),
            Err(failure) => {
                parsed.incomplete |= failure.incomplete;
                let mut diagnostic = failure.into_diagnostic(cell);
                if let Some(words) = login_words(cell, range) {
                    diagnostic = concealed_login_error(diagnostic, words);
                }
                parsed.diagnostics.push(diagnostic.in_stage(Stage::Parse));
            }
        }
    }
    parsed
}

/// Parses `KEYWORD(arguments)` on its own, such as the text of `wkt("POLYGON((…))")`.
/// Spans in the result are offsets into `text`.
pub fn parse_call(text: &str) -> Result<(String, Vec<Arg>), Diagnostic> {
    let parser = Parser::new(text);
    let start = parser.blank(text);
    let (rest, keyword) = lex::ident(start).map_err(|_| {
        Diagnostic::error(
            "expected-keyword",
            format!("expected a keyword, found {}", describe_next(start)),
            Span::new(0, text.len()),
        )
    })?;
    let open = parser.blank(rest);
    if !open.starts_with('(') {
        return Err(Diagnostic::error(
            "expected-paren",
            format!("expected `(` after `{keyword}`"),
            Span::new(0, text.len()),
        ));
    }
    let (rest, args) = parser.args(open, keyword).map_err(|error| unwrap_failure(error).into_diagnostic(text))?;
    if !parser.blank(rest).is_empty() {
        return Err(Diagnostic::error(
            "unexpected-text",
            format!("unexpected {} after `{keyword}(…)`", describe_next(rest)),
            Span::new(0, text.len()),
        ));
    }
    Ok((keyword.to_owned(), args))
}

/// Splits a cell into statement byte ranges: at `;` and at line breaks outside parentheses and strings,
/// except before an indented line. Blank and comment-only statements are dropped.
pub fn split_statements(cell: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let mut chars = cell.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if in_comment {
            if c != '\n' {
                continue;
            }
            in_comment = false;
        }
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '#' => in_comment = true,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                ranges.push(start..index);
                start = index + 1;
            }
            '\n' if depth == 0 => {
                let next_line = &cell[index + 1..];
                let continues = next_line.starts_with([' ', '\t'])
                    && !next_line.split('\n').next().unwrap_or("").trim().is_empty()
                    && !next_line.trim_start().starts_with('#');
                if !continues {
                    ranges.push(start..index);
                    start = index + 1;
                }
            }
            _ => {}
        }
    }
    ranges.push(start..cell.len());
    ranges
        .into_iter()
        .filter(|range| {
            let text = &cell[range.clone()];
            lex::blank(text).map(|(rest, _)| !rest.trim().is_empty()).unwrap_or(true)
        })
        .collect()
}

/// The words after the keyword of a `login` statement (`[NAME =] login …`), which may be a pasted password
/// or token.
fn login_words(cell: &str, range: std::ops::Range<usize>) -> Option<Span> {
    let blank = |text: &'_ str| -> usize { lex::blank(text).map_or(0, |(rest, _)| text.len() - rest.len()) };
    let text = &cell[range.clone()];
    let mut at = blank(text);
    let (rest, word) = lex::ident(&text[at..]).ok()?;
    let mut keyword = word;
    let mut after = text.len() - rest.len();
    let next = after + blank(rest);
    if text[next..].starts_with('=') && !text[next..].starts_with("==") {
        at = next + 1;
        at += blank(&text[at..]);
        let (rest, word) = lex::ident(&text[at..]).ok()?;
        keyword = word;
        after = text.len() - rest.len();
    }
    keyword.eq_ignore_ascii_case("login").then(|| Span::new(range.start + after, range.end))
}

/// A syntax error in a `login` statement says what is wrong without quoting the words, and its caret line
/// shows them as `*`: `login token SECRET` must not print the secret back.
fn concealed_login_error(diagnostic: Diagnostic, words: Span) -> Diagnostic {
    let mut concealed = Diagnostic::error(
        diagnostic.code,
        "this `login` statement cannot be read (its words are not repeated here, in case one is a secret)",
        diagnostic.span,
    )
    .with_concealed(words)
    .with_hint(format!(
        "usage: {}; passwords and tokens are asked for, never typed into a cell",
        Verb::Login.info().usage
    ));
    concealed.severity = diagnostic.severity;
    concealed
}

/// A syntax error while parsing, before it becomes a [`Diagnostic`].
#[derive(Debug)]
struct Failure<'a> {
    at: &'a str,
    len: usize,
    code: &'static str,
    message: String,
    label: Option<String>,
    hints: Vec<String>,
    fix: Option<String>,
    /// The input ended inside the construct: more text could complete it.
    incomplete: bool,
}

impl<'a> Failure<'a> {
    fn new(at: &'a str, len: usize, code: &'static str, message: impl Into<String>) -> Self {
        let incomplete = at.trim().is_empty();
        Failure { at, len, code, message: message.into(), label: None, hints: Vec::new(), fix: None, incomplete }
    }

    fn incomplete(mut self) -> Self {
        self.incomplete = true;
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    fn fix(mut self, replacement: impl Into<String>) -> Self {
        self.fix = Some(replacement.into());
        self
    }

    fn into_diagnostic(self, cell: &str) -> Diagnostic {
        let start = offset(cell, self.at);
        let span = Span::new(start, (start + self.len).min(cell.len()));
        let mut diagnostic = Diagnostic::error(self.code, self.message, span);
        diagnostic.label = self.label;
        diagnostic.hints = self.hints;
        if let Some(replacement) = self.fix {
            diagnostic = diagnostic.with_fix(span, replacement);
        }
        diagnostic
    }
}

impl<'a> ParseError<&'a str> for Failure<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Failure::new(input, first_token_len(input), "syntax", format!("unexpected {}", describe_next(input)))
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, Failure<'a>>;

fn fail<'a, T>(failure: Failure<'a>) -> PResult<'a, T> {
    Err(nom::Err::Failure(failure))
}

/// Byte offset of `piece` (a slice of `cell`, possibly empty at its end) in `cell`.
fn offset(cell: &str, piece: &str) -> usize {
    (piece.as_ptr() as usize).saturating_sub(cell.as_ptr() as usize).min(cell.len())
}

fn first_token_len(input: &str) -> usize {
    match input.chars().next() {
        None => 0,
        Some(c) if lex::is_word_char(c) => input.find(|c: char| !lex::is_word_char(c)).unwrap_or(input.len()),
        Some(c) => c.len_utf8(),
    }
}

fn describe_next(input: &str) -> String {
    match input.chars().next() {
        None => "end of input".to_owned(),
        Some(c) if lex::is_word_char(c) => format!("`{}`", &input[..first_token_len(input)]),
        Some(c) => format!("`{c}`"),
    }
}

struct Parser<'a> {
    cell: &'a str,
    /// How many `(` and `url`/`curl` prefixes enclose the current position (see [`MAX_NESTING`]).
    depth: std::cell::Cell<usize>,
}

impl<'a> Parser<'a> {
    fn new(cell: &'a str) -> Self {
        Parser { cell, depth: std::cell::Cell::new(0) }
    }

    /// Runs `inner` one nesting level deeper, or refuses at `at` (the `(` or prefix that opens the level)
    /// when that would pass [`MAX_NESTING`]. Every recursive rule goes through here, so the stack stays
    /// bounded whatever the input.
    fn nested<T>(&self, at: &'a str, len: usize, inner: impl FnOnce() -> PResult<'a, T>) -> PResult<'a, T> {
        if self.depth.get() >= MAX_NESTING {
            return fail(
                Failure::new(at, len, "too-deep", format!("nesting deeper than {MAX_NESTING} levels"))
                    .label("this level is one too many")
                    .hint("requests need only a few levels of parentheses; check for a pasted run of `(` or `url`"),
            );
        }
        self.depth.set(self.depth.get() + 1);
        let result = inner();
        self.depth.set(self.depth.get() - 1);
        result
    }

    fn span(&self, from: &'a str, to: &'a str) -> Span {
        Span::new(offset(self.cell, from), offset(self.cell, to))
    }

    fn blank(&self, input: &'a str) -> &'a str {
        lex::blank(input).map(|(rest, _)| rest).unwrap_or(input)
    }

    /// statement = [ ident "=" ] command
    fn statement(&self, text: &'a str) -> Result<Statement, Failure<'a>> {
        let start = self.blank(text);
        let mut input = start;
        let mut binding = None;
        if let Ok((rest, name)) = lex::ident(input) {
            let after = self.blank(rest);
            if after.starts_with('=') && !after.starts_with("==") {
                if Verb::from_keyword(name).is_some() {
                    return Err(Failure::new(
                        input,
                        name.len(),
                        "keyword-as-name",
                        format!("`{name}` is a keyword and cannot be a name"),
                    )
                    .hint(format!("choose another name, e.g. `{name}_1 = …`")));
                }
                binding = Some(Spanned::new(name.to_owned(), self.span(input, rest)));
                input = self.blank(&after[1..]);
                if input.is_empty() {
                    return Err(Failure::new(
                        input,
                        0,
                        "expected-statement",
                        format!("expected a statement after `{name} =`"),
                    )
                    .hint("e.g. `job = subset ATL03 bbox(-105.5, 40, -105, 41)`"));
                }
            }
        }
        let (rest, command) = self.command(input, binding.is_some()).map_err(unwrap_failure)?;
        let rest = self.blank(rest);
        if !rest.is_empty() {
            return Err(self.unexpected_after(rest, &command));
        }
        let span = self.span(start, rest).to(command.span);
        Ok(Statement { span: Span::new(offset(self.cell, start), span.end), binding, command })
    }

    fn unexpected_after(&self, rest: &'a str, command: &Command) -> Failure<'a> {
        let verb = command.inner.as_ref().map_or(command.verb.node, |inner| inner.verb.node);
        let message = format!("unexpected {} after the `{}` statement", describe_next(rest), verb.info().name);
        let mut failure = Failure::new(rest, first_token_len(rest).max(1), "unexpected-text", message);
        if rest.starts_with(')') {
            failure = failure.label("no `(` is open here").fix("");
        } else if rest.starts_with(',') {
            failure = failure.label("commas separate arguments inside parentheses only");
        }
        failure
    }

    /// command = verb { positional | clause }   |   ("url" | "curl") command   |   ident
    fn command(&self, input: &'a str, bound: bool) -> PResult<'a, Command> {
        let start = input;
        let (mut rest, verb_word) = match lex::ident(input) {
            Ok(found) => found,
            Err(_) => {
                return fail(
                    Failure::new(
                        input,
                        first_token_len(input).max(1),
                        "expected-statement",
                        format!("expected a statement, found {}", describe_next(input)),
                    )
                    .hint("statements start with a keyword such as `subset`, `capabilities`, `wait` or `help`"),
                );
            }
        };
        let mut verb_end = rest;
        let verb = match Verb::from_keyword(verb_word) {
            Some(verb) => verb,
            None if verb_word.eq_ignore_ascii_case("skip") => {
                let after = self.blank(rest);
                match lex::ident(after) {
                    Ok((after_word, word)) if word.eq_ignore_ascii_case("preview") => {
                        rest = after_word;
                        verb_end = after_word;
                        Verb::SkipPreview
                    }
                    _ => {
                        return fail(
                            Failure::new(
                                start,
                                verb_word.len(),
                                "unknown-statement",
                                "`skip` must be followed by `preview`",
                            )
                            .fix("skip preview"),
                        );
                    }
                }
            }
            None => {
                let after = self.blank(rest);
                if after.is_empty() && !bound {
                    let span = self.span(start, rest);
                    let verb = Spanned::new(Verb::Show, Span::at(span.start));
                    let name = Spanned::new(TermKind::Word(verb_word.to_owned()), span);
                    return Ok((rest, Command { span, verb, args: vec![name], clauses: Vec::new(), inner: None }));
                }
                let mut failure = Failure::new(
                    start,
                    verb_word.len(),
                    "unknown-statement",
                    format!("unknown statement `{verb_word}`"),
                );
                if let Some(best) = nearest(verb_word, VERBS.iter().map(|info| info.name)) {
                    failure = failure.label(format!("did you mean `{best}`?")).fix(best);
                } else {
                    failure = failure.hint("`help` lists the statements");
                }
                return fail(failure);
            }
        };
        let verb = Spanned::new(verb, self.span(start, verb_end));
        if matches!(verb.node, Verb::Url | Verb::Curl) {
            let inner_start = self.blank(rest);
            if inner_start.is_empty() {
                return fail(
                    Failure::new(
                        inner_start,
                        0,
                        "expected-statement",
                        format!("`{}` needs a statement to show", verb_word),
                    )
                    .hint(format!("e.g. `{} subset ATL03 bbox(-105.5, 40, -105, 41)`", verb_word.to_ascii_lowercase())),
                );
            }
            let (rest, inner) = self.nested(start, verb_word.len(), || self.command(inner_start, bound))?;
            let span = self.span(start, rest);
            return Ok((
                rest,
                Command { span, verb, args: Vec::new(), clauses: Vec::new(), inner: Some(Box::new(inner)) },
            ));
        }
        let mut args = Vec::new();
        let mut clauses = Vec::new();
        loop {
            let item = self.blank(rest);
            if item.is_empty() || item.starts_with([')', ',', '=']) {
                rest = item;
                break;
            }
            if let Some((after_name, name)) = self.clause_name(item, verb.node) {
                let (after, clause) = self.clause(item, after_name, name)?;
                clauses.push(clause);
                rest = after;
                continue;
            }
            let positional_allowed = clauses.is_empty() && args.len() < max_positional(verb.node);
            if !positional_allowed {
                return fail(self.unknown_clause(item, verb.node));
            }
            let (after, term) = self.term(item)?;
            args.push(term);
            rest = after;
        }
        let span = self.span(start, rest);
        Ok((rest, Command { span, verb, args, clauses, inner: None }))
    }

    fn unknown_clause(&self, item: &'a str, verb: Verb) -> Failure<'a> {
        let word_len = lex::word(item).map(|(_, w)| w.len()).unwrap_or(first_token_len(item).max(1));
        let allowed: Vec<&str> = verb.clauses().iter().map(|clause| clause.info().keyword).collect();
        if allowed.is_empty() {
            return Failure::new(
                item,
                word_len,
                "unexpected-text",
                format!("unexpected {} after the `{}` statement", describe_next(item), verb.info().name),
            )
            .hint(format!("usage: {}", verb.info().usage));
        }
        let word = &item[..word_len];
        let mut failure = Failure::new(
            item,
            word_len,
            "unknown-clause",
            format!("`{}` does not take {}", verb.info().name, describe_clause_word(word)),
        );
        let synonym = synonym(word).filter(|s| allowed.contains(s));
        if let Some(best) = synonym.or_else(|| nearest(word, allowed.iter().copied())) {
            failure = failure.label(format!("did you mean `{best}`?")).fix(best);
        } else {
            failure = failure.hint(format!("`{}` takes: {}", verb.info().name, allowed.join(", ")));
        }
        failure
    }

    /// The clause keyword at `input` valid for `verb` (one word, or two words such as `skip preview`).
    fn clause_name(&self, input: &'a str, verb: Verb) -> Option<(&'a str, ClauseName)> {
        let (rest, first) = lex::ident(input).ok()?;
        let allowed = verb.clauses();
        if rest.starts_with(|c: char| lex::is_word_char(c) && c != '.') || rest.starts_with("..") {
            return None;
        }
        let after_blank = self.blank(rest);
        if let Ok((after_second, second)) = lex::ident(after_blank)
            && after_blank.len() < rest.len()
        {
            let joined = format!("{first}_{second}");
            if let Some(name) = ClauseName::from_keyword(&joined).filter(|name| allowed.contains(name)) {
                return Some((after_second, name));
            }
        }
        ClauseName::from_keyword(first).filter(|name| allowed.contains(name)).map(|name| (rest, name))
    }

    /// clause = name "(" args ")" | name term | name [ "true" | "false" ]
    fn clause(&self, start: &'a str, after_name: &'a str, name: ClauseName) -> PResult<'a, Clause> {
        let info = name.info();
        let name_span = self.span(start, after_name);
        let (rest, value) = match info.form {
            Form::Call => {
                let open = self.blank(after_name);
                if !open.starts_with('(') {
                    let found = describe_next(open);
                    return fail(
                        Failure::new(
                            open,
                            first_token_len(open),
                            "expected-paren",
                            format!("`{}` expects `(` after it, found {found}", info.keyword),
                        )
                        .hint(format!("write {}", info.usage)),
                    );
                }
                let (rest, args) = self.args(open, info.keyword)?;
                (rest, ClauseValue::Call(args))
            }
            Form::Value => {
                let value = self.blank(after_name);
                if value.is_empty() || value.starts_with([';', ')', ',']) {
                    return fail(
                        Failure::new(
                            value,
                            first_token_len(value),
                            "expected-value",
                            format!("`{}` expects a value, found {}", info.keyword, describe_next(value)),
                        )
                        .hint(format!("write {}", info.usage)),
                    );
                }
                let (rest, term) = self.term(value)?;
                (rest, ClauseValue::Value(term))
            }
            Form::Flag => {
                let value = self.blank(after_name);
                match lex::ident(value) {
                    Ok((rest, word)) if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") => {
                        let flag = Spanned::new(word.eq_ignore_ascii_case("true"), self.span(value, rest));
                        (rest, ClauseValue::Flag(Some(flag)))
                    }
                    _ => (after_name, ClauseValue::Flag(None)),
                }
            }
        };
        let span = self.span(start, rest);
        Ok((rest, Clause { span, name: Spanned::new(name, name_span), value }))
    }

    /// args = "(" [ arg { "," arg } ] ")"
    fn args(&self, open: &'a str, owner: &str) -> PResult<'a, Vec<Arg>> {
        self.nested(open, 1, || self.args_inside(open, owner))
    }

    /// The arguments after the `(` at `open`, through the matching `)`.
    fn args_inside(&self, open: &'a str, owner: &str) -> PResult<'a, Vec<Arg>> {
        let mut input = self.blank(&open[1..]);
        let mut args = Vec::new();
        if let Some(rest) = input.strip_prefix(')') {
            return Ok((rest, args));
        }
        loop {
            let (rest, arg) = self.arg(input, open, owner)?;
            args.push(arg);
            let rest = self.blank(rest);
            if let Some(rest) = rest.strip_prefix(',') {
                input = self.blank(rest);
                continue;
            }
            if let Some(rest) = rest.strip_prefix(')') {
                return Ok((rest, args));
            }
            if rest.is_empty() {
                return fail(
                    Failure::new(open, 1, "unclosed-paren", format!("unclosed `(` in `{owner}`"))
                        .label("this `(` is never closed")
                        .hint("add `)` at the end of the arguments")
                        .incomplete(),
                );
            }
            return fail(
                Failure::new(
                    rest,
                    first_token_len(rest).max(1),
                    "expected-comma",
                    format!("expected `,` or `)` in `{owner}`, found {}", describe_next(rest)),
                )
                .hint("separate arguments with commas"),
            );
        }
    }

    /// arg = [ term ] ".." [ term ] | term { term }
    fn arg(&self, input: &'a str, open: &'a str, owner: &str) -> PResult<'a, Arg> {
        let start = input;
        let mut terms = Vec::new();
        let mut rest = input;
        loop {
            let next = self.blank(rest);
            if next.is_empty() {
                return fail(
                    Failure::new(open, 1, "unclosed-paren", format!("unclosed `(` in `{owner}`"))
                        .label("this `(` is never closed")
                        .hint("add `)` at the end of the arguments")
                        .incomplete(),
                );
            }
            if next.starts_with([',', ')']) || next.starts_with("..") {
                break;
            }
            let (after, term) = self.term(next)?;
            terms.push(term);
            rest = after;
        }
        let next = self.blank(rest);
        if let Some(after_dots) = next.strip_prefix("..") {
            if terms.len() > 1 {
                return fail(Failure::new(
                    start,
                    start.len() - next.len(),
                    "bad-range",
                    "a range has one value on each side of `..`",
                ));
            }
            let stop_input = self.blank(after_dots);
            let (rest, stop) = if stop_input.starts_with([',', ')']) || stop_input.is_empty() {
                (after_dots, None)
            } else {
                let (rest, term) = self.term(stop_input)?;
                (rest, Some(term))
            };
            let span = self.span(start, rest);
            return Ok((rest, Arg { span, kind: ArgKind::Range(terms.pop(), stop) }));
        }
        if terms.is_empty() {
            return fail(
                Failure::new(
                    next,
                    first_token_len(next).max(1),
                    "expected-value",
                    format!("expected a value in `{owner}`, found {}", describe_next(next)),
                )
                .hint("remove the extra comma, or put a value there"),
            );
        }
        let span = self.span(start, rest);
        Ok((rest, Arg { span, kind: ArgKind::Terms(terms) }))
    }

    /// term = "(" args ")" | string | datetime | number | word
    fn term(&self, input: &'a str) -> PResult<'a, Term> {
        if input.starts_with('(') {
            let (rest, args) = self.args(input, "(")?;
            return Ok((rest, Spanned::new(TermKind::Group(args), self.span(input, rest))));
        }
        if input.starts_with(['"', '\'']) {
            return match lex::string(input) {
                Ok((rest, Some(text))) => Ok((rest, Spanned::new(TermKind::Str(text), self.span(input, rest)))),
                _ => fail(
                    Failure::new(input, 1, "unclosed-string", "unclosed string")
                        .label("this quote is never closed")
                        .hint(format!("end the string with {}", &input[..1]))
                        .incomplete(),
                ),
            };
        }
        if let Ok((rest, text)) = lex::datetime(input) {
            return Ok((rest, Spanned::new(TermKind::DateTime(text.to_owned()), self.span(input, rest))));
        }
        if let Ok((rest, text)) = lex::number(input) {
            return Ok((rest, Spanned::new(TermKind::Number(text.to_owned()), self.span(input, rest))));
        }
        if let Ok((rest, text)) = lex::word(input) {
            return Ok((rest, Spanned::new(TermKind::Word(text.to_owned()), self.span(input, rest))));
        }
        fail(Failure::new(
            input,
            first_token_len(input).max(1),
            "unexpected-character",
            format!("unexpected {}", describe_next(input)),
        ))
    }
}

fn unwrap_failure(error: nom::Err<Failure<'_>>) -> Failure<'_> {
    match error {
        nom::Err::Error(failure) | nom::Err::Failure(failure) => failure,
        nom::Err::Incomplete(_) => Failure::new("", 0, "syntax", "unexpected end of input"),
    }
}

/// How many positional arguments a verb takes before its clauses.
fn max_positional(verb: Verb) -> usize {
    match verb {
        Verb::Logout | Verb::Jobs | Verb::Labels | Verb::Clear => 0,
        Verb::Set | Verb::Login | Verb::Results | Verb::Download | Verb::Plot => 2,
        _ => 1,
    }
}

/// Words users reach for that mean one of our clauses.
fn synonym(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "variables" | "variable" | "var" | "parameter" | "parameters" => "vars",
        "temporal" | "dates" | "date" | "datetime" => "time",
        "spatial" | "box" | "boundingbox" => "bbox",
        "granules" | "granule_ids" => "granule",
        "max_results" | "maxresults" | "max" | "count" => "limit",
        "outputcrs" | "projection" | "reproject" | "srs" => "crs",
        "output" | "fmt" | "as" => "format",
        "labels" | "tag" | "tags" => "label",
        "shapefile" | "geojson" | "kml" => "shape",
        "dimension" | "dimensions" => "dim",
        _ => return None,
    })
}

fn describe_clause_word(word: &str) -> String {
    if CLAUSES.iter().any(|info| info.keyword.eq_ignore_ascii_case(word)) {
        format!("the clause `{word}`")
    } else {
        format!("`{word}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ok(cell: &str, source: &str) {
        let parsed = parse(cell);
        assert!(parsed.diagnostics.is_empty(), "{cell}: {:?}", parsed.diagnostics);
        assert_eq!(parsed.ast.to_source().trim_end(), source, "{cell}");
    }

    fn check_error(cell: &str, expected: &str) {
        let parsed = parse(cell);
        assert!(!parsed.diagnostics.is_empty(), "{cell} parsed");
        let rendered: Vec<String> = parsed.diagnostics.iter().map(|d| d.render_plain(cell, "cell")).collect();
        assert_eq!(rendered.join(""), expected, "{cell}");
    }

    #[test]
    fn tutorial_lines_parse() {
        check_ok("capabilities ATL03", "capabilities ATL03");
        check_ok("capabilities C2596864127-NSIDC_CPRD version 2", "capabilities C2596864127-NSIDC_CPRD version 2");
        check_ok(
            "subset ATL03 bbox(-105.5,40,-105,41) time(2020-04-27..2020-05-28)",
            "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)",
        );
        check_ok(
            "subset SPL2SMP vars(Soil_Moisture_Retrieval_Data/landcover_class) limit 1 format geotiff",
            "subset SPL2SMP vars(Soil_Moisture_Retrieval_Data/landcover_class) limit 1 format geotiff",
        );
        check_ok(
            "subset SPL3SMP granule(SMAP_L3_SM_P_20231212_R19240_001.h5) bbox(-93,30,-77,45) vars(Soil_Moisture_Retrieval_Data_AM/soil_moisture) crs EPSG:4326 format geotiff",
            "subset SPL3SMP granule(SMAP_L3_SM_P_20231212_R19240_001.h5) bbox(-93, 30, -77, 45) vars(Soil_Moisture_Retrieval_Data_AM/soil_moisture) crs EPSG:4326 format geotiff",
        );
        check_ok(
            "subset SPL4CMDL granule(SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5) vars(NEE/nee_mean, RH/rh_mean, SOC/soc_mean) format geotiff",
            "subset SPL4CMDL granule(SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5) vars(NEE/nee_mean, RH/rh_mean, SOC/soc_mean) format geotiff",
        );
        check_ok("url subset ATL03 bbox(1,2,3,4)", "url subset ATL03 bbox(1, 2, 3, 4)");
        check_ok("curl capabilities ATL03", "curl capabilities ATL03");
    }

    #[test]
    fn statements_split_on_lines_semicolons_and_continue_when_indented() {
        let cell = "env local # the local Harmony\njob = subset ATL03\n    bbox(-105.5, 40,\n-105, 41)\n  time(2020-04-27 ..)\nwait job; status";
        check_ok(
            cell,
            "env local\njob = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 ..)\nwait job\nstatus",
        );
    }

    #[test]
    fn clauses_of_every_form() {
        check_ok(
            "subset C1-PROV point(-40 10) skip preview ignore_errors false concatenate true dim(lev, 10 .. 20) dim(foo, .. 20.5) granule_name(\"abc*123\", ab?d123) label(one, two) destination s3://bucket/p",
            "subset C1-PROV point(-40 10) skip_preview ignore_errors false concatenate true dim(lev, 10 .. 20) dim(foo, .. 20.5) granule_name(\"abc*123\", ab?d123) label(one, two) destination s3://bucket/p",
        );
        check_ok(
            "subset C1-PROV polygon((-140 20, -50 20, -50 60, -140 60, -140 20))",
            "subset C1-PROV polygon((-140 20, -50 20, -50 60, -140 60, -140 20))",
        );
        check_ok("results job s3 page 2 limit 5", "results job s3 page 2 limit 5");
        check_ok("download job to \"data dir\" overwrite", "download job to \"data dir\" overwrite");
        check_ok("labels add(foo, bar) to (j1, j2)", "labels add(foo, bar) to (j1, j2)");
        check_ok("skip preview job", "skip preview job");
        check_ok("job", "job");
        check_ok("print \"hello, world\"", "print \"hello, world\"");
        check_ok("open files group gt1l/heights", "open files group gt1l/heights");
    }

    #[test]
    fn unknown_clause_suggests_the_nearest() {
        check_error(
            "subset ATL03 bbx(1,2,3,4)",
            "error[unknown-clause]: `subset` does not take `bbx`\n --> cell:1:14\n  |\n1 | subset ATL03 bbx(1,2,3,4)\n  |              ^^^ did you mean `bbox`?\n",
        );
        let parsed = parse("subset ATL03 variables(a)");
        assert_eq!(parsed.diagnostics[0].fix.as_ref().unwrap().replacement, "vars");
    }

    #[test]
    fn unknown_statement_suggests_the_nearest() {
        let parsed = parse("subst ATL03");
        assert_eq!(parsed.diagnostics[0].code, "unknown-statement");
        assert_eq!(parsed.diagnostics[0].label.as_deref(), Some("did you mean `subset`?"));
    }

    #[test]
    fn unclosed_parenthesis_points_at_the_open_one_and_is_incomplete() {
        let parsed = parse("subset ATL03 bbox(1, 2");
        assert!(parsed.incomplete);
        assert_eq!(parsed.diagnostics[0].code, "unclosed-paren");
        assert_eq!(parsed.diagnostics[0].span, Span::new(17, 18));
    }

    #[test]
    fn incomplete_versus_invalid() {
        for cell in ["subset ATL03 limit", "subset ATL03 vars(a,", "print \"abc", "job =", "subset ATL03 bbox("] {
            assert!(parse(cell).incomplete, "{cell}");
        }
        for cell in ["subset ATL03 bbox(1,2,3,4))", "subst ATL03", "subset ATL03 bbox(1 2 , ,)"] {
            assert!(!parse(cell).incomplete, "{cell}");
            assert!(!parse(cell).diagnostics.is_empty(), "{cell}");
        }
    }

    #[test]
    fn one_bad_statement_does_not_lose_the_others() {
        let parsed = parse("help\nsubset ATL03 bbox(1,2,3,4))\nstatus");
        assert_eq!(parsed.ast.statements.len(), 2);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].code, "unexpected-text");
    }

    #[test]
    fn a_range_with_two_values_before_the_dots_is_an_error_not_a_panic() {
        // Found by the fuzzer: the span was computed backwards and overflowed.
        let parsed = parse("subset A dim(lev, 1 2 .. 3)");
        assert_eq!(parsed.diagnostics[0].code, "bad-range");
        assert_eq!(parsed.diagnostics[0].span, Span::new(18, 22));
    }

    /// Runs `f` on a thread with a small stack (512 KiB, less than the kernel's and the CLI's), so a
    /// parser that recurses once per `(` overflows here long before 10,000 levels.
    fn on_a_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(512 * 1024).spawn(f).unwrap().join().unwrap()
    }

    #[test]
    fn deep_nesting_is_refused_with_a_caret_not_a_stack_overflow() {
        for closed in [false, true] {
            let mut cell = "subset ATL03 bbox".to_owned() + &"(".repeat(10_000);
            if closed {
                cell.push_str(&")".repeat(10_000));
            }
            let text = cell.clone();
            let parsed = on_a_small_stack(move || {
                let parsed = parse(&text);
                let _ = crate::check::check(&parsed.ast, &crate::check::Scope::default());
                let _ = crate::assist::is_complete(&text);
                parsed
            });
            assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
            let diagnostic = &parsed.diagnostics[0];
            assert_eq!(diagnostic.code, "too-deep");
            // The caret is on the first `(` past the limit.
            let first_paren = cell.find('(').unwrap();
            assert_eq!(diagnostic.span, Span::new(first_paren + MAX_NESTING, first_paren + MAX_NESTING + 1));
            assert!(!parsed.incomplete, "more text cannot make it right");
        }
        // `url url url …` nests commands the same way.
        let cell = "url ".repeat(10_000) + "capabilities ATL03";
        let parsed = on_a_small_stack(move || parse(&cell));
        assert_eq!(parsed.diagnostics[0].code, "too-deep");
    }

    #[test]
    fn a_cell_over_the_size_limit_is_one_diagnostic_not_millions() {
        // A 20 MB cell of repeated clauses once cost the kernel ~2 GB: every clause a node, every repeat
        // an error. Past the limit nothing is parsed.
        let cell = "subset ATL03 ".to_owned() + &"limit 1 ".repeat(MAX_CELL_BYTES / 8 + 1);
        let parsed = parse(&cell);
        assert!(parsed.ast.statements.is_empty());
        assert_eq!(parsed.diagnostics.len(), 1);
        let diagnostic = &parsed.diagnostics[0];
        assert_eq!(diagnostic.code, "cell-too-large");
        assert_eq!(diagnostic.message, format!("this cell is {} bytes; the limit is {MAX_CELL_BYTES}", cell.len()));
        assert!(!parsed.incomplete);
        // Just under the limit, it still parses.
        let cell = "subset ATL03 ".to_owned() + &"limit 1 ".repeat((MAX_CELL_BYTES - 13) / 8);
        assert_eq!(parse(&cell).ast.statements.len(), 1);
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let depth = MAX_NESTING - 1; // the clause's own `(` is one level
        let cell = format!("subset A polygon({}1 2{})", "(".repeat(depth), ")".repeat(depth));
        let parsed = parse(&cell);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let cell = format!("subset A polygon({}1 2{})", "(".repeat(depth + 1), ")".repeat(depth + 1));
        assert_eq!(parse(&cell).diagnostics[0].code, "too-deep");
    }

    #[test]
    fn hostile_input_never_panics() {
        for cell in [
            "(",
            ")",
            "\"",
            "'",
            "..",
            "=",
            "a = b = c",
            "x(",
            "subset (",
            "subset A time(..)",
            "é = help",
            "\u{0}",
            "url",
            "url url",
            "#",
            ";;;",
            "skip",
        ] {
            let _ = parse(cell);
        }
    }
}
