//! Plots as SVG and PNG with plotters: ATL03 photon clouds (density-rasterised), ground-track maps over
//! built-in coastlines, raster maps with a colour bar, histograms and line series. Text uses a font built
//! into the binary (DejaVu Sans), so plots look the same on a machine with no fonts installed.
//!
//! Pure drawing: charts arrive as plain values; reading files belongs to `data`, choosing what to plot
//! to `eval`.

pub mod coast;
mod photons;
mod raster;
mod series;
mod track;

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use photons::{PhotonCloud, PhotonDensity};
pub use raster::{RasterMap, coastlines_in};
pub use series::{Histogram, Series};
pub use track::{Track, TrackMap};

/// A rendered plot in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// SVG document (text refers to the `sans-serif` family; raster parts are embedded PNG).
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// There is nothing to plot (no finite values).
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// Drawing failed inside plotters.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The PNG could not be encoded.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    /// Draws on `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// The size plots get unless asked otherwise.
pub const DEFAULT_SIZE: (u32, u32) = (960, 540);

/// Renders `chart` as SVG and PNG of `size` pixels.
pub fn render(chart: &impl Chart, size: (u32, u32)) -> Result<Figure, PlotError> {
    register_fonts();
    let (width, height) = size;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        chart.draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        chart.draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    let svg = with_transparent_images(&svg)?;
    Ok(Figure { svg, png: encode_png(&pixels, width, height)?, width, height })
}

/// The colour charts paint where there is no data. plotters draws only opaque RGB, so the PNG and the
/// SVG's embedded images turn exactly this colour transparent; no chart draws it for anything else.
pub(crate) const NO_DATA: RGBColor = RGBColor(255, 254, 255);

/// RGBA PNG of RGB `pixels`, with [`NO_DATA`] pixels fully transparent.
fn encode_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let rgba: Vec<u8> = pixels
        .chunks_exact(3)
        .flat_map(|rgb| match rgb {
            [255, 254, 255] => [255, 255, 255, 0],
            &[r, g, b] => [r, g, b, 255],
            _ => unreachable!("chunks of three"),
        })
        .collect();
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // fdeflate's fast mode: several times faster than zlib's default level on plots (large flat areas,
    // few colours) for a file a little larger; the pixels are the same.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&rgba).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(png)
}

fn png_error(error: impl std::fmt::Display) -> PlotError {
    PlotError::Png(error.to_string())
}

/// plotters embeds bitmaps in SVG as opaque RGB PNGs under the non-standard `data:png` type; this re-encodes
/// each as an `image/png` with [`NO_DATA`] transparent, as in the PNG.
fn with_transparent_images(svg: &str) -> Result<String, PlotError> {
    use base64::Engine as _;
    const EMBEDDED: &str = "href=\"data:png;base64,";
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(at) = rest.find(EMBEDDED) {
        let data = &rest[at + EMBEDDED.len()..];
        let end = data.find('"').ok_or_else(|| PlotError::Png("an unterminated embedded image".into()))?;
        let bytes = base64.decode(&data[..end]).map_err(png_error)?;
        let (pixels, width, height) = decode_rgb(&bytes)?;
        out.push_str(&rest[..at]);
        out.push_str("href=\"data:image/png;base64,");
        out.push_str(&base64.encode(encode_png(&pixels, width, height)?));
        out.push('"');
        rest = &data[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn decode_rgb(png: &[u8]) -> Result<(Vec<u8>, u32, u32), PlotError> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().map_err(png_error)?;
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).map_err(png_error)?;
    if info.color_type != png::ColorType::Rgb || info.bit_depth != png::BitDepth::Eight {
        return Err(PlotError::Png(format!("an embedded {:?} image, not 8-bit RGB", info.color_type)));
    }
    pixels.truncate(info.buffer_size());
    Ok((pixels, info.width, info.height))
}

pub(crate) fn draw_error(error: impl std::fmt::Display) -> PlotError {
    PlotError::Draw(error.to_string())
}

static FONTS: Once = Once::new();

/// DejaVu Sans (Bitstream Vera licence, redistributable) for every family plotters asks for.
fn register_fonts() {
    FONTS.call_once(|| {
        static DEJAVU: &[u8] =
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/fonts/DejaVuSans.ttf"));
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is compiled in and known to be valid; a failure would only lose text, never crash.
            let _ = plotters::style::register_font(family, FontStyle::Normal, DEJAVU);
            let _ = plotters::style::register_font(family, FontStyle::Bold, DEJAVU);
        }
    });
}

/// The range of `values` between the `low` and `high` quantiles (0..1), ignoring non-finite values;
/// a single value widens to a unit range.
pub fn quantile_range(values: impl Iterator<Item = f64>, low: f64, high: f64) -> Option<(f64, f64)> {
    let mut finite: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let at = |q: f64| finite[((finite.len() - 1) as f64 * q).round() as usize];
    let (a, b) = (at(low), at(high));
    Some(if a < b { (a, b) } else { (a - 0.5, b + 0.5) })
}

/// Viridis, sampled at 9 stops, linearly interpolated: perceptually uniform and readable in grey.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let position = t * (STOPS.len() - 1) as f64;
    let index = (position.floor() as usize).min(STOPS.len() - 2);
    let fraction = position - index as f64;
    let (a, b) = (STOPS[index], STOPS[index + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * fraction).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn check_figure(figure: &Figure, size: (u32, u32), texts: &[&str]) {
        let decoder = png::Decoder::new(std::io::Cursor::new(&figure.png));
        let reader = decoder.read_info().expect("a valid PNG");
        assert_eq!((reader.info().width, reader.info().height), size);
        assert!(figure.svg.starts_with("<svg"), "{}", &figure.svg[..figure.svg.len().min(80)]);
        assert!(figure.svg.trim_end().ends_with("</svg>"));
        for text in texts {
            assert!(figure.svg.contains(text), "the SVG lacks {text:?}");
        }
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
    }

    #[test]
    fn quantiles_ignore_nan() {
        let values = [f64::NAN, 1.0, 2.0, 3.0, 100.0];
        assert_eq!(quantile_range(values.into_iter(), 0.0, 1.0), Some((1.0, 100.0)));
        assert_eq!(quantile_range([f64::NAN].into_iter(), 0.0, 1.0), None);
    }
}
