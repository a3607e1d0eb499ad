//! Renders stored jobs as Harmony's documents: job status with its links and paging, listings, steps, STAC.
//!
//! Pure: takes a [`JobRecord`] and the root URL of the request, returns `api` types. No HTTP, no I/O.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::engine::{ItemStatus, JobRecord, OutputRecord, WorkItem};
use harmonyql_lang::api::job::{Job, JobMessage, JobStatus, Link, Step, StepWorkItem, Steps, Temporal};
use harmonyql_lang::api::stac::{Asset, Catalog, Item, ItemProperties, StacLink, asset_role, bbox_geometry};

/// The staging bucket name; it contains `harmony` so harmony-py names downloads `<workItemId>_<file>`.
pub const BUCKET: &str = "harmony-local-staging";
/// Days until outputs expire (Harmony's `EXPIRATION_DAYS`).
const EXPIRATION_DAYS: i64 = 30;
/// Harmony's `DEFAULT_RESULT_PAGE_SIZE`, also the maximum `limit`.
pub const MAX_PAGE_SIZE: usize = 2000;

/// How data links are written (`linktype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// `http://…/service-results/…`.
    Http,
    /// Same hrefs (the local server has no TLS, so the scheme stays `http`).
    Https,
    /// `s3://harmony-local-staging/public/…`.
    S3,
}

impl LinkType {
    /// Parses Harmony's `linktype` values (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_lowercase().as_str() {
            "http" => Some(LinkType::Http),
            "https" => Some(LinkType::Https),
            "s3" => Some(LinkType::S3),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            LinkType::Http => "http",
            LinkType::Https => "https",
            LinkType::S3 => "s3",
        }
    }
}

/// ISO-8601 UTC with milliseconds, as Harmony writes times.
pub fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Where a work item's output is staged, relative to the bucket.
pub fn staged_key(job_id: &str, item_id: u64, file: &str) -> String {
    format!("public/{job_id}/{item_id}/{file}")
}

fn data_href(root: &str, link_type: LinkType, job_id: &str, item_id: u64, file: &str) -> String {
    let key = staged_key(job_id, item_id, file);
    match link_type {
        LinkType::S3 => format!("s3://{BUCKET}/{key}"),
        LinkType::Http | LinkType::Https => format!("{root}/service-results/{BUCKET}/{key}"),
    }
}

/// Every (work item, output) of a job in order: the job's data links.
pub fn outputs(job: &JobRecord) -> Vec<(&WorkItem, &OutputRecord)> {
    job.work_items.iter().flat_map(|item| item.outputs.iter().map(move |output| (item, output))).collect()
}

fn data_link(root: &str, link_type: LinkType, job: &JobRecord, item: &WorkItem, output: &OutputRecord) -> Link {
    Link {
        href: data_href(root, link_type, &job.job_id, item.id, &output.file),
        title: Some(output.file.clone()),
        mime: Some(output.mime.clone()),
        rel: Some("data".to_string()),
        bbox: Some(output.bbox),
        temporal: Some(Temporal { start: iso(output.start), end: iso(output.end) }),
    }
}

/// The state-change links valid now, in Harmony's order.
pub fn state_links(root: &str, job: &JobRecord) -> Vec<Link> {
    let id = &job.job_id;
    let link = |title: &str, action: &str, rel: &str| {
        Link::new(title, format!("{root}/jobs/{id}/{action}"), rel, "application/json")
    };
    let canceler = || link("Cancels the job.", "cancel", "canceler");
    let pauser = || link("Pauses the job.", "pause", "pauser");
    let resumer = || link("Resumes the job.", "resume", "resumer");
    let skipper = || link("Skips preview and runs the job.", "skip-preview", "preview-skipper");
    match job.status {
        JobStatus::Accepted => vec![canceler()],
        JobStatus::Running | JobStatus::RunningWithErrors => vec![canceler(), pauser()],
        JobStatus::Previewing => vec![canceler(), pauser(), skipper()],
        JobStatus::Paused => vec![canceler(), resumer()],
        _ => Vec::new(),
    }
}

/// One page of a paged listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub page: usize,
    /// Page size.
    pub limit: usize,
}

impl Page {
    fn range(self, total: usize) -> std::ops::Range<usize> {
        let start = (self.page - 1).saturating_mul(self.limit).min(total);
        start..start.saturating_add(self.limit).min(total)
    }
}

/// Harmony's paging links (`first, prev, self, next, last`) for `base` (a URL whose query ends with `?` or `&`).
pub fn paging_links(base: &str, page: Page, total: usize) -> Vec<Link> {
    let last = if page.limit == 0 { 1 } else { total.div_ceil(page.limit).max(1) };
    let href = |p: usize| format!("{base}page={p}&limit={}", page.limit);
    let link = |title: String, p: usize, rel: &str| Link::new(&title, href(p), rel, "application/json");
    let mut links = Vec::new();
    if page.page > last {
        links.push(link(format!("The first page (1 of {last})"), 1, "first"));
        links.push(link("The current page".into(), page.page, "self"));
        links.push(link(format!("The last page ({last} of {last})"), last, "last"));
        return links;
    }
    if page.page > 1 {
        if page.page - 1 != 1 {
            links.push(link(format!("The first page (1 of {last})"), 1, "first"));
        }
        links.push(link(format!("The previous page ({} of {last})", page.page - 1), page.page - 1, "prev"));
    }
    links.push(link("The current page".into(), page.page, "self"));
    if page.page < last {
        links.push(link(format!("The next page ({} of {last})", page.page + 1), page.page + 1, "next"));
        if page.page + 1 != last {
            links.push(link(format!("The last page ({last} of {last})"), last, "last"));
        }
    }
    links
}

fn messages(job: &JobRecord) -> Option<Vec<JobMessage>> {
    let errors: Vec<JobMessage> = job
        .work_items
        .iter()
        .filter(|item| item.status == ItemStatus::Failed)
        .map(|item| JobMessage {
            url: item.granule.name.clone(),
            message: item.message.clone().unwrap_or_else(|| "failed".to_string()),
        })
        .collect();
    (!errors.is_empty()).then_some(errors)
}

fn base_job(root: &str, job: &JobRecord) -> Job {
    Job {
        username: Some(job.username.clone()),
        status: job.status,
        message: job.message(),
        progress: job.progress,
        created_at: iso(job.created_at),
        updated_at: iso(job.updated_at),
        data_expiration: Some(iso(job.created_at + Duration::days(EXPIRATION_DAYS))),
        links: Vec::new(),
        labels: job.labels.clone(),
        steps: Some(format!("{root}/jobs/{}/steps", job.job_id)),
        service_name: Some(job.service_name.clone()),
        request: format!("{root}{}", job.request_path),
        num_input_granules: job.work_items.len() as u64,
        job_id: job.job_id.clone(),
        original_data_size: None,
        output_data_size: None,
        data_size_percent_change: None,
        errors: messages(job),
        warnings: None,
    }
}

/// `GET /jobs/{id}`: the status document with state, STAC, data and paging links.
pub fn job_status(root: &str, job: &JobRecord, link_type: Option<LinkType>, page: Page) -> Job {
    let mut doc = base_job(root, job);
    let all = outputs(job);
    let mut links = state_links(root, job);
    if matches!(job.status, JobStatus::Successful | JobStatus::CompleteWithErrors) && !all.is_empty() {
        links.push(Link::new(
            "STAC catalog",
            format!("{root}/stac/{}/", job.job_id),
            "stac-catalog-json",
            "application/json",
        ));
    }
    if link_type == Some(LinkType::S3) && !all.is_empty() {
        links.push(Link::new(
            "Access keys for s3:// URLs, usable from AWS us-west-2 (data expires 30 days after the job)",
            format!("{root}/cloud-access.sh"),
            "cloud-access-sh",
            "application/x-sh",
        ));
        links.push(Link::new(
            "Access keys for s3:// URLs, usable from AWS us-west-2 (data expires 30 days after the job)",
            format!("{root}/cloud-access"),
            "cloud-access-json",
            "application/json",
        ));
    }
    let link_type_value = link_type.unwrap_or(LinkType::Https);
    for (item, output) in &all[page.range(all.len())] {
        links.push(data_link(root, link_type_value, job, item, output));
    }
    let base = match link_type {
        Some(lt) => format!("{root}/jobs/{}?linktype={}&", job.job_id, lt.as_str()),
        None => format!("{root}/jobs/{}?", job.job_id),
    };
    links.extend(paging_links(&base, page, all.len()));
    doc.links = links;
    doc
}

/// A job as listed by `GET /jobs`: state links plus an `item` link, no data links.
pub fn job_summary(root: &str, job: &JobRecord) -> Job {
    let mut doc = base_job(root, job);
    let mut links = state_links(root, job);
    links.push(Link::new("Job Status", format!("{root}/jobs/{}", job.job_id), "item", "application/json"));
    doc.links = links;
    doc
}

/// Which work items a steps request wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepsFilter {
    /// Only this step (1-based).
    pub step: Option<u32>,
    /// Only items with these statuses.
    pub statuses: Vec<String>,
    /// Only these work item IDs.
    pub work_items: Vec<u64>,
    /// At most this many items per step.
    pub limit: usize,
    /// Give input and output URLs.
    pub resolve_files: bool,
}

/// `GET /jobs/{id}/steps`: query-cmr, then the service with one work item per granule.
pub fn steps(root: &str, job: &JobRecord, filter: &StepsFilter) -> Steps {
    let n_items = job.work_items.len() as u64;
    let cmr_item = StepWorkItem {
        id: 0,
        status: "successful".to_string(),
        retry_count: 0,
        input_files: filter.resolve_files.then(Vec::new),
        output_files: filter.resolve_files.then(|| job.work_items.iter().map(|i| i.granule.name.clone()).collect()),
        message: None,
    };
    let mut cmr_statuses = serde_json::Map::new();
    cmr_statuses.insert("successful".into(), 1.into());
    let mut statuses = serde_json::Map::new();
    for item in &job.work_items {
        let count = statuses.get(item.status.as_str()).and_then(|v| v.as_u64()).unwrap_or(0);
        statuses.insert(item.status.as_str().to_string(), (count + 1).into());
    }
    let items: Vec<StepWorkItem> = job
        .work_items
        .iter()
        .filter(|i| filter.statuses.is_empty() || filter.statuses.iter().any(|s| s == i.status.as_str()))
        .filter(|i| filter.work_items.is_empty() || filter.work_items.contains(&i.id))
        .take(filter.limit)
        .map(|item| StepWorkItem {
            id: item.id,
            status: item.status.as_str().to_string(),
            retry_count: 0,
            input_files: filter.resolve_files.then(|| vec!["<private file location>".to_string()]),
            output_files: filter.resolve_files.then(|| {
                item.outputs.iter().map(|o| data_href(root, LinkType::Https, &job.job_id, item.id, &o.file)).collect()
            }),
            message: item.message.clone(),
        })
        .collect();
    let all_steps = vec![
        Step {
            service_id: "harmonyservices/query-cmr:stable".into(),
            step_index: 1,
            work_item_count: 1,
            statuses: cmr_statuses,
            work_items: if filter.statuses.is_empty() && filter.work_items.is_empty() {
                vec![cmr_item]
            } else {
                Vec::new()
            },
        },
        Step {
            service_id: job.service_name.clone(),
            step_index: 2,
            work_item_count: n_items,
            statuses,
            work_items: items,
        },
    ];
    Steps {
        job_id: job.job_id.clone(),
        service_name: job.service_name.clone(),
        status: job.status,
        progress: job.progress,
        message: job.message(),
        username: job.username.clone(),
        num_input_granules: n_items,
        request: format!("{root}{}", job.request_path),
        steps: all_steps.into_iter().filter(|s| filter.step.is_none_or(|n| n == s.step_index)).collect(),
    }
}

fn link_suffix(link_type: Option<LinkType>) -> String {
    link_type.map(|lt| format!("?linkType={}", lt.as_str())).unwrap_or_default()
}

/// `GET /stac/{id}`: the catalog, one item per output.
pub fn stac_catalog(root: &str, job: &JobRecord, link_type: Option<LinkType>, page: Page) -> Catalog {
    let all = outputs(job);
    let suffix = link_suffix(link_type);
    let mut links = vec![StacLink { href: ".".into(), rel: "root".into(), title: Some("root".into()), mime: None }];
    let range = page.range(all.len());
    for index in range.clone() {
        let (_, output) = all[index];
        links.push(StacLink {
            href: format!("./{index}{suffix}"),
            rel: "item".into(),
            title: Some(output.file.clone()),
            mime: None,
        });
    }
    let base = format!("{root}/stac/{}/?", job.job_id);
    if all.len() > page.limit.max(1) {
        for link in paging_links(&base, page, all.len()) {
            links.push(StacLink {
                href: link.href,
                rel: link.rel.unwrap_or_default(),
                title: link.title,
                mime: link.mime,
            });
        }
    }
    Catalog {
        id: job.job_id.clone(),
        stac_version: "1.0.0".into(),
        title: format!("Harmony output for {}", job.job_id),
        kind: "Catalog".into(),
        description: format!("Harmony output for {root}{}", job.request_path),
        links,
    }
}

/// `GET /stac/{id}/{index}`: one output as a STAC Feature; `None` when out of range.
pub fn stac_item(root: &str, job: &JobRecord, index: usize, link_type: Option<LinkType>) -> Option<Item> {
    let all = outputs(job);
    let (item, output) = *all.get(index)?;
    // Harmony's item assets default to s3 links unless a linktype is given.
    let href = data_href(root, link_type.unwrap_or(LinkType::S3), &job.job_id, item.id, &output.file);
    let mut assets = std::collections::BTreeMap::new();
    assets.insert(
        href.clone(),
        Asset {
            href,
            title: output.file.clone(),
            mime: output.mime.clone(),
            roles: vec![asset_role(&output.mime).to_string()],
        },
    );
    Some(Item {
        id: format!("{}_{index}", job.job_id),
        stac_version: "1.0.0".into(),
        title: format!("Harmony output #{index} in job {}", job.job_id),
        description: format!("Harmony out for {root}{}", job.request_path),
        kind: "Feature".into(),
        stac_extensions: vec!["https://stac-extensions.github.io/timestamps/v1.0.0/schema.json".into()],
        bbox: output.bbox,
        geometry: bbox_geometry(output.bbox),
        properties: ItemProperties {
            created: iso(job.updated_at),
            license: "various".into(),
            start_datetime: iso(output.start),
            end_datetime: iso(output.end),
            datetime: iso(output.start),
            expires: Some(iso(job.created_at + Duration::days(EXPIRATION_DAYS))),
        },
        assets,
        links: vec![
            StacLink {
                href: format!(".{}", link_suffix(link_type).replace('?', "/?")),
                rel: "self".into(),
                title: None,
                mime: None,
            },
            StacLink { href: "../".into(), rel: "root".into(), title: Some("parent".into()), mime: None },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(links: &[Link]) -> Vec<String> {
        links
            .iter()
            .map(|l| format!("{}:{}", l.rel.as_deref().unwrap_or(""), l.href.rsplit("page=").next().unwrap_or("")))
            .collect()
    }

    #[test]
    fn paging_links_follow_harmony_pagination() {
        let cases: &[(usize, usize, usize, &[&str])] = &[
            (1, 2000, 5, &["self:1&limit=2000"]),
            (1, 2, 5, &["self:1&limit=2", "next:2&limit=2", "last:3&limit=2"]),
            (2, 2, 5, &["prev:1&limit=2", "self:2&limit=2", "next:3&limit=2"]),
            (3, 2, 5, &["first:1&limit=2", "prev:2&limit=2", "self:3&limit=2"]),
            (9, 2, 5, &["first:1&limit=2", "self:9&limit=2", "last:3&limit=2"]),
            (1, 2, 0, &["self:1&limit=2"]),
            (1, 0, 5, &["self:1&limit=0"]),
        ];
        for (page, limit, total, expected) in cases {
            let links = paging_links("http://h/jobs/x?", Page { page: *page, limit: *limit }, *total);
            assert_eq!(rels(&links), *expected, "page {page} limit {limit} total {total}");
        }
        let titles: Vec<_> =
            paging_links("b?", Page { page: 2, limit: 1 }, 3).into_iter().filter_map(|l| l.title).collect();
        assert_eq!(titles, ["The previous page (1 of 3)", "The current page", "The next page (3 of 3)"]);
    }

    #[test]
    fn page_ranges_never_overflow() {
        let cases = [
            (Page { page: 1, limit: 2 }, 5, 0..2),
            (Page { page: 3, limit: 2 }, 5, 4..5),
            (Page { page: 9, limit: 2 }, 5, 5..5),
            (Page { page: usize::MAX, limit: usize::MAX }, 5, 5..5),
        ];
        for (page, total, range) in cases {
            assert_eq!(page.range(total), range, "{page:?}");
        }
    }

    #[test]
    fn link_types_parse_case_insensitively() {
        let cases = [
            ("https", Some(LinkType::Https)),
            ("HTTP", Some(LinkType::Http)),
            ("s3", Some(LinkType::S3)),
            ("ftp", None),
        ];
        for (text, expected) in cases {
            assert_eq!(LinkType::parse(text), expected);
        }
    }
}
