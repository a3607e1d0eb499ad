"""The Jupyter kernel against ipykernel (issue 14, item 6), both driven by jupyter_client, interleaved:

- start: from starting the kernel process to its first kernel_info_reply (median and p95 of `--kernel-starts`);
- execute round trip: `print "hello, world"` / `print("hello, world")` from execute_request to the reply and
  the idle status (median and p95 over `--kernel-cells` cells, alternating kernels);
- idle memory: the kernel process's RSS after the cells.

Target: hq's start in at most 1/20 of ipykernel's.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from common import load_average, measured, row

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
    reply(kc, msg_id, time.monotonic() + TIMEOUT)
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
for _ in range(starts):
    for name in names:
        seconds, km, kc = start(name)
        start_times[name].append(seconds)
        stop(km, kc)
kernels = {name: start(name)[1:] for name in names}
round_trips = {n: [] for n in names}
for i in range(cells):
    for name in (names if i % 2 == 0 else names[::-1]):
        km, kc = kernels[name]
        started = time.perf_counter()
        msg_id = kc.execute(CODE[name])
        deadline = time.monotonic() + TIMEOUT
        reply(kc, msg_id, deadline)
        idle(kc, msg_id, deadline)
        round_trips[name].append(time.perf_counter() - started)
result = {name: {"start": summary(start_times[name]), "round_trip": summary(round_trips[name]),
                 "idle_rss_mib": rss_mib(kernels[name][0])} for name in names}
for km, kc in kernels.values():
    stop(km, kc)
print(json.dumps(result))
"""


def add_arguments(parser):
    group = parser.add_argument_group("kernel (benches/kernel.py)")
    group.add_argument("--kernel-starts", type=int, default=30, help="starts of each kernel (interleaved)")
    group.add_argument("--kernel-cells", type=int, default=300, help="cells executed on each kernel")


def kernelspecs(hq, python):
    """A throw-away JUPYTER_PATH with both kernels: nothing is installed on the machine."""
    data_dir = Path(tempfile.mkdtemp(prefix="hq-bench-jupyter-"))
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
    data_dir = kernelspecs(str(Path(args.hq).resolve()), python)
    env = {**os.environ, "JUPYTER_PATH": str(data_dir), "JUPYTER_PLATFORM_DIRS": "1"}
    load = load_average()
    _, _, out, _ = measured([python, "-c", PY_KERNELS, str(args.kernel_starts), str(args.kernel_cells)], env=env)
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
    growth = ["| kernel | start median (ms) | start p95 | round trip median (ms) | p95 | idle RSS (MiB) | load |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("hq", "ipykernel"):
        k = result[name]
        growth.append(f"| {name} | {k['start']['median'] * 1e3:.1f} | {k['start']['p95'] * 1e3:.1f} "
                      f"| {k['round_trip']['median'] * 1e3:.2f} | {k['round_trip']['p95'] * 1e3:.2f} "
                      f"| {k['idle_rss_mib']:.1f} | {result['load_average']} |")
    return {"rows": rows, "kernels": result, "growth": "\n".join(growth)}


if __name__ == "__main__":
    print("run through benches/compare.py --only kernel", file=sys.stderr)
    sys.exit(2)
