//! Typed reads of HDF5 datasets (1-D, 2-D, slices, fill values masked) and the ATL03 views built on them:
//! photons of a beam with `signal_conf_ph` for a chosen surface type, and per-beam summaries (strong or
//! weak, photon count, UTC time span through the ATLAS epoch, lat/lon extent). Read-only; no rendering.

use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use hdf5::File;
use ndarray::{Array1, Array2, Ix1, Ix2};

use crate::chunked::{self, Target};
use crate::h5::{attr, text};
use crate::time::delta_time_to_utc;
use crate::variable::{CHUNK_ROWS, for_each_chunk, is_missing, read_rows};
use crate::{Error, Result};

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

fn dataset(file: &File, path: &str) -> Result<hdf5::Dataset> {
    file.dataset(path.trim_start_matches('/')).map_err(|_| Error::Missing(path.to_string()))
}

fn wrong_rank(path: &str, error: ndarray::ShapeError) -> Error {
    Error::Invalid(format!("{path}: {error}"))
}

/// Reads a 1-D dataset, or rows `range` of it (chunks decoded in parallel, [`chunked`]).
pub fn read_1d<T: Target>(file: &File, path: &str, range: Option<Range<usize>>) -> Result<Array1<T>> {
    chunked::read::<T>(&dataset(file, path)?, range)?.into_dimensionality::<Ix1>().map_err(|e| wrong_rank(path, e))
}

/// Reads a 2-D dataset, or rows `range` of it (all columns).
pub fn read_2d<T: Target>(file: &File, path: &str, range: Option<Range<usize>>) -> Result<Array2<T>> {
    chunked::read::<T>(&dataset(file, path)?, range)?.into_dimensionality::<Ix2>().map_err(|e| wrong_rank(path, e))
}

/// Reads a 1-D dataset, or rows `range` of it, as a vector (no copy of the array).
fn read_1d_vec<T: Target>(file: &File, path: &str, range: Option<Range<usize>>) -> Result<Vec<T>> {
    let (values, shape) = chunked::read_vec::<T>(&dataset(file, path)?, range)?;
    if shape.len() != 1 {
        return Err(Error::Invalid(format!("{path} has {} dimensions, not 1", shape.len())));
    }
    Ok(values)
}

/// Reads any numeric dataset as f64 with `_FillValue` (and non-finite values) masked to `None`.
pub fn read_masked(file: &File, path: &str) -> Result<Vec<Option<f64>>> {
    let dataset = dataset(file, path)?;
    let fill = attr(&dataset, "_FillValue").ok().and_then(|v| v.as_number());
    let (values, _) = chunked::read_vec::<f64>(&dataset, None)?;
    Ok(values.into_iter().map(|v| (!is_missing(v, fill)).then_some(v)).collect())
}

/// The ground track of `beam` as `(lon, lat)` points, at most `max_points` of them, evenly spaced along
/// the track (plus its first and last valid points): from the segment reference photons
/// (`geolocation/reference_photon_lon|lat`, one per 20 m) when present, otherwise from every photon, read
/// in bounded chunks.
pub fn ground_track(file: &File, beam: &str, max_points: usize) -> Result<Vec<(f64, f64)>> {
    let segments =
        (format!("{beam}/geolocation/reference_photon_lon"), format!("{beam}/geolocation/reference_photon_lat"));
    let photons = (format!("{beam}/heights/lon_ph"), format!("{beam}/heights/lat_ph"));
    let (lon_path, lat_path) =
        if file.dataset(&segments.0).is_ok() && file.dataset(&segments.1).is_ok() { segments } else { photons };
    let lon = dataset(file, &lon_path)?;
    let lat = dataset(file, &lat_path)?;
    let n = lon.shape().first().copied().unwrap_or(0).min(lat.shape().first().copied().unwrap_or(0));
    let step = n.div_ceil(max_points.max(1)).max(1);
    let mut points = Vec::with_capacity(n / step + 2);
    // The first and last valid points are always kept, so the track reaches both ends.
    let (mut last_kept, mut last_valid) = (None, None);
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK_ROWS).min(n);
        let lons = read_rows(&lon, start..end)?;
        let lats = read_rows(&lat, start..end)?;
        for (offset, (&x, &y)) in lons.iter().zip(&lats).enumerate() {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            let index = start + offset;
            if points.is_empty() || index % step == 0 {
                points.push((x, y));
                last_kept = Some(index);
            }
            last_valid = Some((index, (x, y)));
        }
        start = end;
    }
    if let Some((index, point)) = last_valid
        && last_kept != Some(index)
    {
        points.push(point);
    }
    Ok(points)
}

/// The surface types of `signal_conf_ph`'s columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurfaceType {
    /// Column 0.
    Land,
    /// Column 1.
    Ocean,
    /// Column 2.
    SeaIce,
    /// Column 3.
    LandIce,
    /// Column 4.
    InlandWater,
}

impl SurfaceType {
    /// The column of `signal_conf_ph`.
    pub fn column(self) -> usize {
        self as usize
    }
}

impl FromStr for SurfaceType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Ok(match text.to_ascii_lowercase().replace([' ', '-'], "_").as_str() {
            "land" => Self::Land,
            "ocean" => Self::Ocean,
            "sea_ice" | "seaice" => Self::SeaIce,
            "land_ice" | "landice" => Self::LandIce,
            "inland_water" | "inlandwater" => Self::InlandWater,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown surface type {other:?}; expected land, ocean, sea_ice, land_ice or inland_water"
                )));
            }
        })
    }
}

/// Photons of one beam.
#[derive(Debug, Clone, PartialEq)]
pub struct Photons {
    /// Beam name, e.g. `gt1l`.
    pub beam: String,
    /// Seconds since the ATLAS epoch.
    pub delta_time: Vec<f64>,
    /// Latitude, degrees north.
    pub lat: Vec<f64>,
    /// Longitude, degrees east.
    pub lon: Vec<f64>,
    /// Height above the WGS84 ellipsoid, metres.
    pub h: Vec<f32>,
    /// `signal_conf_ph` for the chosen surface type (-2..4).
    pub confidence: Vec<i8>,
}

impl Photons {
    /// UTC of photon `idx`.
    pub fn time(&self, idx: usize) -> Option<DateTime<Utc>> {
        self.delta_time.get(idx).map(|&t| delta_time_to_utc(t))
    }

    /// Number of photons.
    pub fn len(&self) -> usize {
        self.h.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }
}

/// Reads the photons of `beam` (optionally rows `range`) with the confidence for `surface`.
pub fn read_photons(file: &File, beam: &str, surface: SurfaceType, range: Option<Range<usize>>) -> Result<Photons> {
    let path = |name: &str| format!("{beam}/heights/{name}");
    // Only the surface type's column is converted and kept (the chunks hold all five).
    let column = surface.column();
    let confidence =
        chunked::read_columns::<i8>(&dataset(file, &path("signal_conf_ph"))?, range.clone(), column..column + 1)?;
    let confidence = if confidence.is_standard_layout() {
        confidence.into_raw_vec_and_offset().0
    } else {
        confidence.iter().copied().collect()
    };
    Ok(Photons {
        beam: beam.to_string(),
        delta_time: read_1d_vec::<f64>(file, &path("delta_time"), range.clone())?,
        lat: read_1d_vec::<f64>(file, &path("lat_ph"), range.clone())?,
        lon: read_1d_vec::<f64>(file, &path("lon_ph"), range.clone())?,
        h: read_1d_vec::<f32>(file, &path("h_ph"), range)?,
        confidence,
    })
}

/// A summary of one ATL03 beam.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamSummary {
    /// Beam name.
    pub beam: String,
    /// `strong` or `weak` (from `atlas_beam_type`), if recorded.
    pub strength: Option<String>,
    /// Photons in `heights`.
    pub n_photons: usize,
    /// Segments in `geolocation`.
    pub n_segments: usize,
    /// First photon time.
    pub start: Option<DateTime<Utc>>,
    /// Last photon time.
    pub end: Option<DateTime<Utc>>,
    /// Latitude extent of the photons (min, max).
    pub lat_range: Option<(f64, f64)>,
    /// Longitude extent of the photons (min, max).
    pub lon_range: Option<(f64, f64)>,
}

impl std::fmt::Display for BeamSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} photons, {} segments",
            self.beam,
            self.strength.as_deref().unwrap_or("?"),
            self.n_photons,
            self.n_segments
        )?;
        if let (Some(start), Some(end)) = (self.start, self.end) {
            write!(f, ", {} .. {}", start.format("%Y-%m-%dT%H:%M:%S%.3fZ"), end.format("%Y-%m-%dT%H:%M:%S%.3fZ"))?;
        }
        if let (Some((lat0, lat1)), Some((lon0, lon1))) = (self.lat_range, self.lon_range) {
            write!(f, ", lat {lat0:.4}..{lat1:.4}, lon {lon0:.4}..{lon1:.4}")?;
        }
        Ok(())
    }
}

fn range_of(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite() && v.abs() < 1e30);
    finite.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// Summaries of every `gt*` beam group of an ATL03 file (empty for other files).
pub fn beams(file: &File) -> Result<Vec<BeamSummary>> {
    let mut names: Vec<String> = file
        .member_names()
        .map_err(|e| hdf(e, "listing the root"))?
        .into_iter()
        .filter(|n| n.starts_with("gt") && file.group(n).is_ok())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|beam| {
            let group = file.group(&beam).map_err(|e| hdf(e, &beam))?;
            // Ranges stream through the photons in chunks, so files of any size open in bounded memory.
            let extent = |name: &str| -> Result<(usize, Option<(f64, f64)>)> {
                let Ok(dataset) = file.dataset(&format!("{beam}/heights/{name}")) else { return Ok((0, None)) };
                let mut range: Option<(f64, f64)> = None;
                for_each_chunk(&dataset, CHUNK_ROWS, |_, values| {
                    if let Some(chunk) = range_of(values) {
                        range = Some(range.map_or(chunk, |(lo, hi)| (lo.min(chunk.0), hi.max(chunk.1))));
                    }
                    Ok(())
                })?;
                Ok((dataset.shape().first().copied().unwrap_or(0), range))
            };
            // A beam whose photons cannot be read is summarised without them rather than failing `open`.
            let (n_photons, time_range) = extent("delta_time").unwrap_or((0, None));
            let (_, lat_range) = extent("lat_ph").unwrap_or((0, None));
            let (_, lon_range) = extent("lon_ph").unwrap_or((0, None));
            let n_segments = file
                .dataset(&format!("{beam}/geolocation/delta_time"))
                .map(|d| d.shape().first().copied().unwrap_or(0))
                .unwrap_or(0);
            Ok(BeamSummary {
                strength: text(&group, "atlas_beam_type"),
                n_photons,
                n_segments,
                start: time_range.map(|(t, _)| delta_time_to_utc(t)),
                end: time_range.map(|(_, t)| delta_time_to_utc(t)),
                lat_range,
                lon_range,
                beam,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surface_types_parse_in_the_spellings_users_type() {
        for (text, column) in [("land", 0), ("Ocean", 1), ("sea ice", 2), ("land_ice", 3), ("inlandwater", 4)] {
            assert_eq!(text.parse::<SurfaceType>().map(SurfaceType::column).ok(), Some(column), "{text}");
        }
        assert!("lava".parse::<SurfaceType>().is_err());
    }

    #[test]
    fn ranges_skip_fill_and_non_finite_values() {
        assert_eq!(range_of(&[3.0, f64::NAN, 1.0, 1.797e308, 2.0]), Some((1.0, 3.0)));
        assert_eq!(range_of(&[]), None);
    }
}
