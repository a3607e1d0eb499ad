//! Plots of real and generated data, written to `$CARGO_TARGET_TMPDIR/plots/` for people to look at.

use std::path::PathBuf;

use harmonyql::data::atl03::{SurfaceType, read_photons};
use harmonyql::plot::{PhotonCloud, render};

fn plots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// NASA's real ATL03 file (sea ice near the North Pole) plots as a photon cloud against latitude.
#[test]
fn the_real_fixture_plots_as_a_photon_cloud() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/real/ATL03_gt1l.h5");
    let file = hdf5::File::open(&path).unwrap();
    let photons = read_photons(&file, "gt1l", SurfaceType::SeaIce, None).unwrap();
    assert_eq!(photons.len(), 2909);
    let cloud = PhotonCloud {
        title: "ATL03_gt1l.h5 gt1l".into(),
        x_label: "latitude (°)".into(),
        x: photons.lat.clone(),
        height: photons.h.iter().map(|h| f64::from(*h)).collect(),
        confidence: photons.confidence.clone(),
        min_confidence: 0,
    };
    let figure = render(&cloud, (960, 540)).unwrap();
    std::fs::write(plots_dir().join("real_fixture_photons.png"), &figure.png).unwrap();
    std::fs::write(plots_dir().join("real_fixture_photons.svg"), &figure.svg).unwrap();
    assert!(figure.svg.contains("ATL03_gt1l.h5 gt1l"));
}
