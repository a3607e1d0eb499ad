//! The coastlines drawn under track maps: Natural Earth 1:50m land outlines (public domain), compiled into
//! the binary from `assets/coastlines-50m.bin` (built by `scripts/coastlines.py`, provenance in
//! `assets/README.md`), decoded once on first use, and clipped to a map's extent.
//!
//! Pure data and geometry; drawing them belongs to `track`.

use std::sync::OnceLock;

static ENCODED: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coastlines-50m.bin"));

/// One coastline polyline: `(lon, lat)` in degrees.
pub type Line = Vec<(f64, f64)>;

/// Every coastline, decoded on first use (60 000 points, about 1 MB).
pub fn coastlines() -> &'static [Line] {
    static LINES: OnceLock<Vec<Line>> = OnceLock::new();
    // The asset is compiled in and checked by a test; a corrupt build would show maps without coasts.
    LINES.get_or_init(|| {
        decode(ENCODED).unwrap_or_default().iter().flat_map(|line| split_at_antimeridian(line)).collect()
    })
}

/// Splits a line where it jumps across the antimeridian (from +180° to -180°), which would otherwise
/// draw a stroke across the whole map.
fn split_at_antimeridian(line: &[(f64, f64)]) -> Vec<Line> {
    let mut parts = vec![Vec::new()];
    for &point in line {
        if let Some(last) = parts.last().and_then(|part: &Line| part.last())
            && (point.0 - last.0).abs() > 180.0
        {
            parts.push(Vec::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push(point);
        }
    }
    parts.retain(|part| part.len() > 1);
    parts
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn zigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Decodes the format `scripts/coastlines.py` writes; `None` if the bytes are not in it.
fn decode(bytes: &[u8]) -> Option<Vec<Line>> {
    let body = bytes.strip_prefix(b"HQCOAST1")?;
    let number = |i: usize| body.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok()).map(f64::from_le_bytes);
    let (tx, ty, sx, sy) = (number(0)?, number(1)?, number(2)?, number(3)?);
    let body = &body[32..];
    let mut at = 0;
    let count = varint(body, &mut at)? as usize;
    let mut lines = Vec::with_capacity(count);
    for _ in 0..count {
        let n = varint(body, &mut at)? as usize;
        let (mut x, mut y) = (0i64, 0i64);
        let mut line = Vec::with_capacity(n);
        for _ in 0..n {
            x += zigzag(varint(body, &mut at)?);
            y += zigzag(varint(body, &mut at)?);
            line.push((tx + x as f64 * sx, ty + y as f64 * sy));
        }
        lines.push(line);
    }
    (at == body.len()).then_some(lines)
}

/// The parts of `line` inside `[west, south, east, north]`, each a polyline (Liang–Barsky clipping of
/// every segment, joined while consecutive segments stay connected).
pub fn clip(line: &[(f64, f64)], extent: [f64; 4]) -> Vec<Line> {
    let mut parts: Vec<Line> = Vec::new();
    let mut current: Line = Vec::new();
    for pair in line.windows(2) {
        match clip_segment(pair[0], pair[1], extent) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() > 1 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current = vec![a];
                }
                current.push(b);
            }
            None => {
                if current.len() > 1 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        parts.push(current);
    }
    parts
}

fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    [west, south, east, north]: [f64; 4],
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [(-dx, a.0 - west), (dx, east - a.0), (-dy, a.1 - south), (dy, north - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some(((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_coastlines_decode_and_cover_the_globe() {
        let lines = decode(ENCODED).unwrap();
        assert_eq!(lines.len(), 1425);
        assert_eq!(lines.iter().map(Vec::len).sum::<usize>(), 60_635);
        assert!(coastlines().len() >= 1425);
        let jumps = coastlines().iter().flat_map(|l| l.windows(2)).filter(|w| (w[1].0 - w[0].0).abs() > 180.0);
        assert_eq!(jumps.count(), 0, "no line crosses the map at the antimeridian");
        let all = lines.iter().flatten();
        let (mut lon, mut lat) = ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN));
        for &(x, y) in all {
            (lon.0, lon.1, lat.0, lat.1) = (lon.0.min(x), lon.1.max(x), lat.0.min(y), lat.1.max(y));
        }
        assert!(lon.0 <= -179.9 && lon.1 >= 179.9 && lat.0 < -80.0 && lat.1 > 83.0, "{lon:?} {lat:?}");
    }

    #[test]
    fn corrupt_bytes_do_not_decode() {
        assert!(decode(b"HQCOAST0").is_none());
        assert!(decode(&ENCODED[..ENCODED.len() - 1]).is_none());
    }

    #[test]
    fn clipping_keeps_only_what_is_inside() {
        let extent = [0.0, 0.0, 10.0, 10.0];
        let line = [(-5.0, 5.0), (5.0, 5.0), (5.0, 15.0), (8.0, 15.0), (8.0, 5.0)];
        assert_eq!(clip(&line, extent), vec![vec![(0.0, 5.0), (5.0, 5.0), (5.0, 10.0)], vec![(8.0, 10.0), (8.0, 5.0)]]);
        assert!(clip(&[(20.0, 20.0), (30.0, 30.0)], extent).is_empty());
    }
}
