//! Shape files as Harmony accepts them (GeoJSON, KML, zipped ESRI shapefile) turned into polygons of
//! `[lon, lat]` rings: what Harmony core does before handing a shape to a service. `hq serve` subsets
//! with them and the evaluator outlines them on track maps. Parsing only; the bytes come from the caller.
//!
//! Bounded: a `.shp` is never inflated past [`MAX_SHP_BYTES`] whatever its zip header claims (zip bombs),
//! and no shape may hold more than [`MAX_VERTICES`] points (each is tested against every data point).

use std::io::{Cursor, Read};

/// Largest uncompressed `.shp` read out of a zip: 16 bytes a point, room for [`MAX_VERTICES`] and headers.
pub const MAX_SHP_BYTES: u64 = 32 * 1024 * 1024;
/// Most points (over all rings and polygons) a shape may have; Harmony's own services refuse far fewer.
pub const MAX_VERTICES: usize = 1_000_000;

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
    /// The file is bigger than the limits (uncompressed size, vertex count).
    #[error("the {kind} shape file is too large: {detail}")]
    TooLarge {
        /// `GeoJSON`, `KML` or `zipped shapefile`.
        kind: &'static str,
        /// Which limit, and by how much.
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

fn too_many_vertices(kind: &'static str, count: usize) -> ShapeError {
    ShapeError::TooLarge {
        kind,
        detail: format!("more than {MAX_VERTICES} vertices ({count} or more); simplify the shape first"),
    }
}

fn check_vertices(kind: &'static str, polygons: &[Polygon]) -> Result<(), ShapeError> {
    let count: usize = polygons.iter().flatten().map(Vec::len).sum();
    if count > MAX_VERTICES {
        return Err(too_many_vertices(kind, count));
    }
    Ok(())
}

fn geojson_polygons(bytes: &[u8]) -> Result<Vec<Polygon>, ShapeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid("GeoJSON", e))?;
    // Every position is an array: counting `[` bounds the vertices before the parser builds them all.
    let arrays = bytecount(bytes, b'[');
    if arrays > 2 * MAX_VERTICES {
        return Err(too_many_vertices("GeoJSON", arrays / 2));
    }
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
    check_vertices("GeoJSON", &polygons)?;
    Ok(polygons)
}

fn bytecount(bytes: &[u8], wanted: u8) -> usize {
    bytes.iter().filter(|&&b| b == wanted).count()
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
    let mut vertices = 0usize;
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
                        vertices += ring.len();
                        if vertices > MAX_VERTICES {
                            return Err(too_many_vertices("KML", vertices));
                        }
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
    let too_large = || ShapeError::TooLarge {
        kind: "zipped shapefile",
        detail: format!("its .shp inflates to more than {} MiB", MAX_SHP_BYTES / (1024 * 1024)),
    };
    let entry = archive.by_name(&shp_name).map_err(|e| invalid("zipped shapefile", e))?;
    // A declared size over the limit is refused before a byte is inflated.
    let declared = entry.size();
    if declared > MAX_SHP_BYTES {
        return Err(too_large());
    }
    // The declared size is the sender's word: inflate at most one byte past it (so never past the
    // limit), and refuse a .shp that would grow beyond what its header says.
    let mut shp = Vec::new();
    entry.take(declared + 1).read_to_end(&mut shp).map_err(|e| invalid("zipped shapefile", e))?;
    if shp.len() as u64 > declared {
        return Err(ShapeError::TooLarge {
            kind: "zipped shapefile",
            detail: format!("its .shp inflates past the {declared} bytes its zip header declares"),
        });
    }
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
    check_vertices("zipped shapefile", &polygons)?;
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

    /// A zip holding `name` with `size` zero bytes, deflated (a few hundred KB for 100 MB).
    fn zip_of_zeros(name: &str, size: usize) -> Vec<u8> {
        use std::io::Write as _;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        writer.start_file(name, options).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..size / block.len() {
            writer.write_all(&block).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn a_zip_bomb_is_refused_without_inflating_it() {
        let bomb = zip_of_zeros("bomb.shp", 3 * MAX_SHP_BYTES as usize);
        assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
        match parse(&bomb, "application/shapefile+zip") {
            Err(ShapeError::TooLarge { kind: "zipped shapefile", detail }) => {
                assert!(detail.contains("MiB"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Offsets of every zip header with `signature` in `zip`.
    fn headers(zip: &[u8], signature: [u8; 4]) -> Vec<usize> {
        zip.windows(4).enumerate().filter(|(_, w)| *w == signature).map(|(at, _)| at).collect()
    }

    #[test]
    fn a_zip_bomb_declaring_its_size_is_refused_before_any_inflating() {
        let mut bomb = zip_of_zeros("bomb.shp", 3 * MAX_SHP_BYTES as usize);
        // Ruin the deflate stream right after the local header: a reader that inflated anything would
        // fail on it, so only a refusal from the declared size gives `TooLarge`.
        let local = headers(&bomb, [0x50, 0x4b, 0x03, 0x04])[0];
        let data = local + 30 + "bomb.shp".len() + u16::from_le_bytes([bomb[local + 28], bomb[local + 29]]) as usize;
        bomb[data..data + 64].fill(0xFF);
        match parse(&bomb, "application/shapefile+zip") {
            Err(ShapeError::TooLarge { kind: "zipped shapefile", detail }) => {
                assert!(detail.contains("more than 32 MiB"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_zip_bomb_lying_about_its_size_stops_inflating_at_the_declared_size() {
        use std::io::Write as _;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file("liar.shp", options).unwrap();
        writer.write_all(&vec![0u8; 8 << 20]).unwrap();
        let mut liar = writer.finish().unwrap().into_inner();
        // Rewrite the uncompressed size in the local and central headers: 8 MiB becomes 1000 bytes.
        for (signature, offset) in [([0x50, 0x4b, 0x03, 0x04], 22), ([0x50, 0x4b, 0x01, 0x02], 24)] {
            for at in headers(&liar, signature) {
                liar[at + offset..at + offset + 4].copy_from_slice(&1000u32.to_le_bytes());
            }
        }
        match parse(&liar, "application/shapefile+zip") {
            Err(ShapeError::TooLarge { kind: "zipped shapefile", detail }) => {
                assert!(detail.contains("past the 1000 bytes its zip header declares"), "{detail}")
            }
            // The zip reader counts too and stops the stream at the declared size (what it does today).
            Err(ShapeError::Invalid { kind: "zipped shapefile", detail }) => {
                assert!(detail.contains("larger than its declared uncompressed size"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shapes_with_too_many_vertices_are_refused() {
        let ring = |n: usize| {
            let mut points: Vec<String> = (0..n).map(|i| format!("[{},{}]", i % 90, i % 45)).collect();
            points.push("[0,0]".into());
            points.join(",")
        };
        let big = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring(MAX_VERTICES + 1));
        assert!(matches!(parse(big.as_bytes(), ""), Err(ShapeError::TooLarge { kind: "GeoJSON", .. })));
        let huge = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring(3 * MAX_VERTICES));
        assert!(matches!(parse(huge.as_bytes(), ""), Err(ShapeError::TooLarge { kind: "GeoJSON", .. })));
        let tuples: Vec<String> = (0..=MAX_VERTICES).map(|i| format!("{},{}", i % 90, i % 45)).collect();
        let kml = format!(
            "<kml><Polygon><outerBoundaryIs><LinearRing><coordinates>{}</coordinates></LinearRing></outerBoundaryIs></Polygon></kml>",
            tuples.join(" ")
        );
        assert!(matches!(parse(kml.as_bytes(), ""), Err(ShapeError::TooLarge { kind: "KML", .. })));
        let fits = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring(1000));
        assert_eq!(parse(fits.as_bytes(), "").unwrap()[0][0].len(), 1001);
    }
}
