//! `hq serve`: runs the local Harmony on 127.0.0.1 until Ctrl-C. A thin caller of `harmonyql_server`; failures exit with the CLI's codes (4: the server could not start or run).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use harmonyql_server::{AuthMode, ServeConfig, Server};

use crate::cli::Failure;

/// Options of `hq serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP port on 127.0.0.1 (0 picks a free port and prints it).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Where sample granules, outputs and the job database live.
    #[arg(long, default_value = "hq-data")]
    data_dir: PathBuf,
    /// Multiplies the size of generated sample granules.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    scale: u32,
    /// `none`: everyone is anonymous; `edl`: Earthdata Login emulated on loopback.
    #[arg(long, value_enum, default_value_t = Auth::None)]
    auth: Auth,
    /// Users file for `--auth edl`: one `username:password` per line.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Jobs with at least this many granules pause after a one-granule preview (skipPreview overrides).
    #[arg(long, default_value_t = 300)]
    preview_threshold: usize,
    /// Also stage every result into this S3-compatible server (e.g. `http://127.0.0.1:5000`, a moto server),
    /// bucket `harmony-local-staging` (which must exist), so `s3://` links open with the `/cloud-access`
    /// keys. Keys: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else local defaults.
    #[arg(long, value_name = "URL")]
    stage_s3: Option<String>,
    /// Also serve your own ATL03 and SMAP HDF5 files found in DIR (and up to 4 levels below), each in the
    /// collection its metadata names, with the time range and footprint read from the file: CMR search,
    /// `granules` and `subset` then work on them. Files that cannot be read are skipped with a warning.
    #[arg(long, value_name = "DIR")]
    granules: Option<PathBuf>,
    /// Generate every sample granule before listening (a few seconds; kept in the data directory), so CMR's
    /// answers give every granule's size and first jobs start at once. Without it each sample is generated
    /// when a job, or a download of its CMR data link, first needs it.
    #[arg(long)]
    prepare: bool,
    /// Seconds a client may take to send a request head before its connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Fault injection (testing clients): milliseconds added before every answer (at most 10,000).
    #[arg(long, value_name = "MS", default_value_t = 0, help_heading = "Fault injection")]
    fault_latency_ms: u64,
    /// Fraction of GETs answered 503 or 429 with Retry-After (at most 0.5).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, help_heading = "Fault injection")]
    fault_error_rate: f64,
    /// Fraction of GET bodies cut after half their bytes (at most 0.5).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, help_heading = "Fault injection")]
    fault_drop_rate: f64,
    /// Milliseconds before each body chunk (at most 10,000).
    #[arg(long, value_name = "MS", default_value_t = 0, help_heading = "Fault injection")]
    fault_slow_body_ms: u64,
    /// Seed of the fault sequence (the same seed gives the same faults in the same order).
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Fault injection")]
    fault_seed: u64,
    /// Fraction of work items that stall (their job makes no progress) for --fault-stall-ms first (at most 0.5).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, help_heading = "Fault injection")]
    fault_stall_rate: f64,
    /// Milliseconds a stalled work item waits (at most 10,000).
    #[arg(long, value_name = "MS", default_value_t = 2000, help_heading = "Fault injection")]
    fault_stall_ms: u64,
    /// Fraction of work items that fail mid-job, with a message naming the granule (at most 0.5).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, help_heading = "Fault injection")]
    fault_fail_rate: f64,
    /// Fraction of work items during which the job engine restarts as after `kill -9`: uncommitted work is lost,
    /// jobs are read back from the data directory and interrupted items run again (at most 0.5).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, help_heading = "Fault injection")]
    fault_restart_rate: f64,
    /// Benchmarks: every work item writes N files of --bench-file-bytes pseudo-random bytes instead of
    /// transforming its granule (at most 10,000 files, 1 GiB each, 16 GiB in all).
    #[arg(long, value_name = "N", help_heading = "Benchmarks", requires = "bench_file_bytes")]
    bench_files: Option<usize>,
    /// Benchmarks: size of each of the --bench-files files.
    #[arg(long, value_name = "BYTES", help_heading = "Benchmarks", requires = "bench_files")]
    bench_file_bytes: Option<u64>,
}

/// How clients authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Auth {
    /// Anonymous, like Harmony's development mode.
    None,
    /// Earthdata Login emulation (users file, OAuth redirects, cookies, bearer tokens).
    Edl,
}

/// Runs the server; prints `hq serve: listening on http://127.0.0.1:PORT` once it accepts connections. Logs go to
/// stderr, filtered by `HQ_LOG` as the kernel's are (`HQ_LOG=info hq serve` shows every request).
pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HQ_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // `try_init` fails only when a subscriber is already set, which a fresh `hq` process never has.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init().ok();
    let bench_files = match (args.bench_files, args.bench_file_bytes) {
        (Some(count), Some(bytes)) => Some(
            harmonyql_server::bench_files::BenchFiles::new(count, bytes)
                .map_err(|error| Failure::Usage(error.to_string()))?,
        ),
        _ => None,
    };
    let config = ServeConfig {
        bench_files,
        port: args.port,
        data_dir: args.data_dir,
        scale: args.scale,
        auth: match args.auth {
            Auth::None => AuthMode::None,
            Auth::Edl => AuthMode::Edl,
        },
        users: args.users,
        preview_threshold: args.preview_threshold.max(1),
        stage_s3: args.stage_s3.as_deref().map(harmonyql_server::staging::S3Staging::from_env),
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        faults: harmonyql_server::faults::Faults {
            latency: std::time::Duration::from_millis(args.fault_latency_ms),
            error_rate: finite_or_zero(args.fault_error_rate),
            drop_rate: finite_or_zero(args.fault_drop_rate),
            slow_body: std::time::Duration::from_millis(args.fault_slow_body_ms),
            seed: args.fault_seed,
            jobs: harmonyql_server::faults::JobFaults {
                stall_rate: finite_or_zero(args.fault_stall_rate),
                stall: std::time::Duration::from_millis(args.fault_stall_ms),
                fail_rate: finite_or_zero(args.fault_fail_rate),
                restart_rate: finite_or_zero(args.fault_restart_rate),
                seed: args.fault_seed,
            },
        },
        granules: args.granules,
        prepare: args.prepare,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Operation(format!("serve: could not start the async runtime: {error}")))?;
    runtime.block_on(async move {
        let server = Server::bind(config).await.map_err(|error| Failure::Operation(format!("serve: {error}")))?;
        if let Some(scan) = server.own_granules() {
            eprintln!(
                "hq serve: serving {} of your granule(s), {} file(s) skipped",
                scan.granules.len(),
                scan.skipped.len()
            );
        }
        println!("hq serve: listening on http://{}", server.addr());
        use std::io::Write;
        // Scripts wait for this line on a pipe; a closed pipe only means nobody is reading it.
        std::io::stdout().flush().ok();
        let shutdown = async {
            // Without a signal handler the server runs until killed, which is what a failed install means here.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        server.run(shutdown).await.map_err(|error| Failure::Operation(format!("serve: {error}")))
    })
}

/// A rate as given, or 0 (no fault) for NaN and infinities, which no clamp can order.
fn finite_or_zero(rate: f64) -> f64 {
    if rate.is_finite() { rate } else { 0.0 }
}
