"""Writes a six-beam ATL03-like granule of N photons with h5py, for the `subset` measurement of compare.py.

    python benches/atl03_granule.py OUT.h5 N

Each beam (gt1l … gt3r) has the layout the Trajectory Subsetter reads: `geolocation` with one row per ~20 m
segment (delta_time, reference_photon_lat/lon, segment_ph_cnt, ph_index_beg: 1-based, 0 for segments without
photons) and `heights` with one row per photon (delta_time, lat_ph, lon_ph, h_ph, signal_conf_ph with five
columns), stored as NSIDC stores them: gzip level 6 + shuffle, chunks of 10,000 rows, resizable.
Prints the bounding box that keeps about the middle half of every beam (WEST,SOUTH,EAST,NORTH).
"""

import sys

import h5py
import numpy as np

BEAMS = ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r")
GZIP = dict(compression="gzip", compression_opts=6, shuffle=True)


def segments(rng, photons, mean):
    """Photon counts per segment summing to exactly `photons`, about one segment in twenty empty."""
    counts = rng.poisson(mean, int(photons / mean * 1.2) + 10)
    counts[rng.random(len(counts)) < 0.05] = 0
    total = np.cumsum(counts)
    last = int(np.searchsorted(total, photons))
    counts = counts[: last + 1].copy()
    counts[-1] -= int(total[last] - photons)
    return counts


def write(path, n):
    rng = np.random.default_rng(14)
    per_beam = [n // len(BEAMS) + (1 if i < n % len(BEAMS) else 0) for i in range(len(BEAMS))]
    with h5py.File(path, "w") as f:
        for index, (beam, photons) in enumerate(zip(BEAMS, per_beam)):
            strong = beam.endswith("l")
            counts = segments(rng, photons, 12.0 if strong else 3.0)
            n_seg = len(counts)
            # A track from 39°N to 41°N over the Front Range, beams 90 m (pairs) and 3.3 km apart.
            seg_lat = np.linspace(39.0, 41.0, n_seg)
            seg_lon = -105.5 + 0.03 * (index // 2) + 0.001 * (index % 2) + 0.2 * (seg_lat - 39.0)
            seg_time = 7.3e7 + (seg_lat - 39.0) * 40.0
            begins = np.where(counts > 0, np.cumsum(counts) - counts + 1, 0)
            segment_of = np.repeat(np.arange(n_seg), counts)
            jitter = rng.random(photons)
            lat = seg_lat[segment_of] + jitter * (2.0 / n_seg)
            lon = seg_lon[segment_of] + rng.normal(0.0, 1e-5, photons)
            time = seg_time[segment_of] + jitter * (80.0 / n_seg)
            signal = rng.random(photons) < 0.6
            terrain = 2500.0 + 300.0 * np.sin(lat * 40.0)
            h = (terrain + np.where(signal, rng.normal(0.0, 0.3, photons), rng.uniform(-300, 300, photons)))
            conf = np.full((photons, 5), -2, dtype=np.int8)
            conf[:, 0] = np.where(signal, rng.integers(3, 5, photons), rng.integers(0, 2, photons))
            conf[:, 3] = np.where(signal, 2, 0)
            geo = f.create_group(f"{beam}/geolocation")
            for name, values in [("delta_time", seg_time), ("reference_photon_lat", seg_lat),
                                 ("reference_photon_lon", seg_lon), ("segment_ph_cnt", counts.astype(np.int32)),
                                 ("ph_index_beg", begins.astype(np.int64))]:
                geo.create_dataset(name, data=values, chunks=(10000,), maxshape=(None,), **GZIP)
            heights = f.create_group(f"{beam}/heights")
            for name, values in [("delta_time", time), ("lat_ph", lat), ("lon_ph", lon),
                                 ("h_ph", h.astype(np.float32))]:
                heights.create_dataset(name, data=values, chunks=(10000,), maxshape=(None,), **GZIP)
            heights.create_dataset("signal_conf_ph", data=conf, chunks=(10000, 5), maxshape=(None, None), **GZIP)
            f[beam].attrs["atlas_beam_type"] = np.bytes_("strong" if strong else "weak")
    # The middle half of the track, wide enough in longitude for every beam.
    return (-106.0, 39.5, -104.0, 40.5)


if __name__ == "__main__":
    bbox = write(sys.argv[1], int(float(sys.argv[2])))
    print(",".join(str(v) for v in bbox))
