//! A session: environment, settings and names that live across cells; `run` executes one cell.
//!
//! A cell with any error runs nothing, so a half-right cell never submits half its jobs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::endpoint::StateChange;
use crate::api::environment::Environment;
use crate::api::job::{Job, JobListing, JobStatus};
use crate::api::request::{Header, HeaderValue, Request};
use crate::eval::error::{EvalError, EvalResult};
use crate::eval::help;
use crate::eval::sink::{Failure, Report, Sink};
use crate::harmony::auth::Credentials;
use crate::harmony::client::{Client, Submission};
use crate::harmony::download::{DownloadConfig, Source, download_all, download_from};
use crate::harmony::jobs::{WaitConfig, change_state, result_links, wait, wait_for_batch};
use crate::harmony::s3::S3Reader;
use crate::lang::check::{Scope, check, produced_kind};
use crate::lang::compile::{CompileError, CompileOptions, compile};
use crate::lang::diagnostic::Diagnostic;
use crate::lang::parse::parse;
use crate::lang::query::{
    CheckedStatement, JobAction, JobRef, LinkType, PlotKind, Query, Setting, SubsetQuery, Target,
};

/// How request statements are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Send them (`hq run`, notebooks).
    #[default]
    Execute,
    /// Show each as a URL instead of sending it (`hq url`).
    ShowUrl,
    /// Show each as a curl command instead of sending it (`hq curl`).
    ShowCurl,
}

/// Settings a session starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The environment.
    pub env: Environment,
    /// The label added to every job.
    pub default_label: Option<String>,
    /// How request statements are treated.
    pub mode: Mode,
    /// Credentials for Harmony (default: [`Credentials::from_env`], the rule every front end shares:
    /// `EDL_TOKEN`/`EARTHDATA_TOKEN`, else `EDL_*` or `EARTHDATA_*` user and password, else `.netrc`).
    pub credentials: Credentials,
    /// Time between status polls while waiting.
    pub poll_interval: Duration,
    /// How downloads run.
    pub download: DownloadConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env: Environment::default(),
            default_label: CompileOptions::default().default_label,
            mode: Mode::default(),
            credentials: Credentials::from_env(),
            poll_interval: WaitConfig::default().interval,
            download: DownloadConfig::default(),
        }
    }
}

/// A value a statement produced, kept under its name for later statements.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A job, by ID.
    Job(String),
    /// Downloaded files.
    Files(Vec<PathBuf>),
    /// Result URLs.
    Links(Vec<String>),
    /// Granules a `granules` search found: shown as they were, plotted by `plot granules`, ordered by `subset NAME`.
    Granules(Box<crate::harmony::cmr::GranuleResults>),
    /// Any other answer, kept as the report its statement showed, so the name shows exactly that again.
    Shown(Box<Report>),
}

/// What running a cell came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Whether every statement ran without error.
    pub ok: bool,
    /// Whether a statement was well-formed but talking to Harmony or the disk failed.
    pub failed_operation: bool,
}

/// State that lives across cells.
#[derive(Debug, Clone)]
pub struct Session {
    pub(crate) env: Environment,
    options: CompileOptions,
    pub(crate) scope: Scope,
    mode: Mode,
    credentials: Credentials,
    wait: WaitConfig,
    download: DownloadConfig,
    client: Option<Client>,
    values: HashMap<String, Value>,
    last_job: Option<String>,
    /// The request of each job submitted in this session, by job ID (track maps draw its area).
    job_requests: HashMap<String, SubsetQuery>,
    /// The files each job's download wrote, by job ID (`plot track JOB` draws them).
    job_files: HashMap<String, Vec<PathBuf>>,
    prompter: Option<std::sync::Arc<dyn crate::eval::login::Prompter>>,
    pub(crate) catalog: crate::eval::catalog::CatalogCache,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(Config::default())
    }
}

/// The `User-Agent` HarmonyQL sends.
pub fn user_agent() -> String {
    format!("harmonyql/{}", env!("CARGO_PKG_VERSION"))
}

impl Session {
    /// A session with these settings.
    pub fn new(config: Config) -> Self {
        Session {
            env: config.env,
            options: CompileOptions { default_label: config.default_label },
            scope: Scope::default(),
            mode: config.mode,
            credentials: config.credentials,
            wait: WaitConfig { interval: config.poll_interval },
            download: config.download,
            client: None,
            values: HashMap::new(),
            last_job: None,
            job_requests: HashMap::new(),
            job_files: HashMap::new(),
            prompter: None,
            catalog: Default::default(),
        }
    }

    /// Lets `login` ask for user names, passwords and tokens through the front end (the kernel's stdin
    /// channel, the terminal); without one, `login` offers only `env` and `netrc`.
    pub fn set_prompter(&mut self, prompter: std::sync::Arc<dyn crate::eval::login::Prompter>) {
        self.prompter = Some(prompter);
    }

    /// Adopts new credentials; the next request builds a client with them.
    /// Drops the HTTP client (its pooled connections and cookies); the next request builds a new one.
    /// `BlockingSession` calls it before every cell: in evcxr each cell is a separate library with its own
    /// copy of tokio, and a client built by one cell's copy cannot run under another cell's runtime.
    pub fn forget_connections(&mut self) {
        self.client = None;
    }

    fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = credentials;
        self.client = None;
    }

    /// The environment in use.
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The names a cell can refer to (for completion and checking).
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Runs a cell, reporting everything to `sink`.
    ///
    /// ```
    /// use harmonyql::eval::session::Session;
    /// use harmonyql::eval::sink::Report;
    /// let mut session = Session::default();
    /// let mut reports = Vec::new();
    /// session.run("env uat\nurl capabilities ATL03", &mut reports);
    /// assert_eq!(reports[1], Report::Url("https://harmony.uat.earthdata.nasa.gov/capabilities?shortname=ATL03".into()));
    /// ```
    pub fn run(&mut self, cell: &str, sink: &mut dyn Sink) -> Outcome {
        let Some(checked) = self.check_cell(cell, sink) else {
            return Outcome { ok: false, failed_operation: false };
        };
        let mut ok = true;
        for statement in &checked.statements {
            if !self.execute(cell, statement, sink) {
                ok = false;
                break;
            }
        }
        Outcome { ok, failed_operation: false }
    }

    /// Parses and checks a cell against the session's names, reporting every diagnostic; `None` when
    /// any is an error, so a half-right cell runs nothing.
    fn check_cell(&self, cell: &str, sink: &mut dyn Sink) -> Option<crate::lang::check::Checked> {
        let parsed = parse(cell);
        let checked = check(&parsed.ast, &self.scope);
        let mut diagnostics = parsed.diagnostics;
        diagnostics.extend(checked.diagnostics.iter().cloned());
        // What a collection cannot do, when the session has its capabilities; nothing is guessed otherwise.
        let known = |collection: &str| {
            // `subset NAME` of a bound `granules` result orders from that search's collection.
            let collection = match self.values.get(collection) {
                Some(Value::Granules(results)) => results.collection.as_str(),
                _ => collection,
            };
            let document = self.catalog.capabilities(&self.env, collection)?;
            serde_json::from_value::<crate::api::capabilities::CapabilitiesV2>(document.clone()).ok()
        };
        diagnostics.extend(crate::lang::check::against_capabilities(&parsed.ast, &known));
        diagnostics.sort_by_key(|d| d.span.start);
        let has_errors = diagnostics.iter().any(Diagnostic::is_error);
        if !diagnostics.is_empty() {
            let diagnostics = crate::lang::diagnostic::first_shown(diagnostics);
            sink.report(Report::Diagnostics { source: cell.to_owned(), diagnostics });
        }
        (!has_errors).then_some(checked)
    }

    /// Runs a cell, sending request statements to Harmony in [`Mode::Execute`]; `cancel` stops waits and
    /// downloads (no half files are left) and the session keeps its state.
    pub async fn run_async(&mut self, cell: &str, sink: &mut (dyn Sink + Send), cancel: &CancellationToken) -> Outcome {
        let Some(checked) = self.check_cell(cell, sink) else {
            return Outcome { ok: false, failed_operation: false };
        };
        for statement in &checked.statements {
            let remote = self.mode == Mode::Execute && is_remote(&statement.query);
            let mut failed_operation = false;
            let ok = if remote {
                match self.execute_remote(&statement.query, sink, cancel).await.map_err(|error| match error {
                    EvalError::Harmony(error) => EvalError::from_harmony(error, &self.env),
                    other => other,
                }) {
                    Ok(value) => {
                        if let (Some(name), Some(kind)) = (&statement.binding, produced_kind(&statement.query)) {
                            self.scope.bindings.insert(name.clone(), kind);
                            if let Some(value) = value {
                                self.values.insert(name.clone(), value);
                            }
                        }
                        true
                    }
                    Err(error) => {
                        sink.report(Report::Failed(Failure::new(cell, statement.span, error)));
                        failed_operation = true;
                        false
                    }
                }
            } else {
                self.execute(cell, statement, sink)
            };
            if !ok {
                return Outcome { ok: false, failed_operation };
            }
        }
        Outcome { ok: true, failed_operation: false }
    }

    /// The client for the current environment, built on first use and again after `env` changes it.
    pub(crate) fn client(&mut self) -> EvalResult<Client> {
        if let Some(client) = &self.client
            && client.env() == &self.env
        {
            return Ok(client.clone());
        }
        let client = Client::new(self.env.clone(), self.credentials.clone())?;
        self.client = Some(client.clone());
        Ok(client)
    }

    async fn execute_remote(
        &mut self,
        query: &Query,
        sink: &mut (dyn Sink + Send),
        cancel: &CancellationToken,
    ) -> EvalResult<Option<Value>> {
        match query {
            Query::Login(method) => {
                let prompter = self.prompter.clone();
                let logged_in = crate::eval::login::login(method, &self.env, prompter.as_deref(), cancel).await?;
                self.set_credentials(logged_in.credentials);
                sink.report(Report::Text(logged_in.message));
                if let Some(warning) = logged_in.warning {
                    sink.report(Report::Warning(warning));
                }
                return Ok(None);
            }
            Query::Logout => {
                self.set_credentials(Credentials::Anonymous);
                sink.report(Report::Text(crate::eval::login::LOGGED_OUT.to_owned()));
                return Ok(None);
            }
            _ => {}
        }
        let query = self.resolve(query)?;
        let client = self.client()?;
        match &query {
            Query::Subset(subset) => {
                let request = self.request(&query)?;
                if let Some(Value::Granules(results)) = subset.granules_from.as_ref().and_then(|n| self.values.get(n))
                    && results.hits > results.granules.len() as u64
                {
                    sink.report(Report::Warning(format!(
                        "ordering the {} granule(s) listed, of {} that matched: search with a larger `limit` to order more",
                        results.granules.len(),
                        results.hits
                    )));
                }
                if let Some(collection) = &subset.collection {
                    self.catalog.saw(&collection.0);
                }
                let ordered = match subset.granules_from.as_ref().and_then(|n| self.values.get(n)) {
                    Some(Value::Granules(results)) => Some(&**results),
                    _ => None,
                };
                // What it selects, before anything is sent: said on stdout, or as a warning when Harmony will
                // pause it for preview or process only part of it.
                if let Some(estimate) =
                    crate::eval::search::submission_estimate(&client, subset, ordered, &self.env, cancel).await
                {
                    sink.report(if estimate.warns {
                        Report::Warning(estimate.text)
                    } else {
                        Report::Text(estimate.text)
                    });
                }
                match client.submit(&request).await? {
                    Submission::Job(job) => {
                        let id = job.job_id.clone();
                        if let Query::Subset(subset) = &query {
                            self.job_requests.insert(id.clone(), (**subset).clone());
                        }
                        self.last_job = Some(id.clone());
                        // Later cells may say `last`; the checker only knows what this session tells it.
                        self.scope.has_last_job = true;
                        sink.report(Report::Job(job));
                        Ok(Some(Value::Job(id)))
                    }
                    Submission::Body(value) => {
                        let report = Report::Answer { statement: "subset", document: Box::new(value) };
                        sink.report(report.clone());
                        Ok(Some(Value::Shown(Box::new(report))))
                    }
                }
            }
            Query::Job(JobAction::Wait, JobRef::Id(id)) => {
                let job = self.wait_for(&client, id, sink, cancel).await?;
                let note = after_waiting(&job);
                sink.report(Report::Job(Box::new(job)));
                if let Some(note) = note {
                    sink.report(Report::Warning(note));
                }
                Ok(Some(Value::Job(id.clone())))
            }
            Query::WaitJobs(jobs) => {
                let ids = job_ids(jobs)?;
                for job in self.wait_for_all(&client, &ids, sink, cancel).await? {
                    let note = after_waiting(&job);
                    sink.report(Report::Job(Box::new(job)));
                    if let Some(note) = note {
                        sink.report(Report::Warning(note));
                    }
                }
                Ok(None)
            }
            Query::Job(
                action @ (JobAction::Pause | JobAction::Resume | JobAction::Cancel | JobAction::SkipPreview),
                JobRef::Id(id),
            ) => {
                let change = match action {
                    JobAction::Pause => StateChange::Pause,
                    JobAction::Resume => StateChange::Resume,
                    JobAction::Cancel => StateChange::Cancel,
                    _ => StateChange::SkipPreview,
                };
                let job = change_state(&client, id, change).await?;
                sink.report(Report::Job(Box::new(job)));
                Ok(Some(Value::Job(id.clone())))
            }
            Query::Job(JobAction::Status, JobRef::Id(id)) => {
                let job: Job = client.json(&self.request(&query)?).await?;
                sink.report(Report::Job(Box::new(job)));
                Ok(Some(Value::Job(id.clone())))
            }
            Query::Results(results) => {
                let JobRef::Id(id) = &results.job else { return Err(unresolved_job()) };
                let links = result_links(&client, id, results.link_type.as_str(), results.page, results.limit).await?;
                let hrefs: Vec<String> = links.into_iter().map(|link| link.href).collect();
                sink.report(Report::Links(hrefs.clone()));
                Ok(Some(Value::Links(hrefs)))
            }
            Query::Download(download) => {
                let ids = job_ids(&download.jobs)?;
                let directory = PathBuf::from(download.directory.as_deref().unwrap_or("."));
                let resume = resume_hint(&ids, download);
                let stopped = |error: crate::harmony::error::Error| match error {
                    crate::harmony::error::Error::Cancelled { .. } => EvalError::Stopped(resume.clone()),
                    // A file that stopped arriving: say which statement picks it up again.
                    error @ (crate::harmony::error::Error::Stalled { .. }
                    | crate::harmony::error::Error::Incomplete { .. }) => {
                        EvalError::Unfinished { resume: resume.clone(), source: error }
                    }
                    other => EvalError::Harmony(other),
                };
                let jobs = match &ids[..] {
                    [id] => vec![self.wait_for(&client, id, sink, cancel).await?],
                    _ => self.wait_for_all(&client, &ids, sink, cancel).await?,
                };
                let mut urls = Vec::new();
                // How many of the URLs (and so of the downloaded paths, which keep URL order) are each job's.
                let mut per_job = Vec::new();
                for job in &jobs {
                    let links = result_links(&client, &job.job_id, download.link_type.as_str(), None, None).await?;
                    if links.is_empty() {
                        sink.report(Report::Warning(format!(
                            "there is no file to download: job {} is {} ({})",
                            job.job_id,
                            job.status.as_str(),
                            job.message
                        )));
                    } else if let Some(note) = after_waiting(job) {
                        sink.report(Report::Warning(format!("{note}; downloading the {} file(s) it has", links.len())));
                    }
                    per_job.push((job.job_id.clone(), links.len()));
                    urls.extend(links.into_iter().map(|link| link.href));
                }
                let config = DownloadConfig { overwrite: download.overwrite, ..self.download.clone() };
                let mut on_progress = |progress: &crate::harmony::download::DownloadProgress| {
                    sink.report(Report::DownloadProgress(progress.clone()));
                };
                let paths = if download.link_type == LinkType::S3 {
                    let reader = S3Reader::new(client.cloud_credentials().await?);
                    download_from(Source::S3(&reader), &urls, &directory, &config, &mut on_progress, cancel).await
                } else {
                    download_all(&client, &urls, &directory, &config, &mut on_progress, cancel).await
                }
                .map_err(stopped)?;
                sink.report(Report::Files(paths.clone()));
                let mut rest = paths.as_slice();
                for (id, count) in per_job {
                    let (own, after) = rest.split_at(count.min(rest.len()));
                    self.job_files.insert(id, own.to_vec());
                    rest = after;
                }
                Ok(Some(Value::Files(paths)))
            }
            Query::Show(name) => match self.values.get(name) {
                Some(Value::Job(id)) => {
                    let job = crate::harmony::jobs::status(&client, id).await?;
                    sink.report(Report::Job(Box::new(job)));
                    Ok(None)
                }
                Some(Value::Files(paths)) => {
                    sink.report(Report::Files(paths.clone()));
                    Ok(None)
                }
                Some(Value::Links(links)) => {
                    sink.report(Report::Links(links.clone()));
                    Ok(None)
                }
                Some(Value::Shown(report)) => {
                    sink.report((**report).clone());
                    Ok(None)
                }
                Some(Value::Granules(results)) => {
                    sink.report(Report::Granules(results.clone()));
                    Ok(None)
                }
                None => Err(EvalError::Unusable(format!("{name} has no value in this session"))),
            },
            Query::Search(search) => {
                let report = crate::eval::search::run(&client, search, &self.env, cancel).await?;
                sink.report(report.clone());
                Ok(Some(match report {
                    Report::Granules(results) => Value::Granules(results),
                    other => Value::Shown(Box::new(other)),
                }))
            }
            Query::Login(_) | Query::Logout => unreachable!("login and logout return above"),
            other => {
                let request = self.request(other)?;
                let Some(value) = client.json_or_nothing(&request).await? else {
                    let done = match other {
                        Query::Labels(labels) => format!(
                            "labels {} {} {} job(s)",
                            labels.labels.join(", "),
                            if labels.add { "added to" } else { "removed from" },
                            labels.jobs.len()
                        ),
                        other => format!("{}: done", statement_name(other)),
                    };
                    sink.report(Report::Text(done));
                    return Ok(None);
                };
                if let Query::Capabilities(capabilities) = other {
                    self.catalog.saw(&capabilities.collection.0);
                    if capabilities.version.is_none() {
                        self.catalog.keep_capabilities(&self.env, &capabilities.collection.0, value.clone());
                    }
                }
                let report = match other {
                    Query::Capabilities(_) => Report::Capabilities(Box::new(value)),
                    Query::Jobs(_) => match serde_json::from_value::<JobListing>(value.clone()) {
                        Ok(listing) => Report::Jobs(Box::new(listing)),
                        // Not the documented shape: shown as it came rather than not at all.
                        Err(_) => Report::Answer { statement: "jobs", document: Box::new(value) },
                    },
                    other => Report::Answer { statement: statement_name(other), document: Box::new(value) },
                };
                sink.report(report.clone());
                Ok(Some(Value::Shown(Box::new(report))))
            }
        }
    }

    async fn wait_for_all(
        &self,
        client: &Client,
        job_ids: &[String],
        sink: &mut (dyn Sink + Send),
        cancel: &CancellationToken,
    ) -> EvalResult<Vec<Job>> {
        let mut on_progress = |brief: &crate::api::job::JobStatusBrief| {
            sink.report(Report::JobProgress {
                job_id: brief.job_id.clone(),
                status: brief.status,
                percent: brief.progress,
            });
        };
        Ok(wait_for_batch(client, job_ids, &self.wait, &mut on_progress, cancel).await?)
    }

    async fn wait_for(
        &self,
        client: &Client,
        job_id: &str,
        sink: &mut (dyn Sink + Send),
        cancel: &CancellationToken,
    ) -> EvalResult<Job> {
        let mut on_progress = |brief: &crate::api::job::JobStatusBrief| {
            sink.report(Report::JobProgress {
                job_id: brief.job_id.clone(),
                status: brief.status,
                percent: brief.progress,
            });
        };
        Ok(wait(client, job_id, &self.wait, &mut on_progress, cancel).await?)
    }

    /// What `env` shows: the environment, its Harmony root and the CMR it searches.
    fn environment_report(&self) -> Report {
        Report::Environment {
            env: self.env.clone(),
            root_url: self.env.root_url(),
            cmr_url: crate::api::cmr::cmr_root(&self.env),
        }
    }

    fn execute(&mut self, cell: &str, statement: &CheckedStatement, sink: &mut dyn Sink) -> bool {
        let query = match (&statement.query, self.mode) {
            (query, Mode::ShowUrl) if is_request(query) => Query::Url(Box::new(query.clone())),
            (query, Mode::ShowCurl) if is_request(query) => Query::Curl(Box::new(query.clone())),
            (query, _) => query.clone(),
        };
        let succeeded = match &query {
            Query::Env(None) => {
                sink.report(self.environment_report());
                true
            }
            Query::Env(Some(env)) => {
                self.env = env.clone();
                sink.report(self.environment_report());
                true
            }
            Query::Set(Setting::DefaultLabel(label)) => {
                self.options.default_label = label.clone();
                let text = match label {
                    Some(label) => format!("new jobs will be labelled `{label}`"),
                    None => "new jobs will get no default label".to_owned(),
                };
                sink.report(Report::Text(text));
                true
            }
            Query::Help(topic) => {
                sink.report(Report::Help(help::render(topic.as_deref())));
                true
            }
            Query::Warn(text) => {
                sink.report(Report::Warning(text.clone()));
                true
            }
            Query::Clear => {
                sink.report(Report::Clear);
                true
            }
            Query::Print(text) => {
                sink.report(Report::Text(text.clone()));
                true
            }
            Query::Url(inner) | Query::Curl(inner) => {
                let show_url = matches!(query, Query::Url(_));
                match self.request(inner) {
                    Ok(request) if show_url => match request.to_url() {
                        Ok(url) => {
                            sink.report(Report::Url(url));
                            true
                        }
                        Err(error) => self.fail(cell, statement, EvalError::Unusable(error.to_string()), sink),
                    },
                    Ok(request) => {
                        let mut headers =
                            vec![Header { name: "User-Agent".into(), value: HeaderValue::Plain(user_agent()) }];
                        // The request as sent carries the credentials; the rendering shows that, never them.
                        if matches!(self.credentials, Credentials::Token(_) | Credentials::Basic { .. }) {
                            headers.push(Header { name: "Authorization".into(), value: HeaderValue::Masked });
                        }
                        sink.report(Report::Curl(request.to_curl(&headers)));
                        true
                    }
                    Err(error) => self.fail(cell, statement, error, sink),
                }
            }
            Query::Open(open) => match self.files_of(&open.target) {
                Ok(files) => {
                    let mut ok = true;
                    for path in files {
                        match crate::eval::files::open_file(&path, open) {
                            Ok(summary) => sink.report(Report::Opened(Box::new(summary))),
                            Err(error) => {
                                ok = self.fail(cell, statement, error, sink);
                                break;
                            }
                        }
                    }
                    ok
                }
                Err(error) => self.fail(cell, statement, error, sink),
            },
            Query::Plot(plot) if plot.kind == Some(PlotKind::Granules) => {
                let found = match &plot.target {
                    Target::Name(name) => self.values.get(name),
                    Target::Path(_) => None,
                };
                match found {
                    Some(Value::Granules(results)) => match crate::eval::search::plot_granules(results) {
                        Ok(figure) => {
                            let name = format!("{}_granules", results.collection);
                            sink.report(Report::Figure { name, figure: Box::new(figure) });
                            true
                        }
                        Err(error) => self.fail(cell, statement, error, sink),
                    },
                    _ => self.fail(
                        cell,
                        statement,
                        EvalError::Unusable(
                            "`plot granules` needs a name bound to a `granules` result in this session".to_owned(),
                        ),
                        sink,
                    ),
                }
            }
            Query::Plot(plot) => match self.plot_inputs(&plot.target, plot.kind == Some(PlotKind::Track)) {
                Ok((files, areas)) => match crate::eval::files::plot_files(&files, plot, &areas) {
                    Ok(figure) => {
                        let name = crate::eval::files::figure_name(&files, plot);
                        sink.report(Report::Figure { name, figure: Box::new(figure) });
                        true
                    }
                    Err(error) => self.fail(cell, statement, error, sink),
                },
                Err(error) => self.fail(cell, statement, error, sink),
            },
            Query::Export(export) => match self.files_of(&export.target) {
                Ok(files) => match crate::eval::files::export_files(&files, export) {
                    Ok((exported, warning)) => {
                        if let Some(warning) = warning {
                            sink.report(Report::Warning(warning));
                        }
                        if let Some(name) = &statement.binding {
                            self.values.insert(name.clone(), Value::Files(vec![exported.path.clone()]));
                        }
                        sink.report(Report::Exported { path: exported.path, rows: exported.rows });
                        true
                    }
                    Err(error) => self.fail(cell, statement, error, sink),
                },
                Err(error) => self.fail(cell, statement, error, sink),
            },
            other => {
                sink.report(Report::NotAvailable {
                    statement: statement_name(other).to_owned(),
                    reason: not_available_reason(other),
                });
                false
            }
        };
        if succeeded && let (Some(name), Some(kind)) = (&statement.binding, produced_kind(&statement.query)) {
            self.scope.bindings.insert(name.clone(), kind);
        }
        succeeded
    }

    /// The files a target names: a path as typed, or the files bound to a name by `download`.
    fn files_of(&self, target: &crate::lang::query::Target) -> EvalResult<Vec<std::path::PathBuf>> {
        match target {
            crate::lang::query::Target::Path(path) => {
                let path = std::path::PathBuf::from(path);
                if path.is_file() {
                    Ok(vec![path])
                } else {
                    Err(EvalError::Unusable(format!("{} is not a file", path.display())))
                }
            }
            crate::lang::query::Target::Name(name) => match self.values.get(name) {
                Some(Value::Files(files)) => Ok(files.clone()),
                Some(Value::Job(_)) => Err(EvalError::Unusable(format!(
                    "`{name}` is a job: download it first, e.g. `files = download {name}`"
                ))),
                _ => Err(EvalError::Unusable(format!("`{name}` holds no files"))),
            },
        }
    }

    /// The files and request areas a plot draws: a job's downloaded files (a track map of a job that has
    /// none yet draws just its area), or the files bound to a name with the area of the job that
    /// produced them.
    fn plot_inputs(
        &self,
        target: &Target,
        is_track: bool,
    ) -> EvalResult<(Vec<PathBuf>, Vec<crate::eval::files::Ring>)> {
        let areas_of = |id: &str| self.job_request(id).map(crate::eval::files::request_areas).unwrap_or_default();
        if let Target::Name(name) = target {
            match self.values.get(name) {
                Some(Value::Job(id)) => {
                    let files = self.job_files.get(id).cloned().unwrap_or_default();
                    if files.is_empty() && !is_track {
                        return Err(EvalError::Unusable(format!(
                            "`{name}` is a job: download it first, e.g. `files = download {name}`"
                        )));
                    }
                    return Ok((files, areas_of(id)));
                }
                Some(Value::Files(files)) => {
                    let job = self.job_files.iter().find(|(_, paths)| *paths == files).map(|(id, _)| id.as_str());
                    return Ok((files.clone(), job.map(areas_of).unwrap_or_default()));
                }
                _ => {}
            }
        }
        Ok((self.files_of(target)?, Vec::new()))
    }

    /// The request job `id` was submitted with, if this session submitted it.
    pub fn job_request(&self, id: &str) -> Option<&SubsetQuery> {
        self.job_requests.get(id)
    }

    /// The value bound to `name`, if a statement produced one.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The ID of the last job submitted in this session.
    pub fn last_job(&self) -> Option<&str> {
        self.last_job.as_deref()
    }

    fn request(&self, query: &Query) -> EvalResult<Request> {
        let query = self.resolve(query)?;
        compile(&query, &self.env, &self.options).map_err(|error| {
            EvalError::Unusable(match error {
                CompileError::UnresolvedJob(name) => {
                    format!("{name} has no job ID in this session: give the job ID, e.g. `status 21469294-d6f7-42cc-89f2-c81990a5d7f4`")
                }
                other => other.to_string(),
            })
        })
    }

    /// The query with every job name and `last` replaced by the job's ID.
    fn resolve(&self, query: &Query) -> EvalResult<Query> {
        let id = |job: &JobRef| -> EvalResult<JobRef> {
            match job {
                JobRef::Id(_) => Ok(job.clone()),
                JobRef::Last => self.last_job.clone().map(JobRef::Id).ok_or_else(|| {
                    EvalError::Unusable("no job was submitted in this session yet: give the job ID, e.g. `status 21469294-d6f7-42cc-89f2-c81990a5d7f4`".to_owned())
                }),
                JobRef::Name(name) => match self.values.get(name) {
                    Some(Value::Job(id)) => Ok(JobRef::Id(id.clone())),
                    Some(_) => Err(EvalError::Unusable(format!("{name} is not a job"))),
                    None => Err(EvalError::Unusable(format!(
                        "{name} has no job ID in this session: give the job ID, e.g. `status 21469294-d6f7-42cc-89f2-c81990a5d7f4`"
                    ))),
                },
            }
        };
        let mut query = query.clone();
        match &mut query {
            Query::Labels(labels) => {
                labels.jobs = labels.jobs.iter().map(id).collect::<Result<_, _>>()?;
            }
            Query::Steps(steps) => steps.job = id(&steps.job)?,
            Query::Job(_, job) => *job = id(job)?,
            Query::Results(results) => results.job = id(&results.job)?,
            Query::Download(download) => download.jobs = download.jobs.iter().map(id).collect::<Result<_, _>>()?,
            Query::WaitJobs(jobs) => *jobs = jobs.iter().map(id).collect::<Result<_, _>>()?,
            Query::Url(inner) | Query::Curl(inner) => **inner = self.resolve(inner)?,
            Query::Search(search) => **search = crate::eval::search::with_shape_read(search)?,
            Query::Subset(subset) if subset.collection.is_none() => {
                if let Some(name) = subset.granules_from.clone() {
                    let Some(Value::Granules(results)) = self.values.get(&name) else {
                        return Err(EvalError::Unusable(format!(
                            "{name} holds no granules in this session: run its `granules` search first"
                        )));
                    };
                    let (collection, ids) = crate::eval::search::order_exactly(results)?;
                    subset.collection = Some(crate::lang::query::Collection(collection));
                    subset.granule_ids = ids;
                }
            }
            _ => {}
        }
        Ok(query)
    }

    fn fail(&self, cell: &str, statement: &CheckedStatement, error: EvalError, sink: &mut dyn Sink) -> bool {
        sink.report(Report::Failed(Failure::new(cell, statement.span, error)));
        false
    }
}

fn is_request(query: &Query) -> bool {
    matches!(
        query,
        Query::Capabilities(_)
            | Query::Subset(_)
            | Query::Jobs(_)
            | Query::Labels(_)
            | Query::Steps(_)
            | Query::Results(_)
            | Query::Search(_)
    ) || matches!(query, Query::Job(action, _) if !matches!(action, crate::lang::query::JobAction::Wait))
}

/// Statements that talk to Harmony when executed.
fn is_remote(query: &Query) -> bool {
    is_request(query)
        || matches!(
            query,
            Query::Job(JobAction::Wait, _)
                | Query::WaitJobs(_)
                | Query::Download(_)
                | Query::Show(_)
                | Query::Login(_)
                | Query::Logout
        )
}

/// The IDs of resolved job references.
/// A job reference `resolve` should have replaced; reaching this is a bug in the evaluator, said plainly.
fn unresolved_job() -> EvalError {
    EvalError::Unusable("internal: a job name was not resolved to its ID before running".to_owned())
}

fn job_ids(jobs: &[JobRef]) -> EvalResult<Vec<String>> {
    jobs.iter()
        .map(|job| match job {
            JobRef::Id(id) => Ok(id.clone()),
            _ => Err(unresolved_job()),
        })
        .collect()
}

/// What a user should know about a job that stopped short of `successful`, and what to type next.
fn after_waiting(job: &Job) -> Option<String> {
    let id = &job.job_id;
    match job.status {
        JobStatus::Paused => Some(format!(
            "job {id} is paused ({}): `resume {id}` processes the rest, `cancel {id}` stops it",
            job.message
        )),
        JobStatus::Canceled => Some(format!("job {id} was canceled ({})", job.message)),
        JobStatus::CompleteWithErrors => Some(format!("job {id} completed with errors ({})", job.message)),
        _ => None,
    }
}

/// How to go on after an interrupted download: the same statement resumes it; `cancel` stops the job.
fn resume_hint(ids: &[String], download: &crate::lang::query::DownloadQuery) -> String {
    let jobs = match ids {
        [id] => id.clone(),
        _ => format!("({})", ids.join(", ")),
    };
    let link = if download.link_type == LinkType::S3 { " s3" } else { "" };
    let to = download.directory.as_deref().map(|dir| format!(" to {dir:?}")).unwrap_or_default();
    let cancel = ids.iter().map(|id| format!("`cancel {id}`")).collect::<Vec<_>>().join(", ");
    format!(
        "downloading {jobs}; finished files are kept and partial ones stay as hidden `.NAME.hq-part` files: `download {jobs}{link}{to}` resumes them, {cancel} stops the job on Harmony"
    )
}

fn statement_name(query: &Query) -> &'static str {
    match query {
        Query::Login(_) => "login",
        Query::Logout => "logout",
        Query::Capabilities(_) => "capabilities",
        Query::Subset(_) => "subset",
        Query::Jobs(_) => "jobs",
        Query::Labels(_) => "labels",
        Query::Steps(_) => "steps",
        Query::Job(..) => "job statements",
        Query::Results(_) => "results",
        Query::Download(_) => "download",
        Query::Open(_) => "open",
        Query::Plot(_) => "plot",
        Query::Export(_) => "export",
        Query::Show(_) => "showing a name",
        _ => "this statement",
    }
}

fn not_available_reason(query: &Query) -> String {
    match query {
        Query::Open(_) | Query::Plot(_) | Query::Export(_) => {
            "opening and plotting files is not available in this version of hq yet; the statement is checked but not run".to_owned()
        }
        Query::Show(_) => "named results come from statements that talk to Harmony, which this version of hq does not run yet".to_owned(),
        _ => "talking to Harmony is not available in this version of hq yet; `url …` and `curl …` show the exact request it would send".to_owned(),
    }
}

/// Whether a job reference needs the session to resolve it.
pub fn needs_resolution(job: &JobRef) -> bool {
    !matches!(job, JobRef::Id(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(session: &mut Session, cell: &str) -> Vec<Report> {
        let mut reports = Vec::new();
        session.run(cell, &mut reports);
        reports
    }

    /// A session that submitted job `j1` with a bbox and downloaded the real fixture for it, as
    /// `execute_remote` records them.
    fn session_with_a_downloaded_job() -> (Session, PathBuf) {
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5");
        let mut session = Session::default();
        let checked = check(&parse("subset ATL03 bbox(95, 87.29, 96, 87.3)").ast, &Scope::default());
        let Some(Query::Subset(subset)) = checked.statements.first().map(|s| s.query.clone()) else {
            panic!("the subset checks")
        };
        session.job_requests.insert("j1".into(), *subset);
        session.job_files.insert("j1".into(), vec![fixture.clone()]);
        session.values.insert("job".into(), Value::Job("j1".into()));
        session.values.insert("files".into(), Value::Files(vec![fixture.clone()]));
        for (name, kind) in
            [("job", crate::lang::check::ValueKind::Job), ("files", crate::lang::check::ValueKind::Files)]
        {
            session.scope.bindings.insert(name.into(), kind);
        }
        (session, fixture)
    }

    #[test]
    fn track_maps_of_a_job_or_its_files_outline_the_request() {
        let (session, fixture) = session_with_a_downloaded_job();
        let box_ring = vec![(95.0, 87.29), (96.0, 87.29), (96.0, 87.3), (95.0, 87.3), (95.0, 87.29)];
        for name in ["job", "files"] {
            let (files, areas) = session.plot_inputs(&Target::Name(name.into()), true).unwrap();
            assert_eq!(files, vec![fixture.clone()], "{name}");
            assert_eq!(areas, vec![box_ring.clone()], "{name}");
        }
        let (files, areas) = session.plot_inputs(&Target::Path(fixture.display().to_string()), true).unwrap();
        assert_eq!((files.len(), areas.len()), (1, 0));
    }

    #[test]
    fn plot_track_and_export_run_on_a_job_name() {
        let (mut session, _) = session_with_a_downloaded_job();
        let reports = run(&mut session, "plot track job");
        assert!(
            matches!(reports.last(), Some(Report::Figure { figure, .. }) if figure.svg.contains("request area")),
            "{reports:?}"
        );
        let reports = run(&mut session, "plot job");
        assert!(matches!(reports.last(), Some(Report::Figure { .. })), "{reports:?}");
        let undownloaded = session_with_a_downloaded_job().0;
        let mut bare = undownloaded;
        bare.job_files.clear();
        let reports = run(&mut bare, "plot photons job");
        assert!(format!("{reports:?}").contains("download it first"), "{reports:?}");
        let reports = run(&mut bare, "plot track job");
        assert!(matches!(reports.last(), Some(Report::Figure { .. })), "the request area alone: {reports:?}");
    }

    #[test]
    fn env_and_label_settings_carry_across_cells() {
        let mut session = Session::default();
        run(&mut session, "env local:4000\nset label harmony-py");
        let reports = run(&mut session, "url subset C1-PROV");
        assert_eq!(
            reports,
            [Report::Url("http://localhost:4000/C1-PROV/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&label=harmony-py&variable=all".into())]
        );
    }

    #[test]
    fn a_cell_with_an_error_runs_nothing() {
        let mut session = Session::default();
        let reports = run(&mut session, "env uat\nsubset ATL03 bbox(1, 2, 3)");
        assert!(matches!(&reports[..], [Report::Diagnostics { .. }]));
        assert_eq!(session.env(), &Environment::Prod);
    }

    #[test]
    fn show_modes_render_instead_of_sending() {
        let mut session = Session::new(Config { mode: Mode::ShowCurl, ..Config::default() });
        let reports = run(&mut session, "capabilities ATL03");
        let Report::Curl(curl) = &reports[0] else { panic!("{reports:?}") };
        assert_eq!(
            curl,
            &format!(
                "curl -L -H 'User-Agent: {}' 'https://harmony.earthdata.nasa.gov/capabilities?shortname=ATL03'",
                user_agent()
            )
        );
    }

    #[test]
    fn statements_that_need_the_network_say_so() {
        let mut session = Session::default();
        let reports = run(&mut session, "subset ATL03");
        assert!(matches!(&reports[0], Report::NotAvailable { statement, .. } if statement == "subset"));
    }

    #[test]
    fn env_shows_the_cmr_its_searches_go_to() {
        let mut session = Session::default();
        let shown: Vec<String> = ["env prod", "env uat", "env local:3000"]
            .into_iter()
            .flat_map(|cell| run(&mut session, cell))
            .map(|report| crate::output::report::plain(&report))
            .collect();
        assert_eq!(
            shown,
            [
                "environment: prod (https://harmony.earthdata.nasa.gov), CMR https://cmr.earthdata.nasa.gov",
                "environment: uat (https://harmony.uat.earthdata.nasa.gov), CMR https://cmr.uat.earthdata.nasa.gov",
                "environment: local (http://localhost:3000), CMR http://localhost:3000",
            ]
        );
    }

    #[test]
    fn curl_shows_that_credentials_go_but_never_what_they_are() {
        use crate::harmony::auth::Secret;
        let cases = [
            (Credentials::Token(Secret::new("tok-3f9a")), true),
            (Credentials::Basic { user: "alice".into(), password: Secret::new("pw-77c1") }, true),
            (Credentials::Anonymous, false),
        ];
        for (credentials, sends) in cases {
            let mut session = Session::new(Config { mode: Mode::ShowCurl, credentials, ..Config::default() });
            let reports = run(&mut session, "capabilities ATL03\nurl capabilities ATL03");
            let shown = format!("{reports:?}");
            assert!(!shown.contains("tok-3f9a") && !shown.contains("pw-77c1"), "{shown}");
            assert_eq!(shown.contains("Authorization: *****"), sends, "{shown}");
        }
    }

    #[test]
    fn a_shape_file_cannot_be_a_url() {
        let mut session = Session::default();
        let reports = run(&mut session, "url subset A shape(\"x.geojson\")");
        let Report::Failed(failure) = &reports[0] else { panic!("{reports:?}") };
        assert!(failure.message().contains("shape file"), "{}", failure.message());
        assert_eq!(failure.error.name(), "UsageError");
    }
}
