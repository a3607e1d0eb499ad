"""The reference for the `subset` measurement of compare.py: the Trajectory Subsetter's segment rule for a
bounding box, as a user would write it with h5py and numpy on one thread, file to file.

    python benches/subset_reference.py IN.h5 OUT.h5 WEST,SOUTH,EAST,NORTH   # prints {"seconds", "photons"}
    python benches/subset_reference.py --check REFERENCE.h5 HQ.h5            # every dataset equal, or exit 1

The rule (the same as tests/python/server/test_harmony_py.py's `expected_fixture_subset`, vectorised): keep
the segments whose reference photon lies in the box; each run of kept segments keeps the photons from the
first photon of its first segment with photons to the photon before the next segment with photons after the
run (or the end of the beam); `ph_index_beg` is renumbered from 1 over the kept photons (0 stays 0). Datasets
with one row per segment (per photon) are cut by segment (photon) runs; anything else is copied whole. Output
is stored like the input: gzip level 6 + shuffle, chunks of 10,000 rows.
"""

import json
import sys
import time

import h5py
import numpy as np

GZIP = dict(compression="gzip", compression_opts=6, shuffle=True)


def runs_of(mask):
    """[(start, end)] of the runs of True in `mask`."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def segment_rule(beg, inside, n_photons):
    """Segment runs, photon runs and the renumbered ph_index_beg of the kept segments."""
    segment_runs = runs_of(inside)
    with_photons = np.flatnonzero(beg > 0)
    photon_runs, new_beg, kept_before = [], [], 0
    for first, last in segment_runs:
        at = np.searchsorted(with_photons, first)
        has_photons = at < len(with_photons) and with_photons[at] < last
        offset = 0
        if has_photons:
            ph_start = int(beg[with_photons[at]]) - 1
            after = np.searchsorted(with_photons, last)
            ph_end = int(beg[with_photons[after]]) - 1 if after < len(with_photons) else n_photons
            offset = ph_start - kept_before
            photon_runs.append((ph_start, ph_end))
            kept_before += ph_end - ph_start
        part = beg[first:last]
        new_beg.append(np.where(part > 0, part - offset, 0))
    return segment_runs, photon_runs, np.concatenate(new_beg) if new_beg else np.zeros(0, np.int64)


def cut(dataset, runs):
    return np.concatenate([dataset[a:b] for a, b in runs]) if runs else dataset[:0]


def write(group, name, values, source):
    chunks = (10000,) + values.shape[1:]
    group.create_dataset(name, data=values, chunks=chunks, maxshape=(None,) * values.ndim, **GZIP)
    for key, value in source.attrs.items():
        group[name].attrs[key] = value


def subset(source_path, out_path, bbox):
    west, south, east, north = bbox
    kept = 0
    with h5py.File(source_path) as source, h5py.File(out_path, "w") as out:
        for beam in [name for name in source if name.startswith("gt")]:
            geo, heights = source[f"{beam}/geolocation"], source[f"{beam}/heights"]
            lat, lon = geo["reference_photon_lat"][:], geo["reference_photon_lon"][:]
            beg = geo["ph_index_beg"][:].astype(np.int64)
            n_segments, n_photons = len(beg), heights["h_ph"].shape[0]
            inside = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)
            segment_runs, photon_runs, new_beg = segment_rule(beg, inside, n_photons)
            if not segment_runs:
                continue
            for group_name, group, length, runs in [("geolocation", geo, n_segments, segment_runs),
                                                    ("heights", heights, n_photons, photon_runs)]:
                target = out.require_group(f"{beam}/{group_name}")
                for name, dataset in group.items():
                    if name == "ph_index_beg" and group_name == "geolocation":
                        values = new_beg
                    elif dataset.shape[:1] == (length,):
                        values = cut(dataset, runs)
                    else:
                        values = dataset[()]
                    if values.size:
                        write(target, name, values, dataset)
            for key, value in source[beam].attrs.items():
                out[beam].attrs[key] = value
            kept += sum(b - a for a, b in photon_runs)
    return kept


def check(reference_path, hq_path):
    """Every dataset the reference wrote under a beam is in hq's output with the same shape and values."""
    problems, compared = [], 0
    with h5py.File(reference_path) as reference, h5py.File(hq_path) as ours:
        def visit(name, item):
            nonlocal compared
            if not isinstance(item, h5py.Dataset):
                return
            if name not in ours:
                problems.append(f"{name}: missing from hq's output")
            elif not np.array_equal(item[()], ours[name][()]):
                problems.append(f"{name}: values differ")
            compared += 1
        reference.visititems(visit)
        beams = sorted(n for n in reference if n.startswith("gt"))
        if beams != sorted(n for n in ours if n.startswith("gt")):
            problems.append(f"beams differ: {beams}")
    if problems or compared == 0:
        raise SystemExit("subset outputs differ:\n" + "\n".join(problems or ["nothing compared"]))
    return compared


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        print(json.dumps({"datasets_equal": check(sys.argv[2], sys.argv[3])}))
    else:
        started, cpu = time.perf_counter(), time.process_time()
        photons = subset(sys.argv[1], sys.argv[2], [float(v) for v in sys.argv[3].split(",")])
        print(json.dumps({"seconds": time.perf_counter() - started, "photons": photons,
                          "cpu": time.process_time() - cpu}))
