//! Transformations the local Harmony runs: a function from one input granule to output files.
//!
//! CONTRACT (shared by the job engine and the data work; keep these signatures):
//! - [`parse_shape`] turns an uploaded shape file (GeoJSON, KML, zipped shapefile) into polygons;
//! - [`apply`] runs the operation on one granule, writing outputs named as Harmony names them into `out_dir`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::server::sample::SampleGranule;

/// A polygon as rings of `[lon, lat]` points; the first ring is the outer boundary, the others are holes.
pub type Polygon = Vec<Vec<[f64; 2]>>;

/// What a job asks of each granule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Operation {
    /// Bounding box `[west, south, east, north]`; west > east crosses the antimeridian.
    pub bbox: Option<[f64; 4]>,
    /// Polygons from a shape file or WKT; a granule part is kept when it falls inside any of them.
    pub shape: Vec<Polygon>,
    /// Start of the temporal subset, inclusive.
    pub start: Option<DateTime<Utc>>,
    /// End of the temporal subset, inclusive.
    pub end: Option<DateTime<Utc>>,
    /// Variables to keep, as full paths (`Soil_Moisture_Retrieval_Data/landcover_class`); empty means all.
    pub variables: Vec<String>,
    /// Output MIME type (`image/tiff`, `application/x-hdf5`, `application/x-netcdf4`); `None` keeps the input format.
    pub format: Option<String>,
    /// Output CRS such as `EPSG:4326`; `None` keeps the input grid.
    pub output_crs: Option<String>,
    /// Other dimension subsets: name, minimum, maximum (`None` is unbounded).
    pub dimensions: Vec<(String, Option<f64>, Option<f64>)>,
}

/// One file a transformation wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Where the file is.
    pub path: PathBuf,
    /// Its MIME type.
    pub mime: String,
    /// Its spatial extent `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// Start of its time coverage.
    pub start: DateTime<Utc>,
    /// End of its time coverage.
    pub end: DateTime<Utc>,
}

/// Why a transformation produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// Nothing in the granule matched; the message is the one Harmony shows for the failed work item.
    #[error("{0}")]
    NoData(String),
    /// The request cannot be done for this granule (unknown variable, unsupported format, ...).
    #[error("{0}")]
    Unsupported(String),
    /// The input could not be read or the output written.
    #[error("{0}")]
    Io(String),
}

/// Parses a shape file's bytes of the given MIME type into polygons.
pub fn parse_shape(bytes: &[u8], mime: &str) -> Result<Vec<Polygon>, TransformError> {
    let _ = bytes;
    Err(TransformError::Unsupported(format!("shape files of type {mime} are not supported yet")))
}

/// Runs `operation` on `granule` (whose file is `input`), writing the outputs into `out_dir`.
pub fn apply(
    granule: &SampleGranule,
    input: &Path,
    operation: &Operation,
    out_dir: &Path,
) -> Result<Vec<Output>, TransformError> {
    let _ = (input, operation, out_dir);
    Err(TransformError::Unsupported(format!("no transformation for {} yet", granule.short_name)))
}
