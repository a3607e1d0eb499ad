"""Downloads from `hq serve` (issue 14, item 3): `hq run … download` against harmony-py's `download_all`,
`curl --parallel` and `cp` of the same files (the disk's limit).

Two shapes, each a one-granule job whose work item writes N files (`hq serve --bench-files N
--bench-file-bytes B`):
- large: 8 files of 64 MiB on loopback, no added latency: bandwidth and disk bound; throughput in MB/s;
- small: 10, 100 and 500 files of 1 MiB behind 50 ms of latency per request (`--fault-latency-ms`): latency
  bound, where the number of files at once decides; every size is a row of the growth table.
hq's time is the whole `hq run` process (start, job status, links, files, fsync of each); harmony-py's is
`download_all` after the interpreter started and imported (it does not fsync); curl's is the process.
"""

import json
import shutil
import statistics
import sys
import urllib.request
from pathlib import Path

from common import PY_DOWNLOAD, Server, load_average, measured_cpu, row

PY_SUBMIT = r"""
import os, sys
os.environ["ROOT_URL"] = sys.argv[1]
from harmony import Client, Collection, Request
client = Client(check_interval=0.2)
job = client.submit(Request(Collection("ATL03"), max_results=1, skip_preview=True))
job = job["jobID"] if isinstance(job, dict) else job  # a job finished at once comes back as its JSON
client.wait_for_processing(job)
print(job)
"""


def add_arguments(parser):
    group = parser.add_argument_group("downloads (benches/downloads.py)")
    group.add_argument("--download-large", default="8x64",
                       help="COUNTxMIB of the loopback download without latency (default 8x64)")
    group.add_argument("--download-small", default="10,100,500",
                       help="file counts of the download behind latency, 1 MiB each (default 10,100,500)")
    group.add_argument("--download-small-kib", type=int, default=1024, help="size of each small file, KiB")
    group.add_argument("--download-latency-ms", type=int, default=50, help="latency added to every request")
    group.add_argument("--download-repeat", type=int, default=3, help="runs of each tool; the median is kept")


def links(url, job):
    with urllib.request.urlopen(f"{url}/jobs/{job}?page=1&limit=2000", timeout=60) as answer:
        document = json.load(answer)
    return [link["href"] for link in document["links"] if link.get("rel") == "data"]


def median_run(repeat, once):
    """Runs `once()` (→ seconds, cpu, rss) `repeat` times; the median of each."""
    runs = [once() for _ in range(repeat)]
    return tuple(statistics.median(values) for values in zip(*runs))


def shape(args, work, python, count, size, latency_ms):
    """One job of `count` files of `size` bytes behind `latency_ms`: the seconds, CPU and memory of each tool."""
    data = work / f"serve-{count}-{size}"
    options = ["--bench-files", count, "--bench-file-bytes", size, "--fault-latency-ms", latency_ms]
    with Server(args.hq, data, *options) as server:
        _, _, job, _ = measured_cpu([python, "-c", PY_SUBMIT, server.url])
        job = job.strip().splitlines()[-1]
        urls = links(server.url, job)
        if len(urls) != count:
            raise SystemExit(f"the job has {len(urls)} links, wanted {count}")
        sources = sorted((data / "results" / job).glob("*/*.bin"))
        total = sum(p.stat().st_size for p in sources)

        def fresh(name):
            target = work / name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            return target

        def hq():
            target = fresh("hq")
            seconds, rss, _, cpu = measured_cpu([args.hq, "run", "--env", f"local:{server.port}", "-e",
                                             f'download {job} to "{target}" overwrite'])
            check(target, count, total)
            return seconds, cpu, rss

        def harmony_py():
            target = fresh("py")
            _, rss, out, cpu = measured_cpu([python, "-c", PY_DOWNLOAD, server.url, job, str(target)])
            check(target, count, total)
            return float(out.strip().splitlines()[-1].split()[0]), cpu, rss

        def curl():
            target = fresh("curl")
            config = work / "curl.cfg"
            config.write_text("".join(f'url = "{u}"\noutput = "{target}/{i:05}.bin"\n' for i, u in enumerate(urls)))
            seconds, rss, _, cpu = measured_cpu(["curl", "--silent", "--fail", "--parallel", "--parallel-max", "50",
                                             "--config", str(config)])
            check(target, count, total)
            return seconds, cpu, rss

        def cp():
            target = fresh("cp")
            seconds, rss, _, cpu = measured_cpu(["cp", *map(str, sources), str(target)])
            return seconds, cpu, rss

        def cp_sync():
            # cp, then the file system's writeback (hq fsyncs every file before renaming it into place).
            target = fresh("cps")
            seconds, rss, _, cpu = measured_cpu(["sh", "-c", 'cp "$@" "$0" && sync -f "$0"', str(target),
                                             *map(str, sources)])
            return seconds, cpu, rss

        tools = {"hq": hq, "harmony-py": harmony_py, "curl": curl}
        if latency_ms == 0:
            tools.update({"cp": cp, "cp + sync": cp_sync})
        # Interleaved rounds, so a burst of load on the machine hits every tool alike.
        runs = {name: [] for name in tools}
        loads = []
        for _ in range(args.download_repeat):
            for name, once in tools.items():
                runs[name].append(once())
                loads.append(load_average())
    result = {name: dict(zip(("seconds", "cpu_seconds", "peak_rss_mib"),
                             (statistics.median(v) for v in zip(*values)))) for name, values in runs.items()}
    for values in result.values():
        values["mb_per_s"] = total / 1e6 / values["seconds"]
    return {"files": count, "bytes_each": size, "latency_ms": latency_ms, "total_bytes": total,
            "load_average": max(loads), "tools": result}


def check(directory, count, total):
    files = [p for p in directory.iterdir() if not p.name.startswith(".")]
    got = sum(p.stat().st_size for p in files)
    if len(files) != count or got != total:
        raise SystemExit(f"{directory}: {len(files)} files, {got} bytes; wanted {count}, {total}")


def run(args):
    if not args.hq:
        raise SystemExit("the downloads step needs --hq")
    python = sys.executable
    work = Path(args.work) / "downloads"
    work.mkdir(parents=True, exist_ok=True)
    shapes = []
    count, mib = (int(x) for x in args.download_large.lower().split("x"))
    shapes.append(shape(args, work, python, count, mib << 20, 0))
    for count in (int(x) for x in args.download_small.split(",")):
        shapes.append(shape(args, work, python, count, args.download_small_kib << 10, args.download_latency_ms))
    shutil.rmtree(work, ignore_errors=True)

    rows = []
    large = shapes[0]["tools"]
    label = f"{shapes[0]['files']} × {shapes[0]['bytes_each'] >> 20} MiB"
    rows.append(row(f"download {label} on loopback (vs harmony-py)", large["hq"]["seconds"],
                    large["harmony-py"]["seconds"], "s"))
    rows.append(row(f"download {label}: MB/s vs cp (target ≥ 0.9)", large["hq"]["mb_per_s"],
                    large["cp"]["mb_per_s"], "MB/s", better_low=False))
    rows.append(row(f"download {label}: MB/s vs cp + sync", large["hq"]["mb_per_s"],
                    large["cp + sync"]["mb_per_s"], "MB/s", better_low=False))
    rows.append(row(f"download {label}: MB/s vs curl --parallel", large["hq"]["mb_per_s"],
                    large["curl"]["mb_per_s"], "MB/s", better_low=False))
    for small in shapes[1:]:
        tools = small["tools"]
        label = f"{small['files']} × {small['bytes_each'] >> 10} KiB behind {small['latency_ms']} ms"
        rows.append(row(f"download {label} (vs harmony-py, target ≥ 4)", tools["hq"]["seconds"],
                        tools["harmony-py"]["seconds"], "s"))
        rows.append(row(f"download {label} (vs curl --parallel)", tools["hq"]["seconds"], tools["curl"]["seconds"],
                        "s"))
    return {"rows": rows, "shapes": shapes, "growth": growth_table(shapes[1:])}


def growth_table(shapes):
    """Time and peak memory per size, per tool: what grows with the number of files."""
    lines = ["| files | tool | seconds | peak RSS (MiB) | CPU s | load |", "| --- | --- | --- | --- | --- | --- |"]
    for s in shapes:
        for name, v in s["tools"].items():
            lines.append(f"| {s['files']} | {name} | {v['seconds']:.3g} | {v['peak_rss_mib']:.1f} "
                         f"| {v['cpu_seconds']:.3g} | {s['load_average']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print("run through benches/compare.py --only downloads", file=sys.stderr)
    sys.exit(2)
