"""The shared `.netrc` cases (tests/fixtures/netrc_cases.json) read by Python's own `netrc` module, which
requests, harmony-py and earthaccess use: what the file says Python gives is what Python gives. The same
file is checked against our parser in crates/harmonyql/src/harmony/netrc.rs, so the two cannot drift apart.
"""

import json
import netrc
import pathlib

import pytest

CASES_FILE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "netrc_cases.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def test_the_cases_cover_cpython_and_our_tricky_files():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names are unique"
    assert sum(name.startswith("cpython/") for name in names) >= 50
    assert sum(name.startswith("harmonyql/") for name in names) >= 12


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_python_netrc_reads_each_case_as_the_file_says(case, tmp_path):
    path = tmp_path / "netrc"
    # Bytes as written, so `\r\n` reaches Python's text-mode reader unchanged.
    path.write_bytes(case["text"].encode("utf-8"))
    if case["expect"] == "error":
        with pytest.raises(netrc.NetrcParseError):
            netrc.netrc(str(path))
        return
    parsed = netrc.netrc(str(path))
    for host, expected in case["expect"].items():
        found = parsed.authenticators(host)
        assert (list(found) if found is not None else None) == expected, host
