//! STAC catalog and item documents as Harmony serves them for a job's outputs (`/stac/{jobID}[/{i}]`).
//!
//! Pure: no I/O. Field names and order follow `HS:app/frontends/stac-catalog.ts` and `stac-item.ts`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A STAC link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StacLink {
    /// Target, usually relative (`./0`).
    pub href: String,
    /// Relation: `root`, `item`, `self`, `next`, ...
    pub rel: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// MIME type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

/// The catalog of one job's outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The job ID.
    pub id: String,
    /// `1.0.0`.
    pub stac_version: String,
    /// `Harmony output for {jobID}`.
    pub title: String,
    /// `Catalog`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `Harmony output for {request URL}`.
    pub description: String,
    /// Root, items and paging links.
    pub links: Vec<StacLink>,
}

/// A file of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// URL of the file.
    pub href: String,
    /// File name.
    pub title: String,
    /// MIME type.
    #[serde(rename = "type")]
    pub mime: String,
    /// `data`, `metadata` or `overview`.
    pub roles: Vec<String>,
}

/// The item's time and provenance properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProperties {
    /// When the item was made.
    pub created: String,
    /// `various`.
    pub license: String,
    /// Start of coverage.
    pub start_datetime: String,
    /// End of coverage.
    pub end_datetime: String,
    /// Same as the start.
    pub datetime: String,
    /// When the outputs expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One output of a job as a STAC Feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// `{jobID}_{index}`.
    pub id: String,
    /// `1.0.0`.
    pub stac_version: String,
    /// `Harmony output #{i} in job {jobID}`.
    pub title: String,
    /// `Harmony out for {request}`.
    pub description: String,
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Extension schemas.
    pub stac_extensions: Vec<String>,
    /// `[w, s, e, n]`.
    pub bbox: [f64; 4],
    /// GeoJSON geometry of the bbox (a MultiPolygon across the antimeridian).
    pub geometry: serde_json::Value,
    /// Time and provenance.
    pub properties: ItemProperties,
    /// Files keyed by their URL.
    pub assets: BTreeMap<String, Asset>,
    /// `self` and `root`.
    pub links: Vec<StacLink>,
}

/// The GeoJSON geometry Harmony gives an item with bounding box `bbox`: a polygon, or two across the antimeridian.
///
/// ```
/// let geometry = harmonyql_lang::api::stac::bbox_geometry([170.0, -10.0, -170.0, 10.0]);
/// assert_eq!(geometry["type"], "MultiPolygon");
/// ```
pub fn bbox_geometry(bbox: [f64; 4]) -> serde_json::Value {
    let [west, south, east, north] = bbox;
    let ring = |w: f64, e: f64| vec![[w, south], [e, south], [e, north], [w, north], [w, south]];
    if west > east {
        serde_json::json!({"type": "MultiPolygon", "coordinates": [[ring(west, 180.0)], [ring(-180.0, east)]]})
    } else {
        serde_json::json!({"type": "Polygon", "coordinates": [ring(west, east)]})
    }
}

/// The role of an asset with MIME type `mime`, Harmony's rule.
pub fn asset_role(mime: &str) -> &'static str {
    if mime == "application/json" || mime == "text/xml" {
        "metadata"
    } else if mime.starts_with("image/") {
        "overview"
    } else {
        "data"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_is_a_polygon_unless_the_box_crosses_the_antimeridian() {
        let cases = [([-10.0, -5.0, 10.0, 5.0], "Polygon", 1), ([170.0, -5.0, -170.0, 5.0], "MultiPolygon", 2)];
        for (bbox, kind, parts) in cases {
            let geometry = bbox_geometry(bbox);
            assert_eq!(geometry["type"], kind);
            assert_eq!(geometry["coordinates"].as_array().unwrap().len(), parts);
        }
    }

    #[test]
    fn asset_roles_follow_the_mime_type() {
        let cases = [
            ("application/json", "metadata"),
            ("text/xml", "metadata"),
            ("image/tiff", "overview"),
            ("application/x-hdf5", "data"),
        ];
        for (mime, role) in cases {
            assert_eq!(asset_role(mime), role, "{mime}");
        }
    }
}
