//! Result files of a chosen count and size, for download benchmarks (`hq serve --bench-files N
//! --bench-file-bytes B`): every work item writes N files of B bytes instead of transforming its granule,
//! so a one-granule job offers, say, 500 files of 1 MiB or 8 of 64 MiB. Off unless asked for; bounded.

use std::io::Write as _;
use std::path::Path;

use crate::engine::Processor;
use crate::sample::SampleGranule;
use crate::transform::{Operation, Output, TransformError};

/// Most files one work item may write.
pub const MAX_FILES: usize = 10_000;
/// Largest file.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Most bytes one work item may write in all (the disk of a benchmark machine is not endless).
pub const MAX_TOTAL_BYTES: u64 = 16 << 30;

/// How many files of which size each work item writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchFiles {
    /// Files per work item.
    pub count: usize,
    /// Bytes per file.
    pub bytes: u64,
}

/// Why the requested files are not allowed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "--bench-files {count} × --bench-file-bytes {bytes}: at most {MAX_FILES} files, {MAX_FILE_BYTES} bytes each, {MAX_TOTAL_BYTES} in all, at least 1 of each"
)]
pub struct OutOfBounds {
    count: usize,
    bytes: u64,
}

impl BenchFiles {
    /// `count` files of `bytes`, within the bounds above.
    pub fn new(count: usize, bytes: u64) -> Result<Self, OutOfBounds> {
        let total = (count as u64).checked_mul(bytes);
        let fits = (1..=MAX_FILES).contains(&count)
            && (1..=MAX_FILE_BYTES).contains(&bytes)
            && total.is_some_and(|t| t <= MAX_TOTAL_BYTES);
        if fits { Ok(BenchFiles { count, bytes }) } else { Err(OutOfBounds { count, bytes }) }
    }
}

/// A [`Processor`] writing [`BenchFiles`] for every work item.
#[derive(Debug, Clone)]
pub struct BenchProcessor {
    files: BenchFiles,
}

impl BenchProcessor {
    /// A processor writing `files`.
    pub fn new(files: BenchFiles) -> Self {
        BenchProcessor { files }
    }
}

impl Processor for BenchProcessor {
    fn process(
        &self,
        granule: &SampleGranule,
        _operation: &Operation,
        out_dir: &Path,
    ) -> Result<Vec<Output>, TransformError> {
        let stem = granule.name.rsplit_once('.').map_or(granule.name.as_str(), |(stem, _)| stem);
        // Pseudo-random bytes (SplitMix64), so neither side can compress or skip them; one block repeated.
        let mut block = vec![0u8; 1 << 20];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for word in block.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        (0..self.files.count)
            .map(|index| {
                let path = out_dir.join(format!("{stem}_{index:05}.bin"));
                let part = out_dir.join(format!("{stem}_{index:05}.bin.part"));
                let failed = || TransformError::failed(format!("could not write {}", path.display()));
                write_file(&part, &block, index as u64, self.files.bytes).map_err(failed())?;
                std::fs::rename(&part, &path).map_err(failed())?;
                Ok(Output {
                    path,
                    mime: "application/octet-stream".to_owned(),
                    bbox: granule.bbox,
                    start: granule.start,
                    end: granule.end,
                })
            })
            .collect()
    }
}

/// Writes `bytes` bytes of `block`, repeated, with the file's index in its first eight bytes (files differ).
fn write_file(path: &Path, block: &[u8], index: u64, bytes: u64) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut left = bytes;
    let mut first = true;
    while left > 0 {
        let take = left.min(block.len() as u64) as usize;
        if first {
            first = false;
            let tag = index.to_le_bytes();
            let head = take.min(tag.len());
            file.write_all(&tag[..head])?;
            file.write_all(&block[head..take])?;
        } else {
            file.write_all(&block[..take])?;
        }
        left -= take as u64;
    }
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_refuse_empty_huge_and_overflowing_requests() {
        assert!(BenchFiles::new(500, 1 << 20).is_ok());
        assert!(BenchFiles::new(8, 64 << 20).is_ok());
        for (count, bytes) in [(0, 1), (1, 0), (MAX_FILES + 1, 1), (1, MAX_FILE_BYTES + 1), (MAX_FILES, 1 << 30)] {
            assert!(BenchFiles::new(count, bytes).is_err(), "{count} × {bytes}");
        }
    }

    #[test]
    fn every_item_writes_the_files_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let granule = crate::sample::granules("ATL03").remove(0);
        let files = BenchFiles::new(3, (1 << 20) + 5).unwrap();
        let outputs = BenchProcessor::new(files).process(&granule, &Operation::default(), dir.path()).unwrap();
        assert_eq!(outputs.len(), 3);
        let contents: Vec<Vec<u8>> = outputs.iter().map(|o| std::fs::read(&o.path).unwrap()).collect();
        assert!(contents.iter().all(|c| c.len() as u64 == files.bytes));
        assert_ne!(contents[0], contents[1], "files differ");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "no partial files left");
    }
}
