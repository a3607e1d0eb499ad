//! Sample granules of the local Harmony's collections, generated deterministically with real product layouts.
//!
//! CONTRACT (shared by the job engine and the data work; keep these signatures):
//! - [`granules`] lists the granules of a collection by short name, cheaply (metadata only, no file I/O);
//! - [`ensure`] generates one granule's file into the data directory on first use (atomically) and returns its path.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// One granule the local Harmony can serve.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleGranule {
    /// CMR-like granule concept ID, unique across the catalog, e.g. `G1000000001-HQ_LOCAL`.
    pub concept_id: String,
    /// The producer granule ID, which is also the file name, e.g. `ATL03_20200427193622_04930702_006_02.h5`.
    pub name: String,
    /// Short name of the collection, e.g. `ATL03`.
    pub short_name: String,
    /// Spatial extent as `[west, south, east, north]` in degrees.
    pub bbox: [f64; 4],
    /// Start of the granule's time coverage.
    pub start: DateTime<Utc>,
    /// End of the granule's time coverage.
    pub end: DateTime<Utc>,
    /// For along-track products, the ground track as `[lon, lat]` points (for spatial search); empty for grids.
    pub footprint: Vec<[f64; 2]>,
}

/// Why a granule could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The granule is not part of the sample catalog.
    #[error("no sample granule named {0}")]
    UnknownGranule(String),
    /// Writing the file failed.
    #[error("could not write sample granule {name}: {message}")]
    Write {
        /// Granule name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// Lists the granules of the collection with this short name (empty for an unknown collection).
pub fn granules(short_name: &str) -> Vec<SampleGranule> {
    let _ = short_name;
    Vec::new()
}

/// Generates `granule` under `data_dir` if it is not there yet and returns the file's path.
///
/// `scale` multiplies the amount of data (photons per beam, say); 1 is the default size.
pub fn ensure(granule: &SampleGranule, data_dir: &Path, scale: u32) -> Result<PathBuf, SampleError> {
    let _ = (data_dir, scale);
    Err(SampleError::UnknownGranule(granule.name.clone()))
}
