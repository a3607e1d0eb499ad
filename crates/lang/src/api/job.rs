//! Harmony's job vocabulary: job status documents, links, listings, bulk status and labels, as serde types.
//!
//! Pure: no I/O, no tokio. Field names and order are Harmony's (`HS:app/models/job.ts` `serialize`); optional
//! fields are skipped when absent so a document we emit has the shape a real Harmony sends.

use serde::{Deserialize, Serialize};

/// A job's state (`HS:app/models/job.ts` `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Created, not yet started.
    Accepted,
    /// Work items are being processed.
    Running,
    /// Processing goes on, but some work items failed.
    RunningWithErrors,
    /// Processing the first granules before auto-pausing.
    Previewing,
    /// Waiting for the user to resume.
    Paused,
    /// Every work item succeeded.
    Successful,
    /// Finished, some work items failed.
    CompleteWithErrors,
    /// Finished without results.
    Failed,
    /// Stopped by the user.
    Canceled,
}

impl JobStatus {
    /// Every status, in Harmony's order.
    pub const ALL: [JobStatus; 9] = [
        JobStatus::Accepted,
        JobStatus::Running,
        JobStatus::RunningWithErrors,
        JobStatus::Previewing,
        JobStatus::Paused,
        JobStatus::Successful,
        JobStatus::CompleteWithErrors,
        JobStatus::Failed,
        JobStatus::Canceled,
    ];

    /// The wire spelling, e.g. `running_with_errors`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Accepted => "accepted",
            JobStatus::Running => "running",
            JobStatus::RunningWithErrors => "running_with_errors",
            JobStatus::Previewing => "previewing",
            JobStatus::Paused => "paused",
            JobStatus::Successful => "successful",
            JobStatus::CompleteWithErrors => "complete_with_errors",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
        }
    }

    /// True when the job will never change again by itself or by the user.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Successful | JobStatus::CompleteWithErrors | JobStatus::Failed | JobStatus::Canceled)
    }

    /// Harmony's default message for this status.
    pub fn default_message(self) -> &'static str {
        match self {
            JobStatus::Accepted => "The job has been accepted and is waiting to be processed",
            JobStatus::Running => "The job is being processed",
            JobStatus::RunningWithErrors => "The job is being processed, but some items have failed processing",
            JobStatus::Previewing => "The job is generating a preview before auto-pausing",
            JobStatus::Paused => "The job is paused and may be resumed using the provided link",
            JobStatus::Successful => "The job has completed successfully",
            JobStatus::CompleteWithErrors => "The job has completed with errors. See the errors field for more details",
            JobStatus::Failed => "The job failed with an unknown error",
            JobStatus::Canceled => "The job was canceled",
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown job status {text}"))
    }
}

/// The time coverage of a data link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Temporal {
    /// ISO-8601 start.
    pub start: String,
    /// ISO-8601 end.
    pub end: String,
}

/// A link in a job document: data, STAC, state change, paging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// Human title (file name for data links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// MIME type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Relation: `data`, `self`, `next`, `stac-catalog-json`, `canceler`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// Spatial extent `[w, s, e, n]` of a data link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
    /// Time coverage of a data link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<Temporal>,
}

impl Link {
    /// A non-data link with Harmony's field order (`title, href, rel, type`) values.
    pub fn new(title: &str, href: String, rel: &str, mime: &str) -> Self {
        Link {
            href,
            title: Some(title.to_string()),
            mime: Some(mime.to_string()),
            rel: Some(rel.to_string()),
            bbox: None,
            temporal: None,
        }
    }

    /// True for `rel == "data"`.
    pub fn is_data(&self) -> bool {
        self.rel.as_deref() == Some("data")
    }
}

/// A per-granule message in `errors` or `warnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    /// The granule (or work item input) concerned.
    pub url: String,
    /// What happened.
    pub message: String,
}

/// A job status document, `GET /jobs/{jobID}` (and each entry of `GET /jobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Current state.
    pub status: JobStatus,
    /// Human text.
    pub message: String,
    /// 0..=100; 100 only once the job completed.
    pub progress: u8,
    /// ISO-8601 creation time with milliseconds.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// ISO-8601 last update time with milliseconds.
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    /// When the outputs expire (creation + 30 days).
    #[serde(rename = "dataExpiration", default, skip_serializing_if = "Option::is_none")]
    pub data_expiration: Option<String>,
    /// State-change, STAC, data and paging links.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Lower-cased labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// URL of the steps document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<String>,
    /// The service chain that ran the job.
    #[serde(rename = "serviceName", default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// The original request as a GET URL.
    pub request: String,
    /// How many granules the job processes.
    #[serde(rename = "numInputGranules")]
    pub num_input_granules: u64,
    /// The job's UUID.
    #[serde(rename = "jobID")]
    pub job_id: String,
    /// Size of the inputs, e.g. `12.00 MiB`.
    #[serde(rename = "originalDataSize", default, skip_serializing_if = "Option::is_none")]
    pub original_data_size: Option<String>,
    /// Size of the outputs.
    #[serde(rename = "outputDataSize", default, skip_serializing_if = "Option::is_none")]
    pub output_data_size: Option<String>,
    /// e.g. `45.00% reduction`.
    #[serde(rename = "dataSizePercentChange", default, skip_serializing_if = "Option::is_none")]
    pub data_size_percent_change: Option<String>,
    /// Per-granule errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<JobMessage>>,
    /// Per-granule warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<JobMessage>>,
}

impl Job {
    /// The data links of this page.
    pub fn data_links(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|link| link.is_data())
    }

    /// The link with relation `rel`, if any.
    pub fn link(&self, rel: &str) -> Option<&Link> {
        self.links.iter().find(|link| link.rel.as_deref() == Some(rel))
    }
}

/// `GET /jobs`: a page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobListing {
    /// Total number of matching jobs.
    pub count: u64,
    /// This page's jobs (without data links).
    pub jobs: Vec<Job>,
    /// Paging links.
    pub links: Vec<Link>,
}

/// Body of `POST /jobs/status` and of the batch state changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIds {
    /// Job UUIDs.
    #[serde(rename = "jobIDs")]
    pub job_ids: Vec<String>,
}

/// One entry of a bulk status answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatusBrief {
    /// The job's UUID.
    #[serde(rename = "jobID")]
    pub job_id: String,
    /// Current state.
    pub status: JobStatus,
    /// 0..=100.
    pub progress: u8,
}

/// Answer of `POST /jobs/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkStatus {
    /// Jobs found, in request order.
    #[serde(rename = "jobStatuses")]
    pub job_statuses: Vec<JobStatusBrief>,
    /// Requested IDs with no job.
    #[serde(rename = "notFoundJobIDs")]
    pub not_found_job_ids: Vec<String>,
}

/// Answer of `PUT /labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// The labels that were added.
    pub labels: Vec<String>,
}

/// A work item in a steps document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepWorkItem {
    /// Work item ID (the digits in output paths).
    pub id: u64,
    /// `ready`, `running`, `successful`, `failed`, `canceled`, `warning`.
    pub status: String,
    /// How often it was retried.
    #[serde(rename = "retryCount")]
    pub retry_count: u32,
    /// Input URLs, when resolved.
    #[serde(rename = "inputFiles")]
    pub input_files: Option<Vec<String>>,
    /// Output URLs, when resolved.
    #[serde(rename = "outputFiles")]
    pub output_files: Option<Vec<String>>,
    /// Why it failed or warned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One step of a job's workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Service image or name.
    #[serde(rename = "serviceID")]
    pub service_id: String,
    /// 1-based index.
    #[serde(rename = "stepIndex")]
    pub step_index: u32,
    /// Number of work items.
    #[serde(rename = "workItemCount")]
    pub work_item_count: u64,
    /// Count of work items per status.
    pub statuses: serde_json::Map<String, serde_json::Value>,
    /// The work items (possibly a page).
    #[serde(rename = "workItems")]
    pub work_items: Vec<StepWorkItem>,
}

/// `GET /jobs/{id}/steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Steps {
    /// The job's UUID.
    #[serde(rename = "jobID")]
    pub job_id: String,
    /// Service chain.
    #[serde(rename = "serviceName")]
    pub service_name: String,
    /// Job status.
    pub status: JobStatus,
    /// Job progress.
    pub progress: u8,
    /// Job message.
    pub message: String,
    /// Owner.
    pub username: String,
    /// Number of input granules.
    #[serde(rename = "numInputGranules")]
    pub num_input_granules: u64,
    /// Original request URL.
    pub request: String,
    /// Workflow steps in order.
    pub steps: Vec<Step>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_wire_spelling() {
        for status in JobStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(status.as_str().parse::<JobStatus>().unwrap(), status);
        }
        assert!("done".parse::<JobStatus>().is_err());
    }

    #[test]
    fn only_the_four_end_states_are_final() {
        let finals: Vec<_> = JobStatus::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [JobStatus::Successful, JobStatus::CompleteWithErrors, JobStatus::Failed, JobStatus::Canceled]
        );
    }

    #[test]
    fn a_result_bbox_reads_as_the_nearest_double_and_writes_back_unchanged() {
        // hq serve wrote this bbox; serde_json's default float parser read it one unit in the last place
        // off (-103.81742738589216), so a job written back out was not the job read (fuzz: api_json).
        let json = r#"{"status":"successful","message":"m","progress":100,"createdAt":"c","updatedAt":"u","links":[{"href":"https://h/f.tif","rel":"data","bbox":[-106.05809128630706,39.76740322506828,-103.81742738589215,42.37502123320861]}],"request":"r","numInputGranules":1,"jobID":"j"}"#;
        let job: Job = serde_json::from_str(json).unwrap();
        let bbox = job.data_links().next().unwrap().bbox.unwrap();
        assert_eq!(bbox[2], "-103.81742738589215".parse::<f64>().unwrap());
        let again: Job = serde_json::from_slice(&serde_json::to_vec(&job).unwrap()).unwrap();
        assert_eq!(again, job);
    }

    #[test]
    fn harmony_py_fixture_job_deserializes_and_keeps_field_order() {
        // Shape of harmony-py's `expected_job` test fixture (HPY:tests/test_client.py).
        let json = r#"{"username":"rfeynman","status":"running","message":"The job is being processed","progress":0,"createdAt":"2021-02-19T18:47:31.291Z","updatedAt":"2021-02-19T18:47:31.291Z","dataExpiration":"2021-03-21T18:47:31.291Z","links":[{"href":"https://h/stac/j/","title":"STAC catalog","type":"application/json","rel":"stac-catalog-json"},{"href":"https://h/service-results/b/public/j/1/f.nc4","title":"f.nc4","type":"application/x-netcdf4","rel":"data","bbox":[-107.0,40.0,-105.0,42.0],"temporal":{"start":"2020-01-01T00:00:00.000Z","end":"2020-01-01T23:59:59.000Z"}}],"request":"https://h/C1/ogc-api-coverages/1.0.0/collections/all/coverage/rangeset","numInputGranules":32,"jobID":"1234"}"#;
        let job: Job = serde_json::from_str(json).unwrap();
        assert_eq!(job.status, JobStatus::Running);
        assert_eq!(job.data_links().count(), 1);
        assert_eq!(job.link("stac-catalog-json").unwrap().title.as_deref(), Some("STAC catalog"));
        assert_eq!(serde_json::to_string(&job).unwrap(), json);
    }

    #[test]
    fn bulk_status_uses_harmony_field_names() {
        let body = BulkStatus {
            job_statuses: vec![JobStatusBrief { job_id: "a".into(), status: JobStatus::Paused, progress: 3 }],
            not_found_job_ids: vec!["b".into()],
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"jobStatuses":[{"jobID":"a","status":"paused","progress":3}],"notFoundJobIDs":["b"]}"#
        );
        let ids: JobIds = serde_json::from_str(r#"{"jobIDs":["x"]}"#).unwrap();
        assert_eq!(ids.job_ids, ["x"]);
    }
}
