//! `hq serve`: a Harmony-compatible service on loopback, with sample collections and real transformations.
//!
//! Never imports `crate::harmony` (the client): the server and the client meet only in tests.
//!
//! Map: [`catalog`] (collections, capabilities, granule search) → [`params`] (Harmony's parameter parsing)
//! → [`engine`] (job state machine and workers, persisted by [`store`]) → [`view`] (job, STAC documents)
//! → [`routes`] (thin axum handlers) behind [`auth`] (anonymous, or Earthdata Login emulated on loopback).

pub mod auth;
pub mod bench_files;
pub mod catalog;
pub mod cmr;
pub mod engine;
pub mod error;
pub mod faults;
pub mod form;
pub mod granule_dir;
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
    /// How long a client may take to send a request head; a silent or half-open connection is closed after.
    pub header_timeout: std::time::Duration,
    /// Faults injected into answers (none by default); see [`faults`].
    pub faults: faults::Faults,
    /// The user's own ATL03 and SMAP files to serve beside the samples (`--granules DIR`); see [`granule_dir`].
    pub granules: Option<PathBuf>,
    /// Generate every sample granule before listening (`--prepare`), so CMR's answers carry every size and
    /// first jobs start at once; otherwise each is generated when first needed.
    pub prepare: bool,
    /// Benchmarks only: every work item writes these files instead of transforming its granule.
    pub bench_files: Option<bench_files::BenchFiles>,
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
            header_timeout: std::time::Duration::from_secs(30),
            prepare: false,
            faults: faults::Faults::default(),
            granules: None,
            bench_files: None,
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
    /// The `--granules` directory could not be read.
    #[error(transparent)]
    GranuleDir(#[from] granule_dir::ScanError),
    /// `--prepare` could not generate a sample granule.
    #[error("--prepare: {0}")]
    Prepare(#[source] sample::SampleError),
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
        let input = sample::ensure(granule, &self.data_dir, self.scale)
            .map_err(TransformError::failed(format!("preparing {}", granule.name)))?;
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
    header_timeout: std::time::Duration,
    own_granules: Option<granule_dir::Scan>,
}

impl Server {
    /// Opens the data directory and the job database, resumes unfinished jobs and binds 127.0.0.1.
    ///
    /// Fast on a fresh directory: granules are generated when a job first needs them.
    pub async fn bind(config: ServeConfig) -> Result<Self, ServeError> {
        let processor: Arc<dyn Processor> = match config.bench_files {
            Some(files) => Arc::new(bench_files::BenchProcessor::new(files)),
            None => Arc::new(SampleProcessor::new(config.data_dir.clone(), config.scale)),
        };
        Server::bind_with_processor(config, processor).await
    }

    /// Like [`Server::bind`], with another way to process work items (tests use one that needs no HDF5).
    pub async fn bind_with_processor(config: ServeConfig, processor: Arc<dyn Processor>) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| ServeError::DataDir { path: config.data_dir.clone(), source })?;
        let removed = remove_partial_files(&config.data_dir);
        if removed > 0 {
            tracing::info!(removed, "removed partial files left by an interrupted run");
        }
        let store = Store::open(&config.data_dir.join("harmony.redb"))?;
        let engine_config = EngineConfig {
            results_dir: config.data_dir.join("results"),
            preview_threshold: config.preview_threshold,
            faults: config.faults.jobs.clone(),
        };
        let processor: Arc<dyn Processor> = match &config.stage_s3 {
            Some(staging) => Arc::new(
                staging::StagingProcessor::new(processor, staging)
                    .map_err(|source| ServeError::Staging { endpoint: staging.endpoint.clone(), source })?,
            ),
            None => processor,
        };
        let engine = Engine::start(store, engine_config, processor)?;
        let own_granules = match config.granules.clone() {
            Some(dir) => Some(scan_granules(dir).await?),
            None => None,
        };
        let catalog = Arc::new(match &own_granules {
            Some(scan) => Catalog::with_own_granules(scan.granules.clone()),
            None => Catalog::default(),
        });
        let samples = sample::SampleFiles { data_dir: config.data_dir.clone(), scale: config.scale };
        if config.prepare {
            prepare_samples(&catalog, &samples).await?;
        }
        let state = routes::AppState { engine: engine.clone(), catalog, staging: config.stage_s3.clone(), samples };
        let mut router = routes::router(state);
        if config.auth == AuthMode::Edl {
            let auth = auth::Edl::load(&config.data_dir, config.users.as_deref())?;
            router = auth::protect(router, Arc::new(auth));
        }
        let router = faults::inject(router, config.faults.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| ServeError::Bind { port: config.port, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { port: config.port, source })?;
        Ok(Server { listener, router, engine, addr, header_timeout: config.header_timeout, own_granules })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `--granules DIR` found: the user's granules served and the files skipped, with why.
    pub fn own_granules(&self) -> Option<&granule_dir::Scan> {
        self.own_granules.as_ref()
    }

    /// Serves until `shutdown` completes, then closes the job database.
    ///
    /// Each connection must send its request head within the header timeout (hyper's timer, which
    /// `axum::serve` leaves unset): a client that connects and goes silent is disconnected. Requests in
    /// flight when `shutdown` completes finish on their own tasks.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(self.header_timeout);
        builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(self.header_timeout));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!(%peer, "connection accepted");
                    stream
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(self.router.clone());
            let builder = builder.clone();
            tokio::spawn(async move {
                if let Err(error) = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await {
                    tracing::debug!(%error, "connection ended");
                }
            });
        }
        self.engine.shutdown();
        Ok(())
    }
}

/// Scans `--granules DIR` off the async threads (it opens every file) and logs each skipped file as a warning.
async fn scan_granules(dir: PathBuf) -> Result<granule_dir::Scan, ServeError> {
    let path = dir.clone();
    let scan = tokio::task::spawn_blocking(move || granule_dir::scan(&dir, &Catalog::default()))
        .await
        .map_err(|joined| granule_dir::ScanError { path, source: std::io::Error::other(joined) })??;
    for skipped in &scan.skipped {
        tracing::warn!("--granules: {skipped}");
    }
    for other in &scan.other_versions {
        tracing::warn!("--granules: {}: {}", other.path.display(), other.reason);
    }
    tracing::info!(served = scan.granules.len(), skipped = scan.skipped.len(), "--granules scanned");
    Ok(scan)
}

/// Generates every sample granule not generated yet (`--prepare`), one at a time off the async threads.
async fn prepare_samples(catalog: &Catalog, samples: &sample::SampleFiles) -> Result<(), ServeError> {
    let granules: Vec<_> = catalog.all_granules().filter(|granule| granule.source.is_none()).collect();
    let started = std::time::Instant::now();
    let count = granules.len();
    let samples = samples.clone();
    tokio::task::spawn_blocking(move || granules.iter().try_for_each(|granule| samples.ensure(granule).map(drop)))
        .await
        .map_err(|joined| {
            ServeError::Prepare(sample::SampleError::Write {
                name: "sample granules".into(),
                message: joined.to_string(),
            })
        })?
        .map_err(ServeError::Prepare)?;
    tracing::info!(count, seconds = started.elapsed().as_secs_f64(), "sample granules prepared");
    Ok(())
}

/// Removes what an interrupted run leaves: `.part` files (granules being generated, results being
/// written) and `.tmp` files (the signing key being written) under `data_dir`. Returns how many.
pub(crate) fn remove_partial_files(data_dir: &Path) -> usize {
    let mut removed = 0;
    // (directory, depth): granules sit at depth 1-2, results at 3; the bound keeps a stray link harmless.
    let mut pending = vec![(data_dir.to_path_buf(), 0)];
    while let Some((directory, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() && depth < 6 {
                pending.push((path, depth + 1));
            } else if kind.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let partial = name.ends_with(".part") || (name.starts_with('.') && name.ends_with(".tmp"));
                if partial && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    removed
}
