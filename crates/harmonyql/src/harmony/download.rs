//! Downloads: concurrent, streamed into a partial file in the target directory and renamed only when
//! complete, resumed with `Range` after a dropped connection or an interrupted run (the hidden
//! `.NAME.hq-part` stays for the next attempt; nothing that looks complete is ever left half written),
//! checked against `Content-Length`. A sidecar beside a partial file (`.NAME.hq-part.resume`: URL, ETag,
//! Last-Modified, length; written once the part holds 8 MiB or when an attempt stops with it kept) lets
//! a resumption ask `If-Range` and throw away bytes of another file; an answer
//! that stops arriving for `stall_timeout` is retried, then reported. File names come from harmony-py's rule, made unique within a batch
//! and sanitised so none can escape the target directory. HTTP goes through `Client`; `s3://` through
//! `harmony::s3`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_RANGE, ETAG, HeaderMap, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::harmony::client::{Client, error_from};
use crate::harmony::concurrency::Controller;
use crate::harmony::error::{Error, Result, redact};
use crate::harmony::retry::is_transient_status;
use crate::harmony::writeback::Writeback;

/// The default bound on files fetched at once.
pub const MAX_CONCURRENCY: usize = 32;
/// How long each throughput sample of the adaptive limit lasts: a few round trips behind typical latency.
const SAMPLE_WINDOW: Duration = Duration::from_millis(100);

/// How downloads run.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadConfig {
    /// Most files fetched at once.
    pub concurrency: usize,
    /// Start with a few files at once and grow towards `concurrency` while throughput rises (cutting back
    /// when it falls; see [`crate::harmony::concurrency`]), so many small files behind latency run wide and
    /// a few large ones on a fast link do not fight over the disk. `false`: always `concurrency`.
    pub adaptive: bool,
    /// Download again even when the target file exists (harmony-py's `overwrite`).
    pub overwrite: bool,
    /// How long a download may go without receiving a byte (no answer, or a body that stops) before the
    /// attempt is abandoned and retried within the client's retry budget.
    pub stall_timeout: Duration,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            // The bound of the adaptive limit: wide enough to hide 50 ms of latency behind 1 MiB files on
            // loopback, polite enough for one server (harmony-py uses 3 threads).
            concurrency: MAX_CONCURRENCY,
            adaptive: true,
            overwrite: false,
            // Long enough for a slow link or a busy server to send its next packet, short enough that a dead
            // connection is noticed while someone is still watching.
            stall_timeout: Duration::from_secs(60),
        }
    }
}

/// Where a batch of downloads stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DownloadProgress {
    /// Bytes received so far.
    pub bytes: u64,
    /// Sum of the sizes announced so far.
    pub total_bytes: u64,
    /// Files finished.
    pub files_done: usize,
    /// Files in the batch.
    pub files_total: usize,
    /// Bytes per second since the start.
    pub bytes_per_second: f64,
    /// Estimated time left, once every size is known.
    pub eta: Option<Duration>,
}

/// The local file name for a result URL: the last path segment; `{workItemId}_{name}` for Harmony staged
/// outputs (`…harmony…/{uuid-v4}/{digits}/{name}`); `:` becomes `_`; then [`sanitize`]d.
///
/// ```
/// use harmonyql::harmony::download::file_name_for;
/// let url = "https://harmony.earthdata.nasa.gov/service-results/staging-bucket/a7aee059-7531-4388-86e0-85af1de9c31a/1047412/C1254854453-LARC_CLOUD_merged.nc4";
/// assert_eq!(file_name_for(url), "1047412_C1254854453-LARC_CLOUD_merged.nc4");
/// assert_eq!(file_name_for("SC:ATL03.006:264549068"), "SC_ATL03.006_264549068");
/// ```
pub fn file_name_for(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let path = match reqwest::Url::parse(without_query) {
        Ok(parsed) if parsed.has_host() => parsed.path().to_owned(),
        _ => without_query.to_owned(),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    let staged = url.contains("harmony")
        && segments.len() >= 3
        && is_uuid_v4(segments[segments.len() - 3])
        && is_digits(segments[segments.len() - 2]);
    let name =
        if staged { format!("{}_{name}", segments[segments.len() - 2]) } else { name.to_owned() }.replace(':', "_");
    sanitize(&name)
}

/// A file name that stays inside its directory: separators and control characters become `_`, `.` and
/// `..` and empty names become safe names, and the length is capped at 255 bytes.
pub fn sanitize(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if matches!(c, '/' | '\\' | '\0') || c.is_control() { '_' } else { c }).collect();
    let cleaned = cleaned.trim().to_owned();
    let cleaned = match cleaned.as_str() {
        "" => "download".to_owned(),
        "." | ".." => cleaned.replace('.', "_"),
        _ => cleaned,
    };
    let mut end = cleaned.len().min(255);
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    cleaned[..end].to_owned()
}

/// The local names for a batch of URLs, in order: [`file_name_for`] each, and when two URLs give the same
/// name (harmony-py would let the second overwrite the first), the later ones get `_2`, `_3`, … before the
/// extension, so every file of the batch lands and the names do not depend on download order.
///
/// ```
/// use harmonyql::harmony::download::unique_names;
/// let urls = ["https://a/x/f.h5", "https://b/y/f.h5", "https://c/g.h5", "https://d/f.h5"].map(String::from);
/// assert_eq!(unique_names(&urls), ["f.h5", "f_2.h5", "g.h5", "f_3.h5"]);
/// ```
pub fn unique_names(urls: &[String]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    urls.iter()
        .map(|url| {
            let name = file_name_for(url);
            let (stem, extension) = match name.rfind('.') {
                Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
                _ => (name.as_str(), ""),
            };
            let mut candidate = name.clone();
            let mut n = 2;
            // Bounded by the batch size: each step either finds a free name or passes a taken one.
            while !taken.insert(candidate.clone()) {
                candidate = sanitize(&format!("{stem}_{n}{extension}"));
                n += 1;
            }
            candidate
        })
        .collect()
}

/// The partial file a download of `name` writes to: hidden, beside the target, never mistaken for a
/// complete file, and the same on every run so an interrupted download resumes from it. `.NAME.hq-part`
/// when that name (and its sidecar's, [`resume_path`]) fits the 255-byte limit of file names; for longer
/// names, the start of the name and a hash of all of it, so a result may use the whole 255 bytes.
///
/// ```
/// use std::path::Path;
/// use harmonyql::harmony::download::part_path;
/// assert_eq!(part_path(Path::new("d"), "f.h5"), Path::new("d/.f.h5.hq-part"));
/// let long = part_path(Path::new("d"), &"g".repeat(255));
/// assert!(long.file_name().unwrap().len() < 200);
/// ```
pub fn part_path(directory: &Path, name: &str) -> PathBuf {
    // `.` + name + `.hq-part` + `.resume.tmp` (the sidecar's temporary name) must fit in 255 bytes.
    const SPARE: usize = 1 + ".hq-part".len() + ".resume.tmp".len();
    if name.len() + SPARE <= 255 {
        return directory.join(format!(".{name}.hq-part"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let hash: String = digest.as_ref()[..12].iter().map(|byte| format!("{byte:02x}")).collect();
    let mut end = 100;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    directory.join(format!(".{}~{hash}.hq-part", &name[..end]))
}

/// The sidecar of a partial file: what identifies the remote file its bytes came from (URL, ETag,
/// Last-Modified, total length), so a resumption never splices two different files together.
pub fn resume_path(part: &Path) -> PathBuf {
    let mut name = part.file_name().unwrap_or_default().to_os_string();
    name.push(".resume");
    part.with_file_name(name)
}

fn is_uuid_v4(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok_and(|id| id.get_version_num() == 4 && id.to_string() == text)
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Where result files come from: Harmony over HTTP(S), or S3 directly with temporary credentials.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// `https://` / `http://` links, through the client (its per-hop credentials rule and retries).
    Http(&'a Client),
    /// `s3://` links, read with object_store (see [`crate::harmony::s3`]).
    S3(&'a crate::harmony::s3::S3Reader),
}

/// Downloads every URL into `directory` (created if needed), at most `config.concurrency` at a time (fewer
/// while the adaptive limit finds out whether more help), calling
/// `on_progress` as bytes arrive (at most every 100 ms) and after each file. Returns the local paths in
/// the order of `urls`; two URLs with the same file name get distinct names ([`unique_names`]). On the
/// first failure the others stop. On cancellation the partial files stay (hidden `.NAME.hq-part`) and the
/// same call later resumes them with `Range`.
pub async fn download_all(
    client: &Client,
    urls: &[String],
    directory: &Path,
    config: &DownloadConfig,
    on_progress: &mut (dyn FnMut(&DownloadProgress) + Send),
    cancel: &CancellationToken,
) -> Result<Vec<PathBuf>> {
    download_from(Source::Http(client), urls, directory, config, on_progress, cancel).await
}

/// [`download_all`] from any [`Source`].
pub async fn download_from(
    source: Source<'_>,
    urls: &[String],
    directory: &Path,
    config: &DownloadConfig,
    on_progress: &mut (dyn FnMut(&DownloadProgress) + Send),
    cancel: &CancellationToken,
) -> Result<Vec<PathBuf>> {
    let stop = cancel.child_token();
    let (sender, mut events) = mpsc::unbounded_channel();
    let mut progress = DownloadProgress { files_total: urls.len(), ..DownloadProgress::default() };
    let started = Instant::now();
    let mut last_report = Instant::now();
    let names = unique_names(urls);
    // The futures are built up front (not by a closure inside the loop) so the whole download stays
    // `Send` for callers such as the kernel; the loop starts them as the controller's limit allows.
    let mut waiting = urls
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (url, name))| {
            let sender = sender.clone();
            let stop = &stop;
            Box::pin(
                async move { (index, fetch_into(source, url, directory, name, config, Some(&sender), stop).await) },
            )
        })
        .collect::<Vec<_>>()
        .into_iter();
    drop(sender);
    let mut controller = if config.adaptive {
        Controller::adaptive(initial_concurrency(), config.concurrency, SAMPLE_WINDOW)
    } else {
        Controller::fixed(config.concurrency)
    };
    let mut running = futures_util::stream::FuturesUnordered::new();
    let mut paths: Vec<Option<PathBuf>> = vec![None; urls.len()];
    let mut first_error = None;
    loop {
        // After a failure nothing new starts; those running see the cancellation and stop.
        while first_error.is_none() && running.len() < controller.limit() {
            match waiting.next() {
                Some(fetch) => running.push(fetch),
                None => break,
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((index, result)) = running.next() => match result {
                Ok(path) => {
                    // Bytes of this file may still be queued: count them before saying it is done.
                    while let Ok(event) = events.try_recv() {
                        apply(&mut progress, event);
                    }
                    paths[index] = Some(path);
                    progress.files_done += 1;
                    update_rate(&mut progress, started);
                    on_progress(&progress);
                }
                Err(error) => {
                    if first_error.is_none() {
                        first_error = Some(error);
                    }
                    stop.cancel();
                }
            },
            Some(event) = events.recv() => {
                if let Event::Bytes(bytes) = event {
                    controller.record(started.elapsed(), bytes, running.len());
                }
                apply(&mut progress, event);
                if last_report.elapsed() >= Duration::from_millis(100) {
                    last_report = Instant::now();
                    update_rate(&mut progress, started);
                    on_progress(&progress);
                }
            }
        }
    }
    match first_error {
        // A cancellation by the caller is reported as such, not as whichever file noticed it first.
        Some(_) if cancel.is_cancelled() => Err(stopped_downloading(directory)),
        Some(error) => Err(error),
        // Every file finished (the loop ends only when none is waiting or running, and nothing failed).
        None => Ok(paths.into_iter().flatten().collect()),
    }
}

/// Files at once before the first throughput sample: two per core, as a fixed limit used to be.
fn initial_concurrency() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    (cores * 2).clamp(2, 16)
}

fn stopped_downloading(directory: &Path) -> Error {
    Error::Cancelled {
        what: format!(
            "downloading into {}; finished files are kept and partial ones stay as hidden `.NAME.hq-part` files: run the same `download` again to resume them",
            directory.display()
        ),
    }
}

fn apply(progress: &mut DownloadProgress, event: Event) {
    match event {
        Event::Total(n) => progress.total_bytes += n,
        Event::Bytes(n) => progress.bytes += n,
        Event::Restart(n) => progress.bytes = progress.bytes.saturating_sub(n),
    }
}

fn update_rate(progress: &mut DownloadProgress, started: Instant) {
    let seconds = started.elapsed().as_secs_f64().max(1e-3);
    progress.bytes_per_second = progress.bytes as f64 / seconds;
    progress.eta = (progress.bytes_per_second > 0.0 && progress.total_bytes >= progress.bytes)
        .then(|| Duration::from_secs_f64((progress.total_bytes - progress.bytes) as f64 / progress.bytes_per_second));
}

/// Downloads one URL into `directory` and returns the local path. An existing file is kept unless
/// `overwrite`. The bytes go to a partial file beside the target, renamed into place only when complete;
/// a partial file left by an earlier, interrupted call is resumed with `Range` if it is the same remote file.
pub async fn download_file(
    client: &Client,
    url: &str,
    directory: &Path,
    overwrite: bool,
    cancel: &CancellationToken,
) -> Result<PathBuf> {
    let config = DownloadConfig { overwrite, ..DownloadConfig::default() };
    fetch_into(Source::Http(client), url, directory, &file_name_for(url), &config, None, cancel).await
}

async fn fetch_into(
    source: Source<'_>,
    url: &str,
    directory: &Path,
    name: &str,
    config: &DownloadConfig,
    events: Option<&mpsc::UnboundedSender<Event>>,
    cancel: &CancellationToken,
) -> Result<PathBuf> {
    let target = directory.join(name);
    if !config.overwrite && tokio::fs::try_exists(&target).await.unwrap_or(false) {
        return Ok(target);
    }
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    tokio::fs::create_dir_all(directory).await.map_err(io(directory))?;
    let part = part_path(directory, name);
    let resume = resume_path(&part);
    let send = |event: Event| {
        if let Some(events) = events {
            let _ = events.send(event);
        }
    };
    let mut sink = PartFile::open(&part, &send).await?;
    let result = match source {
        Source::Http(client) => {
            let wire = Wire { client, url, name, resume: &resume, stall_timeout: config.stall_timeout };
            fetch(&wire, &mut sink, &send, cancel).await
        }
        Source::S3(reader) => reader.fetch(url, &mut sink, &send, cancel).await,
    };
    match result {
        Ok(()) => {
            sink.finish().await?;
            // The sidecar goes first: a crash before the rename leaves a part without one, which the next
            // run downloads again rather than trusting.
            remove_if_present(&resume).await?;
            // The rename is the only moment the target changes: an existing good file stays whole until
            // its replacement is complete.
            tokio::fs::rename(&part, &target).await.map_err(io(&target))?;
            Ok(target)
        }
        // Kept for the next attempt to resume: interrupted, or the connection kept breaking (unless empty).
        Err(
            error @ (Error::Cancelled { .. }
            | Error::Incomplete { .. }
            | Error::Connection { .. }
            | Error::Stalled { .. }),
        ) if sink.received > 0 => {
            sink.keep().await;
            Err(error)
        }
        // The server refused the file (gone, expired, forbidden): nothing worth resuming.
        Err(error) => {
            drop(sink);
            let _ = tokio::fs::remove_file(&part).await;
            let _ = tokio::fs::remove_file(&resume).await;
            Err(error)
        }
    }
}

async fn remove_if_present(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::Io { path: path.display().to_string(), source: error })
        }
        _ => Ok(()),
    }
}

/// Bytes gathered before each write of a partial file.
const WRITE_BUFFER: usize = 256 * 1024;

/// The partial file of one download: how many bytes it holds, appended to as bytes arrive.
pub(crate) struct PartFile {
    path: PathBuf,
    /// Buffered: the network hands over a few kilobytes at a time, and every write of a tokio file is a
    /// trip to the blocking pool.
    file: tokio::io::BufWriter<tokio::fs::File>,
    /// Bytes in the file.
    pub(crate) received: u64,
    /// Starts the disk on what has arrived, so the fsync in [`PartFile::finish`] has little left to wait for.
    writeback: Writeback,
}

/// Progress events one fetch sends.
#[derive(Debug)]
pub(crate) enum Event {
    /// A file's size became known.
    Total(u64),
    /// Bytes arrived (or were found in a partial file).
    Bytes(u64),
    /// This many bytes were thrown away to start a file again.
    Restart(u64),
}

impl PartFile {
    /// Opens (or creates) the partial file, keeping what an earlier attempt wrote.
    async fn open(path: &Path, send: &(dyn Fn(Event) + Sync)) -> Result<Self> {
        let io = |source| Error::Io { path: path.display().to_string(), source };
        let file = tokio::fs::OpenOptions::new().create(true).append(true).open(path).await.map_err(io)?;
        let received = file.metadata().await.map_err(io)?.len();
        if received > 0 {
            send(Event::Bytes(received));
        }
        let writeback = Writeback::new(file.try_clone().await.map_err(io)?.into_std().await);
        let file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        Ok(PartFile { path: path.to_path_buf(), file, received, writeback })
    }

    fn io(&self) -> impl Fn(std::io::Error) -> Error + '_ {
        |source| Error::Io { path: self.path.display().to_string(), source }
    }

    /// Appends bytes.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all(bytes).await.map_err(self.io())?;
        self.received += bytes.len() as u64;
        self.writeback.advance(self.received - self.file.buffer().len() as u64).await;
        Ok(())
    }

    /// Throws away what the file holds (the server ignored the range, or the object changed).
    pub(crate) async fn restart(&mut self) -> Result<()> {
        self.file.flush().await.map_err(self.io())?;
        self.file.get_ref().set_len(0).await.map_err(self.io())?;
        self.received = 0;
        self.writeback.restart();
        Ok(())
    }

    async fn finish(mut self) -> Result<()> {
        self.file.flush().await.map_err(self.io())?;
        self.file.get_ref().sync_all().await.map_err(self.io())
    }

    /// Writes out what the buffer holds, so an interrupted download resumes from every byte it received.
    async fn keep(&mut self) {
        if let Err(error) = self.file.flush().await {
            tracing::debug!(path = %self.path.display(), %error, "could not write out a partial file");
        }
    }
}

/// One HTTP download: where from, under which name, and how patiently.
struct Wire<'a> {
    client: &'a Client,
    url: &'a str,
    /// The local file name, for messages.
    name: &'a str,
    /// The partial file's sidecar ([`resume_path`]).
    resume: &'a Path,
    stall_timeout: Duration,
}

/// What identifies the remote file a partial file's bytes came from; kept in the sidecar.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct RemoteFile {
    /// The redacted URL (no query string: presigned signatures are never written to disk).
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Total length, when the server said it.
    total: Option<u64>,
}

impl RemoteFile {
    fn of(url: &str, headers: &HeaderMap, total: Option<u64>) -> Self {
        let text = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok()).map(str::to_owned);
        RemoteFile { url: url.to_owned(), etag: text(ETAG), last_modified: text(LAST_MODIFIED), total }
    }

    /// The `If-Range` validator: a strong ETag (weak ones are not allowed there), else Last-Modified.
    fn validator(&self) -> Option<&str> {
        self.etag.as_deref().filter(|tag| !tag.starts_with("W/")).or(self.last_modified.as_deref())
    }

    /// Whether a later answer describes the same file: every identifier both sides know agrees.
    fn same_as(&self, later: &RemoteFile) -> bool {
        fn agree<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || b.is_none() || a == b
        }
        self.url == later.url
            && agree(&self.etag, &later.etag)
            && agree(&self.last_modified, &later.last_modified)
            && agree(&self.total, &later.total)
    }

    async fn load(path: &Path) -> Option<RemoteFile> {
        serde_json::from_slice(&tokio::fs::read(path).await.ok()?).ok()
    }

    /// Writes the sidecar atomically (temporary file, then rename).
    async fn save(&self, path: &Path) -> Result<()> {
        let mut temporary = path.as_os_str().to_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let io = |source| Error::Io { path: path.display().to_string(), source };
        let text = serde_json::to_vec(self).unwrap_or_default();
        tokio::fs::write(&temporary, text).await.map_err(io)?;
        tokio::fs::rename(&temporary, path).await.map_err(io)
    }
}

async fn fetch(
    wire: &Wire<'_>,
    part: &mut PartFile,
    send: &(dyn Fn(Event) + Sync),
    cancel: &CancellationToken,
) -> Result<()> {
    let shown = redact(wire.url);
    let retry = wire.client.retry().clone();
    let cancelled = || Error::Cancelled { what: format!("downloading {shown}") };
    // What the bytes in the partial file are: only a sidecar for this URL says so. Anything else (an
    // older version's part, a foreign file, a part longer than its file) is started again.
    let mut known = None;
    if part.received > 0 {
        match RemoteFile::load(wire.resume).await {
            Some(remote) if remote.url == shown && remote.total.is_none_or(|total| part.received <= total) => {
                known = Some(remote);
            }
            _ => {
                send(Event::Restart(part.received));
                part.restart().await?;
            }
        }
    }
    let mut announced = false;
    let mut broken = 0u32;
    let mut restarts = 0u32;
    // Whether the sidecar on disk describes the bytes in the partial file. It is written only once a
    // download holds enough to be worth resuming, or when an attempt ends with the part kept: most files
    // finish first, and each sidecar costs the file system two more names (a temporary file and a rename).
    let mut saved = known.is_some();
    // Throws the partial file away (it is not the file the server now sends), within a bound.
    macro_rules! start_again {
        () => {{
            restarts += 1;
            if restarts > retry.max_retries + 1 {
                return Err(Error::BadResponse {
                    url: shown.clone(),
                    message: "the file changed (ETag, length or range) on every attempt; try again later".into(),
                });
            }
            send(Event::Restart(part.received));
            part.restart().await?;
            known = None;
            saved = false;
            remove_if_present(wire.resume).await?;
            continue;
        }};
    }
    let stalled = |received: u64, attempts: u32| Error::Stalled {
        file: wire.name.to_owned(),
        url: shown.clone(),
        seconds: wire.stall_timeout.as_secs_f64(),
        attempts,
        received,
    };
    let outcome: Result<()> = async {
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
            if part.received > 0
                && let Ok(range) = HeaderValue::from_str(&format!("bytes={}-", part.received))
            {
                headers.insert(RANGE, range);
                if let Some(validator) = known.as_ref().and_then(RemoteFile::validator)
                    && let Ok(value) = HeaderValue::from_str(validator)
                {
                    headers.insert(IF_RANGE, value);
                }
            }
            let answer = tokio::select! {
                _ = cancel.cancelled() => return Err(cancelled()),
                answer = tokio::time::timeout(wire.stall_timeout, wire.client.get(wire.url, headers)) => answer,
            };
            let response = match answer {
                Ok(Ok(response)) => response,
                Err(_) | Ok(Err(Error::Connection { .. })) if broken < retry.max_retries => {
                    tokio::time::sleep(retry.backoff(broken)).await;
                    broken += 1;
                    continue;
                }
                Err(_) => return Err(stalled(part.received, broken + 1)),
                Ok(Err(error)) => return Err(error),
            };
            let status = response.status();
            let expected = match status {
                StatusCode::PARTIAL_CONTENT => {
                    let range = content_range(response.headers());
                    let remote = RemoteFile::of(&shown, response.headers(), range.and_then(|(_, total)| total));
                    let consistent = range.is_some_and(|(start, _)| start == part.received)
                        && known.as_ref().is_none_or(|known| known.same_as(&remote));
                    if !consistent {
                        start_again!();
                    }
                    if known.is_none() {
                        known = Some(remote.clone());
                    }
                    remote.total
                }
                StatusCode::RANGE_NOT_SATISFIABLE if part.received > 0 => {
                    // `Content-Range: bytes */N`: the partial file may already hold the whole (same) file.
                    let total = content_range_total(response.headers());
                    if total == Some(part.received) && known.as_ref().is_some_and(|known| known.total == total) {
                        if !announced {
                            send(Event::Total(part.received));
                        }
                        break;
                    }
                    start_again!();
                }
                status if status.is_success() => {
                    if part.received > 0 {
                        // The server ignored the range, or If-Range said the file changed: start again.
                        send(Event::Restart(part.received));
                        part.restart().await?;
                    }
                    let remote = RemoteFile::of(&shown, response.headers(), response.content_length());
                    if saved {
                        // It describes the bytes just thrown away.
                        remove_if_present(wire.resume).await?;
                        saved = false;
                    }
                    known = Some(remote.clone());
                    remote.total
                }
                status if is_transient_status(status.as_u16()) && broken < retry.max_retries => {
                    tokio::time::sleep(retry.backoff(broken)).await;
                    broken += 1;
                    continue;
                }
                _ => return Err(error_from(response).await),
            };
            if let Some(total) = expected
                && !announced
            {
                announced = true;
                send(Event::Total(total));
            }
            let mut stream = response.bytes_stream();
            let mut dropped = false;
            let mut stopped_sending = false;
            loop {
                let chunk = tokio::select! {
                    _ = cancel.cancelled() => return Err(cancelled()),
                    chunk = tokio::time::timeout(wire.stall_timeout, stream.next()) => chunk,
                };
                match chunk {
                    Ok(Some(Ok(bytes))) => {
                        part.write(&bytes).await?;
                        if !saved
                            && part.received >= SIDECAR_AFTER
                            && let Some(remote) = &known
                        {
                            remote.save(wire.resume).await?;
                            saved = true;
                        }
                        send(Event::Bytes(bytes.len() as u64));
                    }
                    Ok(Some(Err(_))) => {
                        dropped = true;
                        break;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        stopped_sending = true;
                        break;
                    }
                }
            }
            if expected.is_some_and(|total| part.received > total) {
                // More bytes than the file has: whatever they are, they are not the file.
                start_again!();
            }
            let short = expected.is_some_and(|total| part.received < total);
            if dropped || short || stopped_sending {
                if broken >= retry.max_retries {
                    if stopped_sending {
                        return Err(stalled(part.received, broken + 1));
                    }
                    return Err(Error::Incomplete {
                        url: shown.clone(),
                        received: part.received,
                        expected: expected.unwrap_or(part.received),
                    });
                }
                tokio::time::sleep(retry.backoff(broken)).await;
                broken += 1;
                continue;
            }
            break;
        }
        Ok(())
    }
    .await;
    // An attempt that ends with bytes in the partial file leaves the sidecar a later call resumes from
    // (the caller keeps the part for interruptions and broken connections, and removes both otherwise).
    if outcome.is_err()
        && !saved
        && part.received > 0
        && let Some(remote) = &known
    {
        part.keep().await;
        if let Err(error) = remote.save(wire.resume).await {
            tracing::debug!(%error, "could not write a resume sidecar");
        }
    }
    outcome
}

/// Bytes a download holds before its resume sidecar is written (smaller files are fetched again whole after
/// a crash; an interrupted or broken download writes its sidecar when it stops).
const SIDECAR_AFTER: u64 = 8 << 20;

/// `Content-Range: bytes START-END/TOTAL` → (START, TOTAL); TOTAL is `None` for `*`.
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?.trim();
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

fn content_range_total(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    value.rsplit('/').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_harmony_py_and_stay_in_the_directory() {
        let cases = [
            (
                "https://harmony.example/service-results/b/a7aee059-7531-4388-86e0-85af1de9c31a/1047412/x.nc4",
                "1047412_x.nc4",
            ),
            ("https://h/b/a7aee059-7531-4388-86e0-85af1de9c31a/1047412/x.nc4", "x.nc4"),
            ("https://harmony/b/A7AEE059-7531-4388-86E0-85AF1DE9C31A/1047412/x.nc4", "x.nc4"),
            ("https://harmony/b/a7aee059-7531-1388-86e0-85af1de9c31a/1047412/x.nc4", "x.nc4"),
            ("https://harmony/b/a7aee059-7531-4388-86e0-85af1de9c31a/12a/x.nc4", "x.nc4"),
            ("https://h/a/file.h5?X-Amz-Signature=abc", "file.h5"),
            ("SC:ATL03.006:264549068", "SC_ATL03.006_264549068"),
            ("https://h/a/..", "download"),
            ("a/..", "__"),
            ("https://h/a/", "download"),
            ("https://h/a/%2F..%2Fetc%2Fpasswd", "%2F..%2Fetc%2Fpasswd"),
            ("..\\..\\evil.h5", ".._.._evil.h5"),
        ];
        for (url, expected) in cases {
            assert_eq!(file_name_for(url), expected, "{url}");
        }
    }

    #[test]
    fn sanitised_names_have_no_separators_and_fit_a_file_system() {
        let cases = ["../../x", "a\0b", "a\nb", ".", "..", "é".repeat(200).as_str().to_owned().leak()];
        for name in cases {
            let clean = sanitize(name);
            assert!(!clean.contains(['/', '\\', '\0', '\n']) && clean != "." && clean != "..", "{name:?} → {clean:?}");
            assert!(clean.len() <= 255 && !clean.is_empty(), "{name:?}");
        }
    }

    #[test]
    fn names_in_a_batch_are_unique_and_stable() {
        let cases: [(&[&str], &[&str]); 4] = [
            (&["https://h/a/f.h5", "https://h/b/f.h5", "https://h/c/f.h5"], &["f.h5", "f_2.h5", "f_3.h5"]),
            (&["https://h/a/f", "https://h/b/f"], &["f", "f_2"]),
            (&["https://h/a/f_2.h5", "https://h/b/f.h5", "https://h/c/f.h5"], &["f_2.h5", "f.h5", "f_3.h5"]),
            (&["https://h/a/.hidden", "https://h/b/.hidden"], &[".hidden", ".hidden_2"]),
        ];
        for (urls, expected) in cases {
            let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
            assert_eq!(unique_names(&urls), expected, "{urls:?}");
        }
    }

    #[test]
    fn content_range_gives_the_total() {
        let cases = [("bytes 100-199/1000", Some(1000)), ("bytes 0-0/*", None), ("garbage", None)];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_RANGE, HeaderValue::from_static(value));
            assert_eq!(content_range_total(&headers), expected, "{value}");
        }
    }
}
