//! Plots of real and generated data: every kind (and `plot granules`' footprint map) renders to a valid PNG and SVG of the expected size,
//! matches its golden image in `tests/golden/` (within a tolerance; `HQ_UPDATE_GOLDEN=1` rewrites them),
//! is reachable from a cell, and a 10-million-photon file plots in bounded memory. Figures are also
//! written to `$CARGO_TARGET_TMPDIR/plots/` for people to look at.

use std::path::{Path, PathBuf};

use harmonyql::data::atl03::{SurfaceType, read_photons};
use harmonyql::eval::files::{plot_files, request_areas};
use harmonyql::eval::session::Session;
use harmonyql::eval::sink::Report;
use harmonyql::lang::query::{PlotKind, PlotQuery, Target};
use harmonyql::plot::{Figure, Histogram, PhotonCloud, RasterMap, Series, Track, TrackMap, render};
use harmonyql_server::sample;

fn plots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/real/ATL03_gt1l.h5")
}

fn keep(figure: &Figure, name: &str) {
    std::fs::write(plots_dir().join(format!("{name}.png")), &figure.png).unwrap();
    std::fs::write(plots_dir().join(format!("{name}.svg")), &figure.svg).unwrap();
}

/// Decodes a PNG to RGBA pixels with its size (older golden images are RGB: opaque).
fn pixels(png: &[u8]) -> ((u32, u32), Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    buffer.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buffer,
        png::ColorType::Rgb => buffer.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => panic!("plots are RGB or RGBA, not {other:?}"),
    };
    ((info.width, info.height), rgba)
}

/// A valid PNG and SVG of `size`.
fn check_valid(figure: &Figure, size: (u32, u32)) {
    assert_eq!(pixels(&figure.png).0, size);
    assert_eq!((figure.width, figure.height), size);
    assert!(figure.svg.starts_with("<svg") && figure.svg.trim_end().ends_with("</svg>"));
    assert!(
        figure.svg.contains(&format!("width=\"{}\"", size.0)) && figure.svg.contains(&format!("height=\"{}\"", size.1))
    );
}

/// Mean absolute difference per channel (0..255) above which a plot counts as changed: font hinting
/// and anti-aliasing differences stay far below it, a moved axis or a lost layer does not.
const GOLDEN_TOLERANCE: f64 = 1.5;

fn check_golden(figure: &Figure, name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"));
    if std::env::var_os("HQ_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &figure.png).unwrap();
        return;
    }
    let golden = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with HQ_UPDATE_GOLDEN=1 to create it", path.display()));
    let (golden_size, golden_pixels) = pixels(&golden);
    let (size, new_pixels) = pixels(&figure.png);
    assert_eq!(size, golden_size, "{name}: size changed");
    let total: u64 = golden_pixels.iter().zip(&new_pixels).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
    let mean = total as f64 / golden_pixels.len() as f64;
    keep(figure, &format!("golden_{name}"));
    assert!(
        mean <= GOLDEN_TOLERANCE,
        "{name}: mean pixel difference {mean:.3} > {GOLDEN_TOLERANCE} from {} (new image in {}); \
         if the change is intended, rerun with HQ_UPDATE_GOLDEN=1",
        path.display(),
        plots_dir().display()
    );
}

const GOLDEN_SIZE: (u32, u32) = (640, 400);

fn photon_cloud() -> PhotonCloud {
    let n = 40_000;
    let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.001).collect();
    let height = x
        .iter()
        .enumerate()
        .map(|(i, x)| if i % 5 == 0 { 900.0 + (i * 7919 % 1000) as f64 } else { 1600.0 + 60.0 * (x * 0.3).sin() })
        .collect();
    let confidence = (0..n).map(|i| if i % 5 == 0 { 0 } else { 1 + (i % 4) as i8 }).collect();
    PhotonCloud {
        title: "photons".into(),
        x_label: "along-track distance (km)".into(),
        x,
        height,
        confidence,
        min_confidence: 0,
    }
}

fn track_map() -> TrackMap {
    let line = |dx: f64| (0..300).map(|i| (-81.9 + dx + i as f64 * 0.002, 25.2 + i as f64 * 0.009)).collect();
    TrackMap {
        title: "tracks".into(),
        tracks: vec![
            Track { name: "gt1l (strong)".into(), strong: true, points: line(0.0) },
            Track { name: "gt1r (weak)".into(), strong: false, points: line(0.03) },
            Track { name: "gt2l (strong)".into(), strong: true, points: line(0.4) },
        ],
        areas: vec![vec![(-82.0, 25.0), (-80.5, 25.0), (-80.5, 28.0), (-82.0, 28.0), (-82.0, 25.0)]],
    }
}

fn raster_map() -> RasterMap {
    let (columns, rows) = (96, 48);
    let values = (0..columns * rows)
        .map(|i| {
            let (r, c) = ((i / columns) as f64, (i % columns) as f64);
            if (r - 24.0).powi(2) + (c - 48.0).powi(2) < 60.0 {
                f64::NAN
            } else {
                (r * 0.1).sin() * (c * 0.07).cos() * 0.2 + 0.25
            }
        })
        .collect();
    RasterMap {
        title: "raster".into(),
        units: "cm³/cm³".into(),
        x_label: "longitude (°)".into(),
        y_label: "latitude (°)".into(),
        columns,
        rows,
        values,
        extent: [-110.0, 30.0, -90.0, 40.0],
        overlay: vec![vec![(-105.0, 31.0), (-100.0, 39.0), (-95.0, 31.0)]],
    }
}

fn values() -> Vec<f64> {
    (0..5000).map(|i| ((i * 7919) % 1000) as f64 / 100.0 + (i as f64 * 0.01).sin() * 3.0).collect()
}

#[test]
fn every_plot_kind_renders_valid_png_and_svg_matching_its_golden_image() {
    let origin = chrono::DateTime::parse_from_rfc3339("2020-04-27T19:36:22Z").unwrap().to_utc();
    let figures = [
        ("photons", render(&photon_cloud(), GOLDEN_SIZE)),
        ("track", render(&track_map(), GOLDEN_SIZE)),
        ("raster", render(&raster_map(), GOLDEN_SIZE)),
        (
            "histogram",
            render(
                &Histogram { title: "histogram".into(), x_label: "h_ph (m)".into(), values: values(), bins: 40 },
                GOLDEN_SIZE,
            ),
        ),
        (
            "series",
            render(
                &Series {
                    title: "series".into(),
                    x_label: "time (UTC)".into(),
                    y_label: "h_ph (m)".into(),
                    x: (0..5000).map(|i| i as f64 * 0.01).collect(),
                    y: values(),
                    time_origin: Some(origin),
                },
                GOLDEN_SIZE,
            ),
        ),
    ];
    for (name, figure) in figures {
        let figure = figure.unwrap_or_else(|e| panic!("{name}: {e}"));
        check_valid(&figure, GOLDEN_SIZE);
        check_golden(&figure, name);
    }
}

#[test]
fn a_changed_plot_fails_its_golden_comparison() {
    if std::env::var_os("HQ_UPDATE_GOLDEN").is_some() {
        return;
    }
    let mut moved = raster_map();
    moved.extent = [-100.0, 30.0, -80.0, 40.0];
    moved.values.iter_mut().for_each(|v| *v = 0.4 - *v);
    let figure = render(&moved, GOLDEN_SIZE).unwrap();
    let outcome = std::panic::catch_unwind(|| check_golden(&figure, "raster"));
    assert!(outcome.is_err(), "a different raster must not pass as the golden one");
}

/// NASA's real ATL03 file (sea ice near the North Pole) plots as a photon cloud against latitude.
#[test]
fn the_real_fixture_plots_as_a_photon_cloud() {
    let file = hdf5::File::open(fixture()).unwrap();
    let photons = read_photons(&file, "gt1l", SurfaceType::SeaIce, None).unwrap();
    assert_eq!(photons.len(), 2909);
    let figure = plot_files(&[fixture()], &query(None), &[]).unwrap();
    keep(&figure, "real_fixture_photons");
    check_valid(&figure, (960, 540));
    assert!(
        figure.svg.contains("ATL03_gt1l.h5 gt1l") && figure.svg.contains("sea ice confidence"),
        "sea ice is the surface computed"
    );
}

fn query(kind: Option<PlotKind>) -> PlotQuery {
    PlotQuery {
        kind,
        target: Target::Path(String::new()),
        group: None,
        beam: None,
        by: None,
        confidence: None,
        surface: None,
        variable: None,
    }
}

fn outputs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hq-plot-granules");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generated(short_name: &str) -> PathBuf {
    let granule = sample::granules(short_name).into_iter().next().expect("a sample granule");
    sample::ensure(&granule, &outputs(), 1).expect("generate the granule")
}

/// Each kind is reachable through `plot_files` on real and generated files, with titles naming the
/// file and the variable and axes carrying units.
#[test]
fn files_plot_in_every_kind_with_units_and_titles() {
    let atl03 = generated("ATL03");
    let smap = generated("SPL3SMP");
    let cases: Vec<(&str, PathBuf, PlotQuery, Vec<&str>)> = vec![
        (
            "histogram",
            fixture(),
            PlotQuery { variable: Some("gt1l/heights/h_ph".into()), ..query(Some(PlotKind::Histogram)) },
            vec!["gt1l/heights/h_ph", "h_ph (meters)", "count"],
        ),
        (
            "series",
            fixture(),
            PlotQuery { variable: Some("gt1l/heights/h_ph".into()), ..query(None) },
            vec!["time (UTC, 2018-10-14)", "h_ph (meters)"],
        ),
        (
            "series_index",
            atl03.clone(),
            PlotQuery { variable: Some("ds_surf_type".into()), ..query(Some(PlotKind::Series)) },
            vec!["index"],
        ),
        (
            "photons_distance",
            atl03.clone(),
            PlotQuery { by: Some("distance".into()), confidence: Some(3), beam: Some("gt2l".into()), ..query(None) },
            vec!["along-track distance (km)", "gt2l", "high (4)"],
        ),
        ("smap_raster", smap.clone(), query(None), vec!["soil_moisture", "x (km, EASE-Grid 2.0 M36", "cm", "#3C3C3C"]),
        ("atl03_histogram_default", atl03.clone(), query(Some(PlotKind::Histogram)), vec!["heights/h_ph"]),
    ];
    for (name, path, query, texts) in cases {
        let figure = plot_files(std::slice::from_ref(&path), &query, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        keep(&figure, name);
        check_valid(&figure, (960, 540));
        for text in texts {
            assert!(figure.svg.contains(text), "{name}: the SVG lacks {text:?}");
        }
    }
    let wrong = plot_files(&[smap], &query(Some(PlotKind::Photons)), &[]).unwrap_err().to_string();
    assert!(wrong.contains("not an ATL03 file"), "{wrong}");
    let missing = plot_files(
        &[fixture()],
        &PlotQuery { variable: Some("gt1l/heights/nope".into()), ..query(Some(PlotKind::Histogram)) },
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(missing.contains("has no variable gt1l/heights/nope"), "{missing}");
}

/// A track map of a generated granule with the request's bbox: all six beams and the box, over land.
#[test]
fn a_track_map_draws_every_beam_and_the_request_area() {
    let atl03 = generated("ATL03");
    let cell = "subset ATL03 bbox(-105.5, 40, -105, 41)";
    let checked = harmonyql::lang::check::check(&harmonyql::lang::parse::parse(cell).ast, &Default::default());
    let Some(harmonyql::lang::query::Query::Subset(subset)) = checked.statements.first().map(|s| s.query.clone())
    else {
        panic!("the subset checks")
    };
    let areas = request_areas(&subset);
    assert_eq!(areas, vec![vec![(-105.5, 40.0), (-105.0, 40.0), (-105.0, 41.0), (-105.5, 41.0), (-105.5, 40.0)]]);
    let figure = plot_files(&[atl03], &query(Some(PlotKind::Track)), &areas).unwrap();
    keep(&figure, "generated_track");
    check_valid(&figure, (960, 540));
    for text in ["gt1l", "gt3r", "request area", "longitude (°)", "ground tracks"] {
        assert!(figure.svg.contains(text), "the SVG lacks {text:?}");
    }
    let only_area = plot_files(&[], &query(Some(PlotKind::Track)), &areas).unwrap();
    assert!(only_area.svg.contains("request area"));
}

/// KML and zipped-shapefile requests are outlined too, from the same parser `hq serve` subsets with.
#[test]
fn track_maps_outline_kml_and_shapefile_areas() {
    let shapes = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/shapes");
    // (file, a point of the country's outline to expect inside the rings' extent)
    for (file, (lon, lat)) in [("SriLanka_simple.kml", (80.7, 7.9)), ("Semey.zip", (80.2, 50.4))] {
        let cell = format!("subset ATL03 shape(\"{}\")", shapes.join(file).display());
        let checked = harmonyql::lang::check::check(&harmonyql::lang::parse::parse(&cell).ast, &Default::default());
        let Some(harmonyql::lang::query::Query::Subset(subset)) = checked.statements.first().map(|s| s.query.clone())
        else {
            panic!("{cell} checks: {:?}", checked.diagnostics)
        };
        let areas = request_areas(&subset);
        assert!(!areas.is_empty() && areas.iter().all(|ring| ring.len() >= 4), "{file}: {areas:?}");
        let points = areas.iter().flatten();
        let (west, east) = points.clone().fold((f64::MAX, f64::MIN), |(w, e), p| (w.min(p.0), e.max(p.0)));
        let (south, north) = points.fold((f64::MAX, f64::MIN), |(s, n), p| (s.min(p.1), n.max(p.1)));
        assert!(west < lon && lon < east && south < lat && lat < north, "{file}: [{west}, {south}, {east}, {north}]");
        let figure = plot_files(&[], &query(Some(PlotKind::Track)), &areas).unwrap();
        assert!(figure.svg.contains("request area"), "{file}");
    }
}

/// From a cell: the one-word form, a histogram and a series, each a figure report.
#[test]
fn cells_plot_files_in_one_line() {
    let path = fixture().display().to_string();
    for cell in [
        format!("plot \"{path}\""),
        format!("plot histogram \"{path}\" var \"gt1l/heights/h_ph\""),
        format!("plot series \"{path}\" var \"gt1l/heights/h_ph\""),
        format!("plot photons \"{path}\" by distance confidence 2 surface sea_ice"),
        format!("plot track \"{path}\""),
    ] {
        let mut session = Session::default();
        let mut reports = Vec::new();
        let outcome = session.run(&cell, &mut reports);
        assert!(outcome.ok, "{cell}: {reports:?}");
        assert!(matches!(reports.last(), Some(Report::Figure { .. })), "{cell}: {reports:?}");
    }
}

/// Writes a synthetic ATL03 beam of `n` photons in chunks (no compression, so writing is fast).
fn write_big_granule(path: &Path, n: usize) {
    let file = hdf5::File::create(path).unwrap();
    let heights = file.create_group("gt1l").unwrap().create_group("heights").unwrap();
    let chunk = 1 << 20;
    let create = |name: &str| heights.new_dataset::<f64>().shape(n).chunk(chunk).create(name).unwrap();
    let datasets = [create("delta_time"), create("lat_ph"), create("lon_ph")];
    let h_ph = heights.new_dataset::<f32>().shape(n).chunk(chunk).create("h_ph").unwrap();
    let confidence = heights.new_dataset::<i8>().shape((n, 5)).chunk((chunk, 5)).create("signal_conf_ph").unwrap();
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let rows: Vec<usize> = (start..end).collect();
        let time: Vec<f64> = rows.iter().map(|&i| 73_251_382.0 + i as f64 * 1e-5).collect();
        let lat: Vec<f64> = rows.iter().map(|&i| 40.0 + i as f64 * 1e-7).collect();
        let lon: Vec<f64> = rows.iter().map(|&i| -105.3 + i as f64 * 1e-8).collect();
        for (dataset, values) in datasets.iter().zip([&time, &lat, &lon]) {
            dataset.write_slice(values, start..end).unwrap();
        }
        let h: Vec<f32> = rows
            .iter()
            .map(|&i| if i % 4 == 0 { (i % 3000) as f32 } else { 1600.0 + ((i / 1000) % 50) as f32 })
            .collect();
        h_ph.write_slice(&h, start..end).unwrap();
        let conf: Vec<i8> = rows.iter().flat_map(|&i| [if i % 4 == 0 { 0 } else { 4 }, -1, -1, -1, -1]).collect();
        let conf = ndarray::Array2::from_shape_vec((end - start, 5), conf).unwrap();
        confidence.write_slice(&conf, ndarray::s![start..end, ..]).unwrap();
        start = end;
    }
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

const BIG_PHOTONS: usize = 10_000_000;

/// The child half of the memory test: generates the file, plots it and prints the peak RSS. Runs only
/// when the parent starts it, in its own process, so other tests' memory does not count.
#[test]
fn big_photon_plot_child() {
    let Some(dir) = std::env::var_os("HQ_BIG_PHOTON_DIR") else { return };
    let path = PathBuf::from(dir).join("big.h5");
    write_big_granule(&path, BIG_PHOTONS);
    let before = peak_rss_mb();
    let figure =
        plot_files(std::slice::from_ref(&path), &PlotQuery { by: Some("distance".into()), ..query(None) }, &[])
            .unwrap();
    check_valid(&figure, (960, 540));
    let summary = harmonyql::data::summary::open(&path).unwrap();
    assert!(summary.to_string().contains("gt1l (?): 10000000 photons"), "{summary}");
    println!("HQ_PEAK_RSS_MB before={before:.1} after={:.1}", peak_rss_mb());
}

/// Ten million photons (every array of them would take 330 MB) plot and open in well under that, because the
/// photons are read in chunks and binned as they come.
#[test]
fn ten_million_photons_plot_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "plot::big_photon_plot_child", "--nocapture", "--test-threads=1"])
        .env("HQ_BIG_PHOTON_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find(|l| l.contains("HQ_PEAK_RSS_MB")).unwrap_or_else(|| panic!("{stdout}"));
    let after: f64 = line.rsplit("after=").next().unwrap().trim().parse().unwrap();
    eprintln!("{line}");
    assert!(after < 200.0, "peak RSS {after} MB while plotting {BIG_PHOTONS} photons");
}

#[test]
fn the_granule_footprint_map_matches_its_golden_image() {
    use harmonyql::eval::search::plot_granules;
    use harmonyql::harmony::cmr::GranuleResults;

    // Two ATL03 footprints (a CMR line and a polygon, latitude first) and a box, around San Francisco Bay, so
    // the coastline layer is part of the image.
    let entries = serde_json::json!([
        {"id": "G1-A", "title": "ATL03_20200427193622_04930702_006_02.h5",
         "lines": ["37.2 -122.2 37.7 -122.3 38.3 -122.42"]},
        {"id": "G2-A", "title": "ATL03_20200612190211_12190702_006_01.h5",
         "polygons": [["37.3 -122.55 38.2 -122.72 38.2 -122.68 37.3 -122.51 37.3 -122.55"]]},
        {"id": "G3-A", "title": "ATL03_box", "boxes": ["37.6 -123.2 37.9 -121.8"]}
    ]);
    let results = GranuleResults {
        url: String::new(),
        collection: "ATL03".into(),
        hits: 5,
        granules: serde_json::from_value(entries).unwrap(),
        areas: vec![vec![[-122.6, 37.5], [-122.0, 37.5], [-122.0, 38.1], [-122.6, 38.1], [-122.6, 37.5]]],
    };
    let figure = plot_granules(&results).unwrap();
    check_valid(&figure, harmonyql::plot::DEFAULT_SIZE);
    assert!(figure.svg.contains("ATL03: 3 of 5 granule(s)"));
    check_golden(&figure, "granules");
}
