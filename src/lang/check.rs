//! Names, ranges, dates and units: [`Ast`] + [`Scope`] → typed [`Query`]s plus diagnostics.
//!
//! Every rule harmony-py 1.8 applies before building a request holds here (bounding box ranges, time
//! order, dimension order, shape file extensions, S3 destinations, capabilities and steps rules), with
//! messages that say where, what and how to fix. Pure: file existence is checked by the evaluator.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::api::environment::Environment;
use crate::lang::ast::{Arg, ArgKind, Ast, Clause, ClauseValue, Command, Term, TermKind};
use crate::lang::diagnostic::Diagnostic;
use crate::lang::keyword::{ClauseName, Verb, nearest};
use crate::lang::parse::parse_call;
use crate::lang::query::*;
use crate::lang::span::{Span, Spanned};

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
        Query::Download(_) => ValueKind::Files,
        Query::Open(_) => ValueKind::Dataset,
        Query::Capabilities(_) => ValueKind::Capabilities,
        Query::Results(_) => ValueKind::Links,
        Query::Jobs(_)
        | Query::Steps(_)
        | Query::Job(JobAction::Stac, _)
        | Query::Plot(_)
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

struct Checker {
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
            Verb::Jobs => self.jobs(command),
            Verb::Labels => self.labels(command),
            Verb::Steps => self.steps(command),
            Verb::Wait => self.job_action(command, JobAction::Wait),
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

    // ---- statements -------------------------------------------------------------------------

    fn env(&mut self, command: &Command) -> Option<Query> {
        let Some(term) = command.args.first() else { return Some(Query::Env(None)) };
        let text = self.text(term, "an environment")?;
        match text.parse::<Environment>() {
            Ok(env) => Some(Query::Env(Some(env))),
            Err(err) => {
                let mut diagnostic = Diagnostic::error("unknown-environment", err.to_string(), term.span);
                if let Some(best) = nearest(&text, Environment::NAMES) {
                    diagnostic = diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best);
                }
                self.error(diagnostic);
                None
            }
        }
    }

    fn set(&mut self, command: &Command) -> Option<Query> {
        let usage = "write `set label NAME` or `set label off`";
        let Some(name) = command.args.first() else {
            self.error(
                Diagnostic::error("expected-setting", "`set` needs a setting and a value", command.span)
                    .with_hint(usage),
            );
            return None;
        };
        let setting = self.text(name, "a setting")?;
        if !setting.eq_ignore_ascii_case("label") {
            self.error(
                Diagnostic::error("unknown-setting", format!("unknown setting `{setting}`"), name.span)
                    .with_hint(usage),
            );
            return None;
        }
        let Some(value) = command.args.get(1) else {
            self.error(Diagnostic::error("expected-value", "`set label` needs a value", command.span).with_hint(usage));
            return None;
        };
        let value = self.text(value, "a label")?;
        let label = match value.to_ascii_lowercase().as_str() {
            "off" | "none" | "false" => None,
            _ => Some(value),
        };
        Some(Query::Set(Setting::DefaultLabel(label)))
    }

    fn login(&mut self, command: &Command) -> Option<Query> {
        let Some(first) = command.args.first() else { return Some(Query::Login(Login::Prompt)) };
        let method = self.text(first, "a login method")?.to_ascii_lowercase();
        let second = command.args.get(1);
        let login = match (method.as_str(), second) {
            ("token", None) => Login::Token,
            ("netrc", None) => Login::Netrc,
            ("env", None) => Login::Env,
            ("user", Some(user)) => Login::User(self.text(user, "a user name")?),
            ("user", None) => {
                self.error(
                    Diagnostic::error("expected-value", "`login user` needs a user name", command.span)
                        .with_hint("write `login user NAME`; the password is asked for"),
                );
                return None;
            }
            (_, Some(extra)) => {
                self.error(
                    Diagnostic::error("secret-in-cell", "never type a password or token into a cell", extra.span)
                        .with_hint("`login` and `login token` ask for secrets without echoing them; `login netrc` reads ~/.netrc"),
                );
                return None;
            }
            _ => {
                self.error(
                    Diagnostic::error("unknown-login", format!("unknown login method `{method}`"), first.span)
                        .with_hint("use `login`, `login user NAME`, `login token`, `login netrc` or `login env`"),
                );
                return None;
            }
        };
        Some(Query::Login(login))
    }

    fn capabilities(&mut self, command: &Command) -> Option<Query> {
        let collection = self.collection(command)?;
        let mut version = None;
        for clause in &command.clauses {
            if let ClauseValue::Value(term) = &clause.value {
                let text = self.text(term, "a version")?;
                if !["1", "2", "3", "3-alpha"].contains(&text.as_str()) {
                    self.error(
                        Diagnostic::error(
                            "bad-version",
                            format!("capabilities version `{text}` does not exist"),
                            term.span,
                        )
                        .with_hint("versions are 1, 2 (the default) and 3-alpha"),
                    );
                    return None;
                }
                version = Some(text);
            }
        }
        Some(Query::Capabilities(CapabilitiesQuery { collection, version }))
    }

    fn collection(&mut self, command: &Command) -> Option<Collection> {
        let Some(term) = command.args.first() else {
            self.error(
                Diagnostic::error(
                    "expected-collection",
                    format!("`{}` needs a collection", command.verb.node.info().name),
                    Span::at(command.verb.span.end),
                )
                .with_hint(format!(
                    "a short name such as ATL03 or a concept ID such as C2596864127-NSIDC_CPRD: {}",
                    command.verb.node.info().example
                )),
            );
            return None;
        };
        let text = self.text(term, "a collection")?;
        if text.is_empty() || text.contains(|c: char| c.is_whitespace() || c == '/' || c == '?' || c == '#') {
            self.error(Diagnostic::error(
                "bad-collection",
                format!("`{text}` is not a collection short name or concept ID"),
                term.span,
            ));
            return None;
        }
        Some(Collection(text))
    }

    fn subset(&mut self, command: &Command) -> Option<SubsetQuery> {
        let mut query = SubsetQuery { collection: self.collection(command), ..SubsetQuery::default() };
        let mut seen: BTreeMap<ClauseName, Span> = BTreeMap::new();
        let mut spatial_span = None;
        let errors_before = self.error_count();
        for clause in &command.clauses {
            let name = clause.name.node;
            let repeatable = matches!(name, ClauseName::Dim);
            if !repeatable && let Some(first) = seen.get(&name) {
                self.error(
                    Diagnostic::error(
                        "duplicate-clause",
                        format!("`{}` is given twice", name.info().keyword),
                        clause.span,
                    )
                    .with_hint(format!(
                        "the first `{}` is at byte {}; keep one",
                        name.info().keyword,
                        first.start
                    )),
                );
                continue;
            }
            seen.insert(name, clause.span);
            if (name == ClauseName::Bbox || name.is_wkt()) && spatial_span.replace(clause.span).is_some() {
                self.error(
                    Diagnostic::error(
                        "two-spatial",
                        "a request has one spatial subset: a bbox or a WKT geometry",
                        clause.span,
                    )
                    .with_hint("keep one of them; to subset by several areas use a multipolygon or a shape file"),
                );
                continue;
            }
            self.subset_clause(clause, &mut query);
        }
        if let (Some(Spatial::Wkt(_)), Some(span)) = (&query.spatial, seen.get(&ClauseName::Shape)) {
            self.error(
                Diagnostic::error("shape-with-wkt", "a shape file cannot be sent with a WKT geometry", *span)
                    .with_hint("WKT requests go to OGC EDR, which takes no file: use the shape file with or without a bbox, or the WKT alone"),
            );
        }
        if let (Some(Spatial::Wkt(_)), Some(span)) = (&query.spatial, seen.get(&ClauseName::Average)) {
            self.diagnostics.push(
                Diagnostic::warning(
                    "average-with-wkt",
                    "`average` is not sent with a WKT geometry (OGC EDR has no average parameter)",
                    *span,
                )
                .with_hint("use a bbox to average, or drop `average`"),
            );
        }
        if let Some(span) = seen.get(&ClauseName::Grid) {
            let conflicting: Vec<&str> = [
                ClauseName::Crs,
                ClauseName::ScaleExtent,
                ClauseName::ScaleSize,
                ClauseName::Width,
                ClauseName::Height,
            ]
            .iter()
            .filter(|name| seen.contains_key(name))
            .map(|name| name.info().keyword)
            .collect();
            if !conflicting.is_empty() {
                self.error(
                    Diagnostic::error(
                        "grid-conflict",
                        format!("`grid` cannot be combined with {}", conflicting.join(", ")),
                        *span,
                    )
                    .with_hint("a named grid already fixes the CRS, extent and size; keep `grid` or the others"),
                );
            }
        }
        (self.error_count() == errors_before && query.collection.is_some()).then_some(query)
    }

    fn subset_clause(&mut self, clause: &Clause, query: &mut SubsetQuery) {
        let name = clause.name.node;
        match (&clause.value, name) {
            (ClauseValue::Call(args), ClauseName::Bbox) => query.spatial = self.bbox(clause, args).map(Spatial::BBox),
            (ClauseValue::Call(args), ClauseName::Time) => query.temporal = self.time_range(clause, args),
            (ClauseValue::Call(args), ClauseName::Wkt) => {
                query.spatial = self.wkt_string(clause, args).map(Spatial::Wkt)
            }
            (ClauseValue::Call(args), n) if n.is_wkt() => query.spatial = self.wkt(clause, args).map(Spatial::Wkt),
            (ClauseValue::Call(args), ClauseName::Shape) => query.shape = self.shape(clause, args),
            (ClauseValue::Call(args), ClauseName::Dim) => {
                if let Some(dimension) = self.dimension(clause, args) {
                    query.dimensions.push(dimension);
                }
            }
            (ClauseValue::Call(args), ClauseName::Vars) => {
                query.variables = self.list(clause, args, "a variable").unwrap_or_default()
            }
            (ClauseValue::Call(args), ClauseName::Granule) => {
                for (text, _) in self.list_spanned(clause, args, "a granule").unwrap_or_default() {
                    if is_concept_id(&text, 'G') {
                        query.granule_ids.push(text);
                    } else {
                        query.granule_names.push(text);
                    }
                }
            }
            (ClauseValue::Call(args), ClauseName::GranuleId) => {
                for (text, span) in self.list_spanned(clause, args, "a granule ID").unwrap_or_default() {
                    if !is_concept_id(&text, 'G') {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                "not-a-granule-id",
                                format!("`{text}` does not look like a granule concept ID (G1234-PROV)"),
                                span,
                            )
                            .with_hint("use `granule(…)` or `granule_name(…)` for granule names"),
                        );
                    }
                    query.granule_ids.push(text);
                }
            }
            (ClauseValue::Call(args), ClauseName::GranuleName) => {
                query.granule_names = self.list(clause, args, "a granule name").unwrap_or_default()
            }
            (ClauseValue::Value(term), ClauseName::Limit) => {
                query.max_results = self.integer(term, "limit", 1, u64::MAX)
            }
            (ClauseValue::Value(term), ClauseName::Crs) => query.crs = self.crs(term),
            (ClauseValue::Value(term), ClauseName::Format) => query.format = self.format(term),
            (ClauseValue::Call(args), ClauseName::ScaleExtent) => {
                query.scale_extent = self.numbers(clause, args, 4, "xmin, ymin, xmax, ymax")
            }
            (ClauseValue::Call(args), ClauseName::ScaleSize) => {
                query.scale_size = self.numbers(clause, args, 2, "x, y")
            }
            (ClauseValue::Value(term), ClauseName::Width) => query.width = self.integer(term, "width", 1, u64::MAX),
            (ClauseValue::Value(term), ClauseName::Height) => query.height = self.integer(term, "height", 1, u64::MAX),
            (ClauseValue::Value(term), ClauseName::Interpolation) => {
                query.interpolation = self.text(term, "an interpolation method")
            }
            (ClauseValue::Value(term), ClauseName::Grid) => query.grid = self.text(term, "a grid name"),
            (ClauseValue::Value(term), ClauseName::Average) => {
                query.average = self.choice(term, "average", &["time", "area"])
            }
            (ClauseValue::Value(term), ClauseName::Service) => query.service_id = self.text(term, "a service ID"),
            (ClauseValue::Value(term), ClauseName::Destination) => query.destination_url = self.destination(term),
            (ClauseValue::Call(args), ClauseName::Label) => {
                query.labels = self.labels_list(clause, args).unwrap_or_default()
            }
            (ClauseValue::Call(args), ClauseName::Extend) => {
                query.extend = self.list(clause, args, "a dimension").unwrap_or_default()
            }
            (ClauseValue::Flag(value), flag) => {
                let value = Some(value.as_ref().is_none_or(|v| v.node));
                match flag {
                    ClauseName::Concatenate => query.concatenate = value,
                    ClauseName::SkipPreview => query.skip_preview = value,
                    ClauseName::IgnoreErrors => query.ignore_errors = value,
                    ClauseName::PixelSubset => query.pixel_subset = value,
                    _ => {}
                }
            }
            _ => self.error(
                Diagnostic::error("bad-clause", format!("`{}` is written wrongly", name.info().keyword), clause.span)
                    .with_hint(format!("write {}", name.info().usage)),
            ),
        }
    }

    fn jobs(&mut self, command: &Command) -> Option<Query> {
        let mut query = JobsQuery::default();
        let errors_before = self.error_count();
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Value(term), ClauseName::Page) => query.page = self.integer(term, "page", 1, u64::MAX),
                (ClauseValue::Value(term), ClauseName::Limit) => query.limit = self.integer(term, "limit", 1, 2000),
                (ClauseValue::Call(args), ClauseName::Label) => {
                    query.labels = self.labels_list(clause, args).unwrap_or_default()
                }
                _ => {}
            }
        }
        (self.error_count() == errors_before).then_some(Query::Jobs(query))
    }

    fn labels(&mut self, command: &Command) -> Option<Query> {
        let mut change: Option<(bool, Vec<String>, Span)> = None;
        let mut jobs: Option<(ClauseName, Vec<JobRef>, Span)> = None;
        let errors_before = self.error_count();
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Call(args), name @ (ClauseName::Add | ClauseName::Remove)) => {
                    if change.is_some() {
                        self.error(Diagnostic::error(
                            "duplicate-clause",
                            "give one of `add(…)` or `remove(…)`",
                            clause.span,
                        ));
                        continue;
                    }
                    change = Some((
                        name == ClauseName::Add,
                        self.labels_list(clause, args).unwrap_or_default(),
                        clause.span,
                    ));
                }
                (ClauseValue::Value(term), name @ (ClauseName::To | ClauseName::From)) => {
                    let refs = match &term.node {
                        TermKind::Group(args) => {
                            args.iter().filter_map(|arg| single_term(arg)).filter_map(|t| self.job_ref(t)).collect()
                        }
                        _ => self.job_ref(term).into_iter().collect(),
                    };
                    jobs = Some((name, refs, clause.span));
                }
                _ => {}
            }
        }
        let Some((add, labels, change_span)) = change else {
            self.error(
                Diagnostic::error("expected-clause", "`labels` needs `add(…)` or `remove(…)`", command.span)
                    .with_hint("write `labels add(colorado) to job` or `labels remove(colorado) from job`"),
            );
            return None;
        };
        let jobs = match jobs {
            Some((name, refs, span)) => {
                let expected = if add { ClauseName::To } else { ClauseName::From };
                if name != expected {
                    let word = expected.info().keyword;
                    self.error(
                        Diagnostic::error(
                            "wrong-preposition",
                            format!(
                                "labels are {} jobs: write `{word}`",
                                if add { "added to" } else { "removed from" }
                            ),
                            span,
                        )
                        .with_fix(Span::new(span.start, span.start + name.info().keyword.len()), word),
                    );
                }
                refs
            }
            None => vec![self.last_job(change_span)?],
        };
        (self.error_count() == errors_before).then_some(Query::Labels(LabelsQuery { add, labels, jobs }))
    }

    fn steps(&mut self, command: &Command) -> Option<Query> {
        let job = self.optional_job(command)?;
        let mut query = StepsQuery {
            job,
            step: None,
            status: Vec::new(),
            work_items: Vec::new(),
            limit: None,
            resolve_files: None,
            wi_limit: None,
            step_pages: Vec::new(),
            input_pages: Vec::new(),
            output_pages: Vec::new(),
        };
        let errors_before = self.error_count();
        let mut resolve_span = None;
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Value(term), ClauseName::Step) => query.step = self.integer(term, "step", 1, u64::MAX),
                (ClauseValue::Value(term), ClauseName::Limit) => query.limit = self.integer(term, "limit", 1, 1000),
                (ClauseValue::Value(term), ClauseName::WiLimit) => {
                    query.wi_limit = self.integer(term, "wi_limit", 1, u64::MAX)
                }
                (ClauseValue::Call(args), ClauseName::Status) => {
                    for (status, span) in self.list_spanned(clause, args, "a work item status").unwrap_or_default() {
                        let lower = status.to_ascii_lowercase();
                        if !WORK_ITEM_STATUSES.contains(&lower.as_str()) {
                            self.error(
                                Diagnostic::error("bad-status", format!("`{status}` is not a work item status"), span)
                                    .with_hint(format!("statuses are {}", WORK_ITEM_STATUSES.join(", "))),
                            );
                        }
                        query.status.push(lower);
                    }
                }
                (ClauseValue::Call(args), ClauseName::WorkItems) => {
                    for arg in args {
                        if let Some(term) = self.single(arg, "a work item number") {
                            query.work_items.extend(self.integer(term, "work_items", 1, u64::MAX));
                        }
                    }
                }
                (ClauseValue::Flag(value), ClauseName::ResolveFiles) => {
                    query.resolve_files = Some(value.as_ref().is_none_or(|v| v.node));
                    resolve_span = Some(clause.span);
                }
                (
                    ClauseValue::Call(args),
                    name @ (ClauseName::StepPage | ClauseName::InputPage | ClauseName::OutputPage),
                ) => {
                    let Some(pair) = self.integer_pair(clause, args) else { continue };
                    match name {
                        ClauseName::StepPage => query.step_pages.push(pair),
                        ClauseName::InputPage => query.input_pages.push(pair),
                        _ => query.output_pages.push(pair),
                    }
                }
                _ => {}
            }
        }
        if query.resolve_files == Some(true) && query.work_items.is_empty() {
            self.error(
                Diagnostic::error(
                    "resolve-needs-work-items",
                    "resolve files needs a work item filter",
                    resolve_span.unwrap_or(command.span),
                )
                .with_hint("add `work_items(1, 2)` naming the work items whose files to list"),
            );
        }
        (self.error_count() == errors_before).then_some(Query::Steps(query))
    }

    fn job_action(&mut self, command: &Command, action: JobAction) -> Option<Query> {
        let job = self.optional_job(command)?;
        Some(Query::Job(action, job))
    }

    fn results(&mut self, command: &Command) -> Option<Query> {
        let mut link_type = LinkType::default();
        let mut job = None;
        for term in &command.args {
            let as_link = term.node.text().and_then(|t| match t.to_ascii_lowercase().as_str() {
                "https" => Some(LinkType::Https),
                "http" => Some(LinkType::Http),
                "s3" => Some(LinkType::S3),
                _ => None,
            });
            match as_link {
                Some(kind) => link_type = kind,
                None if job.is_none() => job = Some(self.job_ref(term)?),
                None => {
                    self.error(Diagnostic::error("bad-link-type", "link types are https, http and s3", term.span));
                    return None;
                }
            }
        }
        let job = match job {
            Some(job) => job,
            None => self.last_job(command.verb.span)?,
        };
        let mut query = ResultsQuery { job, link_type, page: None, limit: None };
        let errors_before = self.error_count();
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Value(term), ClauseName::Page) => query.page = self.integer(term, "page", 1, u64::MAX),
                (ClauseValue::Value(term), ClauseName::Limit) => query.limit = self.integer(term, "limit", 1, 2000),
                _ => {}
            }
        }
        (self.error_count() == errors_before).then_some(Query::Results(query))
    }

    fn download(&mut self, command: &Command) -> Option<Query> {
        let job = self.optional_job(command)?;
        let mut query = DownloadQuery { job, directory: None, overwrite: false };
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Value(term), ClauseName::To) => query.directory = Some(self.text(term, "a directory")?),
                (ClauseValue::Flag(value), ClauseName::Overwrite) => {
                    query.overwrite = value.as_ref().is_none_or(|v| v.node)
                }
                _ => {}
            }
        }
        Some(Query::Download(query))
    }

    fn open(&mut self, command: &Command) -> Option<Query> {
        let Some(term) = command.args.first() else {
            self.error(
                Diagnostic::error("expected-target", "`open` needs a file or a name", Span::at(command.verb.span.end))
                    .with_hint("e.g. `open \"data/ATL03_subsetted.h5\"` or `open files`"),
            );
            return None;
        };
        let target = self.target(term)?;
        let group = self.clause_text(command, ClauseName::Group, "a group")?;
        Some(Query::Open(OpenQuery { target, group }))
    }

    fn plot(&mut self, command: &Command) -> Option<Query> {
        let mut kind = None;
        let mut target = None;
        for term in &command.args {
            match term.node.text().and_then(PlotKind::from_name) {
                Some(found) if kind.is_none() && target.is_none() => kind = Some(found),
                _ if target.is_none() => target = Some(self.target(term)?),
                _ => {
                    self.error(
                        Diagnostic::error("unexpected-text", "`plot` takes a kind and one file or name", term.span)
                            .with_hint(format!("kinds are {}", PlotKind::NAMES.join(", "))),
                    );
                    return None;
                }
            }
        }
        let Some(target) = target else {
            self.error(
                Diagnostic::error("expected-target", "`plot` needs a file or a name", command.span)
                    .with_hint("e.g. `plot photons files beam gt1l`"),
            );
            return None;
        };
        let confidence = match find_clause(command, ClauseName::Confidence) {
            Some(term) => Some(self.integer(term, "confidence", 0, 4)? as i64),
            None => None,
        };
        let surface = match find_clause(command, ClauseName::Surface) {
            Some(term) => {
                Some(self.choice(term, "surface", &["land", "ocean", "sea_ice", "land_ice", "inland_water"])?)
            }
            None => None,
        };
        let by = match find_clause(command, ClauseName::By) {
            Some(term) => Some(self.choice(term, "by", &["distance", "latitude", "time"])?),
            None => None,
        };
        Some(Query::Plot(PlotQuery {
            kind,
            target,
            group: self.clause_text(command, ClauseName::Group, "a group")?,
            beam: self.clause_text(command, ClauseName::Beam, "a beam")?,
            by,
            confidence,
            surface,
            variable: self.clause_text(command, ClauseName::Var, "a variable")?,
        }))
    }

    fn print(&mut self, command: &Command) -> Option<Query> {
        let Some(term) = command.args.first() else {
            self.error(
                Diagnostic::error("expected-value", "`print` needs text", command.span)
                    .with_hint("write print \"hello, world\""),
            );
            return None;
        };
        Some(Query::Print(self.text(term, "text")?))
    }

    fn show(&mut self, command: &Command) -> Option<Query> {
        let term = command.args.first()?;
        let name = term.node.text()?.to_owned();
        if self.scope.bindings.contains_key(&name) {
            return Some(Query::Show(name));
        }
        let mut diagnostic = Diagnostic::error("unknown-name", format!("unknown name `{name}`"), term.span);
        if let Some(best) = nearest(&name, self.scope.bindings.keys().map(String::as_str)) {
            diagnostic = diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best.to_owned());
        } else if let Some(best) = nearest(&name, crate::lang::keyword::VERBS.iter().map(|v| v.name)) {
            diagnostic = diagnostic.with_label(format!("did you mean the statement `{best}`?"));
        } else {
            diagnostic = diagnostic.with_hint("`help` lists the statements");
        }
        self.error(diagnostic);
        None
    }

    fn render(&mut self, command: &Command) -> Option<Query> {
        let inner = command.inner.as_deref()?;
        let request_verbs = [
            Verb::Capabilities,
            Verb::Subset,
            Verb::Jobs,
            Verb::Labels,
            Verb::Steps,
            Verb::Status,
            Verb::Pause,
            Verb::Resume,
            Verb::Cancel,
            Verb::SkipPreview,
            Verb::Results,
            Verb::Stac,
        ];
        if !request_verbs.contains(&inner.verb.node) {
            let name = command.verb.node.info().name;
            self.error(
                Diagnostic::error("not-a-request", format!("`{}` is not a single Harmony request, so `{name}` cannot show it", inner.verb.node.info().name), inner.verb.span)
                    .with_hint(format!("`{name}` shows capabilities, subset, jobs, labels, steps, status, pause, resume, cancel, skip preview, results and stac")),
            );
            return None;
        }
        let query = Box::new(self.command(inner)?);
        Some(if command.verb.node == Verb::Url { Query::Url(query) } else { Query::Curl(query) })
    }

    // ---- clause values ----------------------------------------------------------------------

    fn bbox(&mut self, clause: &Clause, args: &[Arg]) -> Option<BBox> {
        let usage = "write bbox(west, south, east, north), e.g. bbox(-105.5, 40, -105, 41)";
        if args.len() != 4 {
            self.error(
                Diagnostic::error("bbox-arity", format!("bbox expected 4 numbers, found {}", args.len()), clause.span)
                    .with_hint(usage),
            );
            return None;
        }
        let names = ["west", "south", "east", "north"];
        let mut numbers = Vec::new();
        for (arg, name) in args.iter().zip(names) {
            let term = self.single(arg, "a number")?;
            numbers.push((self.number(term, name)?, term.span));
        }
        let [(west, west_span), (south, south_span), (east, east_span), (north, north_span)]: [(Number, Span); 4] =
            numbers.try_into().ok()?;
        let lat_ok = |n: &Number| (-90.0..=90.0).contains(&n.value);
        let lon_ok = |n: &Number| (-180.0..=180.0).contains(&n.value);
        let arg_text = |index: usize| args[index].span;
        let texts: Vec<String> = (0..4).map(|i| clause_source(args, i)).collect();
        // Latitude and longitude swapped: bbox(south, west, north, east) typed for bbox(west, south, east, north).
        let swapped =
            (!lat_ok(&south) || !lat_ok(&north)) && lat_ok(&west) && lat_ok(&east) && lon_ok(&south) && lon_ok(&north);
        if swapped {
            let fix = format!("bbox({}, {}, {}, {})", texts[1], texts[0], texts[3], texts[2]);
            self.error(
                Diagnostic::error(
                    "bbox-swapped",
                    "bbox latitude out of range: latitude and longitude look swapped",
                    clause.span,
                )
                .with_label(format!("south {} and north {} must be within -90..90", south.text, north.text))
                .with_hint(format!("bbox takes west, south, east, north (longitude first): {fix}"))
                .with_fix(clause.span, fix),
            );
            return None;
        }
        let checks: [(&Number, Span, &str, bool); 4] = [
            (&west, west_span, "west longitude", lon_ok(&west)),
            (&south, south_span, "south latitude", lat_ok(&south)),
            (&east, east_span, "east longitude", lon_ok(&east)),
            (&north, north_span, "north latitude", lat_ok(&north)),
        ];
        let mut bad = false;
        for (number, span, what, ok) in checks {
            if !ok {
                let range = if what.ends_with("latitude") { "-90 and 90" } else { "-180 and 180" };
                self.error(
                    Diagnostic::error("out-of-range", format!("{what} {} is out of range", number.text), span)
                        .with_label(format!("must be between {range}")),
                );
                bad = true;
            }
        }
        if bad {
            return None;
        }
        if south.value > north.value {
            let fix = format!("bbox({}, {}, {}, {})", texts[0], texts[3], texts[2], texts[1]);
            self.error(
                Diagnostic::error(
                    "bbox-south-north",
                    format!("south latitude {} is north of north latitude {}", south.text, north.text),
                    arg_text(1).to(arg_text(3)),
                )
                .with_hint(format!("swap them: {fix}"))
                .with_fix(clause.span, fix),
            );
            return None;
        }
        if west.value > east.value && west.value - east.value < 180.0 {
            let fix = format!("bbox({}, {}, {}, {})", texts[2], texts[1], texts[0], texts[3]);
            self.diagnostics.push(
                Diagnostic::warning(
                    "bbox-antimeridian",
                    format!(
                        "west {} > east {}: this box crosses the antimeridian and spans {:.1}° of longitude",
                        west.text,
                        east.text,
                        360.0 - (west.value - east.value)
                    ),
                    arg_text(0).to(arg_text(2)),
                )
                .with_hint(format!("if you meant the small box, write {fix}"))
                .with_fix(clause.span, fix),
            );
        }
        Some(BBox { west, south, east, north })
    }

    fn time_range(&mut self, clause: &Clause, args: &[Arg]) -> Option<TimeRange> {
        let usage = "write time(START .. STOP), e.g. time(2020-04-27 .. 2020-05-28); either end may be left out";
        let [arg] = args else {
            self.error(
                Diagnostic::error(
                    "time-arity",
                    format!("time expected one range START .. STOP, found {} arguments", args.len()),
                    clause.span,
                )
                .with_hint(usage),
            );
            return None;
        };
        let ArgKind::Range(start, stop) = &arg.kind else {
            let mut diagnostic =
                Diagnostic::error("time-not-range", "time expects a range START .. STOP", arg.span).with_hint(usage);
            if let Some(term) = single_term(arg)
                && let Some(day) = term.node.text().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                && let Some(next) = day.succ_opt()
            {
                let fix = format!("{day} .. {next}");
                diagnostic =
                    diagnostic.with_hint(format!("for that whole day write time({fix})")).with_fix(arg.span, fix);
            }
            self.error(diagnostic);
            return None;
        };
        if start.is_none() && stop.is_none() {
            self.error(
                Diagnostic::error("time-empty", "the time range needs a start or a stop", arg.span).with_hint(usage),
            );
            return None;
        }
        let start_value = match start {
            Some(term) => Some(self.datetime(term)?),
            None => None,
        };
        let stop_value = match stop {
            Some(term) => Some(self.datetime(term)?),
            None => None,
        };
        if let (Some(a), Some(b), Some(start_term), Some(stop_term)) = (&start_value, &stop_value, start, stop)
            && a.to_utc() >= b.to_utc()
        {
            let fix = format!("{} .. {}", term_source(stop_term), term_source(start_term));
            let mut diagnostic =
                Diagnostic::error("time-order", "the time range's start must be earlier than its stop", arg.span)
                    .with_label(format!("{} is not before {}", a.isoformat(), b.isoformat()));
            if a.to_utc() > b.to_utc() {
                diagnostic = diagnostic.with_hint(format!("swap them: time({fix})")).with_fix(arg.span, fix);
            }
            self.error(diagnostic);
            return None;
        }
        Some(TimeRange { start: start_value, stop: stop_value })
    }

    fn datetime(&mut self, term: &Term) -> Option<DateTime> {
        let text = match &term.node {
            TermKind::DateTime(text) | TermKind::Str(text) => text.clone(),
            other => {
                self.error(Diagnostic::error(
                    "expected-date",
                    format!("expected a date such as 2020-04-27 or 2020-04-27T12:00:00Z, found {}", other.describe()),
                    term.span,
                ));
                return None;
            }
        };
        match parse_datetime(&text) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(Diagnostic::error("bad-date", message, term.span).with_hint(
                    "dates are YYYY-MM-DD, optionally followed by Thh:mm[:ss[.ffffff]] and a zone such as Z or +02:00",
                ));
                None
            }
        }
    }

    fn wkt(&mut self, clause: &Clause, args: &[Arg]) -> Option<Wkt> {
        let kind = match clause.name.node {
            ClauseName::Point => WktKind::Point,
            ClauseName::MultiPoint => WktKind::MultiPoint,
            ClauseName::LineString => WktKind::LineString,
            ClauseName::MultiLineString => WktKind::MultiLineString,
            ClauseName::Polygon => WktKind::Polygon,
            _ => WktKind::MultiPolygon,
        };
        self.validate_wkt(kind, args, clause.span, 0)?;
        let text = format!("{}({})", kind.keyword(), args_source(args));
        Some(Wkt { kind, text })
    }

    fn wkt_string(&mut self, clause: &Clause, args: &[Arg]) -> Option<Wkt> {
        let [arg] = args else {
            self.error(
                Diagnostic::error("wkt-arity", "wkt expects one string", clause.span)
                    .with_hint("write wkt(\"POLYGON((…))\")"),
            );
            return None;
        };
        let term = self.single(arg, "a WKT string")?;
        let text = self.text(term, "a WKT string")?;
        let (keyword, inner) = match parse_call(&text) {
            Ok(parsed) => parsed,
            Err(diagnostic) => {
                self.error(Diagnostic::error(
                    "bad-wkt",
                    format!("WKT {} is invalid: {}", text.trim(), diagnostic.message),
                    term.span,
                ));
                return None;
            }
        };
        let kind = match keyword.to_ascii_uppercase().as_str() {
            "POINT" => WktKind::Point,
            "MULTIPOINT" => WktKind::MultiPoint,
            "LINESTRING" => WktKind::LineString,
            "MULTILINESTRING" => WktKind::MultiLineString,
            "POLYGON" => WktKind::Polygon,
            "MULTIPOLYGON" => WktKind::MultiPolygon,
            other => {
                self.error(
                    Diagnostic::error("unsupported-wkt", format!("unsupported geometry type: {other}"), term.span)
                        .with_hint(
                            "Harmony takes POINT, MULTIPOINT, LINESTRING, MULTILINESTRING, POLYGON and MULTIPOLYGON",
                        ),
                );
                return None;
            }
        };
        self.validate_wkt(kind, &inner, term.span, usize::MAX)?;
        Some(Wkt { kind, text: text.trim().to_owned() })
    }

    /// Checks a WKT body's structure. `base` is `usize::MAX` when spans inside are not cell offsets
    /// (a WKT string), so problems are reported on `whole`.
    fn validate_wkt(&mut self, kind: WktKind, args: &[Arg], whole: Span, base: usize) -> Option<()> {
        let place = |span: Span| if base == usize::MAX { whole } else { span };
        let mut problem: Option<(String, Span)> = None;
        let mut note = |message: String, span: Span| {
            if problem.is_none() {
                problem = Some((message, place(span)));
            }
        };
        let coordinate = |arg: &Arg| -> Option<Vec<f64>> {
            let ArgKind::Terms(terms) = &arg.kind else { return None };
            let values: Option<Vec<f64>> = terms
                .iter()
                .map(|t| match &t.node {
                    TermKind::Number(n) => n.parse().ok(),
                    _ => None,
                })
                .collect();
            values.filter(|v| v.len() == 2 || v.len() == 3)
        };
        let group = |arg: &Arg| -> Option<Vec<Arg>> {
            match &arg.kind {
                ArgKind::Terms(terms) if terms.len() == 1 => match &terms[0].node {
                    TermKind::Group(inner) => Some(inner.clone()),
                    _ => None,
                },
                _ => None,
            }
        };
        let check_points =
            |points: &[Arg], minimum: usize, what: &str, note: &mut dyn FnMut(String, Span)| -> Option<Vec<Vec<f64>>> {
                let mut coordinates = Vec::new();
                for point in points {
                    match coordinate(point) {
                        Some(c) => coordinates.push(c),
                        None => {
                            note(
                                format!("a {what} point is two numbers separated by a space, like `-105.5 40`"),
                                point.span,
                            );
                            return None;
                        }
                    }
                }
                if coordinates.len() < minimum {
                    let span = points.first().map_or(whole, |p| p.span);
                    note(format!("a {what} needs at least {minimum} points, found {}", coordinates.len()), span);
                    return None;
                }
                Some(coordinates)
            };
        let check_polygon = |rings: &[Arg], note: &mut dyn FnMut(String, Span)| {
            if rings.is_empty() {
                note("a polygon needs at least one ring".to_owned(), whole);
            }
            for ring in rings {
                let Some(points) = group(ring) else {
                    note("each polygon ring is in its own parentheses: polygon((lon lat, …))".to_owned(), ring.span);
                    return;
                };
                let Some(coordinates) = check_points(&points, 4, "polygon ring", note) else { return };
                if coordinates.first() != coordinates.last() {
                    note("the polygon ring is not closed: its last point must repeat the first".to_owned(), ring.span);
                    return;
                }
            }
        };
        match kind {
            WktKind::Point => {
                if args.len() != 1 || coordinate(&args[0]).is_none() {
                    note("a point is two numbers separated by a space: point(-105.5 40)".to_owned(), whole);
                }
            }
            WktKind::MultiPoint => {
                for arg in args {
                    let inner = group(arg);
                    let ok = coordinate(arg).is_some()
                        || inner.as_ref().is_some_and(|g| g.len() == 1 && coordinate(&g[0]).is_some());
                    if !ok {
                        note(
                            "multipoint points are `lon lat` or `(lon lat)`, separated by commas".to_owned(),
                            arg.span,
                        );
                    }
                }
                if args.is_empty() {
                    note("a multipoint needs at least one point".to_owned(), whole);
                }
            }
            WktKind::LineString => {
                check_points(args, 2, "line", &mut note);
            }
            WktKind::MultiLineString => {
                for arg in args {
                    match group(arg) {
                        Some(points) => {
                            check_points(&points, 2, "line", &mut note);
                        }
                        None => note(
                            "each line is in its own parentheses: multilinestring((lon lat, …), (…))".to_owned(),
                            arg.span,
                        ),
                    }
                }
            }
            WktKind::Polygon => check_polygon(args, &mut note),
            WktKind::MultiPolygon => {
                for arg in args {
                    match group(arg) {
                        Some(rings) => check_polygon(&rings, &mut note),
                        None => note(
                            "each polygon is in its own parentheses: multipolygon(((lon lat, …)), ((…)))".to_owned(),
                            arg.span,
                        ),
                    }
                }
            }
        }
        match problem {
            None => Some(()),
            Some((message, span)) => {
                self.error(Diagnostic::error("bad-wkt", message, span));
                None
            }
        }
    }

    fn shape(&mut self, clause: &Clause, args: &[Arg]) -> Option<ShapeFile> {
        let [arg] = args else {
            self.error(
                Diagnostic::error("shape-arity", "shape expects one file", clause.span)
                    .with_hint("write shape(\"area.geojson\")"),
            );
            return None;
        };
        let term = self.single(arg, "a file")?;
        let path = self.text(term, "a file")?;
        let extension = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        match SHAPE_TYPES.iter().find(|(ext, _)| *ext == extension) {
            Some((_, mime)) if path.contains('.') => Some(ShapeFile { path, mime: (*mime).to_owned() }),
            _ => {
                self.error(
                    Diagnostic::error(
                        "shape-extension",
                        format!("the shape file \"{path}\" has extension \"{extension}\", which is not recognised"),
                        term.span,
                    )
                    .with_hint("valid extensions: json, geojson (GeoJSON), kml (KML), shz, zip (zipped shapefile)"),
                );
                None
            }
        }
    }

    fn dimension(&mut self, clause: &Clause, args: &[Arg]) -> Option<DimensionSubset> {
        let usage = "write dim(NAME, MIN .. MAX), e.g. dim(lev, 10 .. 20); either end may be left out";
        let name_term = match args.first() {
            Some(arg) => self.single(arg, "a dimension name")?,
            None => {
                self.error(Diagnostic::error("dim-arity", "dim needs a dimension name", clause.span).with_hint(usage));
                return None;
            }
        };
        let name = self.text(name_term, "a dimension name")?;
        let (min, max) = match args.get(1) {
            None => (None, None),
            Some(Arg { kind: ArgKind::Range(min, max), .. }) => {
                let min = match min {
                    Some(term) => Some(self.number(term, "minimum")?),
                    None => None,
                };
                let max = match max {
                    Some(term) => Some(self.number(term, "maximum")?),
                    None => None,
                };
                (min, max)
            }
            Some(arg) => {
                self.error(
                    Diagnostic::error("dim-range", "dim expects a range MIN .. MAX after the name", arg.span)
                        .with_hint(usage),
                );
                return None;
            }
        };
        if args.len() > 2 {
            self.error(
                Diagnostic::error(
                    "dim-arity",
                    format!("dim expected a name and a range, found {} arguments", args.len()),
                    clause.span,
                )
                .with_hint(usage),
            );
            return None;
        }
        if let (Some(a), Some(b)) = (&min, &max)
            && a.value > b.value
        {
            self.error(
                Diagnostic::error(
                    "dim-order",
                    format!("dimension minimum {} is greater than the maximum {}", a.text, b.text),
                    args[1].span,
                )
                .with_hint(format!("write dim({name}, {} .. {})", b.text, a.text)),
            );
            return None;
        }
        Some(DimensionSubset { name, min, max })
    }

    fn crs(&mut self, term: &Term) -> Option<String> {
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

    fn format(&mut self, term: &Term) -> Option<String> {
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

    fn destination(&mut self, term: &Term) -> Option<String> {
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

    fn labels_list(&mut self, clause: &Clause, args: &[Arg]) -> Option<Vec<String>> {
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

    // ---- small helpers ----------------------------------------------------------------------

    fn text(&mut self, term: &Term, what: &str) -> Option<String> {
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

    fn single<'t>(&mut self, arg: &'t Arg, what: &str) -> Option<&'t Term> {
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

    fn number(&mut self, term: &Term, what: &str) -> Option<Number> {
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

    fn integer(&mut self, term: &Term, what: &str, min: u64, max: u64) -> Option<u64> {
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

    fn integer_pair(&mut self, clause: &Clause, args: &[Arg]) -> Option<(u64, u64)> {
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

    fn numbers(&mut self, clause: &Clause, args: &[Arg], count: usize, names: &str) -> Option<Vec<Number>> {
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

    fn choice(&mut self, term: &Term, what: &str, choices: &[&str]) -> Option<String> {
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

    fn list(&mut self, clause: &Clause, args: &[Arg], what: &str) -> Option<Vec<String>> {
        Some(self.list_spanned(clause, args, what)?.into_iter().map(|(text, _)| text).collect())
    }

    fn list_spanned(&mut self, clause: &Clause, args: &[Arg], what: &str) -> Option<Vec<(String, Span)>> {
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

    fn clause_text(&mut self, command: &Command, name: ClauseName, what: &str) -> Option<Option<String>> {
        match find_clause(command, name) {
            Some(term) => Some(Some(self.text(term, what)?)),
            None => Some(None),
        }
    }

    fn target(&mut self, term: &Term) -> Option<Target> {
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

    fn optional_job(&mut self, command: &Command) -> Option<JobRef> {
        match command.args.first() {
            Some(term) => self.job_ref(term),
            None => self.last_job(command.verb.span),
        }
    }

    fn last_job(&mut self, span: Span) -> Option<JobRef> {
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

    fn job_ref(&mut self, term: &Term) -> Option<JobRef> {
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

fn find_clause(command: &Command, name: ClauseName) -> Option<&Term> {
    command.clauses.iter().find(|clause| clause.name.node == name).and_then(|clause| match &clause.value {
        ClauseValue::Value(term) => Some(term),
        _ => None,
    })
}

fn single_term(arg: &Arg) -> Option<&Term> {
    match &arg.kind {
        ArgKind::Terms(terms) if terms.len() == 1 => terms.first(),
        _ => None,
    }
}

/// The source form of argument `index` as the printer writes it.
fn clause_source(args: &[Arg], index: usize) -> String {
    args_source(&args[index..=index])
}

fn args_source(args: &[Arg]) -> String {
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
        Ast { statements: vec![crate::lang::ast::Statement { span: Span::default(), binding: None, command }] }
            .to_source();
    let inner = printed.trim_end().trim_start_matches("subset vars(");
    inner.strip_suffix(')').unwrap_or(inner).to_owned()
}

fn term_source(term: &Term) -> String {
    let arg = Arg { span: term.span, kind: ArgKind::Terms(vec![term.clone()]) };
    args_source(&[arg])
}

/// Reads `YYYY-MM-DD[(T| )hh:mm[:ss[.f]]][Z|±hh[:]mm]` into a checked [`DateTime`].
pub fn parse_datetime(text: &str) -> Result<DateTime, String> {
    let text = text.trim();
    let (date_part, rest) = text.split_at(text.len().min(10));
    let date =
        NaiveDate::parse_from_str(date_part, "%Y-%m-%d").map_err(|_| format!("{date_part} is not a calendar date"))?;
    let mut rest = rest;
    let mut offset_seconds = None;
    if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
        rest = stripped;
        offset_seconds = Some(0);
    } else if let Some(position) = rest.rfind(['+', '-']) {
        // The clock has no signs, so a sign after the date starts the zone.
        let zone = &rest[position..];
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        let valid = digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit());
        let hours: i32 = digits.get(..2).and_then(|d| d.parse().ok()).unwrap_or(99);
        let minutes: i32 = digits.get(2..).and_then(|d| d.parse().ok()).unwrap_or(99);
        if !valid || hours > 23 || minutes > 59 {
            return Err(format!("{zone} is not a time zone offset"));
        }
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
        rest = &rest[..position];
    }
    let time = if rest.is_empty() {
        NaiveTime::MIN
    } else {
        let clock = &rest[1..];
        let (main, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let format = if main.len() == 5 { "%H:%M" } else { "%H:%M:%S" };
        let base = NaiveTime::parse_from_str(main, format).map_err(|_| format!("{clock} is not a time of day"))?;
        let micros: u32 = if fraction.is_empty() {
            0
        } else {
            let padded: String = fraction.chars().chain(std::iter::repeat('0')).take(6).collect();
            padded.parse().map_err(|_| format!("{clock} is not a time of day"))?
        };
        base + chrono::Duration::microseconds(i64::from(micros))
    };
    Ok(DateTime { local: NaiveDateTime::new(date, time), offset_seconds })
}

/// Names of clauses a verb accepts, for messages.
pub fn clause_names(verb: Verb) -> BTreeSet<&'static str> {
    verb.clauses().iter().map(|c| c.info().keyword).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse::parse;

    fn checked(cell: &str) -> Checked {
        let parsed = parse(cell);
        assert!(parsed.diagnostics.is_empty(), "{cell}: {:?}", parsed.diagnostics);
        check(&parsed.ast, &Scope::default())
    }

    fn first_error(cell: &str) -> Diagnostic {
        let result = checked(cell);
        result.diagnostics.into_iter().find(Diagnostic::is_error).unwrap_or_else(|| panic!("{cell} has no error"))
    }

    fn subset(cell: &str) -> SubsetQuery {
        let result = checked(cell);
        assert!(!result.has_errors(), "{cell}: {:?}", result.diagnostics);
        match &result.statements[0].query {
            Query::Subset(query) => (**query).clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tutorial_subset_is_typed() {
        let query = subset("subset ATL03 bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)");
        let Some(Spatial::BBox(bbox)) = query.spatial else { panic!() };
        assert_eq!(
            [bbox.west.text, bbox.south.text, bbox.east.text, bbox.north.text],
            ["-105.5", "40", "-105", "41.0"]
        );
        let time = query.temporal.unwrap();
        assert_eq!(time.start.unwrap().isoformat(), "2020-04-27T00:00:00");
        assert_eq!(time.stop.unwrap().isoformat(), "2020-05-28T00:00:00");
    }

    #[test]
    fn swapped_latitude_and_longitude_get_a_fix() {
        let d = first_error("subset ATL03 bbox(40, -105.5, 41, -105)");
        assert_eq!(d.code, "bbox-swapped");
        assert_eq!(d.fix.unwrap().replacement, "bbox(-105.5, 40, -105, 41)");
    }

    #[test]
    fn bbox_rules_of_harmony_py_hold() {
        for (cell, code) in [
            ("subset A bbox(1, 2, 3)", "bbox-arity"),
            ("subset A bbox(-181, 0, 10, 10)", "out-of-range"),
            ("subset A bbox(0, 10, 10, 5)", "bbox-south-north"),
            ("subset A bbox(100, -91, 110, 5)", "out-of-range"),
            ("subset A bbox(a, 1, 2, 3)", "expected-number"),
        ] {
            assert_eq!(first_error(cell).code, code, "{cell}");
        }
        let query = subset("subset A bbox(170, -10, -170, 10)");
        assert!(query.spatial.is_some(), "west > east crosses the antimeridian and is allowed");
        let warned = checked("subset A bbox(-105, 40, -105.5, 41)");
        assert_eq!(warned.diagnostics[0].code, "bbox-antimeridian");
        assert!(!warned.has_errors());
    }

    #[test]
    fn time_rules_hold() {
        assert_eq!(
            first_error("subset A time(2020-05-28 .. 2020-04-27)").fix.unwrap().replacement,
            "2020-04-27 .. 2020-05-28"
        );
        assert_eq!(first_error("subset A time(2020-05-28 .. 2020-05-28)").code, "time-order");
        assert_eq!(first_error("subset A time(..)").code, "time-empty");
        assert_eq!(first_error("subset A time(2020-02-30 ..)").code, "bad-date");
        assert_eq!(first_error("subset A time(2020-04-27)").fix.unwrap().replacement, "2020-04-27 .. 2020-04-28");
        let query = subset("subset A time(2020-01-01T00:00:00Z ..)");
        assert_eq!(query.temporal.unwrap().start.unwrap().isoformat(), "2020-01-01T00:00:00+00:00");
        let query = subset("subset A time(.. \"2020-01-01 10:30:15.5-05:00\")");
        assert_eq!(query.temporal.unwrap().stop.unwrap().isoformat(), "2020-01-01T10:30:15.500000-05:00");
    }

    #[test]
    fn wkt_geometries_are_validated() {
        let query = subset("subset A polygon((-140 20, -50 20, -50 60, -140 60, -140 20))");
        let Some(Spatial::Wkt(wkt)) = query.spatial else { panic!() };
        assert_eq!(wkt.text, "POLYGON((-140 20, -50 20, -50 60, -140 60, -140 20))");
        assert_eq!(wkt.kind.edr_route(), "area");
        assert_eq!(
            first_error("subset A polygon((0 0, 1 0, 1 1, 0 1))").message,
            "the polygon ring is not closed: its last point must repeat the first"
        );
        assert_eq!(first_error("subset A linestring(0 0)").code, "bad-wkt");
        assert_eq!(first_error("subset A point(1)").code, "bad-wkt");
        assert_eq!(first_error("subset A wkt(\"CIRCULARSTRING(0 0, 1 1, 1 0)\")").code, "unsupported-wkt");
        assert_eq!(first_error("subset A wkt(\"APOINT(0 51.48)\")").code, "unsupported-wkt");
        assert_eq!(first_error("subset A wkt(\"BBOX(-140,20,-50,60)\")").code, "unsupported-wkt");
        let query = subset("subset A wkt(\"MULTIPOINT((1 2), (3 4))\")");
        assert!(matches!(query.spatial, Some(Spatial::Wkt(Wkt { kind: WktKind::MultiPoint, .. }))));
        assert_eq!(first_error("subset A point(1 2) bbox(1, 2, 3, 4)").code, "two-spatial");
        assert_eq!(first_error("subset A point(1 2) shape(\"a.geojson\")").code, "shape-with-wkt");
    }

    #[test]
    fn other_parameters_follow_harmony_rules() {
        for (cell, code) in [
            ("subset A shape(\"area.shp\")", "shape-extension"),
            ("subset A dim(lev, 20 .. 10)", "dim-order"),
            ("subset A destination https://bucket", "destination-not-s3"),
            ("subset A format geotif", "unknown-format"),
            ("subset A limit 0", "out-of-range"),
            ("subset A limit 1.5", "out-of-range"),
            ("subset A vars()", "empty-list"),
            ("subset A average volume", "bad-choice"),
            ("subset A grid g crs EPSG:4326", "grid-conflict"),
            ("subset A bbox(1,2,3,4) bbox(1,2,3,4)", "duplicate-clause"),
            ("subset A label(\" \")", "empty-label"),
            ("subset A crs EPSG:x", "bad-crs"),
        ] {
            assert_eq!(first_error(cell).code, code, "{cell}");
        }
        assert_eq!(first_error("subset A format geotif").fix.unwrap().replacement, "geotiff");
        let query =
            subset("subset A format netcdf4 granule(G1-PROV, SMAP*.h5) limit 3 skip preview ignore errors false");
        assert_eq!(query.format.as_deref(), Some("application/x-netcdf4"));
        assert_eq!((query.granule_ids, query.granule_names), (vec!["G1-PROV".to_owned()], vec!["SMAP*.h5".to_owned()]));
        assert_eq!((query.max_results, query.skip_preview, query.ignore_errors), (Some(3), Some(true), Some(false)));
    }

    #[test]
    fn jobs_are_named_or_the_last_one() {
        let result = checked("job = subset ATL03\nwait job\nstatus\nresults job s3 page 2");
        assert!(!result.has_errors(), "{:?}", result.diagnostics);
        assert_eq!(result.statements[1].query, Query::Job(JobAction::Wait, JobRef::Name("job".into())));
        assert_eq!(result.statements[2].query, Query::Job(JobAction::Status, JobRef::Last));
        assert_eq!(first_error("wait").code, "no-job");
        let d = first_error("job = subset ATL03\nwait jbo");
        assert_eq!(d.fix.unwrap().replacement, "job");
        let result = checked("status 21469294-d6f7-42cc-89f2-c81990a5d7f4");
        assert_eq!(
            result.statements[0].query,
            Query::Job(JobAction::Status, JobRef::Id("21469294-d6f7-42cc-89f2-c81990a5d7f4".into()))
        );
    }

    #[test]
    fn steps_resolve_files_needs_work_items() {
        assert_eq!(
            first_error("steps 21469294-d6f7-42cc-89f2-c81990a5d7f4 resolve files").code,
            "resolve-needs-work-items"
        );
    }

    #[test]
    fn secrets_are_refused_in_cells() {
        assert_eq!(first_error("login token abc123").code, "secret-in-cell");
    }

    #[test]
    fn url_only_shows_single_requests() {
        assert_eq!(first_error("url env local").code, "not-a-request");
        assert!(!checked("url capabilities ATL03").has_errors());
    }

    #[test]
    fn names_must_exist_and_hold_values() {
        assert_eq!(first_error("jbo").code, "unknown-name");
        assert_eq!(first_error("x = env local").code, "nothing-to-name");
        assert_eq!(first_error("open files").code, "unknown-name");
        assert!(!checked("job = subset A\nfiles = download job\nopen files group gt1l/heights").has_errors());
    }
}
