"""The photon-cloud plot at 1, 10 (and 30) million photons (issue 14, item 4): `plot photons FILE beam gt1l`
(the session's plot, benches/hq.rs `plot`) against matplotlib's scatter of the same points (h5py read included,
as the tutorial does it), and against HarmonyQL's own read of the same arrays (`read`), to see what drawing adds.

Targets: drawing adds at most half of the read time (plot ≤ 1.5 × read) and the plot is at least 30× faster
than matplotlib. The file is written by compare.py's generator (gzip + shuffle, chunks of 10,000 rows).
"""

import sys
from pathlib import Path

from common import PY_PLOT, load_average, measured_cpu, row


def add_arguments(parser):
    group = parser.add_argument_group("plots (benches/plots.py)")
    group.add_argument("--plot-photons", default="1000000,10000000,30000000",
                       help="photon counts to plot, comma-separated (matplotlib only up to --plot-matplotlib-max)")
    group.add_argument("--plot-matplotlib-max", type=int, default=10_000_000,
                       help="largest count matplotlib is run on (it takes minutes beyond)")


def run(args):
    from compare import PY_MAKE_PHOTONS  # the one generator of photon files; compare.py owns it

    if not args.bench:
        raise SystemExit("the plots step needs --bench (benches/hq.rs)")
    python = sys.executable
    work = Path(args.work) / "plots"
    work.mkdir(parents=True, exist_ok=True)
    sizes = []
    for count in (int(x) for x in args.plot_photons.split(",")):
        path = work / f"photons-{count}.h5"
        measured_cpu([python, "-c", PY_MAKE_PHOTONS, str(path), str(count)])
        measured_cpu([args.bench, "read", str(path), "gt1l"])  # page cache warm for everyone
        read_wall, read_rss, _, read_cpu = measured_cpu([args.bench, "read", str(path), "gt1l"])
        plot_wall, plot_rss, _, plot_cpu = measured_cpu([args.bench, "plot", str(path), "gt1l", str(work / "hq.png")])
        size = {"photons": count, "load_before": load_average(),
                "hq_read": {"seconds": read_wall, "cpu_seconds": read_cpu, "peak_rss_mib": read_rss},
                "hq_plot": {"seconds": plot_wall, "cpu_seconds": plot_cpu, "peak_rss_mib": plot_rss}}
        if count <= args.plot_matplotlib_max:
            wall, rss, out, cpu = measured_cpu([python, "-c", PY_PLOT, str(path), "gt1l", str(work / "py.png")])
            size["matplotlib"] = {"seconds": wall, "in_process_seconds": float(out.split()[0]), "cpu_seconds": cpu,
                                  "peak_rss_mib": rss}
        size["load_after"] = load_average()
        sizes.append(size)
        path.unlink()

    rows = []
    for size in sizes:
        count, read, plot = size["photons"], size["hq_read"], size["hq_plot"]
        rows.append({"measurement": f"plot {count:,} photons: drawing / read time, CPU (target ≤ 0.5)",
                     "harmonyql": (plot["cpu_seconds"] - read["cpu_seconds"]) / read["cpu_seconds"],
                     "python": float("nan"), "unit": "×", "ratio": float("nan")})
        if "matplotlib" in size:
            mpl = size["matplotlib"]
            rows.append(row(f"plot {count:,} photons to PNG (vs matplotlib, target ≥ 30)", plot["seconds"],
                            mpl["seconds"], "s"))
            rows.append(row(f"plot {count:,} photons: CPU time (vs matplotlib)", plot["cpu_seconds"],
                            mpl["cpu_seconds"], "s"))
            rows.append(row(f"plot {count:,} photons: peak memory", plot["peak_rss_mib"], mpl["peak_rss_mib"], "MiB"))
    return {"rows": rows, "sizes": sizes, "growth": growth_table(sizes)}


def growth_table(sizes):
    lines = ["| photons | what | seconds | CPU s | peak RSS (MiB) | load |", "| --- | --- | --- | --- | --- | --- |"]
    for size in sizes:
        for name in ("hq_read", "hq_plot", "matplotlib"):
            if name in size:
                v = size[name]
                lines.append(f"| {size['photons']:,} | {name} | {v['seconds']:.3g} | {v['cpu_seconds']:.3g} "
                             f"| {v['peak_rss_mib']:.0f} | {size['load_after']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print("run through benches/compare.py --only plots", file=sys.stderr)
    sys.exit(2)
