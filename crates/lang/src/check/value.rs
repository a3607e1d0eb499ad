//! Checking values: formats, CRSs, destinations, labels, numbers, lists, choices, files and jobs.

use crate::ast::{Arg, ArgKind, Clause, Command, Term, TermKind};
use crate::diagnostic::Diagnostic;
use crate::keyword::{ClauseName, nearest};
use crate::query::*;
use crate::span::Span;

use super::{Checker, FORMATS, ValueKind, find_clause, single_term};

impl Checker {
    pub(super) fn crs(&mut self, term: &Term) -> Option<String> {
        let text = self.text(term, "a CRS")?;
        let upper = text.to_ascii_uppercase();
        if let Some(code) = upper.strip_prefix("EPSG:")
            && (code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            self.error(
                Diagnostic::error("bad-crs", format!("`{text}` is not an EPSG code"), term.span)
                    .with_hint("EPSG codes are digits, e.g. EPSG:4326"),
            );
            return None;
        }
        Some(text)
    }

    pub(super) fn format(&mut self, term: &Term) -> Option<String> {
        let text = self.text(term, "a format")?;
        if text.contains('/') {
            return Some(text);
        }
        let lower = text.to_ascii_lowercase();
        if let Some((_, mime)) = FORMATS.iter().find(|(name, _)| *name == lower) {
            return Some((*mime).to_owned());
        }
        let names: Vec<&str> = FORMATS.iter().map(|(name, _)| *name).collect();
        let mut diagnostic = Diagnostic::error("unknown-format", format!("unknown format `{text}`"), term.span)
            .with_hint(format!("known formats: {}; or give a MIME type such as image/tiff", names.join(", ")));
        if let Some(best) = nearest(&text, names.iter().copied()) {
            diagnostic = diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best);
        }
        self.error(diagnostic);
        None
    }

    pub(super) fn destination(&mut self, term: &Term) -> Option<String> {
        let text = self.text(term, "an S3 URL")?;
        if !text.starts_with("s3://") {
            let mut diagnostic = Diagnostic::error(
                "destination-not-s3",
                "the destination must be an S3 location (s3://bucket/path)",
                term.span,
            );
            if text.to_ascii_lowercase().starts_with("s3://") {
                diagnostic = diagnostic.with_fix(Span::new(term.span.start, term.span.start + 5), "s3://");
            }
            self.error(diagnostic);
            return None;
        }
        Some(text)
    }

    pub(super) fn labels_list(&mut self, clause: &Clause, args: &[Arg]) -> Option<Vec<String>> {
        let labels = self.list_spanned(clause, args, "a label")?;
        let mut out = Vec::new();
        for (label, span) in labels {
            if label.trim().is_empty() {
                self.error(Diagnostic::error(
                    "empty-label",
                    "labels must contain at least one non-whitespace character",
                    span,
                ));
                return None;
            }
            if label.chars().count() > 255 {
                self.error(Diagnostic::error("long-label", "labels are at most 255 characters", span));
                return None;
            }
            out.push(label);
        }
        Some(out)
    }

    pub(super) fn text(&mut self, term: &Term, what: &str) -> Option<String> {
        match term.node.text() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.error(Diagnostic::error(
                    "expected-value",
                    format!("expected {what}, found a parenthesised group"),
                    term.span,
                ));
                None
            }
        }
    }

    pub(super) fn single<'t>(&mut self, arg: &'t Arg, what: &str) -> Option<&'t Term> {
        match single_term(arg) {
            Some(term) => Some(term),
            None => {
                let found = match &arg.kind {
                    ArgKind::Range(..) => "a range".to_owned(),
                    ArgKind::Terms(terms) => format!("{} values separated by spaces", terms.len()),
                };
                self.error(
                    Diagnostic::error("expected-value", format!("expected {what}, found {found}"), arg.span)
                        .with_hint("separate values with commas"),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, term: &Term, what: &str) -> Option<Number> {
        let TermKind::Number(literal) = &term.node else {
            self.error(Diagnostic::error(
                "expected-number",
                format!("expected a number for {what}, found {}", term.node.describe()),
                term.span,
            ));
            return None;
        };
        match Number::from_literal(literal) {
            Some(number) => Some(number),
            None => {
                self.error(Diagnostic::error("bad-number", format!("`{literal}` is not a finite number"), term.span));
                None
            }
        }
    }

    pub(super) fn integer(&mut self, term: &Term, what: &str, min: u64, max: u64) -> Option<u64> {
        let number = self.number(term, what)?;
        let in_range = number.is_integer_literal() && number.value >= min as f64 && number.value <= max as f64;
        if !in_range {
            let range = if max == u64::MAX {
                format!("a whole number of at least {min}")
            } else {
                format!("a whole number from {min} to {max}")
            };
            self.error(Diagnostic::error(
                "out-of-range",
                format!("{what} must be {range}, found {}", number.text),
                term.span,
            ));
            return None;
        }
        number.text.parse().ok()
    }

    pub(super) fn integer_pair(&mut self, clause: &Clause, args: &[Arg]) -> Option<(u64, u64)> {
        let keyword = clause.name.node.info().keyword;
        let [a, b] = args else {
            self.error(
                Diagnostic::error("arity", format!("{keyword} expects two numbers"), clause.span)
                    .with_hint(format!("write {}", clause.name.node.info().usage)),
            );
            return None;
        };
        let first = self.single(a, "a number")?;
        let second = self.single(b, "a number")?;
        Some((self.integer(first, keyword, 1, u64::MAX)?, self.integer(second, "page", 1, u64::MAX)?))
    }

    pub(super) fn numbers(&mut self, clause: &Clause, args: &[Arg], count: usize, names: &str) -> Option<Vec<Number>> {
        let keyword = clause.name.node.info().keyword;
        if args.len() != count {
            self.error(
                Diagnostic::error(
                    "arity",
                    format!("{keyword} expected {count} numbers, found {}", args.len()),
                    clause.span,
                )
                .with_hint(format!("write {keyword}({names})")),
            );
            return None;
        }
        let mut out = Vec::new();
        for arg in args {
            let term = self.single(arg, "a number")?;
            out.push(self.number(term, keyword)?);
        }
        Some(out)
    }

    pub(super) fn choice(&mut self, term: &Term, what: &str, choices: &[&str]) -> Option<String> {
        let text = self.text(term, what)?;
        let lower = text.to_ascii_lowercase();
        if choices.contains(&lower.as_str()) {
            return Some(lower);
        }
        let mut diagnostic = Diagnostic::error(
            "bad-choice",
            format!("{what} must be one of {}, found `{text}`", choices.join(", ")),
            term.span,
        );
        if let Some(best) = nearest(&text, choices.iter().copied()) {
            diagnostic = diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best);
        }
        self.error(diagnostic);
        None
    }

    pub(super) fn list(&mut self, clause: &Clause, args: &[Arg], what: &str) -> Option<Vec<String>> {
        Some(self.list_spanned(clause, args, what)?.into_iter().map(|(text, _)| text).collect())
    }

    pub(super) fn list_spanned(&mut self, clause: &Clause, args: &[Arg], what: &str) -> Option<Vec<(String, Span)>> {
        if args.is_empty() {
            self.error(
                Diagnostic::error(
                    "empty-list",
                    format!("{} needs at least one value", clause.name.node.info().keyword),
                    clause.span,
                )
                .with_hint(format!("write {}", clause.name.node.info().usage)),
            );
            return None;
        }
        let mut out = Vec::new();
        for arg in args {
            let term = self.single(arg, what)?;
            out.push((self.text(term, what)?, term.span));
        }
        Some(out)
    }

    pub(super) fn clause_text(&mut self, command: &Command, name: ClauseName, what: &str) -> Option<Option<String>> {
        match find_clause(command, name) {
            Some(term) => Some(Some(self.text(term, what)?)),
            None => Some(None),
        }
    }

    pub(super) fn target(&mut self, term: &Term) -> Option<Target> {
        match &term.node {
            TermKind::Str(path) => Some(Target::Path(path.clone())),
            TermKind::Word(word) if word.contains(['/', '.', '~']) => Some(Target::Path(word.clone())),
            TermKind::Word(name) => match self.scope.bindings.get(name) {
                Some(_) => Some(Target::Name(name.clone())),
                None => {
                    self.error(
                        Diagnostic::error("unknown-name", format!("unknown name `{name}`"), term.span)
                            .with_hint(format!("to open a file called {name}, quote it: \"{name}\"")),
                    );
                    None
                }
            },
            other => {
                self.error(Diagnostic::error(
                    "expected-target",
                    format!("expected a file or a name, found {}", other.describe()),
                    term.span,
                ));
                None
            }
        }
    }

    pub(super) fn optional_job(&mut self, command: &Command) -> Option<JobRef> {
        match command.args.first() {
            Some(term) => self.job_ref(term),
            None => self.last_job(command.verb.span),
        }
    }

    pub(super) fn last_job(&mut self, span: Span) -> Option<JobRef> {
        let has_bound_job = self.scope.bindings.values().any(|kind| *kind == ValueKind::Job);
        if self.scope.has_last_job || has_bound_job {
            return Some(JobRef::Last);
        }
        self.error(
            Diagnostic::error("no-job", "there is no job yet", span)
                .with_hint("submit one first, e.g. `job = subset ATL03 bbox(-105.5, 40, -105, 41)`, or give a job ID"),
        );
        None
    }

    pub(super) fn job_ref(&mut self, term: &Term) -> Option<JobRef> {
        let text = self.text(term, "a job")?;
        if uuid::Uuid::try_parse(&text).is_ok() {
            return Some(JobRef::Id(text.to_ascii_lowercase()));
        }
        match self.scope.bindings.get(&text) {
            Some(ValueKind::Job) => Some(JobRef::Name(text)),
            Some(kind) => {
                self.error(Diagnostic::error(
                    "not-a-job",
                    format!("`{text}` holds {}, not a job", kind.describe()),
                    term.span,
                ));
                None
            }
            None => {
                let jobs = self
                    .scope
                    .bindings
                    .iter()
                    .filter(|(_, kind)| **kind == ValueKind::Job)
                    .map(|(name, _)| name.as_str());
                let mut diagnostic = Diagnostic::error("unknown-job", format!("unknown job `{text}`"), term.span);
                if let Some(best) = nearest(&text, jobs) {
                    diagnostic =
                        diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best.to_owned());
                } else {
                    diagnostic =
                        diagnostic.with_hint("name a job when you submit it (`job = subset …`) or give its job ID");
                }
                self.error(diagnostic);
                None
            }
        }
    }
}
