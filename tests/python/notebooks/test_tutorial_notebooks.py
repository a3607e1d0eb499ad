"""The main job end to end: `scripts/tutorial.sh` executes every tutorial notebook (all but the evcxr one, which
compiles Rust and has its own opt-in script) against a fresh `hq serve`, and each executed notebook shows what a
reader expects: no error outputs, tables, progress bars that ended at 100 %, plots as PNG and SVG.
"""

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = ["icesat2_atl03_subset", "smap_harmony", "large_requests", "search_then_order"]
# Four notebooks, the slowest cell under a minute in a debug build: ten minutes is a generous bound.
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    env = dict(os.environ, HQ_OUT=str(out), HQ_DATA_DIR=str(tmp_path_factory.mktemp("hq-data")))
    run = subprocess.run(
        ["bash", "scripts/tutorial.sh", *(f"notebooks/{name}.ipynb" for name in NOTEBOOKS)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert run.returncode == 0, f"tutorial.sh failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    return out


def outputs_of(nb, source_start):
    """The outputs of the first code cell whose source starts with `source_start`."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(source_start):
            return cell.outputs
    raise AssertionError(f"no cell starts with {source_start!r}")


def html_of(outputs):
    return "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)


def test_every_notebook_and_its_html_are_written_without_errors(executed):
    for name in NOTEBOOKS:
        nb = nbformat.read(executed / f"{name}.ipynb", as_version=4)
        assert nb.metadata["language_info"]["name"] == "harmonyql"
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert cell.execution_count is not None, f"{name}: a cell did not run: {cell.source}"
            errors = [o for o in cell.outputs if o.output_type == "error"]
            expected = "raises-exception" in cell.metadata.get("tags", [])
            assert bool(errors) == expected, f"{name}: {cell.source!r}: {errors}"
        html = (executed / f"{name}.html").read_text()
        assert "<html" in html and "jp-OutputArea" in html


def test_atl03_notebook_shows_table_progress_files_and_photon_plot(executed):
    nb = nbformat.read(executed / "icesat2_atl03_subset.ipynb", as_version=4)
    capabilities = outputs_of(nb, "capabilities ATL03")
    assert "<table" in html_of(capabilities)
    assert any("application/json" in o.get("data", {}) for o in capabilities)
    assert 'value="100"' in html_of(outputs_of(nb, "wait job")), "the progress display ended at 100 %"
    assert "successful" in html_of(outputs_of(nb, "wait job"))
    downloaded = "".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "files = download"))
    assert "ATL03_20200427193622_04930702_006_02_subsetted.h5" in downloaded
    opened = "".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "open files"))
    assert "h_ph" in opened and "gt1l" in opened
    plot = outputs_of(nb, "plot photons")
    assert any("image/png" in o.get("data", {}) and "image/svg+xml" in o.get("data", {}) for o in plot)
    assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, "plot track job"))
    assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, "plot histogram"))
    exported = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in outputs_of(nb, "export"))
    assert "exported" in exported and "gt1l_heights.csv" in exported and "tracks.geojson" in exported
    s3 = "".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "results job s3"))
    assert "s3://" in s3


def test_smap_notebook_maps_each_geotiff(executed):
    nb = nbformat.read(executed / "smap_harmony.ipynb", as_version=4)
    for statement in ["plot raster l2_files", "plot raster l3_files", "plot raster l4_files", "plot raster l3_hdf5"]:
        assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, statement)), statement
    opened = "".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "open l3_files"))
    assert "EPSG:4326" in opened


def test_large_requests_notebook_pauses_for_preview_then_completes_and_cancels(executed):
    nb = nbformat.read(executed / "large_requests.ipynb", as_version=4)
    text = lambda outputs: "".join(o.get("data", {}).get("text/plain", "") for o in outputs)  # noqa: E731
    assert "paused" in text(outputs_of(nb, "big = subset"))
    assert "successful" in text(outputs_of(nb, "resume big"))
    assert "canceled" in text(outputs_of(nb, "unwanted = subset"))
    refused = [o for o in outputs_of(nb, "pause big") if o.output_type == "error"]
    assert refused and "409" in refused[0].evalue


def test_search_then_order_notebook_finds_maps_checks_and_orders_exactly_the_previewed_granules(executed):
    nb = nbformat.read(executed / "search_then_order.ipynb", as_version=4)
    text = lambda outputs: "".join(o.get("data", {}).get("text/plain", "") for o in outputs)  # noqa: E731
    assert ", CMR http://localhost:" in text(outputs_of(nb, "env"))
    assert "C2596864127-NSIDC_CPRD" in text(outputs_of(nb, 'collections "photon"'))
    found = text(outputs_of(nb, "found = granules"))
    assert found.startswith("ATL03: 1 granule(s)") and "ATL03_20200427193622_04930702_006_02.h5" in found
    # tutorial.sh starts hq serve with --prepare: the sizes are the generated files', and each granule links to its file.
    assert " MiB in all" in found.splitlines()[0], found
    assert "/hq/granules/G1100000001-HQ_LOCAL" in found, found
    assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, "plot granules found"))
    # The misspelt variable is caught by the checking step, with the caret, before anything is sent.
    refused = [o for o in outputs_of(nb, "subset found vars(/gt1l/heights/h_phh") if o.output_type == "error"]
    assert refused, "the wrong variable must be refused"
    shown = "\n".join(refused[0].traceback) + refused[0].evalue
    assert "did you mean `/gt1l/heights/h_ph`?" in shown and "^" in shown and "Harmony answered" not in shown
    assert "granuleId=G1100000001-HQ_LOCAL" in text(outputs_of(nb, "url subset found"))
    assert "successful" in text(outputs_of(nb, "job = subset found"))
    assert "_subsetted.h5" in text(outputs_of(nb, "files = download"))
    assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, "plot photons files"))
