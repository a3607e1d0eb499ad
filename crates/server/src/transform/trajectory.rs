//! The Harmony Trajectory Subsetter's algorithm for ATL03 (data-formats.md §1.12): segment-level time,
//! bbox and polygon selection in `/gtX/geolocation`, whole segments of photons in `/gtX/heights` through
//! `ph_index_beg` (rewritten from 1), `geophys_corr` cut like `geolocation`, time-only groups cut to the
//! beam's result time span, empty datasets and groups left out, unsubsettable groups copied whole.
//!
//! Works on whole ATL03 granules and on the real single-beam fixture. Writes one HDF5 file atomically;
//! knows nothing of HTTP or jobs.

// Selections are lists of index runs; a list holding a single run is the common, intended case.
#![allow(clippy::single_range_in_vec_init)]

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use chrono::{DateTime, Utc};
use hdf5::{Dataset, Group};

use crate::transform::selection::{bbox_runs, polygon_runs, polygons_bbox, temporal_range};
use crate::transform::{Operation, Polygon};
use harmonyql_data::chunked;
use harmonyql_data::h5::{self, copy_attrs, copy_object, copy_rows, set_text};
use harmonyql_data::time::{delta_time_to_utc, utc_to_delta_time};
use harmonyql_data::{Error, Result};

/// Harmony's message when a granule has nothing in the requested constraints (harmony-service-lib-py's
/// `NoDataException` default).
pub const NO_DATA: &str = "No data found to process";

/// Groups copied unchanged (the subsetter's configuration).
const UNSUBSETTABLE: [&str; 5] =
    ["ancillary_data", "atlas_impulse_response", "orbit_info", "quality_assessment", "METADATA"];

/// What a subset produced, for the output's STAC metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    /// `[west, south, east, north]` of the kept segments.
    pub bbox: [f64; 4],
    /// First kept time.
    pub start: DateTime<Utc>,
    /// Last kept time.
    pub end: DateTime<Utc>,
    /// Photons kept per beam.
    pub photons: Vec<(String, usize)>,
}

/// The request, resolved into `delta_time` units and normalised paths.
struct Request<'a> {
    window: Option<(f64, f64)>,
    bbox: Option<[f64; 4]>,
    shape: &'a [Polygon],
    shape_bbox: Option<[f64; 4]>,
    variables: BTreeSet<String>,
}

impl Request<'_> {
    fn is_spatial(&self) -> bool {
        self.bbox.is_some() || !self.shape.is_empty()
    }

    fn is_constrained(&self) -> bool {
        self.is_spatial() || self.window.is_some()
    }
}

/// Subsets `input` into the file `output` (written directly; the caller makes it atomic). Returns
/// `Ok(None)` when nothing matched, which the caller turns into Harmony's no-data failure.
pub fn subset(input: &Path, output: &Path, operation: &Operation) -> Result<Option<Subset>> {
    let source = hdf5::File::open(input)
        .map_err(|e| Error::Hdf5 { context: format!("opening {}", input.display()), message: e.to_string() })?;
    let window = match (operation.start, operation.end) {
        (None, None) => None,
        (start, end) => Some((start.map_or(f64::MIN, utc_to_delta_time), end.map_or(f64::MAX, utc_to_delta_time))),
    };
    let request = Request {
        window,
        bbox: operation.bbox,
        shape: &operation.shape,
        shape_bbox: polygons_bbox(&operation.shape),
        variables: operation.variables.iter().map(|v| v.trim_start_matches('/').to_string()).collect(),
    };
    let target = hdf5::File::create(output)
        .map_err(|e| Error::Hdf5 { context: format!("creating {}", output.display()), message: e.to_string() })?;
    let source_root: &Group = &source;
    let target_root: &Group = &target;
    let mut photons = Vec::new();
    let mut extent: Option<([f64; 4], f64, f64)> = None;
    let names = source_root.member_names().map_err(|e| hdf(e, "listing the root"))?;
    for name in &names {
        crate::transform::cancel::checkpoint()?;
        let Ok(group) = source_root.group(name) else {
            copy_object(source_root, name, target_root)?;
            continue;
        };
        if name.starts_with("gt") {
            if let Some(beam) = subset_beam(&group, name, target_root, &request)? {
                photons.push((name.clone(), beam.n_photons));
                extent = Some(match extent {
                    None => (beam.bbox, beam.t_min, beam.t_max),
                    Some((b, t0, t1)) => (
                        [
                            b[0].min(beam.bbox[0]),
                            b[1].min(beam.bbox[1]),
                            b[2].max(beam.bbox[2]),
                            b[3].max(beam.bbox[3]),
                        ],
                        t0.min(beam.t_min),
                        t1.max(beam.t_max),
                    ),
                });
            }
        } else if UNSUBSETTABLE.contains(&name.as_str()) {
            let needed =
                request.variables.is_empty() || matches!(name.as_str(), "METADATA" | "ancillary_data" | "orbit_info");
            if needed {
                copy_object(source_root, name, target_root)?;
            }
        } else {
            copy_object(source_root, name, target_root)?;
        }
    }
    let Some((bbox, t_min, t_max)) = extent else {
        return Ok(None);
    };
    copy_attrs(source_root, target_root)?;
    let file_name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    set_text(target_root, "Processing Parameters", &processing_parameters(&file_name, target_root, operation)?)?;
    let history_name = if source_root.attr("History").is_ok() { "History" } else { "history" };
    let previous = h5::text(source_root, history_name).map(|h| format!("{h}\n")).unwrap_or_default();
    set_text(
        target_root,
        history_name,
        &format!(
            "{previous}{} Harmony Trajectory Subsetter (HarmonyQL local) {}",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
            history_json(operation)
        ),
    )?;
    h5::attach_atl03_scales(&target)?;
    target.close().map_err(|e| hdf(e, "closing the output"))?;
    Ok(Some(Subset { bbox, start: delta_time_to_utc(t_min), end: delta_time_to_utc(t_max), photons }))
}

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

struct BeamResult {
    n_photons: usize,
    bbox: [f64; 4],
    t_min: f64,
    t_max: f64,
}

fn read_f64(group: &Group, name: &str) -> Result<Vec<f64>> {
    let dataset = group.dataset(name).map_err(|_| Error::Missing(format!("{}/{name}", group.name())))?;
    Ok(chunked::read_vec::<f64>(&dataset, None)?.0)
}

/// Selects segment runs of one beam's geolocation group.
fn segment_runs(geolocation: &Group, request: &Request<'_>) -> Result<Vec<Range<usize>>> {
    let times = read_f64(geolocation, "delta_time")?;
    let range = match request.window {
        Some((start, end)) => temporal_range(&times, start, end),
        None => 0..times.len(),
    };
    if !request.is_spatial() {
        return Ok(if range.is_empty() { Vec::new() } else { vec![range] });
    }
    let lats = read_f64(geolocation, "reference_photon_lat")?;
    let lons = read_f64(geolocation, "reference_photon_lon")?;
    let mut runs = match request.bbox {
        Some(bbox) => bbox_runs(&lons, &lats, range, bbox),
        None => vec![range],
    };
    if let Some(shape_bbox) = request.shape_bbox {
        runs = runs.into_iter().flat_map(|run| bbox_runs(&lons, &lats, run, shape_bbox)).collect();
        runs = polygon_runs(&lons, &lats, &runs, request.shape);
    }
    Ok(runs)
}

/// Photon ranges for segment runs by forward reference through `ph_index_beg` (1-based; 0 = no photons):
/// from the first photon of the run's first non-empty segment to the photon before the next non-empty
/// segment after the run (or the end of the granule). `segment_ph_cnt` is deliberately not used.
pub fn photon_runs(ph_index_beg: &[i64], segment_runs: &[Range<usize>], n_photons: usize) -> Vec<Range<usize>> {
    segment_runs
        .iter()
        .filter_map(|run| {
            let first = run.clone().find_map(|i| (ph_index_beg[i] > 0).then(|| ph_index_beg[i] as usize - 1))?;
            let next = ph_index_beg[run.end..].iter().find(|&&p| p > 0).map_or(n_photons, |&p| p as usize - 1);
            (next > first).then_some(first..next.min(n_photons))
        })
        .collect()
}

/// `ph_index_beg` of the kept segments, renumbered from 1 across the kept photon ranges (0 stays 0).
pub fn rewrite_ph_index_beg(
    ph_index_beg: &[i64],
    segment_runs: &[Range<usize>],
    photon_runs: &[Range<usize>],
) -> Vec<i64> {
    let mut out = Vec::new();
    let mut kept_before = 0_i64;
    let mut photon_iter = photon_runs.iter();
    for run in segment_runs {
        let has_photons = run.clone().any(|i| ph_index_beg[i] > 0);
        let photon_start = if has_photons { photon_iter.next().map_or(0, |r| r.start as i64) } else { 0 };
        for i in run.clone() {
            let old = ph_index_beg[i];
            out.push(if old > 0 { old - photon_start + kept_before } else { 0 });
        }
        if has_photons && let Some(range) = photon_runs.iter().find(|r| r.start as i64 == photon_start) {
            kept_before += range.len() as i64;
        }
    }
    out
}

fn subset_beam(beam: &Group, name: &str, target_root: &Group, request: &Request<'_>) -> Result<Option<BeamResult>> {
    let Ok(geolocation) = beam.group("geolocation") else {
        return Ok(None);
    };
    let n_segments = geolocation.dataset("delta_time").map(|d| d.shape().first().copied().unwrap_or(0)).unwrap_or(0);
    let seg_runs = segment_runs(&geolocation, request)?;
    let ph_index_beg =
        geolocation.dataset("ph_index_beg").map_err(|e| hdf(e, &format!("reading {name}/geolocation/ph_index_beg")))?;
    let ph_index_beg: Vec<i64> = chunked::read_vec::<i64>(&ph_index_beg, None)?.0;
    let heights = beam.group("heights").ok();
    let n_photons = heights
        .as_ref()
        .and_then(|h| h.dataset("delta_time").ok())
        .map_or(0, |d| d.shape().first().copied().unwrap_or(0));
    let ph_runs = photon_runs(&ph_index_beg, &seg_runs, n_photons);
    let new_ph_index_beg = rewrite_ph_index_beg(&ph_index_beg, &seg_runs, &ph_runs);

    // The kept extent and time span of this beam, from the kept segments and photons.
    let seg_times = read_f64(&geolocation, "delta_time")?;
    let mut times: Vec<f64> = seg_runs.iter().flat_map(|r| seg_times[r.clone()].iter().copied()).collect();
    if let Some(heights) = &heights
        && let (Some(first), Some(last)) = (ph_runs.iter().map(|r| r.start).min(), ph_runs.iter().map(|r| r.end).max())
    {
        // Only the photons between the first and last kept ones are decoded (the writer decodes them again).
        let dataset =
            heights.dataset("delta_time").map_err(|_| Error::Missing(format!("{}/delta_time", heights.name())))?;
        let photon_times = chunked::read_vec::<f64>(&dataset, Some(first..last))?.0;
        times.extend(ph_runs.iter().flat_map(|r| photon_times[r.start - first..r.end - first].iter().copied()));
    }
    if times.is_empty() {
        return Ok(None);
    }
    let t_min = times.iter().copied().fold(f64::MAX, f64::min);
    let t_max = times.iter().copied().fold(f64::MIN, f64::max);
    let lats = read_f64(&geolocation, "reference_photon_lat")?;
    let lons = read_f64(&geolocation, "reference_photon_lon")?;
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for i in seg_runs.iter().flat_map(Clone::clone) {
        if lats[i].abs() <= 90.0 && lons[i].abs() <= 180.0 {
            bbox = [bbox[0].min(lons[i]), bbox[1].min(lats[i]), bbox[2].max(lons[i]), bbox[3].max(lats[i])];
        }
    }
    // Time-only groups: the request's window if it has one, else the beam's kept time span.
    let time_window = match request.window {
        Some(window) if !request.is_spatial() => window,
        _ if request.is_constrained() => (t_min, t_max),
        _ => (f64::MIN, f64::MAX),
    };

    let mut writer = BeamWriter { target_root, beam_name: name, request, written: 0 };
    let mut groups = Vec::new();
    h5::collect_groups(beam, &mut groups)?;
    for group in &groups {
        let relative = group.name().trim_start_matches('/').to_string();
        let leaf = relative.rsplit('/').next().unwrap_or_default().to_string();
        for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
            crate::transform::cancel::checkpoint()?;
            let dataset_name = dataset.name().rsplit('/').next().unwrap_or_default().to_string();
            let rows: Option<Vec<Range<usize>>> = match leaf.as_str() {
                "geolocation" | "geophys_corr" => (first_len(&dataset) == Some(n_segments)).then(|| seg_runs.clone()),
                "heights" => (first_len(&dataset) == Some(n_photons)).then(|| ph_runs.clone()),
                _ => time_rows(group, &dataset, time_window)?,
            };
            let rewritten = (leaf == "geolocation" && dataset_name == "ph_index_beg").then_some(&new_ph_index_beg);
            writer.write(group, &relative, &dataset, &dataset_name, rows.as_deref(), rewritten)?;
        }
    }
    if writer.written == 0 {
        return Ok(None);
    }
    if let Ok(target_beam) = target_root.group(name) {
        copy_attrs(beam, &target_beam)?;
    }
    let kept_photons = ph_runs.iter().map(ExactSizeIterator::len).sum();
    Ok(Some(BeamResult { n_photons: kept_photons, bbox, t_min, t_max }))
}

fn first_len(dataset: &Dataset) -> Option<usize> {
    dataset.shape().first().copied()
}

/// Rows of a time-only group's dataset inside `window`, or `None` (copy whole) when its length is not
/// the group's time coordinate length.
fn time_rows(group: &Group, dataset: &Dataset, window: (f64, f64)) -> Result<Option<Vec<Range<usize>>>> {
    let Ok(time) = group.dataset("delta_time") else {
        return Ok(None);
    };
    let n_time = time.shape().first().copied().unwrap_or(0);
    if first_len(dataset) != Some(n_time) || window == (f64::MIN, f64::MAX) {
        return Ok(None);
    }
    let times = chunked::read_vec::<f64>(&time, None)?.0;
    let range = temporal_range(&times, window.0, window.1);
    Ok(Some(if range.is_empty() { Vec::new() } else { vec![range] }))
}

struct BeamWriter<'a> {
    target_root: &'a Group,
    beam_name: &'a str,
    request: &'a Request<'a>,
    written: usize,
}

impl BeamWriter<'_> {
    fn wanted(&self, group: &Group, relative_group: &str, dataset_name: &str) -> bool {
        if self.request.variables.is_empty() {
            return true;
        }
        let path = format!("{relative_group}/{dataset_name}");
        if self.request.variables.contains(&path)
            || dataset_name == "delta_time"
                && self.request.variables.iter().any(|v| v.starts_with(&format!("{relative_group}/")))
        {
            return true;
        }
        // Supporting variables: those named in the `coordinates` of a requested sibling.
        self.request.variables.iter().filter_map(|v| v.strip_prefix(&format!("{relative_group}/"))).any(|sibling| {
            group
                .dataset(sibling)
                .ok()
                .and_then(|d| h5::text(&d, "coordinates"))
                .is_some_and(|coords| coords.split([' ', ',']).any(|c| c == dataset_name))
        })
    }

    fn write(
        &mut self,
        group: &Group,
        relative_group: &str,
        dataset: &Dataset,
        dataset_name: &str,
        rows: Option<&[Range<usize>]>,
        rewritten: Option<&Vec<i64>>,
    ) -> Result<()> {
        if !self.wanted(group, relative_group, dataset_name) {
            return Ok(());
        }
        let selected = rows.map(|r| r.iter().map(ExactSizeIterator::len).sum::<usize>());
        if selected == Some(0) || dataset.size() == 0 {
            // Empty datasets are not written, so emptied groups and beams disappear.
            return Ok(());
        }
        let target_group = self.ensure_group(group, relative_group)?;
        match rows {
            Some(rows) => {
                let out = copy_rows(dataset, &target_group, dataset_name, rows)?;
                if let Some(values) = rewritten {
                    out.write(values.as_slice()).map_err(|e| hdf(e, "rewriting ph_index_beg"))?;
                }
            }
            // A whole dataset is copied row by row rather than with H5Ocopy, whose copy would keep
            // dimension-scale references into the input file and break the scales attached later.
            None => match dataset.shape().first() {
                Some(&rows) => {
                    copy_rows(dataset, &target_group, dataset_name, &[0..rows])?;
                }
                None => copy_object(group, dataset_name, &target_group)?,
            },
        }
        self.written += 1;
        Ok(())
    }

    /// Creates `relative` (and its parents) in the output with the source groups' attributes.
    fn ensure_group(&self, source: &Group, relative: &str) -> Result<Group> {
        if let Ok(existing) = self.target_root.group(relative) {
            return Ok(existing);
        }
        let mut path = String::new();
        let mut current = self.target_root.clone();
        for part in relative.split('/') {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
            current = match self.target_root.group(&path) {
                Ok(group) => group,
                Err(_) => {
                    let created = current.create_group(part).map_err(|e| hdf(e, &format!("creating {path}")))?;
                    if path != self.beam_name
                        && let Ok(file) = source.file()
                        && let Ok(source_group) = file.group(&path)
                    {
                        copy_attrs(&source_group, &created)?;
                    }
                    created
                }
            };
        }
        Ok(current)
    }
}

fn processing_parameters(file_name: &str, target_root: &Group, operation: &Operation) -> Result<String> {
    let mut text = format!(
        "This file was generated by the ICESat-2 Service version 1.0, which performed the following operations on {file_name}\nExtracted the datasets named:\n"
    );
    let mut groups = Vec::new();
    h5::collect_groups(target_root, &mut groups)?;
    for group in groups {
        for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
            text.push_str(&dataset.name());
            text.push('\n');
        }
    }
    if let Some([w, s, e, n]) = operation.bbox {
        text.push_str(&format!("within the spatial constraint defined by the bounding box ({w}, {s}, {e}, {n})\n"));
    }
    if !operation.shape.is_empty() {
        text.push_str(&format!("within the spatial constraint defined by {} polygon(s)\n", operation.shape.len()));
    }
    if operation.start.is_some() || operation.end.is_some() {
        let show = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()).unwrap_or_default();
        text.push_str(&format!(
            "within the temporal constraints defined by ({}, {})\n",
            show(operation.start),
            show(operation.end)
        ));
    }
    Ok(text)
}

fn history_json(operation: &Operation) -> String {
    let bbox = operation.bbox.map_or(serde_json::Value::Null, |b| serde_json::json!(b));
    let shape = if operation.shape.is_empty() { serde_json::Value::Null } else { serde_json::json!(operation.shape) };
    let time = match (operation.start, operation.end) {
        (None, None) => serde_json::Value::Null,
        (s, e) => serde_json::json!(format!(
            "{}, {}",
            s.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()).unwrap_or_default(),
            e.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()).unwrap_or_default()
        )),
    };
    let variables =
        if operation.variables.is_empty() { "All variables.".to_string() } else { operation.variables.join(",") };
    serde_json::json!([bbox, shape, time, variables]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photons_follow_whole_segments_and_indices_restart_at_one() {
        // Segments: counts 2, 0, 3, 1, 2 → ph_index_beg 1, 0, 3, 6, 7; 8 photons.
        let pib = [1, 0, 3, 6, 7];
        let runs = [1..3, 4..5];
        let photons = photon_runs(&pib, &runs, 8);
        assert_eq!(photons, [2..5, 6..8]);
        assert_eq!(rewrite_ph_index_beg(&pib, &runs, &photons), [0, 1, 4]);
        // A run reaching the end of the granule takes the photons to the end.
        assert_eq!(photon_runs(&pib, &[3..5], 8), [5..8]);
        // Runs of photonless segments select no photons.
        assert_eq!(photon_runs(&pib, &[1..2], 8), Vec::<Range<usize>>::new());
    }

    /// The subsetter reads through `chunked`; on a generated six-beam granule (the ATL03 layouts: 1-D and
    /// 2-D photon and segment arrays, gzip, shuffled integers, partial last chunks) every dataset it
    /// decodes must equal HDF5's own read, bit for bit.
    #[test]
    fn a_generated_granule_decodes_in_parallel_as_hdf5_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("granule.h5");
        let track = crate::sample::atl03_tracks().into_iter().next().unwrap();
        crate::sample::atl03::write(&track, &path, 1).unwrap();
        let file = hdf5::File::open(&path).unwrap();
        let mut groups = Vec::new();
        h5::collect_groups(&file, &mut groups).unwrap();
        let (mut decoded, mut photons) = (0, 0);
        for group in groups {
            for dataset in group.datasets().unwrap() {
                let Some(fast) = chunked::read_parallel::<f64>(&dataset, None).unwrap() else { continue };
                let ordinary = chunked::read_ordinary::<f64>(&dataset, None).unwrap();
                assert_eq!(fast.shape(), ordinary.shape(), "{}", dataset.name());
                assert!(fast.iter().zip(&ordinary).all(|(a, b)| a.to_bits() == b.to_bits()), "{}", dataset.name());
                decoded += 1;
                if dataset.name().ends_with("heights/h_ph") {
                    photons += dataset.shape()[0];
                }
            }
        }
        assert!(decoded > 60, "only {decoded} datasets took the fast path");
        assert!(photons > 10_000, "{photons} photons: too few to span several chunks");
    }
}
