//! Measurements for `benches/compare.py`, which runs the same work with the Python tools and prints ratios.
//! One JSON line per run on stdout; timings are wall-clock, in-process, after one warm-up where it matters.
//!
//! ```text
//! cargo bench --bench hq -- compile 20000          # parse + check + compile + render the tutorial's requests
//! cargo bench --bench hq -- read FILE.h5 gt1l      # ATL03 photons of one beam: heights, lat, lon, time, confidence
//! cargo bench --bench hq -- plot FILE.h5 gt1l OUT  # the photon-cloud plot, written as OUT.png
//! cargo bench --bench hq -- subset IN.h5 OUT.h5 W,S,E,N   # hq serve's Trajectory Subsetter, file to file
//! ```
//! Speed and memory targets live here, not in timed tests (DEVELOPERS.md).

use std::time::Instant;

use harmonyql::data::atl03::{self, SurfaceType};
use harmonyql::eval::session::{Config, Mode, Session};
use harmonyql::eval::sink::Report;

/// The tutorial's requests: what a notebook compiles most.
const REQUESTS: &str = "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)
subset SPL2SMP vars(Soil_Moisture_Retrieval_Data/landcover_class) limit 1 format geotiff
subset SPL3SMP granule(SMAP_L3_SM_P_20231212_R19240_001.h5) bbox(-93,30,-77,45) vars(Soil_Moisture_Retrieval_Data_AM/soil_moisture) crs EPSG:4326 format geotiff
subset SPL4CMDL granule(SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5) vars(NEE/nee_mean, RH/rh_mean, SOC/soc_mean) format geotiff";

fn main() {
    // `cargo bench` passes `--bench` to harness=false targets; it is not ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let result =
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["compile", count] => compile(count.parse().unwrap_or(10_000)),
            ["read", file, beam] => read(file, beam),
            ["plot", file, beam, out] => plot(file, beam, out),
            ["subset", input, output, bbox] => subset(input, output, bbox),
            _ => Err("usage: hq-bench compile N | read FILE BEAM | plot FILE BEAM OUT.png | subset IN OUT W,S,E,N"
                .to_owned()),
        };
    match result {
        Ok(json) => println!("{json}"),
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    }
}

fn compile(rounds: usize) -> Result<serde_json::Value, String> {
    let mut session = Session::new(Config { mode: Mode::ShowUrl, ..Config::default() });
    let mut reports = Vec::new();
    session.run(REQUESTS, &mut reports);
    let urls = reports.iter().filter(|r| matches!(r, Report::Url(_))).count();
    if urls != 4 {
        return Err(format!("expected 4 URLs, got {reports:?}"));
    }
    let started = Instant::now();
    for _ in 0..rounds {
        reports.clear();
        session.run(REQUESTS, &mut reports);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({"bench": "compile", "requests": rounds * urls, "seconds": seconds,
        "us_per_request": seconds * 1e6 / (rounds * urls) as f64}))
}

fn read(path: &str, beam: &str) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let file = hdf5::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let photons = atl03::read_photons(&file, beam, SurfaceType::Land, None).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({"bench": "read", "photons": photons.len(), "seconds": seconds}))
}

fn plot(path: &str, beam: &str, out: &str) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let mut session = Session::new(Config::default());
    let mut reports = Vec::new();
    session.run(&format!("plot photons \"{path}\" beam {beam}"), &mut reports);
    let figure = reports
        .iter()
        .find_map(|r| if let Report::Figure { figure, .. } = r { Some(figure) } else { None })
        .ok_or_else(|| format!("no figure: {reports:?}"))?;
    std::fs::write(out, &figure.png).map_err(|e| format!("{out}: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({"bench": "plot", "seconds": seconds, "png_bytes": figure.png.len()}))
}

fn subset(input: &str, output: &str, bbox: &str) -> Result<serde_json::Value, String> {
    use harmonyql_server::transform::{Operation, trajectory};
    let bbox: Vec<f64> = bbox.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    let bbox = <[f64; 4]>::try_from(bbox).map_err(|_| "the bounding box is WEST,SOUTH,EAST,NORTH".to_owned())?;
    let operation = Operation { bbox: Some(bbox), ..Operation::default() };
    let started = Instant::now();
    let subset = trajectory::subset(std::path::Path::new(input), std::path::Path::new(output), &operation)
        .map_err(|e| format!("{input}: {e}"))?
        .ok_or_else(|| format!("{input}: nothing inside the bounding box"))?;
    let seconds = started.elapsed().as_secs_f64();
    let photons: usize = subset.photons.iter().map(|(_, n)| n).sum();
    Ok(serde_json::json!({"bench": "subset", "photons": photons, "seconds": seconds}))
}
