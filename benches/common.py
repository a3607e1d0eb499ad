"""Helpers shared by the measurements of benches/compare.py (and its modules: downloads.py, kernel.py, plots.py…).

A measurement is a function `run(args) -> list of rows`; `args` is compare.py's argparse namespace, with
`args.work` (a scratch directory removed at the end) and `args.python` (this interpreter) filled in.
"""

import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60


def measured(argv, env=None, cpu=False, cwd=None):
    """Runs argv (in `cwd` if given); returns (seconds, peak RSS in MiB, stdout), and with `cpu` also the CPU
    seconds (user + system) the child used, which a busy machine distorts less than wall time. Fails loudly on a
    non-zero exit, with the end of the child's stderr."""
    # The child writes to files, not pipes: a grandchild that outlives it (a kernel whose client failed) would
    # keep a pipe open, and reading it to the end would then wait forever. wait4 gives this child's own rusage.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if returncode != 0:
        raise SystemExit(f"{_command(argv)} failed ({returncode}):\n{stderr[-3000:]}")
    if cpu:
        return seconds, usage.ru_maxrss / 1024, stdout, usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, stdout


def _command(argv):
    """argv for a message: a `python -c` script is long, its first line says which one it was."""
    shown = [arg if len(arg) < 200 else arg[:120].strip() + " …" for arg in argv[:4]]
    return " ".join(shown) + (" …" if len(argv) > 4 else "")


def measured_cpu(argv, env=None, cwd=None):
    """`measured` with the child's CPU seconds: (wall seconds, peak RSS in MiB, stdout, CPU seconds)."""
    return measured(argv, env=env, cpu=True, cwd=cwd)


def row(name, ours, theirs, unit, better_low=True):
    """One line of the table: ratio = Python / HarmonyQL for times and memory (above 1: we are better)."""
    ratio = theirs / ours if better_low else ours / theirs
    return {"measurement": name, "harmonyql": ours, "python": theirs, "unit": unit, "ratio": ratio}


def markdown(result):
    """One table line; a measurement without a Python counterpart (python None) shows dashes."""
    unit = result["unit"]
    if result["python"] is None:
        return f"| {result['measurement']} | {result['harmonyql']:.3g} {unit} | — | — |"
    return (f"| {result['measurement']} | {result['harmonyql']:.3g} {unit} | {result['python']:.3g} {unit} "
            f"| {result['ratio']:.2f}× |")


# The Python side of the plot and download measurements (compare.py's `download`, plots.py, downloads.py):
# matplotlib's scatter as the tutorial draws it, and harmony-py's download_all.
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


def load_average():
    """The 1-minute load average, printed beside the numbers: on a shared machine wall times stretch with it."""
    return round(os.getloadavg()[0], 2)


def sizes(text):
    """argparse type for a size or a comma-separated list of sizes: "1e6,10000000" → [1000000, 10000000]."""
    return [int(float(part)) for part in text.split(",") if part.strip()]


class Server:
    """`hq serve` on a free loopback port with extra options; stopped by `stop()` (or as a context manager)."""

    def __init__(self, hq, data_dir, *options):
        self.process = subprocess.Popen(
            [hq, "serve", "--port", "0", "--data-dir", str(data_dir), *map(str, options)],
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

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
