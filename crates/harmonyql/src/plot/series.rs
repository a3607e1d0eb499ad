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
    /// When set, x values are seconds since this instant and the axis is labelled with UTC times.
    pub time_origin: Option<chrono::DateTime<chrono::Utc>>,
}

/// Inserts a break (NaN) wherever x jumps by more than 20 times its median step, so data missing along
/// x (a subset with two separate passes, a gap in a track) shows as a gap, not as a straight line.
fn break_gaps(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut steps: Vec<f64> = points.windows(2).map(|w| (w[1].0 - w[0].0).abs()).filter(|d| *d > 0.0).collect();
    if steps.len() < 3 {
        return points;
    }
    let middle = steps.len() / 2;
    let median = *steps.select_nth_unstable_by(middle, f64::total_cmp).1;
    let mut out = Vec::with_capacity(points.len() + 8);
    for (index, point) in points.iter().enumerate() {
        if index > 0 && (point.0 - points[index - 1].0).abs() > median * 20.0 {
            out.push(((point.0 + points[index - 1].0) / 2.0, f64::NAN));
        }
        out.push(*point);
    }
    out
}

/// Keeps the shape of a long line at `columns` pixels: per column, the first, lowest, highest and last
/// points in x order, so spikes survive and the SVG stays small whatever the length.
fn thin(points: &[(f64, f64)], x_min: f64, x_max: f64, columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns * 4 || x_max <= x_min {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(columns * 4);
    let column_of = |x: f64| (((x - x_min) / (x_max - x_min)) * columns as f64).floor() as i64;
    let mut start = 0;
    while start < points.len() {
        let column = column_of(points[start].0);
        let mut end = start + 1;
        while end < points.len()
            && column_of(points[end].0) == column
            && points[end].1.is_finite() == points[start].1.is_finite()
        {
            end += 1;
        }
        let run = &points[start..end];
        let low = run.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let high = run.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
        let mut picked: Vec<(f64, f64)> =
            [Some(run[0]), low, high, run.last().copied()].into_iter().flatten().collect();
        picked.sort_by(|a, b| a.0.total_cmp(&b.0));
        picked.dedup();
        out.extend(picked);
        start = end;
    }
    out
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
        let points = break_gaps(points);
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
        // Labels show UTC clock times, with seconds fractions when the span is short.
        let span = x_max - x_min;
        let time_label = |x: &f64| match self.time_origin {
            Some(origin) => {
                let at = origin + chrono::Duration::microseconds((x * 1e6).round() as i64);
                let format = if span < 10.0 {
                    "%H:%M:%S%.3f"
                } else if span < 86_400.0 {
                    "%H:%M:%S"
                } else {
                    "%Y-%m-%d %H:%M"
                };
                at.format(format).to_string()
            }
            None => format!("{x}"),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08));
        if self.time_origin.is_some() {
            mesh.x_label_formatter(&time_label).x_labels(6);
        }
        mesh.draw().map_err(draw_error)?;
        let (columns, _) = chart.plotting_area().dim_in_pixel();
        let points = thin(&points, x_min, x_max, columns.max(1) as usize);
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
            time_origin: None,
        };
        check_figure(&render(&series, (640, 400)).unwrap(), (640, 400), &["time (s)", "h (m)"]);
    }

    #[test]
    fn gaps_along_x_break_the_line() {
        let points = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 2.0), (100.0, 5.0), (101.0, 4.0)];
        let broken = break_gaps(points);
        assert_eq!(broken.len(), 7);
        assert!(broken[4].1.is_nan() && broken[4].0 == 51.5);
        assert_eq!(break_gaps(vec![(0.0, 1.0), (1.0, 2.0)]).len(), 2);
    }

    #[test]
    fn long_series_are_thinned_to_the_pixels_and_keep_their_spikes() {
        let n = 1_000_000;
        let mut y: Vec<f64> = (0..n).map(|i| (i as f64 * 1e-4).sin()).collect();
        y[777_777] = 50.0;
        let origin = chrono::DateTime::parse_from_rfc3339("2020-04-27T19:36:22Z").unwrap().to_utc();
        let series = Series {
            title: "h_ph".into(),
            x_label: "time (UTC)".into(),
            y_label: "h_ph (m)".into(),
            x: (0..n).map(|i| i as f64 * 1e-3).collect(),
            y,
            time_origin: Some(origin),
        };
        let figure = render(&series, (640, 400)).unwrap();
        check_figure(&figure, (640, 400), &["time (UTC)", "19:36:"]);
        assert!(figure.svg.len() < 300_000, "SVG of {} bytes", figure.svg.len());
        let points: Vec<(f64, f64)> = series.x.iter().copied().zip(series.y.iter().copied()).collect();
        let thinned = thin(&points, 0.0, 1000.0, 500);
        assert!(thinned.len() <= 2000 && thinned.iter().any(|p| p.1 == 50.0));
    }
}
