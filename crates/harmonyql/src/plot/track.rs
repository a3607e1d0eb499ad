//! Ground-track maps: each beam's track on longitude/latitude axes over the built-in coastlines, with the
//! request's area (bounding box or polygon) outlined, zoomed to what is drawn with a margin.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::coast::{clip, coastlines};
use crate::plot::{Chart, PlotError, draw_error};

/// One beam's ground track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// Legend name, e.g. `gt1l (strong)`.
    pub name: String,
    /// Strong beams are drawn thicker.
    pub strong: bool,
    /// `(lon, lat)` points along the track, in order (a few thousand at most).
    pub points: Vec<(f64, f64)>,
}

/// Tracks and request areas on a map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackMap {
    /// Title, e.g. the file or job.
    pub title: String,
    /// The beams' tracks.
    pub tracks: Vec<Track>,
    /// Closed rings `(lon, lat)` of the request's area: a bounding box or polygons.
    pub areas: Vec<Vec<(f64, f64)>>,
}

/// Colours by beam pair (gt1, gt2, gt3), like the ATL03 user guide's figures; other names cycle.
const PAIR_COLOURS: [RGBColor; 3] = [RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(31, 119, 180)];
const AREA_COLOUR: RGBColor = RGBColor(255, 127, 14);
const COAST_COLOUR: RGBColor = RGBColor(110, 110, 110);

fn colour_of(index: usize, name: &str) -> RGBColor {
    let pair = name.strip_prefix("gt").and_then(|rest| rest.chars().next()).and_then(|c| c.to_digit(10));
    match pair {
        Some(pair @ 1..=3) => PAIR_COLOURS[pair as usize - 1],
        _ => PAIR_COLOURS[index % PAIR_COLOURS.len()],
    }
}

impl TrackMap {
    /// `[west, south, east, north]` of everything drawn, padded by 15% (at least 0.2°) and widened so a
    /// degree of longitude and of latitude have about the same length on the ground at the map's centre.
    pub fn extent(&self, size: (u32, u32)) -> Option<[f64; 4]> {
        let points = self.tracks.iter().flat_map(|t| &t.points).chain(self.areas.iter().flatten());
        let finite = points.filter(|(x, y)| x.is_finite() && y.is_finite());
        let [mut west, mut south, mut east, mut north] = finite.fold(None, |acc: Option<[f64; 4]>, &(x, y)| {
            Some(acc.map_or([x, y, x, y], |[w, s, e, n]| [w.min(x), s.min(y), e.max(x), n.max(y)]))
        })?;
        let pad_x = ((east - west) * 0.15).max(0.2);
        let pad_y = ((north - south) * 0.15).max(0.2);
        (west, east, south, north) = (west - pad_x, east + pad_x, south - pad_y, north + pad_y);
        let middle = ((south + north) / 2.0).clamp(-80.0, 80.0).to_radians().cos();
        let (width, height) = (f64::from(size.0.max(1)), f64::from(size.1.max(1)));
        // Ground length per pixel along each axis; widen the shorter one to match.
        let per_pixel_x = (east - west) * middle / width;
        let per_pixel_y = (north - south) / height;
        if per_pixel_x < per_pixel_y {
            let grow = (per_pixel_y * width / middle - (east - west)) / 2.0;
            (west, east) = (west - grow, east + grow);
        } else {
            let grow = (per_pixel_x * height - (north - south)) / 2.0;
            (south, north) = (south - grow, north + grow);
        }
        Some([west.max(-180.0), south.max(-90.0), east.min(180.0), north.min(90.0)])
    }
}

impl Chart for TrackMap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (width, height) = root.dim_in_pixel();
        let extent = self
            .extent((width.saturating_sub(100), height.saturating_sub(90)))
            .ok_or_else(|| PlotError::Empty("no track points and no request area".into()))?;
        let [west, south, east, north] = extent;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(west..east, south..north)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc("longitude (°)")
            .y_desc("latitude (°)")
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw()
            .map_err(draw_error)?;
        // Coastlines first, so tracks and areas draw over them.
        let coast = coastlines().iter().flat_map(|line| clip(line, extent));
        for part in coast {
            chart
                .draw_series(std::iter::once(PathElement::new(part, COAST_COLOUR.stroke_width(1))))
                .map_err(draw_error)?;
        }
        for (index, area) in self.areas.iter().enumerate() {
            let ring: Vec<(f64, f64)> = area.clone();
            chart
                .draw_series(std::iter::once(Polygon::new(ring.clone(), AREA_COLOUR.mix(0.12).filled())))
                .map_err(draw_error)?;
            let outline = chart
                .draw_series(std::iter::once(PathElement::new(ring, AREA_COLOUR.stroke_width(2))))
                .map_err(draw_error)?;
            if index == 0 {
                outline
                    .label("request area")
                    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], AREA_COLOUR.mix(0.5).filled()));
            }
        }
        for (index, track) in self.tracks.iter().enumerate() {
            let colour = colour_of(index, &track.name);
            let legend_style = if track.strong { colour.stroke_width(3) } else { colour.mix(0.75).stroke_width(1) };
            // Antimeridian crossings would draw a line across the whole map: break the track there.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(x, y) in track.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()) {
                if let Some(&(px, _)) = runs.last().and_then(|run| run.last())
                    && (x - px).abs() > 180.0
                {
                    runs.push(Vec::new());
                }
                if let Some(run) = runs.last_mut() {
                    run.push((x, y));
                }
            }
            let parts: Vec<Vec<(f64, f64)>> = runs.iter().flat_map(|run| clip(run, extent)).collect();
            // plotters draws wide strokes segment by segment, which leaves notches at every joint of a
            // dense track; a wide line is drawn instead as 1-pixel lines shifted by a pixel each way.
            let offsets: &[(i32, i32)] =
                if track.strong { &[(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)] } else { &[(0, 0)] };
            let thin = if track.strong { colour.stroke_width(1) } else { colour.mix(0.75).stroke_width(1) };
            for part in &parts {
                let pixels: Vec<(i32, i32)> = part.iter().map(|point| chart.backend_coord(point)).collect();
                for (dx, dy) in offsets {
                    let shifted: Vec<(i32, i32)> = pixels.iter().map(|(x, y)| (x + dx, y + dy)).collect();
                    root.draw(&PathElement::new(shifted, thin)).map_err(draw_error)?;
                }
            }
            if !parts.is_empty() && !self.tracks[..index].iter().any(|earlier| earlier.name == track.name) {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                    .map_err(draw_error)?
                    .label(&track.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], legend_style));
            }
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

    fn map() -> TrackMap {
        let line =
            |offset: f64| (0..200).map(|i| (-105.3 + offset + i as f64 * 0.0002, 40.0 + i as f64 * 0.005)).collect();
        TrackMap {
            title: "ATL03 tracks".into(),
            tracks: vec![
                Track { name: "gt1l (strong)".into(), strong: true, points: line(0.0) },
                Track { name: "gt1r (weak)".into(), strong: false, points: line(0.001) },
            ],
            areas: vec![vec![(-105.5, 40.0), (-105.0, 40.0), (-105.0, 41.0), (-105.5, 41.0), (-105.5, 40.0)]],
        }
    }

    #[test]
    fn a_track_map_shows_beams_area_and_axes() {
        let figure = render(&map(), (800, 600)).unwrap();
        check_figure(
            &figure,
            (800, 600),
            &["ATL03 tracks", "longitude (°)", "latitude (°)", "gt1l (strong)", "request area"],
        );
    }

    #[test]
    fn the_extent_holds_everything_with_a_margin_and_stays_on_the_globe() {
        let [west, south, east, north] = map().extent((800, 600)).unwrap();
        assert!(west < -105.5 && east > -105.0 && south < 40.0 && north > 41.0);
        assert!(east - west < 5.0 && north - south < 5.0, "{west} {south} {east} {north}");
        let polar = TrackMap {
            tracks: vec![Track { points: vec![(0.0, 89.9), (10.0, 89.95)], ..Track::default() }],
            ..TrackMap::default()
        };
        let [_, _, _, north] = polar.extent((800, 600)).unwrap();
        assert!(north <= 90.0);
        assert!(TrackMap::default().extent((800, 600)).is_none());
    }

    #[test]
    fn coastlines_appear_on_a_coastal_map() {
        // The Colorado box has no coast; a box over Florida does.
        let florida = TrackMap {
            areas: vec![vec![(-83.0, 25.0), (-80.0, 25.0), (-80.0, 28.0), (-83.0, 28.0), (-83.0, 25.0)]],
            ..TrackMap::default()
        };
        let inland = TrackMap {
            areas: vec![vec![(-105.5, 40.0), (-105.0, 40.0), (-105.0, 41.0), (-105.5, 41.0), (-105.5, 40.0)]],
            ..TrackMap::default()
        };
        let coast = "stroke=\"#6E6E6E\"";
        assert!(render(&florida, (600, 400)).unwrap().svg.contains(coast));
        assert!(!render(&inland, (600, 400)).unwrap().svg.contains(coast));
    }
}
