//! Shape files as Harmony accepts them (GeoJSON, KML, zipped ESRI shapefile) turned into polygons of
//! `[lon, lat]` rings: what Harmony core does before handing a shape to a service. `hq serve` subsets
//! with them and the evaluator outlines them on track maps. Parsing only; the bytes come from the caller.

use std::io::{Cursor, Read};

/// A polygon as rings of `[lon, lat]` points; the first ring is the outer boundary, the others are holes.
pub type Polygon = Vec<Vec<[f64; 2]>>;

/// Why a shape file gave no polygons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    /// Neither the MIME type nor the first bytes name a supported format.
    #[error("shape files of type {0} are not supported; use GeoJSON, KML or a zipped ESRI shapefile")]
    Unsupported(String),
    /// The file is of a supported kind but broken.
    #[error("the {kind} shape file could not be read: {detail}")]
    Invalid {
        /// `GeoJSON`, `KML` or `zipped shapefile`.
        kind: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The file parsed but has no polygon (only points or lines, say).
    #[error("the shape file holds no polygon")]
    NoPolygon,
}

/// What kind of shape file, from its MIME type or, failing that, its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    /// GeoJSON (`application/geo+json`).
    GeoJson,
    /// KML (`application/vnd.google-earth.kml+xml`).
    Kml,
    /// A zip holding an ESRI shapefile (`application/shapefile+zip`).
    ZippedShapefile,
}

/// Decides the kind of a shape file.
pub fn kind(bytes: &[u8], mime: &str) -> Option<ShapeKind> {
    let mime = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/geo+json" | "application/json" | "application/vnd.geo+json" => {
            return Some(ShapeKind::GeoJson);
        }
        "application/vnd.google-earth.kml+xml" | "application/xml" | "text/xml" => {
            return Some(ShapeKind::Kml);
        }
        "application/shapefile+zip"
        | "application/zip"
        | "application/x-zip-compressed"
        | "application/x-shapefile" => {
            return Some(ShapeKind::ZippedShapefile);
        }
        _ => {}
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &bytes[i..]);
    match start.first() {
        Some(b'{') => Some(ShapeKind::GeoJson),
        Some(b'<') => Some(ShapeKind::Kml),
        _ if start.starts_with(b"PK") => Some(ShapeKind::ZippedShapefile),
        _ => None,
    }
}

fn invalid(kind: &'static str, detail: impl std::fmt::Display) -> ShapeError {
    ShapeError::Invalid { kind, detail: detail.to_string() }
}

/// Parses a shape file's bytes of the given MIME type into polygons; when the MIME type is unknown the
/// bytes decide.
///
/// ```
/// let polygons = harmonyql_data::shape::parse(br#"{"type":"Polygon","coordinates":[[[1,2],[3,2],[3,4],[1,2]]]}"#, "")?;
/// assert_eq!(polygons[0][0][1], [3.0, 2.0]);
/// # Ok::<(), harmonyql_data::shape::ShapeError>(())
/// ```
pub fn parse(bytes: &[u8], mime: &str) -> Result<Vec<Polygon>, ShapeError> {
    let polygons = match kind(bytes, mime) {
        Some(ShapeKind::GeoJson) => geojson_polygons(bytes)?,
        Some(ShapeKind::Kml) => kml_polygons(bytes)?,
        Some(ShapeKind::ZippedShapefile) => shapefile_polygons(bytes)?,
        None => return Err(ShapeError::Unsupported(mime.to_owned())),
    };
    if polygons.is_empty() {
        return Err(ShapeError::NoPolygon);
    }
    Ok(polygons)
}

fn geojson_polygons(bytes: &[u8]) -> Result<Vec<Polygon>, ShapeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid("GeoJSON", e))?;
    let document: geojson::GeoJson = text.parse().map_err(|e| invalid("GeoJSON", e))?;
    let mut polygons = Vec::new();
    match document {
        geojson::GeoJson::Geometry(geometry) => collect_geometry(&geometry, &mut polygons),
        geojson::GeoJson::Feature(feature) => {
            if let Some(geometry) = &feature.geometry {
                collect_geometry(geometry, &mut polygons);
            }
        }
        geojson::GeoJson::FeatureCollection(collection) => {
            for feature in &collection.features {
                if let Some(geometry) = &feature.geometry {
                    collect_geometry(geometry, &mut polygons);
                }
            }
        }
    }
    Ok(polygons)
}

fn collect_geometry(geometry: &geojson::Geometry, out: &mut Vec<Polygon>) {
    let ring = |positions: &Vec<geojson::Position>| -> Vec<[f64; 2]> {
        positions.iter().filter(|p| p.len() >= 2).map(|p| [p[0], p[1]]).collect()
    };
    match &geometry.value {
        geojson::GeometryValue::Polygon { coordinates } => out.push(coordinates.iter().map(ring).collect()),
        geojson::GeometryValue::MultiPolygon { coordinates } => {
            out.extend(coordinates.iter().map(|polygon| polygon.iter().map(ring).collect()));
        }
        geojson::GeometryValue::GeometryCollection { geometries } => {
            for inner in geometries {
                collect_geometry(inner, out);
            }
        }
        _ => {}
    }
}

fn kml_polygons(bytes: &[u8]) -> Result<Vec<Polygon>, ShapeError> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(bytes).map_err(|e| invalid("KML", e))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut polygons: Vec<Polygon> = Vec::new();
    let mut in_outer = false;
    let mut in_inner = false;
    let mut in_coordinates = false;
    let mut coordinates = String::new();
    loop {
        match reader.read_event().map_err(|e| invalid("KML", e))? {
            Event::Start(tag) => match tag.local_name().as_ref() {
                b"Polygon" => polygons.push(Vec::new()),
                b"outerBoundaryIs" => in_outer = true,
                b"innerBoundaryIs" => in_inner = true,
                b"coordinates" => {
                    in_coordinates = true;
                    coordinates.clear();
                }
                _ => {}
            },
            Event::Text(content) if in_coordinates => {
                coordinates.push_str(&content.decode().map_err(|e| invalid("KML", e))?);
            }
            Event::End(tag) => match tag.local_name().as_ref() {
                b"outerBoundaryIs" => in_outer = false,
                b"innerBoundaryIs" => in_inner = false,
                b"coordinates" => {
                    in_coordinates = false;
                    if in_outer || in_inner {
                        let ring = parse_kml_coordinates(&coordinates)?;
                        if let Some(polygon) = polygons.last_mut() {
                            if in_outer {
                                polygon.insert(0, ring);
                            } else {
                                polygon.push(ring);
                            }
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    polygons.retain(|p| p.first().is_some_and(|outer| outer.len() >= 3));
    Ok(polygons)
}

/// KML coordinates: whitespace-separated `lon,lat[,alt]` tuples.
fn parse_kml_coordinates(text: &str) -> Result<Vec<[f64; 2]>, ShapeError> {
    text.split_whitespace()
        .map(|tuple| {
            let mut parts = tuple.split(',').map(str::parse::<f64>);
            match (parts.next(), parts.next()) {
                (Some(Ok(lon)), Some(Ok(lat))) => Ok([lon, lat]),
                _ => Err(invalid("KML", format!("bad coordinate {tuple:?}"))),
            }
        })
        .collect()
}

fn shapefile_polygons(bytes: &[u8]) -> Result<Vec<Polygon>, ShapeError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| invalid("zipped shapefile", e))?;
    // macOS zips carry `__MACOSX/._name.shp` resource forks; the real .shp is the other one.
    let shp_name = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.to_string())
        .find(|name| {
            name.to_ascii_lowercase().ends_with(".shp")
                && !name.starts_with("__MACOSX")
                && !name.rsplit('/').next().unwrap_or_default().starts_with("._")
        })
        .ok_or_else(|| invalid("zipped shapefile", "no .shp file in the archive"))?;
    let mut shp = Vec::new();
    archive
        .by_name(&shp_name)
        .map_err(|e| invalid("zipped shapefile", e))?
        .read_to_end(&mut shp)
        .map_err(|e| invalid("zipped shapefile", e))?;
    let reader = shapefile::ShapeReader::new(Cursor::new(shp)).map_err(|e| invalid("zipped shapefile", e))?;
    let shapes = reader.read().map_err(|e| invalid("zipped shapefile", e))?;
    let mut polygons: Vec<Polygon> = Vec::new();
    for shape in shapes {
        let rings: Vec<(bool, Vec<[f64; 2]>)> = match shape {
            shapefile::Shape::Polygon(polygon) => polygon
                .rings()
                .iter()
                .map(|r| {
                    (matches!(r, shapefile::PolygonRing::Outer(_)), r.points().iter().map(|p| [p.x, p.y]).collect())
                })
                .collect(),
            shapefile::Shape::PolygonM(polygon) => polygon
                .rings()
                .iter()
                .map(|r| {
                    (matches!(r, shapefile::PolygonRing::Outer(_)), r.points().iter().map(|p| [p.x, p.y]).collect())
                })
                .collect(),
            shapefile::Shape::PolygonZ(polygon) => polygon
                .rings()
                .iter()
                .map(|r| {
                    (matches!(r, shapefile::PolygonRing::Outer(_)), r.points().iter().map(|p| [p.x, p.y]).collect())
                })
                .collect(),
            _ => continue,
        };
        // Each outer ring starts a polygon; inner rings are holes of the polygon before them.
        for (is_outer, ring) in rings {
            match polygons.last_mut() {
                Some(polygon) if !is_outer => polygon.push(ring),
                _ => polygons.push(vec![ring]),
            }
        }
    }
    Ok(polygons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], mime: &str, n_polygons: usize, first_point: [f64; 2]) {
        let polygons = parse(bytes, mime).expect("parse");
        assert_eq!(polygons.len(), n_polygons);
        assert_eq!(polygons[0][0][0], first_point);
    }

    #[test]
    fn geojson_kml_and_sniffing() {
        check(
            br#"{"type":"Polygon","coordinates":[[[1,2],[3,2],[3,4],[1,2]]]}"#,
            "application/geo+json",
            1,
            [1.0, 2.0],
        );
        check(br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,2],[3,2],[3,4],[1,2]]],[[[5,6],[7,6],[7,8],[5,6]]]]}}]}"#, "", 2, [1.0, 2.0]);
        let kml = b"<kml><Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>1,2,0 3,2,0 3,4,0 1,2,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>";
        check(kml, "application/vnd.google-earth.kml+xml", 1, [1.0, 2.0]);
        assert!(matches!(parse(b"hello", "text/plain"), Err(ShapeError::Unsupported(_))));
        assert_eq!(
            parse(br#"{"type":"Point","coordinates":[1,2]}"#, "application/geo+json"),
            Err(ShapeError::NoPolygon)
        );
        assert!(matches!(parse(b"{", ""), Err(ShapeError::Invalid { kind: "GeoJSON", .. })));
    }
}
