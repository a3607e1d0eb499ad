//! Sample granules of the local Harmony's collections, generated deterministically with real product layouts.
//!
//! CONTRACT (shared by the job engine and the data work; keep these signatures):
//! - [`granules`] lists the granules of a collection by short name, cheaply (metadata only, no file I/O);
//! - [`ensure`] generates one granule's file into the data directory on first use (atomically) and returns its path.
//!
//! Collections: `ATL03` (v006, synthetic tracks, including the tutorial's Colorado granule), `ATL03_GT1L`
//! (the real NASA fixture, embedded in the binary), `SPL2SMP`, `SPL3SMP` and `SPL4CMDL` (synthetic, on
//! EASE-Grid 2.0). Must not do HTTP: the server and job engine call in here.

pub mod atl03;
pub mod random;
pub mod smap;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};

use crate::sample::atl03::{Terrain, TrackSpec};
use crate::sample::smap::SmapSpec;

/// One granule the local Harmony can serve (serialisable, so jobs can store the granules they process).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    #[serde(default)]
    pub footprint: Vec<[f64; 2]>,
    /// The user's own file this granule is (`hq serve --granules DIR`); `None` for generated samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
    /// Size in bytes, when known before the file is needed (the user's own files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
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

/// Short names of every sample collection, in catalog order.
pub const COLLECTIONS: [&str; 5] = ["ATL03", "ATL03_GT1L", "SPL2SMP", "SPL3SMP", "SPL4CMDL"];

/// Name of the real NASA granule served as collection `ATL03_GT1L`.
pub const REAL_ATL03_NAME: &str = "ATL03_gt1l.h5";

/// The real ATL03 v006 `gt1l` subset from NASA's Trajectory Subsetter tests (../shared/fixtures/real),
/// embedded so `hq serve` can serve real data with nothing else on disk.
static REAL_ATL03: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/real/ATL03_gt1l.h5"));

/// The synthetic ATL03 tracks. The first crosses the tutorial's Colorado box (w=-105.5, s=40, e=-105, n=41)
/// inside its time range; the others miss it in space or in time so searches select something.
pub fn atl03_tracks() -> Vec<TrackSpec> {
    let front_range = Terrain::FrontRange { edge_lon: -105.2 };
    vec![
        TrackSpec {
            name: "ATL03_20200427193622_04930702_006_02.h5",
            lat_start: 39.85,
            lat_end: 41.15,
            lon_start: -105.18,
            lon_per_lat: -0.125,
            forward: false,
            terrain: front_range,
        },
        TrackSpec {
            name: "ATL03_20200501082013_05530702_006_01.h5",
            lat_start: 38.4,
            lat_end: 39.4,
            lon_start: -99.1,
            lon_per_lat: -0.125,
            forward: false,
            terrain: Terrain::Plains { base: 650.0 },
        },
        TrackSpec {
            name: "ATL03_20200505091544_06140705_006_01.h5",
            lat_start: 72.6,
            lat_end: 71.6,
            lon_start: -38.3,
            lon_per_lat: -0.45,
            forward: false,
            terrain: Terrain::IceSheet { summit_lat: 72.58, summit_h: 3_210.0 },
        },
        TrackSpec {
            name: "ATL03_20200519112450_08280712_006_01.h5",
            lat_start: -60.0,
            lat_end: -59.0,
            lon_start: 151.2,
            lon_per_lat: -0.2,
            forward: false,
            terrain: Terrain::Ocean,
        },
        TrackSpec {
            name: "ATL03_20200612190211_12190702_006_01.h5",
            lat_start: 39.9,
            lat_end: 41.1,
            lon_start: -105.3,
            lon_per_lat: -0.125,
            forward: true,
            terrain: front_range,
        },
        TrackSpec {
            name: "ATL03_20191021032210_03770503_006_01.h5",
            lat_start: 45.8,
            lat_end: 46.8,
            lon_start: 7.6,
            lon_per_lat: -0.14,
            forward: true,
            terrain: Terrain::FrontRange { edge_lon: 8.2 },
        },
    ]
}

fn concept_id(collection_idx: usize, granule_idx: usize) -> String {
    format!("G{}{:08}-HQ_LOCAL", 11 + collection_idx, granule_idx + 1)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap_or_default() + chrono::Duration::milliseconds(ms)
}

/// Lists the granules of the collection with this short name (empty for an unknown collection).
pub fn granules(short_name: &str) -> Vec<SampleGranule> {
    let Some(collection_idx) = COLLECTIONS.iter().position(|c| *c == short_name) else {
        return Vec::new();
    };
    let make = |granule_idx: usize, name: &str, bbox, start, end, footprint| SampleGranule {
        concept_id: concept_id(collection_idx, granule_idx),
        name: name.to_string(),
        short_name: short_name.to_string(),
        bbox,
        start,
        end,
        footprint,
        source: None,
        size: None,
    };
    match short_name {
        "ATL03" => atl03_tracks()
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                let (start, end) = spec.time_span().ok()?;
                Some(make(i, spec.name, spec.bbox(), start, end, spec.footprint()))
            })
            .collect(),
        // Extent and times of the real subset, as read from the file with h5py (segment reference photons
        // and photon times); listed here because listing must not open files.
        "ATL03_GT1L" => vec![make(
            0,
            REAL_ATL03_NAME,
            [95.0679, 87.2943, 178.9990, 87.2987],
            utc(2018, 10, 14, 0, 26, 50, 795),
            utc(2018, 10, 14, 0, 27, 47, 683),
            Vec::new(),
        )],
        _ => smap::specs(short_name)
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let (start, end) = spec.time_span();
                make(i, spec.name(), spec.bbox(), start, end, Vec::new())
            })
            .collect(),
    }
}

/// Generates `granule` under `data_dir` if it is not there yet and returns the file's path; a user's own
/// granule (`source`) is its file, never copied.
///
/// `scale` multiplies the amount of data (photons per beam, say); 1 is the default size.
pub fn ensure(granule: &SampleGranule, data_dir: &Path, scale: u32) -> Result<PathBuf, SampleError> {
    if let Some(source) = &granule.source {
        return Ok(source.clone());
    }
    let scale = scale.max(1);
    let path = path_of(granule, data_dir, scale);
    if path.is_file() {
        return Ok(path);
    }
    // Concurrent jobs asking for the same granule wait for one generation instead of each writing it.
    let lock = generation_lock(&path);
    let _generating = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if path.is_file() {
        return Ok(path);
    }
    #[cfg(test)]
    GENERATED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(path.clone());
    let unknown = || SampleError::UnknownGranule(granule.name.clone());
    let failed =
        |error: harmonyql_data::Error| SampleError::Write { name: granule.name.clone(), message: error.to_string() };
    match granule.short_name.as_str() {
        "ATL03" => {
            let spec = atl03_tracks().into_iter().find(|s| s.name == granule.name).ok_or_else(unknown)?;
            harmonyql_data::write_atomically(&path, |temp| atl03::write(&spec, temp, scale)).map_err(failed)?;
        }
        "ATL03_GT1L" if granule.name == REAL_ATL03_NAME => {
            harmonyql_data::write_atomically(&path, |temp| {
                std::fs::write(temp, REAL_ATL03)
                    .map_err(|source| harmonyql_data::Error::Io { path: temp.to_path_buf(), source })
            })
            .map_err(failed)?;
        }
        short_name => {
            let spec: SmapSpec =
                smap::specs(short_name).into_iter().find(|s| s.name() == granule.name).ok_or_else(unknown)?;
            harmonyql_data::write_atomically(&path, |temp| smap::write(&spec, temp)).map_err(failed)?;
        }
    }
    Ok(path)
}

/// Where `granule`'s file is, or will be once [`ensure`] has generated it: the user's own file, or
/// `DATA_DIR/SHORT_NAME[/xSCALE]/NAME`.
pub fn path_of(granule: &SampleGranule, data_dir: &Path, scale: u32) -> PathBuf {
    if let Some(source) = &granule.source {
        return source.clone();
    }
    let mut dir = data_dir.join(&granule.short_name);
    if scale > 1 {
        dir = dir.join(format!("x{scale}"));
    }
    dir.join(&granule.name)
}

/// The granule files of one `hq serve`: its data directory and scale.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    /// Where generated granules live.
    pub data_dir: PathBuf,
    /// How much bigger than the default they are generated.
    pub scale: u32,
}

impl SampleFiles {
    /// The file's size in bytes when it is known without generating it: the user's own files, and samples
    /// generated earlier (by a job, by `--prepare`). CMR's answers carry it as the granule's size.
    pub fn known_size(&self, granule: &SampleGranule) -> Option<u64> {
        granule
            .size
            .or_else(|| std::fs::metadata(path_of(granule, &self.data_dir, self.scale.max(1))).ok().map(|m| m.len()))
    }

    /// The granule's file, generated first if need be (blocking: call off the async threads).
    pub fn ensure(&self, granule: &SampleGranule) -> Result<PathBuf, SampleError> {
        ensure(granule, &self.data_dir, self.scale)
    }
}

/// The lock held while one granule file is generated; one per path, kept for the process's life (a few
/// dozen sample granules at most).
fn generation_lock(path: &Path) -> std::sync::Arc<std::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<PathBuf, std::sync::Arc<std::sync::Mutex<()>>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut locks = LOCKS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(path.to_path_buf()).or_default().clone()
}

/// Every generation's path, so a test can count them.
#[cfg(test)]
static GENERATED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_requests_for_one_granule_generate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        // A generated (not copied) granule: slow enough that unguarded threads would all write it.
        let granule = granules("SPL3SMP").remove(0);
        let start = std::sync::Barrier::new(8);
        let paths: Vec<PathBuf> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        ensure(&granule, dir.path(), 1).unwrap()
                    })
                })
                .collect();
            workers.into_iter().map(|worker| worker.join().unwrap()).collect()
        });
        assert!(paths.iter().all(|path| path == &paths[0]));
        assert!(hdf5::File::open(&paths[0]).is_ok());
        let generated = GENERATED.lock().unwrap().iter().filter(|path| **path == paths[0]).count();
        assert_eq!(generated, 1, "generated {generated} times");
    }

    #[test]
    fn concept_ids_are_unique_and_stable() {
        let all: Vec<SampleGranule> = COLLECTIONS.iter().flat_map(|c| granules(c)).collect();
        let mut ids: Vec<&str> = all.iter().map(|g| g.concept_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert!(all.iter().all(|g| g.concept_id.starts_with('G') && g.concept_id.ends_with("-HQ_LOCAL")));
        assert_eq!(granules("ATL03")[0].concept_id, "G1100000001-HQ_LOCAL");
    }

    #[test]
    fn tutorial_granules_exist_in_their_collections() {
        let check = |short_name: &str, name: &str| {
            assert!(granules(short_name).iter().any(|g| g.name == name), "{short_name} lacks {name}");
        };
        check("ATL03", "ATL03_20200427193622_04930702_006_02.h5");
        check("SPL2SMP", "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5");
        check("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5");
        check("SPL4CMDL", "SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5");
        assert!(granules("NOPE").is_empty());
    }

    #[test]
    fn colorado_granule_crosses_the_tutorial_box() {
        let colorado = &granules("ATL03")[0];
        let (w, s, e, n) = (-105.5, 40.0, -105.0, 41.0);
        assert!(colorado.footprint.iter().any(|[lon, lat]| (w..=e).contains(lon) && (s..=n).contains(lat)));
        assert_eq!(colorado.start.to_rfc3339(), "2020-04-27T19:36:22+00:00");
        assert!(colorado.end > colorado.start && colorado.end < colorado.start + chrono::Duration::minutes(2));
    }
}
