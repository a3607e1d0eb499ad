//! `open`, `plot` and `export`: local files (paths, or names bound to downloads) read with `data`, drawn
//! with `plot`, written with `data::export`; and the request areas of jobs for track maps.
//!
//! Reading and drawing are blocking; a cell that plots waits for it.

use std::path::{Path, PathBuf};

use crate::data::atl03::{self, SurfaceType};
use crate::data::ease_grid::{self, M09, M36};
use crate::data::export::{self, Exported};
use crate::data::smap::{self, Placement};
use crate::data::summary::{self, GroupNode, Summary};
use crate::data::time::delta_time_to_utc;
use crate::data::{geotiff, h5, variable};
use crate::eval::error::{EvalError, EvalResult};
use crate::lang::query::{ExportFormat, ExportQuery, OpenQuery, PlotKind, PlotQuery, Spatial, SubsetQuery};
use crate::plot::{
    DEFAULT_SIZE, Figure, Histogram, PhotonDensity, RasterMap, Series, Track, TrackMap, coastlines_in, quantile_range,
    render,
};

/// The summary of one file, limited to `group` when given.
pub fn open_file(path: &Path, query: &OpenQuery) -> EvalResult<Summary> {
    let summary = summary::open(path).map_err(EvalError::data(format!("cannot open {}", path.display())))?;
    let Some(group) = &query.group else { return Ok(summary) };
    match summary {
        Summary::Hdf5 { path, root, beams } => {
            let node = find_group(&root, group.trim_matches('/'))
                .ok_or_else(|| EvalError::Unusable(format!("{} has no group {group}", path.display())))?
                .clone();
            let beam = group.trim_matches('/').split('/').next().unwrap_or_default();
            let beams = beams.into_iter().filter(|b| b.beam == beam).collect();
            Ok(Summary::Hdf5 { path, root: GroupNode { name: group.trim_matches('/').to_owned(), ..node }, beams })
        }
        Summary::GeoTiff { path, .. } => {
            Err(EvalError::Unusable(format!("{} is a GeoTIFF: it has no groups", path.display())))
        }
    }
}

fn find_group<'a>(node: &'a GroupNode, path: &str) -> Option<&'a GroupNode> {
    if path.is_empty() {
        return Some(node);
    }
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    node.groups.iter().find(|g| g.name == first).and_then(|g| find_group(g, rest))
}

/// A closed ring or a line of `(lon, lat)` points: one piece of a request's area.
pub type Ring = Vec<(f64, f64)>;

/// What a file is, as far as choosing a plot goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    GeoTiff,
    Atl03,
    Smap,
    Hdf5,
}

fn file_kind(path: &Path) -> EvalResult<FileKind> {
    let mut head = [0_u8; 8];
    {
        use std::io::Read;
        let context = || format!("cannot read {}", path.display());
        let mut file = std::fs::File::open(path).map_err(EvalError::io(context()))?;
        // A file shorter than the magic numbers is simply not a GeoTIFF; HDF5 then says what it is.
        file.read(&mut head).map_err(EvalError::io(context()))?;
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") || head.starts_with(b"II+\0") {
        return Ok(FileKind::GeoTiff);
    }
    let file = open_hdf5(path)?;
    let names = file.member_names().unwrap_or_default();
    if names.iter().any(|name| name.starts_with("gt") && file.group(&format!("{name}/heights")).is_ok()) {
        return Ok(FileKind::Atl03);
    }
    let is_smap = variable::numeric_paths(&file, 2)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| file.dataset(p).ok())
        .any(|d| matches!(d.shape().as_slice(), [r, c] if (*r, *c) == (M36.rows, M36.cols) || (*r, *c) == (M09.rows, M09.cols)))
        // A subset keeps only a window of the grid, but keeps its row index (1-D in L2, 2-D in L3).
        || [1, 2].into_iter().any(|rank| {
            variable::numeric_paths(&file, rank).unwrap_or_default().iter().any(|p| p.ends_with("/EASE_row_index"))
        });
    Ok(if is_smap { FileKind::Smap } else { FileKind::Hdf5 })
}

fn open_hdf5(path: &Path) -> EvalResult<hdf5::File> {
    hdf5::File::open(path).map_err(EvalError::hdf5(format!("cannot open {}", path.display())))
}

/// The kind `plot` draws when none is named: photons for ATL03, a raster map for SMAP and GeoTIFF, and
/// for a chosen 1-D variable a time series when it has a time axis, a histogram otherwise.
fn default_kind(path: &Path, kind: FileKind, query: &PlotQuery) -> EvalResult<PlotKind> {
    Ok(match (kind, &query.variable) {
        (FileKind::GeoTiff, _) => PlotKind::Raster,
        (FileKind::Smap, _) => PlotKind::Raster,
        (FileKind::Atl03, None) => PlotKind::Photons,
        (_, Some(var)) => {
            let file = open_hdf5(path)?;
            if variable::time_axis(&file, var).is_some() { PlotKind::Series } else { PlotKind::Histogram }
        }
        (FileKind::Hdf5, None) => {
            let file = open_hdf5(path)?;
            return Err(EvalError::Unusable(format!(
                "say which variable to plot, e.g. `plot histogram FILE var \"{}\"`",
                example_path(&file)
            )));
        }
    })
}

fn example_path(file: &hdf5::File) -> String {
    variable::numeric_paths(file, 1)
        .ok()
        .and_then(|paths| paths.into_iter().next())
        .unwrap_or_else(|| "GROUP/NAME".into())
}

/// Draws the plot asked for: photons for ATL03 files, a raster map for SMAP and GeoTIFFs, unless a kind
/// is given.
pub fn plot_file(path: &Path, query: &PlotQuery) -> EvalResult<Figure> {
    plot_files(&[path.to_path_buf()], query, &[])
}

/// Draws the plot asked for from `paths` (a track map draws every file; other kinds the first), with
/// `areas` (closed `(lon, lat)` rings of the request that produced the files) on track maps.
pub fn plot_files(paths: &[PathBuf], query: &PlotQuery, areas: &[Ring]) -> EvalResult<Figure> {
    if query.kind == Some(PlotKind::Track) {
        return track(paths, areas);
    }
    let path = paths.first().ok_or_else(|| EvalError::Unusable("there are no files to plot".to_owned()))?;
    let kind = file_kind(path)?;
    let plot_kind = match query.kind {
        Some(chosen) => chosen,
        None => default_kind(path, kind, query)?,
    };
    let name = short_title(&file_name(path));
    match (plot_kind, kind) {
        (PlotKind::Raster, FileKind::GeoTiff) => raster(path, &name),
        (_, FileKind::GeoTiff) => Err(EvalError::Unusable(format!(
            "{name} is a GeoTIFF: `plot raster` draws it (photons, histograms and series need an HDF5 file)"
        ))),
        (PlotKind::Photons, FileKind::Atl03) => photons(path, &name, query),
        (PlotKind::Photons, _) => {
            Err(EvalError::Unusable(format!("{name} is not an ATL03 file: it has no beams with photons")))
        }
        (PlotKind::Raster, FileKind::Smap) => smap_raster(path, &name, query),
        (PlotKind::Raster, _) => Err(EvalError::Unusable(format!(
            "{name} has no EASE-Grid variables: `plot raster` draws SMAP files and GeoTIFFs; try `plot histogram`"
        ))),
        (PlotKind::Histogram | PlotKind::Series, _) => one_d(path, &name, kind, plot_kind, query),
        (PlotKind::Track, _) => track(paths, areas),
        (PlotKind::Granules, _) => Err(EvalError::Unusable(
            "`plot granules` draws a `granules` result: `found = granules ATL03 …` then `plot granules found`"
                .to_owned(),
        )),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The beam to show when none is named: the first strong beam with photons, else any with photons.
fn default_beam(file: &hdf5::File) -> Option<String> {
    let mut beams: Vec<(String, bool)> = file
        .member_names()
        .unwrap_or_default()
        .into_iter()
        .filter(|name| name.starts_with("gt"))
        .filter(|name| file.dataset(&format!("{name}/heights/h_ph")).is_ok_and(|d| d.size() > 0))
        .map(|name| {
            let strong =
                file.group(&name).ok().and_then(|g| h5::text(&g, "atlas_beam_type")).as_deref() == Some("strong");
            (name, strong)
        })
        .collect();
    beams.sort();
    beams.iter().find(|(_, strong)| *strong).or(beams.first()).map(|(name, _)| name.clone())
}

/// A histogram or time series of one numeric variable (ATL03 files default to the photon heights).
fn one_d(path: &Path, name: &str, kind: FileKind, plot_kind: PlotKind, query: &PlotQuery) -> EvalResult<Figure> {
    let file = open_hdf5(path)?;
    let var = match (&query.variable, kind) {
        (Some(var), _) => var.trim_start_matches('/').to_owned(),
        (None, FileKind::Atl03) => {
            let beam = match &query.beam {
                Some(beam) => beam.clone(),
                None => default_beam(&file)
                    .ok_or_else(|| EvalError::Unusable(format!("{name} has no beams with photons")))?,
            };
            format!("{beam}/heights/h_ph")
        }
        (None, _) => {
            return Err(EvalError::Unusable(format!(
                "say which variable to plot, e.g. `var \"{}\"`",
                example_path(&file)
            )));
        }
    };
    let read = variable::read(&file, &var).map_err(|error| match error {
        crate::data::Error::Missing(_) => {
            EvalError::Unusable(format!("{name} has no variable {var}; e.g. `var \"{}\"`", example_path(&file)))
        }
        other => EvalError::data(name)(other),
    })?;
    let title = format!("{name} — {var}");
    if plot_kind == PlotKind::Histogram {
        let finite = read.values.iter().filter(|v| v.is_finite()).count();
        let bins = ((finite as f64).sqrt().round() as usize).clamp(10, 80);
        return render(&Histogram { title, x_label: read.label(), values: read.values, bins }, DEFAULT_SIZE)
            .map_err(EvalError::plot(var));
    }
    if read.shape.len() != 1 {
        return Err(EvalError::Unusable(format!(
            "`plot series` needs a 1-D variable; {var} has shape {:?}",
            read.shape
        )));
    }
    let (x, x_label, time_origin) = match variable::time_axis(&file, &var) {
        Some(time) => {
            let times = variable::read(&file, &time).map_err(EvalError::data(name))?.values;
            let first = times.iter().copied().find(|t| t.is_finite()).unwrap_or(0.0);
            let origin = delta_time_to_utc(first);
            let x = times.iter().map(|t| t - first).collect();
            (x, format!("time (UTC, {})", origin.format("%Y-%m-%d")), Some(origin))
        }
        None => ((0..read.values.len()).map(|i| i as f64).collect(), "index".to_owned(), None),
    };
    let series = Series { title, x_label, y_label: read.label(), x, y: read.values, time_origin };
    render(&series, DEFAULT_SIZE).map_err(EvalError::plot(var))
}

/// The SMAP variable to map when none is named: soil moisture when there is one, else the first.
fn default_smap_variable(file: &hdf5::File, name: &str) -> EvalResult<String> {
    let variables = smap::data_variables(file).map_err(EvalError::data(name))?;
    let preferred = ["soil_moisture", "sm_surface", "nee_mean"];
    preferred
        .iter()
        .find_map(|want| variables.iter().find(|v| variable::leaf(v) == *want))
        .or(variables.first())
        .cloned()
        .ok_or_else(|| EvalError::Unusable(format!("{name}: the file has no SMAP data variables")))
}

/// A SMAP variable on its EASE-Grid 2.0 (EPSG:6933) cells, cropped to the cells that hold data.
fn smap_raster(path: &Path, name: &str, query: &PlotQuery) -> EvalResult<Figure> {
    let file = open_hdf5(path)?;
    let var = match &query.variable {
        Some(var) => var.trim_start_matches('/').to_owned(),
        None => default_smap_variable(&file, name)?,
    };
    let read = smap::read_variable(&file, &var).map_err(EvalError::data(format!("{name} {var}")))?;
    let grid = read.placement.grid();
    let mut cells = vec![f64::NAN; grid.rows * grid.cols];
    let is_valid = |v: f64| !variable::is_missing(v, read.fill);
    match &read.placement {
        Placement::Grid(_) => {
            for (cell, value) in cells.iter_mut().zip(&read.values) {
                if is_valid(*value) {
                    *cell = *value;
                }
            }
        }
        Placement::Swath { rows, cols, .. } => {
            for ((row, col), value) in rows.iter().zip(cols).zip(&read.values) {
                if *row < grid.rows && *col < grid.cols && is_valid(*value) {
                    cells[row * grid.cols + col] = *value;
                }
            }
        }
    }
    // Crop to the data with a margin of two cells, so regional subsets fill the map.
    let valid = cells.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, _)| (i / grid.cols, i % grid.cols));
    let (r0, r1, c0, c1) = valid
        .fold(None, |acc: Option<(usize, usize, usize, usize)>, (r, c)| {
            Some(acc.map_or((r, r, c, c), |(a, b, x, y)| (a.min(r), b.max(r), x.min(c), y.max(c))))
        })
        .ok_or_else(|| EvalError::Unusable(format!("{name} {var}: every cell is fill")))?;
    let (r0, r1) = (r0.saturating_sub(2), (r1 + 2).min(grid.rows - 1));
    let (c0, c1) = (c0.saturating_sub(2), (c1 + 2).min(grid.cols - 1));
    let (rows, columns) = (r1 - r0 + 1, c1 - c0 + 1);
    let values = (r0..=r1).flat_map(|r| cells[r * grid.cols + c0..=r * grid.cols + c1].iter().copied()).collect();
    // Kilometres read better than eight-digit metres on the axes.
    let (west, north) = (ease_grid::X0 + c0 as f64 * grid.cell, ease_grid::Y0 - r0 as f64 * grid.cell);
    let (east, south) = (west + columns as f64 * grid.cell, north - rows as f64 * grid.cell);
    let extent = [west / 1e3, south / 1e3, east / 1e3, north / 1e3];
    let map = RasterMap {
        title: format!("{name} — {var}"),
        units: read.units.clone().unwrap_or_default(),
        x_label: format!("x (km, EASE-Grid 2.0 {}, EPSG:6933)", grid.name),
        y_label: "y (km, EPSG:6933)".to_owned(),
        columns,
        rows,
        values,
        extent,
        overlay: coastlines_in(extent, ease_km),
    };
    render(&map, DEFAULT_SIZE).map_err(EvalError::plot(format!("{name} {var}")))
}

/// EASE-Grid 2.0 (EPSG:6933) coordinates in kilometres.
fn ease_km(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = ease_grid::forward(lon, lat);
    (x / 1e3, y / 1e3)
}

/// Ground tracks of every ATL03 beam in `paths` with the request's areas, over coastlines.
fn track(paths: &[PathBuf], areas: &[Ring]) -> EvalResult<Figure> {
    let mut tracks = Vec::new();
    for path in paths {
        if file_kind(path)? != FileKind::Atl03 {
            continue;
        }
        let file = open_hdf5(path)?;
        let mut beams: Vec<String> =
            file.member_names().unwrap_or_default().into_iter().filter(|n| n.starts_with("gt")).collect();
        beams.sort();
        for beam in beams {
            let points = atl03::ground_track(&file, &beam, TRACK_POINTS)
                .map_err(EvalError::data(format!("{} {beam}", file_name(path))))?;
            if points.is_empty() {
                continue;
            }
            let strength = file.group(&beam).ok().and_then(|g| h5::text(&g, "atlas_beam_type"));
            let strong = strength.as_deref() == Some("strong");
            let name = match strength {
                Some(strength) => format!("{beam} ({strength})"),
                None => beam.clone(),
            };
            tracks.push(Track { name, strong, points });
        }
    }
    if tracks.is_empty() && areas.is_empty() {
        return Err(EvalError::Unusable("there are no ATL03 tracks to draw and no request area".to_owned()));
    }
    let title = match paths {
        [one] => format!("{} — ground tracks", short_title(&file_name(one))),
        many => format!("ground tracks of {} granules", many.len()),
    };
    render(&TrackMap { title, tracks, areas: areas.to_vec() }, DEFAULT_SIZE).map_err(EvalError::plot("the track map"))
}

/// A name for a figure, used by the CLI for its file names: the file (or job) and the kind, beam or
/// variable that tell plots of one file apart.
pub fn figure_name(paths: &[PathBuf], query: &PlotQuery) -> String {
    let mut name = match paths {
        [one] => file_name(one),
        [] => "request".to_owned(),
        many => format!("{}_and_{}_more", file_name(&many[0]), many.len() - 1),
    };
    if let Some(kind) = query.kind {
        name = format!("{name}_{}", PlotKind::NAMES[kind as usize]);
    }
    for part in [&query.beam, &query.variable].into_iter().flatten() {
        name = format!("{name}_{}", part.trim_matches('/').replace('/', "-"));
    }
    name
}

/// Writes `export`'s file: CSV of a group of the first file (an ATL03 beam's `heights` by default), or
/// GeoJSON ground tracks of every file. The second value warns when files were left out.
pub fn export_files(paths: &[PathBuf], query: &ExportQuery) -> EvalResult<(Exported, Option<String>)> {
    let out = PathBuf::from(&query.to);
    match query.format {
        ExportFormat::GeoJson => {
            let exported = export::tracks_geojson(paths, query.beam.as_deref(), &out, TRACK_POINTS)
                .map_err(EvalError::data(format!("cannot export to {}", out.display())))?;
            Ok((exported, None))
        }
        ExportFormat::Csv => {
            let path = paths.first().ok_or_else(|| EvalError::Unusable("there are no files to export".to_owned()))?;
            let name = file_name(path);
            if file_kind(path)? == FileKind::GeoTiff {
                return Err(EvalError::Unusable(format!("{name} is a GeoTIFF: CSV export reads HDF5 groups")));
            }
            let group = match (&query.group, &query.beam) {
                (Some(group), _) => group.clone(),
                (None, Some(beam)) => format!("{beam}/heights"),
                (None, None) => {
                    let file = open_hdf5(path)?;
                    match default_beam(&file) {
                        Some(beam) => format!("{beam}/heights"),
                        None => {
                            return Err(EvalError::Unusable(format!(
                                "say which group of {name} to export, e.g. `export \"{}\" group {} to \"{}\"`",
                                path.display(),
                                example_path(&file).rsplit_once('/').map_or("/", |(group, _)| group),
                                query.to
                            )));
                        }
                    }
                }
            };
            let exported = export::csv(path, &group, &out).map_err(EvalError::data(format!("cannot export {name}")))?;
            let warning = (paths.len() > 1).then(|| {
                format!("exported the first of {} files ({name}); name a single file to export another", paths.len())
            });
            Ok((exported, warning))
        }
    }
}

/// Points per beam on a track map: enough for a smooth line at any zoom a plot shows.
const TRACK_POINTS: usize = 2000;

/// The area a subset request asked for, as closed `(lon, lat)` rings: its bounding box (split at the
/// antimeridian), its WKT polygons, lines or points, or the polygons of its GeoJSON, KML or shapefile shape file.
pub fn request_areas(subset: &SubsetQuery) -> Vec<Ring> {
    let mut rings = Vec::new();
    match &subset.spatial {
        Some(Spatial::BBox(bbox)) => {
            let (w, s, e, n) = (bbox.west.value, bbox.south.value, bbox.east.value, bbox.north.value);
            let boxed = |w: f64, e: f64| vec![(w, s), (e, s), (e, n), (w, n), (w, s)];
            if w <= e {
                rings.push(boxed(w, e));
            } else {
                rings.push(boxed(w, 180.0));
                rings.push(boxed(-180.0, e));
            }
        }
        Some(Spatial::Wkt(wkt)) => {
            rings.extend(wkt.geometry.lines().into_iter().map(|line| line.into_iter().map(|[x, y]| (x, y)).collect()))
        }
        None => {}
    }
    // The request was checked when it was sent; a shape file changed or gone since only loses its outline.
    if let Some(shape) = &subset.shape
        && let Ok(bytes) = std::fs::read(&shape.path)
        && let Ok(polygons) = crate::shape::parse(&bytes, &shape.mime)
    {
        let as_ring = |ring: Vec<[f64; 2]>| ring.into_iter().map(|[lon, lat]| (lon, lat)).collect();
        rings.extend(polygons.into_iter().flatten().map(as_ring));
    }
    rings
}

/// Rings of every array of `[x, y]` positions under a GeoJSON value (features, geometries, polygons).
fn photons(path: &Path, name: &str, query: &PlotQuery) -> EvalResult<Figure> {
    let file = open_hdf5(path)?;
    let beam = match &query.beam {
        Some(beam) => beam.clone(),
        None => {
            default_beam(&file).ok_or_else(|| EvalError::Unusable(format!("{name} has no ATL03 beams with photons")))?
        }
    };
    let context = |error: crate::data::Error| EvalError::data(format!("{name} {beam}"))(error);
    let reader = PhotonReader::open(&file, &beam).map_err(context)?;
    let surface = match query.surface.as_deref() {
        Some(surface) => surface.parse::<SurfaceType>().map_err(context)?,
        // Without a surface, take the first one whose confidence was computed for these photons.
        None => reader.first_classified_surface().map_err(context)?.unwrap_or(SurfaceType::Land),
    };
    let by = query.by.as_deref().unwrap_or("latitude");
    let min_confidence = query.confidence.map_or(0, |c| c as i8);

    // First pass: the x range and a bounded sample of heights for the robust vertical range.
    let stride = reader.len().div_ceil(HEIGHT_SAMPLE).max(1);
    let (mut x_range, mut signal, mut all) = (None::<(f64, f64)>, Vec::new(), Vec::new());
    let mut seen = 0usize;
    reader
        .for_each(surface, by, |x, h, c| {
            if !(x.is_finite() && h.is_finite()) || c < min_confidence {
                return;
            }
            x_range = Some(x_range.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
            if seen.is_multiple_of(stride) {
                all.push(h);
                if c >= 2 {
                    signal.push(h);
                }
            }
            seen += 1;
        })
        .map_err(context)?;
    let x_range = x_range.ok_or_else(|| {
        EvalError::Unusable(format!("{name} {beam}: no photons at confidence {min_confidence} or above"))
    })?;
    let x_range = if x_range.0 < x_range.1 { x_range } else { (x_range.0 - 0.5, x_range.1 + 0.5) };
    let h_range = quantile_range(signal.into_iter(), 0.002, 0.998)
        .or_else(|| quantile_range(all.into_iter(), 0.01, 0.99))
        .unwrap_or((0.0, 1.0));

    // Second pass: bin every photon.
    let strength = file.group(&beam).ok().and_then(|g| h5::text(&g, "atlas_beam_type"));
    let title = match strength {
        Some(strength) => format!("{name} {beam} ({strength}) — {} confidence", surface_name(surface)),
        None => format!("{name} {beam} — {} confidence", surface_name(surface)),
    };
    let x_label = match by {
        "time" => "time since the first photon (s)",
        "distance" => "along-track distance (km)",
        _ => "latitude (°)",
    };
    let mut density = PhotonDensity::new(&title, x_label, x_range, h_range, DEFAULT_SIZE);
    reader
        .for_each(surface, by, |x, h, c| {
            if c >= min_confidence {
                density.add(x, h, c);
            }
        })
        .map_err(context)?;
    render(&density, DEFAULT_SIZE).map_err(EvalError::plot(format!("{name} {beam}")))
}

/// Heights kept to find the vertical range: enough for stable 0.2% quantiles, bounded memory.
const HEIGHT_SAMPLE: usize = 1 << 19;

fn surface_name(surface: SurfaceType) -> &'static str {
    match surface {
        SurfaceType::Land => "land",
        SurfaceType::Ocean => "ocean",
        SurfaceType::SeaIce => "sea ice",
        SurfaceType::LandIce => "land ice",
        SurfaceType::InlandWater => "inland water",
    }
}

/// Reads one beam's photons in bounded chunks: x (latitude, along-track distance or time), height and
/// the confidence for one surface.
struct PhotonReader {
    lat: hdf5::Dataset,
    lon: hdf5::Dataset,
    time: hdf5::Dataset,
    height: hdf5::Dataset,
    confidence: hdf5::Dataset,
    len: usize,
}

impl PhotonReader {
    fn open(file: &hdf5::File, beam: &str) -> crate::data::Result<Self> {
        let open = |name: &str| variable::dataset(file, &format!("{beam}/heights/{name}"));
        let height = open("h_ph")?;
        let len = height.shape().first().copied().unwrap_or(0);
        Ok(Self {
            lat: open("lat_ph")?,
            lon: open("lon_ph")?,
            time: open("delta_time")?,
            height,
            confidence: open("signal_conf_ph")?,
            len,
        })
    }

    fn len(&self) -> usize {
        self.len
    }

    fn confidence_rows(&self, surface: SurfaceType, rows: std::ops::Range<usize>) -> crate::data::Result<Vec<i8>> {
        let column = surface.column();
        // All five columns through the parallel chunk decoder, then one taken: selecting the column in
        // HDF5 would inflate every chunk on one thread under its lock (most of a plot's time).
        let (values, shape) = crate::data::chunked::read_vec::<i8>(&self.confidence, Some(rows))?;
        match shape.as_slice() {
            [_, columns] if column < *columns => Ok(values.chunks_exact(*columns).map(|row| row[column]).collect()),
            _ => Err(crate::data::Error::Invalid(format!(
                "signal_conf_ph has shape {shape:?}; expected a column for each of the five surface types"
            ))),
        }
    }

    /// The first surface type (land, land ice, sea ice, ocean, inland water) with any photon classified.
    fn first_classified_surface(&self) -> crate::data::Result<Option<SurfaceType>> {
        use SurfaceType::*;
        for surface in [Land, LandIce, SeaIce, Ocean, InlandWater] {
            let mut start = 0;
            while start < self.len {
                let end = (start + variable::CHUNK_ROWS).min(self.len);
                if self.confidence_rows(surface, start..end)?.iter().any(|c| *c >= 0) {
                    return Ok(Some(surface));
                }
                start = end;
            }
        }
        Ok(None)
    }

    /// Calls `each(x, height, confidence)` for every photon in order.
    fn for_each(&self, surface: SurfaceType, by: &str, mut each: impl FnMut(f64, f64, i8)) -> crate::data::Result<()> {
        let (mut first_time, mut previous, mut distance) = (None::<f64>, None::<(f64, f64)>, 0.0);
        let mut start = 0;
        while start < self.len {
            let end = (start + variable::CHUNK_ROWS).min(self.len);
            let heights = variable::read_rows(&self.height, start..end)?;
            let confidence = self.confidence_rows(surface, start..end)?;
            let x: Vec<f64> = match by {
                "time" => {
                    let times = variable::read_rows(&self.time, start..end)?;
                    let origin =
                        *first_time.get_or_insert_with(|| times.iter().copied().find(|t| t.is_finite()).unwrap_or(0.0));
                    times.iter().map(|t| t - origin).collect()
                }
                "distance" => {
                    let lat = variable::read_rows(&self.lat, start..end)?;
                    let lon = variable::read_rows(&self.lon, start..end)?;
                    lat.iter()
                        .zip(&lon)
                        .map(|(&la, &lo)| {
                            if la.is_finite() && lo.is_finite() {
                                if let Some((pla, plo)) = previous {
                                    distance += great_circle_km(pla, plo, la, lo);
                                }
                                previous = Some((la, lo));
                                distance
                            } else {
                                f64::NAN
                            }
                        })
                        .collect()
                }
                _ => variable::read_rows(&self.lat, start..end)?,
            };
            for ((x, h), c) in x.iter().zip(&heights).zip(&confidence) {
                each(*x, *h, *c);
            }
            start = end;
        }
        Ok(())
    }
}

/// Great-circle distance between two points, in kilometres (haversine on the mean Earth radius).
fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dlat = p2 - p1;
    let dlon = (lon2 - lon1).to_radians();
    let a = (dlat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
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

fn raster(path: &Path, name: &str) -> EvalResult<Figure> {
    let raster = geotiff::read(path).map_err(EvalError::data(format!("cannot read {name}")))?;
    let values: Vec<f64> = (0..raster.pixels.len())
        .map(|i| raster.pixels.get(i).unwrap_or(f64::NAN))
        .map(|v| if raster.nodata.is_some_and(|nodata| v == nodata) { f64::NAN } else { v })
        .collect();
    let [x0, dx, _, y0, _, dy] = raster.transform;
    let (west, north) = (x0, y0);
    let (east, south) = (x0 + dx * raster.width as f64, y0 + dy * raster.height as f64);
    let extent = [west, south.min(north), east, north.max(south)];
    let (x_label, y_label, overlay) = match raster.epsg {
        4326 => ("longitude (°)".to_owned(), "latitude (°)".to_owned(), coastlines_in(extent, |lon, lat| (lon, lat))),
        6933 => (
            "x (m, EASE-Grid 2.0, EPSG:6933)".to_owned(),
            "y (m, EPSG:6933)".to_owned(),
            coastlines_in(extent, ease_grid::forward),
        ),
        epsg => (format!("x (m, EPSG:{epsg})"), format!("y (m, EPSG:{epsg})"), Vec::new()),
    };
    let map = RasterMap {
        title: name.to_owned(),
        units: String::new(),
        x_label,
        y_label,
        columns: raster.width,
        rows: raster.height,
        values,
        extent,
        overlay,
    };
    render(&map, DEFAULT_SIZE).map_err(EvalError::plot(name))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5")
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
