//! What `open` found, as a MIME bundle: an xarray-like HTML view (a collapsible `<details>` tree of groups;
//! datasets with shape, dtype, units and long_name; attributes; the ATL03 beam table; a GeoTIFF's size,
//! CRS, transform, nodata and statistics) with the text tree as `text/plain`. Every file-supplied string
//! is escaped; no JavaScript. Must not read files: it renders a [`Summary`] it is given.

use std::fmt::Write as _;

use crate::data::atl03::BeamSummary;
use crate::data::geotiff::Raster;
use crate::data::h5::AttrValue;
use crate::data::summary::{DatasetNode, GroupNode, Summary};
use crate::output::{MimeBundle, escape_html};

/// Groups with more members than this start closed, so a large file opens on a readable page.
const OPEN_LIMIT: usize = 12;

/// Attribute values longer than this are cut in the HTML view (the full value is in a tooltip).
const VALUE_LIMIT: usize = 160;

const STYLE: &str = "<style>\
.hq-open{font-family:var(--jp-code-font-family,monospace);font-size:12.5px;line-height:1.45}\
.hq-open summary{cursor:pointer}\
.hq-open .hq-group>summary{font-weight:600}\
.hq-open ul{list-style:none;margin:0;padding-left:1.4em}\
.hq-open .hq-ds{display:grid;grid-template-columns:minmax(10em,max-content) minmax(8em,max-content) 6em 1fr;gap:0 1em}\
.hq-open .hq-dim{color:#666}\
.hq-open .hq-units{color:#0a6b3d}\
.hq-open .hq-attrs{color:#555;margin:0 0 0.3em 1.4em}\
.hq-open table{border-collapse:collapse;margin:0.4em 0}\
.hq-open td,.hq-open th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
</style>";

/// The bundle for an opened file: HTML view and text tree.
///
/// ```
/// use harmonyql::data::summary::{GroupNode, Summary};
/// let summary = Summary::Hdf5 {
///     path: "a<b>.h5".into(),
///     root: GroupNode { name: "/".into(), attrs: vec![], groups: vec![], datasets: vec![] },
///     beams: vec![],
/// };
/// let bundle = harmonyql::output::data::summary(&summary);
/// let html = bundle.get("text/html").and_then(|v| v.as_str()).unwrap();
/// assert!(html.contains("a&lt;b&gt;.h5") && !html.contains("<script"));
/// ```
pub fn summary(summary: &Summary) -> MimeBundle {
    MimeBundle::text(summary.to_string()).with_html(html(summary))
}

/// The HTML view alone.
pub fn html(summary: &Summary) -> String {
    let mut out = String::from(STYLE);
    out.push_str("<div class=\"hq-open\">");
    match summary {
        Summary::Hdf5 { path, root, beams } => {
            let _ = write!(out, "<div><b>HDF5</b> {}</div>", escape_html(&path.display().to_string()));
            if !beams.is_empty() {
                beam_table(&mut out, beams);
            }
            group(&mut out, root, true);
        }
        Summary::GeoTiff { path, raster } => {
            let _ = write!(out, "<div><b>GeoTIFF</b> {}</div>", escape_html(&path.display().to_string()));
            geotiff(&mut out, raster);
        }
    }
    out.push_str("</div>");
    out
}

fn beam_table(out: &mut String, beams: &[BeamSummary]) {
    out.push_str(
        "<table><tr><th>beam</th><th>strength</th><th>photons</th><th>segments</th><th>start (UTC)</th>\
         <th>end (UTC)</th><th>latitude</th><th>longitude</th></tr>",
    );
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()).unwrap_or_default()
    };
    let range = |r: Option<(f64, f64)>| r.map(|(a, b)| format!("{a:.4} … {b:.4}")).unwrap_or_default();
    for beam in beams {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&beam.beam),
            escape_html(beam.strength.as_deref().unwrap_or("?")),
            beam.n_photons,
            beam.n_segments,
            time(beam.start),
            time(beam.end),
            range(beam.lat_range),
            range(beam.lon_range),
        );
    }
    out.push_str("</table>");
}

fn members(group: &GroupNode) -> usize {
    group.groups.len() + group.datasets.len()
}

fn group(out: &mut String, node: &GroupNode, is_root: bool) {
    let open = if is_root || members(node) <= OPEN_LIMIT { " open" } else { "" };
    let name = if is_root { node.name.clone() } else { format!("{}/", node.name) };
    let _ = write!(
        out,
        "<details class=\"hq-group\"{open}><summary>{} <span class=\"hq-dim\">({} groups, {} datasets)</span></summary>",
        escape_html(&name),
        node.groups.len(),
        node.datasets.len()
    );
    attributes(out, &node.attrs);
    out.push_str("<ul>");
    for dataset_node in &node.datasets {
        out.push_str("<li>");
        dataset(out, dataset_node);
        out.push_str("</li>");
    }
    for child in &node.groups {
        out.push_str("<li>");
        group(out, child, false);
        out.push_str("</li>");
    }
    out.push_str("</ul></details>");
}

fn dataset(out: &mut String, node: &DatasetNode) {
    let shape: Vec<String> = node.shape.iter().map(ToString::to_string).collect();
    let shape = if shape.is_empty() { "scalar".to_owned() } else { format!("({})", shape.join(", ")) };
    let _ = write!(
        out,
        "<details><summary class=\"hq-ds\"><span><b>{}</b></span><span class=\"hq-dim\">{}</span><span>{}</span>\
         <span><span class=\"hq-units\">{}</span> {}</span></summary>",
        escape_html(&node.name),
        escape_html(&shape),
        escape_html(&node.dtype),
        escape_html(node.units.as_deref().unwrap_or("")),
        escape_html(node.long_name.as_deref().unwrap_or("")),
    );
    attributes(out, &node.attrs);
    out.push_str("</details>");
}

fn attributes(out: &mut String, attrs: &[(String, AttrValue)]) {
    if attrs.is_empty() {
        return;
    }
    out.push_str("<div class=\"hq-attrs\">");
    for (name, value) in attrs {
        let full = match value {
            AttrValue::Text(text) => text.clone(),
            other => other.to_string(),
        };
        let shown = if full.chars().count() > VALUE_LIMIT {
            format!("{}…", full.chars().take(VALUE_LIMIT).collect::<String>())
        } else {
            full.clone()
        };
        let _ = write!(
            out,
            "<div><span class=\"hq-dim\">{} :</span> <span title=\"{}\">{}</span></div>",
            escape_html(name),
            escape_html(&full),
            escape_html(&shown)
        );
    }
    out.push_str("</div>");
}

fn geotiff(out: &mut String, raster: &Raster) {
    let [x0, dx, rx, y0, ry, dy] = raster.transform;
    let mut rows = vec![
        ("size", format!("{} × {} pixels", raster.width, raster.height)),
        ("CRS", format!("EPSG:{}", raster.epsg)),
        ("transform", format!("x = {x0} + {dx}·col + {rx}·row, y = {y0} + {ry}·col + {dy}·row")),
        ("nodata", raster.nodata.map_or_else(|| "none".to_owned(), |v| v.to_string())),
    ];
    match raster.statistics() {
        Some(stats) => rows.push((
            "statistics",
            format!("{} valid; min {}, max {}, mean {:.6}", stats.n_valid, stats.min, stats.max, stats.mean),
        )),
        None => rows.push(("statistics", "no valid pixels".to_owned())),
    }
    out.push_str("<table>");
    for (name, value) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", escape_html(name), escape_html(&value));
    }
    out.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::geotiff::Pixels;

    fn fixture() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5")
    }

    #[test]
    fn the_real_fixture_opens_as_a_tree_with_a_beam_table() {
        let summary = crate::data::summary::open(&fixture()).unwrap();
        let bundle = super::summary(&summary);
        let html = bundle.get("text/html").and_then(|v| v.as_str()).unwrap();
        for expected in ["<table><tr><th>beam</th>", "<td>gt1l</td>", "<b>h_ph</b>", "(2909)", "<details", "hq-units"] {
            assert!(html.contains(expected), "the HTML lacks {expected:?}");
        }
        assert!(!html.contains("<script"));
        assert_eq!(html.matches("<details").count(), html.matches("</details>").count());
        assert!(bundle.text_plain().contains("h_ph"));
    }

    #[test]
    fn file_text_is_escaped_everywhere() {
        let evil = "<img src=x onerror=alert(1)>";
        let root = GroupNode {
            name: "/".into(),
            attrs: vec![(evil.into(), AttrValue::Text(evil.into()))],
            groups: vec![GroupNode { name: evil.into(), attrs: vec![], groups: vec![], datasets: vec![] }],
            datasets: vec![DatasetNode {
                name: evil.into(),
                shape: vec![3],
                dtype: "f32".into(),
                units: Some(evil.into()),
                long_name: Some(evil.into()),
                attrs: vec![],
            }],
        };
        let html = html(&Summary::Hdf5 { path: evil.into(), root, beams: vec![] });
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }

    #[test]
    fn a_geotiff_shows_size_crs_transform_nodata_and_statistics() {
        let raster = Raster {
            width: 2,
            height: 1,
            pixels: Pixels::F32(vec![0.25, -9999.0]),
            epsg: 4326,
            transform: [-93.0, 0.5, 0.0, 45.0, 0.0, -0.5],
            nodata: Some(-9999.0),
        };
        let html = html(&Summary::GeoTiff { path: "sm.tif".into(), raster: Box::new(raster) });
        for expected in ["2 × 1 pixels", "EPSG:4326", "x = -93 + 0.5·col", "-9999", "1 valid; min 0.25"] {
            assert!(html.contains(expected), "the HTML lacks {expected:?}: {html}");
        }
    }
}
