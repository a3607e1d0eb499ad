//! Fuzz target: any bytes as a GeoTIFF file (`harmonyql_data::geotiff::read`, behind `open` and
//! hq serve's SMAP rasters). It must refuse with an error or give a raster whose pixel count is its
//! width × height, in bounded memory and time (the tiff crate's decoding limits; the run's
//! `-rss_limit_mb` and `-timeout` in scripts/test.sh turn a breach into a crash).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use harmonyql_data::geotiff::read;
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for each input: the reader takes a path.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("hq-fuzz-geotiff-{}.tif", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("the scratch file is writable");
    if let Ok(raster) = read(path) {
        assert_eq!(
            raster.pixels.len(),
            raster.width * raster.height,
            "pixels against {}×{}",
            raster.width,
            raster.height
        );
        let _ = raster.statistics();
        let _ = raster.value_at(raster.transform[0], raster.transform[3]);
        let _ = raster.to_string();
    }
});
