//! `hq serve`: a Harmony-compatible service on loopback, with sample collections and real transformations.
//!
//! Never imports `crate::harmony` (the client): the server and the client meet only in tests.
//!
//! Map: [`catalog`] (collections, capabilities, granule search) → [`params`] (Harmony's parameter parsing)
//! → [`engine`] (job state machine and workers, persisted by [`store`]) → [`view`] (job, STAC documents)
//! → [`routes`] (thin axum handlers) behind [`auth`] (anonymous, or Earthdata Login emulated on loopback).

pub mod auth;
pub mod catalog;
pub mod cmr;
pub mod engine;
pub mod error;
pub mod params;
pub mod routes;
pub mod sample;
pub mod staging;
pub mod store;
pub mod transform;
pub mod view;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::engine::{Engine, EngineConfig, EngineError, Processor};
use crate::sample::SampleGranule;
use crate::store::{Store, StoreError};
use crate::transform::{Operation, Output, TransformError};

/// How clients authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// Everyone is `anonymous` (Harmony's development mode).
    #[default]
    None,
    /// Earthdata Login emulated on loopback: users file, OAuth redirect dance, signed cookie, bearer tokens.
    Edl,
}

/// Settings of `hq serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where granules, outputs and the job database live.
    pub data_dir: PathBuf,
    /// Multiplier of sample granule sizes.
    pub scale: u32,
    /// Authentication mode.
    pub auth: AuthMode,
    /// `username:password` lines, for [`AuthMode::Edl`].
    pub users: Option<PathBuf>,
    /// Jobs with at least this many granules auto-pause after a preview.
    pub preview_threshold: usize,
    /// Also stage every output into this S3-compatible server (`--stage-s3`).
    pub stage_s3: Option<staging::S3Staging>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            port: 3000,
            data_dir: PathBuf::from("hq-data"),
            scale: 1,
            auth: AuthMode::None,
            users: None,
            preview_threshold: 300,
            stage_s3: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory could not be created.
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The job database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not load the jobs.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The port could not be bound.
    #[error("could not listen on 127.0.0.1:{port}: {source} (is another server using it? try --port 0)")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The S3 staging endpoint is not usable.
    #[error("cannot stage results to {endpoint}: {source}")]
    Staging {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: object_store::Error,
    },
    /// The users file is missing or malformed.
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    /// Serving failed.
    #[error("the server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

/// Produces granule files with the sample module and transforms them with the transform module.
#[derive(Debug, Clone)]
pub struct SampleProcessor {
    data_dir: PathBuf,
    scale: u32,
}

impl SampleProcessor {
    /// A processor writing granules under `data_dir`.
    pub fn new(data_dir: PathBuf, scale: u32) -> Self {
        SampleProcessor { data_dir, scale }
    }
}

impl Processor for SampleProcessor {
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        let input =
            sample::ensure(granule, &self.data_dir, self.scale).map_err(|e| TransformError::Io(e.to_string()))?;
        transform::apply(granule, &input, operation, out_dir)
    }
}

/// A bound, ready server.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    engine: Engine,
    addr: SocketAddr,
}

impl Server {
    /// Opens the data directory and the job database, resumes unfinished jobs and binds 127.0.0.1.
    ///
    /// Fast on a fresh directory: granules are generated when a job first needs them.
    pub async fn bind(config: ServeConfig) -> Result<Self, ServeError> {
        let processor = Arc::new(SampleProcessor::new(config.data_dir.clone(), config.scale));
        Server::bind_with_processor(config, processor).await
    }

    /// Like [`Server::bind`], with another way to process work items (tests use one that needs no HDF5).
    pub async fn bind_with_processor(config: ServeConfig, processor: Arc<dyn Processor>) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| ServeError::DataDir { path: config.data_dir.clone(), source })?;
        let store = Store::open(&config.data_dir.join("harmony.redb"))?;
        let engine_config =
            EngineConfig { results_dir: config.data_dir.join("results"), preview_threshold: config.preview_threshold };
        let processor: Arc<dyn Processor> = match &config.stage_s3 {
            Some(staging) => Arc::new(
                staging::StagingProcessor::new(processor, staging)
                    .map_err(|source| ServeError::Staging { endpoint: staging.endpoint.clone(), source })?,
            ),
            None => processor,
        };
        let engine = Engine::start(store, engine_config, processor)?;
        let catalog = Arc::new(Catalog::default());
        let state = routes::AppState { engine: engine.clone(), catalog, staging: config.stage_s3.clone() };
        let mut router = routes::router(state);
        if config.auth == AuthMode::Edl {
            let auth = auth::Edl::load(&config.data_dir, config.users.as_deref())?;
            router = auth::protect(router, Arc::new(auth));
        }
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| ServeError::Bind { port: config.port, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { port: config.port, source })?;
        Ok(Server { listener, router, engine, addr })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then closes the job database.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let result = axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await;
        self.engine.shutdown();
        result.map_err(ServeError::Serve)
    }
}
