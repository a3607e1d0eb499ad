"""HarmonyQL's reads compared with h5py's: `hq run -e 'export …'` writes CSV and GeoJSON, and every value,
every masked fill value and every UTC time must be what h5py and numpy give for the same file.

Needs the `hq` binary (`cargo build`); the generated granule comes from `cargo test --test it data`.
"""

import csv
import json
import os
import pathlib
import subprocess

import h5py
import numpy as np
import pytest

from conftest import ROOT

COLORADO = "ATL03_20200427193622_04930702_006_02.h5"
ATLAS_EPOCH = np.datetime64("2018-01-01T00:00:00", "us")


@pytest.fixture(scope="session")
def hq() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = pathlib.Path(os.environ.get("HQ_BIN", target / "debug" / "hq"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo build` first", pytrace=False)
    return path


def export(hq: pathlib.Path, statement: str) -> str:
    result = subprocess.run([str(hq), "run", "-e", statement], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def read_csv(path: pathlib.Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def column_name(header: str) -> str:
    """`h_ph (meters)` → `h_ph`; `signal_conf_ph[2] (counts)` → `signal_conf_ph[2]`."""
    return header.split(" (")[0]


def check_group(path: pathlib.Path, group: str, csv_path: pathlib.Path) -> int:
    header, rows = read_csv(csv_path)
    cells = np.array(rows, dtype=object).reshape(len(rows), len(header))
    checked = 0
    with h5py.File(path) as f:
        g = f[group]
        n = g["delta_time"].shape[0] if "delta_time" in g else len(rows)
        assert len(rows) == n
        for index, label in enumerate(header):
            name = column_name(label)
            if name == "time_utc":
                continue
            base, _, column = name.partition("[")
            dataset = g[base]
            values = dataset[()] if not column else dataset[:, int(column[:-1])]
            units = dataset.attrs.get("units")
            if units is not None:
                units = (units.decode() if isinstance(units, bytes) else str(units)).strip()
                if units:
                    assert label.endswith(f"({units})"), (label, units)
            fill = dataset.attrs.get("_FillValue")
            got = cells[:, index]
            missing = got == ""
            expected_missing = ~np.isfinite(values.astype(np.float64))
            if fill is not None:
                expected_missing |= values == fill
            np.testing.assert_array_equal(missing, expected_missing, err_msg=f"fill mask of {name}")
            # Exact: the CSV holds the shortest text that reads back as the same float64.
            np.testing.assert_array_equal(
                got[~missing].astype(np.float64), values[~missing].astype(np.float64), err_msg=name
            )
            checked += 1
        if "delta_time" in g:
            times = header.index("time_utc")
            delta = g["delta_time"][()]
            expected = ATLAS_EPOCH + np.round(delta * 1e6).astype("timedelta64[us]")
            got = [t.rstrip("Z") for t in cells[:, times]]
            assert got == [str(t) for t in expected]
    return checked


def test_the_real_fixture_exports_what_h5py_reads(hq, real_fixture, tmp_path):
    out = tmp_path / "heights.csv"
    printed = export(hq, f'export "{real_fixture}" group gt1l/heights to "{out}"')
    assert f"exported 2909 rows to {out}" in printed
    assert check_group(real_fixture, "gt1l/heights", out) >= 8


def test_fill_values_export_as_empty_cells(hq, real_fixture, tmp_path):
    out = tmp_path / "ocean.csv"
    export(hq, f'export "{real_fixture}" group gt1l/signal_find_output/ocean to "{out}"')
    header, rows = read_csv(out)
    index = [column_name(h) for h in header].index("bckgrd_mean")
    assert sum(1 for row in rows if row[index] == "") == 648
    check_group(real_fixture, "gt1l/signal_find_output/ocean", out)


def test_a_generated_granule_exports_what_h5py_reads(hq, outputs, tmp_path):
    granule = outputs / "granules" / "ATL03" / COLORADO
    out = tmp_path / "gt2l.csv"
    export(hq, f'export "{granule}" beam gt2l to "{out}"')
    assert check_group(granule, "gt2l/heights", out) >= 8


def test_tracks_export_as_geojson_along_the_reference_photons(hq, outputs, tmp_path):
    granule = outputs / "granules" / "ATL03" / COLORADO
    out = tmp_path / "tracks.geojson"
    export(hq, f'export "{granule}" to "{out}"')
    collection = json.loads(out.read_text())
    assert collection["type"] == "FeatureCollection"
    features = {feature["properties"]["beam"]: feature for feature in collection["features"]}
    with h5py.File(granule) as f:
        beams = sorted(name for name in f if name.startswith("gt"))
        assert sorted(features) == beams
        for beam in beams:
            feature = features[beam]
            props = feature["properties"]
            assert feature["geometry"]["type"] == "LineString"
            assert props["photons"] == f[f"{beam}/heights/h_ph"].shape[0]
            strength = f[beam].attrs["atlas_beam_type"]
            assert props["strength"] == (strength.decode() if isinstance(strength, bytes) else strength)
            coordinates = np.array(feature["geometry"]["coordinates"])
            assert 2 <= len(coordinates) <= 2002
            lon = f[f"{beam}/geolocation/reference_photon_lon"][()]
            lat = f[f"{beam}/geolocation/reference_photon_lat"][()]
            valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
            np.testing.assert_array_equal(coordinates[0], [lon[valid][0], lat[valid][0]])
            np.testing.assert_array_equal(coordinates[-1], [lon[valid][-1], lat[valid][-1]])
            start = ATLAS_EPOCH + np.round(f[f"{beam}/heights/delta_time"][0] * 1e6).astype("timedelta64[us]")
            assert props["start"].rstrip("Z") == str(start)


def test_a_smap_swath_exports_what_h5py_reads_with_fills_masked(hq, outputs, tmp_path):
    granule = outputs / "granules" / "SPL2SMP" / "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001.h5"
    out = tmp_path / "smap.csv"
    export(hq, f'export "{granule}" group Soil_Moisture_Retrieval_Data to "{out}"')
    assert check_group(granule, "Soil_Moisture_Retrieval_Data", out) >= 5
    header, rows = read_csv(out)
    index = [column_name(h) for h in header].index("soil_moisture")
    with h5py.File(granule) as f:
        values = f["Soil_Moisture_Retrieval_Data/soil_moisture"][()]
        fill = f["Soil_Moisture_Retrieval_Data/soil_moisture"].attrs["_FillValue"]
    assert sum(1 for row in rows if row[index] == "") == int((values == fill).sum())
