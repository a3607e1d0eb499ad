//! `harmonyql.Session`: the evaluator's session for Python, and what a cell gives back (`Cell`, `Output`, `Job`).
//!
//! Delivers each report the way `kernel::hq` delivers it in our own kernel, to a Python *front end* object (the
//! `%%hq` magic's, which only maps each call onto an IPython display call): progress live as updatable displays,
//! text on the streams, every other report as the bundles `output::report` rendered, the last one as the cell's
//! value, an error diagnostic as one error with the caret. Interrupts (`KeyboardInterrupt`) cancel the running wait
//! or download through the session's cancellation token.

use std::collections::HashMap;
use std::time::Duration;

use harmonyql::api::job::Job as JobDocument;
use harmonyql::eval::login::{OTHER_WAYS, PromptError, PromptFuture, Prompter};
use harmonyql::eval::session::{Config, Session, Value};
use harmonyql::eval::sink::{Report, Sink};
use harmonyql::harmony::starting::starting_environment;
use harmonyql::output::cell::{CellError, Shown};
use harmonyql::output::{MimeBundle, harmony, report};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use tokio_util::sync::CancellationToken;

use crate::convert;

/// How often a running cell looks for a pending `KeyboardInterrupt` (Python only sees signals when asked).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A HarmonyQL session: environment, login, settings, names and jobs live across `run` calls.
///
/// `Session(env=None)`: `env` is `prod`, `uat`, `sit`, `local`, `local:PORT` or a root URL; by default
/// `HARMONY_ROOT_URL`, else NASA's production Harmony — the rule our kernel and `hq` follow too.
#[pyclass(module = "harmonyql", name = "Session", unsendable)]
pub struct PySession {
    session: Session,
    /// Questions `login` asks while a cell runs, answered with Python's `getpass`/`input` by `run`.
    asks: tokio::sync::mpsc::UnboundedReceiver<Ask>,
    /// The newest document of every job this session has shown, by ID: what a Python `Job` holds.
    jobs: HashMap<String, JobDocument>,
    /// One runtime for the session's life, so its HTTP connections are reused from cell to cell.
    runtime: tokio::runtime::Runtime,
}

/// One question from the evaluator, and where the answer goes.
struct Ask {
    prompt: String,
    hidden: bool,
    answer: tokio::sync::oneshot::Sender<Result<String, PromptError>>,
}

/// The evaluator's [`Prompter`] for Python: passes each question to the running cell's loop, which asks it with
/// `getpass.getpass` (hidden) or `input` under the GIL; in ipykernel both go over Jupyter's stdin channel.
#[derive(Debug)]
struct PythonPrompter(tokio::sync::mpsc::UnboundedSender<Ask>);

impl Prompter for PythonPrompter {
    fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a> {
        Box::pin(async move {
            let (answer, answered) = tokio::sync::oneshot::channel();
            let gone = || PromptError::Unavailable("the cell ended before the question could be asked".to_owned());
            self.0.send(Ask { prompt: prompt.to_owned(), hidden, answer }).map_err(|_| gone())?;
            answered.await.unwrap_or_else(|_| Err(gone()))
        })
    }
}

impl std::fmt::Debug for Ask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask").field("prompt", &self.prompt).field("hidden", &self.hidden).finish_non_exhaustive()
    }
}

/// Passes the evaluator's reports to the cell's loop.
struct ChannelSink(tokio::sync::mpsc::UnboundedSender<Report>);

impl Sink for ChannelSink {
    fn report(&mut self, report: Report) {
        // The receiver lives until the cell's loop ends, which is after the evaluator is done.
        let _ = self.0.send(report);
    }
}

/// What the evaluator's loop collected from one cell.
struct Ran {
    reports: Vec<Report>,
    /// The interrupt that stopped the cell, if one did.
    interrupted: bool,
    /// The first error a front end call raised; the cell still runs to its end so no job is left half-followed.
    front_end_error: Option<PyErr>,
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(signature = (env = None))]
    fn new(env: Option<&str>) -> PyResult<Self> {
        let env = match env {
            Some(text) => text.parse().map_err(|error| PyValueError::new_err(format!("{error}")))?,
            None => starting_environment().map_err(|error| PyValueError::new_err(error.to_string()))?,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| PyRuntimeError::new_err(format!("cannot start the async runtime: {error}")))?;
        let mut session = Session::new(Config { env, ..Config::default() });
        let (sender, asks) = tokio::sync::mpsc::unbounded_channel();
        session.set_prompter(std::sync::Arc::new(PythonPrompter(sender)));
        Ok(PySession { session, asks, jobs: HashMap::new(), runtime })
    }

    /// The environment in use, as `env` shows it (`local:3000`, `prod`, a URL).
    #[getter]
    fn env(&self) -> String {
        self.session.env().to_string()
    }

    /// The Harmony root URL requests go to.
    #[getter]
    fn root_url(&self) -> String {
        self.session.env().root_url()
    }

    /// Every name bound in the session, as the Python values `run` hands out.
    #[getter]
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let names = PyDict::new(py);
        for name in self.session.scope().bindings.keys() {
            if let Some(value) = self.session.value(name) {
                names.set_item(name, self.python_value(py, value)?)?;
            }
        }
        Ok(names)
    }

    /// Runs one cell to its end (waits and downloads included) and returns a `Cell`.
    ///
    /// `front_end`, when given, shows the cell as it runs: `progress(key, data, metadata)` for displays that
    /// update in place (the same `key` again means "replace"), `display(data, metadata)`, `stdout(text)`,
    /// `stderr(text)`, `page(text)` and `clear()`. Without one, text goes to `sys.stdout`/`sys.stderr` and
    /// displays are only collected in `Cell.outputs`. A failing cell raises `harmonyql.HarmonyQLError` (its
    /// `cell` attribute holds what ran before); `KeyboardInterrupt` stops a wait or download and is raised
    /// again once the cell has stopped.
    #[pyo3(signature = (cell, front_end = None))]
    fn run(&mut self, py: Python<'_>, cell: &str, front_end: Option<Py<PyAny>>) -> PyResult<Cell> {
        let before: HashMap<String, Value> = self
            .session
            .scope()
            .bindings
            .keys()
            .filter_map(|name| Some((name.clone(), self.session.value(name)?.clone())))
            .collect();
        let ran = py.detach(|| self.drive(cell, front_end.as_ref()));
        let shown_jobs: Vec<String> = ran
            .reports
            .iter()
            .filter_map(|report| match report {
                Report::Job(job) => Some(job.job_id.clone()),
                _ => None,
            })
            .collect();
        for report in &ran.reports {
            if let Report::Job(job) = report {
                self.jobs.insert(job.job_id.clone(), (**job).clone());
            }
        }
        // Names this cell bound or changed, and names of jobs it showed anew (after `wait job`, `job.status`
        // in Python is the final one).
        let names = PyDict::new(py);
        for name in self.session.scope().bindings.keys() {
            let Some(value) = self.session.value(name) else { continue };
            let refreshed = matches!(value, Value::Job(id) if shown_jobs.contains(id));
            if before.get(name) != Some(value) || refreshed {
                names.set_item(name, self.python_value(py, value)?)?;
            }
        }
        let delivered = deliver(py, ran.reports, front_end.as_ref(), names.unbind())?;
        if let Some(error) = ran.front_end_error {
            return Err(error);
        }
        match delivered.error {
            _ if ran.interrupted => {
                let why = delivered.error.map(|(_, evalue, _)| format!(": {evalue}")).unwrap_or_default();
                Err(PyKeyboardInterrupt::new_err(format!("interrupted{why}")))
            }
            Some((ename, evalue, traceback)) => {
                let class = py.import("harmonyql._errors")?.getattr("HarmonyQLError")?;
                let error = class.call1((ename, evalue, traceback, delivered.cell))?;
                Err(PyErr::from_value(error))
            }
            None => Ok(delivered.cell),
        }
    }

    fn __repr__(&self) -> String {
        format!("harmonyql.Session(env={:?})", self.session.env().to_string())
    }
}

impl PySession {
    /// Runs the cell on the session's runtime with the GIL released, forwarding progress to the front end as it
    /// comes, answering `login`'s questions, and checking for interrupts.
    fn drive(&mut self, cell: &str, front_end: Option<&Py<PyAny>>) -> Ran {
        let cancel = CancellationToken::new();
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let session = &mut self.session;
        let asks = &mut self.asks;
        self.runtime.block_on(async {
            let run = {
                let cancel = cancel.clone();
                async move {
                    let mut sink = ChannelSink(sender);
                    session.run_async(cell, &mut sink, &cancel).await
                }
            };
            tokio::pin!(run);
            let mut finished = false;
            let mut ran = Ran { reports: Vec::new(), interrupted: false, front_end_error: None };
            let mut signals = tokio::time::interval(SIGNAL_CHECK);
            loop {
                tokio::select! {
                    _ = &mut run, if !finished => finished = true,
                    report = receiver.recv() => match report {
                        Some(report @ (Report::JobProgress { .. } | Report::DownloadProgress(_))) => {
                            if let (Some(front_end), None) = (front_end, &ran.front_end_error) {
                                ran.front_end_error = Python::attach(|py| show_progress(py, front_end, &report)).err();
                            }
                        }
                        Some(other) => ran.reports.push(other),
                        // The sink went with the finished evaluator: every report has arrived.
                        None => break,
                    },
                    Some(ask) = asks.recv() => {
                        let answer = Python::attach(|py| ask_python(py, &ask.prompt, ask.hidden));
                        // The asker may have been interrupted meanwhile; nobody is left to tell.
                        let _ = ask.answer.send(answer);
                    }
                    _ = signals.tick(), if !ran.interrupted => {
                        if Python::attach(|py| py.check_signals()).is_err() {
                            ran.interrupted = true;
                            cancel.cancel();
                        }
                    }
                }
            }
            ran
        })
    }

    /// A bound value as Python sees it: a `Job`, `list[pathlib.Path]`, `list[str]`, a `dict` for Harmony's JSON
    /// answers (capabilities, steps, …) and for CMR searches, else the `Output` the statement showed.
    fn python_value<'py>(&self, py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
        Ok(match value {
            Value::Job(id) => Bound::new(py, Job::new(py, id, self.jobs.get(id))?)?.into_any(),
            Value::Files(files) => convert::paths(py, files)?,
            Value::Links(links) => PyList::new(py, links)?.into_any(),
            // A granules search as its typed JSON: hits, the URL, the granules as CMR gave them.
            Value::Granules(results) => convert::json(py, &serde_json::to_value(results).unwrap_or_default())?,
            Value::Shown(shown) => match report::document(shown) {
                Some(document) => convert::json(py, &document)?,
                None => match report::bundles(shown).pop() {
                    Some(bundle) => Bound::new(py, Output::new(py, &bundle)?)?.into_any(),
                    None => py.None().into_bound(py),
                },
            },
        })
    }
}

/// Asks the user with Python's own prompts, so ipykernel routes them over Jupyter's stdin channel.
fn ask_python(py: Python<'_>, prompt: &str, hidden: bool) -> Result<String, PromptError> {
    let asked = if hidden {
        py.import("getpass").and_then(|getpass| getpass.call_method1("getpass", (prompt,)))
    } else {
        py.import("builtins").and_then(|builtins| builtins.call_method1("input", (prompt,)))
    };
    match asked.and_then(|answer| answer.extract::<String>()) {
        Ok(answer) => Ok(answer),
        Err(error) if error.is_instance_of::<PyKeyboardInterrupt>(py) => Err(PromptError::Interrupted),
        Err(error) => Err(PromptError::Unavailable(format!("this front end cannot ask ({error}): {OTHER_WAYS}"))),
    }
}

/// Shows a progress report live. One display per job and one for downloads: the front end replaces the display
/// it made for the same key, so the saved notebook keeps the final state.
fn show_progress(py: Python<'_>, front_end: &Py<PyAny>, report: &Report) -> PyResult<()> {
    let key = match report {
        Report::JobProgress { job_id, .. } => format!("job:{job_id}"),
        Report::DownloadProgress(_) => "downloads".to_owned(),
        _ => return Ok(()),
    };
    let Some(bundle) = report::progress(report) else { return Ok(()) };
    let (data, metadata) = convert::bundle(py, &bundle)?;
    front_end.call_method1(py, "progress", (key, data, metadata))?;
    Ok(())
}

/// What delivering a cell's reports came to.
struct Delivered {
    cell: Cell,
    /// `(ename, evalue, traceback lines)` of the cell's error, as our kernel would reply.
    error: Option<(String, String, Vec<String>)>,
}

/// Shows the cell's reports in order, as the kernel does; the last rendering becomes the cell's value.
fn deliver(
    py: Python<'_>,
    reports: Vec<Report>,
    front_end: Option<&Py<PyAny>>,
    names: Py<PyDict>,
) -> PyResult<Delivered> {
    let call = |method: &str, args: Bound<'_, PyTuple>| -> PyResult<()> {
        match front_end {
            Some(front_end) => front_end.call_method1(py, method, args).map(drop),
            None => {
                let stream = match method {
                    "stderr" => "stderr",
                    "stdout" | "page" => "stdout",
                    _ => return Ok(()),
                };
                py.import("sys")?.getattr(stream)?.call_method1("write", args).map(drop)
            }
        }
    };
    let outputs = PyList::empty(py);
    let shown = harmonyql::output::cell::deliver(reports);
    for shown in shown.shown {
        match shown {
            Shown::Stdout(text) => call("stdout", PyTuple::new(py, [text])?)?,
            Shown::Stderr(text) => call("stderr", PyTuple::new(py, [text])?)?,
            Shown::Page(text) => call("page", PyTuple::new(py, [text])?)?,
            Shown::Clear => call("clear", PyTuple::empty(py))?,
            Shown::Display(bundle) => {
                let output = Output::new(py, &bundle)?;
                if front_end.is_some() {
                    call("display", PyTuple::new(py, [output.data.bind(py).as_any(), output.metadata.bind(py)])?)?;
                }
                outputs.append(output)?;
            }
        }
    }
    let value = match shown.value {
        Some(bundle) => {
            let output = Py::new(py, Output::new(py, &bundle)?)?;
            outputs.append(output.clone_ref(py))?;
            Some(output)
        }
        None => None,
    };
    let error = shown.error.map(|CellError { ename, evalue, traceback }| (ename, evalue, traceback));
    let cell = Cell { ok: error.is_none(), names, outputs: outputs.unbind(), value };
    Ok(Delivered { cell, error })
}

/// What one cell gave: whether it ran, the names it bound (as Python values), everything it displayed and its
/// value (the last display, which the `%%hq` magic returns so it becomes `Out[n]`).
#[pyclass(module = "harmonyql", frozen)]
pub struct Cell {
    /// Whether every statement ran without error.
    #[pyo3(get)]
    ok: bool,
    /// Names bound or changed by the cell: `Job`, `list[pathlib.Path]`, `list[str]`, `dict` or `Output`.
    #[pyo3(get)]
    names: Py<PyDict>,
    /// Every display, in order, the value included.
    #[pyo3(get)]
    outputs: Py<PyList>,
    /// The last display, if the cell ended with one.
    #[pyo3(get)]
    value: Option<Py<Output>>,
}

#[pymethods]
impl Cell {
    fn __repr__(&self, py: Python<'_>) -> String {
        let names: Vec<String> = self.names.bind(py).keys().iter().map(|key| key.to_string()).collect();
        let ok = if self.ok { "True" } else { "False" };
        format!("harmonyql.Cell(ok={ok}, names={names:?}, outputs={})", self.outputs.bind(py).len())
    }
}

/// One rendered display: MIME data and metadata, shown by IPython through `_repr_mimebundle_`.
#[pyclass(module = "harmonyql", frozen)]
pub struct Output {
    /// MIME type → data (`text/plain` always there).
    #[pyo3(get)]
    data: Py<PyDict>,
    /// MIME type → metadata (image sizes, the JSON view's `expanded`).
    #[pyo3(get)]
    metadata: Py<PyDict>,
    text: String,
}

impl Output {
    fn new(py: Python<'_>, bundle: &MimeBundle) -> PyResult<Self> {
        let (data, metadata) = convert::bundle(py, bundle)?;
        Ok(Output { data: data.unbind(), metadata: metadata.unbind(), text: bundle.text_plain().to_owned() })
    }
}

#[pymethods]
impl Output {
    /// The `text/plain` rendering.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    #[pyo3(signature = (include = None, exclude = None))]
    fn _repr_mimebundle_<'py>(
        &self,
        py: Python<'py>,
        include: Option<Bound<'py, PyAny>>,
        exclude: Option<Bound<'py, PyAny>>,
    ) -> (Bound<'py, PyDict>, Bound<'py, PyDict>) {
        // IPython filters by include/exclude itself after the call.
        let _ = (include, exclude);
        (self.data.bind(py).clone(), self.metadata.bind(py).clone())
    }

    fn __repr__(&self) -> String {
        self.text.clone()
    }
}

/// A Harmony job as the session last saw it. Shows as the same job card as in our kernel.
#[pyclass(module = "harmonyql", frozen)]
pub struct Job {
    /// The job ID.
    #[pyo3(get)]
    id: String,
    /// `running`, `successful`, `failed`, … (`None` if the session never saw the job's document).
    #[pyo3(get)]
    status: Option<String>,
    /// 0..=100.
    #[pyo3(get)]
    progress: Option<u8>,
    /// Harmony's message.
    #[pyo3(get)]
    message: Option<String>,
    /// The result (data) links on the job's document.
    #[pyo3(get)]
    links: Vec<String>,
    /// The request URL Harmony recorded.
    #[pyo3(get)]
    request: Option<String>,
    /// The job's labels.
    #[pyo3(get)]
    labels: Vec<String>,
    /// The whole job document as Harmony sent it.
    #[pyo3(get)]
    document: Option<Py<PyAny>>,
    card: Option<MimeBundle>,
}

impl Job {
    fn new(py: Python<'_>, id: &str, document: Option<&JobDocument>) -> PyResult<Self> {
        let as_json = document.and_then(|job| serde_json::to_value(job).ok());
        let card = document.map(|job| {
            let report = Report::Job(Box::new(job.clone()));
            harmony::job(job, report::plain(&report))
        });
        Ok(Job {
            id: id.to_owned(),
            status: document.map(|job| job.status.as_str().to_owned()),
            progress: document.map(|job| job.progress),
            message: document.map(|job| job.message.clone()),
            links: document.map(|job| job.data_links().map(|link| link.href.clone()).collect()).unwrap_or_default(),
            request: document.map(|job| job.request.clone()),
            labels: document.map(|job| job.labels.clone()).unwrap_or_default(),
            document: as_json.map(|json| convert::json(py, &json).map(Bound::unbind)).transpose()?,
            card,
        })
    }
}

#[pymethods]
impl Job {
    #[pyo3(signature = (include = None, exclude = None))]
    fn _repr_mimebundle_<'py>(
        &self,
        py: Python<'py>,
        include: Option<Bound<'py, PyAny>>,
        exclude: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
        let _ = (include, exclude);
        let card = self.card.clone().unwrap_or_else(|| MimeBundle::text(format!("job {}", self.id)));
        convert::bundle(py, &card)
    }

    fn __str__(&self) -> String {
        self.id.clone()
    }

    fn __repr__(&self) -> String {
        match &self.status {
            Some(status) => format!("harmonyql.Job(id={:?}, status={status:?})", self.id),
            None => format!("harmonyql.Job(id={:?})", self.id),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Job>().is_ok_and(|other| other.get().id == self.id)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.id.hash(&mut hasher);
        hasher.finish()
    }
}

/// The class object of [`Job`], for `expand` (a job passed into a cell is its ID).
pub fn job_id(value: &Bound<'_, PyAny>) -> Option<String> {
    value.cast::<Job>().ok().map(|job| job.get().id.clone())
}
