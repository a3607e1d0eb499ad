//! What `collections` and `granules` found, rendered: aligned text, an HTML table, and the results as
//! `application/json`.
//!
//! Collections: short name, version, concept ID, title, time range, cloud-hosted, services. Granules: the
//! count (CMR-Hits), the total size, then the first rows with name, start, stop, size and links.

use std::fmt::Write as _;

use crate::api::cmr::{CollectionEntry, GranuleEntry};
use crate::harmony::cmr::{CollectionResults, GranuleResults};
use crate::output::{MimeBundle, escape_html};

/// Bytes as people read them: `512 B`, `1.5 KiB`, `4.0 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

fn time_range(start: Option<&str>, end: Option<&str>) -> String {
    let day = |time: Option<&str>| time.map(|t| t.get(..10).unwrap_or(t).to_owned());
    match (day(start), day(end)) {
        (Some(start), Some(end)) => format!("{start} .. {end}"),
        (Some(start), None) => format!("{start} .. ongoing"),
        (None, Some(end)) => format!(".. {end}"),
        (None, None) => String::new(),
    }
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
    short.push('…');
    short
}

fn services(entry: &CollectionEntry) -> usize {
    entry.associations.as_ref().map_or(0, |a| a.services.len())
}

fn shown(listed: usize, hits: u64, what: &str) -> String {
    if listed as u64 >= hits { format!("{hits} {what}") } else { format!("{hits} {what}, the first {listed} listed") }
}

/// The collections as aligned columns, then the count.
pub fn collections_text(results: &CollectionResults) -> String {
    let rows: Vec<[String; 7]> = results
        .collections
        .iter()
        .map(|c| {
            [
                c.short_name.clone(),
                c.version_id.clone(),
                c.id.clone(),
                shorten(&c.title, 50),
                time_range(c.time_start.as_deref(), c.time_end.as_deref()),
                if c.cloud_hosted { "yes" } else { "no" }.to_owned(),
                services(c).to_string(),
            ]
        })
        .collect();
    let header = ["short name", "version", "concept ID", "title", "time", "cloud", "services"].map(str::to_owned);
    let mut text = table(&header, &rows);
    text.push_str(&shown(results.collections.len(), results.hits, "collection(s)"));
    text
}

/// The granules: the count and size first, then the listed rows.
pub fn granules_text(results: &GranuleResults) -> String {
    let mut text = format!("{}: {}\n", results.collection, granule_summary(results));
    let rows: Vec<[String; 5]> = results
        .granules
        .iter()
        .map(|g| {
            [
                g.title.clone(),
                g.time_start.clone().unwrap_or_default(),
                g.time_end.clone().unwrap_or_default(),
                g.size_bytes().map(human_bytes).unwrap_or_else(|| "?".to_owned()),
                g.data_links().collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    if !rows.is_empty() {
        text.push_str(&table(&["name", "start", "stop", "size", "links"].map(str::to_owned), &rows));
    }
    text.trim_end().to_owned()
}

/// `2 granule(s), 8.0 GiB in all` or `5000 granule(s), the first 10 listed, about 40.0 GiB in all`.
pub fn granule_summary(results: &GranuleResults) -> String {
    let mut summary = shown(results.granules.len(), results.hits, "granule(s)");
    match results.total_size() {
        Some((total, true)) => {
            let _ = write!(summary, ", {} in all", human_bytes(total));
        }
        Some((total, false)) => {
            let (_, known) = results.listed_size();
            let _ = write!(summary, ", about {} in all (from the sizes of {known} listed)", human_bytes(total));
        }
        None if results.hits > 0 => summary.push_str(", size not given by CMR"),
        None => {}
    }
    summary
}

fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths: [usize; N] = std::array::from_fn(|index| header[index].chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn link_cell(links: &[&str]) -> String {
    links
        .iter()
        .map(|href| {
            let name = href.rsplit('/').next().unwrap_or(href);
            format!("<a href=\"{}\">{}</a>", escape_html(href), escape_html(name))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The collections as a table, with the results as JSON alongside.
pub fn collections_bundle(results: &CollectionResults) -> MimeBundle {
    let mut html = String::from(
        "<table><tr><th style=\"text-align:left\">short name</th><th>version</th><th style=\"text-align:left\">concept ID</th>\
         <th style=\"text-align:left\">title</th><th>time</th><th>cloud</th><th>services</th></tr>",
    );
    for c in &results.collections {
        let _ = write!(
            html,
            "<tr><td><b>{}</b></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&c.short_name),
            escape_html(&c.version_id),
            escape_html(&c.id),
            escape_html(&c.title),
            escape_html(&time_range(c.time_start.as_deref(), c.time_end.as_deref())),
            if c.cloud_hosted { "☁ yes" } else { "no" },
            services(c)
        );
    }
    let _ = write!(
        html,
        "</table><small>{} · <a href=\"{url}\">CMR</a></small>",
        escape_html(&shown(results.collections.len(), results.hits, "collection(s)")),
        url = escape_html(&results.url)
    );
    MimeBundle::text(collections_text(results))
        .with_html(html)
        .with_json(serde_json::to_value(results).unwrap_or_default())
}

/// The granules' count and size, then a table of the listed ones, with the results as JSON alongside.
pub fn granules_bundle(results: &GranuleResults) -> MimeBundle {
    let mut html =
        format!("<p><b>{}</b>: {}</p>", escape_html(&results.collection), escape_html(&granule_summary(results)));
    if !results.granules.is_empty() {
        html.push_str(
            "<table><tr><th style=\"text-align:left\">name</th><th>start</th><th>stop</th><th>size</th>\
             <th style=\"text-align:left\">links</th></tr>",
        );
        for g in &results.granules {
            let links: Vec<&str> = g.data_links().collect();
            let _ = write!(
                html,
                "<tr><td><code title=\"{}\">{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape_html(&g.id),
                escape_html(&g.title),
                escape_html(g.time_start.as_deref().unwrap_or_default()),
                escape_html(g.time_end.as_deref().unwrap_or_default()),
                escape_html(&g.size_bytes().map(human_bytes).unwrap_or_else(|| "?".to_owned())),
                link_cell(&links)
            );
        }
        html.push_str("</table>");
    }
    let _ = write!(html, "<small><a href=\"{0}\">CMR</a></small>", escape_html(&results.url));
    MimeBundle::text(granules_text(results))
        .with_html(html)
        .with_json(serde_json::to_value(results).unwrap_or_default())
}

/// A granule's footprints as `[lon, lat]` lines, for maps.
pub fn footprints(granules: &[GranuleEntry]) -> Vec<Vec<[f64; 2]>> {
    granules.iter().flat_map(GranuleEntry::footprints).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granule(name: &str, size: Option<&str>) -> GranuleEntry {
        serde_json::from_value(serde_json::json!({
            "id": format!("G1-{name}"), "title": name, "time_start": "2020-04-27T19:36:22.000Z",
            "time_end": "2020-04-27T19:44:52.000Z", "granule_size": size,
            "links": [{"rel": "http://esipfed.org/ns/fedsearch/1.1/data#", "href": format!("https://data/<{name}>")}]
        }))
        .unwrap()
    }

    #[test]
    fn granule_counts_and_sizes_are_exact_or_estimated() {
        let results = GranuleResults {
            url: "https://cmr/x".into(),
            collection: "ATL03".into(),
            hits: 2,
            granules: vec![granule("a.h5", Some("1024")), granule("b.h5", Some("3072"))],
            areas: Vec::new(),
        };
        assert_eq!(granule_summary(&results), "2 granule(s), 4.0 GiB in all");
        let many = GranuleResults { hits: 1000, ..results.clone() };
        assert_eq!(
            granule_summary(&many),
            "1000 granule(s), the first 2 listed, about 2.0 TiB in all (from the sizes of 2 listed)"
        );
        let unknown = GranuleResults { granules: vec![granule("a.h5", None)], hits: 1, ..results.clone() };
        assert_eq!(granule_summary(&unknown), "1 granule(s), size not given by CMR");
        let text = granules_text(&results);
        assert!(text.starts_with("ATL03: 2 granule(s), 4.0 GiB in all\nname  start"), "{text}");
        assert!(
            text.contains("a.h5  2020-04-27T19:36:22.000Z  2020-04-27T19:44:52.000Z  1.0 GiB  https://data/<a.h5>")
        );
        let bundle = granules_bundle(&results);
        let html = bundle.get("text/html").and_then(|v| v.as_str()).unwrap();
        assert!(html.contains("&lt;a.h5&gt;") && !html.contains("<a.h5>"), "links are escaped: {html}");
        assert_eq!(bundle.get("application/json").unwrap()["hits"], 2);
    }

    #[test]
    fn collections_are_a_table() {
        let entry: CollectionEntry = serde_json::from_value(serde_json::json!({
            "id": "C1-P", "short_name": "ATL03", "version_id": "006", "title": "ATLAS <photons>",
            "time_start": "2018-10-13T00:00:00.000Z", "cloud_hosted": true, "associations": {"services": ["S1-P"]}
        }))
        .unwrap();
        let results = CollectionResults { url: "https://cmr/c".into(), hits: 3, collections: vec![entry] };
        assert_eq!(
            collections_text(&results),
            "short name  version  concept ID  title            time                   cloud  services\n\
             ATL03       006      C1-P        ATLAS <photons>  2018-10-13 .. ongoing  yes    1\n\
             3 collection(s), the first 1 listed"
        );
        let html = collections_bundle(&results).get("text/html").unwrap().as_str().unwrap().to_owned();
        assert!(html.contains("ATLAS &lt;photons&gt;"));
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
