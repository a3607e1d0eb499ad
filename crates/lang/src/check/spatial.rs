//! Checking where: bounding boxes (with swapped-axis detection), WKT geometries, shape files, dimensions.

use crate::ast::{Arg, ArgKind, Clause, TermKind};
use crate::diagnostic::Diagnostic;
use crate::geometry::Geometry;
use crate::keyword::ClauseName;
use crate::query::*;
use crate::span::Span;

use super::{Checker, SHAPE_TYPES, args_source, clause_source};
use crate::parse::parse_call;

impl Checker {
    pub(super) fn bbox(&mut self, clause: &Clause, args: &[Arg]) -> Option<BBox> {
        let usage = "write bbox(west, south, east, north), e.g. bbox(-105.5, 40, -105, 41)";
        if args.len() != 4 {
            self.error(
                Diagnostic::error("bbox-arity", format!("bbox expected 4 numbers, found {}", args.len()), clause.span)
                    .with_hint(usage),
            );
            return None;
        }
        let names = ["west", "south", "east", "north"];
        let mut numbers = Vec::new();
        for (arg, name) in args.iter().zip(names) {
            let term = self.single(arg, "a number")?;
            numbers.push((self.number(term, name)?, term.span));
        }
        let [(west, west_span), (south, south_span), (east, east_span), (north, north_span)]: [(Number, Span); 4] =
            numbers.try_into().ok()?;
        let lat_ok = |n: &Number| (-90.0..=90.0).contains(&n.value);
        let lon_ok = |n: &Number| (-180.0..=180.0).contains(&n.value);
        let arg_text = |index: usize| args[index].span;
        let texts: Vec<String> = (0..4).map(|i| clause_source(args, i)).collect();
        // Latitude and longitude swapped: bbox(south, west, north, east) typed for bbox(west, south, east, north).
        let swapped =
            (!lat_ok(&south) || !lat_ok(&north)) && lat_ok(&west) && lat_ok(&east) && lon_ok(&south) && lon_ok(&north);
        if swapped {
            let fix = format!("bbox({}, {}, {}, {})", texts[1], texts[0], texts[3], texts[2]);
            self.error(
                Diagnostic::error(
                    "bbox-swapped",
                    "bbox latitude out of range: latitude and longitude look swapped",
                    clause.span,
                )
                .with_label(format!("south {} and north {} must be within -90..90", south.text, north.text))
                .with_hint(format!("bbox takes west, south, east, north (longitude first): {fix}"))
                .with_fix(clause.span, fix),
            );
            return None;
        }
        let checks: [(&Number, Span, &str, bool); 4] = [
            (&west, west_span, "west longitude", lon_ok(&west)),
            (&south, south_span, "south latitude", lat_ok(&south)),
            (&east, east_span, "east longitude", lon_ok(&east)),
            (&north, north_span, "north latitude", lat_ok(&north)),
        ];
        let mut bad = false;
        for (number, span, what, ok) in checks {
            if !ok {
                let range = if what.ends_with("latitude") { "-90 and 90" } else { "-180 and 180" };
                self.error(
                    Diagnostic::error("out-of-range", format!("{what} {} is out of range", number.text), span)
                        .with_label(format!("must be between {range}")),
                );
                bad = true;
            }
        }
        if bad {
            return None;
        }
        if south.value > north.value {
            let fix = format!("bbox({}, {}, {}, {})", texts[0], texts[3], texts[2], texts[1]);
            self.error(
                Diagnostic::error(
                    "bbox-south-north",
                    format!("south latitude {} is north of north latitude {}", south.text, north.text),
                    arg_text(1).to(arg_text(3)),
                )
                .with_hint(format!("swap them: {fix}"))
                .with_fix(clause.span, fix),
            );
            return None;
        }
        if west.value > east.value && west.value - east.value < 180.0 {
            let fix = format!("bbox({}, {}, {}, {})", texts[2], texts[1], texts[0], texts[3]);
            self.diagnostics.push(
                Diagnostic::warning(
                    "bbox-antimeridian",
                    format!(
                        "west {} > east {}: this box crosses the antimeridian and spans {:.1}° of longitude",
                        west.text,
                        east.text,
                        360.0 - (west.value - east.value)
                    ),
                    arg_text(0).to(arg_text(2)),
                )
                .with_hint(format!("if you meant the small box, write {fix}"))
                .with_fix(clause.span, fix),
            );
        }
        Some(BBox { west, south, east, north })
    }

    pub(super) fn wkt(&mut self, clause: &Clause, args: &[Arg]) -> Option<Wkt> {
        let kind = match clause.name.node {
            ClauseName::Point => WktKind::Point,
            ClauseName::MultiPoint => WktKind::MultiPoint,
            ClauseName::LineString => WktKind::LineString,
            ClauseName::MultiLineString => WktKind::MultiLineString,
            ClauseName::Polygon => WktKind::Polygon,
            _ => WktKind::MultiPolygon,
        };
        self.validate_wkt(kind, args, clause.span, 0)?;
        let text = format!("{}({})", kind.keyword(), args_source(args));
        let geometry = self.geometry(&text, clause.span)?;
        Some(Wkt { kind, text, geometry })
    }

    pub(super) fn wkt_string(&mut self, clause: &Clause, args: &[Arg]) -> Option<Wkt> {
        let [arg] = args else {
            self.error(
                Diagnostic::error("wkt-arity", "wkt expects one string", clause.span)
                    .with_hint("write wkt(\"POLYGON((…))\")"),
            );
            return None;
        };
        let term = self.single(arg, "a WKT string")?;
        let text = self.text(term, "a WKT string")?;
        let (keyword, inner) = match parse_call(&text) {
            Ok(parsed) => parsed,
            Err(diagnostic) => {
                self.error(Diagnostic::error(
                    "bad-wkt",
                    format!("WKT {} is invalid: {}", text.trim(), diagnostic.message),
                    term.span,
                ));
                return None;
            }
        };
        let kind = match keyword.to_ascii_uppercase().as_str() {
            "POINT" => WktKind::Point,
            "MULTIPOINT" => WktKind::MultiPoint,
            "LINESTRING" => WktKind::LineString,
            "MULTILINESTRING" => WktKind::MultiLineString,
            "POLYGON" => WktKind::Polygon,
            "MULTIPOLYGON" => WktKind::MultiPolygon,
            other => {
                self.error(
                    Diagnostic::error("unsupported-wkt", format!("unsupported geometry type: {other}"), term.span)
                        .with_hint(
                            "Harmony takes POINT, MULTIPOINT, LINESTRING, MULTILINESTRING, POLYGON and MULTIPOLYGON",
                        ),
                );
                return None;
            }
        };
        self.validate_wkt(kind, &inner, term.span, usize::MAX)?;
        let geometry = self.geometry(&text, term.span)?;
        Some(Wkt { kind, text: text.trim().to_owned(), geometry })
    }

    /// The coordinates of WKT text the grammar has validated (with its precise carets); a problem only the
    /// coordinate reader sees (a number out of `f64`'s range, say) is reported on the whole geometry.
    fn geometry(&mut self, text: &str, span: Span) -> Option<Geometry> {
        match Geometry::parse_wkt(text) {
            Ok(geometry) => Some(geometry),
            Err(error) => {
                self.error(Diagnostic::error("bad-wkt", format!("the geometry is invalid: {error}"), span));
                None
            }
        }
    }

    /// Checks a WKT body's structure. `base` is `usize::MAX` when spans inside are not cell offsets
    /// (a WKT string), so problems are reported on `whole`.
    pub(super) fn validate_wkt(&mut self, kind: WktKind, args: &[Arg], whole: Span, base: usize) -> Option<()> {
        let place = |span: Span| if base == usize::MAX { whole } else { span };
        let mut problem: Option<(String, Span)> = None;
        let mut note = |message: String, span: Span| {
            if problem.is_none() {
                problem = Some((message, place(span)));
            }
        };
        let coordinate = |arg: &Arg| -> Option<Vec<f64>> {
            let ArgKind::Terms(terms) = &arg.kind else { return None };
            let values: Option<Vec<f64>> = terms
                .iter()
                .map(|t| match &t.node {
                    TermKind::Number(n) => n.parse().ok(),
                    _ => None,
                })
                .collect();
            values.filter(|v| v.len() == 2 || v.len() == 3)
        };
        let group = |arg: &Arg| -> Option<Vec<Arg>> {
            match &arg.kind {
                ArgKind::Terms(terms) if terms.len() == 1 => match &terms[0].node {
                    TermKind::Group(inner) => Some(inner.clone()),
                    _ => None,
                },
                _ => None,
            }
        };
        let check_points =
            |points: &[Arg], minimum: usize, what: &str, note: &mut dyn FnMut(String, Span)| -> Option<Vec<Vec<f64>>> {
                let mut coordinates = Vec::new();
                for point in points {
                    match coordinate(point) {
                        Some(c) => coordinates.push(c),
                        None => {
                            note(
                                format!("a {what} point is two numbers separated by a space, like `-105.5 40`"),
                                point.span,
                            );
                            return None;
                        }
                    }
                }
                if coordinates.len() < minimum {
                    let span = points.first().map_or(whole, |p| p.span);
                    note(format!("a {what} needs at least {minimum} points, found {}", coordinates.len()), span);
                    return None;
                }
                Some(coordinates)
            };
        let check_polygon = |rings: &[Arg], note: &mut dyn FnMut(String, Span)| {
            if rings.is_empty() {
                note("a polygon needs at least one ring".to_owned(), whole);
            }
            for ring in rings {
                let Some(points) = group(ring) else {
                    note("each polygon ring is in its own parentheses: polygon((lon lat, …))".to_owned(), ring.span);
                    return;
                };
                let Some(coordinates) = check_points(&points, 4, "polygon ring", note) else { return };
                if coordinates.first() != coordinates.last() {
                    note("the polygon ring is not closed: its last point must repeat the first".to_owned(), ring.span);
                    return;
                }
            }
        };
        match kind {
            WktKind::Point => {
                if args.len() != 1 || coordinate(&args[0]).is_none() {
                    note("a point is two numbers separated by a space: point(-105.5 40)".to_owned(), whole);
                }
            }
            WktKind::MultiPoint => {
                for arg in args {
                    let inner = group(arg);
                    let ok = coordinate(arg).is_some()
                        || inner.as_ref().is_some_and(|g| g.len() == 1 && coordinate(&g[0]).is_some());
                    if !ok {
                        note(
                            "multipoint points are `lon lat` or `(lon lat)`, separated by commas".to_owned(),
                            arg.span,
                        );
                    }
                }
                if args.is_empty() {
                    note("a multipoint needs at least one point".to_owned(), whole);
                }
            }
            WktKind::LineString => {
                check_points(args, 2, "line", &mut note);
            }
            WktKind::MultiLineString => {
                for arg in args {
                    match group(arg) {
                        Some(points) => {
                            check_points(&points, 2, "line", &mut note);
                        }
                        None => note(
                            "each line is in its own parentheses: multilinestring((lon lat, …), (…))".to_owned(),
                            arg.span,
                        ),
                    }
                }
            }
            WktKind::Polygon => check_polygon(args, &mut note),
            WktKind::MultiPolygon => {
                for arg in args {
                    match group(arg) {
                        Some(rings) => check_polygon(&rings, &mut note),
                        None => note(
                            "each polygon is in its own parentheses: multipolygon(((lon lat, …)), ((…)))".to_owned(),
                            arg.span,
                        ),
                    }
                }
            }
        }
        match problem {
            None => Some(()),
            Some((message, span)) => {
                self.error(Diagnostic::error("bad-wkt", message, span));
                None
            }
        }
    }

    pub(super) fn shape(&mut self, clause: &Clause, args: &[Arg]) -> Option<ShapeFile> {
        let [arg] = args else {
            self.error(
                Diagnostic::error("shape-arity", "shape expects one file", clause.span)
                    .with_hint("write shape(\"area.geojson\")"),
            );
            return None;
        };
        let term = self.single(arg, "a file")?;
        let path = self.text(term, "a file")?;
        let extension = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        match SHAPE_TYPES.iter().find(|(ext, _)| *ext == extension) {
            Some((_, mime)) if path.contains('.') => Some(ShapeFile { path, mime: (*mime).to_owned() }),
            _ => {
                self.error(
                    Diagnostic::error(
                        "shape-extension",
                        format!("the shape file \"{path}\" has extension \"{extension}\", which is not recognised"),
                        term.span,
                    )
                    .with_hint("valid extensions: json, geojson (GeoJSON), kml (KML), shz, zip (zipped shapefile)"),
                );
                None
            }
        }
    }

    pub(super) fn dimension(&mut self, clause: &Clause, args: &[Arg]) -> Option<DimensionSubset> {
        let usage = "write dim(NAME, MIN .. MAX), e.g. dim(lev, 10 .. 20); either end may be left out";
        let name_term = match args.first() {
            Some(arg) => self.single(arg, "a dimension name")?,
            None => {
                self.error(Diagnostic::error("dim-arity", "dim needs a dimension name", clause.span).with_hint(usage));
                return None;
            }
        };
        let name = self.text(name_term, "a dimension name")?;
        let (min, max) = match args.get(1) {
            None => (None, None),
            Some(Arg { kind: ArgKind::Range(min, max), .. }) => {
                let min = match min {
                    Some(term) => Some(self.number(term, "minimum")?),
                    None => None,
                };
                let max = match max {
                    Some(term) => Some(self.number(term, "maximum")?),
                    None => None,
                };
                (min, max)
            }
            Some(arg) => {
                self.error(
                    Diagnostic::error("dim-range", "dim expects a range MIN .. MAX after the name", arg.span)
                        .with_hint(usage),
                );
                return None;
            }
        };
        if args.len() > 2 {
            self.error(
                Diagnostic::error(
                    "dim-arity",
                    format!("dim expected a name and a range, found {} arguments", args.len()),
                    clause.span,
                )
                .with_hint(usage),
            );
            return None;
        }
        if let (Some(a), Some(b)) = (&min, &max)
            && a.value > b.value
        {
            self.error(
                Diagnostic::error(
                    "dim-order",
                    format!("dimension minimum {} is greater than the maximum {}", a.text, b.text),
                    args[1].span,
                )
                .with_hint(format!("write dim({name}, {} .. {})", b.text, a.text)),
            );
            return None;
        }
        Some(DimensionSubset { name, min, max })
    }
}
