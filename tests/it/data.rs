//! Data engine end to end: every sample granule generated and read back, the Trajectory Subsetter on the
//! real fixture and on synthetic granules, SMAP variable subsets, GeoTIFF round trips, reprojection and
//! shape files. Outputs are left in `$CARGO_TARGET_TMPDIR/hq-data-outputs/` for the Python cross-checks
//! in `tests/python/data/`.

use std::path::PathBuf;
use std::time::Instant;

use harmonyql::server::sample::{self, COLLECTIONS, SampleGranule};

/// Where this run's outputs go; the Python tests read them from there.
fn outputs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hq-data-outputs");
    std::fs::create_dir_all(&dir).expect("create the outputs directory");
    dir
}

fn granule(short_name: &str, name: &str) -> SampleGranule {
    sample::granules(short_name)
        .into_iter()
        .find(|g| g.name == name)
        .expect("granule in the catalog")
}

#[test]
fn every_sample_granule_generates_and_opens() {
    let dir = outputs().join("granules");
    for short_name in COLLECTIONS {
        for granule in sample::granules(short_name) {
            let started = Instant::now();
            let path = sample::ensure(&granule, &dir, 1).expect("generate");
            eprintln!("{short_name} {}: {:?}", granule.name, started.elapsed());
            let file = hdf5::File::open(&path).expect("open the generated file");
            assert!(!file.member_names().expect("members").is_empty());
        }
    }
}
