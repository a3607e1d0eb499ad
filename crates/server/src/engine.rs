//! The job engine: Harmony's job state machine, work items (one per granule), progress, preview auto-pause,
//! and the tokio workers that run transformations. Jobs are written through to the [`Store`].
//!
//! No HTTP types here. The state machine ([`transition`]) is a pure function; the workers call a [`Processor`]
//! so the engine can be tested without HDF5.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::faults::{Dice, ItemFault, JobFaults};
use crate::sample::SampleGranule;
use crate::store::{Store, StoreError};
use crate::transform::{Operation, Output, TransformError};
use harmonyql_lang::api::job::JobStatus;

/// Something that happens to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Begin processing.
    Start,
    /// Begin processing in preview mode (auto-pause after the first granule).
    StartWithPreview,
    /// The user pauses.
    Pause,
    /// The user resumes.
    Resume,
    /// The user skips the preview.
    SkipPreview,
    /// The user cancels.
    Cancel,
    /// Processing failed.
    Fail,
    /// A work item failed but the job goes on.
    ItemFailed,
    /// The preview granule finished.
    PreviewDone,
    /// Every work item finished; `with_errors` when some failed.
    Complete {
        /// Some items failed.
        with_errors: bool,
    },
}

/// A transition the state machine refuses; the message is Harmony's (409 `harmony.ConflictError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Conflict(pub String);

/// Harmony's job state machine (`HS:app/models/job.ts`): the status after `event`, or a [`Conflict`].
pub fn transition(from: JobStatus, event: Event) -> Result<JobStatus, Conflict> {
    use JobStatus::*;
    let to = match event {
        Event::Start => Running,
        Event::StartWithPreview => Previewing,
        Event::Pause => Paused,
        Event::Resume | Event::SkipPreview => Running,
        Event::Cancel => Canceled,
        Event::Fail => Failed,
        Event::ItemFailed => RunningWithErrors,
        Event::PreviewDone => Paused,
        Event::Complete { with_errors: false } => Successful,
        Event::Complete { with_errors: true } => CompleteWithErrors,
    };
    let allowed = matches!(
        (from, event),
        (Accepted, Event::Start | Event::StartWithPreview | Event::Cancel | Event::Fail)
            | (Running, Event::Pause | Event::Cancel | Event::Fail | Event::ItemFailed | Event::Complete { .. })
            | (RunningWithErrors, Event::Pause | Event::Cancel | Event::Fail | Event::ItemFailed)
            | (RunningWithErrors, Event::Complete { with_errors: true })
            | (Previewing, Event::SkipPreview | Event::Cancel | Event::Fail | Event::Pause | Event::PreviewDone)
            | (Previewing, Event::ItemFailed)
            | (Previewing, Event::Complete { .. })
            | (Paused, Event::Resume | Event::SkipPreview | Event::Cancel | Event::Fail)
            | (Failed, Event::Fail)
    );
    if allowed {
        // A failed item during preview keeps the preview going; Harmony records the error and still pauses.
        return Ok(if from == Previewing && event == Event::ItemFailed { Previewing } else { to });
    }
    Err(match event {
        Event::Resume => Conflict(format!("Job status is {from} - only paused jobs can be resumed.")),
        Event::SkipPreview => Conflict(format!("Job status is {from} - only previewing jobs can skip preview.")),
        _ => Conflict(format!("Job status cannot be updated from {from} to {to}.")),
    })
}

/// A work item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting.
    Ready,
    /// Being processed.
    Running,
    /// Produced its outputs.
    Successful,
    /// Failed with a message.
    Failed,
    /// The job was canceled first.
    Canceled,
}

impl ItemStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Ready => "ready",
            ItemStatus::Running => "running",
            ItemStatus::Successful => "successful",
            ItemStatus::Failed => "failed",
            ItemStatus::Canceled => "canceled",
        }
    }
}

/// One output file of a work item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// File name inside the work item's directory.
    pub file: String,
    /// MIME type.
    pub mime: String,
    /// `[w, s, e, n]`.
    pub bbox: [f64; 4],
    /// Start of coverage.
    pub start: DateTime<Utc>,
    /// End of coverage.
    pub end: DateTime<Utc>,
    /// Size in bytes.
    pub size: u64,
}

/// One granule's processing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Globally unique, increasing ID (the digits in output paths).
    pub id: u64,
    /// The input granule.
    pub granule: SampleGranule,
    /// State.
    pub status: ItemStatus,
    /// Why it failed.
    pub message: Option<String>,
    /// Its outputs.
    pub outputs: Vec<OutputRecord>,
}

/// Everything the server knows about a job; persisted as JSON in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// UUID v4.
    pub job_id: String,
    /// Owner.
    pub username: String,
    /// State.
    pub status: JobStatus,
    /// Extra text before the status message (granule-limit note), if any.
    pub note: Option<String>,
    /// Final message set on failure.
    pub failure: Option<String>,
    /// 0..=100.
    pub progress: u8,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Labels (lower case).
    pub labels: Vec<String>,
    /// Original request as path + query (root-relative, so it survives a port change).
    pub request_path: String,
    /// Collection short name.
    pub collection: String,
    /// Service chain name.
    pub service_name: String,
    /// Fail the whole job on the first failed item.
    pub ignore_errors: bool,
    /// The operation for each granule.
    pub operation: Operation,
    /// Work items in order.
    pub work_items: Vec<WorkItem>,
}

impl JobRecord {
    /// The message Harmony would show now.
    pub fn message(&self) -> String {
        if let (JobStatus::Failed, Some(failure)) = (self.status, &self.failure) {
            return failure.clone();
        }
        match &self.note {
            Some(note) => format!("{note} {}", self.status.default_message()),
            None => self.status.default_message().to_string(),
        }
    }

    /// Number of work items that reached an end state.
    pub fn n_done(&self) -> usize {
        self.work_items.iter().filter(|i| matches!(i.status, ItemStatus::Successful | ItemStatus::Failed)).count()
    }

    fn n_failed(&self) -> usize {
        self.work_items.iter().filter(|i| i.status == ItemStatus::Failed).count()
    }

    fn set_status(&mut self, event: Event) -> Result<(), Conflict> {
        self.status = transition(self.status, event)?;
        self.updated_at = Utc::now();
        if matches!(self.status, JobStatus::Successful | JobStatus::CompleteWithErrors) {
            self.progress = 100;
        }
        Ok(())
    }

    fn update_progress(&mut self) {
        let total = self.work_items.len().max(1);
        let percent = (self.n_done() * 100 / total).min(99) as u8;
        // Progress never decreases (Harmony's `Job.updateProgress`).
        self.progress = self.progress.max(percent);
    }
}

/// Runs one work item: produce the input file and transform it into `out_dir`.
pub trait Processor: Send + Sync + 'static {
    /// Processes `granule` with `operation`, writing outputs into `out_dir`.
    fn process(
        &self,
        granule: &SampleGranule,
        operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError>;
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where outputs go: `<results_dir>/<jobID>/<workItemId>/<file>`.
    pub results_dir: PathBuf,
    /// Jobs with at least this many granules start in preview (unless `skipPreview`).
    pub preview_threshold: usize,
    /// Injected faults (none by default): items that stall or fail, restarts mid-job.
    pub faults: JobFaults,
}

/// What a new job needs.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Owner.
    pub username: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Request path + query.
    pub request_path: String,
    /// Collection short name.
    pub collection: String,
    /// Service chain name.
    pub service_name: String,
    /// Keep going on item failures.
    pub ignore_errors: bool,
    /// Never auto-pause.
    pub skip_preview: bool,
    /// Granule-limit note.
    pub note: Option<String>,
    /// Operation.
    pub operation: Operation,
    /// Input granules (already limited).
    pub granules: Vec<SampleGranule>,
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such job.
    #[error("Unable to find job {0}")]
    NotFound(String),
    /// The state machine refused.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// Persistence failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Inner {
    /// `None` after [`Engine::shutdown`], which closes the database while workers may still hold the engine.
    store: Mutex<Option<Store>>,
    config: EngineConfig,
    processor: Arc<dyn Processor>,
    jobs: Mutex<HashMap<String, JobRecord>>,
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
    /// Set when a job is canceled; its running transformation checks it ([`crate::transform::cancel`]).
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Bumped after every job change, so waiters wake on the change instead of polling.
    changes: watch::Sender<u64>,
    /// Bumped by each injected restart: workers of an older generation are the dead process's and stop,
    /// and what they would record is dropped.
    generation: AtomicU64,
    /// The job faults' random sequence.
    dice: Dice,
}

/// The job engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.inner.config).finish()
    }
}

impl Engine {
    /// Loads the stored jobs and restarts the workers of jobs that were in progress.
    ///
    /// A job that was running when the server stopped is resumed: its interrupted work item is run again
    /// (outputs are written atomically by the transformations, so no half file remains). Must be called
    /// inside a tokio runtime.
    pub fn start(store: Store, mut config: EngineConfig, processor: Arc<dyn Processor>) -> Result<Self, EngineError> {
        let jobs = load_jobs(&store)?;
        config.faults = config.faults.bounded();
        let dice = Dice::new(config.faults.seed);
        let engine = Engine {
            inner: Arc::new(Inner {
                store: Mutex::new(Some(store)),
                config,
                processor,
                jobs: Mutex::new(jobs),
                wakers: Mutex::new(HashMap::new()),
                cancels: Mutex::new(HashMap::new()),
                changes: watch::Sender::new(0),
                generation: AtomicU64::new(0),
                dice,
            }),
        };
        let in_progress = engine.in_progress(&engine.lock());
        for job_id in in_progress {
            engine.spawn(job_id, 0);
        }
        Ok(engine)
    }

    fn in_progress(&self, jobs: &HashMap<String, JobRecord>) -> Vec<String> {
        jobs.values().filter(|job| is_in_progress(job.status)).map(|job| job.job_id.clone()).collect()
    }

    /// An injected restart, as after `kill -9` and `hq serve` started again on the same data directory:
    /// the workers of this generation stop and their results are dropped, the job map is read back from
    /// the database (what was not committed is lost), interrupted items become ready again, `.part` files
    /// under the results directory are removed, and every job in progress gets a new worker.
    ///
    /// A transformation already running on a blocking thread cannot be killed; it finishes unseen (its
    /// outputs are written atomically, so the item's rerun replaces them whole).
    fn restart(&self) {
        let (in_progress, generation) = {
            let mut jobs = self.lock();
            let store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
            let Some(store) = store.as_ref() else { return };
            let reloaded = match load_jobs(store) {
                Ok(reloaded) => reloaded,
                Err(error) => {
                    tracing::error!(%error, "an injected restart could not read the jobs back; not restarting");
                    return;
                }
            };
            let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
            *jobs = reloaded;
            (self.in_progress(&jobs), generation)
        };
        let removed = crate::remove_partial_files(&self.inner.config.results_dir);
        tracing::info!(removed, "injected fault: the engine restarted mid-job");
        self.changed();
        // With the generation read under the lock: if another restart came since, these workers are stale
        // and stop at once, and that restart started the live ones.
        for job_id in in_progress {
            self.spawn(job_id, generation);
        }
    }

    fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, JobRecord>> {
        // A poisoned lock only means a worker panicked mid-update; the map itself is still usable.
        self.inner.jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A receiver that sees a new value after every job change (status, progress, labels).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    fn changed(&self) {
        self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Persists `job` after releasing the job map: the store is locked first, so commits keep the order of
    /// the changes, but readers of the map (every status request) no longer wait for the disk.
    fn persist_after(
        &self,
        jobs: MutexGuard<'_, HashMap<String, JobRecord>>,
        job: &JobRecord,
    ) -> Result<(), StoreError> {
        let store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
        drop(jobs);
        store.as_ref().ok_or(StoreError::Closed)?.put(job)
    }

    /// Reserves `count` work item IDs at once (one database transaction for the whole job).
    fn reserve_work_item_ids(&self, count: usize) -> Result<u64, StoreError> {
        let store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
        store.as_ref().ok_or(StoreError::Closed)?.reserve("work_item", 1, count as u64)
    }

    /// Closes the database and stops the workers at their next step; outputs already written stay.
    pub fn shutdown(&self) {
        self.inner.store.lock().unwrap_or_else(|p| p.into_inner()).take();
        let wakers = self.inner.wakers.lock().unwrap_or_else(|p| p.into_inner());
        for waker in wakers.values() {
            waker.notify_one();
        }
    }

    fn is_shut_down(&self) -> bool {
        self.inner.store.lock().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    fn cancel_flag(&self, job_id: &str) -> Arc<AtomicBool> {
        let mut cancels = self.inner.cancels.lock().unwrap_or_else(|p| p.into_inner());
        cancels.entry(job_id.to_string()).or_default().clone()
    }

    fn waker(&self, job_id: &str) -> Arc<Notify> {
        let mut wakers = self.inner.wakers.lock().unwrap_or_else(|p| p.into_inner());
        wakers.entry(job_id.to_string()).or_default().clone()
    }

    /// The results directory.
    pub fn results_dir(&self) -> &Path {
        &self.inner.config.results_dir
    }

    /// Creates a job, persists it, and starts its worker. Returns the job as created.
    pub fn submit(&self, new: NewJob) -> Result<JobRecord, EngineError> {
        let now = Utc::now();
        let mut work_items = Vec::with_capacity(new.granules.len());
        let first_id = self.reserve_work_item_ids(new.granules.len())?;
        for (granule, id) in new.granules.iter().zip(first_id..) {
            work_items.push(WorkItem {
                id,
                granule: granule.clone(),
                status: ItemStatus::Ready,
                message: None,
                outputs: Vec::new(),
            });
        }
        let mut job = JobRecord {
            job_id: uuid::Uuid::new_v4().to_string(),
            username: new.username,
            status: JobStatus::Accepted,
            note: new.note,
            failure: None,
            progress: 0,
            created_at: now,
            updated_at: now,
            labels: new.labels,
            request_path: new.request_path,
            collection: new.collection,
            service_name: new.service_name,
            ignore_errors: new.ignore_errors,
            operation: new.operation,
            work_items,
        };
        let preview = !new.skip_preview && job.work_items.len() >= self.inner.config.preview_threshold;
        if job.work_items.is_empty() {
            job.set_status(Event::Fail)?;
            job.failure = Some("No matching granules found.".to_string());
        } else {
            job.set_status(if preview { Event::StartWithPreview } else { Event::Start })?;
        }
        // Inserted with the generation read under the map's lock, and committed before an injected restart
        // can read the database back (it takes the map, then the store): the restart sees the job in both
        // or in neither, and the job never gets two live workers.
        let generation = {
            let mut jobs = self.lock();
            jobs.insert(job.job_id.clone(), job.clone());
            let generation = self.generation();
            if let Err(error) = self.persist_after(jobs, &job) {
                self.lock().remove(&job.job_id);
                return Err(error.into());
            }
            generation
        };
        self.changed();
        if !job.status.is_final() {
            self.spawn(job.job_id.clone(), generation);
        }
        Ok(job)
    }

    /// A copy of one job.
    pub fn get(&self, job_id: &str) -> Option<JobRecord> {
        self.lock().get(job_id).cloned()
    }

    /// Copies of all jobs, newest first.
    pub fn list(&self) -> Vec<JobRecord> {
        let mut jobs: Vec<JobRecord> = self.lock().values().cloned().collect();
        jobs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.job_id.cmp(&a.job_id)));
        jobs
    }

    /// Applies a user event (pause, resume, skip preview, cancel) and wakes the worker.
    pub fn apply(&self, job_id: &str, event: Event) -> Result<JobRecord, EngineError> {
        let job = {
            let mut jobs = self.lock();
            let job = jobs.get_mut(job_id).ok_or_else(|| EngineError::NotFound(job_id.to_string()))?;
            let mut next = job.clone();
            next.set_status(event)?;
            if next.status == JobStatus::Canceled {
                for item in &mut next.work_items {
                    if item.status == ItemStatus::Ready {
                        item.status = ItemStatus::Canceled;
                    }
                }
            }
            *job = next.clone();
            // Committed after the map is released (the store lock keeps commits in order), so status
            // requests never wait for the disk behind a pause or a cancel.
            self.persist_after(jobs, &next)?;
            next
        };
        if job.status == JobStatus::Canceled {
            self.cancel_flag(job_id).store(true, Ordering::Relaxed);
        }
        self.changed();
        self.waker(job_id).notify_one();
        Ok(job)
    }

    /// Adds (`add == true`) or removes labels on jobs; all IDs must exist.
    pub fn label(&self, job_ids: &[String], labels: &[String], add: bool) -> Result<(), EngineError> {
        let mut jobs = self.lock();
        if let Some(missing) = job_ids.iter().find(|id| !jobs.contains_key(id.as_str())) {
            return Err(EngineError::NotFound(missing.clone()));
        }
        let mut changed = Vec::with_capacity(job_ids.len());
        for id in job_ids {
            if let Some(job) = jobs.get_mut(id.as_str()) {
                let mut next = job.clone();
                if add {
                    for label in labels {
                        if !next.labels.contains(label) {
                            next.labels.push(label.clone());
                        }
                    }
                } else {
                    next.labels.retain(|l| !labels.contains(l));
                }
                next.updated_at = Utc::now();
                *job = next.clone();
                changed.push(next);
            }
        }
        // As in `persist_after`: the store lock is taken before the map is released, so commits keep the
        // order of the changes while status requests read the map without waiting for the disk.
        let store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
        drop(jobs);
        let store = store.as_ref().ok_or(StoreError::Closed)?;
        for job in &changed {
            store.put(job)?;
        }
        self.changed();
        Ok(())
    }

    fn spawn(&self, job_id: String, generation: u64) {
        let engine = self.clone();
        tokio::spawn(async move { engine.run(job_id, generation).await });
    }

    /// The worker: one work item at a time, honoring pause and cancel between items.
    async fn run(self, job_id: String, generation: u64) {
        let waker = self.waker(&job_id);
        loop {
            if self.is_shut_down() || self.generation() != generation {
                return;
            }
            let next = {
                let mut jobs = self.lock();
                if self.generation() != generation {
                    return;
                }
                let Some(job) = jobs.get_mut(&job_id) else {
                    return;
                };
                if job.status.is_final() {
                    return;
                }
                if job.status == JobStatus::Paused {
                    None
                } else if let Some(item) = job.work_items.iter_mut().find(|i| i.status == ItemStatus::Ready) {
                    item.status = ItemStatus::Running;
                    let work = (item.id, item.granule.clone(), job.operation.clone());
                    Some(Some(work))
                } else {
                    Some(None)
                }
            };
            match next {
                None => {
                    // Paused: wait for resume or cancel; the timeout guards against a lost wake-up.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), waker.notified()).await;
                }
                Some(None) => {
                    let engine = self.clone();
                    let id = job_id.clone();
                    // A database commit: on a blocking thread, like the items' results.
                    let finished = tokio::task::spawn_blocking(move || engine.finish(&id, generation)).await;
                    if let Err(join_error) = finished {
                        tracing::error!(%join_error, job_id, "finishing the job crashed");
                    }
                    return;
                }
                Some(Some((item_id, granule, operation))) => {
                    let fault = self.inner.config.faults.draw(&self.inner.dice);
                    match fault {
                        ItemFault::None | ItemFault::Restart => {}
                        ItemFault::Stall(pause) => {
                            tracing::info!(job_id, item_id, ?pause, "injected fault: the work item stalls");
                            tokio::time::sleep(pause).await;
                        }
                        ItemFault::Fail => {
                            let message = format!(
                                "injected fault: the work item for {} failed mid-job; submit the request again to retry it",
                                granule.name
                            );
                            let engine = self.clone();
                            let id = job_id.clone();
                            let failed = Err(TransformError::Io(message));
                            let recorded =
                                tokio::task::spawn_blocking(move || engine.record(&id, item_id, failed, generation));
                            if let Err(join_error) = recorded.await {
                                tracing::error!(%join_error, job_id, "recording a work item crashed");
                            }
                            continue;
                        }
                    }
                    let out_dir = self.inner.config.results_dir.join(&job_id).join(item_id.to_string());
                    let processor = self.inner.processor.clone();
                    let cancel = self.cancel_flag(&job_id);
                    let engine = self.clone();
                    let id = job_id.clone();
                    // The result is recorded (a database commit) on the blocking thread too, not on a
                    // runtime worker that status requests need.
                    let outcome = tokio::task::spawn_blocking(move || {
                        let result = std::fs::create_dir_all(&out_dir)
                            .map_err(TransformError::failed(format!("could not create {}", out_dir.display())))
                            .and_then(|()| {
                                crate::transform::cancel::run(cancel, || {
                                    processor.process(&granule, &operation, &out_dir)
                                })
                            });
                        if fault == ItemFault::Restart {
                            // The item's work is done but not committed when the "process" dies.
                            engine.restart();
                        } else {
                            engine.record(&id, item_id, result, generation);
                        }
                    })
                    .await;
                    if let Err(join_error) = outcome {
                        let crashed = TransformError::failed("the transformation crashed")(join_error);
                        self.record(&job_id, item_id, Err(crashed), generation);
                    }
                }
            }
        }
    }

    /// Records an item's result, unless an injected restart happened since `generation` began it.
    fn record(&self, job_id: &str, item_id: u64, result: Result<Vec<Output>, TransformError>, generation: u64) {
        let mut jobs = self.lock();
        if self.generation() != generation {
            return;
        }
        let Some(job) = jobs.get_mut(job_id) else {
            return;
        };
        let mut next = job.clone();
        let canceled = next.status == JobStatus::Canceled;
        let failed = result.is_err();
        if let Some(item) = next.work_items.iter_mut().find(|i| i.id == item_id) {
            match result {
                // Canceled while it ran: its transformation stopped early, so what it wrote is not a result.
                _ if canceled => item.status = ItemStatus::Canceled,
                Ok(outputs) => {
                    item.status = ItemStatus::Successful;
                    item.outputs = outputs
                        .into_iter()
                        .filter_map(|o| {
                            let file = o.path.file_name()?.to_string_lossy().into_owned();
                            let size = std::fs::metadata(&o.path).map(|m| m.len()).unwrap_or(0);
                            Some(OutputRecord { file, mime: o.mime, bbox: o.bbox, start: o.start, end: o.end, size })
                        })
                        .collect();
                }
                Err(error) => {
                    item.status = ItemStatus::Failed;
                    item.message = Some(error.to_string());
                }
            }
        }
        next.updated_at = Utc::now();
        if !canceled {
            next.update_progress();
            if failed && !next.ignore_errors {
                let message = next.work_items.iter().find(|i| i.id == item_id).and_then(|i| i.message.clone());
                report_refused(next.set_status(Event::Fail), job_id);
                next.failure = message;
                for item in &mut next.work_items {
                    if item.status == ItemStatus::Ready {
                        item.status = ItemStatus::Canceled;
                    }
                }
            } else if failed && next.status != JobStatus::Previewing {
                report_refused(next.set_status(Event::ItemFailed), job_id);
            }
            if next.status == JobStatus::Previewing && next.work_items.iter().any(|i| i.status == ItemStatus::Ready) {
                report_refused(next.set_status(Event::PreviewDone), job_id);
            }
        }
        *job = next.clone();
        if let Err(error) = self.persist_after(jobs, &next) {
            tracing::error!(%error, job_id, "could not persist a work item result");
        }
        self.changed();
    }

    fn finish(&self, job_id: &str, generation: u64) {
        let mut jobs = self.lock();
        if self.generation() != generation {
            return;
        }
        let Some(job) = jobs.get_mut(job_id) else {
            return;
        };
        let mut next = job.clone();
        let n_failed = next.n_failed();
        let event = if n_failed == next.work_items.len() {
            next.failure = next
                .work_items
                .iter()
                .find_map(|i| i.message.clone())
                .or_else(|| Some("The job failed with an unknown error".to_string()));
            Event::Fail
        } else {
            Event::Complete { with_errors: n_failed > 0 }
        };
        match next.set_status(event) {
            Ok(()) => {
                *job = next.clone();
                if let Err(error) = self.persist_after(jobs, &next) {
                    tracing::error!(%error, job_id, "could not persist a finished job");
                }
                self.changed();
            }
            refused => report_refused(refused, job_id),
        }
    }
}

/// The stored jobs, with the items that were running when the engine stopped made ready to run again.
fn load_jobs(store: &Store) -> Result<HashMap<String, JobRecord>, StoreError> {
    let mut jobs = HashMap::new();
    for mut job in store.load_all()? {
        for item in &mut job.work_items {
            if item.status == ItemStatus::Running {
                item.status = ItemStatus::Ready;
            }
        }
        jobs.insert(job.job_id.clone(), job);
    }
    Ok(jobs)
}

fn is_in_progress(status: JobStatus) -> bool {
    matches!(
        status,
        JobStatus::Accepted
            | JobStatus::Running
            | JobStatus::RunningWithErrors
            | JobStatus::Previewing
            | JobStatus::Paused
    )
}

/// A transition the state machine refused where the engine expected it to pass: logged, never dropped.
fn report_refused(result: Result<(), Conflict>, job_id: &str) {
    if let Err(conflict) = result {
        tracing::warn!(job_id, conflict = %conflict.0, "a job state change was refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;

    fn check(from: JobStatus, event: Event, expected: Result<JobStatus, &str>) {
        let got = transition(from, event).map_err(|c| c.0);
        assert_eq!(got, expected.map_err(String::from), "{from} + {event:?}");
    }

    #[test]
    fn allowed_transitions_follow_harmony() {
        let cases = [
            (Accepted, Event::Start, Running),
            (Accepted, Event::StartWithPreview, Previewing),
            (Accepted, Event::Cancel, Canceled),
            (Running, Event::Pause, Paused),
            (Running, Event::Cancel, Canceled),
            (Running, Event::Fail, Failed),
            (Running, Event::ItemFailed, RunningWithErrors),
            (Running, Event::Complete { with_errors: false }, Successful),
            (Running, Event::Complete { with_errors: true }, CompleteWithErrors),
            (RunningWithErrors, Event::ItemFailed, RunningWithErrors),
            (RunningWithErrors, Event::Pause, Paused),
            (RunningWithErrors, Event::Cancel, Canceled),
            (RunningWithErrors, Event::Fail, Failed),
            (RunningWithErrors, Event::Complete { with_errors: true }, CompleteWithErrors),
            (Previewing, Event::SkipPreview, Running),
            (Previewing, Event::Pause, Paused),
            (Previewing, Event::PreviewDone, Paused),
            (Previewing, Event::ItemFailed, Previewing),
            (Previewing, Event::Cancel, Canceled),
            (Previewing, Event::Complete { with_errors: false }, Successful),
            (Paused, Event::Resume, Running),
            (Paused, Event::SkipPreview, Running),
            (Paused, Event::Cancel, Canceled),
            (Paused, Event::Fail, Failed),
            (Failed, Event::Fail, Failed),
        ];
        for (from, event, to) in cases {
            check(from, event, Ok(to));
        }
    }

    #[test]
    fn refused_transitions_carry_harmony_messages() {
        let cases = [
            (Running, Event::Resume, "Job status is running - only paused jobs can be resumed."),
            (Successful, Event::Resume, "Job status is successful - only paused jobs can be resumed."),
            (Running, Event::SkipPreview, "Job status is running - only previewing jobs can skip preview."),
            (Successful, Event::Cancel, "Job status cannot be updated from successful to canceled."),
            (Canceled, Event::Pause, "Job status cannot be updated from canceled to paused."),
            (Paused, Event::Pause, "Job status cannot be updated from paused to paused."),
            (Failed, Event::Cancel, "Job status cannot be updated from failed to canceled."),
            (CompleteWithErrors, Event::Pause, "Job status cannot be updated from complete_with_errors to paused."),
            (
                RunningWithErrors,
                Event::Complete { with_errors: false },
                "Job status cannot be updated from running_with_errors to successful.",
            ),
            (Accepted, Event::Pause, "Job status cannot be updated from accepted to paused."),
            (Canceled, Event::Start, "Job status cannot be updated from canceled to running."),
        ];
        for (from, event, message) in cases {
            check(from, event, Err(message));
        }
    }

    #[test]
    fn final_states_accept_nothing_but_fail_on_failed() {
        let events = [
            Event::Start,
            Event::StartWithPreview,
            Event::Pause,
            Event::Resume,
            Event::SkipPreview,
            Event::Cancel,
            Event::Fail,
            Event::ItemFailed,
            Event::PreviewDone,
            Event::Complete { with_errors: false },
            Event::Complete { with_errors: true },
        ];
        for from in [Successful, CompleteWithErrors, Failed, Canceled] {
            for event in events {
                let allowed = transition(from, event).is_ok();
                assert_eq!(allowed, from == Failed && event == Event::Fail, "{from} + {event:?}");
            }
        }
    }

    /// Fails granules whose name contains "bad", sleeps on "slow", otherwise writes one small file.
    struct FakeProcessor;

    impl Processor for FakeProcessor {
        fn process(
            &self,
            granule: &SampleGranule,
            _: &Operation,
            out_dir: &Path,
        ) -> Result<Vec<Output>, TransformError> {
            if granule.name.contains("bad") {
                return Err(TransformError::NoData("No data found in bbox".into()));
            }
            if granule.name.contains("slow") {
                std::thread::sleep(std::time::Duration::from_millis(150));
            }
            let path = out_dir.join(format!("{}_subsetted.h5", granule.name));
            std::fs::write(&path, b"x").map_err(|e| TransformError::Io(e.to_string()))?;
            Ok(vec![Output {
                path,
                mime: "application/x-hdf5".into(),
                bbox: granule.bbox,
                start: granule.start,
                end: granule.end,
            }])
        }
    }

    fn granule(name: &str) -> SampleGranule {
        SampleGranule {
            concept_id: format!("G-{name}"),
            name: name.into(),
            short_name: "T".into(),
            bbox: [0.0, 0.0, 1.0, 1.0],
            start: Utc::now(),
            end: Utc::now(),
            footprint: Vec::new(),
            source: None,
            size: None,
        }
    }

    fn new_job(names: &[&str], ignore_errors: bool, skip_preview: bool) -> NewJob {
        NewJob {
            username: "anonymous".into(),
            labels: vec![],
            request_path: "/T/ogc-api-coverages/1.0.0/collections/all/coverage/rangeset".into(),
            collection: "T".into(),
            service_name: "test".into(),
            ignore_errors,
            skip_preview,
            note: None,
            operation: Operation::default(),
            granules: names.iter().map(|n| granule(n)).collect(),
        }
    }

    fn engine(dir: &Path, threshold: usize) -> Engine {
        let store = Store::open(&dir.join("db.redb")).unwrap();
        let config = EngineConfig {
            results_dir: dir.join("results"),
            preview_threshold: threshold,
            faults: JobFaults::default(),
        };
        Engine::start(store, config, Arc::new(FakeProcessor)).unwrap()
    }

    async fn wait_until(engine: &Engine, id: &str, done: impl Fn(&JobRecord) -> bool) -> JobRecord {
        for _ in 0..200 {
            let job = engine.get(id).unwrap();
            if done(&job) {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("job {id} did not reach the expected state: {:?}", engine.get(id));
    }

    /// Masks 100,000 points with a 1,000,000-vertex polygon (minutes of work), as a shape subset does.
    struct HugeMask;

    impl Processor for HugeMask {
        fn process(&self, _: &SampleGranule, _: &Operation, _: &Path) -> Result<Vec<Output>, TransformError> {
            let ring: Vec<[f64; 2]> = (0..1_000_000)
                .map(|i| {
                    let angle = i as f64 / 1_000_000.0 * std::f64::consts::TAU;
                    [angle.cos(), angle.sin()]
                })
                .collect();
            let lons: Vec<f64> = (0..100_000).map(|i| (i % 100) as f64 / 100.0).collect();
            let lats = lons.clone();
            let everything: Vec<std::ops::Range<usize>> = std::iter::once(0..lons.len()).collect();
            let runs = crate::transform::selection::polygon_runs(&lons, &lats, &everything, &[vec![ring]]);
            Err(TransformError::NoData(format!("{} runs", runs.len())))
        }
    }

    #[tokio::test]
    async fn every_change_wakes_subscribers() {
        let dir = temp_dir("changes");
        let engine = engine(&dir, 300);
        let mut changes = engine.subscribe();
        let job = engine.submit(new_job(&["a", "b"], false, true)).unwrap();
        let mut wakes = 0;
        while !engine.get(&job.job_id).unwrap().status.is_final() {
            tokio::time::timeout(std::time::Duration::from_secs(10), changes.changed())
                .await
                .expect("a change must wake the subscriber")
                .unwrap();
            wakes += 1;
        }
        assert!(wakes >= 1);
        assert_eq!(engine.get(&job.job_id).unwrap().status, Successful);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancel_stops_the_running_transformation() {
        let dir = temp_dir("cancel-running");
        let store = Store::open(&dir.join("db.redb")).unwrap();
        let config =
            EngineConfig { results_dir: dir.join("results"), preview_threshold: 300, faults: JobFaults::default() };
        let engine = Engine::start(store, config, Arc::new(HugeMask)).unwrap();
        let job = engine.submit(new_job(&["g1"], false, true)).unwrap();
        wait_until(&engine, &job.job_id, |j| j.work_items.iter().any(|i| i.status == ItemStatus::Running)).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        engine.apply(&job.job_id, Event::Cancel).unwrap();
        // The worker gives the item back once the transformation stops: it must not run on for minutes.
        let running = || engine.get(&job.job_id).unwrap().work_items.iter().any(|i| i.status == ItemStatus::Running);
        for _ in 0..400 {
            if !running() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!running(), "the transformation kept running 20 s after cancel");
        assert_eq!(engine.get(&job.job_id).unwrap().status, JobStatus::Canceled);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn injected_stalls_failures_and_restarts_leave_every_job_consistent() {
        let dir = temp_dir("faults");
        let store = Store::open(&dir.join("db.redb")).unwrap();
        // Seeded, but which item gets which roll depends on how the two workers interleave, so the rates are
        // what make both outcomes certain enough: at 0.1 a run with no failed item among the 40 came up in
        // about 1 run in 10 (9 runs in a loop); at 0.3 that takes (1 - 0.8 × 0.3)^40 ≈ 2e-5.
        let faults = JobFaults {
            stall_rate: 0.2,
            stall: std::time::Duration::from_millis(20),
            fail_rate: 0.3,
            restart_rate: 0.2,
            seed: 5,
        };
        let config = EngineConfig { results_dir: dir.join("results"), preview_threshold: 300, faults };
        let engine = Engine::start(store, config, Arc::new(FakeProcessor)).unwrap();
        let names = ["a", "b", "c", "d"];
        let ids: Vec<String> = (0..10).map(|_| engine.submit(new_job(&names, true, true)).unwrap().job_id).collect();
        for id in &ids {
            wait_until(&engine, id, |j| j.status.is_final()).await;
        }
        assert!(engine.generation() > 0, "no restart was injected");
        let (mut n_failed, mut n_done) = (0, 0);
        for id in &ids {
            let job = engine.get(id).unwrap();
            assert!(matches!(job.status, Successful | CompleteWithErrors | Failed), "{id}: {}", job.status);
            for item in &job.work_items {
                match item.status {
                    ItemStatus::Successful => {
                        n_done += 1;
                        let file = dir.join("results").join(id).join(item.id.to_string()).join(&item.outputs[0].file);
                        assert_eq!(std::fs::read(&file).unwrap(), b"x", "{}", file.display());
                    }
                    ItemStatus::Failed => {
                        n_failed += 1;
                        let message = item.message.clone().unwrap_or_default();
                        let expected = format!("the work item for {} failed mid-job", item.granule.name);
                        assert!(message.contains(&expected), "{message}");
                        assert!(message.contains("submit the request again to retry it"), "{message}");
                    }
                    other => panic!("{id}: item {} left {other:?}", item.id),
                }
            }
        }
        assert!(n_failed > 0 && n_done > 0, "{n_failed} failed, {n_done} done");
        // What the map says is what the database says: a real restart reads back the same jobs.
        let before: Vec<JobRecord> = engine.list();
        engine.shutdown();
        let again = self::engine(&dir, 300);
        assert_eq!(again.list(), before);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hq-engine-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn job_runs_one_work_item_per_granule_and_ends_at_100() {
        let dir = temp_dir("ok");
        let engine = engine(&dir, 100);
        let job = engine.submit(new_job(&["a", "b", "c"], true, false)).unwrap();
        assert_eq!(job.status, Running);
        let job = wait_until(&engine, &job.job_id, |j| j.status.is_final()).await;
        assert_eq!((job.status, job.progress), (Successful, 100));
        assert_eq!(job.work_items.len(), 3);
        let ids: Vec<u64> = job.work_items.iter().map(|i| i.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        for item in &job.work_items {
            let file = dir.join("results").join(&job.job_id).join(item.id.to_string()).join(&item.outputs[0].file);
            assert!(file.is_file(), "{}", file.display());
        }
    }

    #[tokio::test]
    async fn failed_items_give_complete_with_errors_or_failed_per_ignore_errors() {
        let dir = temp_dir("errors");
        let engine = engine(&dir, 100);
        let tolerant = engine.submit(new_job(&["a", "bad", "c"], true, false)).unwrap();
        let strict = engine.submit(new_job(&["bad", "b"], false, false)).unwrap();
        let all_bad = engine.submit(new_job(&["bad1", "bad2"], true, false)).unwrap();
        let tolerant = wait_until(&engine, &tolerant.job_id, |j| j.status.is_final()).await;
        assert_eq!((tolerant.status, tolerant.progress), (CompleteWithErrors, 100));
        let strict = wait_until(&engine, &strict.job_id, |j| j.status.is_final()).await;
        assert_eq!(strict.status, Failed);
        assert_eq!(strict.message(), "No data found in bbox");
        assert_eq!(strict.work_items[1].status, ItemStatus::Canceled);
        let all_bad = wait_until(&engine, &all_bad.job_id, |j| j.status.is_final()).await;
        assert_eq!(all_bad.status, Failed);
    }

    #[tokio::test]
    async fn large_jobs_preview_then_pause_and_skip_preview_overrides() {
        let dir = temp_dir("preview");
        let engine = engine(&dir, 3);
        let job = engine.submit(new_job(&["a", "b", "c"], true, false)).unwrap();
        assert_eq!(job.status, Previewing);
        let paused = wait_until(&engine, &job.job_id, |j| j.status == Paused).await;
        assert_eq!(paused.n_done(), 1);
        assert!(paused.progress < 100);
        engine.apply(&job.job_id, Event::Resume).unwrap();
        let done = wait_until(&engine, &job.job_id, |j| j.status.is_final()).await;
        assert_eq!(done.status, Successful);
        let skipped = engine.submit(new_job(&["a", "b", "c"], true, true)).unwrap();
        assert_eq!(skipped.status, Running);
    }

    #[tokio::test]
    async fn pause_holds_the_worker_and_cancel_stops_it() {
        let dir = temp_dir("pause");
        let engine = engine(&dir, 100);
        let job = engine.submit(new_job(&["slow1", "slow2", "slow3", "slow4"], true, false)).unwrap();
        engine.apply(&job.job_id, Event::Pause).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let paused = engine.get(&job.job_id).unwrap();
        assert_eq!(paused.status, Paused);
        assert!(paused.n_done() <= 1, "{}", paused.n_done());
        assert!(matches!(engine.apply(&job.job_id, Event::Pause), Err(EngineError::Conflict(_))));
        engine.apply(&job.job_id, Event::Cancel).unwrap();
        let canceled = wait_until(&engine, &job.job_id, |j| j.status == Canceled).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let later = engine.get(&job.job_id).unwrap();
        assert_eq!(later.status, Canceled);
        assert_eq!(later.n_done(), canceled.n_done().max(later.n_done()));
        assert!(later.work_items.iter().any(|i| i.status == ItemStatus::Canceled));
        assert!(matches!(engine.apply("nope", Event::Cancel), Err(EngineError::NotFound(_))));
    }

    #[tokio::test]
    async fn jobs_survive_a_restart_and_unfinished_ones_resume() {
        let dir = temp_dir("restart");
        let (done_id, paused_id) = {
            let engine = engine(&dir, 100);
            let done = engine.submit(new_job(&["a"], true, false)).unwrap();
            wait_until(&engine, &done.job_id, |j| j.status.is_final()).await;
            let paused = engine.submit(new_job(&["slow1", "slow2"], true, false)).unwrap();
            engine.apply(&paused.job_id, Event::Pause).unwrap();
            engine.label(std::slice::from_ref(&done.job_id), &["kept".into()], true).unwrap();
            engine.shutdown();
            (done.job_id, paused.job_id)
        };
        let engine = engine(&dir, 100);
        let done = engine.get(&done_id).unwrap();
        assert_eq!((done.status, done.labels.clone()), (Successful, vec!["kept".to_string()]));
        assert_eq!(engine.get(&paused_id).unwrap().status, Paused);
        engine.apply(&paused_id, Event::Resume).unwrap();
        let resumed = wait_until(&engine, &paused_id, |j| j.status.is_final()).await;
        assert_eq!(resumed.status, Successful);
        assert_eq!(engine.list().len(), 2);
    }

    #[tokio::test]
    async fn no_granules_fails_the_job_at_once() {
        let dir = temp_dir("empty");
        let engine = engine(&dir, 100);
        let job = engine.submit(new_job(&[], true, false)).unwrap();
        assert_eq!(job.status, Failed);
        assert_eq!(job.message(), "No matching granules found.");
    }
}
