//! Names, ranges, dates and units: [`Ast`] + [`Scope`] → typed [`Query`]s plus diagnostics.
//!
//! Every rule harmony-py 1.8 applies before building a request holds here (bounding box ranges, time
//! order, dimension order, shape file extensions, S3 destinations, capabilities and steps rules), with
//! messages that say where, what and how to fix. Pure: file existence is checked by the evaluator.

use std::collections::BTreeMap;

mod capabilities;
mod search;
mod spatial;
mod statement;
mod time;
mod value;

pub use capabilities::against_capabilities;
pub use time::parse_datetime;

use crate::ast::{Arg, ArgKind, Ast, Clause, ClauseValue, Command, Term};
use crate::diagnostic::Diagnostic;
use crate::keyword::{ClauseName, Verb};
use crate::query::*;
use crate::span::{Span, Spanned};

/// What a bound name holds, as far as checking needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A submitted job.
    Job,
    /// Downloaded files.
    Files,
    /// An opened file.
    Dataset,
    /// A capabilities document.
    Capabilities,
    /// Result links.
    Links,
    /// Granules found by a `granules` search.
    Granules,
    /// Anything else (listings, statuses, plots, text).
    Other,
}

impl ValueKind {
    fn describe(self) -> &'static str {
        match self {
            ValueKind::Job => "a job",
            ValueKind::Files => "downloaded files",
            ValueKind::Dataset => "an opened file",
            ValueKind::Capabilities => "a capabilities document",
            ValueKind::Links => "result links",
            ValueKind::Granules => "granules found in CMR",
            ValueKind::Other => "a value",
        }
    }
}

/// The names a cell can refer to, and whether the session has a most recent job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// Bound names.
    pub bindings: BTreeMap<String, ValueKind>,
    /// Whether a job was submitted earlier in the session (what `wait` alone refers to).
    pub has_last_job: bool,
}

/// What checking a cell gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    /// The statements that passed, in order.
    pub statements: Vec<CheckedStatement>,
    /// Problems found (errors and warnings).
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks every statement of `ast` against `scope`; names bound by earlier statements are in scope for later ones.
pub fn check(ast: &Ast, scope: &Scope) -> Checked {
    let mut checker = Checker { scope: scope.clone(), diagnostics: Vec::new() };
    let mut statements = Vec::new();
    for statement in &ast.statements {
        let errors_before = checker.error_count();
        let query = checker.command(&statement.command);
        let binding = statement.binding.as_ref().map(|b| b.node.clone());
        if let (Some(binding), Some(query)) = (&statement.binding, &query) {
            match produced_kind(query) {
                Some(kind) => {
                    checker.scope.bindings.insert(binding.node.clone(), kind);
                }
                None => checker.error(
                    Diagnostic::error(
                        "nothing-to-name",
                        format!("`{}` gives no value to name", statement.command.verb.node.info().name),
                        binding.span,
                    )
                    .with_hint("remove `… =` from this statement"),
                ),
            }
        }
        if matches!(query, Some(Query::Subset(_))) {
            checker.scope.has_last_job = true;
        }
        if let (Some(query), true) = (query, checker.error_count() == errors_before) {
            statements.push(CheckedStatement { span: statement.span, binding, query });
        }
    }
    Checked { statements, diagnostics: checker.diagnostics }
}

/// The kind of value a query produces, if it produces one that can be named.
pub fn produced_kind(query: &Query) -> Option<ValueKind> {
    Some(match query {
        Query::Subset(_) | Query::Job(JobAction::Wait | JobAction::Status, _) => ValueKind::Job,
        Query::Download(_) | Query::Export(_) => ValueKind::Files,
        Query::Open(_) => ValueKind::Dataset,
        Query::Capabilities(_) => ValueKind::Capabilities,
        Query::Results(_) => ValueKind::Links,
        Query::Search(search) if search.concept == crate::api::cmr::Concept::Granules => ValueKind::Granules,
        Query::Jobs(_)
        | Query::Steps(_)
        | Query::Job(JobAction::Stac, _)
        | Query::Plot(_)
        | Query::Search(_)
        | Query::Url(_)
        | Query::Curl(_) => ValueKind::Other,
        _ => return None,
    })
}

/// Friendly format names and the MIME types they stand for.
pub const FORMATS: &[(&str, &str)] = &[
    ("geotiff", "image/tiff"),
    ("tiff", "image/tiff"),
    ("tif", "image/tiff"),
    ("cog", "image/tiff"),
    ("netcdf4", "application/x-netcdf4"),
    ("netcdf", "application/x-netcdf4"),
    ("nc4", "application/x-netcdf4"),
    ("nc", "application/x-netcdf4"),
    ("hdf5", "application/x-hdf5"),
    ("h5", "application/x-hdf5"),
    ("zarr", "application/x-zarr"),
    ("png", "image/png"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("gif", "image/gif"),
    ("csv", "text/csv"),
    ("geojson", "application/geo+json"),
    ("shapefile", "application/shapefile+zip"),
];

/// Shape file extensions and their MIME types, as harmony-py maps them.
pub const SHAPE_TYPES: &[(&str, &str)] = &[
    ("json", "application/geo+json"),
    ("geojson", "application/geo+json"),
    ("kml", "application/vnd.google-earth.kml+xml"),
    ("shz", "application/shapefile+zip"),
    ("zip", "application/shapefile+zip"),
];

const WORK_ITEM_STATUSES: &[&str] = &["ready", "queued", "running", "successful", "failed", "canceled", "warning"];

pub(crate) struct Checker {
    scope: Scope,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    fn command(&mut self, command: &Command) -> Option<Query> {
        let verb = command.verb.node;
        if let Some(first) = command.clauses.iter().find(|clause| !clause.has_expected_form()) {
            self.error(
                Diagnostic::error(
                    "bad-clause",
                    format!("`{}` is written wrongly", first.name.node.info().keyword),
                    first.span,
                )
                .with_hint(format!("write {}", first.name.node.info().usage)),
            );
            return None;
        }
        match verb {
            Verb::Env => self.env(command),
            Verb::Set => self.set(command),
            Verb::Login => self.login(command),
            Verb::Logout => Some(Query::Logout),
            Verb::Capabilities => self.capabilities(command),
            Verb::Subset => self.subset(command).map(|q| Query::Subset(Box::new(q))),
            Verb::Collections => self.search(command, crate::api::cmr::Concept::Collections),
            Verb::Granules => self.search(command, crate::api::cmr::Concept::Granules),
            Verb::Jobs => self.jobs(command),
            Verb::Labels => self.labels(command),
            Verb::Steps => self.steps(command),
            Verb::Wait => self.wait(command),
            Verb::Status => self.job_action(command, JobAction::Status),
            Verb::Pause => self.job_action(command, JobAction::Pause),
            Verb::Resume => self.job_action(command, JobAction::Resume),
            Verb::Cancel => self.job_action(command, JobAction::Cancel),
            Verb::SkipPreview => self.job_action(command, JobAction::SkipPreview),
            Verb::Stac => self.job_action(command, JobAction::Stac),
            Verb::Results => self.results(command),
            Verb::Download => self.download(command),
            Verb::Open => self.open(command),
            Verb::Plot => self.plot(command),
            Verb::Export => self.export(command),
            Verb::Help => Some(Query::Help(command.args.first().and_then(|t| t.node.text()).map(str::to_owned))),
            Verb::Print => self.print(command),
            Verb::Warn => self.print(command).map(|query| match query {
                Query::Print(text) => Query::Warn(text),
                other => other,
            }),
            Verb::Clear => Some(Query::Clear),
            Verb::Show => self.show(command),
            Verb::Url | Verb::Curl => self.render(command),
        }
    }
}

pub(crate) fn find_clause(command: &Command, name: ClauseName) -> Option<&Term> {
    command.clauses.iter().find(|clause| clause.name.node == name).and_then(|clause| match &clause.value {
        ClauseValue::Value(term) => Some(term),
        _ => None,
    })
}

pub(crate) fn single_term(arg: &Arg) -> Option<&Term> {
    match &arg.kind {
        ArgKind::Terms(terms) if terms.len() == 1 => terms.first(),
        _ => None,
    }
}

/// The source form of argument `index` as the printer writes it.
pub(crate) fn clause_source(args: &[Arg], index: usize) -> String {
    args_source(&args[index..=index])
}

pub(crate) fn args_source(args: &[Arg]) -> String {
    let command = Command {
        span: Span::default(),
        verb: Spanned::new(Verb::Subset, Span::default()),
        args: Vec::new(),
        clauses: vec![Clause {
            span: Span::default(),
            name: Spanned::new(ClauseName::Vars, Span::default()),
            value: ClauseValue::Call(args.to_vec()),
        }],
        inner: None,
    };
    let printed =
        Ast { statements: vec![crate::ast::Statement { span: Span::default(), binding: None, command }] }.to_source();
    let inner = printed.trim_end().trim_start_matches("subset vars(");
    inner.strip_suffix(')').unwrap_or(inner).to_owned()
}

pub(crate) fn term_source(term: &Term) -> String {
    let arg = Arg { span: term.span, kind: ArgKind::Terms(vec![term.clone()]) };
    args_source(&[arg])
}

#[cfg(test)]
mod tests;
