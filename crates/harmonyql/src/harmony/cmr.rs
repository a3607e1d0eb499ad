//! The CMR search client: one page at a time with `CMR-Search-After` (never `page_num`), bounded by the
//! number of results asked for, and the typed results `collections` and `granules` report.
//!
//! Requests go through [`Client::get`], so the per-hop credential rule holds: NASA's CMR is another
//! origin than Harmony, so no Earthdata Login credential is sent to it (CMR search needs none).

use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::api::cmr::{
    CollectionEntry, Concept, ErrorBody, Feed, Format, GranuleEntry, HITS_HEADER, MAX_PAGE_SIZE, SEARCH_AFTER_HEADER,
    Search,
};
use crate::harmony::client::Client;
use crate::harmony::error::{Error, redact};

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum CmrError {
    /// CMR answered with its error body.
    #[error("CMR answered {status} for {url}: {}", errors.join("; "))]
    Cmr {
        /// HTTP status.
        status: u16,
        /// Redacted URL.
        url: String,
        /// CMR's messages.
        errors: Vec<String>,
    },
    /// The answer was not CMR's.
    #[error("unexpected answer from CMR at {url}: {message}")]
    BadResponse {
        /// Redacted URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Sending failed, or the server answered without CMR's error body.
    #[error(transparent)]
    Request(#[from] Error),
    /// Stopped between pages.
    #[error("stopped: the search was interrupted after {pages} page(s)")]
    Cancelled {
        /// Pages read.
        pages: usize,
    },
}

/// One page of answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// `CMR-Hits`: matches in all.
    pub hits: u64,
    /// The entries on this page.
    pub entries: Vec<T>,
    /// `CMR-Search-After`, to ask for the next page.
    pub search_after: Option<String>,
}

/// Gets one page of `search` from the CMR at `root`.
pub async fn page<T: DeserializeOwned>(
    client: &Client,
    root: &str,
    search: &Search,
    concept: Concept,
    search_after: Option<&str>,
) -> Result<Page<T>, CmrError> {
    let url = search
        .to_request(root, concept, Format::Json)
        .to_url()
        .map_err(|error| CmrError::BadResponse { url: redact(root), message: error.to_string() })?;
    let mut headers = HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(token) = search_after {
        let value = HeaderValue::from_str(token)
            .map_err(|_| CmrError::BadResponse { url: redact(&url), message: format!("bad {SEARCH_AFTER_HEADER}") })?;
        headers.insert(SEARCH_AFTER_HEADER, value);
    }
    let response = client.get(&url, headers).await?;
    let status = response.status();
    let hits = response
        .headers()
        .get(HITS_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    let next = response.headers().get(SEARCH_AFTER_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    if !status.is_success() {
        let final_url = redact(response.url().as_str());
        let bytes = response.bytes().await.map_err(|source| Error::Connection { url: final_url.clone(), source })?;
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(&bytes) {
            return Err(CmrError::Cmr { status: status.as_u16(), url: final_url, errors: body.errors });
        }
        let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        return Err(Error::Http { status: status.as_u16(), url: final_url, text: text.trim().to_owned() }.into());
    }
    let final_url = redact(response.url().as_str());
    let bytes = response.bytes().await.map_err(|source| Error::Connection { url: final_url.clone(), source })?;
    let feed: Feed<T> = serde_json::from_slice(&bytes).map_err(|error| CmrError::BadResponse {
        url: final_url.clone(),
        message: format!("not a CMR feed: {error}"),
    })?;
    let hits =
        hits.ok_or_else(|| CmrError::BadResponse { url: final_url, message: format!("no {HITS_HEADER} header") })?;
    Ok(Page { hits, entries: feed.feed.entry, search_after: next })
}

/// The first `limit` results of `search` and the number of matches, reading pages of at most 2000 with
/// `CMR-Search-After` until `limit` are read, a page comes back short, or CMR sends no token.
pub async fn search_all<T: DeserializeOwned>(
    client: &Client,
    root: &str,
    search: &Search,
    concept: Concept,
    limit: u64,
    cancel: &CancellationToken,
) -> Result<(u64, Vec<T>), CmrError> {
    let mut search = search.clone();
    let page_size = limit.clamp(1, MAX_PAGE_SIZE);
    search.page_size = Some(page_size);
    // The bound: enough pages for `limit`, whatever the server says.
    let max_pages = limit.div_ceil(page_size) as usize;
    let mut entries: Vec<T> = Vec::new();
    let mut hits = 0;
    let mut token: Option<String> = None;
    for pages in 0..max_pages {
        if cancel.is_cancelled() {
            return Err(CmrError::Cancelled { pages });
        }
        let page: Page<T> = tokio::select! {
            page = self::page(client, root, &search, concept, token.as_deref()) => page?,
            () = cancel.cancelled() => return Err(CmrError::Cancelled { pages }),
        };
        hits = page.hits;
        let short = (page.entries.len() as u64) < page_size;
        entries.extend(page.entries);
        let repeated = page.search_after.is_some() && page.search_after == token;
        token = page.search_after;
        if short || token.is_none() || repeated || entries.len() as u64 >= limit {
            break;
        }
    }
    entries.truncate(limit as usize);
    Ok((hits, entries))
}

/// What `collections` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CollectionResults {
    /// The URL of the first page, as `url collections …` shows it.
    pub url: String,
    /// Matches in all (`CMR-Hits`).
    pub hits: u64,
    /// The first of them.
    pub collections: Vec<CollectionEntry>,
}

/// What `granules` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GranuleResults {
    /// The URL of the first page.
    pub url: String,
    /// The collection searched, as typed.
    pub collection: String,
    /// Matches in all (`CMR-Hits`).
    pub hits: u64,
    /// The first of them.
    pub granules: Vec<GranuleEntry>,
    /// The searched area as closed `[lon, lat]` rings (a bounding box or polygons), for maps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub areas: Vec<Vec<[f64; 2]>>,
}

impl GranuleResults {
    /// The total size of the listed granules that have one, and how many have one.
    pub fn listed_size(&self) -> (u64, usize) {
        let sizes: Vec<u64> = self.granules.iter().filter_map(GranuleEntry::size_bytes).collect();
        (sizes.iter().sum(), sizes.len())
    }

    /// The size of all matches: exact when every match is listed with a size, otherwise the listed
    /// granules' mean size times the number of matches (`None` when no listed granule has a size).
    pub fn total_size(&self) -> Option<(u64, bool)> {
        let (sum, known) = self.listed_size();
        if known == 0 {
            return None;
        }
        let exact = known as u64 == self.hits;
        let total = if exact { sum } else { (sum as f64 / known as f64 * self.hits as f64).round() as u64 };
        Some((total, exact))
    }
}
