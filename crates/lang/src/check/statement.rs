//! Checking each kind of statement: positional arguments, clauses, names and jobs.

use crate::ast::{Clause, ClauseValue, Command, Term, TermKind};
use crate::diagnostic::Diagnostic;
use crate::keyword::{ClauseName, Verb, nearest};
use crate::query::*;
use crate::span::Span;

use std::collections::BTreeMap;

use super::{Checker, WORK_ITEM_STATUSES, find_clause, single_term};
use crate::api::endpoint::StepsFilter;
use crate::api::environment::Environment;

impl Checker {
    pub(super) fn env(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn set(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn login(&mut self, command: &Command) -> Option<Query> {
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
                // The words may be a password or token: the caret line shows them as `*`, from the first
                // word that is not a login method (`login alice PASSWORD` may be `login PASSWORD PASSWORD`).
                let from = if matches!(method.as_str(), "token" | "netrc" | "env") { extra.span } else { first.span };
                let words = Span::new(from.start, command.span.end);
                self.error(
                    Diagnostic::error("secret-in-cell", "never type a password or token into a cell", extra.span)
                        .with_concealed(words)
                        .with_hint("`login` and `login token` ask for secrets without echoing them; `login netrc` reads ~/.netrc"),
                );
                return None;
            }
            _ => {
                let hint = "use `login`, `login user NAME`, `login token`, `login netrc` or `login env`";
                let diagnostic = match nearest(&method, ["token", "netrc", "env", "user"]) {
                    Some(best) => {
                        Diagnostic::error("unknown-login", format!("unknown login method `{method}`"), first.span)
                            .with_label(format!("did you mean `{best}`?"))
                            .with_fix(first.span, best)
                    }
                    // Not a typo of a method: perhaps a pasted token, so it is not repeated.
                    None => Diagnostic::error(
                        "unknown-login",
                        "unknown login method (not repeated here, in case it is a secret)",
                        first.span,
                    )
                    .with_concealed(Span::new(first.span.start, command.span.end)),
                };
                self.error(diagnostic.with_hint(hint));
                return None;
            }
        };
        Some(Query::Login(login))
    }

    pub(super) fn capabilities(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn collection(&mut self, command: &Command) -> Option<Collection> {
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

    pub(super) fn subset(&mut self, command: &Command) -> Option<SubsetQuery> {
        // `subset found …` orders exactly the granules a `granules` result listed.
        let granules_from = match command.args.first().map(|term| &term.node) {
            Some(TermKind::Word(name)) if self.scope.bindings.get(name) == Some(&super::ValueKind::Granules) => {
                Some(name.clone())
            }
            _ => None,
        };
        let collection = if granules_from.is_some() { None } else { self.collection(command) };
        let mut query = SubsetQuery { collection, granules_from, ..SubsetQuery::default() };
        let mut seen: BTreeMap<ClauseName, Span> = BTreeMap::new();
        let mut spatial_span = None;
        let errors_before = self.error_count();
        for clause in &command.clauses {
            let name = clause.name.node;
            let repeatable = matches!(name, ClauseName::Dim);
            if !repeatable && let Some(first) = seen.get(&name) {
                self.error(duplicate_clause(name, clause.span, *first));
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
        if let Some(name) = &query.granules_from {
            let picked = [ClauseName::Granule, ClauseName::GranuleId, ClauseName::GranuleName];
            if let Some(span) = picked.iter().find_map(|clause| seen.get(clause)) {
                self.error(
                    Diagnostic::error(
                        "granules-twice",
                        format!("`subset {name}` already orders the granules `{name}` lists"),
                        *span,
                    )
                    .with_hint(format!("drop this clause, or search again to change which granules `{name}` holds")),
                );
            }
        }
        let named = query.collection.is_some() || query.granules_from.is_some();
        (self.error_count() == errors_before && named).then_some(query)
    }

    pub(super) fn subset_clause(&mut self, clause: &Clause, query: &mut SubsetQuery) {
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

    pub(super) fn jobs(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn labels(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn steps(&mut self, command: &Command) -> Option<Query> {
        let job = self.optional_job(command)?;
        let mut filter = StepsFilter::default();
        let errors_before = self.error_count();
        let mut resolve_span = None;
        for clause in &command.clauses {
            match (&clause.value, clause.name.node) {
                (ClauseValue::Value(term), ClauseName::Step) => filter.step = self.integer(term, "step", 1, u64::MAX),
                (ClauseValue::Value(term), ClauseName::Limit) => filter.limit = self.integer(term, "limit", 1, 1000),
                (ClauseValue::Value(term), ClauseName::WiLimit) => {
                    filter.wi_limit = self.integer(term, "wi_limit", 1, u64::MAX)
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
                        filter.status.push(lower);
                    }
                }
                (ClauseValue::Call(args), ClauseName::WorkItems) => {
                    for arg in args {
                        if let Some(term) = self.single(arg, "a work item number") {
                            filter.work_items.extend(self.integer(term, "work_items", 1, u64::MAX));
                        }
                    }
                }
                (ClauseValue::Flag(value), ClauseName::ResolveFiles) => {
                    filter.resolve_files = Some(value.as_ref().is_none_or(|v| v.node));
                    resolve_span = Some(clause.span);
                }
                (
                    ClauseValue::Call(args),
                    name @ (ClauseName::StepPage | ClauseName::InputPage | ClauseName::OutputPage),
                ) => {
                    let Some(pair) = self.integer_pair(clause, args) else { continue };
                    match name {
                        ClauseName::StepPage => filter.step_pages.push(pair),
                        ClauseName::InputPage => filter.input_pages.push(pair),
                        _ => filter.output_pages.push(pair),
                    }
                }
                _ => {}
            }
        }
        if filter.resolve_files == Some(true) && filter.work_items.is_empty() {
            self.error(
                Diagnostic::error(
                    "resolve-needs-work-items",
                    "resolve files needs a work item filter",
                    resolve_span.unwrap_or(command.span),
                )
                .with_hint("add `work_items(1, 2)` naming the work items whose files to list"),
            );
        }
        (self.error_count() == errors_before).then_some(Query::Steps(StepsQuery { job, filter }))
    }

    pub(super) fn job_action(&mut self, command: &Command, action: JobAction) -> Option<Query> {
        let job = self.optional_job(command)?;
        Some(Query::Job(action, job))
    }

    pub(super) fn results(&mut self, command: &Command) -> Option<Query> {
        let mut link_type = LinkType::default();
        let mut job = None;
        for term in &command.args {
            let as_link = term.node.text().and_then(link_type_named);
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

    /// `wait [JOB]`, or `wait (JOB, JOB, …)` for a batch.
    pub(super) fn wait(&mut self, command: &Command) -> Option<Query> {
        match command.args.first().map(|term| &term.node) {
            Some(TermKind::Group(_)) => Some(Query::WaitJobs(self.job_list(&command.args[0])?)),
            _ => self.job_action(command, JobAction::Wait),
        }
    }

    /// A job or a parenthesised list of jobs; a list needs at least one.
    fn job_list(&mut self, term: &Term) -> Option<Vec<JobRef>> {
        let TermKind::Group(args) = &term.node else { return Some(vec![self.job_ref(term)?]) };
        let errors_before = self.error_count();
        let mut jobs = Vec::new();
        for arg in args {
            if let Some(term) = self.single(arg, "a job")
                && let Some(job) = self.job_ref(term)
            {
                jobs.push(job);
            }
        }
        if jobs.is_empty() && self.error_count() == errors_before {
            self.error(
                Diagnostic::error("expected-job", "the list of jobs is empty", term.span)
                    .with_hint("name the jobs, e.g. `(job1, job2)`"),
            );
        }
        (self.error_count() == errors_before).then_some(jobs)
    }

    pub(super) fn download(&mut self, command: &Command) -> Option<Query> {
        let mut link_type = LinkType::default();
        let mut jobs = None;
        for term in &command.args {
            let as_link = term.node.text().and_then(link_type_named);
            match as_link {
                Some(kind) => link_type = kind,
                None if jobs.is_none() => jobs = Some(self.job_list(term)?),
                None => {
                    self.error(
                        Diagnostic::error("bad-link-type", "download takes https (the default), http or s3", term.span)
                            .with_hint("several jobs go in parentheses: `download (job1, job2) to \"data\"`"),
                    );
                    return None;
                }
            }
        }
        let jobs = match jobs {
            Some(jobs) => jobs,
            None => vec![self.last_job(command.verb.span)?],
        };
        let mut query = DownloadQuery { jobs, link_type, directory: None, overwrite: false };
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

    pub(super) fn open(&mut self, command: &Command) -> Option<Query> {
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

    pub(super) fn plot(&mut self, command: &Command) -> Option<Query> {
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
        if kind == Some(PlotKind::Granules) {
            let found = match &target {
                Target::Name(name) => self.scope.bindings.get(name).copied(),
                Target::Path(_) => None,
            };
            if found != Some(super::ValueKind::Granules) {
                let span = command.args.last().map_or(command.span, |term| term.span);
                self.error(
                    Diagnostic::error(
                        "not-granules",
                        "`plot granules` draws the footprints of a `granules` result, by its name",
                        span,
                    )
                    .with_hint("e.g. `found = granules ATL03 bbox(-105.5, 40, -105, 41)` then `plot granules found`"),
                );
                return None;
            }
        }
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

    pub(super) fn export(&mut self, command: &Command) -> Option<Query> {
        let example = "e.g. `export files group gt1l/heights to \"gt1l.csv\"`";
        let Some(term) = command.args.first() else {
            self.error(
                Diagnostic::error(
                    "expected-target",
                    "`export` needs a file or a name",
                    Span::at(command.verb.span.end),
                )
                .with_hint(example),
            );
            return None;
        };
        let target = self.target(term)?;
        let Some(to_term) = find_clause(command, ClauseName::To) else {
            self.error(
                Diagnostic::error("expected-to", "`export` needs a file to write", Span::at(command.span.end))
                    .with_hint(format!("add `to \"out.csv\"` or `to \"tracks.geojson\"`, {example}")),
            );
            return None;
        };
        let to = self.text(to_term, "a file name")?;
        let lower = to.to_ascii_lowercase();
        let format = if lower.ends_with(".csv") {
            ExportFormat::Csv
        } else if lower.ends_with(".geojson") || lower.ends_with(".json") {
            ExportFormat::GeoJson
        } else {
            self.error(
                Diagnostic::error("bad-export-format", format!("cannot tell what to write from `{to}`"), to_term.span)
                    .with_label("the name must end in .csv or .geojson")
                    .with_hint("CSV holds a group's datasets; GeoJSON holds ATL03 ground tracks"),
            );
            return None;
        };
        let group = self.clause_text(command, ClauseName::Group, "a group")?;
        if format == ExportFormat::GeoJson
            && let Some(term) = find_clause(command, ClauseName::Group)
        {
            self.error(
                Diagnostic::error("group-in-geojson", "GeoJSON export writes ground tracks, not a group", term.span)
                    .with_hint("drop `group`, or write CSV: `to \"out.csv\"`"),
            );
            return None;
        }
        let beam = self.clause_text(command, ClauseName::Beam, "a beam")?;
        Some(Query::Export(ExportQuery { target, group, beam, to, format }))
    }

    pub(super) fn print(&mut self, command: &Command) -> Option<Query> {
        let Some(term) = command.args.first() else {
            self.error(
                Diagnostic::error("expected-value", "`print` needs text", command.span)
                    .with_hint("write print \"hello, world\""),
            );
            return None;
        };
        Some(Query::Print(self.text(term, "text")?))
    }

    pub(super) fn show(&mut self, command: &Command) -> Option<Query> {
        let term = command.args.first()?;
        let name = term.node.text()?.to_owned();
        if self.scope.bindings.contains_key(&name) {
            return Some(Query::Show(name));
        }
        let mut diagnostic = Diagnostic::error("unknown-name", format!("unknown name `{name}`"), term.span);
        if let Some(best) = nearest(&name, self.scope.bindings.keys().map(String::as_str)) {
            diagnostic = diagnostic.with_label(format!("did you mean `{best}`?")).with_fix(term.span, best.to_owned());
        } else if let Some(best) = nearest(&name, crate::keyword::VERBS.iter().map(|v| v.name)) {
            diagnostic = diagnostic.with_label(format!("did you mean the statement `{best}`?"));
        } else {
            diagnostic = diagnostic.with_hint("`help` lists the statements");
        }
        self.error(diagnostic);
        None
    }

    pub(super) fn render(&mut self, command: &Command) -> Option<Query> {
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
            Verb::Collections,
            Verb::Granules,
        ];
        if !request_verbs.contains(&inner.verb.node) {
            let name = command.verb.node.info().name;
            self.error(
                Diagnostic::error("not-a-request", format!("`{}` is not a single Harmony request, so `{name}` cannot show it", inner.verb.node.info().name), inner.verb.span)
                    .with_hint(format!("`{name}` shows capabilities, subset, jobs, labels, steps, status, pause, resume, cancel, skip preview, results, stac, collections and granules")),
            );
            return None;
        }
        let query = Box::new(self.command(inner)?);
        Some(if command.verb.node == Verb::Url { Query::Url(query) } else { Query::Curl(query) })
    }
}

/// `https`, `http` or `s3` (any case) as the link type `results` and `download` take.
fn link_type_named(word: &str) -> Option<LinkType> {
    match word.to_ascii_lowercase().as_str() {
        "https" => Some(LinkType::Https),
        "http" => Some(LinkType::Http),
        "s3" => Some(LinkType::S3),
        _ => None,
    }
}

/// A clause given twice in one statement (`subset`, `collections`, `granules` share the rule).
pub(super) fn duplicate_clause(name: ClauseName, span: Span, first: Span) -> Diagnostic {
    let keyword = name.info().keyword;
    Diagnostic::error("duplicate-clause", format!("`{keyword}` is given twice"), span)
        .with_hint(format!("the first `{keyword}` is at byte {}; keep one", first.start))
}
