//! Why a well-formed statement did not run: the evaluator's one error type. Causes are kept as sources
//! (Harmony's typed error, HDF5's, the file system's), never flattened into strings, so front ends can name
//! the kind of failure (the kernel's `ename`) and show the whole chain.

use crate::plot::PlotError;

/// A statement that checked fine but failed when it ran.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Harmony, the network or Earthdata Login said no (Harmony's `{code, description}` kept).
    #[error(transparent)]
    Harmony(#[from] crate::harmony::error::Error),
    /// NASA's CMR (or `hq serve`'s) refused or failed a search (CMR's `errors` kept).
    #[error(transparent)]
    Cmr(#[from] crate::harmony::cmr::CmrError),
    /// The environment's Harmony could not be reached at all: says what to do (start `hq serve`, switch with
    /// `env`, check the network), the connection error kept as the cause.
    #[error("cannot reach the Harmony of `{env}` ({source}): {hint}")]
    Unreachable {
        /// The environment in use.
        env: String,
        /// What to do.
        hint: String,
        /// The connection error (boxed: it is large, and results carry errors by value).
        #[source]
        source: Box<crate::harmony::error::Error>,
    },
    /// `login` did not log in.
    #[error(transparent)]
    Login(#[from] crate::eval::login::LoginError),
    /// A data file could not be read or written.
    #[error("{context}: {source}")]
    Data {
        /// What we were doing, naming the file.
        context: String,
        /// Why.
        #[source]
        source: crate::data::Error,
    },
    /// The HDF5 library refused a file.
    #[error("{context}: {source}")]
    Hdf5 {
        /// What we were doing, naming the file.
        context: String,
        /// Why.
        #[source]
        source: hdf5::Error,
    },
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing, naming the file.
        context: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("{context}: {source}")]
    Plot {
        /// What was being drawn.
        context: String,
        /// Why.
        #[source]
        source: PlotError,
    },
    /// A download stopped short (it stalled, or the server cut it off) after its retries; says which
    /// statement picks it up again, where the part file waits.
    #[error("{source}\n{resume}")]
    Unfinished {
        /// The statement that resumes it.
        resume: String,
        /// What stopped it.
        #[source]
        source: crate::harmony::error::Error,
    },
    /// A wait or download was stopped (interrupt); says how to go on.
    #[error("stopped: {0}")]
    Stopped(String),
    /// The statement does not fit what it names (a job not downloaded yet, a GeoTIFF where groups are needed, a
    /// name with no value); the message says what to do instead.
    #[error("{0}")]
    Unusable(String),
}

impl EvalError {
    /// A Harmony error seen while talking to `env`: a connection that could not be made becomes
    /// [`EvalError::Unreachable`] with what to do instead of a bare connection error.
    pub fn from_harmony(error: crate::harmony::error::Error, env: &crate::api::environment::Environment) -> Self {
        if !matches!(error, crate::harmony::error::Error::Connection { .. }) {
            return EvalError::Harmony(error);
        }
        let hint = if env.is_local() {
            format!(
                "no local Harmony is listening there: start one with `hq serve --port {}` (or `make lab`), or switch \
                 with `env prod` / `env uat` and `login`",
                env.root_url().rsplit(':').next().unwrap_or("3000").trim_end_matches('/')
            )
        } else {
            "check the network (and a proxy), or switch with `env local:PORT` to a local Harmony started by `hq serve`; \
             `login` once it answers"
                .to_owned()
        };
        EvalError::Unreachable { env: env.to_string(), hint, source: Box::new(error) }
    }

    /// A short name for the kind of failure, as a notebook shows it (`HarmonyError`, `DataError`, …).
    pub fn name(&self) -> &'static str {
        match self {
            EvalError::Harmony(crate::harmony::error::Error::Cancelled { .. })
            | EvalError::Cmr(crate::harmony::cmr::CmrError::Cancelled { .. })
            | EvalError::Stopped(_) => "Interrupted",
            EvalError::Harmony(_) | EvalError::Unfinished { .. } | EvalError::Unreachable { .. } => "HarmonyError",
            EvalError::Cmr(_) => "CmrError",
            EvalError::Login(_) => "LoginError",
            EvalError::Data { .. } | EvalError::Hdf5 { .. } => "DataError",
            EvalError::Io { .. } => "FileError",
            EvalError::Plot { .. } => "PlotError",
            EvalError::Unusable(_) => "UsageError",
        }
    }

    /// Maps a data error, with what was being done.
    pub fn data(context: impl Into<String>) -> impl FnOnce(crate::data::Error) -> EvalError {
        let context = context.into();
        move |source| EvalError::Data { context, source }
    }

    /// Maps an HDF5 error, with what was being done.
    pub fn hdf5(context: impl Into<String>) -> impl FnOnce(hdf5::Error) -> EvalError {
        let context = context.into();
        move |source| EvalError::Hdf5 { context, source }
    }

    /// Maps an I/O error, with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EvalError {
        let context = context.into();
        move |source| EvalError::Io { context, source }
    }

    /// Maps a plotting error, with what was being drawn.
    pub fn plot(context: impl Into<String>) -> impl FnOnce(PlotError) -> EvalError {
        let context = context.into();
        move |source| EvalError::Plot { context, source }
    }
}

/// Shorthand for the evaluator's results.
pub type EvalResult<T> = Result<T, EvalError>;
