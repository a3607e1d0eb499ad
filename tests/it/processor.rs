//! Fake work for `hq serve`'s job engine in the client, server and soak tests: output files written without
//! HDF5, fast, whole (part file then rename, as the real transformations write), with bytes that depend on
//! the granule and the file so a mixed-up or spliced download shows.

use std::path::Path;

use harmonyql_server::sample::SampleGranule;
use harmonyql_server::transform::{Output, TransformError};

/// Writes `files` outputs of `size` bytes for `granule` into `out_dir`, named `{stem}_{i}{suffix}.h5`.
pub fn write_outputs(
    granule: &SampleGranule,
    out_dir: &Path,
    files: usize,
    size: usize,
    suffix: &str,
) -> Result<Vec<Output>, TransformError> {
    let stem = granule.name.trim_end_matches(".h5");
    let seed = granule.name.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    (0..files)
        .map(|i| {
            let name = format!("{stem}_{i}{suffix}.h5");
            let path = out_dir.join(&name);
            let bytes: Vec<u8> =
                (0..size as u32).map(|b| (b.wrapping_mul(2_654_435_761) ^ seed ^ i as u32) as u8).collect();
            // A part name no other writer of this item uses: an injected restart may leave the old run's
            // transformation writing the same outputs as the new one.
            let part = out_dir.join(format!(".{name}.{}.part", uuid::Uuid::new_v4()));
            std::fs::write(&part, bytes)
                .and_then(|()| std::fs::rename(&part, &path))
                .map_err(TransformError::failed(format!("writing {}", path.display())))?;
            Ok(Output {
                path,
                mime: "application/x-hdf5".into(),
                bbox: granule.bbox,
                start: granule.start,
                end: granule.end,
            })
        })
        .collect()
}
