"""HarmonyQL's parallel chunk decoding (crates/data/src/chunked.rs) against h5py on files h5py writes with every
storage the decoder meets or hands back to HDF5: gzip with and without shuffle, shuffle alone, partial last chunks,
chunks never written (the fill value), `_FillValue` masking, and filters it does not decode (Fletcher-32,
scale-offset) or types it leaves to HDF5 (big-endian). `hq run -e 'export …'` writes CSV; every cell must be what
h5py reads.

Needs the `hq` binary (`cargo build`).
"""

import h5py
import numpy as np

from test_exports import check_group, export, hq, read_csv  # noqa: F401  (hq is a fixture)

ROWS = 25_003  # chunks of 1,000 rows: the last one holds 3


def write_edge_cases(path):
    rng = np.random.default_rng(3)
    # Whole microseconds, like ATLAS times: the CSV's UTC column rounds to µs, and a tie would round half to
    # even in numpy but away from zero in Rust.
    t = np.round((7.3e7 + np.cumsum(rng.exponential(1e-4, ROWS))) * 1e6) / 1e6
    h = (2000 + 50 * np.sin(np.arange(ROWS) / 300) + rng.normal(0, 0.5, ROWS)).astype(np.float32)
    with h5py.File(path, "w") as f:
        g = f.create_group("edge")
        chunked = dict(chunks=(1000,), maxshape=(None,))
        g.create_dataset("delta_time", data=t, compression="gzip", shuffle=True, **chunked)
        g.create_dataset("h_gzip", data=h, compression="gzip", **chunked)
        g.create_dataset("h_shuffle", data=h, shuffle=True, **chunked)
        g.create_dataset("h_plain", data=h, **chunked)
        conf = rng.integers(-2, 5, (ROWS, 5)).astype(np.int8)
        g.create_dataset("signal_conf_ph", data=conf, chunks=(1000, 5), maxshape=(None, None), compression="gzip",
                         shuffle=True)
        counts = rng.integers(0, 60000, ROWS).astype(np.uint16)
        counts[::7] = 65535
        d = g.create_dataset("counts", data=counts, compression="gzip", shuffle=True, **chunked)
        d.attrs["_FillValue"] = np.uint16(65535)
        # Only some chunks are ever written: the rest read as the fill value, which `_FillValue` masks.
        sparse = g.create_dataset("sparse", shape=(ROWS,), dtype=np.float32, fillvalue=-9999.0,
                                  compression="gzip", shuffle=True, **chunked)
        sparse.attrs["_FillValue"] = np.float32(-9999.0)
        sparse[0:1000] = h[0:1000]
        sparse[4200:4300] = h[4200:4300]
        sparse[25_001:] = h[25_001:]
        g.create_dataset("checksummed", data=t, compression="gzip", shuffle=True, fletcher32=True, **chunked)
        g.create_dataset("scaled", data=(h * 100).astype(np.int32), scaleoffset=0, **chunked)
        g.create_dataset("big_endian", data=t.astype(">f8"), compression="gzip", shuffle=True, **chunked)


def test_every_storage_exports_what_h5py_reads(hq, tmp_path):  # noqa: F811
    source = tmp_path / "edge.h5"
    write_edge_cases(source)
    out = tmp_path / "edge.csv"
    printed = export(hq, f'export "{source}" group edge to "{out}"')
    assert f"exported {ROWS} rows" in printed
    # delta_time, three heights, five confidence columns, counts, sparse and the three fallbacks.
    assert check_group(source, "edge", out) == 14
    header, rows = read_csv(out)
    sparse = [h.split(" (")[0] for h in header].index("sparse")
    written = sum(1 for row in rows if row[sparse] != "")
    assert written == 1000 + 100 + 2
