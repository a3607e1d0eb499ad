"""The harmony-py tutorial's steps, run by the real harmony-py 1.8.0 against `hq serve`.

Outputs are opened the way the tutorial opens them: xarray and h5py for ATL03, rasterio for GeoTIFFs.
"""

import datetime as dt
import json
import pathlib
import re

import h5py
import numpy as np
import pytest
import rasterio
import xarray as xr
from harmony import (
    AddLabelsRequest,
    BBox,
    CapabilitiesRequest,
    Collection,
    DeleteLabelsRequest,
    JobsRequest,
    Request,
)

ATL03_PROD = "C2596864127-NSIDC_CPRD"
ATL03_UAT = "C1256407609-NSIDC_CUAT"
ATL03_GT1L = "C1000000001-HQ_LOCAL"
ROOT = pathlib.Path(__file__).resolve().parents[3]
REAL_FIXTURE = ROOT / "assets" / "real" / "ATL03_gt1l.h5"
STAGED = re.compile(r"^\d+_.+")


def tutorial_request(**extra):
    """The tutorial's ATL03 request over the Colorado Front Range."""
    return Request(
        collection=Collection(id=ATL03_PROD),
        spatial=BBox(-105.5, 40, -105, 41),
        temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)},
        **extra,
    )


@pytest.fixture(scope="module")
def atl03_job(client):
    job_id = client.submit(tutorial_request(labels=["tutorial"]))
    client.wait_for_processing(job_id, show_progress=True)
    return job_id


def test_capabilities_for_both_concept_ids_and_short_name(client):
    for concept_id in (ATL03_PROD, ATL03_UAT):
        caps = client.submit(CapabilitiesRequest(collection_id=concept_id))
        assert caps["conceptId"] == concept_id
        assert caps["shortName"] == "ATL03"
        assert caps["bboxSubset"] and caps["shapeSubset"] and caps["temporalSubset"]
        assert caps["outputFormats"] == ["application/x-hdf5"]
        assert caps["capabilitiesVersion"] == "2"
    smap = client.submit(CapabilitiesRequest(short_name="SPL3SMP", capabilities_version="1"))
    assert smap["capabilitiesVersion"] == "1"
    assert smap["reproject"] and "image/tiff" in smap["outputFormats"]


def test_tutorial_job_completes_and_reports_like_harmony(client, atl03_job, capsys):
    status = client.status(atl03_job)
    assert status["status"] == "successful"
    assert status["progress"] == 100
    assert status["num_input_granules"] >= 1
    assert "forceAsync=true" in status["request"]
    result = client.result_json(atl03_job)
    assert result["jobID"] == atl03_job
    assert "tutorial" in result["labels"] and "harmony-py" in result["labels"]
    data = [link for link in result["links"] if link["rel"] == "data"]
    assert len(data) == status["num_input_granules"] - len(result.get("errors", []))
    for link in data:
        west, south, east, north = link["bbox"]
        assert west <= -105 and east >= -105.5 and south <= 41 and north >= 40
        assert link["temporal"]["start"] <= link["temporal"]["end"]


def test_result_urls_page_and_limit(client, atl03_job):
    urls = list(client.result_urls(atl03_job))
    assert urls and all("/service-results/" in url for url in urls)
    first = list(client.result_urls(atl03_job, page=1, limit=1))
    assert first == urls[:1]
    if len(urls) > 1:
        assert list(client.result_urls(atl03_job, page=2, limit=1)) == urls[1:2]


def test_downloads_open_in_xarray_and_h5py(client, atl03_job, tmp_path):
    files = [future.result() for future in client.download_all(atl03_job, directory=str(tmp_path))]
    assert files
    for path in map(pathlib.Path, files):
        assert STAGED.match(path.name), path.name
        assert path.name.endswith("_subsetted.h5")
        with h5py.File(path) as f:
            beams = [name for name in f if name.startswith("gt")]
            assert beams
            lat = f[f"{beams[0]}/heights/lat_ph"][:]
            lon = f[f"{beams[0]}/heights/lon_ph"][:]
            # Whole segments are kept, so photons may lie a few metres outside the box.
            assert lat.min() > 39.99 and lat.max() < 41.01
            assert lon.min() > -105.51 and lon.max() < -104.99
        beam = "gt1l" if "gt1l" in beams else beams[0]
        with xr.open_dataset(path, group=f"{beam}/heights") as heights:
            assert heights["h_ph"].size == len(lat) or beam != beams[0]
            assert np.isfinite(heights["h_ph"].values).any()


def test_stac_catalog_and_items(client, atl03_job):
    url = client.stac_catalog_url(atl03_job)
    assert url.endswith("?linktype=https")
    catalog = json.loads(client.read_text(url))
    assert catalog["type"] == "Catalog" and catalog["id"] == atl03_job
    items = [link for link in catalog["links"] if link["rel"] == "item"]
    assert items
    item_url = url.split("?")[0] + items[0]["href"].lstrip("./").split("?")[0]
    item = json.loads(client.read_text(item_url))
    assert item["type"] == "Feature" and item["properties"]["start_datetime"]


def test_aws_credentials(client):
    creds = client.aws_credentials()
    assert set(creds) == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    assert all(creds.values())


def test_preview_pauses_then_resume_pause_and_cancel(client):
    """The server runs with --preview-threshold 2: a job over every ATL03 granule previews, then pauses."""
    every_granule = Request(collection=Collection(id="ATL03"), spatial=BBox(-180, -90, 180, 90))
    job_id = client.submit(every_granule)
    client.wait_for_processing(job_id)
    status = client.status(job_id)
    assert status["status"] == "paused", status
    assert 0 < status["progress"] < 100
    with pytest.raises(Exception, match="Job status cannot be updated from paused to paused"):
        client.pause(job_id)
    client.resume(job_id)
    client.wait_for_processing(job_id, show_progress=True)
    assert client.progress(job_id)[0] == 100
    with pytest.raises(Exception, match="only paused jobs can be resumed"):
        client.resume(job_id)

    to_cancel = client.submit(every_granule)
    client.wait_for_processing(to_cancel)
    client.cancel(to_cancel)
    assert client.status(to_cancel)["status"] == "canceled"
    with pytest.raises(Exception, match="Job status cannot be updated from canceled to paused"):
        client.pause(to_cancel)

    skipped = client.submit(
        Request(collection=Collection(id="ATL03"), spatial=BBox(-180, -90, 180, 90), skip_preview=True, max_results=2)
    )
    client.wait_for_processing(skipped)
    assert client.status(skipped)["status"] in ("successful", "complete_with_errors")


def test_labels_add_delete_and_filter(client, atl03_job):
    client.submit(AddLabelsRequest(labels=["Blue", "green"], job_ids=[atl03_job]))
    assert {"blue", "green"} <= set(client.result_json(atl03_job)["labels"])
    listed = client.submit(JobsRequest(labels=["blue"]))
    assert [job["jobID"] for job in listed["jobs"]] == [atl03_job]
    client.submit(DeleteLabelsRequest(labels=["blue"], job_ids=[atl03_job]))
    labels = client.result_json(atl03_job)["labels"]
    assert "blue" not in labels and "green" in labels
    assert client.submit(JobsRequest(labels=["blue"]))["count"] == 0


def test_smap_geotiff_reprojected_to_wgs84_opens_in_rasterio(client, tmp_path):
    request = Request(
        collection=Collection(id="SPL3SMP"),
        spatial=BBox(-110, 30, -90, 45),
        variables=["Soil_Moisture_Retrieval_Data_AM/soil_moisture"],
        format="image/tiff",
        crs="EPSG:4326",
        max_results=1,
    )
    job_id = client.submit(request)
    client.wait_for_processing(job_id)
    files = [future.result() for future in client.download_all(job_id, directory=str(tmp_path))]
    assert files
    for path in files:
        assert path.endswith(".tif"), path
        with rasterio.open(path) as tiff:
            assert tiff.crs.to_epsg() == 4326
            assert tiff.count == 1
            west, south, east, north = tiff.bounds
            assert west >= -110.5 and east <= -89.5 and south >= 29.5 and north <= 45.5
            assert tiff.transform.a > 0 and tiff.transform.e < 0
            assert tiff.nodata == -9999
            band = tiff.read(1, masked=True)
            assert band.count() > 0
            assert 0 <= band.min() and band.max() <= 1


def expected_fixture_subset(bbox):
    """The Trajectory Subsetter's segment rule, computed here from NASA's file with h5py and numpy."""
    west, south, east, north = bbox
    with h5py.File(REAL_FIXTURE) as f:
        geo = f["gt1l/geolocation"]
        lat = geo["reference_photon_lat"][:]
        lon = geo["reference_photon_lon"][:]
        beg = geo["ph_index_beg"][:].astype(np.int64)
        h_ph = f["gt1l/heights/h_ph"][:]
    inside = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)
    runs, start = [], None
    for i, flag in enumerate(list(inside) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    photon_runs, new_beg, offset, kept_before = [], [], 0, 0
    for first, last in runs:
        nonzero = [i for i in range(first, last) if beg[i] > 0]
        later = [i for i in range(last, len(beg)) if beg[i] > 0]
        ph_start = beg[nonzero[0]] - 1 if nonzero else None
        ph_end = beg[later[0]] - 1 if later else len(h_ph)
        if ph_start is not None:
            offset = ph_start - kept_before
            photon_runs.append((ph_start, ph_end))
            kept_before += ph_end - ph_start
        new_beg.extend(np.where(beg[first:last] > 0, beg[first:last] - offset, 0))
    photons = np.concatenate([h_ph[a:b] for a, b in photon_runs])
    return inside.sum(), np.array(new_beg), photons, len(lat)


def test_real_fixture_subset_matches_the_segment_rule(client, tmp_path):
    with h5py.File(REAL_FIXTURE) as f:
        lon = f["gt1l/geolocation/reference_photon_lon"][:]
        lat = f["gt1l/geolocation/reference_photon_lat"][:]
    # A box holding the eastern part of the track: it cuts the granule.
    bbox = (float(np.median(lon)), float(lat.min()) - 0.001, 180.0, float(lat.max()) + 0.001)
    n_segments, expected_beg, expected_photons, total = expected_fixture_subset(bbox)
    assert 0 < n_segments < total

    job_id = client.submit(Request(collection=Collection(id=ATL03_GT1L), spatial=BBox(*bbox)))
    client.wait_for_processing(job_id)
    (path,) = [future.result() for future in client.download_all(job_id, directory=str(tmp_path))]
    with h5py.File(path) as f:
        geo = f["gt1l/geolocation"]
        assert len(geo["reference_photon_lat"]) == n_segments
        np.testing.assert_array_equal(geo["ph_index_beg"][:], expected_beg)
        np.testing.assert_array_equal(f["gt1l/heights/h_ph"][:], expected_photons)
    assert len(expected_photons) < 2909


def test_iterator_batches_and_steps(client, atl03_job, tmp_path):
    from harmony import StepsRequest

    (tmp_path / "iter").mkdir()
    (tmp_path / "steps").mkdir()
    items = list(client.iterator(atl03_job, directory=str(tmp_path / "iter")))
    assert items
    for item in items:
        assert pathlib.Path(item["path"].result()).is_file()
        assert isinstance(item["bbox"], BBox) and item["temporal"]["start"]

    cut = BBox(120, 87.29, 180, 87.3)
    jobs = client.submit_batch([Request(collection=Collection(id=ATL03_GT1L), spatial=cut) for _ in range(2)])
    batch = client.wait_for_batch(jobs)
    assert batch.counts["successful"] == 2, dict(batch.counts)

    steps = client.submit(StepsRequest(job_id=atl03_job))
    work_item = steps["steps"][-1]["workItems"][0]["id"]
    files = [f.result() for f in client.download_intermediate_files(
        atl03_job, [work_item], include_inputs=False, directory=str(tmp_path / "steps"))]
    assert files and all(pathlib.Path(f).stat().st_size > 0 for f in files)


def test_tutorial_smap_l2_and_l4_lines_give_one_geotiff_per_variable(client, tmp_path):
    """`subset SPL2SMP vars(…landcover_class) limit 1 format geotiff` and the SPL4CMDL line of the tutorial."""
    cases = [
        (Request(collection=Collection(id="SPL2SMP"), variables=["Soil_Moisture_Retrieval_Data/landcover_class"],
                 max_results=1, format="image/tiff"), ["Soil_Moisture_Retrieval_Data_landcover_class"]),
        (Request(collection=Collection(id="SPL4CMDL"), granule_name=["SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5"],
                 variables=["NEE/nee_mean", "RH/rh_mean", "SOC/soc_mean"], format="image/tiff"),
         ["NEE_nee_mean", "RH_rh_mean", "SOC_soc_mean"]),
    ]
    for request, variables in cases:
        job_id = client.submit(request)
        client.wait_for_processing(job_id)
        assert client.status(job_id)["status"] == "successful"
        files = sorted(future.result() for future in client.download_all(job_id, directory=str(tmp_path)))
        assert [v for v in variables if any(f.endswith(f"_{v}_reformatted.tif") for f in files)] == variables, files
        for path in files:
            with rasterio.open(path) as tiff:
                assert tiff.crs.to_epsg() == 6933
                assert tiff.count == 1
                assert tiff.nodata is not None
