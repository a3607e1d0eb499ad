//! Raster maps for SMAP grids and GeoTIFFs: values coloured with viridis over a robust range, nodata
//! transparent, and a colour bar with units.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Chart, NO_DATA, PlotError, draw_error, quantile_range, viridis};

/// A grid of values to map; `values` is row-major with row 0 at the north (top) edge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RasterMap {
    /// Title, e.g. the file and variable.
    pub title: String,
    /// Units of the values, for the colour bar.
    pub units: String,
    /// X axis label (`longitude (°)` or `x (m, EPSG:6933)`).
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Number of columns.
    pub columns: usize,
    /// Number of rows.
    pub rows: usize,
    /// The values; NaN where there is no data.
    pub values: Vec<f64>,
    /// `[west, south, east, north]` of the grid's outer edges in the axes' units.
    pub extent: [f64; 4],
    /// Lines drawn over the map in the axes' units, such as coastlines (see [`coastlines_in`]).
    pub overlay: Vec<Vec<(f64, f64)>>,
}

/// The built-in coastlines in a map's coordinates: `project` takes (lon, lat) degrees to the map's x and
/// y; lines are clipped to `extent`.
pub fn coastlines_in(extent: [f64; 4], project: impl Fn(f64, f64) -> (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    crate::plot::coast::coastlines()
        .iter()
        .flat_map(|line| {
            let projected: Vec<(f64, f64)> = line.iter().map(|&(lon, lat)| project(lon, lat)).collect();
            crate::plot::coast::clip(&projected, extent)
        })
        .collect()
}

impl Chart for RasterMap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        if self.columns == 0 || self.rows == 0 || self.values.len() != self.columns * self.rows {
            return Err(PlotError::Empty(format!(
                "a {}×{} grid with {} values",
                self.columns,
                self.rows,
                self.values.len()
            )));
        }
        let (low, high) = quantile_range(self.values.iter().copied(), 0.02, 0.98)
            .ok_or_else(|| PlotError::Empty("every cell is nodata".into()))?;
        let (width, _) = root.dim_in_pixel();
        let (map_area, bar_area) = root.split_horizontally(width.saturating_sub(110));
        let [west, south, east, north] = self.extent;
        let mut chart = ChartBuilder::on(&map_area)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(west..east, south..north)
            .map_err(draw_error)?;
        chart.configure_mesh().x_desc(&self.x_label).y_desc(&self.y_label).disable_mesh().draw().map_err(draw_error)?;

        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (pw, ph) = (pw.max(1) as usize, ph.max(1) as usize);
        let mut pixels = vec![0u8; pw * ph * 3];
        for py in 0..ph {
            let row = (py * self.rows / ph).min(self.rows - 1);
            for px in 0..pw {
                let column = (px * self.columns / pw).min(self.columns - 1);
                let value = self.values[row * self.columns + column];
                let RGBColor(r, g, b) = if value.is_finite() { viridis((value - low) / (high - low)) } else { NO_DATA };
                pixels[(py * pw + px) * 3..(py * pw + px) * 3 + 3].copy_from_slice(&[r, g, b]);
            }
        }
        let image = BitMapElement::with_owned_buffer((west, north), (pw as u32, ph as u32), pixels)
            .ok_or_else(|| PlotError::Draw("raster image has the wrong size".into()))?;
        chart.draw_series(std::iter::once(image)).map_err(draw_error)?;
        for line in &self.overlay {
            chart
                .draw_series(std::iter::once(PathElement::new(line.clone(), RGBColor(60, 60, 60).stroke_width(1))))
                .map_err(draw_error)?;
        }

        let mut bar = ChartBuilder::on(&bar_area)
            .margin_top(44)
            .margin_bottom(54)
            .margin_right(8)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..1.0, low..high)
            .map_err(draw_error)?;
        bar.configure_mesh()
            .disable_x_axis()
            .disable_mesh()
            .y_label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .y_desc(if self.units.is_empty() { "value" } else { &self.units })
            .draw()
            .map_err(draw_error)?;
        let steps = 64;
        bar.draw_series((0..steps).map(|i| {
            let a = low + (high - low) * i as f64 / steps as f64;
            let b = low + (high - low) * (i + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], viridis((i as f64 + 0.5) / steps as f64).filled())
        }))
        .map_err(draw_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::render;
    use crate::plot::tests::check_figure;

    #[test]
    fn a_grid_with_nodata_renders_with_a_colour_bar() {
        let (columns, rows) = (120, 60);
        let values = (0..columns * rows)
            .map(|i| if i % 11 == 0 { f64::NAN } else { (i % columns) as f64 / columns as f64 * 0.5 })
            .collect();
        let map = RasterMap {
            title: "SPL3SMP soil_moisture".into(),
            units: "cm³/cm³".into(),
            x_label: "longitude (°)".into(),
            y_label: "latitude (°)".into(),
            columns,
            rows,
            values,
            extent: [-93.0, 30.0, -77.0, 45.0],
            overlay: coastlines_in([-93.0, 30.0, -77.0, 45.0], |lon, lat| (lon, lat)),
        };
        let figure = render(&map, (900, 500)).unwrap();
        check_figure(&figure, (900, 500), &["SPL3SMP soil_moisture", "cm³/cm³", "longitude (°)", "#3C3C3C"]);
    }

    /// RGBA pixels of a PNG and its width.
    fn rgba(png: &[u8]) -> (Vec<u8>, usize) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        (pixels, info.width as usize)
    }

    fn alpha_at((pixels, width): &(Vec<u8>, usize), x: usize, y: usize) -> u8 {
        pixels[(y * width + x) * 4 + 3]
    }

    #[test]
    fn nodata_is_transparent_in_the_png_and_in_the_svg_image() {
        // West half no data, east half data.
        let values = (0..40 * 20).map(|i| if i % 40 < 20 { f64::NAN } else { (i % 40) as f64 }).collect();
        let map = RasterMap { columns: 40, rows: 20, values, extent: [0.0, 0.0, 40.0, 20.0], ..RasterMap::default() };
        let figure = render(&map, (600, 400)).unwrap();
        let png = rgba(&figure.png);
        let transparent = png.0.chunks_exact(4).filter(|p| p[3] == 0).count();
        assert!(transparent > 600 * 400 / 8, "the west half of the map is transparent: {transparent} pixels");
        assert_eq!(alpha_at(&png, 2, 2), 255, "the figure's margin stays white");

        use base64::Engine as _;
        assert!(!figure.svg.contains("data:png;"), "a standard image/png data URL");
        let start = figure.svg.find("data:image/png;base64,").expect("an embedded image") + 22;
        let end = start + figure.svg[start..].find('"').unwrap();
        let embedded = base64::engine::general_purpose::STANDARD.decode(&figure.svg[start..end]).unwrap();
        let image = rgba(&embedded);
        let height = image.0.len() / 4 / image.1;
        assert_eq!(alpha_at(&image, 1, height / 2), 0, "west edge: no data");
        assert_eq!(alpha_at(&image, image.1 - 2, height / 2), 255, "east edge: data");
    }

    #[test]
    fn all_nodata_is_reported() {
        let map = RasterMap {
            columns: 2,
            rows: 1,
            values: vec![f64::NAN, f64::NAN],
            extent: [0.0, 0.0, 1.0, 1.0],
            ..RasterMap::default()
        };
        assert!(matches!(render(&map, (300, 200)), Err(PlotError::Empty(_))));
    }
}
