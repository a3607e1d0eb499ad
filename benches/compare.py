"""HarmonyQL against the Python tools users have today, in one run, with ratios.

Started by benches/compare.sh (which builds the release binaries). Each measurement runs the same work with both:

- compile:  the tutorial's four requests → URLs (harmony-py `request_as_url`), in process, per request;
- download: one job's full ATL03 granules from `hq serve` (harmony-py `download_all` vs `hq run … download`);
- read:     one beam's photons from the largest granule (h5py; xarray `open_dataset(group=…)`) vs the Rust reader;
- plot:     the photon cloud coloured by confidence to PNG (matplotlib scatter, the usual tutorial code) vs `plot`;
- photons:  N photons (`--photons`, default 10 million; lat, lon, height, time, signal confidence; gzip + shuffle,
            chunks of 10,000, written here with h5py) read by h5py vs the Rust reader, with both peak memories
            against the size of the arrays themselves.
Time is wall-clock; memory is each process's peak RSS (os.wait4). ratio = Python / HarmonyQL (above 1: we are faster).
"""

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60
JOB_TIMEOUT_S = 900


def measured(argv, env=None, cpu=False):
    """Runs argv; returns (seconds, peak RSS in MiB, stdout), and with `cpu` also the CPU seconds (user + system)
    the child used, which a busy machine distorts less than wall time. Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Read the pipes on threads so a chatty child cannot block; wait4 then gives this child's own rusage.
    chunks = {"out": [], "err": []}
    readers = [
        threading.Thread(target=lambda: chunks["out"].append(process.stdout.read())),
        threading.Thread(target=lambda: chunks["err"].append(process.stderr.read())),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join(timeout=10)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({process.returncode}):\n{''.join(chunks['err'])[-3000:]}")
    if cpu:
        return seconds, usage.ru_maxrss / 1024, "".join(chunks["out"]), usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, "".join(chunks["out"])


class Server:
    def __init__(self, hq, data_dir, scale):
        self.process = subprocess.Popen(
            [hq, "serve", "--port", "0", "--data-dir", str(data_dir), "--scale", str(scale)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        found = {}

        def read():
            for line in self.process.stdout:
                match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
                if match:
                    found["url"], found["port"] = match.group(1), match.group(2)
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if "url" not in found:
            self.stop()
            raise SystemExit("hq serve did not start")
        self.url, self.port = found["url"], found["port"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


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

PY_READ_XARRAY = r"""
import sys, time, xarray as xr
started = time.perf_counter()
ds = xr.open_dataset(sys.argv[1], group=sys.argv[2] + "/heights")
ds = ds[["h_ph", "lat_ph", "lon_ph", "signal_conf_ph"]].load()
print(time.perf_counter() - started, ds.sizes)
"""

PY_PLOT = r"""
import sys, time
import h5py, numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
started = time.perf_counter()
with h5py.File(sys.argv[1]) as f:
    g = f[sys.argv[2] + "/heights"]
    lat, h, conf = g["lat_ph"][:], g["h_ph"][:], g["signal_conf_ph"][:, 0]
fig, ax = plt.subplots(figsize=(9.6, 5.4), dpi=100)
colors = np.array(["#aaaaaa", "#88aadd", "#3366cc", "#ee8822", "#cc1122"])
ax.scatter(lat, h, s=0.5, c=colors[np.clip(conf, 0, 4)], linewidths=0)
ax.set_xlabel("latitude (°)"); ax.set_ylabel("photon height (m)"); ax.set_title(sys.argv[1])
fig.savefig(sys.argv[3])
print(time.perf_counter() - started)
"""

PY_DOWNLOAD = r"""
import os, sys, time
os.environ["ROOT_URL"] = sys.argv[1]
from harmony import Client
client = Client(check_interval=0.2)
started = time.perf_counter()
files = [f.result() for f in client.download_all(sys.argv[2], directory=sys.argv[3], overwrite=True)]
print(time.perf_counter() - started, len(files))
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


def row(name, ours, theirs, unit, better_low=True):
    ratio = theirs / ours if better_low else ours / theirs
    return {"measurement": name, "harmonyql": ours, "python": theirs, "unit": unit, "ratio": ratio}


def markdown(result):
    unit = result["unit"]
    return (f"| {result['measurement']} | {result['harmonyql']:.3g} {unit} | {result['python']:.3g} {unit} "
            f"| {result['ratio']:.2f}× |")


# benches/NAME.py, each with add_arguments(parser) and run(args) -> {"rows": [...], "growth": table, ...}.
MODULES = ("downloads", "plots", "kernel")
STEPS = ("compile", "download", "photons", *MODULES)


def photons(args, work, python):
    """The N-photon read: both readers on the same file, each in a fresh process; rows for time and memory."""
    path = work / "photons.h5"
    measured([python, "-c", PY_MAKE_PHOTONS, str(path), str(args.photons)])
    # Bytes of the five arrays a reader returns: f64 lat, lon, time; f32 height; i8 confidence (one column).
    arrays = args.photons * (8 + 8 + 8 + 4 + 1) / 2**20
    reader = [args.reader] if args.reader else [args.bench, "read"]
    _, rss_hq, out, cpu_hq = measured([*reader, str(path), "gt1l"], cpu=True)
    ours = json.loads(out)
    _, rss_h5py, out = measured([python, "-c", PY_READ_H5PY, str(path), "gt1l"])
    seconds_h5py, count, cpu_h5py = float(out.split()[0]), int(out.split()[1]), float(out.split()[2])
    if count != ours["photons"] or count != args.photons:
        raise SystemExit(f"photon counts differ: h5py {count}, HarmonyQL {ours['photons']}, wanted {args.photons}")
    return [
        row(f"read {args.photons:,} photons, gzip + shuffle (vs h5py)", ours["seconds"], seconds_h5py, "s"),
        # CPU seconds spent reading (h5py's without Python's start and imports; ours is the whole process):
        # less distorted than wall time when other work shares the cores.
        row(f"read {args.photons:,} photons: CPU time", cpu_hq, cpu_h5py, "s"),
        row(f"read {args.photons:,} photons: peak memory (arrays {arrays:.0f} MiB)", rss_hq, rss_h5py, "MiB"),
        {"measurement": "read photons: peak memory / arrays", "harmonyql": rss_hq / arrays,
         "python": rss_h5py / arrays, "unit": "×", "ratio": rss_h5py / rss_hq},
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hq", help="the release hq binary (the download step needs it)")
    parser.add_argument("--bench", help="the release benches/hq.rs binary (all steps but photons need it)")
    parser.add_argument("--scale", type=int, default=20, help="hq serve --scale: photons per granule multiplier")
    parser.add_argument("--granules", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5000, help="compile rounds (4 requests each)")
    parser.add_argument("--photons", type=int, default=10_000_000, help="photons in the large read")
    parser.add_argument("--only", choices=STEPS, action="append",
                        help="run only these steps (repeatable); download also measures the read and the plot")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--reader", help="binary for the photon read (default: --bench; the light one is "
                        "crates/data/examples/read_photons.rs)")
    modules = {name: importlib.import_module(name) for name in MODULES}
    for module in modules.values():
        module.add_arguments(parser)
    args = parser.parse_args()
    steps = set(args.only or STEPS)
    if "download" in steps and not (args.hq and args.bench):
        parser.error("the download step needs --hq and --bench")
    if "compile" in steps and not args.bench or "photons" in steps and not (args.bench or args.reader):
        parser.error("--bench (or --reader for the photons step) is required")
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="hq-bench-"))
    rows, details = [], {}
    args.work = str(work)
    try:
        if "compile" in steps:
            _, _, out = measured([args.bench, "compile", str(args.rounds)])
            ours = json.loads(out)["us_per_request"]
            _, _, out = measured([python, "-c", PY_COMPILE, str(max(args.rounds // 10, 100))])
            theirs = json.loads(out)["us_per_request"]
            rows.append(row("compile a request to its URL", ours, theirs, "µs"))
        if "photons" in steps:
            rows.extend(photons(args, work, python))
        if "download" in steps:
            rows.extend(granules(args, work, python))
        for name in (name for name in MODULES if name in steps):
            details[name] = modules[name].run(args)
            rows.extend(details[name]["rows"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| measurement | HarmonyQL | Python | ratio (Python / HarmonyQL) |")
    print("| --- | --- | --- | --- |")
    print("\n".join(markdown(result) for result in rows))
    for name, detail in details.items():
        print(f"\n{name}: how cost grows\n{detail['growth']}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": rows,
                                         **details}, indent=2) + "\n")


def granules(args, work, python):
    """Downloads from `hq serve`, then reads and plots the largest granule."""
    rows = []
    server = Server(args.hq, work / "data", args.scale)
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


if __name__ == "__main__":
    main()
