"""Cross-checks of HarmonyQL's HDF5 and GeoTIFF outputs with the Python tools users open them with.

Rust writes the files (`cargo test --test it data`); here h5py, numpy, xarray and rasterio read them.
Expected values are computed here, independently, from the inputs.
"""

import pathlib

import h5py
import numpy as np
import pytest
import rasterio
import rasterio.warp
import xarray as xr

COLORADO = "ATL03_20200427193622_04930702_006_02.h5"
BEAMS = ["gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"]


def only(directory: pathlib.Path, pattern: str) -> pathlib.Path:
    matches = sorted(directory.glob(pattern))
    assert len(matches) == 1, f"expected one {pattern} in {directory}, found {matches}"
    return matches[0]


@pytest.mark.parametrize(
    "relative",
    [f"granules/ATL03/{COLORADO}", f"colorado_bbox/{COLORADO[:-3]}_subsetted.h5", "real_bbox/ATL03_gt1l_subsetted.h5"],
)
def test_xarray_opens_the_heights_group(outputs, relative):
    path = outputs / relative
    with xr.open_dataset(path, group="gt1l/heights") as heights:
        assert heights.sizes["delta_time"] > 0
        assert heights["signal_conf_ph"].dims == ("delta_time", "ds_surf_type")
        with h5py.File(path) as f:
            np.testing.assert_array_equal(heights["h_ph"].values, f["gt1l/heights/h_ph"][:])


def test_generated_atl03_is_consistent_and_plausible(outputs):
    with h5py.File(outputs / "granules" / "ATL03" / COLORADO) as f:
        assert f.attrs["short_name"] == b"ATL03"
        assert f["ds_surf_type"].shape == (5,)
        for beam in BEAMS:
            geo, heights = f[f"{beam}/geolocation"], f[f"{beam}/heights"]
            counts, begins = geo["segment_ph_cnt"][:], geo["ph_index_beg"][:]
            assert counts.sum() == heights["h_ph"].shape[0]
            expected = np.where(counts > 0, np.cumsum(counts) - counts + 1, 0)
            np.testing.assert_array_equal(begins, expected)
            assert heights["h_ph"].chunks == (10000,)
            assert heights["signal_conf_ph"].maxshape == (None, None)
            assert geo["velocity_sc"].shape[1] == 3
            # Front Range: heights between the plains and the high peaks for signal photons.
            signal = heights["signal_conf_ph"][:, 0] >= 3
            h = heights["h_ph"][:][signal]
            assert 1400 < np.percentile(h, 5) and np.percentile(h, 95) < 4400
        assert f["gt1l"].attrs["atlas_beam_type"] in (b"strong", b"weak")


def test_real_fixture_subset_matches_the_segment_rule(outputs, real_fixture):
    bbox = (95.0, 87.295, 96.0, 87.298)
    with h5py.File(real_fixture) as source:
        geo = source["gt1l/geolocation"]
        lat, lon = geo["reference_photon_lat"][:], geo["reference_photon_lon"][:]
        counts, begins = geo["segment_ph_cnt"][:], geo["ph_index_beg"][:]
        keep = (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
        kept = np.flatnonzero(keep)
        first = begins[kept[0]] - 1
        n_photons = counts[keep].sum()
        expected_begins = np.cumsum(counts[keep]) - counts[keep] + 1
        expected_h = source["gt1l/heights/h_ph"][first : first + n_photons]
    with h5py.File(outputs / "real_bbox" / "ATL03_gt1l_subsetted.h5") as out:
        assert out["gt1l/heights/h_ph"].shape[0] == n_photons
        np.testing.assert_array_equal(out["gt1l/geolocation/ph_index_beg"][:], expected_begins)
        np.testing.assert_array_equal(out["gt1l/heights/h_ph"][:], expected_h)
        assert b"bounding box" in out.attrs["Processing Parameters"]
    print(f"real fixture subset: {keep.sum()} segments, {n_photons} photons")


def test_smap_l2_subset_values_equal_the_source(outputs):
    source_path = outputs / "granules" / "SPL2SMP" / "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5"
    out_path = only(outputs / "smap_l2_variable", "*_subsetted.h5")
    with h5py.File(source_path) as source, h5py.File(out_path) as out:
        group = "Soil_Moisture_Retrieval_Data"
        lat, lon = source[f"{group}/latitude"][:], source[f"{group}/longitude"][:]
        keep = (lon >= 10) & (lon <= 40) & (lat >= -10) & (lat <= 10)
        np.testing.assert_array_equal(out[f"{group}/soil_moisture"][:], source[f"{group}/soil_moisture"][:][keep])
        assert out[f"{group}/soil_moisture"].attrs["_FillValue"] == -9999.0


def test_landcover_geotiff_opens_in_rasterio_on_ease_grid(outputs):
    path = only(outputs / "smap_l2_geotiff", "*_landcover_class_reformatted.tif")
    with rasterio.open(path) as raster:
        assert raster.crs.to_epsg() == 6933
        assert (raster.width, raster.height, raster.count) == (964, 406, 1)
        assert raster.nodata == 254
        np.testing.assert_allclose(tuple(raster.transform)[:6], (36032.220840584, 0, -17367530.4451615, 0, -36032.220840584, 7314540.8306386))
        band = raster.read(1)
    source = outputs / "granules" / "SPL2SMP" / "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5"
    with h5py.File(source) as f:
        group = f["Soil_Moisture_Retrieval_Data"]
        rows, cols, classes = group["EASE_row_index"][:], group["EASE_column_index"][:], group["landcover_class"][:, 0]
    np.testing.assert_array_equal(band[rows, cols], classes)


def test_reprojected_l3_geotiff_is_geographic_and_matches_the_cells(outputs):
    path = only(outputs / "smap_l3_reprojected", "*_soil_moisture_reformatted.tif")
    with rasterio.open(path) as raster:
        assert raster.crs.to_epsg() == 4326
        assert raster.nodata == -9999
        left, bottom, right, top = raster.bounds
        assert left <= -93 and right >= -77 and bottom <= 30 and top >= 45
        band = raster.read(1)
        valid = band != -9999
        assert valid.sum() > 50
        assert 0.02 <= band[valid].min() and band[valid].max() <= 0.5
        # The value at Nashville's pixel equals the EASE cell holding it (row/col from the grid definition).
        row, col = raster.index(-86.78, 36.16)
        value = band[row, col]
    with rasterio.open(only(outputs / "smap_l3_ease", "*_soil_moisture_reformatted.tif")) as ease:
        assert ease.crs.to_epsg() == 6933
        x, y = rasterio.warp.transform("EPSG:4326", "EPSG:6933", [-86.78], [36.16])
        r, c = ease.index(x[0], y[0])
        assert ease.read(1)[r, c] == pytest.approx(value)


def test_l4_geotiffs_one_per_variable(outputs):
    paths = sorted((outputs / "smap_l4_geotiff").glob("*_reformatted.tif"))
    assert [p.name.split("_subsetted_")[1] for p in paths] == ["NEE_nee_mean_reformatted.tif", "RH_rh_mean_reformatted.tif", "SOC_soc_mean_reformatted.tif"]
    for path in paths:
        with rasterio.open(path) as raster:
            assert raster.crs.to_epsg() == 6933 and raster.count == 1 and (raster.width, raster.height) == (3856, 1624)
