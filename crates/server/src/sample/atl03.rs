//! Synthetic ATL03 v006 granules: six beams along a near-polar ground track with the real group and
//! variable layout, dtypes, attributes, chunking and compression (data-formats.md §1), photons over a
//! terrain-like surface, and dimension scales so that netCDF readers open `gtX/heights`.
//!
//! Owns only the writing of one granule from its [`TrackSpec`]; which granules exist is `sample/mod.rs`.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use hdf5::types::FixedAscii;
use hdf5::{Group, Location};
use ndarray::Array2;

use crate::sample::random::Random;
use harmonyql_data::h5::{self, Storage, set_number, set_numbers, set_text, write_1d, write_array, write_scalar};
use harmonyql_data::time::{ATLAS_SDP_GPS_EPOCH, delta_time_to_utc, utc_to_delta_time};
use harmonyql_data::{Error, Result};

/// Ground speed of the ICESat-2 footprint, m/s.
const GROUND_SPEED: f64 = 7_000.0;
/// Along-track segment length, m.
const SEGMENT_LENGTH: f64 = 20.0;
/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_195.0;
/// Laser pulses per 20 m segment (10 kHz at 7 km/s).
const SHOTS_PER_SEGMENT: u64 = 28;
const F32_FILL: f32 = 3.402_823_5e38;
const F64_FILL: f64 = 1.797_693_134_862_315_7e308;
const SURFACE_TYPES: [&str; 5] = ["land", "ocean", "sea_ice", "land_ice", "inlandwater"];
const BEAMS: [&str; 6] = ["gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"];

/// The kind of surface under a track, which sets heights and which surface types are considered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Terrain {
    /// Colorado Front Range: plains at about 1,600 m east of `edge_lon`, mountains to about 4,000 m west.
    FrontRange {
        /// Longitude of the mountain front.
        edge_lon: f64,
    },
    /// Rolling plains around `base` metres.
    Plains {
        /// Mean height.
        base: f64,
    },
    /// An ice sheet rising towards a summit.
    IceSheet {
        /// Summit latitude.
        summit_lat: f64,
        /// Summit height.
        summit_h: f64,
    },
    /// Open ocean near the geoid.
    Ocean,
}

impl Terrain {
    fn height(self, lat: f64, lon: f64) -> f64 {
        let ripple = 40.0 * (lat * 157.0).sin() * (lon * 131.0).cos() + 15.0 * (lat * 611.0 + lon * 379.0).sin();
        match self {
            Self::FrontRange { edge_lon } => {
                let into_mountains = ((edge_lon - lon) / 0.35).clamp(0.0, 1.0);
                let rise = into_mountains * into_mountains * (3.0 - 2.0 * into_mountains);
                1_580.0
                    + 30.0 * (lat * 37.0).sin()
                    + rise * (1_900.0 + 420.0 * (lat * 61.0).sin().abs() + 260.0 * (lat * 173.0 + lon * 89.0).sin())
                    + ripple * (0.2 + rise)
            }
            Self::Plains { base } => base + 25.0 * (lat * 23.0).sin() + 0.3 * ripple,
            Self::IceSheet { summit_lat, summit_h } => {
                let distance = (lat - summit_lat).abs() * METRES_PER_DEGREE;
                (summit_h - 0.004 * distance - 2.0e-9 * distance * distance).max(50.0) + 0.1 * ripple
            }
            Self::Ocean => 12.0 + 8.0 * (lat * 3.0).sin() + 0.8 * (lat * 4_000.0).sin(),
        }
    }

    /// Which `signal_conf_ph` columns are considered (the rest hold -1).
    fn considered(self) -> [bool; 5] {
        match self {
            Self::FrontRange { .. } | Self::Plains { .. } => [true, false, false, false, true],
            Self::IceSheet { .. } => [true, false, false, true, false],
            Self::Ocean => [false, true, true, false, false],
        }
    }
}

/// What a synthetic ATL03 granule covers. The start time, RGT, cycle and region come from the name.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSpec {
    /// File name, `ATL03_YYYYMMDDhhmmss_ttttccrr_006_ee.h5`.
    pub name: &'static str,
    /// Latitude of the first segment.
    pub lat_start: f64,
    /// Latitude of the last segment (greater than the start for an ascending pass).
    pub lat_end: f64,
    /// Longitude of the reference ground track at `lat_start`.
    pub lon_start: f64,
    /// Longitude change per degree of latitude travelled northwards.
    pub lon_per_lat: f64,
    /// Spacecraft orientation: forward makes the `r` beams strong.
    pub forward: bool,
    /// The surface below.
    pub terrain: Terrain,
}

/// Fields parsed from an ATL03 file name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameParts {
    /// Granule start.
    pub start: DateTime<Utc>,
    /// Reference ground track.
    pub rgt: u16,
    /// Orbital cycle.
    pub cycle: u8,
    /// Granule region.
    pub region: u8,
}

/// Parses `ATL03_YYYYMMDDhhmmss_ttttccrr_vvv_ee.h5`.
pub fn parse_name(name: &str) -> Option<NameParts> {
    let mut parts = name.strip_suffix(".h5")?.split('_');
    let _product = parts.next()?;
    let stamp = parts.next()?;
    let track = parts.next()?;
    let start = NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S").ok()?.and_utc();
    if track.len() != 8 {
        return None;
    }
    Some(NameParts {
        start,
        rgt: track.get(0..4)?.parse().ok()?,
        cycle: track.get(4..6)?.parse().ok()?,
        region: track.get(6..8)?.parse().ok()?,
    })
}

impl TrackSpec {
    fn parts(&self) -> Result<NameParts> {
        parse_name(self.name).ok_or_else(|| Error::Invalid(format!("not an ATL03 granule name: {}", self.name)))
    }

    /// Number of 20 m segments per beam.
    pub fn n_segments(&self) -> usize {
        ((self.lat_end - self.lat_start).abs() * METRES_PER_DEGREE / SEGMENT_LENGTH) as usize
    }

    fn direction(&self) -> f64 {
        if self.lat_end >= self.lat_start { 1.0 } else { -1.0 }
    }

    /// Time span of the track, from the name's start.
    pub fn time_span(&self) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.parts()?.start;
        let seconds = self.n_segments() as f64 * SEGMENT_LENGTH / GROUND_SPEED;
        Ok((start, start + chrono::Duration::milliseconds((seconds * 1000.0).ceil() as i64)))
    }

    /// Reference ground track position at segment `segment_idx`: (lat, lon).
    fn rgt_position(&self, along: f64) -> (f64, f64) {
        let lat = self.lat_start + self.direction() * along / METRES_PER_DEGREE;
        (lat, self.lon_start + self.lon_per_lat * (lat - self.lat_start))
    }

    /// Across-track offset of a beam from the reference ground track, metres (pairs 3.3 km apart, beams
    /// of a pair 90 m apart).
    fn beam_offset(beam_idx: usize) -> f64 {
        let pair = (beam_idx / 2) as f64 - 1.0;
        let side = if beam_idx.is_multiple_of(2) { -45.0 } else { 45.0 };
        pair * 3_300.0 + side
    }

    /// Position of `beam_idx` at `along` metres: (lat, lon).
    fn beam_position(&self, beam_idx: usize, along: f64) -> (f64, f64) {
        let (lat, lon) = self.rgt_position(along);
        let metres_per_lon = METRES_PER_DEGREE * lat.to_radians().cos().max(0.01);
        (lat, lon + Self::beam_offset(beam_idx) / metres_per_lon)
    }

    /// The ground track of the reference track, sampled about every 0.05° of latitude: `[lon, lat]` points.
    pub fn footprint(&self) -> Vec<[f64; 2]> {
        let length = self.n_segments() as f64 * SEGMENT_LENGTH;
        let n_points = ((self.lat_end - self.lat_start).abs() / 0.05).ceil().max(1.0) as usize;
        (0..=n_points)
            .map(|i| {
                let (lat, lon) = self.rgt_position(length * i as f64 / n_points as f64);
                [lon, lat]
            })
            .collect()
    }

    /// `[west, south, east, north]` over all six beams.
    pub fn bbox(&self) -> [f64; 4] {
        let length = self.n_segments() as f64 * SEGMENT_LENGTH;
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for beam_idx in [0, 5] {
            for along in [0.0, length] {
                let (lat, lon) = self.beam_position(beam_idx, along);
                bbox = [bbox[0].min(lon), bbox[1].min(lat), bbox[2].max(lon), bbox[3].max(lat)];
            }
        }
        bbox
    }

    fn is_strong(&self, beam_idx: usize) -> bool {
        // Forward: the right beams are strong (data-formats.md §1.4).
        (beam_idx % 2 == 1) == self.forward
    }

    fn spot_number(&self, beam_idx: usize) -> usize {
        if self.forward { 6 - beam_idx } else { beam_idx + 1 }
    }

    /// Segment id of the first segment: 20 m steps from the ascending equator crossing.
    fn first_segment_id(&self) -> i32 {
        let ascending = self.direction() > 0.0;
        let lat = self.lat_start;
        let degrees = if ascending { if lat >= 0.0 { lat } else { 360.0 + lat } } else { 180.0 - lat };
        (degrees * METRES_PER_DEGREE / SEGMENT_LENGTH) as i32
    }
}

/// Photon-rate columns of one beam.
#[derive(Default)]
struct Photons {
    delta_time: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    h: Vec<f32>,
    along: Vec<f32>,
    across: Vec<f32>,
    conf: Vec<i8>,
    quality: Vec<i8>,
    weight: Vec<u8>,
    mframe: Vec<u32>,
    channel: Vec<u8>,
    count: Vec<u8>,
    pulse: Vec<u8>,
}

/// Segment-rate columns of one beam.
#[derive(Default)]
struct Segments {
    delta_time: Vec<f64>,
    segment_id: Vec<i32>,
    ph_cnt: Vec<i32>,
    ph_index_beg: Vec<i64>,
    ref_index: Vec<i32>,
    ref_lat: Vec<f64>,
    ref_lon: Vec<f64>,
    dist_x: Vec<f64>,
    length: Vec<f64>,
    altitude: Vec<f64>,
    velocity: Vec<f32>,
    surf_type: Vec<i8>,
    solar_elevation: Vec<f32>,
    sigma_h: Vec<f32>,
    dem_h: Vec<f32>,
}

/// Writes the granule described by `spec` to `path` (directly; the caller makes it atomic).
pub fn write(spec: &TrackSpec, path: &Path, scale: u32) -> Result<()> {
    let parts = spec.parts()?;
    let file = hdf5::File::create(path)
        .map_err(|e| Error::Hdf5 { context: format!("creating {}", path.display()), message: e.to_string() })?;
    let root: &Group = &file;
    let t0 = utc_to_delta_time(parts.start);
    let n_segments = spec.n_segments();
    let seconds = n_segments as f64 * SEGMENT_LENGTH / GROUND_SPEED;
    let t1 = t0 + seconds;
    let scale = f64::from(scale.max(1));

    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for beam_idx in 0..BEAMS.len() {
        let (segments, photons) = simulate_beam(spec, beam_idx, t0, scale);
        for (&lat, &lon) in segments.ref_lat.iter().zip(&segments.ref_lon) {
            bbox = [bbox[0].min(lon), bbox[1].min(lat), bbox[2].max(lon), bbox[3].max(lat)];
        }
        write_beam(root, spec, beam_idx, &segments, &photons, t0, t1)?;
    }
    write_root(root, spec, &parts, t0, t1, bbox)?;
    h5::attach_atl03_scales(&file)?;
    file.close().map_err(|e| Error::Hdf5 { context: "closing the granule".into(), message: e.to_string() })
}

fn simulate_beam(spec: &TrackSpec, beam_idx: usize, t0: f64, scale: f64) -> (Segments, Photons) {
    let mut random = Random::new(spec.name, beam_idx as u64 + 1);
    let strong = spec.is_strong(beam_idx);
    let considered = spec.terrain.considered();
    let signal_per_segment = if strong { 2.2 } else { 0.6 } * scale;
    let noise_per_segment = if strong { 0.9 } else { 0.4 } * scale;
    let n_segments = spec.n_segments();
    let first_id = spec.first_segment_id();
    let mut segments = Segments::default();
    let mut photons = Photons::default();
    let mut in_cloud = false;
    for segment_idx in 0..n_segments {
        let along0 = segment_idx as f64 * SEGMENT_LENGTH;
        let (lat, lon) = spec.beam_position(beam_idx, along0);
        let dt = t0 + along0 / GROUND_SPEED;
        // Clouds come in stretches: a few percent of the track, kilometres long.
        if in_cloud {
            in_cloud = random.uniform() > 0.01
        } else {
            in_cloud = random.uniform() < 0.0012
        }
        let surface = spec.terrain.height(lat, lon);
        let n_signal = if in_cloud { 0 } else { poisson(&mut random, signal_per_segment) };
        let n_noise = if in_cloud { 0 } else { poisson(&mut random, noise_per_segment) };
        let mut shots: Vec<(u64, bool)> = Vec::with_capacity(n_signal + n_noise);
        for photon_idx in 0..n_signal + n_noise {
            shots.push((random.below(SHOTS_PER_SEGMENT), photon_idx < n_signal));
        }
        // Photons are stored in time order; those of one pulse share its time.
        shots.sort_unstable();
        let n_photons = shots.len();
        segments.ph_index_beg.push(if n_photons == 0 { 0 } else { photons.h.len() as i64 + 1 });
        segments.ph_cnt.push(n_photons as i32);
        let reference = shots.iter().position(|&(_, signal)| signal).map_or(0, |i| i as i32 + 1);
        segments.ref_index.push(if n_photons == 0 { 0 } else { reference.max(1) });
        for &(shot, signal) in &shots {
            let along = shot as f64 * SEGMENT_LENGTH / SHOTS_PER_SEGMENT as f64 + random.uniform() * 0.7;
            let (plat, plon) = spec.beam_position(beam_idx, along0 + along);
            let across_jitter = random.normal() * 4.0;
            let plon = plon + across_jitter / (METRES_PER_DEGREE * plat.to_radians().cos().max(0.01));
            let height = if signal {
                spec.terrain.height(plat, plon) + random.normal() * 0.35
            } else {
                surface + (random.uniform() - 0.5) * 500.0
            };
            let confidence: i8 = if signal {
                match random.uniform() {
                    u if u < 0.78 => 4,
                    u if u < 0.9 => 3,
                    u if u < 0.97 => 2,
                    _ => 1,
                }
            } else if (height - surface).abs() < 20.0 {
                1
            } else {
                0
            };
            for &is_considered in &considered {
                photons.conf.push(if is_considered { confidence } else { -1 });
            }
            photons.delta_time.push(dt + shot as f64 * 1e-4);
            photons.lat.push(plat);
            photons.lon.push(plon);
            photons.h.push(height as f32);
            photons.along.push(along as f32);
            photons.across.push((TrackSpec::beam_offset(beam_idx) + across_jitter) as f32);
            photons.quality.push(if random.uniform() < 0.002 { 1 } else { 0 });
            photons.weight.push(if signal { 150 + random.below(106) as u8 } else { random.below(60) as u8 });
            let pulse_number = segment_idx as u64 * SHOTS_PER_SEGMENT + shot;
            photons.mframe.push((pulse_number / 200) as u32);
            photons.pulse.push((pulse_number % 200 + 1) as u8);
            photons.channel.push(if strong { 1 + random.below(16) as u8 } else { 17 + random.below(4) as u8 });
            photons.count.push(random.below(4) as u8);
        }
        segments.delta_time.push(dt);
        segments.segment_id.push(first_id + segment_idx as i32);
        segments.ref_lat.push(lat);
        segments.ref_lon.push(lon);
        segments.dist_x.push(f64::from(first_id + segment_idx as i32) * 20.005_8);
        segments.length.push(20.005_8 + random.normal() * 0.000_5);
        segments.altitude.push(496_000.0 + 2_000.0 * (lat.to_radians() * 2.0).sin());
        let heading = spec.direction();
        segments.velocity.extend_from_slice(&[
            (heading * -820.0) as f32,
            (heading * 180.0) as f32,
            (heading * 7_050.0 * lat.to_radians().cos()) as f32,
        ]);
        for &is_considered in &considered {
            segments.surf_type.push(i8::from(is_considered));
        }
        segments.solar_elevation.push((35.0 * (1.0 - lat.abs() / 120.0)) as f32);
        segments.sigma_h.push(if n_photons == 0 { F32_FILL } else { 0.25 + random.uniform() as f32 * 0.2 });
        segments.dem_h.push((surface + random.normal() * 3.0) as f32);
    }
    (segments, photons)
}

fn poisson(random: &mut Random, mean: f64) -> usize {
    if mean > 30.0 {
        return (mean + random.normal() * mean.sqrt()).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let mut product = random.uniform();
    let mut count = 0;
    while product > limit && count < 1_000 {
        product *= random.uniform();
        count += 1;
    }
    count
}

/// The common attributes of an ATL03 variable.
struct Meta<'a> {
    units: &'a str,
    long_name: &'a str,
    description: &'a str,
    coordinates: Option<&'a str>,
}

fn describe(location: &Location, meta: &Meta<'_>, content: &str) -> Result<()> {
    set_text(location, "contentType", content)?;
    set_text(location, "description", meta.description)?;
    set_text(location, "long_name", meta.long_name)?;
    set_text(location, "source", "ATL03 ATBD, synthetic sample written by HarmonyQL")?;
    set_text(location, "units", meta.units)?;
    if let Some(coordinates) = meta.coordinates {
        set_text(location, "coordinates", coordinates)?;
    }
    Ok(())
}

fn column<T: hdf5::H5Type + Clone>(
    group: &Group,
    name: &str,
    data: &[T],
    meta: Meta<'_>,
    fill: Option<T>,
) -> Result<hdf5::Dataset> {
    let dataset = write_1d(group, name, data)?;
    describe(&dataset, &meta, "modelResult")?;
    if let Some(fill) = fill {
        set_number(&dataset, "_FillValue", fill)?;
    }
    Ok(dataset)
}

fn table<T: hdf5::H5Type + Clone>(
    group: &Group,
    name: &str,
    flat: &[T],
    width: usize,
    meta: Meta<'_>,
    storage: Storage,
) -> Result<hdf5::Dataset> {
    let rows = flat.len() / width;
    let array =
        Array2::from_shape_vec((rows, width), flat.to_vec()).map_err(|e| Error::Invalid(format!("{name}: {e}")))?;
    let dataset = write_array(group, name, array.view(), storage)?;
    describe(&dataset, &meta, "modelResult")?;
    Ok(dataset)
}

fn write_beam(
    root: &Group,
    spec: &TrackSpec,
    beam_idx: usize,
    segments: &Segments,
    photons: &Photons,
    t0: f64,
    t1: f64,
) -> Result<()> {
    let beam = BEAMS[beam_idx];
    let hdf = |e: hdf5::Error| Error::Hdf5 { context: format!("writing {beam}"), message: e.to_string() };
    let group = root.create_group(beam).map_err(hdf)?;
    let strong = spec.is_strong(beam_idx);
    set_text(
        &group,
        "Description",
        "Each group contains the segments for one Ground Track. As ICESat-2 orbits the earth, sequential transmit pulses illuminate six ground tracks on the surface of the earth.",
    )?;
    set_text(&group, "atlas_beam_type", if strong { "strong" } else { "weak" })?;
    set_text(&group, "atlas_pce", &format!("pce{}", beam_idx / 2 + 1))?;
    set_text(&group, "atlas_spot_number", &spec.spot_number(beam_idx).to_string())?;
    set_text(&group, "atmosphere_profile", &format!("profile_{}", beam_idx / 2 + 1))?;
    set_text(&group, "groundtrack_id", beam)?;
    set_text(&group, "sc_orientation", if spec.forward { "Forward" } else { "Backward" })?;

    // heights: photon rate.
    let heights = group.create_group("heights").map_err(hdf)?;
    set_text(&heights, "Description", "Contains arrays of the parameters for each received photon.")?;
    set_text(&heights, "data_rate", "Data are stored at the photon detection rate.")?;
    let photon_coords = Some("delta_time lat_ph lon_ph");
    let dt = column(
        &heights,
        "delta_time",
        &photons.delta_time,
        Meta {
            units: "seconds since 2018-01-01",
            long_name: "Elapsed GPS seconds",
            description: "Elapsed seconds from the ATLAS SDP GPS Epoch, corresponding to the transmit time of the reference photon.",
            coordinates: Some("lat_ph lon_ph"),
        },
        None,
    )?;
    set_text(&dt, "standard_name", "time")?;
    let lat = column(
        &heights,
        "lat_ph",
        &photons.lat,
        Meta {
            units: "degrees_north",
            long_name: "Latitude",
            description: "Latitude of each received photon.",
            coordinates: Some("delta_time lon_ph"),
        },
        None,
    )?;
    set_text(&lat, "standard_name", "latitude")?;
    set_number(&lat, "valid_min", -90.0_f64)?;
    set_number(&lat, "valid_max", 90.0_f64)?;
    let lon = column(
        &heights,
        "lon_ph",
        &photons.lon,
        Meta {
            units: "degrees_east",
            long_name: "Longitude",
            description: "Longitude of each received photon.",
            coordinates: Some("delta_time lat_ph"),
        },
        None,
    )?;
    set_text(&lon, "standard_name", "longitude")?;
    set_number(&lon, "valid_min", -180.0_f64)?;
    set_number(&lon, "valid_max", 180.0_f64)?;
    let h = column(
        &heights,
        "h_ph",
        &photons.h,
        Meta {
            units: "meters",
            long_name: "Photon WGS84 Height",
            description: "Height of each received photon, relative to the WGS-84 ellipsoid.",
            coordinates: photon_coords,
        },
        None,
    )?;
    set_text(&h, "standard_name", "height")?;
    column(
        &heights,
        "dist_ph_along",
        &photons.along,
        Meta {
            units: "meters",
            long_name: "Distance from Segment start",
            description: "Along-track distance from the beginning of the segment.",
            coordinates: photon_coords,
        },
        None,
    )?;
    column(
        &heights,
        "dist_ph_across",
        &photons.across,
        Meta {
            units: "meters",
            long_name: "Distance off RGT",
            description: "Across-track distance from the reference ground track.",
            coordinates: photon_coords,
        },
        None,
    )?;
    let conf = table(
        &heights,
        "signal_conf_ph",
        &photons.conf,
        5,
        Meta {
            units: "1",
            long_name: "Photon Signal Confidence",
            description: "Confidence level associated with each photon event selected as signal, per surface type: land, ocean, sea ice, land ice, inland water.",
            coordinates: photon_coords,
        },
        Storage { all_unlimited: true, ..Storage::atl03::<i8>() },
    )?;
    set_numbers(&conf, "flag_values", &[-2_i8, -1, 0, 1, 2, 3, 4])?;
    set_text(&conf, "flag_meanings", "possible_tep not_considered noise buffer low medium high")?;
    set_number(&conf, "valid_min", -2_i8)?;
    set_number(&conf, "valid_max", 4_i8)?;
    let quality = column(
        &heights,
        "quality_ph",
        &photons.quality,
        Meta {
            units: "1",
            long_name: "Photon Quality",
            description: "Indicates the quality of the associated photon.",
            coordinates: photon_coords,
        },
        None,
    )?;
    set_numbers(&quality, "flag_values", &[0_i8, 1, 2, 3])?;
    set_text(&quality, "flag_meanings", "nominal possible_afterpulse possible_impulse_response_effect possible_tep")?;
    column(
        &heights,
        "weight_ph",
        &photons.weight,
        Meta {
            units: "1",
            long_name: "Photon Weight",
            description: "YAPC signal weight of each photon (0-255).",
            coordinates: photon_coords,
        },
        None,
    )?;
    column(
        &heights,
        "pce_mframe_cnt",
        &photons.mframe,
        Meta {
            units: "counts",
            long_name: "PCE Major frame counter",
            description: "Major frame counter of the photon counting electronics.",
            coordinates: photon_coords,
        },
        None,
    )?;
    column(
        &heights,
        "ph_id_channel",
        &photons.channel,
        Meta {
            units: "1",
            long_name: "Receive channel id",
            description: "Channel number of the received photon (1-120).",
            coordinates: photon_coords,
        },
        None,
    )?;
    column(
        &heights,
        "ph_id_count",
        &photons.count,
        Meta {
            units: "counts",
            long_name: "photon event counter",
            description: "Photon event counter within the channel.",
            coordinates: photon_coords,
        },
        None,
    )?;
    column(
        &heights,
        "ph_id_pulse",
        &photons.pulse,
        Meta {
            units: "counts",
            long_name: "laser pulse counter",
            description: "Laser pulse counter within the major frame.",
            coordinates: photon_coords,
        },
        None,
    )?;

    // geolocation: 20 m segment rate.
    let geolocation = group.create_group("geolocation").map_err(hdf)?;
    set_text(
        &geolocation,
        "Description",
        "Geolocation parameters for the reference photon of each 20 m along-track segment.",
    )?;
    set_text(&geolocation, "data_rate", "Data are stored at the along-track segment rate (about every 20 m).")?;
    let seg_coords = Some("delta_time reference_photon_lat reference_photon_lon");
    column(
        &geolocation,
        "delta_time",
        &segments.delta_time,
        Meta {
            units: "seconds since 2018-01-01",
            long_name: "Elapsed GPS seconds",
            description: "Elapsed seconds from the ATLAS SDP GPS Epoch of the segment's reference photon.",
            coordinates: Some("reference_photon_lat, reference_photon_lon"),
        },
        None,
    )?;
    column(
        &geolocation,
        "segment_id",
        &segments.segment_id,
        Meta {
            units: "1",
            long_name: "Along-track segment ID number",
            description: "Along-track 20 m segment number counted from the ascending equator crossing.",
            coordinates: seg_coords,
        },
        None,
    )?;
    column(
        &geolocation,
        "segment_ph_cnt",
        &segments.ph_cnt,
        Meta {
            units: "counts",
            long_name: "Number of photons in a given along-track segment",
            description: "Number of photons in the segment.",
            coordinates: seg_coords,
        },
        Some(0_i32),
    )?;
    column(
        &geolocation,
        "ph_index_beg",
        &segments.ph_index_beg,
        Meta {
            units: "counts",
            long_name: "Photon Index Begin",
            description: "Index (1-based) within heights of the first photon of the segment; 0 when the segment has no photons.",
            coordinates: seg_coords,
        },
        Some(0_i64),
    )?;
    column(
        &geolocation,
        "reference_photon_index",
        &segments.ref_index,
        Meta {
            units: "counts",
            long_name: "Reference Photon Index",
            description: "Index of the reference photon within the segment (1-based).",
            coordinates: seg_coords,
        },
        Some(0_i32),
    )?;
    let rlat = column(
        &geolocation,
        "reference_photon_lat",
        &segments.ref_lat,
        Meta {
            units: "degrees_north",
            long_name: "Latitude",
            description: "Latitude of the segment's reference photon.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;
    set_number(&rlat, "valid_min", -90.0_f64)?;
    set_number(&rlat, "valid_max", 90.0_f64)?;
    let rlon = column(
        &geolocation,
        "reference_photon_lon",
        &segments.ref_lon,
        Meta {
            units: "degrees_east",
            long_name: "Longitude",
            description: "Longitude of the segment's reference photon.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;
    set_number(&rlon, "valid_min", -180.0_f64)?;
    set_number(&rlon, "valid_max", 180.0_f64)?;
    column(
        &geolocation,
        "segment_dist_x",
        &segments.dist_x,
        Meta {
            units: "meters",
            long_name: "Along Track Distance",
            description: "Segment Distance from EQC.",
            coordinates: seg_coords,
        },
        None,
    )?;
    column(
        &geolocation,
        "segment_length",
        &segments.length,
        Meta {
            units: "meters",
            long_name: "along-track segment length",
            description: "Along-track length of the segment.",
            coordinates: seg_coords,
        },
        None,
    )?;
    column(
        &geolocation,
        "altitude_sc",
        &segments.altitude,
        Meta {
            units: "meters",
            long_name: "altitude",
            description: "Height of the spacecraft above the WGS84 ellipsoid.",
            coordinates: seg_coords,
        },
        Some(F64_FILL),
    )?;
    let velocity = table(
        &geolocation,
        "velocity_sc",
        &segments.velocity,
        3,
        Meta {
            units: "meters/second",
            long_name: "spacecraft velocity",
            description: "Spacecraft velocity components (east, north, up).",
            coordinates: seg_coords,
        },
        Storage::atl03::<f32>(),
    )?;
    set_number(&velocity, "_FillValue", F32_FILL)?;
    let surf = table(
        &geolocation,
        "surf_type",
        &segments.surf_type,
        5,
        Meta {
            units: "1",
            long_name: "Surface Type",
            description: "Flags for the surface types the segment may contain: land, ocean, sea ice, land ice, inland water.",
            coordinates: seg_coords,
        },
        Storage::atl03::<i8>(),
    )?;
    set_numbers(&surf, "flag_values", &[0_i8, 1])?;
    set_text(&surf, "flag_meanings", "not_type is_type")?;
    column(
        &geolocation,
        "solar_elevation",
        &segments.solar_elevation,
        Meta {
            units: "degrees",
            long_name: "solar elevation",
            description: "Elevation of the sun above the horizon at the segment.",
            coordinates: seg_coords,
        },
        Some(F32_FILL),
    )?;
    column(
        &geolocation,
        "sigma_h",
        &segments.sigma_h,
        Meta {
            units: "meters",
            long_name: "height accuracy",
            description: "Estimated height uncertainty of the reference photon.",
            coordinates: seg_coords,
        },
        Some(F32_FILL),
    )?;
    let podppd = vec![0_i8; segments.delta_time.len()];
    column(
        &geolocation,
        "podppd_flag",
        &podppd,
        Meta {
            units: "1",
            long_name: "POD_PPD Flag",
            description: "Composite POD/PPD flag: 0 nominal.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;

    // geophys_corr: same segments.
    let geophys = group.create_group("geophys_corr").map_err(hdf)?;
    set_text(&geophys, "Description", "Geophysical corrections for each segment.")?;
    set_text(&geophys, "data_rate", "Data are stored at the along-track segment rate.")?;
    column(
        &geophys,
        "delta_time",
        &segments.delta_time,
        Meta {
            units: "seconds since 2018-01-01",
            long_name: "Elapsed GPS seconds",
            description: "Elapsed seconds from the ATLAS SDP GPS Epoch.",
            coordinates: None,
        },
        None,
    )?;
    column(
        &geophys,
        "dem_h",
        &segments.dem_h,
        Meta {
            units: "meters",
            long_name: "DEM Height",
            description: "Best available DEM height at the segment.",
            coordinates: Some("delta_time"),
        },
        Some(F32_FILL),
    )?;
    let geoid: Vec<f32> =
        segments.ref_lat.iter().map(|lat| (-15.0 + 20.0 * (lat.to_radians() * 3.0).sin()) as f32).collect();
    column(
        &geophys,
        "geoid",
        &geoid,
        Meta {
            units: "meters",
            long_name: "Geoid Height",
            description: "Geoid height above the WGS-84 ellipsoid.",
            coordinates: Some("delta_time"),
        },
        Some(F32_FILL),
    )?;
    let tide: Vec<f32> =
        segments.delta_time.iter().map(|t| (0.2 * (t / 44_712.0 * std::f64::consts::TAU).sin()) as f32).collect();
    column(
        &geophys,
        "tide_earth",
        &tide,
        Meta {
            units: "meters",
            long_name: "Earth Tide",
            description: "Solid earth tide.",
            coordinates: Some("delta_time"),
        },
        Some(F32_FILL),
    )?;

    // bckgrd_atlas: 200 Hz, independent of segments, time only.
    let background = group.create_group("bckgrd_atlas").map_err(hdf)?;
    set_text(&background, "Description", "Background count rate from the ATLAS 50-shot sum.")?;
    set_text(&background, "data_rate", "Data are stored at the ATLAS 50-pulse (200 Hz) rate.")?;
    let n_background = ((t1 - t0) * 200.0) as usize;
    let mut random = Random::new(spec.name, 100 + beam_idx as u64);
    let bg_time: Vec<f64> = (0..n_background).map(|i| t0 + i as f64 / 200.0).collect();
    let bg_rate: Vec<f32> = (0..n_background).map(|_| (2.0e6 + random.uniform() * 1.5e6) as f32).collect();
    let bg_counts: Vec<i32> = bg_rate.iter().map(|rate| (rate * 1.0e-4) as i32).collect();
    let bg_mframe: Vec<i64> = (0..n_background as i64).map(|i| i / 4).collect();
    let bg_top: Vec<f32> = (0..n_background)
        .map(|i| {
            let along = i as f64 / 200.0 * GROUND_SPEED;
            let (lat, lon) = spec.beam_position(beam_idx, along);
            (spec.terrain.height(lat, lon) + 250.0) as f32
        })
        .collect();
    column(
        &background,
        "delta_time",
        &bg_time,
        Meta {
            units: "seconds since 2018-01-01",
            long_name: "Time at the start of ATLAS 50-shot sum",
            description: "Elapsed GPS seconds of the 50-shot sum.",
            coordinates: None,
        },
        None,
    )?;
    column(
        &background,
        "bckgrd_rate",
        &bg_rate,
        Meta {
            units: "counts / second",
            long_name: "Background count rate",
            description: "Background count rate from the 50-shot altimetric histogram.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;
    column(
        &background,
        "bckgrd_counts",
        &bg_counts,
        Meta {
            units: "counts",
            long_name: "ATLAS 50-shot background count",
            description: "Background counts in the 50-shot histogram.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;
    column(
        &background,
        "bckgrd_hist_top",
        &bg_top,
        Meta {
            units: "meters",
            long_name: "Top of the background histogram",
            description: "Height of the top of the background histogram.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;
    column(
        &background,
        "pce_mframe_cnt",
        &bg_mframe,
        Meta {
            units: "counts",
            long_name: "PCE Major frame counter",
            description: "Major frame counter.",
            coordinates: Some("delta_time"),
        },
        None,
    )?;

    // signal_find_output: per considered surface type, 50 Hz, time only.
    let signal_find = group.create_group("signal_find_output").map_err(hdf)?;
    set_text(&signal_find, "Description", "Output of the signal finding algorithm, per surface type.")?;
    let n_find = ((t1 - t0) * 50.0) as usize;
    for (surface, &considered) in SURFACE_TYPES.iter().zip(spec.terrain.considered().iter()) {
        if !considered {
            continue;
        }
        let sub = signal_find.create_group(surface).map_err(hdf)?;
        set_text(&sub, "Description", &format!("Signal finding output for the {surface} surface type."))?;
        set_text(&sub, "data_rate", "Data are stored at the 50 Hz rate.")?;
        let time: Vec<f64> = (0..n_find).map(|i| t0 + i as f64 / 50.0).collect();
        let mean: Vec<f32> = (0..n_find).map(|_| (2.5 + random.uniform() * 0.5) as f32).collect();
        let sigma: Vec<f32> = (0..n_find).map(|_| (1.5 + random.uniform() * 0.3) as f32).collect();
        column(
            &sub,
            "delta_time",
            &time,
            Meta {
                units: "seconds since 2018-01-01",
                long_name: "Elapsed GPS seconds",
                description: "Elapsed GPS seconds.",
                coordinates: None,
            },
            None,
        )?;
        column(
            &sub,
            "bckgrd_mean",
            &mean,
            Meta {
                units: "counts",
                long_name: "background mean",
                description: "Mean background count per bin.",
                coordinates: Some("delta_time"),
            },
            Some(F32_FILL),
        )?;
        column(
            &sub,
            "bckgrd_sigma",
            &sigma,
            Meta {
                units: "counts",
                long_name: "background sigma",
                description: "Standard deviation of the background count per bin.",
                coordinates: Some("delta_time"),
            },
            Some(F32_FILL),
        )?;
    }
    Ok(())
}

fn fixed(text: &str) -> Result<FixedAscii<64>> {
    FixedAscii::<64>::from_ascii(text).map_err(|e| Error::Invalid(format!("{text:?}: {e}")))
}

fn write_root(root: &Group, spec: &TrackSpec, parts: &NameParts, t0: f64, t1: f64, bbox: [f64; 4]) -> Result<()> {
    let hdf = |e: hdf5::Error| Error::Hdf5 { context: "writing the root groups".into(), message: e.to_string() };
    let start_utc = delta_time_to_utc(t0).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let end_utc = delta_time_to_utc(t1).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let orbit_number = (i32::from(parts.cycle) - 1) * 1387 + i32::from(parts.rgt) + 1;

    let ancillary = root.create_group("ancillary_data").map_err(hdf)?;
    set_text(&ancillary, "Description", "Contains information ancillary to the data product.")?;
    write_scalar(&ancillary, "atlas_sdp_gps_epoch", ATLAS_SDP_GPS_EPOCH)?;
    write_scalar(&ancillary, "data_start_utc", fixed(&start_utc)?)?;
    write_scalar(&ancillary, "data_end_utc", fixed(&end_utc)?)?;
    write_scalar(&ancillary, "granule_start_utc", fixed(&start_utc)?)?;
    write_scalar(&ancillary, "granule_end_utc", fixed(&end_utc)?)?;
    write_scalar(&ancillary, "release", fixed("006")?)?;
    write_scalar(&ancillary, "version", fixed("6")?)?;
    write_scalar(&ancillary, "start_delta_time", t0)?;
    write_scalar(&ancillary, "end_delta_time", t1)?;
    for (name, value) in [
        ("rgt", i32::from(parts.rgt)),
        ("cycle", i32::from(parts.cycle)),
        ("region", i32::from(parts.region)),
        ("orbit", orbit_number),
    ] {
        write_scalar(&ancillary, &format!("start_{name}"), value)?;
        write_scalar(&ancillary, &format!("end_{name}"), value)?;
    }

    let orbit = root.create_group("orbit_info").map_err(hdf)?;
    set_text(&orbit, "Description", "Contains data relating to the orbit of the spacecraft.")?;
    column(
        &orbit,
        "sc_orient",
        &[i8::from(spec.forward)],
        Meta {
            units: "1",
            long_name: "Spacecraft Orientation",
            description: "Orientation of the spacecraft: 0 backward, 1 forward, 2 transition.",
            coordinates: None,
        },
        None,
    )?;
    column(
        &orbit,
        "sc_orient_time",
        &[t0],
        Meta {
            units: "seconds since 2018-01-01",
            long_name: "Time of Last Spacecraft Orientation Change",
            description: "Time of the last orientation change.",
            coordinates: None,
        },
        None,
    )?;
    column(
        &orbit,
        "rgt",
        &[parts.rgt as i16],
        Meta {
            units: "counts",
            long_name: "Reference Ground track",
            description: "The reference ground track (RGT).",
            coordinates: None,
        },
        None,
    )?;
    column(
        &orbit,
        "cycle_number",
        &[parts.cycle as i8],
        Meta {
            units: "counts",
            long_name: "Cycle Number",
            description: "91-day repeat cycle number.",
            coordinates: None,
        },
        None,
    )?;
    column(
        &orbit,
        "orbit_number",
        &[orbit_number as i16],
        Meta {
            units: "1",
            long_name: "Orbit Number",
            description: "Unique identifying number of each orbit.",
            coordinates: None,
        },
        None,
    )?;

    let quality = root.create_group("quality_assessment").map_err(hdf)?;
    set_text(&quality, "Description", "Contains quality assessment data.")?;
    column(
        &quality,
        "qa_granule_pass_fail",
        &[0_i32],
        Meta { units: "1", long_name: "QA granule pass/fail", description: "0 pass, 1 fail.", coordinates: None },
        None,
    )?;

    let metadata = root.create_group("METADATA").map_err(hdf)?;
    set_text(&metadata, "Description", "ISO19115 Structured Metadata Represented within HDF5.")?;
    let identification = metadata.create_group("DatasetIdentification").map_err(hdf)?;
    set_text(&identification, "shortName", "ATL03")?;
    set_text(&identification, "VersionID", "006")?;
    set_text(&identification, "fileName", spec.name)?;
    let extent = metadata.create_group("Extent").map_err(hdf)?;
    set_number(&extent, "westBoundLongitude", bbox[0])?;
    set_number(&extent, "southBoundLatitude", bbox[1])?;
    set_number(&extent, "eastBoundLongitude", bbox[2])?;
    set_number(&extent, "northBoundLatitude", bbox[3])?;
    set_text(&extent, "rangeBeginningDateTime", &start_utc)?;
    set_text(&extent, "rangeEndingDateTime", &end_utc)?;

    let text_attrs = [
        ("Conventions", "CF-1.6"),
        ("short_name", "ATL03"),
        ("granule_type", "ATL03"),
        ("level", "L2"),
        ("processing_level", "2A"),
        ("featureType", "trajectory"),
        ("title", "SET_BY_META"),
        (
            "description",
            "This data set (ATL03) contains height above the WGS 84 ellipsoid, latitude, longitude and time for all photons downlinked by ATLAS.",
        ),
        (
            "summary",
            "The ATL03 product reports time, latitude, longitude and height of each received photon. This granule is a synthetic sample made by HarmonyQL for offline use.",
        ),
        ("citation", "Synthetic sample; see doi:10.5067/ATLAS/ATL03.006 for the real product."),
        ("license", "Not for science use: synthetic data."),
        ("identifier_product_doi", "doi:10.5067/ATLAS/ATL03.006"),
        ("identifier_product_format_version", "4.0"),
        ("history", "Created by HarmonyQL's sample generator following the ATL03 v006 layout"),
        ("hdfversion", "HDF5 1.10.8"),
        ("platform", "ICESat-2 > Ice, Cloud, and land Elevation Satellite-2"),
        ("instrument", "ATLAS > Advanced Topographic Laser Altimeter System"),
        ("project", "ICESat-2 > Ice, Cloud, and land Elevation Satellite-2"),
        ("institution", "National Aeronautics and Space Administration (NASA)"),
        ("time_coverage_start", &start_utc),
        ("time_coverage_end", &end_utc),
        ("geospatial_lat_units", "degrees_north"),
        ("geospatial_lon_units", "degrees_east"),
        ("time_type", "CCSDS UTC-A"),
        ("date_type", "UTC"),
        ("spatial_coverage_type", "Horizontal"),
    ];
    for (name, value) in text_attrs {
        set_text(root, name, value)?;
    }
    set_text(root, "identifier_file_uuid", &format!("{:032x}", Random::new(spec.name, 0).next_u64()))?;
    set_number(root, "time_coverage_duration", t1 - t0)?;
    set_number(root, "geospatial_lon_min", bbox[0])?;
    set_number(root, "geospatial_lat_min", bbox[1])?;
    set_number(root, "geospatial_lon_max", bbox[2])?;
    set_number(root, "geospatial_lat_max", bbox[3])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_into_start_track_cycle_and_region() {
        let parts = parse_name("ATL03_20200427193622_04930702_006_02.h5").expect("valid name");
        assert_eq!(parts.start.to_rfc3339(), "2020-04-27T19:36:22+00:00");
        assert_eq!((parts.rgt, parts.cycle, parts.region), (493, 7, 2));
        assert_eq!(parse_name("ATL03_notadate_04930702_006_02.h5"), None);
        assert_eq!(parse_name("SMAP_L3_SM_P_20231212_R19240_001.h5"), None);
    }

    #[test]
    fn forward_orientation_makes_right_beams_strong() {
        let spec = TrackSpec {
            name: "ATL03_20200427193622_04930702_006_02.h5",
            lat_start: 40.0,
            lat_end: 40.1,
            lon_start: -105.2,
            lon_per_lat: -0.125,
            forward: true,
            terrain: Terrain::Ocean,
        };
        let strong: Vec<bool> = (0..6).map(|i| spec.is_strong(i)).collect();
        assert_eq!(strong, [false, true, false, true, false, true]);
        assert_eq!((0..6).map(|i| spec.spot_number(i)).collect::<Vec<_>>(), [6, 5, 4, 3, 2, 1]);
    }
}
