"""harmony-py 1.8.0 itself is the oracle: the same request written with harmony-py and in HarmonyQL
must give byte-identical URLs (request_as_url) and the same multipart fields or EDR JSON body."""

import datetime as dt
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from harmony import BBox, Client, Collection, Dimension, Environment, Request, WKT
from harmony import CapabilitiesRequest, JobsRequest

HQ = os.environ.get("HQ_BIN", str(Path(__file__).resolve().parents[3] / "target" / "debug" / "hq"))
UTC = dt.timezone.utc

CASES = [
    ("subset C1940468263-POCLOUD bbox(-107, 40, -105, 42)", lambda: Request(Collection("C1940468263-POCLOUD"), spatial=BBox(-107, 40, -105, 42))),
    ("subset C1256407609-NSIDC_CUAT bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)", lambda: Request(Collection("C1256407609-NSIDC_CUAT"), spatial=BBox(-105.5, 40, -105, 41.), temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)})),
    ("subset C1-PROV time(2020-01-01T00:00:00Z ..)", lambda: Request(Collection("C1-PROV"), temporal={"start": dt.datetime(2020, 1, 1, tzinfo=UTC)})),
    ("subset C1-PROV time(.. 2020-01-01T10:30:15.25+02:00)", lambda: Request(Collection("C1-PROV"), temporal={"stop": dt.datetime(2020, 1, 1, 10, 30, 15, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))})),
    ("subset C1234-TATOOINE dim(foo, .. 20.5) dim(bar, -10.2 .. 20.1) dim(baz) dim(alpha, -10 ..) dim(delta, 0 .. 20.5)",
     lambda: Request(Collection("C1234-TATOOINE"), dimensions=[Dimension("foo", None, 20.5), Dimension("bar", -10.2, 20.1), Dimension("baz"), Dimension("alpha", -10), Dimension("delta", 0, 20.5)])),
    ("subset C1-PROV crs EPSG:4326 format image/tiff scale_extent(1.0, 2.0, 1.0, 4.0) scale_size(1.0, 2.0) width 100 height 200 interpolation nearest limit 7 concatenate true skip_preview true ignore_errors false destination s3://bucket/p extend(lat, lon) label(one, two) pixel_subset true service S123-PROV average time",
     lambda: Request(Collection("C1-PROV"), crs="EPSG:4326", format="image/tiff", scale_extent=[1.0, 2.0, 1.0, 4.0], scale_size=[1.0, 2.0], width=100, height=200, interpolation="nearest", max_results=7, concatenate=True, skip_preview=True, ignore_errors=False, destination_url="s3://bucket/p", extend=["lat", "lon"], labels=["one", "two"], pixel_subset=True, service_id="S123-PROV", average="time")),
    ("subset C1-PROV grid theGridName", lambda: Request(Collection("C1-PROV"), grid="theGridName")),
    ("subset C1-PROV vars(red_var, green_var, /var/with/a/path)", lambda: Request(Collection("C1-PROV"), variables=["red_var", "green_var", "/var/with/a/path"])),
    ("subset C1-PROV granule_id(G1, G2, G3) granule_name(\"abc*123\", ab?d123)", lambda: Request(Collection("C1-PROV"), granule_id=["G1", "G2", "G3"], granule_name=["abc*123", "ab?d123"])),
    ("subset SPL3SMP granule(SMAP_L3_SM_P_20231212_R19240_001.h5) bbox(-93,30,-77,45) vars(Soil_Moisture_Retrieval_Data_AM/soil_moisture) crs EPSG:4326 format image/tiff",
     lambda: Request(Collection("SPL3SMP"), granule_name=["SMAP_L3_SM_P_20231212_R19240_001.h5"], spatial=BBox(-93, 30, -77, 45), variables=["Soil_Moisture_Retrieval_Data_AM/soil_moisture"], crs="EPSG:4326", format="image/tiff")),
    ("subset C1-PROV polygon((-140 20, -50 20, -50 60, -140 60, -140 20)) time(2020-01-01 .. 2020-01-31T23:59:59) vars(a, b) format application/x-netcdf4 crs EPSG:4326 dim(lev, 10 .. 20)",
     lambda: Request(Collection("C1-PROV"), spatial=WKT("POLYGON((-140 20, -50 20, -50 60, -140 60, -140 20))"), temporal={"start": dt.datetime(2020, 1, 1), "stop": dt.datetime(2020, 1, 31, 23, 59, 59)}, variables=["a", "b"], format="application/x-netcdf4", crs="EPSG:4326", dimensions=[Dimension("lev", 10, 20)])),
    ("subset C1-PROV point(-40 10)", lambda: Request(Collection("C1-PROV"), spatial=WKT("POINT(-40 10)"))),
    ("subset C1-PROV multilinestring((-40 10, -30 20), (1 2, 3 4)) limit 2 granule_id(G1, G2)", lambda: Request(Collection("C1-PROV"), spatial=WKT("MULTILINESTRING((-40 10, -30 20), (1 2, 3 4))"), max_results=2, granule_id=["G1", "G2"])),
    ("capabilities C1940468263-POCLOUD version 2", lambda: CapabilitiesRequest(collection_id="C1940468263-POCLOUD", capabilities_version="2")),
    ("capabilities SMAP_RSS_L3_SSS_SMI_8DAY-RUNNINGMEAN_V4", lambda: CapabilitiesRequest(short_name="SMAP_RSS_L3_SSS_SMI_8DAY-RUNNINGMEAN_V4")),
    ("jobs page 2 limit 10 label(foo, bar)", lambda: JobsRequest(page=2, limit=10, labels=["foo", "bar"])),
]


@pytest.fixture(scope="module")
def client():
    os.environ.pop("EXCLUDE_DEFAULT_LABEL", None)
    os.environ.pop("ROOT_URL", None)
    return Client(env=Environment.PROD, should_validate_auth=False)


def hq(mode, text):
    result = subprocess.run([HQ, mode, text, "--label", "harmony-py", "--env", "prod"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("text,make", CASES, ids=[c[0][:60] for c in CASES])
def test_url_matches_request_as_url(client, text, make):
    assert hq("url", text) == client.request_as_url(make())


def form_fields_from_curl(curl):
    words = shlex.split(curl)
    fields = []
    for flag, value in zip(words, words[1:]):
        if flag == "--form-string":
            name, _, field = value.partition("=")
            fields.append((name, field))
    return fields, words


@pytest.mark.parametrize("text,make", [c for c in CASES if c[0].startswith("subset")], ids=lambda v: v[:60] if isinstance(v, str) else "")
def test_submission_body_matches(client, text, make):
    request = make()
    prepared = client._get_prepared_request(request)
    curl = hq("curl", text)
    fields, words = form_fields_from_curl(curl)
    assert words[-1] == prepared.url
    if request.is_edr_request():
        body = words[words.index("--data-raw") + 1]
        assert json.loads(body) == json.loads(prepared.body)
        assert list(json.loads(body).keys()) == list(json.loads(prepared.body).keys())
    else:
        expected = [(name, value[1]) for name, value in client._params_dict_to_files(client._params(make()))]
        assert fields == expected


def test_python_float_formatting(client):
    cases = ["0.1", "-0.0001", "1e-05", "1.5e16", "41.", "40", "-107", "20.1", "123456789.125", "1e22", "5e-324"]
    dims = " ".join(f"dim(d{i}, {v} ..)" for i, v in enumerate(cases))
    ours = hq("url", f"subset C1-PROV {dims}")
    theirs = client.request_as_url(Request(Collection("C1-PROV"), dimensions=[Dimension(f"d{i}", eval(v)) for i, v in enumerate(cases)]))
    assert ours == theirs
