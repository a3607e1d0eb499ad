"""The Jupyter kernel against ipykernel (issue 14, item 6), both driven by jupyter_client, interleaved:

- start: from starting the kernel process to its first kernel_info_reply (median and p95 of `--kernel-starts`);
- execute round trip: `print "hello, world"` / `print("hello, world")` from execute_request to the reply and
  the idle status (median and p95 over `--kernel-cells` cells, alternating kernels);
- idle memory: the kernel process's RSS after the cells;
- after the tutorial: the ATL03 notebook's cells on the hq kernel, and the same steps with harmony-py, h5py,
  matplotlib and pandas on ipykernel, both against one `hq serve`; each kernel's RSS after them and its peak.

Target: hq's start in at most 1/20 of ipykernel's.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from common import Server, load_average, measured_cpu, row

PY_KERNELS = r"""
import json, statistics, sys, time, uuid
from jupyter_client.manager import KernelManager

starts, cells = int(sys.argv[1]), int(sys.argv[2])
CODE = {"hq": 'print "hello, world"', "ipykernel": 'print("hello, world")'}
TIMEOUT = 60

def reply(kc, msg_id, deadline):
    while True:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg

def idle(kc, msg_id, deadline):
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return

def start(name):
    km = KernelManager(kernel_name=name)
    started = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    msg_id = kc.kernel_info()
    try:
        reply(kc, msg_id, time.monotonic() + TIMEOUT)
    except BaseException:
        stop(km, kc)
        raise
    return time.perf_counter() - started, km, kc

def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)

def rss_mib(km):
    pid = km.provisioner.process.pid
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

def summary(values):
    values = sorted(values)
    return {"median": statistics.median(values), "p95": values[min(len(values) - 1, int(0.95 * len(values)))],
            "n": len(values)}

names = ["hq", "ipykernel"]
start_times = {n: [] for n in names}
running = []  # every kernel not yet stopped, shut down however this script ends

def started(name):
    seconds, km, kc = start(name)
    running.append((km, kc))
    return seconds, km, kc

def stopped(km, kc):
    running.remove((km, kc))
    stop(km, kc)

try:
    for _ in range(starts):
        for name in names:
            seconds, km, kc = started(name)
            start_times[name].append(seconds)
            stopped(km, kc)
    kernels = {name: started(name)[1:] for name in names}
    for km, kc in kernels.values():
        # The start is timed to the first kernel_info_reply on shell; iopub may still be subscribing then, and a
        # cell's idle status published before it is would never arrive. wait_for_ready repeats kernel_info until
        # iopub delivers too.
        kc.wait_for_ready(timeout=TIMEOUT)
    round_trips = {n: [] for n in names}
    for i in range(cells):
        for name in (names if i % 2 == 0 else names[::-1]):
            km, kc = kernels[name]
            began = time.perf_counter()
            msg_id = kc.execute(CODE[name])
            deadline = time.monotonic() + TIMEOUT
            reply(kc, msg_id, deadline)
            idle(kc, msg_id, deadline)
            round_trips[name].append(time.perf_counter() - began)
    result = {name: {"start": summary(start_times[name]), "round_trip": summary(round_trips[name]),
                     "idle_rss_mib": rss_mib(kernels[name][0])} for name in names}
finally:
    for km, kc in list(running):
        stop(km, kc)
print(json.dumps(result))
"""


# The tutorial notebook's cells (notebooks/icesat2_atl03_subset.ipynb) on the hq kernel, and what a harmony-py user
# runs for the same steps on ipykernel: submit, wait, results, download, read, the photon plot, a histogram, CSV.
HQ_TUTORIAL = [
    "env",
    "capabilities ATL03",
    "url subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)",
    "job = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)",
    "wait job",
    "job",
    "results job",
    'files = download job to "downloads"',
    'open files group "gt1l/heights"',
    "plot photons files beam gt1l",
    "plot photons files beam gt1l by distance confidence 3",
    "plot track job",
    'plot histogram files var "gt1l/heights/h_ph"',
    'export files group gt1l/heights to "gt1l_heights.csv"',
    "stac job",
]
PY_TUTORIAL = [
    "import datetime as dt, os\nos.environ['ROOT_URL'] = ROOT\n"
    "from harmony import BBox, Client, Collection, Request\nclient = Client(check_interval=0.2)",
    "client.capabilities(collection_id='ATL03') if hasattr(client, 'capabilities') else None",
    "request = Request(Collection('ATL03'), spatial=BBox(-105.5, 40, -105, 41),\n"
    "                  temporal={'start': dt.datetime(2020, 4, 27), 'stop': dt.datetime(2020, 5, 28)})\n"
    "client.request_as_url(request)",
    "job = client.submit(request)\njob = job['jobID'] if isinstance(job, dict) else job",
    "client.wait_for_processing(job)",
    "client.result_json(job)",
    "files = [f.result() for f in client.download_all(job, directory='.', overwrite=True)]",
    "import h5py\nh5 = h5py.File(files[0])\ng = h5['gt1l/heights']\nlat, h, conf = g['lat_ph'][:], g['h_ph'][:], "
    "g['signal_conf_ph'][:, 0]",
    "import io, numpy as np, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(9.6, 5.4))\n"
    "ax.scatter(lat, h, s=0.5, c=np.array(['#aaa', '#8ad', '#36c', '#e82', '#c12'])[np.clip(conf, 0, 4)])\n"
    "fig.savefig(io.BytesIO(), format='png')",
    "fig, ax = plt.subplots()\nax.hist(h, bins=100)\nfig.savefig(io.BytesIO(), format='png')",
    "import pandas as pd\npd.DataFrame({'lat_ph': lat, 'h_ph': h, 'signal_conf_ph': conf}).to_csv('gt1l_heights.csv')",
]

PY_TUTORIAL_RSS = r"""
import json, os, sys, time
from jupyter_client.manager import KernelManager
root, hq_cells, py_cells = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
TIMEOUT = 300

def run(name, cells, cwd, env):
    km = KernelManager(kernel_name=name)
    km.start_kernel(cwd=cwd, env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        started = time.perf_counter()
        for code in cells:
            reply = kc.execute_interactive(code, timeout=TIMEOUT, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"{name}: {code!r} failed: {reply['content']}")
        seconds = time.perf_counter() - started
        pid = km.provisioner.process.pid
        rss = next(int(l.split()[1]) / 1024 for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
        hwm = next(int(l.split()[1]) / 1024 for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:"))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"seconds": seconds, "rss_mib": rss, "peak_rss_mib": hwm, "cells": len(cells)}

env = {**os.environ, "HARMONY_ROOT_URL": root}
result = {}
for name, cells in (("hq", hq_cells), ("ipykernel", [f"ROOT = {root!r}"] + py_cells)):
    cwd = os.path.join(sys.argv[4], name)
    os.makedirs(cwd, exist_ok=True)
    result[name] = run(name, cells, cwd, env)
print(json.dumps(result))
"""


def add_arguments(parser):
    group = parser.add_argument_group("kernel (benches/kernel.py)")
    group.add_argument("--kernel-starts", type=int, default=30, help="starts of each kernel (interleaved)")
    group.add_argument("--kernel-cells", type=int, default=300, help="cells executed on each kernel")
    group.add_argument("--kernel-tutorial", action=argparse.BooleanOptionalAction, default=True,
                       help="also run the ATL03 tutorial on each kernel against hq serve and compare RSS after it")


def kernelspecs(data_dir, hq, python):
    """A throw-away JUPYTER_PATH with both kernels (in compare.py's work directory, removed after the run):
    nothing is installed on the machine."""
    specs = {
        "hq": [hq, "kernel", "--connection-file", "{connection_file}"],
        "ipykernel": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    }
    for name, argv in specs.items():
        spec_dir = data_dir / "kernels" / name
        spec_dir.mkdir(parents=True)
        language = "harmonyql" if name == "hq" else "python"
        (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": language,
                                                          "interrupt_mode": "message"}))
    return data_dir


def run(args):
    if not args.hq:
        raise SystemExit("the kernel step needs --hq")
    python = sys.executable
    data_dir = kernelspecs(Path(args.work) / "jupyter", str(Path(args.hq).resolve()), python)
    env = {**os.environ, "JUPYTER_PATH": str(data_dir), "JUPYTER_PLATFORM_DIRS": "1"}
    load = load_average()
    _, _, out, _ = measured_cpu([python, "-c", PY_KERNELS, str(args.kernel_starts), str(args.kernel_cells)], env=env)
    result = json.loads(out)
    result["load_average"] = max(load, load_average())
    hq, ipy = result["hq"], result["ipykernel"]
    rows = [
        row("kernel start to kernel_info_reply, median (target ≥ 20)", hq["start"]["median"],
            ipy["start"]["median"], "s"),
        row("kernel start, p95", hq["start"]["p95"], ipy["start"]["p95"], "s"),
        row("execute round trip, median", hq["round_trip"]["median"], ipy["round_trip"]["median"], "s"),
        row("execute round trip, p95", hq["round_trip"]["p95"], ipy["round_trip"]["p95"], "s"),
        row("kernel idle memory (RSS)", hq["idle_rss_mib"], ipy["idle_rss_mib"], "MiB"),
    ]
    if args.kernel_tutorial:
        work = Path(args.work) / "kernel-tutorial"
        with Server(args.hq, work / "data") as server:
            _, _, out, _ = measured_cpu([python, "-c", PY_TUTORIAL_RSS, server.url, json.dumps(HQ_TUTORIAL),
                                     json.dumps(PY_TUTORIAL), str(work)], env=env)
        result["tutorial"] = tutorial = json.loads(out)
        rows.append(row("kernel RSS after the ATL03 tutorial (vs ipykernel + harmony-py)", tutorial["hq"]["rss_mib"],
                        tutorial["ipykernel"]["rss_mib"], "MiB"))
        rows.append(row("kernel peak RSS during the tutorial", tutorial["hq"]["peak_rss_mib"],
                        tutorial["ipykernel"]["peak_rss_mib"], "MiB"))
    growth = ["| kernel | start median (ms) | start p95 | round trip median (ms) | p95 | idle RSS (MiB) | load |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("hq", "ipykernel"):
        k = result[name]
        growth.append(f"| {name} | {k['start']['median'] * 1e3:.1f} | {k['start']['p95'] * 1e3:.1f} "
                      f"| {k['round_trip']['median'] * 1e3:.2f} | {k['round_trip']['p95'] * 1e3:.2f} "
                      f"| {k['idle_rss_mib']:.1f} | {result['load_average']} |")
    if "tutorial" in result:
        growth += ["", "| after the ATL03 tutorial | cells | seconds | RSS after (MiB) | peak RSS (MiB) |",
                   "| --- | --- | --- | --- | --- |"]
        growth += [f"| {name} | {t['cells']} | {t['seconds']:.2f} | {t['rss_mib']:.1f} | {t['peak_rss_mib']:.1f} |"
                   for name, t in result["tutorial"].items()]
    return {"rows": rows, "kernels": result, "growth": "\n".join(growth)}


if __name__ == "__main__":
    print("run through benches/compare.py --only kernel", file=sys.stderr)
    sys.exit(2)
