//! What the current environment offers to completion and inspection: collection names and each
//! collection's variables, fetched with a short time bound and cached per environment.
//!
//! Completion must never block a notebook: every fetch is bounded by [`FETCH_BOUND`], a failure falls
//! back silently (to [`WELL_KNOWN_COLLECTIONS`] and the names the session has seen) and is remembered
//! for [`RETRY_AFTER`] so repeated Tab presses do not wait again. Must not print or know about Jupyter.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::api::endpoint;
use crate::api::environment::Environment;
use crate::harmony::client::Client;
use crate::lang::assist::WELL_KNOWN_COLLECTIONS;

/// The longest a completion or inspection waits for the environment.
pub const FETCH_BOUND: Duration = Duration::from_millis(900);
/// How long a failed fetch is remembered before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// A fetched answer, or when the fetch failed.
#[derive(Debug, Clone)]
enum Cached<T> {
    Found(T),
    Failed(Instant),
}

impl<T> Cached<T> {
    /// Whether a fetch is worth trying: never fetched, or failed long enough ago.
    fn needs_fetch(entry: Option<&Self>) -> bool {
        match entry {
            None => true,
            Some(Cached::Found(_)) => false,
            Some(Cached::Failed(at)) => at.elapsed() >= RETRY_AFTER,
        }
    }

    fn found(&self) -> Option<&T> {
        match self {
            Cached::Found(value) => Some(value),
            Cached::Failed(_) => None,
        }
    }
}

/// Collection names and capabilities known for each environment (by root URL).
#[derive(Debug, Clone, Default)]
pub struct CatalogCache {
    listings: HashMap<String, Cached<Vec<String>>>,
    capabilities: HashMap<(String, String), Cached<Json>>,
    seen: Vec<String>,
}

impl CatalogCache {
    /// Remembers a collection the user named in a statement that ran, so completion offers it again.
    pub fn saw(&mut self, collection: &str) {
        if !self.seen.iter().any(|name| name.eq_ignore_ascii_case(collection)) {
            self.seen.push(collection.to_owned());
        }
    }

    /// Keeps a capabilities document the session fetched anyway (a `capabilities` statement).
    pub fn keep_capabilities(&mut self, env: &Environment, collection: &str, document: Json) {
        self.capabilities.insert(key(env, collection), Cached::Found(document));
    }

    /// Names completion offers after `subset` and `capabilities`: the local server's listing (short
    /// names and concept IDs) when it has one, else well-known short names; plus the names already used.
    pub fn collections(&self, env: &Environment) -> Vec<String> {
        let listed = self.listings.get(&env.root_url()).and_then(Cached::found);
        let mut names: Vec<String> = match listed {
            Some(names) => names.clone(),
            None => WELL_KNOWN_COLLECTIONS.iter().map(|name| (*name).to_owned()).collect(),
        };
        for name in &self.seen {
            if !names.iter().any(|known| known.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The variables of `collection` in `env`, if its capabilities are cached.
    pub fn variables(&self, env: &Environment, collection: &str) -> Option<Vec<String>> {
        let document = self.capabilities.get(&key(env, collection))?.found()?;
        Some(variable_names(document))
    }

    /// The variables of every collection whose capabilities are cached for `env`, by collection name.
    pub fn all_variables(&self, env: &Environment) -> Vec<(String, Vec<String>)> {
        let root = env.root_url();
        self.capabilities
            .iter()
            .filter(|((cached_root, _), _)| *cached_root == root)
            .filter_map(|((_, collection), entry)| Some((collection.clone(), variable_names(entry.found()?))))
            .collect()
    }

    /// The cached capabilities of `collection` in `env`.
    pub fn capabilities(&self, env: &Environment, collection: &str) -> Option<&Json> {
        self.capabilities.get(&key(env, collection))?.found()
    }

    /// Fetches the collection listing of a local server (`GET /hq/collections`), once, within the bound.
    /// Remote environments have no listing (Harmony has none), so nothing is fetched for them.
    pub async fn fetch_listing(&mut self, client: &Client) {
        let env = client.env();
        if !env.is_local() || !Cached::needs_fetch(self.listings.get(&env.root_url())) {
            return;
        }
        let url = format!("{}/hq/collections", env.root_url());
        let fetched = tokio::time::timeout(FETCH_BOUND, async {
            let response = client.get(&url, Default::default()).await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<Json>().await.ok()
        })
        .await
        .ok()
        .flatten();
        let entry = match fetched {
            Some(listing) => Cached::Found(listing_names(&listing)),
            None => Cached::Failed(Instant::now()),
        };
        self.listings.insert(env.root_url(), entry);
    }

    /// Fetches `collection`'s capabilities once per environment, within the bound.
    pub async fn fetch_capabilities(&mut self, client: &Client, collection: &str) {
        let key = key(client.env(), collection);
        if !Cached::needs_fetch(self.capabilities.get(&key)) {
            return;
        }
        let is_concept_id = crate::lang::query::is_concept_id(collection, 'C');
        let request = endpoint::capabilities(&client.root_url(), collection, is_concept_id, None);
        let fetched = tokio::time::timeout(FETCH_BOUND, client.json::<Json>(&request)).await;
        let entry = match fetched {
            Ok(Ok(document)) => Cached::Found(document),
            _ => Cached::Failed(Instant::now()),
        };
        self.capabilities.insert(key, entry);
    }
}

fn key(env: &Environment, collection: &str) -> (String, String) {
    (env.root_url(), collection.to_ascii_lowercase())
}

/// Short names and concept IDs from a `/hq/collections` answer.
fn listing_names(listing: &Json) -> Vec<String> {
    let mut names = Vec::new();
    for collection in listing["collections"].as_array().into_iter().flatten() {
        let short_name = collection["shortName"].as_str();
        let concept_ids = collection["conceptIds"].as_array().into_iter().flatten().filter_map(Json::as_str);
        for name in short_name.into_iter().chain(concept_ids) {
            if !names.iter().any(|known: &String| known == name) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// Variable names of a capabilities document (version 2: `variables[].name`).
pub fn variable_names(document: &Json) -> Vec<String> {
    document["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|variable| variable["name"].as_str().map(str::to_owned))
        .collect()
}

/// A short Markdown summary of a capabilities document, for inspection.
pub fn summary(document: &Json) -> String {
    let text = |field: &str| document[field].as_str().unwrap_or("").to_owned();
    let yes = |field: &str| document[field].as_bool() == Some(true);
    let mut abilities: Vec<&str> = Vec::new();
    for (field, name) in [
        ("bboxSubset", "bbox"),
        ("shapeSubset", "shape"),
        ("temporalSubset", "time"),
        ("variableSubset", "vars"),
        ("reproject", "crs"),
        ("concatenate", "concatenate"),
    ] {
        if yes(field) {
            abilities.push(name);
        }
    }
    let formats: Vec<&str> =
        document["outputFormats"].as_array().into_iter().flatten().filter_map(Json::as_str).collect();
    let services: Vec<&str> =
        document["services"].as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    let variables = variable_names(document);
    let shown: Vec<&str> = variables.iter().take(8).map(String::as_str).collect();
    let more =
        if variables.len() > shown.len() { format!(", … ({} in all)", variables.len()) } else { String::new() };
    format!(
        "**{}** `{}`\n\nClauses it supports: {}\n\nOutput formats: {}\n\nServices: {}\n\nVariables: {}{more}\n\n\
         Run `capabilities {}` for the whole document.",
        text("shortName"),
        text("conceptId"),
        if abilities.is_empty() { "none".to_owned() } else { abilities.join(", ") },
        if formats.is_empty() { "none listed".to_owned() } else { formats.join(", ") },
        if services.is_empty() { "none listed".to_owned() } else { services.join(", ") },
        if shown.is_empty() { "none listed".to_owned() } else { shown.join(", ") },
        text("shortName"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Json {
        serde_json::json!({
            "conceptId": "C2596864127-NSIDC_CPRD",
            "shortName": "ATL03",
            "bboxSubset": true,
            "shapeSubset": true,
            "temporalSubset": true,
            "variableSubset": true,
            "reproject": false,
            "outputFormats": ["application/x-hdf5"],
            "services": [{"name": "sds/trajectory-subsetter"}],
            "variables": [{"name": "/gt1l/heights/h_ph"}, {"name": "/gt1l/heights/lat_ph"}],
        })
    }

    #[test]
    fn listing_offers_short_names_and_concept_ids_once() {
        let listing = serde_json::json!({"collections": [
            {"shortName": "ATL03", "conceptIds": ["C2596864127-NSIDC_CPRD", "C1256407609-NSIDC_CUAT"]},
            {"shortName": "ATL03", "conceptIds": ["C2596864127-NSIDC_CPRD"]},
            {"shortName": "SPL3SMP", "conceptIds": []},
        ]});
        assert_eq!(listing_names(&listing), ["ATL03", "C2596864127-NSIDC_CPRD", "C1256407609-NSIDC_CUAT", "SPL3SMP"]);
        assert!(listing_names(&serde_json::json!({"unexpected": 1})).is_empty());
    }

    #[test]
    fn without_a_listing_well_known_and_seen_collections_are_offered() {
        let mut cache = CatalogCache::default();
        cache.saw("C1940468263-POCLOUD");
        cache.saw("atl03");
        let names = cache.collections(&Environment::Prod);
        assert_eq!(names.len(), WELL_KNOWN_COLLECTIONS.len() + 1);
        assert_eq!(names.last().map(String::as_str), Some("C1940468263-POCLOUD"));
    }

    #[test]
    fn kept_capabilities_give_variables_and_a_summary_case_insensitively() {
        let mut cache = CatalogCache::default();
        cache.keep_capabilities(&Environment::Uat, "ATL03", document());
        assert_eq!(
            cache.variables(&Environment::Uat, "atl03"),
            Some(vec!["/gt1l/heights/h_ph".to_owned(), "/gt1l/heights/lat_ph".to_owned()])
        );
        assert_eq!(cache.variables(&Environment::Prod, "ATL03"), None, "cached per environment");
        let summary = summary(&document());
        assert!(summary.contains("Clauses it supports: bbox, shape, time, vars"), "{summary}");
        assert!(summary.contains("sds/trajectory-subsetter") && summary.contains("/gt1l/heights/h_ph"), "{summary}");
    }

    #[tokio::test]
    async fn an_unreachable_environment_fails_fast_and_is_not_asked_again_at_once() {
        // Port 9 on loopback: nothing listens, so the fetch fails at once and the failure is remembered.
        let env = Environment::Local { port: 9 };
        let client = Client::new(env.clone(), crate::harmony::auth::Credentials::Anonymous).unwrap();
        let mut cache = CatalogCache::default();
        let started = Instant::now();
        cache.fetch_listing(&client).await;
        cache.fetch_capabilities(&client, "ATL03").await;
        assert!(started.elapsed() < FETCH_BOUND * 3, "{:?}", started.elapsed());
        assert_eq!(cache.collections(&env).len(), WELL_KNOWN_COLLECTIONS.len());
        assert!(!Cached::needs_fetch(cache.listings.get(&env.root_url())));
        assert!(!Cached::needs_fetch(cache.capabilities.get(&key(&env, "ATL03"))));
    }
}
