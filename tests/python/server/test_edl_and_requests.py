"""harmony-py's own auth code against `hq serve --auth edl`, plus EDR (WKT) and shape-file submissions.

With credentials, harmony-py's first call (GET /jobs) follows the redirect dance to the local URS and keeps the
signed `token` cookie; later calls reuse it. A bearer token from the local URS works without any redirect.
"""

import json
import os
import pathlib

import h5py
import pytest
import requests
from harmony import BBox, Client, Collection, JobsRequest, Request, WKT
from harmony.auth import BadAuthentication

from conftest import HqServer

COLORADO = [[-105.5, 40.0], [-105.0, 40.0], [-105.0, 41.0], [-105.5, 41.0], [-105.5, 40.0]]


@pytest.fixture(scope="module")
def edl_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hq-edl")
    users = data_dir / "users.txt"
    users.write_text("alice:wonderland\n")
    server = HqServer(data_dir, ["--auth", "edl", "--users", str(users)])
    os.environ["ROOT_URL"] = server.url
    yield server
    server.stop()


def test_wrong_credentials_fail_validation(edl_server):
    with pytest.raises(BadAuthentication, match="incorrect or missing credentials"):
        Client(auth=("alice", "wrong"))


def test_credentials_run_the_redirect_dance_then_use_the_cookie(edl_server, tmp_path):
    client = Client(auth=("alice", "wonderland"), check_interval=0.2)
    cookies = {cookie.name for cookie in client._session().cookies}
    assert "token" in cookies, cookies
    job_id = client.submit(
        Request(collection=Collection(id="ATL03_GT1L"), spatial=BBox(120, 87.29, 180, 87.3))
    )
    client.wait_for_processing(job_id)
    result = client.result_json(job_id)
    assert result["username"] == "alice"
    files = [f.result() for f in client.download_all(job_id, directory=str(tmp_path))]
    with h5py.File(files[0]) as f:
        assert len(f["gt1l/heights/h_ph"]) > 0


def test_bearer_token_from_the_local_urs(edl_server):
    response = requests.post(f"{edl_server.url}/api/users/token", auth=("alice", "wonderland"), timeout=10)
    response.raise_for_status()
    token = response.json()["access_token"]
    client = Client(token=token)
    listing = client.submit(JobsRequest())
    assert "jobs" in listing
    anonymous = requests.get(f"{edl_server.url}/jobs", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 303
    assert "/oauth/authorize?" in anonymous.headers["Location"]


@pytest.fixture(scope="module")
def open_client(hq_server):
    os.environ["ROOT_URL"] = hq_server.url
    return Client(check_interval=0.2)


def test_edr_polygon_request_runs_through_the_area_route(open_client, tmp_path):
    polygon = "POLYGON((" + ", ".join(f"{lon} {lat}" for lon, lat in COLORADO) + "))"
    job_id = open_client.submit(Request(collection=Collection(id="ATL03"), spatial=WKT(polygon), max_results=1))
    open_client.wait_for_processing(job_id)
    result = open_client.result_json(job_id)
    assert "/ogc-api-edr/1.1.0/collections/ATL03/area" in result["request"]
    assert result["status"] == "successful", result["message"]


def test_shape_file_upload_subsets_like_a_box(open_client, tmp_path):
    shape = tmp_path / "colorado.geojson"
    shape.write_text(json.dumps({"type": "Polygon", "coordinates": [COLORADO]}))
    job_id = open_client.submit(Request(collection=Collection(id="ATL03"), shape=str(shape), max_results=1))
    open_client.wait_for_processing(job_id)
    files = [f.result() for f in open_client.download_all(job_id, directory=str(tmp_path))]
    assert files
    with h5py.File(files[0]) as f:
        beam = next(name for name in f if name.startswith("gt"))
        lat = f[f"{beam}/heights/lat_ph"][:]
        assert 39.99 < lat.min() and lat.max() < 41.01
