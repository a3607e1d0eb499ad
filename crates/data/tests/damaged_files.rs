//! `open` on damaged files: the real ATL03 fixture and GeoTIFFs we write, truncated at many offsets and
//! with bytes flipped or blocks zeroed at many places. Every damaged file must give an error or a summary,
//! never a panic: HDF5's C errors and the tiff crate's must come back as Rust errors. Deterministic (a fixed
//! xorshift sequence picks the places) so a failure names its case and replays; the libFuzzer target
//! `geotiff` (fuzz/) explores GeoTIFFs further, and this test stands in for an HDF5 fuzzer, whose
//! instrumented build and C library crashes would not fit CI's budget (docs/security/fuzzing.md).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use harmonyql_data::geotiff::{self, Pixels, Raster};
use harmonyql_data::summary::{Summary, open};

/// A damaged copy of a file and what was done to it.
struct Case {
    what: String,
    bytes: Vec<u8>,
}

/// xorshift64: a fixed sequence of places to damage, the same on every run.
struct Places(u64);

impl Places {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

/// Truncations at `truncations` offsets (the first bytes, then spread evenly), then `flips` single bytes
/// inverted, `flips` runs of eight 0xFF bytes and `flips / 4` zeroed 4 KiB blocks; half of the places
/// fall in `hot` (where the format keeps its metadata), the rest anywhere.
fn damaged(original: &[u8], truncations: usize, flips: usize, hot: usize) -> Vec<Case> {
    let len = original.len();
    let mut cases = Vec::new();
    let mut offsets: Vec<usize> = vec![0, 1, 4, 7, 8, 9, 16, 64, 100, 512];
    offsets.extend((1..truncations).map(|i| i * len / truncations));
    offsets.push(len - 1);
    offsets.retain(|&offset| offset < len);
    offsets.sort_unstable();
    offsets.dedup();
    for offset in offsets {
        cases.push(Case { what: format!("truncated to {offset} bytes"), bytes: original[..offset].to_vec() });
    }
    let mut places = Places(0x9E37_79B9_7F4A_7C15);
    let mut place = |i: usize| if i.is_multiple_of(2) { places.next(hot.min(len)) } else { places.next(len) };
    for i in 0..flips {
        let at = place(i);
        let mut bytes = original.to_vec();
        bytes[at] = !bytes[at];
        cases.push(Case { what: format!("byte {at} inverted"), bytes });
    }
    for i in 0..flips {
        let at = place(i);
        let mut bytes = original.to_vec();
        let end = (at + 8).min(len);
        bytes[at..end].fill(0xFF);
        cases.push(Case { what: format!("bytes {at}..{end} set to 0xFF"), bytes });
    }
    for i in 0..flips / 4 {
        let at = place(i);
        let mut bytes = original.to_vec();
        let end = (at + 4096).min(len);
        bytes[at..end].fill(0);
        cases.push(Case { what: format!("bytes {at}..{end} zeroed"), bytes });
    }
    cases
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hq-damaged-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Opens every case; returns how many opened and the panics, each named by its case.
fn open_all(cases: &[Case], dir: &Path, extension: &str) -> (usize, Vec<String>) {
    let (mut opened, mut panics) = (0, Vec::new());
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.{extension}"));
        std::fs::write(&path, &case.bytes).expect("the scratch file is writable");
        match catch_unwind(AssertUnwindSafe(|| open(&path).map(|summary| summary.to_string()))) {
            Ok(Ok(_)) => opened += 1,
            Ok(Err(error)) => assert!(!error.to_string().is_empty(), "{}: an empty error", case.what),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panics.push(format!("{}: {message}", case.what));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    (opened, panics)
}

#[test]
fn damaged_atl03_files_open_or_fail_without_panicking() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5");
    let original = std::fs::read(&fixture).expect("the ATL03 fixture");
    assert!(matches!(open(&fixture), Ok(Summary::Hdf5 { .. })), "the undamaged fixture opens");
    // HDF5 keeps the superblock, root group and most object headers near the start.
    let cases = damaged(&original, 48, 60, 64 * 1024);
    let dir = scratch("atl03");
    let (opened, panics) = open_all(&cases, &dir, "h5");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(panics.is_empty(), "{} of {} damaged files panicked:\n{}", panics.len(), cases.len(), panics.join("\n"));
    // Some damage lands in data or slack and the file still opens; most truncations do not.
    assert!(opened > 0 && opened < cases.len(), "{opened} of {} opened", cases.len());
}

#[test]
fn damaged_geotiffs_open_or_fail_without_panicking() {
    let rasters = [
        Raster {
            width: 5,
            height: 3,
            pixels: Pixels::F32((0..15).map(|i| i as f32 * 0.01).collect()),
            epsg: 6933,
            transform: [-17_367_530.445_161_5, 36_032.220_840_584, 0.0, 7_314_540.830_638_6, 0.0, -36_032.220_840_584],
            nodata: Some(-9999.0),
        },
        Raster {
            width: 4,
            height: 4,
            pixels: Pixels::U16((0..16).collect()),
            epsg: 4326,
            transform: [-93.0, 0.5, 0.0, 45.0, 0.0, -0.5],
            nodata: None,
        },
    ];
    let dir = scratch("geotiff");
    for (n, raster) in rasters.iter().enumerate() {
        let path = dir.join(format!("original{n}.tif"));
        geotiff::write(&path, raster).expect("write");
        let original = std::fs::read(&path).expect("read back");
        assert!(matches!(open(&path), Ok(Summary::GeoTiff { .. })), "the undamaged GeoTIFF opens");
        // Small files: every truncation, and flips anywhere.
        let cases = damaged(&original, original.len(), 200, original.len());
        let (_, panics) = open_all(&cases, &dir, "tif");
        assert!(
            panics.is_empty(),
            "{} of {} damaged GeoTIFFs panicked:\n{}",
            panics.len(),
            cases.len(),
            panics.join("\n")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
