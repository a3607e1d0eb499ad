//! Following jobs: status, bulk status, wait (with progress and cancellation), state changes, and result
//! links page by page through `next`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::endpoint::{self, StateChange};
use crate::api::job::{BulkStatus, Job, JobStatus, JobStatusBrief, Link};
use crate::harmony::client::{Client, Submission};
use crate::harmony::error::{Error, Result};

/// How `wait` polls.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitConfig {
    /// Time between polls (harmony-py: 3 s).
    pub interval: Duration,
}

impl Default for WaitConfig {
    fn default() -> Self {
        WaitConfig { interval: Duration::from_secs(3) }
    }
}

/// `GET /jobs/{id}?linktype=https`.
pub async fn status(client: &Client, job_id: &str) -> Result<Job> {
    client.json(&endpoint::job_status(&client.root_url(), job_id, "https", None, None)).await
}

/// `POST /jobs/status` for any number of jobs (chunks of 2000); unknown IDs are an error.
pub async fn bulk_status(client: &Client, job_ids: &[String]) -> Result<Vec<JobStatusBrief>> {
    let mut statuses = Vec::with_capacity(job_ids.len());
    let mut not_found = Vec::new();
    for request in endpoint::bulk_status(&client.root_url(), job_ids) {
        let answer: BulkStatus = client.json(&request).await?;
        statuses.extend(answer.job_statuses);
        not_found.extend(answer.not_found_job_ids);
    }
    if !not_found.is_empty() {
        return Err(Error::JobsNotFound { job_ids: not_found });
    }
    Ok(statuses)
}

/// Pauses, resumes, cancels or skips the preview of a job; returns the job as it is afterwards.
pub async fn change_state(client: &Client, job_id: &str, change: StateChange) -> Result<Job> {
    client.json(&endpoint::job_state_change(&client.root_url(), job_id, change)).await
}

/// Waits until the job is final or paused, calling `on_progress` after every poll; returns the job
/// document. `failed` is an error ([`Error::JobFailed`]); cancelling the token stops waiting at once.
pub async fn wait(
    client: &Client,
    job_id: &str,
    config: &WaitConfig,
    on_progress: &mut (dyn FnMut(&JobStatusBrief) + Send),
    cancel: &CancellationToken,
) -> Result<Job> {
    let ids = [job_id.to_owned()];
    loop {
        let poll = tokio::select! {
            _ = cancel.cancelled() => return Err(stopped_waiting(job_id)),
            poll = bulk_status(client, &ids) => poll?,
        };
        let Some(brief) = poll.into_iter().find(|brief| brief.job_id == job_id) else {
            return Err(Error::JobsNotFound { job_ids: ids.to_vec() });
        };
        on_progress(&brief);
        if brief.status.is_final() || brief.status == JobStatus::Paused {
            let job = status(client, job_id).await?;
            if job.status == JobStatus::Failed {
                return Err(Error::JobFailed { job_id: job_id.to_owned(), message: job.message });
            }
            return Ok(job);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(stopped_waiting(job_id)),
            _ = tokio::time::sleep(config.interval) => {}
        }
    }
}

/// Submits several requests one after the other (harmony-py's `submit` in a loop: Harmony has no batch
/// submission) and returns what each created, in order. Stops at the first failure; the jobs submitted
/// before it exist on Harmony (list them with `jobs`) and must not be submitted again.
pub async fn submit_batch(client: &Client, requests: &[crate::api::request::Request]) -> Result<Vec<Submission>> {
    let mut submissions = Vec::with_capacity(requests.len());
    for request in requests {
        submissions.push(client.submit(request).await?);
    }
    Ok(submissions)
}

/// Waits until every job is final or paused (harmony-py's `wait_for_batch`), polling them together with
/// bulk status (chunks of 2000) and calling `on_progress` for each job after every poll. Returns the job
/// documents in the order of `job_ids`. Unlike [`wait`], a failed job is not an error here: the caller
/// sees each job's status and decides.
pub async fn wait_for_batch(
    client: &Client,
    job_ids: &[String],
    config: &WaitConfig,
    on_progress: &mut (dyn FnMut(&JobStatusBrief) + Send),
    cancel: &CancellationToken,
) -> Result<Vec<Job>> {
    loop {
        let poll = tokio::select! {
            _ = cancel.cancelled() => return Err(stopped_waiting_for_batch(job_ids)),
            poll = bulk_status(client, job_ids) => poll?,
        };
        for brief in &poll {
            on_progress(brief);
        }
        let done = |id: &String| {
            poll.iter()
                .any(|brief| &brief.job_id == id && (brief.status.is_final() || brief.status == JobStatus::Paused))
        };
        if job_ids.iter().all(done) {
            let mut jobs = Vec::with_capacity(job_ids.len());
            for id in job_ids {
                jobs.push(status(client, id).await?);
            }
            return Ok(jobs);
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(stopped_waiting_for_batch(job_ids)),
            _ = tokio::time::sleep(config.interval) => {}
        }
    }
}

fn stopped_waiting_for_batch(job_ids: &[String]) -> Error {
    let list = job_ids.join(", ");
    Error::Cancelled {
        what: format!(
            "waiting for jobs {list}; they keep running on Harmony: `wait ({list})` to follow them again, `cancel ID` to stop one"
        ),
    }
}

fn stopped_waiting(job_id: &str) -> Error {
    Error::Cancelled {
        what: format!(
            "waiting for job {job_id}; it keeps running on Harmony: `wait {job_id}` to follow it again, `cancel {job_id}` to stop it"
        ),
    }
}

/// The data links of a job: every page through `next` when `page` and `limit` are absent, only the asked
/// page otherwise (harmony-py's `result_urls`). `link_type` is `https`, `http` or `s3`.
pub async fn result_links(
    client: &Client,
    job_id: &str,
    link_type: &str,
    page: Option<u64>,
    limit: Option<u64>,
) -> Result<Vec<Link>> {
    let one_page = page.is_some() || limit.is_some();
    let page = if limit.is_some() && page.is_none() { Some(1) } else { page };
    let first: Job = client.json(&endpoint::job_status(&client.root_url(), job_id, link_type, page, limit)).await?;
    let mut links: Vec<Link> = first.data_links().cloned().collect();
    let mut next = first.link("next").map(|link| link.href.clone());
    // Bounded: Harmony pages hold up to 2000 links, so 10 000 pages is far beyond any real job.
    let mut pages = 0;
    while let (false, Some(url)) = (one_page, next.take()) {
        pages += 1;
        if pages > 10_000 {
            break;
        }
        let response = crate::harmony::client::checked(client.get(&url, Default::default()).await?).await?;
        let url = crate::harmony::error::redact(&url);
        let text = response.text().await.map_err(|source| Error::Connection { url: url.clone(), source })?;
        let job: Job = serde_json::from_str(&text)
            .map_err(|error| Error::BadResponse { url, message: format!("not a job page: {error}") })?;
        links.extend(job.data_links().cloned());
        next = job.link("next").map(|link| link.href.clone());
    }
    Ok(links)
}
