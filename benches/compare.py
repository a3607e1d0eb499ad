"""HarmonyQL against the Python tools users have today, in one run, with ratios.

Started by benches/compare.sh (which builds the release binaries). Each measurement runs the same work with both:

- compile:  the tutorial's four requests → URLs (harmony-py `request_as_url`), in process, per request;
- download: one job's full ATL03 granules from `hq serve` (harmony-py `download_all` vs `hq run … download`);
- read:     one beam's photons from the largest granule (h5py; xarray `open_dataset(group=…)`) vs the Rust reader;
- plot:     the photon cloud coloured by confidence to PNG (matplotlib scatter, the usual tutorial code) vs `plot`;
- photons:  N photons (`--photons`, default 10 million; lat, lon, height, time, signal confidence; gzip + shuffle,
            chunks of 10,000, written here with h5py) read by h5py vs the Rust reader, with both peak memories
            against the size of the arrays themselves;
- subset:   a six-beam granule of N photons (benches/atl03_granule.py) cut to a bounding box by hq serve's
            Trajectory Subsetter vs benches/subset_reference.py (h5py + numpy, one thread), outputs checked equal.
Each of photons and subset runs at every size of `--photons` (e.g. 1e6,1e7,3e7), so growth shows in time and
memory. `--only large` (never in the default run) exports and plots a 100-million-photon file with `hq run`.
Time is wall-clock; memory is each process's peak RSS (os.wait4). ratio = Python / HarmonyQL (above 1: we are faster).
The measurements are the MEASUREMENTS dict below (`--only NAME`); shared helpers (measured, row, Server) are in
benches/common.py, and measurements kept in their own module (benches/NAME.py with `run(args)`) are listed in MODULES.
"""

import argparse
import importlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PY_DOWNLOAD, PY_PLOT, Server, load_average, markdown, measured, row, sizes  # noqa: E402

HERE = Path(__file__).resolve().parent


PY_COMPILE = r"""
import datetime as dt, json, sys, time
from harmony import BBox, Client, Collection, Environment, Request
client = Client(env=Environment.PROD, should_validate_auth=False)
def requests():
    return [
        Request(Collection("ATL03"), spatial=BBox(-105.5, 40, -105, 41),
                temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)}),
        Request(Collection("SPL2SMP"), variables=["Soil_Moisture_Retrieval_Data/landcover_class"], max_results=1,
                format="image/tiff"),
        Request(Collection("SPL3SMP"), granule_name=["SMAP_L3_SM_P_20231212_R19240_001.h5"],
                spatial=BBox(-93, 30, -77, 45), variables=["Soil_Moisture_Retrieval_Data_AM/soil_moisture"],
                crs="EPSG:4326", format="image/tiff"),
        Request(Collection("SPL4CMDL"), granule_name=["SMAP_L4_C_mdl_20150401T000000_Vv8020_001.h5"],
                variables=["NEE/nee_mean", "RH/rh_mean", "SOC/soc_mean"], format="image/tiff"),
    ]
rounds = int(sys.argv[1])
[client.request_as_url(r) for r in requests()]
started = time.perf_counter()
for _ in range(rounds):
    for request in requests():
        client.request_as_url(request)
seconds = time.perf_counter() - started
print(json.dumps({"requests": rounds * 4, "seconds": seconds, "us_per_request": seconds * 1e6 / (rounds * 4)}))
"""

PY_READ_H5PY = r"""
import sys, time, h5py, numpy as np
started, cpu = time.perf_counter(), time.process_time()
with h5py.File(sys.argv[1]) as f:
    g = f[sys.argv[2] + "/heights"]
    arrays = [g["h_ph"][:], g["lat_ph"][:], g["lon_ph"][:], g["delta_time"][:], g["signal_conf_ph"][:, 0]]
print(time.perf_counter() - started, len(arrays[0]), time.process_time() - cpu)
"""

PY_MAKE_PHOTONS = r"""
import sys, h5py, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(14)
# Like an ATL03 beam over land: photons every ~10 µs along a track at 7 km/s, a surface return with
# centimetre noise among background photons spread over ±300 m, confidence 3-4 for signal and 0-1 otherwise.
delta_time = 7.3e7 + np.cumsum(rng.exponential(1e-5, n))
along = delta_time - delta_time[0]
signal = rng.random(n) < 0.6
lat = 39.0 + along * 0.0627 + rng.normal(0.0, 1e-6, n)
lon = -105.5 + along * 0.0121 + rng.normal(0.0, 1e-6, n)
terrain = 2500.0 + 300.0 * np.sin(np.arange(n) / 2e5)
h = (terrain + np.where(signal, rng.normal(0.0, 0.3, n), rng.uniform(-300.0, 300.0, n))).astype(np.float32)
conf = np.full((n, 5), -2, dtype=np.int8)
conf[:, 0] = np.where(signal, rng.integers(3, 5, n), rng.integers(0, 2, n))
conf[:, 3] = np.where(signal, 2, 0)
gzip = dict(compression="gzip", compression_opts=6, shuffle=True)
with h5py.File(path, "w") as f:
    g = f.create_group("gt1l/heights")
    for name, values in [("delta_time", delta_time), ("lat_ph", lat), ("lon_ph", lon), ("h_ph", h)]:
        g.create_dataset(name, data=values, chunks=(10000,), maxshape=(None,), **gzip)
    g.create_dataset("signal_conf_ph", data=conf, chunks=(10000, 5), maxshape=(None, None), **gzip)
print(n)
"""

# The same photons as PY_MAKE_PHOTONS, written a slice at a time so that a 100-million-photon file is made in
# bounded memory (the `large` measurement).
PY_MAKE_PHOTONS_SLICED = r"""
import sys, h5py, numpy as np
path, n, step = sys.argv[1], int(sys.argv[2]), 5_000_000
rng = np.random.default_rng(14)
gzip = dict(compression="gzip", compression_opts=6, shuffle=True)
with h5py.File(path, "w") as f:
    g = f.create_group("gt1l/heights")
    names = [("delta_time", "f8"), ("lat_ph", "f8"), ("lon_ph", "f8"), ("h_ph", "f4")]
    sets = {name: g.create_dataset(name, shape=(n,), dtype=dtype, chunks=(10000,), maxshape=(None,), **gzip)
            for name, dtype in names}
    sets["signal_conf_ph"] = g.create_dataset("signal_conf_ph", shape=(n, 5), dtype="i1", chunks=(10000, 5),
                                              maxshape=(None, None), **gzip)
    t0 = 7.3e7
    for start in range(0, n, step):
        m = min(step, n - start)
        delta_time = t0 + np.cumsum(rng.exponential(1e-5, m))
        t0 = delta_time[-1]
        along = delta_time - 7.3e7
        signal = rng.random(m) < 0.6
        idx = np.arange(start, start + m)
        terrain = 2500.0 + 300.0 * np.sin(idx / 2e5)
        h = terrain + np.where(signal, rng.normal(0.0, 0.3, m), rng.uniform(-300.0, 300.0, m))
        conf = np.full((m, 5), -2, dtype=np.int8)
        conf[:, 0] = np.where(signal, rng.integers(3, 5, m), rng.integers(0, 2, m))
        sets["delta_time"][start:start + m] = delta_time
        sets["lat_ph"][start:start + m] = 39.0 + along * 0.0627 / 100 + rng.normal(0.0, 1e-6, m)
        sets["lon_ph"][start:start + m] = -105.5 + along * 0.0121 / 100 + rng.normal(0.0, 1e-6, m)
        sets["h_ph"][start:start + m] = h.astype(np.float32)
        sets["signal_conf_ph"][start:start + m] = conf
print(n)
"""

PY_READ_XARRAY = r"""
import sys, time, xarray as xr
started = time.perf_counter()
ds = xr.open_dataset(sys.argv[1], group=sys.argv[2] + "/heights")
ds = ds[["h_ph", "lat_ph", "lon_ph", "signal_conf_ph"]].load()
print(time.perf_counter() - started, ds.sizes)
"""

PY_SUBMIT = r"""
import os, sys
os.environ["ROOT_URL"] = sys.argv[1]
from harmony import Client, Collection, Request
client = Client(check_interval=0.5)
job = client.submit(Request(Collection("ATL03"), max_results=int(sys.argv[2])))
client.wait_for_processing(job)
print(job)
"""


def compile_requests(args):
    """The tutorial's four requests compiled to URLs, per request."""
    _, _, out = measured([args.bench, "compile", str(args.rounds)])
    ours = json.loads(out)["us_per_request"]
    _, _, out = measured([args.python, "-c", PY_COMPILE, str(max(args.rounds // 10, 100))])
    theirs = json.loads(out)["us_per_request"]
    return [row("compile a request to its URL", ours, theirs, "µs")]


def photons(args):
    """The N-photon read at each size of --photons: both readers on the same file, each in a fresh process."""
    rows = []
    for count in args.photons:
        rows.extend(photons_at(args, count))
    return rows


def photons_at(args, count):
    path = args.work / f"photons-{count}.h5"
    measured([args.python, "-c", PY_MAKE_PHOTONS, str(path), str(count)])
    # Bytes of the five arrays a reader returns: f64 lat, lon, time; f32 height; i8 confidence (one column).
    arrays = count * (8 + 8 + 8 + 4 + 1) / 2**20
    reader = [args.reader] if args.reader else [args.bench, "read"]
    _, rss_hq, out, cpu_hq = measured([*reader, str(path), "gt1l"], cpu=True)
    ours = json.loads(out)
    _, rss_h5py, out = measured([args.python, "-c", PY_READ_H5PY, str(path), "gt1l"])
    seconds_h5py, found, cpu_h5py = float(out.split()[0]), int(out.split()[1]), float(out.split()[2])
    path.unlink()
    if found != ours["photons"] or found != count:
        raise SystemExit(f"photon counts differ: h5py {found}, HarmonyQL {ours['photons']}, wanted {count}")
    return [
        row(f"read {count:,} photons, gzip + shuffle (vs h5py)", ours["seconds"], seconds_h5py, "s"),
        # CPU seconds spent reading (h5py's without Python's start and imports; ours is the whole process):
        # less distorted than wall time when other work shares the cores.
        row(f"read {count:,} photons: CPU time", cpu_hq, cpu_h5py, "s"),
        row(f"read {count:,} photons: peak memory (arrays {arrays:.0f} MiB)", rss_hq, rss_h5py, "MiB"),
        {"measurement": f"read {count:,} photons: peak memory / arrays", "harmonyql": rss_hq / arrays,
         "python": rss_h5py / arrays, "unit": "×", "ratio": rss_h5py / rss_hq},
    ]


def subset(args):
    """The subsetter of `hq serve` against benches/subset_reference.py (h5py + numpy, one thread) on a six-beam
    granule of N photons (each size of --photons), file to file, with an equality check of the two outputs."""
    rows = []
    for count in args.photons:
        rows.extend(subset_at(args, count))
    return rows


def subset_at(args, count):
    granule, ours, theirs = (args.work / f"{name}-{count}.h5" for name in ("granule", "subset-hq", "subset-py"))
    _, _, out = measured([args.python, str(HERE / "atl03_granule.py"), str(granule), str(count)])
    bbox = out.strip().splitlines()[-1]
    subsetter = [args.subsetter] if args.subsetter else [args.bench, "subset"]
    _, rss_hq, out, cpu_hq = measured([*subsetter, str(granule), str(ours), bbox], cpu=True)
    result_hq = json.loads(out)
    _, rss_py, out, cpu_py = measured([args.python, str(HERE / "subset_reference.py"), str(granule), str(theirs),
                                       bbox], cpu=True)
    result_py = json.loads(out)
    if result_hq["photons"] != result_py["photons"]:
        raise SystemExit(f"kept photons differ: hq {result_hq['photons']}, reference {result_py['photons']}")
    measured([args.python, str(HERE / "subset_reference.py"), "--check", str(theirs), str(ours)])
    kept = f"{result_hq['photons']:,} of {count:,}"
    for path in (granule, ours, theirs):
        path.unlink()
    return [
        row(f"subset {count:,} photons, six beams, keep {kept} (vs h5py + numpy)", result_hq["seconds"],
            result_py["seconds"], "s"),
        row(f"subset {count:,} photons: CPU time (whole process)", cpu_hq, cpu_py, "s"),
        row(f"subset {count:,} photons: peak memory", rss_hq, rss_py, "MiB"),
    ]


def large(args):
    """A large run, only with `--only large` (--large-photons, default 100 million): `hq run` exports the photons
    to CSV and plots them, each in a fresh process; time and peak memory against the size of the arrays. No
    Python counterpart (h5py would hold every array)."""
    count = args.large_photons
    path = args.work / "large.h5"
    measured([args.python, "-c", PY_MAKE_PHOTONS_SLICED, str(path), str(count)])
    arrays = count * (8 + 8 + 8 + 4 + 1) / 2**20
    csv = args.work / "large.csv"
    seconds_export, rss_export, _ = measured([args.hq, "run", "-e", f'export "{path}" beam gt1l to "{csv}"'])
    csv_mib = csv.stat().st_size / 2**20
    csv.unlink()
    # The figure is written to the working directory, hence the absolute path of hq.
    hq = str(Path(args.hq).resolve())
    seconds_plot, rss_plot, _ = measured([hq, "run", "-e", f'plot photons "{path}" beam gt1l'], cwd=args.work)
    path.unlink()
    size = f"{count:,} photons (arrays {arrays:,.0f} MiB)"
    return [
        {"measurement": f"export {size} to CSV ({csv_mib:,.0f} MiB): time", "harmonyql": seconds_export,
         "python": None, "unit": "s", "ratio": None},
        {"measurement": f"export {size}: peak memory", "harmonyql": rss_export, "python": None, "unit": "MiB",
         "ratio": None},
        {"measurement": f"plot {size}: time", "harmonyql": seconds_plot, "python": None, "unit": "s", "ratio": None},
        {"measurement": f"plot {size}: peak memory", "harmonyql": rss_plot, "python": None, "unit": "MiB",
         "ratio": None},
    ]


def granules(args):
    """Downloads from `hq serve`, then reads and plots the largest granule."""
    rows = []
    work, python = args.work, args.python
    server = Server(args.hq, work / "data", "--scale", args.scale)
    try:
        _, _, job = measured([python, "-c", PY_SUBMIT, server.url, str(args.granules)])
        job = job.strip().splitlines()[-1]
        (work / "py").mkdir()  # harmony-py needs the directory to exist; hq makes it
        seconds_py, rss_py, out = measured([python, "-c", PY_DOWNLOAD, server.url, job, str(work / "py")])
        seconds_hq, rss_hq, _ = measured(
            [args.hq, "run", "--env", f"local:{server.port}", "-e", f'download {job} to "{work / "hq"}" overwrite']
        )
    finally:
        server.stop()
    files = sorted((work / "hq").glob("*.h5"), key=lambda p: p.stat().st_size)
    total = sum(p.stat().st_size for p in files) / 2**20
    rows.append(row(f"download {len(files)} granules ({total:.0f} MiB)", seconds_hq, seconds_py, "s"))
    rows.append(row("download: peak memory", rss_hq, rss_py, "MiB"))

    largest = str(files[-1])
    _, rss_hq, out = measured([args.bench, "read", largest, "gt1l"])
    read = json.loads(out)
    _, rss_h5py, out = measured([python, "-c", PY_READ_H5PY, largest, "gt1l"])
    seconds_h5py = float(out.split()[0])
    _, rss_xr, out = measured([python, "-c", PY_READ_XARRAY, largest, "gt1l"])
    seconds_xr = float(out.split()[0])
    photons = read["photons"]
    rows.append(row(f"read {photons:,} photons (vs h5py)", read["seconds"], seconds_h5py, "s"))
    rows.append(row(f"read {photons:,} photons (vs xarray)", read["seconds"], seconds_xr, "s"))
    rows.append(row("read: peak memory (vs xarray)", rss_hq, rss_xr, "MiB"))

    seconds_plot_hq, rss_plot_hq, _ = measured([args.bench, "plot", largest, "gt1l", str(work / "hq.png")])
    seconds_plot_py, rss_plot_py, _ = measured([python, "-c", PY_PLOT, largest, "gt1l", str(work / "py.png")])
    rows.append(row(f"plot {photons:,} photons to PNG (vs matplotlib)", seconds_plot_hq, seconds_plot_py, "s"))
    rows.append(row("plot: peak memory", rss_plot_hq, rss_plot_py, "MiB"))
    return rows


# name → (function, what it needs). To add a measurement, add a line here (or a module under benches/ with a
# `run(args)` in MODULES below); `--only NAME` picks it, and every measurement runs when no --only is given.
MEASUREMENTS = {
    "compile": (compile_requests, ("bench",)),
    "download": (granules, ("hq", "bench")),
    "photons": (photons, ()),
    "subset": (subset, ()),
    "large": (large, ("hq",)),
}
# Measurements that run only when named with --only (too slow or too large for the default run).
ON_REQUEST = {"large"}
# Measurements kept in their own modules (benches/NAME.py with `run(args)` and optionally `add_arguments(parser)`),
# registered when the file is there.
MODULES = ("downloads", "kernel", "plots")
for _name in MODULES:
    if (Path(__file__).resolve().parent / f"{_name}.py").exists():
        MEASUREMENTS.setdefault(_name, (lambda args, _name=_name: importlib.import_module(_name).run(args), ()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hq", help="the release hq binary (the download step needs it)")
    parser.add_argument("--bench", help="the release benches/hq.rs binary (all steps but photons need it)")
    parser.add_argument("--scale", type=int, default=20, help="hq serve --scale: photons per granule multiplier")
    parser.add_argument("--granules", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5000, help="compile rounds (4 requests each)")
    parser.add_argument("--photons", type=sizes, default=[1_000_000, 10_000_000, 30_000_000],
                        help="photons in the large read: one size or a comma-separated list (1e6,1e7,3e7)")
    parser.add_argument("--only", choices=sorted(MEASUREMENTS), action="append",
                        help="run only these measurements (repeatable); download also measures the read and plot")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--large-photons", type=lambda t: sizes(t)[0], default=100_000_000,
                        help="photons in the large run (--only large: export and plot in bounded memory)")
    parser.add_argument("--reader", help="binary for the photon read (default: --bench; the light one is "
                        "crates/data/examples/read_photons.rs)")
    parser.add_argument("--subsetter", help="binary for the subset (default: --bench; the light one is "
                        "crates/server/examples/subset.rs)")
    for name in MODULES:
        if name in MEASUREMENTS and hasattr(module := importlib.import_module(name), "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args()
    chosen = args.only or [name for name in MEASUREMENTS if name not in ON_REQUEST]
    if "photons" in chosen and not (args.bench or args.reader):
        parser.error("the photons step needs --bench or --reader")
    if "subset" in chosen and not (args.bench or args.subsetter):
        parser.error("the subset step needs --bench or --subsetter")
    for name in chosen:
        missing = [f"--{need}" for need in MEASUREMENTS[name][1] if not getattr(args, need)]
        if missing:
            parser.error(f"the {name} step needs {' and '.join(missing)}")
    args.python = sys.executable
    args.work = Path(tempfile.mkdtemp(prefix="hq-bench-"))
    load_before = load_average()
    rows, details = [], {}
    try:
        for name in chosen:
            result = MEASUREMENTS[name][0](args)
            if isinstance(result, dict):  # a module's: its rows, a growth table and the details behind them
                details[name] = result
                result = result["rows"]
            rows.extend(result)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    load_after = load_average()

    print("| measurement | HarmonyQL | Python | ratio (Python / HarmonyQL) |")
    print("| --- | --- | --- | --- |")
    print("\n".join(markdown(result) for result in rows))
    for name, detail in details.items():
        if detail.get("growth"):
            print(f"\n{name}: how cost grows\n{detail['growth']}")
    print(f"\nload average (1 min): {load_before:.1f} before, {load_after:.1f} after")
    if args.json:
        saved = {k: str(v) for k, v in vars(args).items() if k not in ("work", "python")}
        args.json.write_text(json.dumps({"args": saved, "load_average": [load_before, load_after],
                                         "results": rows, **details}, indent=2) + "\n")


if __name__ == "__main__":
    main()
