//! `open` and `plot`: local files (paths, or names bound to downloads) read with `data` and drawn with `plot`.
//!
//! Reading and drawing are blocking; a cell that plots waits for it.

use std::path::Path;

use crate::data::atl03::{self, SurfaceType};
use crate::data::geotiff;
use crate::data::summary::{self, GroupNode, Summary};
use crate::lang::query::{OpenQuery, PlotKind, PlotQuery};
use crate::plot::{DEFAULT_SIZE, Figure, PhotonCloud, RasterMap, render};

/// The summary of one file, limited to `group` when given.
pub fn open_file(path: &Path, query: &OpenQuery) -> Result<Summary, String> {
    let summary = summary::open(path).map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    let Some(group) = &query.group else { return Ok(summary) };
    match summary {
        Summary::Hdf5 { path, root, beams } => {
            let node = find_group(&root, group.trim_matches('/'))
                .ok_or_else(|| format!("{} has no group {group}", path.display()))?
                .clone();
            let beam = group.trim_matches('/').split('/').next().unwrap_or_default();
            let beams = beams.into_iter().filter(|b| b.beam == beam).collect();
            Ok(Summary::Hdf5 { path, root: GroupNode { name: group.trim_matches('/').to_owned(), ..node }, beams })
        }
        Summary::GeoTiff { path, .. } => Err(format!("{} is a GeoTIFF: it has no groups", path.display())),
    }
}

fn find_group<'a>(node: &'a GroupNode, path: &str) -> Option<&'a GroupNode> {
    if path.is_empty() {
        return Some(node);
    }
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    node.groups.iter().find(|g| g.name == first).and_then(|g| find_group(g, rest))
}

/// Draws the plot asked for: photons for ATL03 files, a raster map for GeoTIFFs, unless a kind is given.
pub fn plot_file(path: &Path, query: &PlotQuery) -> Result<Figure, String> {
    let is_tiff = std::fs::read(path)
        .map(|bytes| bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*"))
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let kind = query.kind.unwrap_or(if is_tiff { PlotKind::Raster } else { PlotKind::Photons });
    let name = short_title(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    match kind {
        PlotKind::Photons => photons(path, &name, query),
        PlotKind::Raster if is_tiff => raster(path, &name),
        other => Err(format!(
            "`plot {}` is not available for {name} yet: photon clouds of ATL03 files and raster maps of GeoTIFFs are",
            PlotKind::NAMES[other as usize]
        )),
    }
}

fn photons(path: &Path, name: &str, query: &PlotQuery) -> Result<Figure, String> {
    let file = hdf5::File::open(path).map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    let beams = atl03::beams(&file).map_err(|error| error.to_string())?;
    let beam = match &query.beam {
        Some(beam) => beam.clone(),
        None => beams
            .iter()
            .find(|b| b.strength.as_deref() == Some("strong") && b.n_photons > 0)
            .or(beams.iter().find(|b| b.n_photons > 0))
            .map(|b| b.beam.clone())
            .ok_or_else(|| format!("{name} has no ATL03 beams with photons"))?,
    };
    let surfaces = match query.surface.as_deref() {
        Some("land") => vec![SurfaceType::Land],
        Some("ocean") => vec![SurfaceType::Ocean],
        Some("sea_ice") => vec![SurfaceType::SeaIce],
        Some("land_ice") => vec![SurfaceType::LandIce],
        Some("inland_water") => vec![SurfaceType::InlandWater],
        _ => vec![
            SurfaceType::Land,
            SurfaceType::LandIce,
            SurfaceType::SeaIce,
            SurfaceType::Ocean,
            SurfaceType::InlandWater,
        ],
    };
    // Without a surface, take the first one whose confidence was computed for these photons.
    let mut chosen = None;
    for surface in surfaces {
        let read =
            atl03::read_photons(&file, &beam, surface, None).map_err(|error| format!("{name} {beam}: {error}"))?;
        let classified = read.confidence.iter().any(|c| *c >= 0);
        if classified || chosen.is_none() {
            chosen = Some(read);
        }
        if classified {
            break;
        }
    }
    let photons = chosen.ok_or_else(|| format!("{name} {beam}: no photons"))?;
    let (x, x_label) = match query.by.as_deref() {
        Some("time") => {
            let first = photons.delta_time.first().copied().unwrap_or(0.0);
            (photons.delta_time.iter().map(|t| t - first).collect(), "time since the first photon (s)".to_owned())
        }
        Some("distance") => (along_track_km(&photons.lat, &photons.lon), "along-track distance (km)".to_owned()),
        _ => (photons.lat.clone(), "latitude (°)".to_owned()),
    };
    let cloud = PhotonCloud {
        title: format!("{name} {beam}"),
        x_label,
        x,
        height: photons.h.iter().map(|h| f64::from(*h)).collect(),
        confidence: photons.confidence.clone(),
        min_confidence: query.confidence.map_or(0, |c| c as i8),
    };
    render(&cloud, DEFAULT_SIZE).map_err(|error| error.to_string())
}

/// File names of Harmony outputs run long; keep titles to a width a plot can show.
fn short_title(name: &str) -> String {
    const MAX: usize = 64;
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= MAX {
        return name.to_owned();
    }
    let head: String = chars[..MAX / 2 - 1].iter().collect();
    let tail: String = chars[chars.len() - (MAX / 2 - 1)..].iter().collect();
    format!("{head}…{tail}")
}

/// Cumulative great-circle distance along the photons, in kilometres.
fn along_track_km(lat: &[f64], lon: &[f64]) -> Vec<f64> {
    let mut total = 0.0;
    let mut out = Vec::with_capacity(lat.len());
    for i in 0..lat.len() {
        if i > 0 {
            let (p1, p2) = (lat[i - 1].to_radians(), lat[i].to_radians());
            let dlat = p2 - p1;
            let dlon = (lon[i] - lon[i - 1]).to_radians();
            let a = (dlat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlon / 2.0).sin().powi(2);
            total += 2.0 * 6371.0088 * a.sqrt().asin();
        }
        out.push(total);
    }
    out
}

fn raster(path: &Path, name: &str) -> Result<Figure, String> {
    let raster = geotiff::read(path).map_err(|error| format!("cannot read {name}: {error}"))?;
    let values: Vec<f64> = (0..raster.pixels.len())
        .map(|i| raster.pixels.get(i).unwrap_or(f64::NAN))
        .map(|v| if raster.nodata.is_some_and(|nodata| v == nodata) { f64::NAN } else { v })
        .collect();
    let [x0, dx, _, y0, _, dy] = raster.transform;
    let (west, north) = (x0, y0);
    let (east, south) = (x0 + dx * raster.width as f64, y0 + dy * raster.height as f64);
    let (x_label, y_label) = if raster.epsg == 4326 {
        ("longitude (°)".to_owned(), "latitude (°)".to_owned())
    } else {
        (format!("x (m, EPSG:{})", raster.epsg), format!("y (m, EPSG:{})", raster.epsg))
    };
    let map = RasterMap {
        title: name.to_owned(),
        units: String::new(),
        x_label,
        y_label,
        columns: raster.width,
        rows: raster.height,
        values,
        extent: [west, south.min(north), east, north.max(south)],
    };
    render(&map, DEFAULT_SIZE).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/real/ATL03_gt1l.h5")
    }

    #[test]
    fn open_limits_the_tree_to_a_group() {
        let query =
            OpenQuery { target: crate::lang::query::Target::Path(String::new()), group: Some("gt1l/heights".into()) };
        let text = open_file(&fixture(), &query).unwrap().to_string();
        assert!(text.contains("h_ph"), "{text}");
        assert!(!text.contains("reference_photon_lat"), "{text}");
    }

    #[test]
    fn plot_picks_photons_and_a_classified_surface() {
        let query = PlotQuery {
            kind: None,
            target: crate::lang::query::Target::Path(String::new()),
            group: None,
            beam: None,
            by: Some("distance".into()),
            confidence: None,
            surface: None,
            variable: None,
        };
        let figure = plot_file(&fixture(), &query).unwrap();
        assert!(figure.svg.contains("ATL03_gt1l.h5 gt1l") && figure.svg.contains("along-track distance (km)"));
    }
}
