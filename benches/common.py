"""Helpers shared by the benchmark modules (downloads.py, plots.py, kernel.py).

`measured` and `row` are copies of compare.py's (kept minimal so the modules do not import the script that
runs them); the lead may fold the two together.
"""

import os
import re
import subprocess
import threading
import time

START_TIMEOUT_S = 60


def measured(argv, env=None, cwd=None):
    """Runs argv; returns (wall seconds, peak RSS in MiB, stdout, CPU seconds (user + system)) of the child.
    Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
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
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:3]} failed ({status}):\n{''.join(chunks['err'])[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, "".join(chunks["out"]), usage.ru_utime + usage.ru_stime


def row(name, ours, theirs, unit, better_low=True):
    """One line of the table: ratio = theirs / ours (above 1, HarmonyQL is faster or smaller)."""
    ratio = theirs / ours if better_low else ours / theirs
    return {"measurement": name, "harmonyql": ours, "python": theirs, "unit": unit, "ratio": ratio}


def load_average():
    """The 1-minute load average: other work on the machine distorts wall times, so it is reported beside them."""
    return round(os.getloadavg()[0], 2)


class HqServe:
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
