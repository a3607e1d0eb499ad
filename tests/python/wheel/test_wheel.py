"""The `harmonyql` wheel as a user without Rust gets it: `hq` on PATH from the venv, the HarmonyQL kernel listed by
Jupyter and running the tutorial, `%%hq` in a Python notebook, the Pygments lexer, a manylinux tag."""

import json
import pathlib
import subprocess
import sys
import zipfile

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

# Each notebook waits for jobs and downloads from the local Harmony: well under a minute per cell in a debug build.
NOTEBOOK_TIMEOUT_S = 900


# What `hq` may take from the system: what the manylinux policy allows (glibc, the compiler's runtime, zlib).
SYSTEM_LIBRARIES = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2",
                    "libpthread.so.0", "libdl.so.2", "librt.so.1", "libz.so.1"}


def test_hq_runs_from_the_venv_with_hdf5_inside(venv):
    version = venv.run("hq", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"hq {venv_version(venv)}"
    assert venv.run("which", "hq").stdout.strip() == str(venv.bin / "hq")
    # hq has HDF5 linked in (.cargo/hdf5/README.md): it loads no libhdf5, nor the libcurl Debian's shared one
    # needs. The Python module loads the vendored libhdf5 inside the environment, never the system's libhdf5-dev.
    linked = venv.run("ldd", venv.bin / "hq").stdout
    lines = [line.strip() for line in linked.splitlines() if line.strip()]
    outside = [line for line in lines
               if pathlib.PurePosixPath(line.split()[0]).name not in SYSTEM_LIBRARIES and str(venv.root) not in line]
    assert not outside and "not found" not in linked, f"hq loads from the system:\n{linked}"
    assert not [line for line in lines if "libhdf5" in line or "libcurl" in line], linked
    extension = next(venv.site_packages.glob("harmonyql/_harmonyql*.so"))
    linked = venv.run("ldd", extension).stdout
    hdf5 = [line for line in linked.splitlines() if "libhdf5" in line]
    assert hdf5 and all(str(venv.root) in line for line in hdf5), f"{extension}:\n{linked}"
    assert "not found" not in linked, linked


def venv_version(venv) -> str:
    return venv.run("python", "-c", "import harmonyql; print(harmonyql.__version__)").stdout.strip()


def test_jupyter_lists_the_kernelspec_from_the_venv(venv):
    # `jupyter kernelspec list`, run as the module behind it: jupyter_client comes through the .pth (conftest), so
    # its `jupyter-kernelspec` script is not in the fresh venv's bin/.
    listed = venv.run("python", "-m", "jupyter_client.kernelspecapp", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    spec = json.loads(listed.stdout)["kernelspecs"]["harmonyql"]
    assert pathlib.Path(spec["resource_dir"]) == venv.root / "share" / "jupyter" / "kernels" / "harmonyql"
    # The native binary, not a Python launcher: the kernel's start-up lead is kept.
    assert spec["spec"]["argv"] == ["hq", "kernel", "--connection-file", "{connection_file}"]
    assert {"logo-32x32.png", "logo-64x64.png"} <= {p.name for p in pathlib.Path(spec["resource_dir"]).iterdir()}


def test_the_wheel_is_manylinux_and_carries_hq_as_a_native_script(wheel, venv):
    # auditwheel reads every ELF file of the wheel in pure Python: minutes for a debug build on a busy machine.
    shown = venv.run(pathlib.Path(sys.executable).parent / "auditwheel", "show", wheel, timeout=900)
    assert shown.returncode == 0, shown.stderr
    assert "manylinux_2_" in shown.stdout and "platform tag" in shown.stdout, shown.stdout
    assert "-manylinux_2_" in wheel.name and "-cp310-abi3-" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        script = next(n for n in names if n.endswith(".data/scripts/hq"))
        assert archive.read(script)[:4] == b"\x7fELF", "hq must be the native binary, not a launcher script"
        assert (archive.getinfo(script).external_attr >> 16) & 0o111, "hq must be executable"
        assert not any(n.startswith("harmonyql.scripts/") for n in names)
        assert any(n.endswith(".data/data/share/jupyter/kernels/harmonyql/kernel.json") for n in names)
        assert any("harmonyql.libs/libhdf5" in n for n in names), "the Python module's HDF5"
        # hq's own copies are only the compression libraries its static HDF5 calls: none of the TLS, Kerberos or
        # LDAP stack Debian's shared libhdf5 pulls in through libcurl (30 copies, 8.5 MB, before it was linked in).
        for_hq = {pathlib.PurePosixPath(n).name.split("-")[0].split(".so")[0] for n in names
                  if "/data/lib/harmonyql/" in n and not n.endswith("/")}
        assert for_hq and for_hq <= {"libsz", "libaec", "libz"}, for_hq


def test_kernel_install_sys_prefix_means_the_wheels_environment_and_uninstall_finds_it(venv, tmp_path):
    # A hub runs /opt/conda/bin/hq without activating anything: no VIRTUAL_ENV, no CONDA_PREFIX.
    env = {k: v for k, v in venv.env.items() if k not in {"VIRTUAL_ENV", "CONDA_PREFIX", "XDG_DATA_HOME"}}
    env["HOME"] = str(tmp_path)

    def hq(*args):
        return subprocess.run([str(venv.bin / "hq"), *args], env=env, capture_output=True, text=True, timeout=60)

    installed = hq("kernel", "install", "--sys-prefix", "--name", "hq-sys", "--env", "local:3999")
    assert installed.returncode == 0, installed.stderr
    spec_dir = venv.root / "share" / "jupyter" / "kernels" / "hq-sys"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["env"] == {"HARMONY_ROOT_URL": "local:3999"}
    assert pathlib.Path(spec["argv"][0]) == venv.bin / "hq"
    assert hq("kernel", "install", "--name", "bad", "--env", "prdo").returncode != 0
    removed = hq("kernel", "uninstall", "--name", "hq-sys")
    assert removed.returncode == 0, removed.stderr
    assert str(spec_dir) in removed.stdout and not spec_dir.exists()
    assert "no kernelspec" in hq("kernel", "uninstall", "--name", "hq-sys").stderr


LEXER_CHECK = r"""
import pathlib, sys
import pygments.lexers
from pygments.token import Comment, Error, Keyword, Number, String
import harmonyql

lexer = pygments.lexers.get_lexer_by_name("harmonyql")
assert type(lexer).__module__ == "harmonyql.lexer", type(lexer)
lines = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.hq")):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        tokens = list(lexer.get_tokens(line))
        errors = [value for kind, value in tokens if kind in Error]
        assert not errors, f"{path.name}:{number}: error tokens {errors} in {line!r}"
        assert "".join(value for _, value in tokens).rstrip("\n") == line
        lines += 1
assert lines > 50, lines
words = harmonyql.keywords()
for verb in words["verbs"]:
    first = next(kind for kind, value in lexer.get_tokens(verb.replace("_", " ") + " x") if value.strip())
    assert first in Keyword, (verb, first)
for clause in words["clauses"]:
    first = next(kind for kind, value in lexer.get_tokens("subset C1-P " + clause.replace("_", " ")) if value == clause.replace("_", " ") or value == clause)
    assert first in Keyword, (clause, first)
kinds = {value: kind for kind, value in lexer.get_tokens('subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28) # box\nprint "hi"')}
assert kinds["subset"] in Keyword and kinds["bbox"] in Keyword and kinds["print"] in Keyword
assert kinds["# box"] in Comment and kinds['"hi"'] in String and kinds["-105.5"] in Number
assert kinds["2020-04-27"] in Number, kinds
print("checked", lines, "lines")
"""


def test_the_lexer_is_registered_and_tokenises_every_test_line(venv):
    checked = venv.run("python", "-c", LEXER_CHECK, ROOT / "tests" / "lang")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("checked"), checked.stdout


EXECUTE = r"""
import sys
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

source, target, workdir = sys.argv[1:4]
nb = nbformat.read(source, as_version=4)
name = nb.metadata["kernelspec"]["name"]
if name == "harmonyql":
    print("kernelspec:", KernelSpecManager().get_kernel_spec(name).resource_dir)
NotebookClient(nb, timeout=600, startup_timeout=60, allow_errors=True, resources={"metadata": {"path": workdir}}).execute()
nbformat.write(nb, target)
"""


def run_notebook(venv, server, notebook: str, tmp_path: pathlib.Path) -> nbformat.NotebookNode:
    """Executes the notebook with nbclient from the fresh venv (its kernelspecs: the wheel's harmonyql, ipykernel's
    python3) against the wheel's `hq serve`; fails on any error output. (scripts/run_notebooks.py also renders HTML,
    whose nbconvert templates are data files of the test venv, not of the fresh one.)"""
    target, workdir = tmp_path / notebook, tmp_path / "work"
    workdir.mkdir()
    run = venv.run(
        "python", "-c", EXECUTE, ROOT / "notebooks" / notebook, target, workdir,
        env={"HARMONY_ROOT_URL": f"local:{server.port}"}, timeout=NOTEBOOK_TIMEOUT_S,
    )
    assert run.returncode == 0, f"{notebook}:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    if "kernelspec:" in run.stdout:
        assert str(venv.root) in run.stdout, run.stdout
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{notebook}: {cell.source!r}: {errors[0].ename}: {errors[0].evalue}"
        assert cell.cell_type != "code" or cell.execution_count is not None, f"{notebook}: did not run {cell.source!r}"
    return nb


def outputs_of(nb, source_start):
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(source_start):
            return cell.outputs
    raise AssertionError(f"no cell starts with {source_start!r}")


def data_of(outputs, mime):
    return "\n".join(str(o.get("data", {}).get(mime, "")) for o in outputs)


def test_the_wheels_kernel_runs_the_atl03_tutorial(venv, server, tmp_path):
    nb = run_notebook(venv, server, "icesat2_atl03_subset.ipynb", tmp_path)
    assert nb.metadata["language_info"]["pygments_lexer"] == "harmonyql"
    assert 'value="100"' in data_of(outputs_of(nb, "wait job"), "text/html")
    assert "<table" in data_of(outputs_of(nb, "capabilities ATL03"), "text/html")
    assert any("image/png" in o.get("data", {}) for o in outputs_of(nb, "plot photons"))


def test_the_magic_runs_the_tutorial_in_a_python_notebook(venv, server, tmp_path):
    nb = run_notebook(venv, server, "python_magic.ipynb", tmp_path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # The same renderings as the HarmonyQL kernel: the capabilities table, progress that ended at 100 % in place.
    assert "<table" in data_of(outputs_of(nb, "%%hq\ncaps ="), "text/html")
    waited = outputs_of(nb, "%%hq\njob = subset")
    assert 'value="100"' in data_of(waited, "text/html") and "successful" in data_of(waited, "text/html")
    assert "successful" in data_of(outputs_of(nb, "job.id, job.status"), "text/plain")
    assert "PosixPath(" in data_of(outputs_of(nb, "files"), "text/plain")
    assert "h_ph" in data_of(outputs_of(nb, "import xarray"), "text/plain")
    assert "signal_conf_ph" in data_of(outputs_of(nb, "import harmonyql"), "text/plain")
    plot = outputs_of(nb, "%%hq\nplot photons")
    assert any({"image/png", "image/svg+xml"} <= set(o.get("data", {})) for o in plot)
    loop = data_of(outputs_of(nb, "boxes = {"), "text/plain")
    assert loop.count("'successful'") == 3, loop


FAKE_HARMONY = r"""
import http.server, json, threading

JOB = "21469294-d6f7-42cc-89f2-c81990a5d7f4"

# A Harmony whose one job runs forever at 10 %: `wait` polls it (POST /jobs/status) every 3 s until stopped.
class RunningForever(http.server.BaseHTTPRequestHandler):

    def answer(self, document):
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer({"jobStatuses": [{"jobID": JOB, "status": "running", "progress": 10}], "notFoundJobIDs": []})

    def do_GET(self):
        self.answer({"jobID": JOB, "status": "running", "message": "working", "progress": 10,
                     "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z",
                     "links": [], "request": "http://x", "numInputGranules": 1, "username": "u"})

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RunningForever)
threading.Thread(target=server.serve_forever, daemon=True).start()
"""

INTERRUPT_CHECK = FAKE_HARMONY + r"""
import _thread, signal, time
import harmonyql

# A process started in the background by a non-interactive shell (as CI may start the suite) inherits SIGINT
# ignored, and then Python installs no handler and interrupt_main does nothing: a notebook always has one.
signal.signal(signal.SIGINT, signal.default_int_handler)
session = harmonyql.Session(env=f"http://127.0.0.1:{server.server_address[1]}")
threading.Timer(2.0, _thread.interrupt_main).start()
started = time.monotonic()
try:
    session.run(f"wait {JOB}")
    print("not interrupted")
except KeyboardInterrupt as interrupt:
    print(f"interrupted after {time.monotonic() - started:.1f} s: {interrupt}")
after = session.run("url capabilities ATL03")
print("usable:", after.ok)
"""


def test_an_interrupt_stops_a_wait_and_the_session_stays_usable(venv):
    ran = venv.run("python", "-c", INTERRUPT_CHECK, timeout=60)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("interrupted after"), ran.stdout
    assert float(lines[0].split()[2]) < 10, ran.stdout
    assert lines[1] == "usable: True", ran.stdout


KERNEL_INTERRUPT_CHECK = FAKE_HARMONY + r"""
import time
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
messages = []
try:
    def run(code):
        return kc.execute_interactive(code, timeout=60, output_hook=messages.append)["content"]

    assert run("%load_ext harmonyql")["status"] == "ok"
    assert run(f"%hq env http://127.0.0.1:{server.server_address[1]}")["status"] == "ok"
    threading.Timer(3.0, km.interrupt_kernel).start()
    started = time.monotonic()
    reply = run(f"%%hq\nwait {JOB}")
    print("interrupted:", reply["status"], reply.get("ename"), f"{time.monotonic() - started:.1f}")
    print("progress shown:", any(m["msg_type"] in ("display_data", "update_display_data") for m in messages))
    print("usable:", run("%hq url capabilities ATL03")["status"])
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
"""


def test_the_stop_button_stops_a_wait_in_ipykernel_and_the_kernel_stays_usable(venv):
    ran = venv.run("python", "-c", KERNEL_INTERRUPT_CHECK, timeout=240)
    assert ran.returncode == 0, ran.stderr[-3000:]
    interrupted, progress, usable = ran.stdout.splitlines()[-3:]
    status, ename, seconds = interrupted.split()[1:]
    assert (status, ename) == ("error", "KeyboardInterrupt") and float(seconds) < 30, ran.stdout
    assert progress == "progress shown: True", ran.stdout
    assert usable == "usable: ok", ran.stdout


EXPAND_CHECK = r"""
import datetime, math, pathlib
import harmonyql

namespace = {
    "box": (-105.5, 40, -105, 41.25), "name": "ATL03", "folder": pathlib.Path('my "data"'),
    "day": datetime.date(2020, 4, 27), "at": datetime.datetime(2020, 4, 27, 12, 30), "flag": True,
    "n": 3, "files": [pathlib.Path("a.h5"), pathlib.Path("b.h5")], "nan": math.nan, "thing": object(),
}
expand = lambda text: harmonyql.expand(text, namespace)
assert expand("subset {name} bbox({box}) limit {n}") == "subset ATL03 bbox(-105.5, 40, -105, 41.25) limit 3"
assert expand("download job to {folder}") == 'download job to "my \\"data\\""'
assert expand("time({day} .. {at})") == 'time(2020-04-27 .. "2020-04-27T12:30:00")'
assert expand("x {flag} {files} {day.year}") == 'x true "a.h5", "b.h5" 2020'
assert expand("{{name}} {not an identifier} {}") == "{name} {not an identifier} {}"
for text, error in [("{missing}", NameError), ("{thing}", TypeError), ("{nan}", ValueError)]:
    try:
        expand(text)
    except error as raised:
        assert "missing" not in text or "{missing}" in str(raised), raised
    else:
        raise AssertionError(f"{text} should raise {error.__name__}")
session = harmonyql.Session(env="uat")
cell = session.run("url subset {name} bbox({box})".replace("{name}", "ATL03").replace("{box}", "-105.5, 40, -105, 41"))
assert cell.ok and "harmony.uat.earthdata.nasa.gov" in cell.value.text and cell.names == {}
try:
    session.run("subset ATL03 bbox(1, 2")
except harmonyql.HarmonyQLError as error:
    assert error.ename == "SyntaxError" and any("^" in line for line in error._render_traceback_()), error
else:
    raise AssertionError("a syntax error must raise")
print("ok")
"""


def test_python_values_pass_into_cells_as_harmonyql_text(venv):
    checked = venv.run("python", "-c", EXPAND_CHECK)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "ok"


DEFAULTS_CHECK = r"""
import subprocess, harmonyql
cell = harmonyql.Session().run("url capabilities ATL03")
by_hq = subprocess.run(["hq", "url", "capabilities ATL03"], capture_output=True, text=True, check=True).stdout
print(cell.value.text)
print(by_hq.strip())
"""


def test_the_module_and_hq_start_on_the_same_harmony(venv):
    """One rule for every front end: HARMONY_ROOT_URL when set, else NASA's production Harmony (the kernel's
    conformance test checks the kernel against the same rule)."""
    for root, expected in [("", "https://harmony.earthdata.nasa.gov"), ("local:3999", "http://localhost:3999")]:
        checked = venv.run("python", "-c", DEFAULTS_CHECK, env={"HARMONY_ROOT_URL": root})
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.splitlines() == [f"{expected}/capabilities?shortname=ATL03"] * 2, checked.stdout


LOGIN_CHECK = r"""
import getpass, harmonyql
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

asked = []
def answer(prompt):
    asked.append(prompt)
    return "hunter2-secret"
getpass.getpass = answer

ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "harmonyql")
# Port 9 (discard) on loopback: nothing answers, so the login is kept but cannot be checked, and says so.
with capture_output() as shown:
    ip.run_cell_magic("hq", "", "env local:9\nlogin user alice")
everything = shown.stdout + shown.stderr + repr([output.data for output in shown.outputs])
assert asked == ["Password for alice at localhost: "], asked
assert "as user alice" in everything and "could not be checked" in everything, everything
assert "hunter2" not in everything, everything

# Interrupting the password box (Ctrl-C, the stop button) stops the cell; the session stays usable.
def interrupted(prompt):
    raise KeyboardInterrupt
getpass.getpass = interrupted
try:
    ip.run_cell_magic("hq", "", "login token")
except harmonyql.HarmonyQLError as error:
    # As our kernel shows it: the error's kind, and the statement with its caret.
    assert error.ename == "LoginError" and "interrupted" in str(error), (error.ename, str(error))
    assert any("^" in line for line in error._render_traceback_()), error._render_traceback_()
else:
    raise AssertionError("an interrupted login must fail the cell")
# The cell's value is what IPython shows as Out[n].
assert str(ip.run_cell_magic("hq", "", "url capabilities ATL03")) == "http://localhost:9/capabilities?shortname=ATL03"
print("ok")
"""


def test_login_in_a_magic_cell_asks_with_getpass_and_never_shows_the_secret(venv):
    checked = venv.run("python", "-c", LOGIN_CHECK)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith("ok"), checked.stdout


RASTER_CHECK = r"""
import sys, numpy as np, rasterio, harmonyql
from rasterio.transform import from_origin
folder = sys.argv[1]
for dtype, compress, nodata in [("float32", "deflate", -9999.0), ("uint16", "lzw", 0), ("uint8", None, 255)]:
    data = (np.arange(37 * 53).reshape(37, 53) % 250).astype(dtype)
    data[3, 4] = nodata
    path = f"{folder}/{dtype}.tif"
    profile = dict(driver="GTiff", width=53, height=37, count=1, dtype=dtype, crs="EPSG:4326", nodata=nodata,
                   transform=from_origin(-105.5, 41.0, 0.01, 0.02))
    if compress:
        profile["compress"] = compress
    with rasterio.open(path, "w", **profile) as out:
        out.write(data, 1)
    raster = harmonyql.read_raster(path)
    with rasterio.open(path) as theirs:
        assert raster["data"].dtype == theirs.read(1).dtype, (dtype, raster["data"].dtype)
        assert np.array_equal(raster["data"], theirs.read(1)), dtype
        assert raster["nodata"] == theirs.nodata, (raster["nodata"], theirs.nodata)
        assert raster["epsg"] == 4326, raster["epsg"]
        assert np.allclose(raster["transform"], theirs.transform.to_gdal()), (raster["transform"], theirs.transform)
print("ok")
"""


def test_read_raster_gives_what_rasterio_reads(venv, tmp_path):
    checked = venv.run("python", "-c", RASTER_CHECK, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "ok", checked.stdout
