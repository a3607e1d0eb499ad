//! Reading and writing the science files HarmonyQL meets: HDF5 (ATL03, SMAP, anything) through
//! `hdf5-metno`, and GeoTIFF through `tiff`. Results are plain Rust values; rendering them as text tables,
//! HTML or plots belongs to `output` and `plot`.
//!
//! Also the request-area shape files (GeoJSON, KML, zipped shapefiles) in [`shape`].
//!
//! Must not do network I/O or know about Harmony requests: the local Harmony (`harmonyql-server`) and the
//! library (`harmonyql`) both call in here, never the other way round.

pub mod atl03;
pub mod chunk_writer;
pub mod chunked;
pub mod ease_grid;
pub mod export;
pub mod geotiff;
pub mod granule;

pub mod h5;
pub mod shape;
pub mod smap;
pub mod summary;

pub mod time;
pub mod variable;

use std::path::{Path, PathBuf};

/// What went wrong reading or writing a data file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HDF5 library reported an error.
    #[error("hdf5: {context}: {message}")]
    Hdf5 {
        /// What we were doing.
        context: String,
        /// HDF5's message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A GeoTIFF could not be encoded or decoded.
    #[error("geotiff {path}: {message}")]
    Tiff {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A dataset, group or attribute that should be there is not.
    #[error("{0} not found in the file")]
    Missing(String),
    /// The data is not what the reader expects (wrong shape, type or value).
    #[error("{0}")]
    Invalid(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Writes a file atomically: `write` fills a temporary file beside `path`, which is then renamed over it,
/// so a crash never leaves a half file under the final name.
pub fn write_atomically<T>(path: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| Error::Io { path: parent.to_path_buf(), source })?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Unique per process and per call, so two threads generating the same granule never share a temp file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = parent.join(format!(".{file_name}.{}-{call}.part", std::process::id()));
    let result = write(&temp);
    match result {
        Ok(value) => {
            std::fs::rename(&temp, path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
            Ok(value)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&temp);
            Err(error)
        }
    }
}
