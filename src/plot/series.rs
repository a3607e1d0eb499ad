//! Histograms and line series of any 1-D variable.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Chart, PlotError, draw_error, quantile_range};

/// A histogram of the finite values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Title.
    pub title: String,
    /// The variable and its units, for the x axis.
    pub x_label: String,
    /// The values.
    pub values: Vec<f64>,
    /// Number of bins.
    pub bins: usize,
}

/// A line of `y` against `x`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Title.
    pub title: String,
    /// X axis label with units.
    pub x_label: String,
    /// Y axis label with units.
    pub y_label: String,
    /// X values.
    pub x: Vec<f64>,
    /// Y values; NaN breaks the line.
    pub y: Vec<f64>,
}

impl Chart for Histogram {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (low, high) = quantile_range(self.values.iter().copied(), 0.0, 1.0)
            .ok_or_else(|| PlotError::Empty("no finite values".into()))?;
        let bins = self.bins.max(1);
        let mut counts = vec![0u64; bins];
        for value in self.values.iter().filter(|v| v.is_finite()) {
            let bin = (((value - low) / (high - low)) * bins as f64).floor() as usize;
            counts[bin.min(bins - 1)] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.08;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(low..high, 0.0..top)
            .map_err(draw_error)?;
        chart.configure_mesh().x_desc(&self.x_label).y_desc("count").draw().map_err(draw_error)?;
        let width = (high - low) / bins as f64;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, count)| {
                let left = low + width * i as f64;
                Rectangle::new([(left, 0.0), (left + width, *count as f64)], RGBColor(40, 110, 200).mix(0.8).filled())
            }))
            .map_err(draw_error)?;
        Ok(())
    }
}

impl Chart for Series {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let points: Vec<(f64, f64)> =
            self.x.iter().zip(&self.y).map(|(x, y)| (*x, *y)).filter(|(x, _)| x.is_finite()).collect();
        let (x_min, x_max) = quantile_range(points.iter().map(|p| p.0), 0.0, 1.0)
            .ok_or_else(|| PlotError::Empty("no finite x".into()))?;
        let (y_min, y_max) = quantile_range(points.iter().map(|p| p.1), 0.0, 1.0)
            .ok_or_else(|| PlotError::Empty("no finite y".into()))?;
        let pad = (y_max - y_min) * 0.05;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x_min..x_max, (y_min - pad)..(y_max + pad))
            .map_err(draw_error)?;
        chart.configure_mesh().x_desc(&self.x_label).y_desc(&self.y_label).draw().map_err(draw_error)?;
        // NaN in y splits the line into runs, so gaps stay gaps.
        for run in points.split(|p| !p.1.is_finite()).filter(|run| !run.is_empty()) {
            chart
                .draw_series(LineSeries::new(run.iter().copied(), RGBColor(40, 110, 200).stroke_width(2)))
                .map_err(draw_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::render;
    use crate::plot::tests::check_figure;

    #[test]
    fn histogram_and_series_render() {
        let values: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
        let histogram =
            Histogram { title: "h_ph".into(), x_label: "height (m)".into(), values: values.clone(), bins: 30 };
        check_figure(&render(&histogram, (640, 400)).unwrap(), (640, 400), &["h_ph", "height (m)", "count"]);
        let mut y = values;
        y[500] = f64::NAN;
        let series = Series {
            title: "series".into(),
            x_label: "time (s)".into(),
            y_label: "h (m)".into(),
            x: (0..1000).map(f64::from).collect(),
            y,
        };
        check_figure(&render(&series, (640, 400)).unwrap(), (640, 400), &["time (s)", "h (m)"]);
    }
}
