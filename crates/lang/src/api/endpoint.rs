//! Harmony's endpoints as request builders, shared by the language compiler and the client.
//!
//! Each builder gives the request harmony-py 1.8 sends for the same operation (same path, same
//! parameters in the same order), so parity holds wherever a request is made.

use crate::api::request::{Body, Method, Request};

/// Harmony's page-size limit for job links and the bulk status chunk size harmony-py uses.
pub const MAX_PAGE_SIZE: u64 = 2000;

/// `GET /capabilities?collectionid=…|shortname=…[&version=…]`.
pub fn capabilities(root: &str, collection: &str, is_concept_id: bool, version: Option<&str>) -> Request {
    let key = if is_concept_id { "collectionid" } else { "shortname" };
    let request = Request::new(Method::Get, root, "/capabilities", Body::Query).text(key, collection);
    match version {
        Some(version) => request.text("version", version),
        None => request,
    }
}

/// `GET /jobs[?page&limit&label…]`. With no parameters this is also harmony-py's credential check.
pub fn jobs(root: &str, page: Option<u64>, limit: Option<u64>, labels: &[String]) -> Request {
    let mut request = Request::new(Method::Get, root, "/jobs", Body::Query);
    if let Some(page) = page {
        request = request.integer("page", page as i64);
    }
    if let Some(limit) = limit {
        request = request.integer("limit", limit as i64);
    }
    if !labels.is_empty() {
        request = request.list("label", labels.to_vec());
    }
    request
}

/// `PUT /labels` (add) or `DELETE /labels` (remove), labels and job IDs in the query string.
pub fn labels(root: &str, add: bool, labels: &[String], job_ids: &[String]) -> Request {
    let method = if add { Method::Put } else { Method::Delete };
    Request::new(method, root, "/labels", Body::Query).list("label", labels.to_vec()).list("jobID", job_ids.to_vec())
}

/// `GET /jobs/{id}?linktype=…[&page=…][&limit=…]`; a limit without a page asks for page 1, as harmony-py does.
pub fn job_status(root: &str, job_id: &str, link_type: &str, page: Option<u64>, limit: Option<u64>) -> Request {
    let mut request =
        Request::new(Method::Get, root, format!("/jobs/{job_id}"), Body::Query).text("linktype", link_type);
    let page = page.or(limit.map(|_| 1));
    if let Some(page) = page {
        request = request.integer("page", page as i64);
    }
    if let Some(limit) = limit {
        request = request.integer("limit", limit as i64);
    }
    request
}

/// A change of a job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// `/pause?linktype=https`
    Pause,
    /// `/resume?linktype=https`
    Resume,
    /// `/cancel`
    Cancel,
    /// `/skip-preview`
    SkipPreview,
}

/// `GET /jobs/{id}/pause|resume|cancel|skip-preview`, exactly as harmony-py sends pause, resume and cancel.
pub fn job_state_change(root: &str, job_id: &str, change: StateChange) -> Request {
    let (action, link_type) = match change {
        StateChange::Pause => ("pause", true),
        StateChange::Resume => ("resume", true),
        StateChange::Cancel => ("cancel", false),
        StateChange::SkipPreview => ("skip-preview", false),
    };
    let request = Request::new(Method::Get, root, format!("/jobs/{job_id}/{action}"), Body::Query);
    if link_type { request.text("linktype", "https") } else { request }
}

/// `POST /jobs/status` with `{"jobIDs": […]}`, in chunks of at most 2000 IDs.
pub fn bulk_status(root: &str, job_ids: &[String]) -> Vec<Request> {
    job_ids
        .chunks(MAX_PAGE_SIZE as usize)
        .map(|chunk| Request::new(Method::Post, root, "/jobs/status", Body::Json).list("jobIDs", chunk.to_vec()))
        .collect()
}

/// The filters of a steps request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepsFilter {
    /// Only this step.
    pub step: Option<u64>,
    /// Only work items in these states.
    pub status: Vec<String>,
    /// Only these work items.
    pub work_items: Vec<u64>,
    /// Steps per page.
    pub limit: Option<u64>,
    /// List work items' files.
    pub resolve_files: Option<bool>,
    /// Work items per step.
    pub wi_limit: Option<u64>,
    /// `(step, page)` pairs.
    pub step_pages: Vec<(u64, u64)>,
    /// `(work item, page)` pairs for input files.
    pub input_pages: Vec<(u64, u64)>,
    /// `(work item, page)` pairs for output files.
    pub output_pages: Vec<(u64, u64)>,
}

/// `GET /jobs/{id}/steps?…` with harmony-py's parameter order and encodings (`workItem` comma-joined).
pub fn steps(root: &str, job_id: &str, filter: &StepsFilter) -> Request {
    let mut request = Request::new(Method::Get, root, format!("/jobs/{job_id}/steps"), Body::Query);
    if let Some(step) = filter.step {
        request = request.integer("step", step as i64);
    }
    if !filter.status.is_empty() {
        request = request.list("status", filter.status.clone());
    }
    if !filter.work_items.is_empty() {
        let joined: Vec<String> = filter.work_items.iter().map(u64::to_string).collect();
        request = request.text("workItem", joined.join(","));
    }
    if let Some(limit) = filter.limit {
        request = request.integer("limit", limit as i64);
    }
    if let Some(resolve) = filter.resolve_files {
        request = request.text("resolveFiles", if resolve { "true" } else { "false" });
    }
    if let Some(wi_limit) = filter.wi_limit {
        request = request.integer("wiLimit", wi_limit as i64);
    }
    for (step, page) in &filter.step_pages {
        request = request.integer(&format!("step{step}page"), *page as i64);
    }
    for (work_item, page) in &filter.input_pages {
        request = request.integer(&format!("workItem{work_item}inputPage"), *page as i64);
    }
    for (work_item, page) in &filter.output_pages {
        request = request.integer(&format!("workItem{work_item}outputPage"), *page as i64);
    }
    request
}

/// `GET /stac/{id}/?linktype=…`: the catalog link harmony-py's `stac_catalog_url` returns.
pub fn stac_catalog(root: &str, job_id: &str, link_type: &str) -> Request {
    Request::new(Method::Get, root, format!("/stac/{job_id}/"), Body::Query).text("linktype", link_type)
}

/// `GET /cloud-access`: temporary S3 credentials for us-west-2.
pub fn cloud_access(root: &str) -> Request {
    Request::new(Method::Get, root, "/cloud-access", Body::Query)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "https://harmony.earthdata.nasa.gov";
    const JOB: &str = "21469294-d6f7-42cc-89f2-c81990a5d7f4";

    fn url(request: Request) -> String {
        request.to_url().unwrap()
    }

    #[test]
    fn a8_capabilities() {
        assert_eq!(
            url(capabilities(ROOT, "C1940468263-POCLOUD", true, None)),
            format!("{ROOT}/capabilities?collectionid=C1940468263-POCLOUD")
        );
        assert_eq!(
            url(capabilities(ROOT, "C1940468263-POCLOUD", true, Some("2"))),
            format!("{ROOT}/capabilities?collectionid=C1940468263-POCLOUD&version=2")
        );
        assert_eq!(
            url(capabilities(ROOT, "SMAP_RSS_L3_SSS_SMI_8DAY-RUNNINGMEAN_V4", false, None)),
            format!("{ROOT}/capabilities?shortname=SMAP_RSS_L3_SSS_SMI_8DAY-RUNNINGMEAN_V4")
        );
    }

    #[test]
    fn a9_labels_put_and_delete() {
        let add = labels(ROOT, true, &["foo".into(), "bar".into()], &["job_1".into(), "job_2".into()]);
        assert_eq!(add.method, Method::Put);
        assert_eq!(add.sent_url(), format!("{ROOT}/labels?label=foo&label=bar&jobID=job_1&jobID=job_2"));
        let remove = labels(ROOT, false, &["foo".into(), "bar".into()], &["job_1".into(), "job_2".into()]);
        assert_eq!(remove.method, Method::Delete);
        assert_eq!(remove.sent_url(), add.sent_url());
    }

    #[test]
    fn a10_a16_b8_jobs_listing_and_credential_check() {
        assert_eq!(url(jobs(ROOT, None, None, &[])), format!("{ROOT}/jobs"));
        assert_eq!(
            url(jobs(ROOT, Some(2), Some(10), &["foo".into(), "bar".into()])),
            format!("{ROOT}/jobs?page=2&limit=10&label=foo&label=bar")
        );
    }

    #[test]
    fn a11_a12_steps() {
        let filter = StepsFilter {
            step: Some(2),
            status: vec!["successful".into(), "running".into()],
            work_items: vec![1, 2],
            limit: Some(5),
            resolve_files: Some(true),
            wi_limit: Some(10),
            ..StepsFilter::default()
        };
        assert_eq!(
            url(steps(ROOT, "jobs-uuid", &filter)),
            format!(
                "{ROOT}/jobs/jobs-uuid/steps?step=2&status=successful&status=running&workItem=1%2C2&limit=5&resolveFiles=true&wiLimit=10"
            )
        );
        let pages = StepsFilter {
            step_pages: vec![(2, 3)],
            input_pages: vec![(985, 2)],
            output_pages: vec![(985, 4)],
            ..StepsFilter::default()
        };
        assert_eq!(
            url(steps(ROOT, "jobs-uuid", &pages)),
            format!("{ROOT}/jobs/jobs-uuid/steps?step2page=3&workItem985inputPage=2&workItem985outputPage=4")
        );
    }

    #[test]
    fn a13_status_pause_resume_cancel() {
        assert_eq!(url(job_status(ROOT, JOB, "https", None, None)), format!("{ROOT}/jobs/{JOB}?linktype=https"));
        assert_eq!(
            url(job_state_change(ROOT, JOB, StateChange::Pause)),
            format!("{ROOT}/jobs/{JOB}/pause?linktype=https")
        );
        assert_eq!(
            url(job_state_change(ROOT, JOB, StateChange::Resume)),
            format!("{ROOT}/jobs/{JOB}/resume?linktype=https")
        );
        assert_eq!(url(job_state_change(ROOT, JOB, StateChange::Cancel)), format!("{ROOT}/jobs/{JOB}/cancel"));
    }

    #[test]
    fn a14_result_paging() {
        for link_type in ["https", "http", "s3"] {
            assert_eq!(
                url(job_status(ROOT, "1234", link_type, None, None)),
                format!("{ROOT}/jobs/1234?linktype={link_type}")
            );
        }
        assert_eq!(
            url(job_status(ROOT, "1234", "https", Some(2), None)),
            format!("{ROOT}/jobs/1234?linktype=https&page=2")
        );
        assert_eq!(
            url(job_status(ROOT, "1234", "https", None, Some(5))),
            format!("{ROOT}/jobs/1234?linktype=https&page=1&limit=5")
        );
        assert_eq!(
            url(job_status(ROOT, "1234", "https", Some(2), Some(5))),
            format!("{ROOT}/jobs/1234?linktype=https&page=2&limit=5")
        );
    }

    #[test]
    fn a15_bulk_status_chunks_at_2000() {
        let two = bulk_status(ROOT, &["job-1".into(), "job-2".into()]);
        assert_eq!(two.len(), 1);
        assert_eq!(two[0].method, Method::Post);
        assert_eq!(two[0].sent_url(), format!("{ROOT}/jobs/status"));
        assert_eq!(two[0].json_body().to_string(), r#"{"jobIDs":["job-1","job-2"]}"#);
        let ids: Vec<String> = (0..4001).map(|i| format!("job-{i}")).collect();
        let sizes: Vec<usize> = bulk_status(ROOT, &ids).iter().map(|r| r.query_pairs().len()).collect();
        assert_eq!(sizes, vec![2000, 2000, 1]);
    }
}
