//! Data engine end to end: every sample granule generated and read back, the Trajectory Subsetter on the
//! real fixture and on synthetic granules (box, polygon, time, no data), SMAP variable subsets, GeoTIFF
//! outputs and reprojection, and the real shape files. Outputs are left in
//! `$CARGO_TARGET_TMPDIR/hq-data-outputs/` for the Python cross-checks in `tests/python/data/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use harmonyql::data::ease_grid::M36;
use harmonyql::data::{atl03, geotiff, smap, summary};
use harmonyql_server::sample::{self, COLLECTIONS, SampleGranule};
use harmonyql_server::transform::{self, Operation, TransformError};

/// Where this run's outputs go; the Python tests read them from there.
fn outputs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hq-data-outputs");
    std::fs::create_dir_all(&dir).expect("create the outputs directory");
    dir
}

/// A fresh, empty output directory for one test, so stale files from earlier runs never confuse the
/// Python cross-checks.
fn fresh(name: &str) -> PathBuf {
    let dir = outputs().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn granule(short_name: &str, name: &str) -> SampleGranule {
    sample::granules(short_name).into_iter().find(|g| g.name == name).expect("granule in the catalog")
}

fn ensure(granule: &SampleGranule) -> PathBuf {
    sample::ensure(granule, &outputs().join("granules"), 1).expect("generate the granule")
}

fn read<T: hdf5::H5Type>(path: &Path, dataset: &str) -> Vec<T> {
    let file = hdf5::File::open(path).expect("open");
    file.dataset(dataset).expect(dataset).read_raw::<T>().expect("read")
}

const COLORADO: &str = "ATL03_20200427193622_04930702_006_02.h5";

#[test]
fn every_sample_granule_generates_and_reads_back_consistently() {
    for short_name in COLLECTIONS {
        for granule in sample::granules(short_name) {
            let started = Instant::now();
            let path = ensure(&granule);
            eprintln!("generated {short_name} {} in {:?}", granule.name, started.elapsed());
            let file = hdf5::File::open(&path).expect("open the generated file");
            if short_name.starts_with("ATL03") {
                for beam in file.member_names().expect("members").iter().filter(|m| m.starts_with("gt")) {
                    let counts: Vec<i32> = read(&path, &format!("{beam}/geolocation/segment_ph_cnt"));
                    let begins: Vec<i64> = read(&path, &format!("{beam}/geolocation/ph_index_beg"));
                    let n_photons = read::<f32>(&path, &format!("{beam}/heights/h_ph")).len();
                    assert_eq!(counts.iter().map(|&c| c as usize).sum::<usize>(), n_photons, "{beam}");
                    let mut next = 1;
                    for (&count, &begin) in counts.iter().zip(&begins) {
                        assert_eq!(begin, if count == 0 { 0 } else { next }, "{beam}");
                        next += i64::from(count);
                    }
                    let times: Vec<f64> = read(&path, &format!("{beam}/heights/delta_time"));
                    assert!(times.windows(2).all(|w| w[0] <= w[1]), "photon times are ordered");
                    let start = harmonyql::data::time::delta_time_to_utc(times[0]);
                    assert!(
                        start >= granule.start && start <= granule.end,
                        "{start} in {:?}..{:?}",
                        granule.start,
                        granule.end
                    );
                }
            } else {
                for variable in smap::data_variables(&file).expect("variables") {
                    let variable = smap::read_variable(&file, &variable).expect("read variable");
                    assert!(
                        !variable.points().is_empty()
                            || variable.path.contains("_pm")
                            || variable.path.contains("landcover_class_fraction"),
                        "{} has no valid value",
                        variable.path
                    );
                }
            }
        }
    }
}

#[test]
fn real_fixture_box_subset_keeps_whole_segments_and_renumbers_photons() {
    let granule = granule("ATL03_GT1L", sample::REAL_ATL03_NAME);
    let input = ensure(&granule);
    let bbox = [95.0, 87.295, 96.0, 87.298];
    // Expected from the segment rule, computed independently of the subsetter: the segments whose
    // reference photon is inside the box, all their photons, indices renumbered from 1.
    let lats: Vec<f64> = read(&input, "gt1l/geolocation/reference_photon_lat");
    let lons: Vec<f64> = read(&input, "gt1l/geolocation/reference_photon_lon");
    let counts: Vec<i32> = read(&input, "gt1l/geolocation/segment_ph_cnt");
    let kept: Vec<usize> = (0..lats.len())
        .filter(|&i| lats[i] >= bbox[1] && lats[i] <= bbox[3] && lons[i] >= bbox[0] && lons[i] <= bbox[2])
        .collect();
    assert!(!kept.is_empty() && kept.len() < lats.len(), "the box cuts the fixture");
    let expected_photons: i32 = kept.iter().map(|&i| counts[i]).sum();
    let mut expected_begins = Vec::new();
    let mut next = 1;
    for &i in &kept {
        expected_begins.push(next);
        next += i64::from(counts[i]);
    }
    let out_dir = fresh("real_bbox");
    let result = transform::apply(&granule, &input, &Operation { bbox: Some(bbox), ..Operation::default() }, &out_dir)
        .expect("subset");
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].path.file_name().and_then(|n| n.to_str()), Some("ATL03_gt1l_subsetted.h5"));
    assert_eq!(result[0].mime, "application/x-hdf");
    let out = &result[0].path;
    assert_eq!(read::<f32>(out, "gt1l/heights/h_ph").len() as i32, expected_photons);
    assert_eq!(read::<i64>(out, "gt1l/geolocation/ph_index_beg"), expected_begins);
    assert_eq!(
        read::<i32>(out, "gt1l/geolocation/segment_ph_cnt"),
        kept.iter().map(|&i| counts[i]).collect::<Vec<_>>()
    );
    // The photons are the source's photons of those segments, in order.
    let source_h: Vec<f32> = read(&input, "gt1l/heights/h_ph");
    let source_begins: Vec<i64> = read(&input, "gt1l/geolocation/ph_index_beg");
    let first = (source_begins[kept[0]] - 1) as usize;
    assert_eq!(read::<f32>(out, "gt1l/heights/h_ph"), source_h[first..first + expected_photons as usize].to_vec());
    // Time-only groups are cut to the kept time span; the root scales are added for netCDF readers.
    let kept_times: Vec<f64> = read(out, "gt1l/geolocation/delta_time");
    let background: Vec<f64> = read(out, "gt1l/bckgrd_atlas/delta_time");
    assert!(!background.is_empty() && background.len() < read::<f64>(&input, "gt1l/bckgrd_atlas/delta_time").len());
    assert!(background.iter().all(|t| *t >= kept_times[0] - 1.0 && *t <= kept_times[kept_times.len() - 1] + 1.0));
    let file = hdf5::File::open(out).expect("open output");
    assert_eq!(file.dataset("ds_surf_type").expect("root scale").shape(), [5]);
    assert!(file.attr("Processing Parameters").is_ok());
    eprintln!("real fixture subset: {} of {} segments, {expected_photons} photons", kept.len(), lats.len());
}

#[test]
fn colorado_box_and_time_subsets_keep_only_what_was_asked() {
    let granule = granule("ATL03", COLORADO);
    let input = ensure(&granule);
    let bbox = [-105.5, 40.0, -105.0, 40.5];
    let result = transform::apply(
        &granule,
        &input,
        &Operation { bbox: Some(bbox), ..Operation::default() },
        &fresh("colorado_bbox"),
    )
    .expect("subset");
    let out = &result[0].path;
    assert_eq!(out.file_name().and_then(|n| n.to_str()), Some("ATL03_20200427193622_04930702_006_02_subsetted.h5"));
    let file = hdf5::File::open(out).expect("open");
    let beams: Vec<String> =
        file.member_names().expect("members").into_iter().filter(|m| m.starts_with("gt")).collect();
    assert_eq!(beams.len(), 6, "all six beams cross the box");
    for beam in &beams {
        let lats: Vec<f64> = read(out, &format!("{beam}/geolocation/reference_photon_lat"));
        let lons: Vec<f64> = read(out, &format!("{beam}/geolocation/reference_photon_lon"));
        assert!(
            lats.iter().zip(&lons).all(|(lat, lon)| *lat >= 40.0 && *lat <= 40.5 && *lon >= -105.5 && *lon <= -105.0)
        );
        let begins: Vec<i64> = read(out, &format!("{beam}/geolocation/ph_index_beg"));
        assert_eq!(begins.iter().find(|b| **b > 0), Some(&1));
    }
    // Time: a 3-second window from 5 s after the start keeps only photons inside it, whatever the place.
    let start = granule.start + Duration::seconds(5);
    let end = start + Duration::seconds(3);
    let operation = Operation { start: Some(start), end: Some(end), ..Operation::default() };
    let result = transform::apply(&granule, &input, &operation, &fresh("colorado_time")).expect("time subset");
    let times: Vec<f64> = read(&result[0].path, "gt2l/geolocation/delta_time");
    let (t0, t1) = (harmonyql::data::time::utc_to_delta_time(start), harmonyql::data::time::utc_to_delta_time(end));
    assert!(!times.is_empty() && times.iter().all(|t| *t >= t0 && *t <= t1));
    let background: Vec<f64> = read(&result[0].path, "gt2l/bckgrd_atlas/delta_time");
    assert!(!background.is_empty() && background.iter().all(|t| *t >= t0 && *t <= t1));
    // Whole segments: photons of the last kept segment may follow its time by up to one segment (3 ms).
    let slack = Duration::milliseconds(10);
    assert!(result[0].start >= start && result[0].end <= end + slack, "{:?}..{:?}", result[0].start, result[0].end);
}

#[test]
fn colorado_polygon_subset_keeps_segments_inside_the_triangle() {
    let granule = granule("ATL03", COLORADO);
    let input = ensure(&granule);
    let triangle = vec![vec![[-105.6, 40.2], [-104.9, 40.2], [-105.25, 40.6], [-105.6, 40.2]]];
    let operation = Operation {
        shape: vec![triangle.clone()],
        variables: vec!["/gt1l/heights/h_ph".into()],
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("colorado_polygon")).expect("polygon subset");
    let out = &result[0].path;
    assert_eq!(
        out.file_name().and_then(|n| n.to_str()),
        Some("ATL03_20200427193622_04930702_006_02_gt1l_heights_h_ph_subsetted.h5")
    );
    let file = hdf5::File::open(out).expect("open");
    let heights = file.group("gt1l/heights").expect("heights");
    let mut names = heights.member_names().expect("members");
    names.sort();
    // The requested variable plus the coordinates it names.
    assert_eq!(names, ["delta_time", "h_ph", "lat_ph", "lon_ph"]);
    assert!(file.group("gt2l").is_err(), "beams not asked for are left out");
    let lats: Vec<f64> = read(out, "gt1l/heights/lat_ph");
    assert!(lats.iter().all(|lat| (40.19..=40.61).contains(lat)));
}

#[test]
fn a_box_that_misses_the_granule_fails_with_harmonys_no_data_message() {
    let granule = granule("ATL03", COLORADO);
    let input = ensure(&granule);
    let out_dir = fresh("no_data");
    let error = transform::apply(
        &granule,
        &input,
        &Operation { bbox: Some([-150.0, 10.0, -140.0, 20.0]), ..Operation::default() },
        &out_dir,
    )
    .expect_err("no data");
    assert!(matches!(&error, TransformError::NoData(message) if message == "No data found to process"), "{error}");
    assert!(!out_dir.join("ATL03_20200427193622_04930702_006_02_subsetted.h5").exists(), "no file is left behind");
}

#[test]
fn smap_l2_variable_subset_keeps_the_variable_its_coordinates_and_the_box() {
    let granule = granule("SPL2SMP", "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5");
    let input = ensure(&granule);
    let lats: Vec<f32> = read(&input, "Soil_Moisture_Retrieval_Data/latitude");
    let lons: Vec<f32> = read(&input, "Soil_Moisture_Retrieval_Data/longitude");
    let bbox = [10.0, -10.0, 40.0, 10.0];
    let expected = lats
        .iter()
        .zip(&lons)
        .filter(|(lat, lon)| {
            f64::from(**lat) >= bbox[1]
                && f64::from(**lat) <= bbox[3]
                && f64::from(**lon) >= bbox[0]
                && f64::from(**lon) <= bbox[2]
        })
        .count();
    let operation = Operation {
        bbox: Some(bbox),
        variables: vec!["Soil_Moisture_Retrieval_Data/soil_moisture".into()],
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("smap_l2_variable")).expect("subset");
    let out = &result[0].path;
    assert_eq!(
        out.file_name().and_then(|n| n.to_str()),
        Some("SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001_Soil_Moisture_Retrieval_Data_soil_moisture_subsetted.h5")
    );
    let file = hdf5::File::open(out).expect("open");
    let mut names = file.group("Soil_Moisture_Retrieval_Data").expect("group").member_names().expect("members");
    names.sort();
    assert_eq!(names, ["EASE_column_index", "EASE_row_index", "latitude", "longitude", "soil_moisture"]);
    assert!(expected > 0);
    assert_eq!(read::<f32>(out, "Soil_Moisture_Retrieval_Data/soil_moisture").len(), expected);
    assert!(file.group("Metadata").is_ok());
    let unknown = Operation { variables: vec!["Soil_Moisture_Retrieval_Data/nope".into()], ..Operation::default() };
    assert!(matches!(
        transform::apply(&granule, &input, &unknown, &fresh("smap_l2_unknown")),
        Err(TransformError::Unsupported(_))
    ));
}

#[test]
fn tutorial_landcover_geotiff_is_the_global_m36_grid_with_the_swath_values() {
    let granule = granule("SPL2SMP", "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5");
    let input = ensure(&granule);
    let operation = Operation {
        variables: vec!["Soil_Moisture_Retrieval_Data/landcover_class".into()],
        format: Some("image/tiff".into()),
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("smap_l2_geotiff")).expect("geotiff");
    assert_eq!(result.len(), 1);
    assert_eq!(
        result[0].path.file_name().and_then(|n| n.to_str()),
        Some(
            "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001_subsetted_regridded_Soil_Moisture_Retrieval_Data_landcover_class_reformatted.tif"
        )
    );
    assert_eq!(result[0].mime, "image/tiff");
    let raster = geotiff::read(&result[0].path).expect("read back");
    assert_eq!((raster.width, raster.height, raster.epsg, raster.nodata), (964, 406, 6933, Some(254.0)));
    assert_eq!(raster.transform, M36.geotransform());
    // Every swath cell holds its first land-cover class.
    let rows: Vec<u16> = read(&input, "Soil_Moisture_Retrieval_Data/EASE_row_index");
    let cols: Vec<u16> = read(&input, "Soil_Moisture_Retrieval_Data/EASE_column_index");
    let classes: Vec<u8> = read(&input, "Soil_Moisture_Retrieval_Data/landcover_class");
    for i in (0..rows.len()).step_by(97) {
        let pixel = raster.pixels.get(usize::from(rows[i]) * 964 + usize::from(cols[i]));
        assert_eq!(pixel, Some(f64::from(classes[3 * i])), "cell {i}");
    }
}

#[test]
fn tutorial_l3_reprojection_to_geographic_keeps_the_cell_values() {
    let granule = granule("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5");
    let input = ensure(&granule);
    let variable = "Soil_Moisture_Retrieval_Data_AM/soil_moisture";
    let operation = Operation {
        bbox: Some([-93.0, 30.0, -77.0, 45.0]),
        variables: vec![variable.into()],
        format: Some("image/tiff".into()),
        output_crs: Some("EPSG:4326".into()),
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("smap_l3_reprojected")).expect("reproject");
    assert_eq!(
        result[0].path.file_name().and_then(|n| n.to_str()),
        Some(
            "SMAP_L3_SM_P_20231212_R19240_001_subsetted_regridded_Soil_Moisture_Retrieval_Data_AM_soil_moisture_reformatted.tif"
        )
    );
    let raster = geotiff::read(&result[0].path).expect("read back");
    assert_eq!((raster.epsg, raster.nodata), (4326, Some(-9999.0)));
    assert!(raster.transform[0] <= -93.0 && raster.transform[3] >= 45.0);
    let source: Vec<f32> = read(&input, variable);
    let mut checked = 0;
    for row in 0..raster.height {
        for col in 0..raster.width {
            let lon = raster.transform[0] + (col as f64 + 0.5) * raster.transform[1];
            let lat = raster.transform[3] + (row as f64 + 0.5) * raster.transform[5];
            let value = raster.pixels.get(row * raster.width + col).expect("pixel");
            let inside = (-93.0..=-77.0).contains(&lon) && (30.0..=45.0).contains(&lat);
            let (r, c) = M36.cell_of(lon, lat).expect("on the grid");
            let (cell_lon, cell_lat) = M36.cell_lonlat(r, c);
            let cell_inside = (-93.0..=-77.0).contains(&cell_lon) && (30.0..=45.0).contains(&cell_lat);
            let expected = if cell_inside { f64::from(source[r * 964 + c]) } else { -9999.0 };
            assert_eq!(value as f32, expected as f32, "pixel ({row}, {col}) at ({lon}, {lat}), inside {inside}");
            checked += usize::from(value != -9999.0);
        }
    }
    assert!(checked > 50, "{checked} valid pixels");
    // Without a CRS the output stays on EASE-Grid 2.0, cropped to the box.
    let ease = Operation { output_crs: None, ..operation };
    let result = transform::apply(&granule, &input, &ease, &fresh("smap_l3_ease")).expect("ease");
    let raster = geotiff::read(&result[0].path).expect("read back");
    assert_eq!(raster.epsg, 6933);
    assert!(raster.width < 60 && raster.height < 60);
}

#[test]
fn tutorial_l4_carbon_variables_become_one_geotiff_each() {
    let granule = granule("SPL4CMDL", "SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5");
    let input = ensure(&granule);
    let variables = ["NEE/nee_mean", "RH/rh_mean", "SOC/soc_mean"];
    let operation = Operation {
        variables: variables.iter().map(|v| v.to_string()).collect(),
        format: Some("image/tiff".into()),
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("smap_l4_geotiff")).expect("geotiff");
    let names: Vec<String> =
        result.iter().filter_map(|o| o.path.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    assert_eq!(
        names,
        [
            "SMAP_L4_C_mdl_20150401T000000_Vv8020_001_subsetted_NEE_nee_mean_reformatted.tif",
            "SMAP_L4_C_mdl_20150401T000000_Vv8020_001_subsetted_RH_rh_mean_reformatted.tif",
            "SMAP_L4_C_mdl_20150401T000000_Vv8020_001_subsetted_SOC_soc_mean_reformatted.tif",
        ]
    );
    let raster = geotiff::read(&result[2].path).expect("read back");
    assert_eq!((raster.width, raster.height, raster.epsg), (3856, 1624, 6933));
    let stats = raster.statistics().expect("valid pixels");
    assert!(stats.min > 0.0 && stats.max < 20_000.0, "{stats:?}");
}

#[test]
fn real_shape_files_parse_into_polygons() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/shapes");
    let cases = [
        ("box.geo.json", "application/geo+json", [20.0, 15.0, 50.0, 40.0]),
        ("France_simple.geojson", "application/geo+json", [-5.0, 42.0, 8.5, 51.5]),
        ("SriLanka_simple.kml", "application/vnd.google-earth.kml+xml", [79.4, 5.6, 82.1, 10.0]),
        ("EasternUS.kml", "application/vnd.google-earth.kml+xml", [-100.0, 24.0, -66.0, 50.0]),
        ("Semey.zip", "application/shapefile+zip", [71.0, 44.0, 85.0, 52.0]),
        ("Iceland_sliver.zip", "application/shapefile+zip", [-25.0, 63.0, -13.0, 67.0]),
        ("Tasmania_sliver.geojson", "", [143.0, -44.0, 149.0, -39.0]),
    ];
    for (name, mime, around) in cases {
        let bytes = std::fs::read(dir.join(name)).expect(name);
        let polygons = transform::parse_shape(&bytes, mime).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bbox = transform::selection::polygons_bbox(&polygons).expect("points");
        assert!(
            bbox[0] >= around[0] - 1.0
                && bbox[1] >= around[1] - 1.0
                && bbox[2] <= around[2] + 1.0
                && bbox[3] <= around[3] + 1.0,
            "{name}: {bbox:?}"
        );
        eprintln!("{name}: {} polygon(s), bbox {bbox:?}", polygons.len());
    }
    let _ = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0);
}

#[test]
fn open_summarises_the_real_fixture_with_its_beam() {
    let input = ensure(&granule("ATL03_GT1L", sample::REAL_ATL03_NAME));
    let summary = summary::open(&input).expect("open");
    let summary::Summary::Hdf5 { root, beams, .. } = &summary else { panic!("not HDF5") };
    assert_eq!(beams.len(), 1);
    let beam = &beams[0];
    assert_eq!(
        (beam.beam.as_str(), beam.strength.as_deref(), beam.n_photons, beam.n_segments),
        ("gt1l", Some("weak"), 2909, 40)
    );
    // The Trajectory Subsetter recorded this first photon time in its provenance (data-formats.md §1.10).
    assert_eq!(
        beam.start.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()).as_deref(),
        Some("2018-10-14T00:26:50.795463")
    );
    let heights = root
        .groups
        .iter()
        .find(|g| g.name == "gt1l")
        .and_then(|g| g.groups.iter().find(|g| g.name == "heights"))
        .expect("heights");
    let conf = heights.datasets.iter().find(|d| d.name == "signal_conf_ph").expect("signal_conf_ph");
    assert_eq!(conf.shape, [2909, 5]);
    let text = summary.to_string();
    assert!(text.contains("gt1l (weak): 2909 photons") && text.contains("h_ph [2909] float32 (meters)"), "{text}");
}

#[test]
fn photons_read_with_the_confidence_of_the_chosen_surface() {
    let input = ensure(&granule("ATL03", COLORADO));
    let file = hdf5::File::open(&input).expect("open");
    let land = atl03::read_photons(&file, "gt2l", "land".parse().expect("surface"), None).expect("photons");
    let ocean = atl03::read_photons(&file, "gt2l", "ocean".parse().expect("surface"), Some(0..100)).expect("photons");
    assert!(land.len() > 1000 && ocean.len() == 100);
    assert!(land.confidence.iter().all(|c| (0..=4).contains(c)), "land is considered over Colorado");
    assert!(ocean.confidence.iter().all(|&c| c == -1), "ocean is not considered");
    assert!(land.time(0).expect("time") >= granule("ATL03", COLORADO).start);
    // Fill values come back masked: cloudy segments have no sigma_h.
    let sigma = atl03::read_masked(&file, "gt2l/geolocation/sigma_h").expect("sigma_h");
    let counts: Vec<i32> = read(&input, "gt2l/geolocation/segment_ph_cnt");
    assert!(sigma.iter().zip(&counts).all(|(s, &c)| s.is_none() == (c == 0)));
    let beams = atl03::beams(&file).expect("beams");
    assert_eq!(
        beams.iter().map(|b| b.strength.clone().unwrap_or_default()).collect::<Vec<_>>(),
        ["strong", "weak", "strong", "weak", "strong", "weak"]
    );
}

#[test]
fn open_summarises_a_geotiff() {
    let granule = granule("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5");
    let input = ensure(&granule);
    let operation = Operation {
        bbox: Some([-93.0, 30.0, -77.0, 45.0]),
        variables: vec!["Soil_Moisture_Retrieval_Data_AM/soil_moisture".into()],
        format: Some("image/tiff".into()),
        ..Operation::default()
    };
    let result = transform::apply(&granule, &input, &operation, &fresh("summary_geotiff")).expect("geotiff");
    let summary = summary::open(&result[0].path).expect("open");
    let summary::Summary::GeoTiff { raster, .. } = &summary else { panic!("not a GeoTIFF") };
    assert_eq!((raster.epsg, raster.nodata), (6933, Some(-9999.0)));
    let stats = raster.statistics().expect("valid pixels");
    assert!(stats.min >= 0.02 && stats.max <= 0.5, "{stats:?}");
    assert!(summary.to_string().contains("EPSG:6933"));
}

#[test]
fn scale_multiplies_the_photons_of_a_granule() {
    let granule = granule("ATL03", "ATL03_20191021032210_03770503_006_01.h5");
    let dir = outputs().join("granules");
    let base = sample::ensure(&granule, &dir, 1).expect("scale 1");
    let started = Instant::now();
    let scaled = sample::ensure(&granule, &dir, 4).expect("scale 4");
    eprintln!("scale 4 generated in {:?}", started.elapsed());
    assert_ne!(base, scaled, "scaled granules live apart from the default ones");
    assert_eq!(scaled.file_name(), base.file_name(), "under the same granule name");
    let n_base = read::<f32>(&base, "gt1l/heights/h_ph").len() as f64;
    let n_scaled = read::<f32>(&scaled, "gt1l/heights/h_ph").len() as f64;
    assert!((n_scaled / n_base - 4.0).abs() < 0.4, "{n_base} -> {n_scaled}");
}

#[test]
fn smap_l3_box_subset_keeps_the_window_of_cells_covering_the_box() {
    let granule = granule("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5");
    let input = ensure(&granule);
    let variable = "Soil_Moisture_Retrieval_Data_AM/soil_moisture";
    let bbox = [-93.0, 30.0, -77.0, 45.0];
    let operation = Operation { bbox: Some(bbox), variables: vec![variable.into()], ..Operation::default() };
    let result = transform::apply(&granule, &input, &operation, &fresh("smap_l3_variable")).expect("subset");
    let file = hdf5::File::open(&result[0].path).expect("open");
    let shape = file.dataset(variable).expect("variable").shape();
    // The corner cells of the window, from the grid definition.
    let (top, left) = M36.cell_of(-93.0, 45.0).expect("on the grid");
    let (bottom, right) = M36.cell_of(-77.0, 30.0).expect("on the grid");
    assert!(shape[0].abs_diff(bottom - top + 1) <= 1 && shape[1].abs_diff(right - left + 1) <= 1, "{shape:?}");
    let (row0, col0) = (
        top + usize::from(!(bbox[1]..=bbox[3]).contains(&M36.cell_lonlat(top, left).1)),
        left + usize::from(M36.cell_lonlat(top, left).0 < bbox[0]),
    );
    let source: Vec<f32> = read(&input, variable);
    let window: Vec<f32> = read(&result[0].path, variable);
    assert_eq!(window[0], source[row0 * 964 + col0]);

    // The window is read back in place on the grid (2-D EASE indices) and maps as a raster.
    let placed = harmonyql::data::smap::read_variable(&file, variable).expect("read the window");
    assert_eq!(placed.values.len(), shape[0] * shape[1]);
    let harmonyql::data::smap::Placement::Swath { rows, cols, .. } = &placed.placement else {
        panic!("a window is placed cell by cell: {:?}", placed.placement)
    };
    // Cells without data carry the index fill value; the others lie inside the window.
    let placed_cells: Vec<(usize, usize)> =
        rows.iter().zip(cols).map(|(r, c)| (*r, *c)).filter(|(r, _)| *r < M36.rows).collect();
    assert!(!placed_cells.is_empty());
    assert!(
        placed_cells.iter().all(|(r, c)| (top..=bottom).contains(r) && (left..=right).contains(c)),
        "{row0} {col0}"
    );
    let query = harmonyql::lang::query::PlotQuery {
        kind: None,
        target: harmonyql::lang::query::Target::Path(result[0].path.display().to_string()),
        group: None,
        beam: None,
        by: None,
        confidence: None,
        surface: None,
        variable: Some(variable.into()),
    };
    let figure = harmonyql::eval::files::plot_file(&result[0].path, &query).expect("plot the window");
    assert!(figure.png.starts_with(b"\x89PNG"));
}

/// `export` from a cell: CSV of a group and GeoJSON tracks, the written file bound to the name, and the
/// CSV's values equal to the file's (fill values as empty cells).
#[test]
fn cells_export_csv_and_geojson_round_trip() {
    use harmonyql::eval::session::{Session, Value};
    use harmonyql::eval::sink::Report;
    let dir = fresh("exports");
    let real = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/real/ATL03_gt1l.h5");
    let csv = dir.join("ocean.csv");
    let geojson = dir.join("tracks.geojson");
    let cell = format!(
        "table = export \"{}\" group gt1l/signal_find_output/ocean to \"{}\"\nexport \"{}\" to \"{}\"",
        real.display(),
        csv.display(),
        real.display(),
        geojson.display()
    );
    let mut session = Session::default();
    let mut reports = Vec::new();
    assert!(session.run(&cell, &mut reports).ok, "{reports:?}");
    assert!(reports.contains(&Report::Exported { path: csv.clone(), rows: 8659 }), "{reports:?}");
    assert_eq!(session.value("table"), Some(&Value::Files(vec![csv.clone()])));

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| h.starts_with("bckgrd_mean")).unwrap();
    let expected: Vec<f32> = read(&real, "gt1l/signal_find_output/ocean/bckgrd_mean");
    let mut empty = 0;
    for (line, value) in lines.zip(&expected) {
        let cell = line.split(',').nth(column).unwrap();
        if *value == f32::MAX {
            assert_eq!(cell, "");
            empty += 1;
        } else {
            assert_eq!(cell.parse::<f64>().unwrap(), f64::from(*value));
        }
    }
    assert_eq!(empty, 648);

    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&geojson).unwrap()).unwrap();
    assert_eq!(json["features"][0]["geometry"]["type"], "LineString");
    assert_eq!(json["features"][0]["properties"]["strength"], "weak");

    let mut reports = Vec::new();
    let bad = format!("export \"{}\" to \"out.parquet\"", real.display());
    assert!(!session.run(&bad, &mut reports).ok);
    assert!(format!("{reports:?}").contains("bad-export-format"), "{reports:?}");
}

/// Runs `operation` with its job already canceled: the transformation must stop at its first checkpoint,
/// say so (`Canceled`, not a failure or "no data"), leave no output and take far less than a run.
fn assert_cancel_stops(granule: &SampleGranule, operation: &Operation, name: &str) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let input = ensure(granule);
    let started = Instant::now();
    transform::apply(granule, &input, operation, &fresh(&format!("{name}_whole"))).expect("the uncanceled run");
    let whole = started.elapsed();
    let out_dir = fresh(name);
    let started = Instant::now();
    let canceled = Arc::new(AtomicBool::new(true));
    let result = transform::cancel::run(canceled, || transform::apply(granule, &input, operation, &out_dir));
    let stopped = started.elapsed();
    assert!(matches!(result, Err(TransformError::Canceled)), "{name}: {result:?}");
    let left: Vec<_> = std::fs::read_dir(&out_dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "{name}: {left:?}");
    assert!(stopped < std::time::Duration::from_secs(2), "{name}: canceled run took {stopped:?} (whole: {whole:?})");
}

#[test]
fn cancel_stops_the_trajectory_subsetter() {
    let operation = Operation { bbox: Some([-105.5, 40.0, -105.0, 41.0]), ..Operation::default() };
    assert_cancel_stops(&granule("ATL03", COLORADO), &operation, "cancel_trajectory");
}

#[test]
fn cancel_stops_the_variable_subsetter() {
    let operation = Operation {
        bbox: Some([-100.0, 30.0, -80.0, 45.0]),
        variables: vec!["Soil_Moisture_Retrieval_Data_AM/soil_moisture".into()],
        ..Operation::default()
    };
    assert_cancel_stops(&granule("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5"), &operation, "cancel_variable");
}

#[test]
fn cancel_stops_the_geotiff_and_reprojection_paths() {
    let granule = granule("SPL3SMP", "SMAP_L3_SM_P_20231212_R19240_001.h5");
    let geotiff = Operation {
        bbox: Some([-93.0, 30.0, -77.0, 45.0]),
        variables: vec!["Soil_Moisture_Retrieval_Data_AM/soil_moisture".into()],
        format: Some("image/tiff".into()),
        ..Operation::default()
    };
    assert_cancel_stops(&granule, &geotiff, "cancel_geotiff");
    let reprojected = Operation { output_crs: Some("EPSG:4326".into()), ..geotiff };
    assert_cancel_stops(&granule, &reprojected, "cancel_reproject");
}
