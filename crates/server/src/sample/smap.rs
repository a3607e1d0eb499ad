//! Synthetic SMAP granules on EASE-Grid 2.0: SPL2SMP half-orbit swaths (1-D arrays of the observed 36 km
//! cells), SPL3SMP daily composites (406 × 964, AM and `_pm` PM groups) and SPL4CMDL daily carbon fields
//! (1624 × 3856), with the real group and variable names, dtypes, fills and attributes (data-formats.md §3).
//!
//! Owns only the writing of one granule from its [`SmapSpec`]; must not do HTTP or know about requests.

use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use hdf5::Group;
use hdf5::types::FixedAscii;
use ndarray::{Array2, Array3, ArrayView};

use crate::sample::random::Random;
use harmonyql_data::ease_grid::{Grid, M09, M36};
use harmonyql_data::h5::{Storage, set_number, set_text, write_array, write_scalar};
use harmonyql_data::{Error, Result};

/// Float fill of SMAP products.
pub const FILL_F32: f32 = -9999.0;
/// Unsigned 16-bit fill of SMAP products.
pub const FILL_U16: u16 = 65534;
/// Land-cover class fill.
pub const FILL_U8: u8 = 254;

/// What a synthetic SMAP granule covers.
#[derive(Debug, Clone, PartialEq)]
pub enum SmapSpec {
    /// An SPL2SMP half orbit.
    L2 {
        /// File name.
        name: &'static str,
        /// Longitude where the ground track crosses the equator.
        lon_equator: f64,
    },
    /// An SPL3SMP daily composite.
    L3 {
        /// File name.
        name: &'static str,
    },
    /// An SPL4CMDL daily carbon file.
    L4 {
        /// File name.
        name: &'static str,
    },
}

/// The sample SMAP granules of a collection, including the three names the tutorial uses.
pub fn specs(short_name: &str) -> Vec<SmapSpec> {
    match short_name {
        "SPL2SMP" => vec![
            SmapSpec::L2 { name: "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5", lon_equator: 26.7 },
            SmapSpec::L2 { name: "SMAP_L2_SM_P_47226_D_20231204T145115_R19240_001.h5", lon_equator: -159.2 },
            SmapSpec::L2 { name: "SMAP_L2_SM_P_47229_A_20231204T202443_R19240_001.h5", lon_equator: -47.4 },
            SmapSpec::L2 { name: "SMAP_L2_SM_P_47231_A_20231204T233612_R19240_001.h5", lon_equator: -96.8 },
        ],
        "SPL3SMP" => vec![
            SmapSpec::L3 { name: "SMAP_L3_SM_P_20231211_R19240_001.h5" },
            SmapSpec::L3 { name: "SMAP_L3_SM_P_20231212_R19240_001.h5" },
            SmapSpec::L3 { name: "SMAP_L3_SM_P_20231213_R19240_001.h5" },
        ],
        "SPL4CMDL" => vec![
            SmapSpec::L4 { name: "SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5" },
            SmapSpec::L4 { name: "SMAP_L4_C_mdl_20150402T000000_Vv8020_001.h5" },
        ],
        _ => Vec::new(),
    }
}

/// Half-orbit duration of SMAP, seconds.
const HALF_ORBIT: i64 = 49 * 60 + 15;
/// Swath half width, km.
const SWATH_HALF_WIDTH_KM: f64 = 500.0;

impl SmapSpec {
    /// The file name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::L2 { name, .. } | Self::L3 { name } | Self::L4 { name } => name,
        }
    }

    fn day(&self) -> NaiveDate {
        let stamp = self.name().split('_').find(|part| part.len() >= 8 && part.starts_with("20")).unwrap_or("20000101");
        NaiveDate::parse_from_str(stamp.get(0..8).unwrap_or("20000101"), "%Y%m%d").unwrap_or_default()
    }

    /// Time coverage: the half orbit for L2, the UTC day for L3 and L4.
    pub fn time_span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            Self::L2 { name, .. } => {
                let stamp = name.split('_').nth(6).unwrap_or_default();
                let start =
                    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S").map(|t| t.and_utc()).unwrap_or_default();
                (start, start + chrono::Duration::seconds(HALF_ORBIT))
            }
            _ => {
                let start = Utc.from_utc_datetime(&self.day().and_hms_opt(0, 0, 0).unwrap_or_default());
                (start, start + chrono::Duration::seconds(86_399))
            }
        }
    }

    /// `[west, south, east, north]`.
    pub fn bbox(&self) -> [f64; 4] {
        match self {
            Self::L2 { .. } => {
                let cells = self.swath_cells();
                cells.iter().fold([180.0, 90.0, -180.0, -90.0], |b, &(row, col)| {
                    let (lon, lat) = M36.cell_lonlat(row, col);
                    [b[0].min(lon), b[1].min(lat), b[2].max(lon), b[3].max(lat)]
                })
            }
            _ => [-180.0, -85.044_566_4, 180.0, 85.044_566_4],
        }
    }

    fn is_ascending(&self) -> bool {
        self.name().contains("_A_")
    }

    /// The M36 cells a half orbit observes, in time order: (row, col).
    pub fn swath_cells(&self) -> Vec<(usize, usize)> {
        let Self::L2 { lon_equator, .. } = self else {
            return Vec::new();
        };
        let ascending = self.is_ascending();
        let mut cells = Vec::new();
        let rows: Vec<usize> = if ascending { (0..M36.rows).rev().collect() } else { (0..M36.rows).collect() };
        for row in rows {
            let (_, lat) = M36.cell_lonlat(row, 0);
            // A sun-synchronous retrograde track drifts west while ascending, east while descending.
            let drift = if ascending { -0.25 } else { 0.25 };
            let centre = wrap(lon_equator + drift * lat);
            let half_deg = (SWATH_HALF_WIDTH_KM / (111.32 * lat.to_radians().cos().max(0.05))).min(179.0);
            let (centre_row_col, _) = (M36.locate(centre, lat), ());
            let centre_col = centre_row_col.1;
            let half_cols = half_deg / 360.0 * M36.cols as f64;
            let first = (centre_col - half_cols).floor() as i64;
            let last = (centre_col + half_cols).ceil() as i64;
            for col in first..=last {
                cells.push((row, col.rem_euclid(M36.cols as i64) as usize));
            }
        }
        cells
    }
}

fn wrap(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// Rough continents as boxes: enough for soil moisture to be over land and fill over the oceans.
pub fn is_land(lon: f64, lat: f64) -> bool {
    const BOXES: [(f64, f64, f64, f64); 16] = [
        (25.0, 49.0, -124.0, -67.0),
        (49.0, 70.0, -165.0, -60.0),
        (15.0, 25.0, -105.0, -97.0),
        (8.0, 17.0, -92.0, -83.0),
        (-20.0, 10.0, -79.0, -36.0),
        (-55.0, -20.0, -72.0, -56.0),
        (36.0, 70.0, -9.0, 40.0),
        (10.0, 75.0, 40.0, 140.0),
        (22.0, 45.0, 100.0, 121.0),
        (5.0, 35.0, -16.0, 35.0),
        (-34.0, 5.0, 10.0, 41.0),
        (-38.0, -12.0, 114.0, 153.0),
        (60.0, 83.0, -72.0, -15.0),
        (-90.0, -66.0, -180.0, 180.0),
        (-8.0, 5.0, 95.0, 140.0),
        (64.0, 75.0, 140.0, 180.0),
    ];
    BOXES.iter().any(|&(s, n, w, e)| lat >= s && lat <= n && lon >= w && lon <= e)
}

fn is_ice(lon: f64, lat: f64) -> bool {
    lat < -66.0 || (lat > 60.0 && (-72.0..=-15.0).contains(&lon))
}

/// Plausible soil moisture (cm³/cm³) for a land cell on a day of year: wet tropics and boreal zones, dry
/// subtropics, smooth weather-like patterns on top.
fn soil_moisture(lon: f64, lat: f64, day_of_year: f64) -> f32 {
    let zonal = 0.22 + 0.12 * (lat.to_radians() * 2.0).cos().powi(3)
        - 0.1 * ((lat.abs() - 25.0) / 10.0).powi(2).min(1.0).mul_add(-1.0, 1.0);
    let weather = 0.06 * ((lon * 0.11 + day_of_year * 0.35).sin() * (lat * 0.17 - day_of_year * 0.2).cos())
        + 0.03 * (lon * 0.43 + lat * 0.31 + day_of_year).sin();
    (zonal + weather).clamp(0.02, 0.5) as f32
}

fn landcover(lon: f64, lat: f64) -> [u8; 3] {
    let primary = match lat.abs() {
        a if a > 60.0 => 16,
        a if a > 45.0 => 1,
        a if a > 30.0 => {
            if lon.sin() > 0.0 {
                12
            } else {
                10
            }
        }
        a if a > 15.0 => 7,
        _ => 2,
    };
    [primary, if primary == 12 { 10 } else { 12 }, 14]
}

fn grid_storage<T: hdf5::H5Type + Clone>(rows: usize) -> Storage {
    Storage { all_unlimited: false, ..Storage::grid::<T>(rows) }
}

fn var<T: hdf5::H5Type + Clone, D: ndarray::Dimension>(
    group: &Group,
    name: &str,
    data: ArrayView<'_, T, D>,
    attrs: &[(&str, &str)],
    fill: Option<T>,
    coordinates: Option<&str>,
) -> Result<hdf5::Dataset> {
    let rows = data.shape().first().copied().unwrap_or(1);
    let dataset = write_array(group, name, data, grid_storage::<T>(rows))?;
    for (key, value) in attrs {
        set_text(&dataset, key, value)?;
    }
    if let Some(fill) = fill {
        set_number(&dataset, "_FillValue", fill)?;
    }
    if let Some(coordinates) = coordinates {
        set_text(&dataset, "coordinates", coordinates)?;
    }
    Ok(dataset)
}

/// Writes the granule described by `spec` to `path` (directly; the caller makes it atomic).
pub fn write(spec: &SmapSpec, path: &Path) -> Result<()> {
    let file = hdf5::File::create(path)
        .map_err(|e| Error::Hdf5 { context: format!("creating {}", path.display()), message: e.to_string() })?;
    let root: &Group = &file;
    match spec {
        SmapSpec::L2 { .. } => write_l2(root, spec)?,
        SmapSpec::L3 { .. } => write_l3(root, spec)?,
        SmapSpec::L4 { .. } => write_l4(root, spec)?,
    }
    file.close().map_err(|e| Error::Hdf5 { context: "closing the granule".into(), message: e.to_string() })
}

fn hdf(e: hdf5::Error) -> Error {
    Error::Hdf5 { context: "writing a SMAP granule".into(), message: e.to_string() }
}

fn write_metadata(root: &Group, spec: &SmapSpec, short_name: &str, grid: Option<&Grid>) -> Result<()> {
    let metadata = root.create_group("Metadata").map_err(hdf)?;
    let identification = metadata.create_group("DatasetIdentification").map_err(hdf)?;
    set_text(&identification, "shortName", short_name)?;
    set_text(&identification, "fileName", spec.name())?;
    set_text(&identification, "SMAPShortName", short_name)?;
    let extent = metadata.create_group("Extent").map_err(hdf)?;
    let bbox = spec.bbox();
    let (start, end) = spec.time_span();
    set_number(&extent, "westBoundLongitude", bbox[0])?;
    set_number(&extent, "southBoundLatitude", bbox[1])?;
    set_number(&extent, "eastBoundLongitude", bbox[2])?;
    set_number(&extent, "northBoundLatitude", bbox[3])?;
    set_text(&extent, "rangeBeginningDateTime", &start.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())?;
    set_text(&extent, "rangeEndingDateTime", &end.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())?;
    if let Some(grid) = grid {
        let representation = metadata.create_group("GridSpatialRepresentation").map_err(hdf)?;
        set_text(&representation, "gridName", &format!("EASE-Grid 2.0 global {}", grid.name))?;
        set_number(&representation, "numberOfColumns", grid.cols as i32)?;
        set_number(&representation, "numberOfRows", grid.rows as i32)?;
        set_number(&representation, "cellSize", grid.cell)?;
        set_text(&representation, "crs", "EPSG:6933")?;
    }
    Ok(())
}

/// Seconds since the J2000 epoch (2000-01-01T11:58:55.816Z), as `tb_time_seconds` counts them.
fn j2000_seconds(time: DateTime<Utc>) -> f64 {
    let epoch =
        Utc.with_ymd_and_hms(2000, 1, 1, 11, 58, 55).single().unwrap_or_default() + chrono::Duration::milliseconds(816);
    (time - epoch).num_milliseconds() as f64 / 1000.0
}

fn write_l2(root: &Group, spec: &SmapSpec) -> Result<()> {
    write_metadata(root, spec, "SPL2SMP", Some(&M36))?;
    let group = root.create_group("Soil_Moisture_Retrieval_Data").map_err(hdf)?;
    let cells = spec.swath_cells();
    let n = cells.len();
    let (start, end) = spec.time_span();
    let day = f64::from(start.ordinal());
    let coordinates = "/Soil_Moisture_Retrieval_Data/latitude /Soil_Moisture_Retrieval_Data/longitude";
    let mut random = Random::new(spec.name(), 7);
    let (mut rows, mut cols, mut lats, mut lons, mut sm, mut sm_err, mut temp, mut vwc, mut tbh, mut tbv) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut qual, mut surface, mut seconds, mut utc, mut lc, mut lcf) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let step = (end - start).num_milliseconds() as f64 / 1000.0 / n.max(1) as f64;
    for (i, &(row, col)) in cells.iter().enumerate() {
        let (lon, lat) = M36.cell_lonlat(row, col);
        let land = is_land(lon, lat);
        let frozen = is_ice(lon, lat) || lat > 55.0;
        rows.push(row as u16);
        cols.push(col as u16);
        lats.push(lat as f32);
        lons.push(lon as f32);
        let moisture =
            if land && !frozen { soil_moisture(lon, lat, day) + random.normal() as f32 * 0.01 } else { FILL_F32 };
        sm.push(if moisture == FILL_F32 { FILL_F32 } else { moisture.clamp(0.02, 0.5) });
        sm_err.push(if land && !frozen { 0.03 + random.uniform() as f32 * 0.02 } else { FILL_F32 });
        temp.push(if land { (300.0 - 0.6 * lat.abs() + random.normal() * 2.0) as f32 } else { FILL_F32 });
        vwc.push(if land && !frozen {
            (6.0 * (lat.to_radians()).cos().powi(4) + random.uniform()) as f32
        } else {
            FILL_F32
        });
        let emissivity = if land { 0.92 - f64::from(sm.last().copied().unwrap_or(0.2).max(0.0)) * 0.4 } else { 0.45 };
        tbh.push((emissivity * 290.0 - 10.0 + random.normal()) as f32);
        tbv.push((emissivity * 290.0 + 15.0 + random.normal()) as f32);
        qual.push(if land && !frozen { if random.uniform() < 0.85 { 0_u16 } else { 1 } } else { 7 });
        surface.push(if land { 0_u16 } else { 1 } | if frozen { 0x80 } else { 0 });
        let time = start + chrono::Duration::milliseconds((i as f64 * step * 1000.0) as i64);
        seconds.push(j2000_seconds(time));
        utc.push(
            FixedAscii::<24>::from_ascii(&time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .map_err(|e| Error::Invalid(e.to_string()))?,
        );
        let classes = if land { landcover(lon, lat) } else { [FILL_U8; 3] };
        lc.extend_from_slice(&classes);
        lcf.extend_from_slice(&if land { [0.7_f32, 0.2, 0.1] } else { [FILL_F32; 3] });
    }
    let one = |v: &[f32]| ndarray::Array1::from(v.to_vec());
    var(
        &group,
        "EASE_row_index",
        ArrayView::from(&rows),
        &[
            ("long_name", "The row index of the 36 km EASE grid cell that contains the associated data."),
            ("units", "NA"),
        ],
        Some(FILL_U16),
        None,
    )?;
    var(
        &group,
        "EASE_column_index",
        ArrayView::from(&cols),
        &[
            ("long_name", "The column index of the 36 km EASE grid cell that contains the associated data."),
            ("units", "NA"),
        ],
        Some(FILL_U16),
        None,
    )?;
    var(
        &group,
        "latitude",
        one(&lats).view(),
        &[("long_name", "Latitude of the center of the Earth based grid cell."), ("units", "degrees_north")],
        Some(FILL_F32),
        None,
    )?;
    var(
        &group,
        "longitude",
        one(&lons).view(),
        &[("long_name", "Longitude of the center of the Earth based grid cell."), ("units", "degrees_east")],
        Some(FILL_F32),
        None,
    )?;
    let sm_ds = var(
        &group,
        "soil_moisture",
        one(&sm).view(),
        &[
            ("long_name", "Representative soil moisture measurement for the Earth based grid cell."),
            ("units", "cm**3/cm**3"),
        ],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    set_number(&sm_ds, "valid_min", 0.02_f32)?;
    set_number(&sm_ds, "valid_max", 0.5_f32)?;
    var(
        &group,
        "soil_moisture_error",
        one(&sm_err).view(),
        &[("long_name", "Estimated soil moisture retrieval uncertainty."), ("units", "cm**3/cm**3")],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    var(
        &group,
        "surface_temperature",
        one(&temp).view(),
        &[("long_name", "Temperature at land surface based on GMAO GEOS-5 data."), ("units", "Kelvins")],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    var(
        &group,
        "vegetation_water_content",
        one(&vwc).view(),
        &[("long_name", "Vegetation water content."), ("units", "kg/m**2")],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    var(
        &group,
        "tb_h_corrected",
        one(&tbh).view(),
        &[("long_name", "Horizontally polarized brightness temperature, corrected."), ("units", "Kelvin")],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    var(
        &group,
        "tb_v_corrected",
        one(&tbv).view(),
        &[("long_name", "Vertically polarized brightness temperature, corrected."), ("units", "Kelvin")],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    var(
        &group,
        "retrieval_qual_flag",
        ArrayView::from(&qual),
        &[
            ("long_name", "Bit flags that record the conditions and the quality of the retrieval."),
            ("flag_masks", "1s, 2s, 4s, 8s"),
            ("flag_meanings", "Retrieval_recommended Retrieval_attempted Retrieval_success FT_retrieval_success"),
        ],
        Some(FILL_U16),
        Some(coordinates),
    )?;
    var(
        &group,
        "surface_flag",
        ArrayView::from(&surface),
        &[("long_name", "Bit flags that record ambient surface conditions for the grid cell.")],
        Some(FILL_U16),
        Some(coordinates),
    )?;
    var(
        &group,
        "tb_time_seconds",
        ArrayView::from(&seconds),
        &[
            (
                "long_name",
                "Arithmetic average of the acquisition time of all of the brightness temperatures used, in seconds since J2000.",
            ),
            ("units", "seconds"),
        ],
        Some(-9999.0_f64),
        Some(coordinates),
    )?;
    var(
        &group,
        "tb_time_utc",
        ArrayView::from(&utc),
        &[("long_name", "Arithmetic average of the acquisition time, in UTC.")],
        None,
        Some(coordinates),
    )?;
    let lc_array = Array2::from_shape_vec((n, 3), lc).map_err(|e| Error::Invalid(e.to_string()))?;
    var(
        &group,
        "landcover_class",
        lc_array.view(),
        &[
            (
                "long_name",
                "An enumerated type that specifies the three most predominant land cover classes in the grid cell (IGBP).",
            ),
            ("units", "NA"),
        ],
        Some(FILL_U8),
        Some(coordinates),
    )?;
    let lcf_array = Array2::from_shape_vec((n, 3), lcf).map_err(|e| Error::Invalid(e.to_string()))?;
    var(
        &group,
        "landcover_class_fraction",
        lcf_array.view(),
        &[
            ("long_name", "The fraction of the grid cell covered by each of the three land cover classes."),
            ("units", "NA"),
        ],
        Some(FILL_F32),
        Some(coordinates),
    )?;
    Ok(())
}

/// Whether a 36 km cell is observed on the AM (or PM) passes of a day: the 1000 km swaths of the ~15
/// daily orbits leave gaps at low latitudes that move from day to day.
fn observed(lon: f64, lat: f64, day: f64, pm: bool) -> bool {
    let spacing = 24.7;
    let offset = day * 7.3 + if pm { 11.0 } else { 0.0 };
    let half = SWATH_HALF_WIDTH_KM / (111.32 * lat.to_radians().cos().max(0.05));
    let position = (lon - offset - 0.25 * lat).rem_euclid(spacing);
    position < 2.0 * half || lat.abs() > 60.0
}

fn write_l3(root: &Group, spec: &SmapSpec) -> Result<()> {
    write_metadata(root, spec, "SPL3SMP", Some(&M36))?;
    let day = f64::from(spec.day().ordinal());
    let (rows, cols) = (M36.rows, M36.cols);
    let lonlat: Vec<Vec<(f64, f64)>> = (0..rows).map(|r| (0..cols).map(|c| M36.cell_lonlat(r, c)).collect()).collect();
    for pm in [false, true] {
        let (group_name, suffix) =
            if pm { ("Soil_Moisture_Retrieval_Data_PM", "_pm") } else { ("Soil_Moisture_Retrieval_Data_AM", "") };
        let group = root.create_group(group_name).map_err(hdf)?;
        set_text(
            &group,
            "Description",
            if pm {
                "Soil moisture retrieved from the descending... ascending (6 pm) half orbits."
            } else {
                "Soil moisture retrieved from the descending (6 am) half orbits."
            },
        )?;
        let coordinates = format!("/{group_name}/latitude{suffix} /{group_name}/longitude{suffix}");
        let mut random = Random::new(spec.name(), u64::from(pm) + 1);
        let shape = (rows, cols);
        let mut sm = Array2::from_elem(shape, FILL_F32);
        let mut err = Array2::from_elem(shape, FILL_F32);
        let mut temp = Array2::from_elem(shape, FILL_F32);
        let mut lat_a = Array2::from_elem(shape, FILL_F32);
        let mut lon_a = Array2::from_elem(shape, FILL_F32);
        let mut row_idx = Array2::from_elem(shape, FILL_U16);
        let mut col_idx = Array2::from_elem(shape, FILL_U16);
        let mut qual = Array2::from_elem(shape, FILL_U16);
        let mut surface = Array2::from_elem(shape, FILL_U16);
        let mut seconds = Array2::from_elem(shape, -9999.0_f64);
        let mut lc = Array3::from_elem((rows, cols, 3), FILL_U8);
        let (day_start, _) = spec.time_span();
        for r in 0..rows {
            for c in 0..cols {
                let (lon, lat) = lonlat[r][c];
                if !observed(lon, lat, day, pm) {
                    continue;
                }
                let land = is_land(lon, lat);
                let frozen = is_ice(lon, lat) || lat > 55.0;
                lat_a[[r, c]] = lat as f32;
                lon_a[[r, c]] = lon as f32;
                row_idx[[r, c]] = r as u16;
                col_idx[[r, c]] = c as u16;
                let local_hour = if pm { 18.0 } else { 6.0 };
                let utc_hours = (local_hour - lon / 15.0).rem_euclid(24.0);
                seconds[[r, c]] = j2000_seconds(day_start + chrono::Duration::seconds((utc_hours * 3600.0) as i64));
                surface[[r, c]] = if land { 0 } else { 1 } | if frozen { 0x80 } else { 0 };
                qual[[r, c]] = if land && !frozen { u16::from(random.uniform() > 0.85) } else { 7 };
                if land {
                    temp[[r, c]] =
                        (295.0 - 0.7 * lat.abs() + if pm { 4.0 } else { -3.0 } + random.normal() * 1.5) as f32;
                    let classes = landcover(lon, lat);
                    for (k, class) in classes.iter().enumerate() {
                        lc[[r, c, k]] = *class;
                    }
                    if !frozen {
                        sm[[r, c]] = (soil_moisture(lon, lat, day + if pm { 0.5 } else { 0.0 })
                            + random.normal() as f32 * 0.008)
                            .clamp(0.02, 0.5);
                        err[[r, c]] = 0.03 + random.uniform() as f32 * 0.015;
                    }
                }
            }
        }
        let name = |base: &str| format!("{base}{suffix}");
        let sm_ds = var(
            &group,
            &name("soil_moisture"),
            sm.view(),
            &[
                ("long_name", "Representative DCA soil moisture measurement for the Earth based grid cell."),
                ("units", "cm**3/cm**3"),
            ],
            Some(FILL_F32),
            Some(&coordinates),
        )?;
        set_number(&sm_ds, "valid_min", 0.02_f32)?;
        set_number(&sm_ds, "valid_max", 0.5_f32)?;
        var(
            &group,
            &name("soil_moisture_error"),
            err.view(),
            &[("long_name", "Estimated soil moisture retrieval uncertainty."), ("units", "cm**3/cm**3")],
            Some(FILL_F32),
            Some(&coordinates),
        )?;
        var(
            &group,
            &name("surface_temperature"),
            temp.view(),
            &[("long_name", "Temperature at land surface based on GMAO GEOS-5 data."), ("units", "Kelvins")],
            Some(FILL_F32),
            Some(&coordinates),
        )?;
        var(
            &group,
            &name("latitude"),
            lat_a.view(),
            &[("long_name", "Latitude of the center of the Earth based grid cell."), ("units", "degrees_north")],
            None,
            None,
        )?;
        var(
            &group,
            &name("longitude"),
            lon_a.view(),
            &[("long_name", "Longitude of the center of the Earth based grid cell."), ("units", "degrees_east")],
            None,
            None,
        )?;
        let r_ds = var(
            &group,
            &name("EASE_row_index"),
            row_idx.view(),
            &[
                ("long_name", "The row index of the 36 km EASE grid cell that contains the associated data."),
                ("units", "NA"),
            ],
            Some(FILL_U16),
            Some(&coordinates),
        )?;
        set_number(&r_ds, "valid_min", 0_u16)?;
        set_number(&r_ds, "valid_max", 405_u16)?;
        let c_ds = var(
            &group,
            &name("EASE_column_index"),
            col_idx.view(),
            &[
                ("long_name", "The column index of the 36 km EASE grid cell that contains the associated data."),
                ("units", "NA"),
            ],
            Some(FILL_U16),
            Some(&coordinates),
        )?;
        set_number(&c_ds, "valid_min", 0_u16)?;
        set_number(&c_ds, "valid_max", 963_u16)?;
        var(
            &group,
            &name("retrieval_qual_flag"),
            qual.view(),
            &[
                ("long_name", "Bit flags that record the conditions and the quality of the DCA retrieval algorithms."),
                ("flag_masks", "1s, 2s, 4s, 8s"),
                ("flag_meanings", "Retrieval_recommended Retrieval_attempted Retrieval_success FT_retrieval_success"),
            ],
            Some(FILL_U16),
            Some(&coordinates),
        )?;
        var(
            &group,
            &name("surface_flag"),
            surface.view(),
            &[("long_name", "Bit flags that record ambient surface conditions for the grid cell.")],
            Some(FILL_U16),
            Some(&coordinates),
        )?;
        var(
            &group,
            &name("tb_time_seconds"),
            seconds.view(),
            &[
                ("long_name", "Acquisition time of the brightness temperatures, in seconds since J2000."),
                ("units", "seconds"),
            ],
            Some(-9999.0_f64),
            Some(&coordinates),
        )?;
        var(
            &group,
            &name("landcover_class"),
            lc.view(),
            &[
                (
                    "long_name",
                    "An enumerated type that specifies the three most predominant land cover classes in the grid cell (IGBP).",
                ),
                ("units", "NA"),
            ],
            Some(FILL_U8),
            Some(&coordinates),
        )?;
        // Real files hard-link the DCA flag to the generic one (data-formats.md §3.2).
        group.link_hard(&name("retrieval_qual_flag"), &name("retrieval_qual_flag_dca")).map_err(hdf)?;
    }
    Ok(())
}

fn write_l4(root: &Group, spec: &SmapSpec) -> Result<()> {
    write_metadata(root, spec, "SPL4CMDL", Some(&M09))?;
    let (rows, cols) = (M09.rows, M09.cols);
    let day = f64::from(spec.day().ordinal());
    // Latitude depends only on the row and longitude only on the column on a cylindrical grid.
    let lat_of_row: Vec<f64> = (0..rows).map(|r| M09.cell_lonlat(r, 0).1).collect();
    let lon_of_col: Vec<f64> = (0..cols).map(|c| M09.cell_lonlat(0, c).0).collect();
    let projection = write_scalar(root, "EASE2_global_projection", 0_i8)?;
    set_text(&projection, "grid_mapping_name", "lambert_cylindrical_equal_area")?;
    set_number(&projection, "standard_parallel", 30.0_f64)?;
    set_number(&projection, "longitude_of_central_meridian", 0.0_f64)?;
    set_number(&projection, "false_easting", 0.0_f64)?;
    set_number(&projection, "false_northing", 0.0_f64)?;
    let season = ((day - 105.0) / 365.0 * std::f64::consts::TAU).cos();
    // One pass computes a productivity index per land cell (NaN elsewhere); every field derives from it, so
    // the 6 million cells cost one evaluation of the land mask and the trigonometry.
    let mut productivity = vec![f32::NAN; rows * cols];
    for (r, &lat) in lat_of_row.iter().enumerate() {
        let warmth = (1.0 - (lat.abs() / 70.0).powi(2)).max(0.0);
        let hemisphere = if lat >= 0.0 { season } else { -season };
        for (c, &lon) in lon_of_col.iter().enumerate() {
            if is_land(lon, lat) && !is_ice(lon, lat) {
                let wave = 1.0 + 0.3 * (lon * 0.07).sin() * (lat * 0.11).cos();
                productivity[r * cols + c] = (warmth * (0.6 + 0.4 * hemisphere) * wave).max(0.0) as f32;
            }
        }
    }
    let coldness: Vec<f32> = lat_of_row.iter().map(|lat| (lat.abs() / 70.0).min(1.0) as f32).collect();
    let field = |f: &dyn Fn(f32, usize, usize) -> f32| -> Result<Array2<f32>> {
        let mut out = vec![FILL_F32; rows * cols];
        for (i, (value, &p)) in out.iter_mut().zip(&productivity).enumerate() {
            if !p.is_nan() {
                *value = f(p, i / cols, i % cols);
            }
        }
        Array2::from_shape_vec((rows, cols), out).map_err(|e| Error::Invalid(e.to_string()))
    };
    let geo = root.create_group("GEO").map_err(hdf)?;
    let lat_grid = Array2::from_shape_vec(
        (rows, cols),
        lat_of_row.iter().flat_map(|&lat| std::iter::repeat_n(lat as f32, cols)).collect(),
    )
    .map_err(|e| Error::Invalid(e.to_string()))?;
    let lon_row: Vec<f32> = lon_of_col.iter().map(|&lon| lon as f32).collect();
    let lon_grid = Array2::from_shape_vec((rows, cols), lon_row.iter().copied().cycle().take(rows * cols).collect())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    var(
        &geo,
        "latitude",
        lat_grid.view(),
        &[("long_name", "Latitude of the grid cell centre"), ("units", "degrees_north")],
        Some(FILL_F32),
        None,
    )?;
    var(
        &geo,
        "longitude",
        lon_grid.view(),
        &[("long_name", "Longitude of the grid cell centre"), ("units", "degrees_east")],
        Some(FILL_F32),
        None,
    )?;
    let flux = "g m-2 d-1";
    let lon_wave: Vec<f32> = lon_of_col.iter().map(|lon| (lon * 0.05).sin() as f32).collect();
    type Field<'a> = Box<dyn Fn(f32, usize, usize) -> f32 + 'a>;
    let groups: [(&str, &str, &str, &str, Field<'_>); 6] = [
        ("GPP", "gpp_mean", "Gross primary productivity", flux, Box::new(|p, _, _| 9.0 * p)),
        ("RH", "rh_mean", "Heterotrophic respiration", flux, Box::new(|p, _, _| 0.4 + 3.0 * p)),
        ("NEE", "nee_mean", "Net ecosystem CO2 exchange", flux, Box::new(|p, _, _| 0.4 - 3.0 * p)),
        (
            "SOC",
            "soc_mean",
            "Soil organic carbon",
            "g m-2",
            Box::new(|_, r, c| 2_500.0 + 9_000.0 * coldness[r] + 800.0 * lon_wave[c]),
        ),
        (
            "EC",
            "tmult_mean",
            "Temperature (frozen soil) multiplier",
            "1",
            Box::new(|p, r, _| ((1.0 - coldness[r]) * (0.7 + 0.3 * p)).clamp(0.0, 1.0)),
        ),
        ("QA", "nee_rmse_mean", "NEE RMSE", flux, Box::new(|p, _, _| 0.3 + 0.8 * p)),
    ];
    let attrs = |long_name: &'static str, units: &'static str| {
        [
            ("long_name", long_name),
            ("units", units),
            ("grid_mapping", "EASE2_global_projection"),
            ("coordinates", "/GEO/latitude /GEO/longitude"),
        ]
    };
    for (group_name, variable, long_name, units, f) in groups.iter() {
        let group = root.create_group(group_name).map_err(hdf)?;
        let data = field(f.as_ref())?;
        var(&group, variable, data.view(), &attrs(long_name, units), Some(FILL_F32), None)?;
        if *group_name == "NEE" {
            let spread = field(&|p, _, _| 0.2 + 0.5 * p)?;
            var(&group, "nee_std_dev", spread.view(), &attrs("NEE standard deviation", flux), Some(FILL_F32), None)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_l2_swath_is_a_thin_band_of_cells_in_time_order() {
        let spec = &specs("SPL2SMP")[0];
        let cells = spec.swath_cells();
        assert!(cells.len() > 5_000 && cells.len() < 40_000, "{}", cells.len());
        // Ascending: from the south (high rows) northwards.
        assert!(cells.first().map(|c| c.0) > cells.last().map(|c| c.0));
    }

    #[test]
    fn land_mask_puts_colorado_on_land_and_the_pacific_at_sea() {
        assert!(is_land(-105.0, 40.0));
        assert!(!is_land(-140.0, 20.0));
        assert!(!is_land(-30.0, 0.0));
    }

    #[test]
    fn time_spans_follow_the_names() {
        let (start, end) = specs("SPL3SMP")[1].time_span();
        assert_eq!(start.to_rfc3339(), "2023-12-12T00:00:00+00:00");
        assert!(end > start);
        let (start, _) = specs("SPL2SMP")[0].time_span();
        assert_eq!(start.to_rfc3339(), "2023-12-04T15:48:57+00:00");
    }
}
