//! `read_photons` and `read_raster`: granules into NumPy from the same Rust readers `open` and `plot` use.

use std::ops::Range;

use harmonyql::data::atl03::{self, SurfaceType};
use harmonyql::data::geotiff::{self, Pixels};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyImportError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The photons of one ATL03 beam as NumPy arrays named as in the granule (`delta_time`, `lat_ph`, `lon_ph`,
/// `h_ph`, `signal_conf_ph` for `surface`), rows `start..stop` when given. A pandas `DataFrame` when pandas is
/// importable (`frame=None`) or asked for (`frame=True`), else a `dict` of arrays (`frame=False`).
#[pyfunction]
#[pyo3(signature = (path, beam, surface = "land", start = None, stop = None, frame = None))]
pub fn read_photons<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    beam: &str,
    surface: &str,
    start: Option<usize>,
    stop: Option<usize>,
    frame: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let surface: SurfaceType = surface.parse().map_err(|error| PyValueError::new_err(format!("{error}")))?;
    let photons = py.detach(|| -> Result<atl03::Photons, String> {
        let file = hdf5::File::open(&path).map_err(|error| format!("cannot open {}: {error}", path.display()))?;
        let range = match (start, stop) {
            (None, None) => None,
            (start, stop) => {
                let rows = match stop {
                    Some(stop) => stop,
                    None => file
                        .dataset(&format!("{beam}/heights/h_ph"))
                        .map_err(|error| format!("{}: no photons for beam {beam}: {error}", path.display()))?
                        .size(),
                };
                Some(Range { start: start.unwrap_or(0).min(rows), end: rows })
            }
        };
        atl03::read_photons(&file, beam, surface, range).map_err(|error| format!("{}: {error}", path.display()))
    });
    let photons = photons.map_err(PyOSError::new_err)?;
    let columns = PyDict::new(py);
    columns.set_item("delta_time", PyArray1::from_vec(py, photons.delta_time))?;
    columns.set_item("lat_ph", PyArray1::from_vec(py, photons.lat))?;
    columns.set_item("lon_ph", PyArray1::from_vec(py, photons.lon))?;
    columns.set_item("h_ph", PyArray1::from_vec(py, photons.h))?;
    columns.set_item("signal_conf_ph", PyArray1::from_vec(py, photons.confidence))?;
    as_frame(py, columns, frame)
}

/// A dict of columns as a pandas `DataFrame` when pandas is there (or required by `frame=True`).
fn as_frame<'py>(py: Python<'py>, columns: Bound<'py, PyDict>, frame: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
    if frame == Some(false) {
        return Ok(columns.into_any());
    }
    match py.import("pandas") {
        Ok(pandas) => pandas.getattr("DataFrame")?.call1((columns,)),
        Err(error) if frame.is_none() && error.is_instance_of::<PyImportError>(py) => Ok(columns.into_any()),
        Err(error) => Err(error),
    }
}

/// A GeoTIFF (as Harmony's SMAP outputs and `hq serve` write them) as a dict: `data` (a 2-D array, rows × columns),
/// `nodata`, `epsg` and GDAL's `transform` (x0, dx, 0, y0, 0, -dy).
#[pyfunction]
pub fn read_raster<'py>(py: Python<'py>, path: std::path::PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let raster = py
        .detach(|| geotiff::read(&path))
        .map_err(|error| PyOSError::new_err(format!("{}: {error}", path.display())))?;
    let shape = [raster.height, raster.width];
    let data = match raster.pixels {
        Pixels::U8(pixels) => PyArray1::from_vec(py, pixels).reshape(shape)?.into_any(),
        Pixels::U16(pixels) => PyArray1::from_vec(py, pixels).reshape(shape)?.into_any(),
        Pixels::F32(pixels) => PyArray1::from_vec(py, pixels).reshape(shape)?.into_any(),
    };
    let result = PyDict::new(py);
    result.set_item("data", data)?;
    result.set_item("nodata", raster.nodata)?;
    result.set_item("epsg", raster.epsg)?;
    result.set_item("transform", raster.transform.to_vec())?;
    Ok(result)
}
