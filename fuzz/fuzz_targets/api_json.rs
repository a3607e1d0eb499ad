//! Fuzz target: any bytes as each answer the client decodes from Harmony and CMR (capabilities of every
//! version, a job, a job listing, job steps, bulk status, CMR `.json` feeds of collections and granules,
//! `.umm_json` results, CMR's error body). Decoding must fail with an error or succeed, never panic;
//! what decodes must survive what the client then does with it (version conversions, data links, sizes,
//! footprints) and must read back equal after being written out again.
#![no_main]

use harmonyql_lang::api::capabilities::{CapabilitiesV1, CapabilitiesV2, CapabilitiesV3};
use harmonyql_lang::api::cmr::{CollectionEntry, ErrorBody, Feed, GranuleEntry, UmmResults};
use harmonyql_lang::api::job::{BulkStatus, Job, JobListing, Steps};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decodes `data` as `T`; what decodes must encode and decode back to an equal value.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) -> Option<T> {
    let value: T = serde_json::from_slice(data).ok()?;
    let written = serde_json::to_vec(&value).expect("a decoded value encodes");
    let again: T = serde_json::from_slice(&written).expect("what we wrote decodes");
    assert_eq!(value, again, "round trip through {}", String::from_utf8_lossy(&written));
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    if let Some(v2) = round_trip::<CapabilitiesV2>(data) {
        let v3 = CapabilitiesV3::from(&v2);
        let v1 = CapabilitiesV1::from(v2);
        let _ = serde_json::to_vec(&(v1, v3)).expect("converted capabilities encode");
    }
    let _ = round_trip::<CapabilitiesV1>(data);
    let _ = round_trip::<CapabilitiesV3>(data);
    if let Some(job) = round_trip::<Job>(data) {
        let _ = job.data_links().count();
        let _ = job.link("self");
        let _ = (job.status.as_str(), job.status.is_final(), job.status.default_message());
    }
    if let Some(listing) = round_trip::<JobListing>(data) {
        for job in &listing.jobs {
            let _ = job.data_links().count();
        }
    }
    let _ = round_trip::<Steps>(data);
    let _ = round_trip::<BulkStatus>(data);
    let _ = round_trip::<ErrorBody>(data);
    let _ = round_trip::<UmmResults>(data);
    let _ = round_trip::<Feed<CollectionEntry>>(data);
    if let Some(feed) = round_trip::<Feed<GranuleEntry>>(data) {
        for entry in &feed.feed.entry {
            let _ = entry.size_bytes();
            let _ = entry.data_links().count();
            for footprint in entry.footprints() {
                assert!(!footprint.is_empty(), "an empty footprint");
            }
        }
    }
});
