//! `export`: a group's datasets as CSV (one row per index of its 1-D datasets, streamed in bounded
//! chunks), and ATL03 ground tracks as GeoJSON (one decimated LineString per beam). Both written
//! atomically. Knows the ATLAS `delta_time` convention (a `time_utc` column follows it); nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};

use hdf5::{Dataset, File};

use crate::time::delta_time_to_utc;
use crate::variable::{self, CHUNK_ROWS, label, read_rows};
use crate::{Error, Result, atl03, h5, write_atomically};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file written.
    pub path: PathBuf,
    /// Data rows (CSV) or features (GeoJSON).
    pub rows: u64,
    /// Columns (CSV) or beams (GeoJSON).
    pub columns: usize,
}

/// 2-D datasets with at most this many columns (such as `signal_conf_ph`, one column per surface type)
/// are exported as one CSV column each; wider ones are not tabular data.
const MAX_COLUMNS_2D: usize = 8;

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// One CSV column source: a dataset and, for 2-D datasets, the column index.
struct Column {
    dataset: Dataset,
    width: usize,
    header: Vec<String>,
    is_time: bool,
}

/// The columns of `group`: its numeric datasets with `rows` rows (1-D, or 2-D up to
/// [`MAX_COLUMNS_2D`] wide), `delta_time` first.
fn columns(group: &hdf5::Group, rows: usize) -> Result<Vec<Column>> {
    let mut out = Vec::new();
    for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
        let shape = dataset.shape();
        let width = match shape.as_slice() {
            [n] if *n == rows => 1,
            [n, w] if *n == rows && *w <= MAX_COLUMNS_2D => *w,
            _ => continue,
        };
        if !variable::is_numeric(&dataset) {
            continue;
        }
        let name = variable::leaf(&dataset.name()).to_owned();
        let units = h5::text(&dataset, "units");
        let header = if shape.len() == 1 {
            vec![label(&name, units.as_deref())]
        } else {
            (0..width).map(|i| label(&format!("{name}[{i}]"), units.as_deref())).collect()
        };
        let is_time = name == "delta_time";
        out.push(Column { dataset, width, header, is_time });
    }
    out.sort_by_key(|column| !column.is_time);
    Ok(out)
}

/// The number of rows a group's table has: that of its `delta_time`, else the most common length of its
/// 1-D numeric datasets.
fn table_rows(group: &hdf5::Group) -> Result<Option<usize>> {
    if let Ok(time) = group.dataset("delta_time")
        && time.ndim() == 1
    {
        return Ok(time.shape().first().copied());
    }
    let mut counts: std::collections::BTreeMap<usize, usize> = Default::default();
    for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
        if dataset.ndim() == 1 && variable::is_numeric(&dataset) {
            *counts.entry(dataset.shape()[0]).or_default() += 1;
        }
    }
    Ok(counts.into_iter().max_by_key(|(len, count)| (*count, *len)).map(|(len, _)| len))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// Writes the 1-D (and narrow 2-D) numeric datasets of `group` in the HDF5 file `source` to `out` as CSV:
/// a header of dataset names with units, then one row per index, fill values as empty cells, and a
/// `time_utc` column after `delta_time` (seconds since the ATLAS epoch). Reads [`CHUNK_ROWS`] rows at a
/// time, so memory stays bounded whatever the file's size.
pub fn csv(source: &Path, group: &str, out: &Path) -> Result<Exported> {
    csv_chunked(source, group, out, CHUNK_ROWS)
}

/// [`csv`] with a chosen chunk length (tests use small ones to cross chunk edges).
pub fn csv_chunked(source: &Path, group: &str, out: &Path, chunk_rows: usize) -> Result<Exported> {
    let file = File::open(source).map_err(|e| hdf(e, &format!("opening {}", source.display())))?;
    let group_path = group.trim_matches('/');
    let handle = file
        .group(if group_path.is_empty() { "/" } else { group_path })
        .map_err(|_| Error::Missing(format!("group {group_path}")))?;
    let rows = table_rows(&handle)?
        .ok_or_else(|| Error::Invalid(format!("group {group_path} has no 1-D numeric datasets to export")))?;
    let columns = columns(&handle, rows)?;
    let mut header: Vec<String> = Vec::new();
    for column in &columns {
        header.extend(column.header.iter().map(|h| csv_field(h)));
        if column.is_time {
            header.push("time_utc".to_owned());
        }
    }
    let n_columns = header.len();
    write_atomically(out, |temporary| {
        let handle = std::fs::File::create(temporary).map_err(io(temporary))?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, handle);
        writeln!(writer, "{}", header.join(",")).map_err(io(temporary))?;
        let mut start = 0;
        let mut line = String::new();
        while start < rows {
            let end = (start + chunk_rows.max(1)).min(rows);
            let chunks: Vec<Vec<f64>> =
                columns.iter().map(|column| read_rows(&column.dataset, start..end)).collect::<Result<_>>()?;
            for row in 0..end - start {
                line.clear();
                for (column, values) in columns.iter().zip(&chunks) {
                    for i in 0..column.width {
                        let value = values[row * column.width + i];
                        line.push(',');
                        if value.is_finite() {
                            line.push_str(&value.to_string());
                        }
                    }
                    if column.is_time {
                        line.push(',');
                        if values[row].is_finite() {
                            line.push_str(&delta_time_to_utc(values[row]).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
                        }
                    }
                }
                // Every cell was written with a leading comma; the first one must not keep it.
                writeln!(writer, "{}", &line[1.min(line.len())..]).map_err(io(temporary))?;
            }
            start = end;
        }
        writer.flush().map_err(io(temporary))?;
        Ok(())
    })?;
    Ok(Exported { path: out.to_path_buf(), rows: rows as u64, columns: n_columns })
}

/// Writes the ground tracks of every beam (or only `beam`) of the ATL03 files `sources` to `out` as a
/// GeoJSON FeatureCollection: one LineString per beam, about `max_points` points, with properties
/// granule, beam, strength, photons, start and end (UTC).
pub fn tracks_geojson(sources: &[PathBuf], beam: Option<&str>, out: &Path, max_points: usize) -> Result<Exported> {
    let mut features = Vec::new();
    for source in sources {
        let file = File::open(source).map_err(|e| hdf(e, &format!("opening {}", source.display())))?;
        let mut beams: Vec<String> = file
            .member_names()
            .map_err(|e| hdf(e, "listing the root"))?
            .into_iter()
            .filter(|name| name.starts_with("gt") && beam.is_none_or(|b| b == name))
            .collect();
        beams.sort();
        for name in beams {
            let points = atl03::ground_track(&file, &name, max_points)?;
            if points.len() < 2 {
                continue;
            }
            let strength = file.group(&name).ok().and_then(|g| h5::text(&g, "atlas_beam_type"));
            let times = file.dataset(&format!("{name}/heights/delta_time")).ok();
            let photons = times.as_ref().and_then(|t| t.shape().first().copied()).unwrap_or(0);
            let at = |row: usize| -> Option<String> {
                let dataset = times.as_ref()?;
                let value = read_rows(dataset, row..row + 1).ok()?.first().copied()?;
                value.is_finite().then(|| delta_time_to_utc(value).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
            };
            let (start, end) = if photons > 0 { (at(0), at(photons - 1)) } else { (None, None) };
            let granule = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let coordinates: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x, y]).collect();
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "granule": granule,
                    "beam": name,
                    "strength": strength,
                    "photons": photons,
                    "start": start,
                    "end": end,
                },
                "geometry": { "type": "LineString", "coordinates": coordinates },
            }));
        }
    }
    if features.is_empty() {
        return Err(Error::Invalid("there are no ATL03 ground tracks in the file(s)".into()));
    }
    let count = features.len();
    let collection = serde_json::json!({ "type": "FeatureCollection", "features": features });
    write_atomically(out, |temporary| {
        let handle = std::fs::File::create(temporary).map_err(io(temporary))?;
        let mut writer = std::io::BufWriter::new(handle);
        serde_json::to_writer(&mut writer, &collection).map_err(|e| Error::Invalid(format!("writing GeoJSON: {e}")))?;
        writer.flush().map_err(io(temporary))
    })?;
    Ok(Exported { path: out.to_path_buf(), rows: count as u64, columns: count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5")
    }

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("hq-export-{}-{name}", std::process::id()))
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("h_ph (m)"), "h_ph (m)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn the_heights_group_exports_whatever_the_chunk_length() {
        let whole = scratch("whole.csv");
        let chunked = scratch("chunked.csv");
        let written = csv_chunked(&fixture(), "gt1l/heights", &whole, CHUNK_ROWS).unwrap();
        csv_chunked(&fixture(), "/gt1l/heights/", &chunked, 7).unwrap();
        let text = std::fs::read_to_string(&whole).unwrap();
        assert_eq!(text, std::fs::read_to_string(&chunked).unwrap());
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(&header[..2], ["delta_time (seconds since 2018-01-01)", "time_utc"], "{header:?}");
        assert!(header.contains(&"h_ph (meters)") && header.contains(&"signal_conf_ph[2] (1)"), "{header:?}");
        assert_eq!(written.rows, 2909);
        assert_eq!(lines.clone().count(), 2909);
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(first.len(), header.len());
        assert_eq!(first[1], "2018-10-14T00:26:50.795463Z");
        for path in [whole, chunked] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn a_missing_group_is_an_error_and_writes_nothing() {
        let out = scratch("missing.csv");
        assert!(matches!(csv(&fixture(), "gt9x/heights", &out), Err(Error::Missing(_))));
        assert!(!out.exists());
    }

    #[test]
    fn tracks_export_as_one_linestring_per_beam() {
        let out = scratch("tracks.geojson");
        let written = tracks_geojson(&[fixture()], None, &out, 100).unwrap();
        assert_eq!(written.rows, 1);
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let feature = &json["features"][0];
        assert_eq!(feature["properties"]["beam"], "gt1l");
        assert_eq!(feature["properties"]["photons"], 2909);
        let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
        assert!(coordinates.len() >= 2 && coordinates.len() <= 102, "{}", coordinates.len());
        let _ = std::fs::remove_file(out);
    }
}
