//! What a science file says about itself as a granule: its collection (short name and version), its time
//! range and its footprint, so `hq serve --granules DIR` can list files it did not make.
//!
//! ATL03: the time range is the first and last photon time of each beam (`gtX/heights/delta_time`, sorted
//! in time) and the footprint the ground track of the segment reference photons (`gtX/geolocation`), so a
//! file cut by the Trajectory Subsetter is described by what it holds, not by the whole granule its ISO
//! metadata (`/METADATA/Extent`) still describes. SMAP, and ATL03 files without photons: the ISO metadata
//! (`/Metadata/Extent` or `/METADATA/Extent`: bounding box, `rangeBeginningDateTime`, `rangeEndingDateTime`),
//! else the root attributes `time_coverage_*` and `geospatial_*`. The short name and version come from
//! `DatasetIdentification` (`shortName`, `VersionID`), else the root `short_name`. Read-only, bounded reads.

use std::path::Path;

use chrono::{DateTime, Utc};
use hdf5::{File, Location};

use crate::atl03::{ground_track, read_1d};
use crate::h5::attr;
use crate::time::delta_time_to_utc;
use crate::{Error, Result};

/// Points kept of a beam's ground track: enough to draw and search it, few enough to list thousands.
const FOOTPRINT_POINTS: usize = 200;

/// The beams in the order their track is taken as the footprint: the centre pair first.
const BEAMS: [&str; 6] = ["gt2l", "gt2r", "gt1l", "gt1r", "gt3l", "gt3r"];

/// A file's own description of itself as a granule.
#[derive(Debug, Clone, PartialEq)]
pub struct GranuleMetadata {
    /// Collection short name, e.g. `ATL03` or `SPL3SMP`.
    pub short_name: String,
    /// Collection version, e.g. `006`, when the file records it.
    pub version: Option<String>,
    /// Start of the time range.
    pub start: DateTime<Utc>,
    /// End of the time range.
    pub end: DateTime<Utc>,
    /// `[west, south, east, north]` in degrees.
    pub bbox: [f64; 4],
    /// The ground track as `[lon, lat]` points (along-track products); empty for grids.
    pub footprint: Vec<[f64; 2]>,
}

/// Reads a granule's collection, time range and footprint from the file at `path`.
///
/// Fails with [`Error::Hdf5`] when the file is not HDF5 (or is damaged), and with [`Error::Missing`]
/// naming what is absent when the file lacks a short name, a time range or an extent.
pub fn read_granule_metadata(path: &Path) -> Result<GranuleMetadata> {
    let file = File::open(path)
        .map_err(|e| Error::Hdf5 { context: format!("opening {}", path.display()), message: e.to_string() })?;
    let metadata = ["METADATA", "Metadata"].into_iter().find_map(|name| file.group(name).ok());
    let identification = metadata.as_ref().and_then(|m| m.group("DatasetIdentification").ok());
    let short_name = identification
        .as_ref()
        .and_then(|group| text(group, "shortName"))
        .or_else(|| text(&file, "short_name"))
        .ok_or_else(|| {
            Error::Missing("a short name (Metadata/DatasetIdentification@shortName or the root's short_name)".into())
        })?;
    let version = identification.as_ref().and_then(|group| text(group, "VersionID"));
    let extent = metadata.as_ref().and_then(|m| m.group("Extent").ok());
    let (track, tracked_bbox) = along_track(&file);
    let (start, end) = match photon_times(&file)? {
        Some(range) => range,
        None => declared_times(extent.as_ref(), &file)?,
    };
    let bbox = match tracked_bbox {
        Some(bbox) => bbox,
        None => declared_bbox(extent.as_ref(), &file)?,
    };
    Ok(GranuleMetadata { short_name, version, start, end, bbox, footprint: track })
}

fn text(location: &Location, name: &str) -> Option<String> {
    crate::h5::text(location, name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

fn number(location: &Location, name: &str) -> Option<f64> {
    attr(location, name).ok().and_then(|value| value.as_number()).filter(|value| value.is_finite())
}

/// The first beam's ground track with points, and the bounding box of every beam's track.
fn along_track(file: &File) -> (Vec<[f64; 2]>, Option<[f64; 4]>) {
    let mut footprint = Vec::new();
    let mut bbox: Option<[f64; 4]> = None;
    for beam in BEAMS {
        if file.group(beam).is_err() {
            continue;
        }
        // A beam without photons (an empty subset) has no track: the next one may.
        let Ok(track) = ground_track(file, beam, FOOTPRINT_POINTS) else { continue };
        for &(lon, lat) in &track {
            bbox = Some(match bbox {
                None => [lon, lat, lon, lat],
                Some([w, s, e, n]) => [w.min(lon), s.min(lat), e.max(lon), n.max(lat)],
            });
        }
        if footprint.is_empty() {
            footprint = track.into_iter().map(|(lon, lat)| [lon, lat]).collect();
        }
    }
    (footprint, bbox)
}

/// The first and last photon time over all beams (photons are stored in time order), if any beam has photons.
fn photon_times(file: &File) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut range: Option<(f64, f64)> = None;
    for beam in BEAMS {
        let path = format!("{beam}/heights/delta_time");
        let Ok(dataset) = file.dataset(&path) else { continue };
        let n = dataset.shape().first().copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        for row in [0, n - 1] {
            let value = read_1d::<f64>(file, &path, Some(row..row + 1))?;
            let Some(&time) = value.first().filter(|t| t.is_finite() && t.abs() < 1e30) else { continue };
            range = Some(range.map_or((time, time), |(lo, hi)| (lo.min(time), hi.max(time))));
        }
    }
    Ok(range.map(|(lo, hi)| (delta_time_to_utc(lo), delta_time_to_utc(hi))))
}

fn declared_times(extent: Option<&hdf5::Group>, file: &File) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let read = |location: &Location, start: &str, end: &str| {
        Some((instant(&text(location, start)?)?, instant(&text(location, end)?)?))
    };
    extent
        .and_then(|extent| read(extent, "rangeBeginningDateTime", "rangeEndingDateTime"))
        .or_else(|| read(file, "time_coverage_start", "time_coverage_end"))
        .filter(|(start, end)| start <= end)
        .ok_or_else(|| {
            Error::Missing(
                "a time range (photon times, Metadata/Extent@rangeBeginningDateTime or time_coverage_start)".into(),
            )
        })
}

fn declared_bbox(extent: Option<&hdf5::Group>, file: &File) -> Result<[f64; 4]> {
    let read = |location: &Location, names: [&str; 4]| -> Option<[f64; 4]> {
        let [w, s, e, n] = names.map(|name| number(location, name));
        Some([w?, s?, e?, n?])
    };
    extent
        .and_then(|extent| {
            read(extent, ["westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude"])
        })
        .or_else(|| {
            read(file, ["geospatial_lon_min", "geospatial_lat_min", "geospatial_lon_max", "geospatial_lat_max"])
        })
        .filter(|[_, s, _, n]| s <= n && (-90.0..=90.0).contains(s) && (-90.0..=90.0).contains(n))
        .ok_or_else(|| {
            Error::Missing("an extent (a ground track, Metadata/Extent bounds or geospatial_lat_min…)".into())
        })
}

/// An ISO 8601 instant as the products write them (`2018-10-14T00:24:44.622561Z`; `Z` or an offset).
fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&Utc)).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|time| time.and_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/real/ATL03_gt1l.h5");

    #[test]
    fn the_real_atl03_subset_is_described_by_the_photons_it_holds() {
        let metadata = read_granule_metadata(Path::new(FIXTURE)).unwrap();
        assert_eq!((metadata.short_name.as_str(), metadata.version.as_deref()), ("ATL03", Some("006")));
        // The times the Trajectory Subsetter wrote in `Processing Parameters` for this cut (the ISO metadata
        // still gives the whole granule, 00:24:44 to 00:29:54 over 57.6..-143.5 east).
        let near = |time: DateTime<Utc>, expected: &str| {
            let expected = instant(expected).unwrap();
            assert!((time - expected).num_microseconds().unwrap().abs() <= 1, "{time} is not {expected}");
        };
        near(metadata.start, "2018-10-14T00:26:50.795463Z");
        near(metadata.end, "2018-10-14T00:27:47.682564Z");
        // The photons' extent (h5py); the segment reference photons lie within about 0.002° of it.
        let photons = [95.0679, 87.2943, 178.9990, 87.2987];
        for (got, want) in metadata.bbox.iter().zip(photons) {
            assert!((got - want).abs() < 2e-3, "{:?}", metadata.bbox);
        }
        assert!(metadata.footprint.len() > 2);
        assert!(metadata.footprint.iter().all(|[lon, lat]| (95.0..179.0).contains(lon) && *lat > 87.29));
    }

    #[test]
    fn times_parse_as_the_products_write_them() {
        for (text, expected) in [
            ("2018-10-14T00:24:44.622561Z", Some("2018-10-14T00:24:44.622561+00:00")),
            ("2023-12-12T00:00:00.000Z", Some("2023-12-12T00:00:00+00:00")),
            ("2023-12-12T00:00:00", Some("2023-12-12T00:00:00+00:00")),
            ("SET_BY_META", None),
        ] {
            assert_eq!(instant(text).map(|t| t.to_rfc3339()).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn a_file_that_is_not_hdf5_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.h5");
        std::fs::write(&path, "not HDF5").unwrap();
        let error = read_granule_metadata(&path).unwrap_err().to_string();
        assert!(error.contains("notes.h5"), "{error}");
    }
}
