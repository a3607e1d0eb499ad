"""`hq serve`'s CMR search read by a real third-party CMR client, python_cmr (PyPI `python_cmr`, module `cmr`),
compared with what `hq run` reports for the same `granules` and `collections` statements.

python_cmr is used as its users use it; only its `mode` (the CMR root) points at hq serve.
"""

import json
import os
import subprocess

import pytest
from cmr import CollectionQuery, GranuleQuery

from conftest import HQ

COLORADO = (-105.5, 40, -105, 41)
TUTORIAL_MONTH = ("2020-04-27T00:00:00Z", "2020-05-28T00:00:00Z")
RUN_TIMEOUT_S = 60


def hq_json(server_url: str, statement: str):
    """Runs one statement with `hq run --json` against hq serve and returns the typed result as JSON."""
    result = subprocess.run(
        [str(HQ), "run", "--json", "--env", server_url, "-e", statement],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, "EDL_TOKEN": ""},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cmr_root(server_url: str) -> str:
    return f"{server_url}/search/"


@pytest.mark.parametrize(
    "statement, configure",
    [
        (
            "granules ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28) limit 100",
            lambda q: q.short_name("ATL03").bounding_box(*COLORADO).temporal(*TUTORIAL_MONTH),
        ),
        (
            "granules ATL03 bbox(-105.5, 40, -105, 41) limit 100",
            lambda q: q.short_name("ATL03").bounding_box(*COLORADO),
        ),
        (
            "granules ATL03 polygon((-106 39, -104 39, -104 42, -106 42, -106 39)) limit 100",
            lambda q: q.short_name("ATL03").polygon([(-106, 39), (-104, 39), (-104, 42), (-106, 42), (-106, 39)]),
        ),
        ("granules SPL3SMP limit 100", lambda q: q.short_name("SPL3SMP")),
        (
            "granules C2596864127-NSIDC_CPRD time(2020-05-01 .. 2020-06-30) limit 100",
            lambda q: q.concept_id("C2596864127-NSIDC_CPRD").temporal("2020-05-01T00:00:00Z", "2020-06-30T00:00:00Z"),
        ),
    ],
)
def test_python_cmr_sees_the_same_granules_as_hq(hq_server, statement, configure):
    query = configure(GranuleQuery(mode=cmr_root(hq_server.url)))
    hits = query.hits()
    names = [entry["title"] for entry in query.get(100)]
    ours = hq_json(hq_server.url, statement)
    assert hits == ours["hits"]
    assert names == [granule["title"] for granule in ours["granules"]]
    assert hits == len(names) and hits > 0


def test_python_cmr_pages_with_search_after(hq_server):
    """Pages of one: python_cmr follows CMR-Search-After to the end and never sees a granule twice."""
    query = GranuleQuery(mode=cmr_root(hq_server.url)).short_name("ATL03")
    everything = [entry["id"] for entry in query.get(100)]
    one_by_one = []
    headers = {}
    import requests

    for _ in range(len(everything) + 1):
        response = requests.get(query._build_url(), params={"page_size": 1}, headers=headers, timeout=10)
        response.raise_for_status()
        one_by_one.extend(entry["id"] for entry in response.json()["feed"]["entry"])
        token = response.headers.get("CMR-Search-After")
        if token is None:
            break
        headers["CMR-Search-After"] = token
    assert one_by_one == everything
    assert len(set(everything)) == len(everything) == query.hits()


def test_collections_by_keyword_match(hq_server):
    query = CollectionQuery(mode=cmr_root(hq_server.url)).keyword("atl03")
    ours = hq_json(hq_server.url, 'collections "atl03"')
    assert query.hits() == ours["hits"] == 2
    assert [c["short_name"] for c in query.get(10)] == [c["short_name"] for c in ours["collections"]]
    provider = CollectionQuery(mode=cmr_root(hq_server.url)).provider("NSIDC_CPRD").short_name("ATL03").get(10)
    assert [c["id"] for c in provider] == ["C2596864127-NSIDC_CPRD"]


def test_unknown_parameters_get_cmrs_400(hq_server):
    import requests

    response = requests.get(f"{hq_server.url}/search/granules.json?short_name=ATL03&page_nmu=2", timeout=10)
    assert response.status_code == 400
    assert response.json() == {"errors": ["Parameter [page_nmu] was not recognized."]}
