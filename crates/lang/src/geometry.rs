//! Geometry: WKT text read once into typed coordinates, so the evaluator's track maps and `hq serve`'s
//! subsetter work from the same [`Geometry`] the checker accepted instead of scanning the text again.
//!
//! The six types Harmony's EDR API takes (POINT, MULTIPOINT, LINESTRING, MULTILINESTRING, POLYGON,
//! MULTIPOLYGON), 2-D positions (Z and M coordinates are accepted and dropped, as Harmony does), no EMPTY.
//! Nesting is at most four parentheses deep, so hostile text cannot grow the stack.

use crate::query::WktKind;

/// A position: longitude, latitude.
pub type Position = [f64; 2];

/// A checked geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// POINT
    Point(Position),
    /// MULTIPOINT
    MultiPoint(Vec<Position>),
    /// LINESTRING
    LineString(Vec<Position>),
    /// MULTILINESTRING
    MultiLineString(Vec<Vec<Position>>),
    /// POLYGON: the outer ring, then holes; each ring closed.
    Polygon(Vec<Vec<Position>>),
    /// MULTIPOLYGON
    MultiPolygon(Vec<Vec<Vec<Position>>>),
}

/// Why a text is not a geometry we take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WktError(pub String);

/// How deep parentheses may nest: MULTIPOLYGON(((…))) needs three, MULTIPOINT((…)) two.
const MAX_DEPTH: usize = 4;

/// Nested coordinate lists as they stand in the text.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    List(Vec<Node>),
    Position(Position),
}

impl Geometry {
    /// Reads WKT text such as `POLYGON((-105.5 40, -105 40, -105 41, -105.5 41, -105.5 40))`.
    ///
    /// ```
    /// use harmonyql_lang::geometry::Geometry;
    /// let geometry = Geometry::parse_wkt("LINESTRING(-105.5 40, -105 41)").unwrap();
    /// assert_eq!(geometry, Geometry::LineString(vec![[-105.5, 40.0], [-105.0, 41.0]]));
    /// assert!(Geometry::parse_wkt("POLYGON((0 0, 1 0, 1 1, 0 0))").is_ok());
    /// assert!(Geometry::parse_wkt("POLYGON((0 0, 1 0, 1 1))").is_err());
    /// ```
    pub fn parse_wkt(text: &str) -> Result<Geometry, WktError> {
        let text = text.trim();
        let open = text.find('(').ok_or_else(|| WktError(format!("`{}` has no coordinates", shorten(text))))?;
        let keyword = text[..open].trim().to_ascii_uppercase();
        let kind = match keyword.as_str() {
            "POINT" => WktKind::Point,
            "MULTIPOINT" => WktKind::MultiPoint,
            "LINESTRING" => WktKind::LineString,
            "MULTILINESTRING" => WktKind::MultiLineString,
            "POLYGON" => WktKind::Polygon,
            "MULTIPOLYGON" => WktKind::MultiPolygon,
            other => return Err(WktError(format!("unsupported geometry type: {}", shorten(other)))),
        };
        let mut rest = &text[open..];
        let node = parse_node(&mut rest, 0)?;
        if !rest.trim().is_empty() {
            return Err(WktError(format!("unexpected `{}` after the coordinates", shorten(rest.trim()))));
        }
        Geometry::from_node(kind, node)
    }

    /// The geometry's type.
    pub fn kind(&self) -> WktKind {
        match self {
            Geometry::Point(_) => WktKind::Point,
            Geometry::MultiPoint(_) => WktKind::MultiPoint,
            Geometry::LineString(_) => WktKind::LineString,
            Geometry::MultiLineString(_) => WktKind::MultiLineString,
            Geometry::Polygon(_) => WktKind::Polygon,
            Geometry::MultiPolygon(_) => WktKind::MultiPolygon,
        }
    }

    /// Every line and ring of the geometry (a point is a line of one position): what a map outlines.
    pub fn lines(&self) -> Vec<Vec<Position>> {
        match self {
            Geometry::Point(position) => vec![vec![*position]],
            Geometry::MultiPoint(points) => points.iter().map(|p| vec![*p]).collect(),
            Geometry::LineString(line) => vec![line.clone()],
            Geometry::MultiLineString(lines) | Geometry::Polygon(lines) => lines.clone(),
            Geometry::MultiPolygon(polygons) => polygons.iter().flatten().cloned().collect(),
        }
    }

    fn from_node(kind: WktKind, node: Node) -> Result<Geometry, WktError> {
        let what = kind.keyword();
        let Node::List(items) = node else { return Err(WktError(format!("{what} needs parentheses"))) };
        let positions = |items: Vec<Node>, minimum: usize, what: &str| -> Result<Vec<Position>, WktError> {
            let positions: Vec<Position> = items
                .into_iter()
                .map(|item| match item {
                    Node::Position(position) => Ok(position),
                    // MULTIPOINT((1 2), (3 4)) wraps each point in its own parentheses.
                    Node::List(inner) if inner.len() == 1 && matches!(inner[0], Node::Position(_)) => match inner[0] {
                        Node::Position(position) => Ok(position),
                        Node::List(_) => unreachable!("matched a position above"),
                    },
                    Node::List(_) => Err(WktError(format!("a {what} is a list of `lon lat` positions"))),
                })
                .collect::<Result<_, _>>()?;
            if positions.len() < minimum {
                return Err(WktError(format!(
                    "a {what} needs at least {minimum} positions, found {}",
                    positions.len()
                )));
            }
            Ok(positions)
        };
        let lists = |items: Vec<Node>, what: &str| -> Result<Vec<Vec<Node>>, WktError> {
            items
                .into_iter()
                .map(|item| match item {
                    Node::List(inner) => Ok(inner),
                    Node::Position(_) => Err(WktError(format!("each {what} is in its own parentheses"))),
                })
                .collect()
        };
        let ring = |items: Vec<Node>| -> Result<Vec<Position>, WktError> {
            let ring = positions(items, 4, "polygon ring")?;
            if ring.first() != ring.last() {
                return Err(WktError("the polygon ring is not closed: its last position must repeat the first".into()));
            }
            Ok(ring)
        };
        let polygon = |items: Vec<Node>| -> Result<Vec<Vec<Position>>, WktError> {
            let rings: Vec<Vec<Position>> =
                lists(items, "polygon ring")?.into_iter().map(ring).collect::<Result<_, _>>()?;
            if rings.is_empty() {
                return Err(WktError("a polygon needs at least one ring".into()));
            }
            Ok(rings)
        };
        Ok(match kind {
            WktKind::Point => match positions(items, 1, "point")?.as_slice() {
                [position] => Geometry::Point(*position),
                _ => return Err(WktError("a point is one `lon lat` position".into())),
            },
            WktKind::MultiPoint => Geometry::MultiPoint(positions(items, 1, "multipoint")?),
            WktKind::LineString => Geometry::LineString(positions(items, 2, "line")?),
            WktKind::MultiLineString => Geometry::MultiLineString(
                lists(items, "line")?.into_iter().map(|line| positions(line, 2, "line")).collect::<Result<_, _>>()?,
            ),
            WktKind::Polygon => Geometry::Polygon(polygon(items)?),
            WktKind::MultiPolygon => {
                let polygons: Vec<_> = lists(items, "polygon")?.into_iter().map(polygon).collect::<Result<_, _>>()?;
                if polygons.is_empty() {
                    return Err(WktError("a multipolygon needs at least one polygon".into()));
                }
                Geometry::MultiPolygon(polygons)
            }
        })
    }
}

/// `( item, item, … )` where an item is a nested list or a position of two or three numbers.
fn parse_node(rest: &mut &str, depth: usize) -> Result<Node, WktError> {
    if depth >= MAX_DEPTH {
        return Err(WktError(format!("parentheses nest deeper than {MAX_DEPTH} levels")));
    }
    *rest = rest.trim_start();
    let Some(after) = rest.strip_prefix('(') else {
        return Err(WktError("expected `(`".into()));
    };
    *rest = after;
    let mut items = Vec::new();
    loop {
        *rest = rest.trim_start();
        let item = if rest.starts_with('(') {
            parse_node(rest, depth + 1)?
        } else {
            let end = rest.find([',', ')']).ok_or_else(|| WktError("a `(` is not closed".into()))?;
            let numbers: Result<Vec<f64>, _> = rest[..end].split_whitespace().map(str::parse::<f64>).collect();
            *rest = &rest[end..];
            match numbers.as_deref() {
                Ok([x, y] | [x, y, _] | [x, y, _, _]) if x.is_finite() && y.is_finite() => Node::Position([*x, *y]),
                _ => return Err(WktError("a position is two numbers separated by a space, like `-105.5 40`".into())),
            }
        };
        items.push(item);
        *rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            *rest = after;
        } else if let Some(after) = rest.strip_prefix(')') {
            *rest = after;
            return Ok(Node::List(items));
        } else {
            return Err(WktError("expected `,` or `)`".into()));
        }
    }
}

/// At most 40 characters of untrusted text, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_harmony_takes_reads_into_coordinates() {
        let cases = [
            ("POINT(-105.5 40)", Geometry::Point([-105.5, 40.0])),
            ("multipoint((1 2), (3 4))", Geometry::MultiPoint(vec![[1.0, 2.0], [3.0, 4.0]])),
            ("MULTIPOINT(1 2, 3 4)", Geometry::MultiPoint(vec![[1.0, 2.0], [3.0, 4.0]])),
            ("LINESTRING(0 0, 1 1 5)", Geometry::LineString(vec![[0.0, 0.0], [1.0, 1.0]])),
            (
                "MULTILINESTRING((0 0, 1 1), (2 2, 3 3))",
                Geometry::MultiLineString(vec![vec![[0.0, 0.0], [1.0, 1.0]], vec![[2.0, 2.0], [3.0, 3.0]]]),
            ),
            (
                "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))",
                Geometry::MultiPolygon(vec![vec![vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]]),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Geometry::parse_wkt(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn malformed_text_is_refused_with_a_reason_and_bounded_nesting() {
        for text in [
            "POLYGON((0 0, 1 0, 1 1))",
            "POLYGON((0 0, 1 0, 1 1, 2 2))",
            "POINT(1)",
            "POINT(1 2",
            "CIRCLE(1 2)",
            "LINESTRING(0 0, 1 1) x",
            "POINT(nan 1)",
        ] {
            assert!(Geometry::parse_wkt(text).is_err(), "{text}");
        }
        let deep = format!("POLYGON{}", "(".repeat(100_000));
        assert_eq!(Geometry::parse_wkt(&deep), Err(WktError("parentheses nest deeper than 4 levels".into())));
    }

    #[test]
    fn lines_are_what_a_map_outlines() {
        let polygon =
            Geometry::parse_wkt("POLYGON((0 0, 1 0, 1 1, 0 0), (0.2 0.2, 0.4 0.2, 0.4 0.4, 0.2 0.2))").unwrap();
        assert_eq!(polygon.lines().len(), 2);
        assert_eq!(polygon.kind(), WktKind::Polygon);
    }
}
