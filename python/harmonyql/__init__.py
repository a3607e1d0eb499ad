"""HarmonyQL for Python: subset and fetch NASA Earthdata through Harmony with one line.

    pip install harmonyql          # also installs the `hq` command and the HarmonyQL Jupyter kernel

In an IPython or Jupyter (ipykernel) notebook::

    %load_ext harmonyql
    %%hq
    job = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)
    wait job
    files = download job to "downloads"

In a script::

    import harmonyql
    hq = harmonyql.Session(env="prod")
    cell = hq.run("capabilities ATL03")
    photons = harmonyql.read_photons(path, "gt1l")     # a pandas DataFrame (a dict of NumPy arrays without pandas)

Everything runs in the native module `harmonyql._harmonyql` (the same Rust evaluator, renderers and readers as
`hq` and the kernel); this package only connects it to IPython and Pygments.
"""

from harmonyql._errors import HarmonyQLError
from harmonyql._harmonyql import (
    Cell,
    Job,
    Output,
    Session,
    __version__,
    expand,
    keywords,
    read_photons,
    read_raster,
)

__all__ = [
    "Cell",
    "HarmonyQLError",
    "Job",
    "Output",
    "Session",
    "__version__",
    "expand",
    "keywords",
    "load_ipython_extension",
    "read_photons",
    "read_raster",
]


def load_ipython_extension(ipython):
    """`%load_ext harmonyql`: registers the `%%hq` cell magic and the `%hq` line magic."""
    from harmonyql.magic import load_ipython_extension as load

    load(ipython)
