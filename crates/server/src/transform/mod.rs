//! Transformations the local Harmony runs: a function from one input granule to output files.
//!
//! CONTRACT (shared by the job engine and the data work; keep these signatures):
//! - [`parse_shape`] turns an uploaded shape file (GeoJSON, KML, zipped shapefile) into polygons;
//! - [`apply`] runs the operation on one granule, writing outputs named as Harmony names them into `out_dir`.
//!
//! ATL03 goes through the Trajectory Subsetter ([`trajectory`]); SMAP through variable/box subsetting
//! ([`variable`]) or, for `image/tiff`, gridding, masking, optional reprojection ([`reproject`]) and one
//! GeoTIFF per variable ([`geotiff`]). Must not do HTTP: the job engine calls [`apply`] per granule.

pub mod cancel;
pub mod geotiff;
pub mod naming;
pub mod reproject;
pub mod selection;
pub mod trajectory;
pub mod variable;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::sample::SampleGranule;

pub use harmonyql_data::shape::Polygon;

/// What a job asks of each granule (serialisable, so jobs can store it).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The input could not be read or the output written (a message only; see [`TransformError::Failed`]).
    #[error("{0}")]
    Io(String),
    /// The job was canceled while this item ran: the transformation stopped between two steps.
    #[error("{}", cancel::STOPPED)]
    Canceled,
    /// An operation on the input or output failed; what was being done, and the error it failed with, kept
    /// as the cause so logs and job messages can show the whole chain.
    #[error("{context}: {source}")]
    Failed {
        /// What was being done, naming the file.
        context: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl TransformError {
    /// Maps an error to [`TransformError::Failed`] with what was being done.
    pub fn failed<E: std::error::Error + Send + Sync + 'static>(context: impl Into<String>) -> impl FnOnce(E) -> Self {
        let context = context.into();
        move |source| TransformError::Failed { context, source: Box::new(source) }
    }
}

/// MIME type of HDF5 outputs of the Trajectory Subsetter (data-formats.md §1.13).
pub const MIME_HDF: &str = "application/x-hdf";
/// MIME type of GeoTIFF outputs.
pub const MIME_TIFF: &str = "image/tiff";
/// MIME type of HDF5 outputs of the gridded SMAP subsetter.
pub const MIME_HDF5: &str = "application/x-hdf5";

/// Parses a shape file's bytes of the given MIME type into polygons.
///
/// GeoJSON, KML and zipped ESRI shapefiles are read; when the MIME type is unknown the bytes decide.
pub fn parse_shape(bytes: &[u8], mime: &str) -> Result<Vec<Polygon>, TransformError> {
    harmonyql_data::shape::parse(bytes, mime).map_err(|error| TransformError::Unsupported(error.to_string()))
}

fn io(error: harmonyql_data::Error) -> TransformError {
    match error {
        harmonyql_data::Error::Invalid(message) if message == cancel::STOPPED => TransformError::Canceled,
        error => TransformError::failed("reading or writing the granule")(error),
    }
}

fn is_tiff(format: Option<&str>) -> bool {
    format.is_some_and(|f| {
        matches!(f.to_ascii_lowercase().as_str(), "image/tiff" | "image/geotiff" | "tiff" | "geotiff" | "image/tif")
    })
}

/// Runs `operation` on `granule` (whose file is `input`), writing the outputs into `out_dir`.
pub fn apply(
    granule: &SampleGranule,
    input: &Path,
    operation: &Operation,
    out_dir: &Path,
) -> Result<Vec<Output>, TransformError> {
    std::fs::create_dir_all(out_dir).map_err(TransformError::failed(format!("creating {}", out_dir.display())))?;
    if granule.short_name.starts_with("ATL03") {
        apply_trajectory(granule, input, operation, out_dir)
    } else if granule.short_name.starts_with("SPL") {
        if is_tiff(operation.format.as_deref()) {
            apply_geotiff(granule, input, operation, out_dir)
        } else {
            apply_variable(granule, input, operation, out_dir)
        }
    } else {
        Err(TransformError::Unsupported(format!("no transformation for {} here", granule.short_name)))
    }
}

fn is_subsetted(operation: &Operation) -> bool {
    operation.bbox.is_some()
        || !operation.shape.is_empty()
        || operation.start.is_some()
        || operation.end.is_some()
        || !operation.variables.is_empty()
}

fn variable_refs(operation: &Operation) -> Vec<&str> {
    operation.variables.iter().map(String::as_str).collect()
}

fn apply_trajectory(
    granule: &SampleGranule,
    input: &Path,
    operation: &Operation,
    out_dir: &Path,
) -> Result<Vec<Output>, TransformError> {
    if is_tiff(operation.format.as_deref()) || operation.output_crs.is_some() {
        return Err(TransformError::Unsupported(format!(
            "the Trajectory Subsetter cannot reformat or reproject {}; ask for HDF5 without a crs",
            granule.short_name
        )));
    }
    let suffixes = naming::Suffixes { subsetted: is_subsetted(operation), ..Default::default() };
    let name = naming::output_name(&granule.name, &variable_refs(operation), ".h5", suffixes);
    let path = out_dir.join(name);
    let result = harmonyql_data::write_atomically(&path, |temp| {
        match trajectory::subset(input, temp, operation)? {
            Some(result) => Ok(Some(result)),
            None => {
                // Nothing matched: leave no file under the final name (the temp file goes too).
                Err(harmonyql_data::Error::Missing(trajectory::NO_DATA.to_string()))
            }
        }
    });
    match result {
        Ok(Some(subset)) => Ok(vec![Output {
            path,
            mime: MIME_HDF.to_string(),
            bbox: subset.bbox,
            start: subset.start,
            end: subset.end,
        }]),
        Ok(None) | Err(harmonyql_data::Error::Missing(_)) => {
            Err(TransformError::NoData(trajectory::NO_DATA.to_string()))
        }
        Err(error) => Err(io(error)),
    }
}

fn apply_variable(
    granule: &SampleGranule,
    input: &Path,
    operation: &Operation,
    out_dir: &Path,
) -> Result<Vec<Output>, TransformError> {
    if operation.output_crs.is_some() {
        return Err(TransformError::Unsupported(
            "reprojection is available with GeoTIFF output (format image/tiff)".into(),
        ));
    }
    let suffixes = naming::Suffixes { subsetted: is_subsetted(operation), ..Default::default() };
    let name = naming::output_name(&granule.name, &variable_refs(operation), ".h5", suffixes);
    let path = out_dir.join(name);
    let kept = harmonyql_data::write_atomically(&path, |temp| match variable::subset(input, temp, operation)? {
        true => Ok(()),
        false => Err(harmonyql_data::Error::Missing(trajectory::NO_DATA.to_string())),
    });
    match kept {
        Ok(()) => Ok(vec![Output {
            path,
            mime: MIME_HDF5.to_string(),
            bbox: operation.bbox.unwrap_or(granule.bbox),
            start: granule.start,
            end: granule.end,
        }]),
        Err(harmonyql_data::Error::Missing(what)) if what == trajectory::NO_DATA => {
            Err(TransformError::NoData(trajectory::NO_DATA.to_string()))
        }
        Err(harmonyql_data::Error::Missing(what)) => {
            Err(TransformError::Unsupported(format!("{what} is not in {}", granule.name)))
        }
        Err(error) => Err(io(error)),
    }
}

fn apply_geotiff(
    granule: &SampleGranule,
    input: &Path,
    operation: &Operation,
    out_dir: &Path,
) -> Result<Vec<Output>, TransformError> {
    let file = hdf5::File::open(input).map_err(TransformError::failed(format!("opening {}", input.display())))?;
    let variables = if operation.variables.is_empty() {
        harmonyql_data::smap::data_variables(&file).map_err(io)?
    } else {
        operation.variables.iter().map(|v| v.trim_start_matches('/').to_string()).collect()
    };
    let reprojected = operation.output_crs.is_some();
    // The L2 chain always grids (regridded); the gridded chain regrids only when a CRS is asked for.
    let regridded = granule.short_name.starts_with("SPL2") || reprojected;
    // Each service in the chain appends its suffix in turn: subsetter, then gridder/regridder, then net2cog.
    let subsetted = naming::output_name(
        &granule.name,
        &[],
        ".h5",
        naming::Suffixes { subsetted: is_subsetted(operation), ..Default::default() },
    );
    let stem = naming::output_name(&subsetted, &[], "", naming::Suffixes { regridded, ..Default::default() });
    let mut outputs = Vec::new();
    for path in &variables {
        if cancel::requested() {
            return Err(TransformError::Canceled);
        }
        let variable = match harmonyql_data::smap::read_variable(&file, path) {
            Ok(variable) => variable,
            Err(harmonyql_data::Error::Missing(_)) => {
                return Err(TransformError::Unsupported(format!("variable {path} is not in {}", granule.name)));
            }
            Err(error) => return Err(io(error)),
        };
        let raster = geotiff::raster(&variable, operation);
        // The raster steps stop early (and give nothing) when canceled: say so, not "no data".
        if cancel::requested() {
            return Err(TransformError::Canceled);
        }
        let Some(raster) = raster else {
            continue;
        };
        let name = naming::output_name(
            &format!("{stem}.nc"),
            &[path.as_str()],
            ".tif",
            naming::Suffixes { reformatted: true, ..Default::default() },
        );
        let out = out_dir.join(name);
        geotiff::write(&out, &raster).map_err(io)?;
        outputs.push(Output {
            path: out,
            mime: MIME_TIFF.to_string(),
            bbox: geotiff::raster_bbox(&raster),
            start: granule.start,
            end: granule.end,
        });
    }
    if outputs.is_empty() {
        return Err(TransformError::NoData(trajectory::NO_DATA.to_string()));
    }
    Ok(outputs)
}
