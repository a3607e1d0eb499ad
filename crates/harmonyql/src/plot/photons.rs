//! The ATL03 photon cloud: height against along-track distance, latitude or time, coloured by signal
//! confidence. Millions of photons are binned into one pixel grid the size of the plot area and drawn
//! as a single image, not one element per photon; [`PhotonDensity`] bins them as they are read.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Chart, PlotError, draw_error, quantile_range};

/// Photons to plot; the three vectors have one entry per photon.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotonCloud {
    /// Title, e.g. the file and beam.
    pub title: String,
    /// X axis label with units, e.g. `along-track distance (km)`.
    pub x_label: String,
    /// X values.
    pub x: Vec<f64>,
    /// Heights in metres.
    pub height: Vec<f64>,
    /// Signal confidence (ATL03 `signal_conf_ph` for the chosen surface: -2…4).
    pub confidence: Vec<i8>,
    /// Photons below this confidence are left out.
    pub min_confidence: i8,
}

/// Colour and name of each confidence class, from noise (0 and below) to high (4).
const CLASSES: [(RGBColor, &str); 5] = [
    (RGBColor(175, 175, 175), "noise"),
    (RGBColor(130, 170, 225), "buffer"),
    (RGBColor(40, 110, 200), "low"),
    (RGBColor(245, 145, 30), "medium"),
    (RGBColor(200, 20, 30), "high"),
];

fn class_of(confidence: i8) -> usize {
    confidence.clamp(0, 4) as usize
}

impl PhotonCloud {
    fn kept(&self) -> impl Iterator<Item = (f64, f64, i8)> + '_ {
        self.x
            .iter()
            .zip(&self.height)
            .zip(&self.confidence)
            .map(|((x, h), c)| (*x, *h, *c))
            .filter(move |(x, h, c)| x.is_finite() && h.is_finite() && *c >= self.min_confidence)
    }
}

impl Chart for PhotonCloud {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let x_range = quantile_range(self.kept().map(|p| p.0), 0.0, 1.0)
            .ok_or_else(|| PlotError::Empty(format!("no photons at confidence {} or above", self.min_confidence)))?;
        // The vertical range follows the signal: noise photons spread over kilometres of atmosphere.
        let signal = self.kept().filter(|p| p.2 >= 2).map(|p| p.1);
        let h_range = quantile_range(signal, 0.002, 0.998)
            .or_else(|| quantile_range(self.kept().map(|p| p.1), 0.01, 0.99))
            .unwrap_or((0.0, 1.0));
        let (width, height) = root.dim_in_pixel();
        let mut density = PhotonDensity::new(&self.title, &self.x_label, x_range, h_range, (width, height));
        for (x, h, c) in self.kept() {
            density.add(x, h, c);
        }
        density.draw(root)
    }
}

/// A photon cloud binned as it is read: per cell of a grid the size of the plot, the photon count and
/// the highest confidence class. Memory is that of the grid, whatever the number of photons, so files
/// of tens of millions of photons plot from chunked reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotonDensity {
    title: String,
    x_label: String,
    x_range: (f64, f64),
    y_range: (f64, f64),
    columns: usize,
    rows: usize,
    counts: Vec<u32>,
    classes: Vec<u8>,
}

impl PhotonDensity {
    /// An empty grid for a plot of `size` pixels: x from `x_range`, heights from `h_range` (the robust
    /// signal range, padded here by 15% and at least 5 m).
    pub fn new(title: &str, x_label: &str, x_range: (f64, f64), h_range: (f64, f64), size: (u32, u32)) -> Self {
        let pad = ((h_range.1 - h_range.0) * 0.15).max(5.0);
        // The plot area is the figure less the caption, margins and axis labels.
        let columns = (size.0 as usize).saturating_sub(100).max(16);
        let rows = (size.1 as usize).saturating_sub(90).max(16);
        Self {
            title: title.to_owned(),
            x_label: x_label.to_owned(),
            x_range,
            y_range: (h_range.0 - pad, h_range.1 + pad),
            columns,
            rows,
            counts: vec![0; columns * rows],
            classes: vec![0; columns * rows],
        }
    }

    /// Counts one photon (ignored outside the ranges or when not finite).
    pub fn add(&mut self, x: f64, height: f64, confidence: i8) {
        let ((x_min, x_max), (y_min, y_max)) = (self.x_range, self.y_range);
        let column = ((x - x_min) / (x_max - x_min) * (self.columns - 1) as f64).round();
        let row = ((y_max - height) / (y_max - y_min) * (self.rows - 1) as f64).round();
        if !(0.0..self.columns as f64).contains(&column) || !(0.0..self.rows as f64).contains(&row) {
            return;
        }
        let index = row as usize * self.columns + column as usize;
        self.counts[index] = self.counts[index].saturating_add(1);
        self.classes[index] = self.classes[index].max(class_of(confidence) as u8);
    }

    /// Photons counted so far.
    pub fn photons(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }
}

impl Chart for PhotonDensity {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let ((x_min, x_max), (y_min, y_max)) = (self.x_range, self.y_range);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x_min..x_max, y_min..y_max)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc("photon height (m)")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(draw_error)?;

        let (width, height) = chart.plotting_area().dim_in_pixel();
        let (width, height) = (width.max(1) as usize, height.max(1) as usize);
        // Resample the grid to the plot area's pixels: counts add up, the highest class wins.
        let mut counts = vec![0u32; width * height];
        let mut classes = vec![0u8; width * height];
        for (index, count) in self.counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let (row, column) = (index / self.columns, index % self.columns);
            let px = column * (width - 1) / (self.columns - 1).max(1);
            let py = row * (height - 1) / (self.rows - 1).max(1);
            let pixel = py * width + px;
            counts[pixel] = counts[pixel].saturating_add(*count);
            classes[pixel] = classes[pixel].max(self.classes[index]);
        }
        let busiest = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let mut pixels = vec![255u8; width * height * 3];
        for (index, count) in counts.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            // Darker where photons pile up, on a log scale so single photons stay visible.
            let strength = 0.35 + 0.65 * ((*count as f64).ln_1p() / busiest.ln_1p());
            let RGBColor(r, g, b) = CLASSES[classes[index] as usize].0;
            let blend = |channel: u8| (255.0 - (255.0 - channel as f64) * strength).round() as u8;
            pixels[index * 3..index * 3 + 3].copy_from_slice(&[blend(r), blend(g), blend(b)]);
        }
        let image = BitMapElement::with_owned_buffer((x_min, y_max), (width as u32, height as u32), pixels)
            .ok_or_else(|| PlotError::Draw("photon raster has the wrong size".into()))?;
        chart.draw_series(std::iter::once(image)).map_err(draw_error)?;

        let present: Vec<usize> = (0..CLASSES.len())
            .filter(|class| classes.iter().zip(&counts).any(|(c, n)| *n > 0 && *c as usize == *class))
            .collect();
        for class in present {
            let (colour, name) = CLASSES[class];
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(draw_error)?
                .label(format!("{name} ({class})"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(draw_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::render;
    use crate::plot::tests::check_figure;

    fn cloud(n: usize) -> PhotonCloud {
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.0007).collect();
        let height = x
            .iter()
            .enumerate()
            .map(|(i, x)| if i % 7 == 0 { 500.0 + (i % 997) as f64 * 3.0 } else { 1600.0 + 80.0 * (x * 3.0).sin() })
            .collect();
        let confidence = (0..n).map(|i| if i % 7 == 0 { 0 } else { 2 + (i % 3) as i8 }).collect();
        PhotonCloud {
            title: "ATL03 gt1l".into(),
            x_label: "along-track distance (km)".into(),
            x,
            height,
            confidence,
            min_confidence: 0,
        }
    }

    #[test]
    fn a_photon_cloud_renders_as_one_image_with_a_legend() {
        let figure = render(&cloud(50_000), (800, 450)).unwrap();
        check_figure(
            &figure,
            (800, 450),
            &["ATL03 gt1l", "photon height (m)", "along-track distance (km)", "high (4)"],
        );
        assert_eq!(figure.svg.matches("<image").count(), 1, "photons are one embedded image");
        assert!(figure.svg.len() < 400_000, "SVG size {} does not grow with the photon count", figure.svg.len());
    }

    #[test]
    fn confidence_filter_can_leave_nothing() {
        let mut photons = cloud(10);
        photons.min_confidence = 5;
        assert!(matches!(render(&photons, (400, 300)), Err(PlotError::Empty(_))));
    }
}
