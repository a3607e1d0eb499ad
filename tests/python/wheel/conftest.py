"""Builds the `harmonyql` wheel with scripts/wheel.sh and installs it into a fresh venv, as a user without Rust would.

The wheel is built once per session (HQ_WHEEL_PROFILE, default `dev`: the debug build `cargo test` already made, so
CI does not compile every dependency again in release mode; HQ_WHEEL=path skips the build and tests that wheel).
The fresh venv gets the wheel with `pip install --no-deps --no-index`: tests never touch the network, so the wheel's
dependencies (numpy; ipykernel, nbclient, xarray, pandas for the notebooks) come from the venv running the tests,
through a .pth file that puts its site-packages *after* the fresh venv's own (the wheel's files always win).
Commands run with a PATH of the fresh venv's bin/ and the system directories only, none holding cargo or rustc.
"""

import importlib.util
import os
import pathlib
import shutil
import site
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
# Building hq and the extension in a debug profile on two shared cores, from a warm target/: a few minutes.
BUILD_TIMEOUT_S = 1500


@pytest.fixture(scope="session")
def wheel() -> pathlib.Path:
    given = os.environ.get("HQ_WHEEL")
    if given:
        return pathlib.Path(given)
    env = dict(os.environ, HQ_WHEEL_PROFILE=os.environ.get("HQ_WHEEL_PROFILE", "dev"), PYTHON=sys.executable)
    started = time.monotonic()
    run = subprocess.run(
        ["bash", "scripts/wheel.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    assert run.returncode == 0, f"scripts/wheel.sh failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    built = pathlib.Path(ROOT, run.stdout.strip().splitlines()[-1])
    print(f"\nwheel {built.name}: {built.stat().st_size / 1e6:.1f} MB, built in {time.monotonic() - started:.0f} s")
    return built


class FreshVenv:
    """A venv with only the wheel installed in it, and the environment to run its commands in."""

    def __init__(self, root: pathlib.Path, wheel: pathlib.Path):
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
        self.bin = root / "bin"
        self.python = self.bin / "python"
        purelib = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
        self.site_packages = pathlib.Path(purelib)
        started = time.monotonic()
        subprocess.run(
            [str(self.bin / "pip"), "install", "--no-deps", "--no-index", str(wheel)],
            check=True, capture_output=True, timeout=300,
        )
        self.install_seconds = time.monotonic() - started
        print(f"\ninstalled {wheel.name} in {self.install_seconds:.1f} s")
        dependencies = [p for p in site.getsitepackages() if pathlib.Path(p).is_dir()]
        (self.site_packages / "zz_test_dependencies.pth").write_text("\n".join(dependencies) + "\n")
        self.path = os.pathsep.join([str(self.bin), "/usr/local/bin", "/usr/bin", "/bin"])
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_DATA_DIR", "HQ_BIN"}
        }
        self.env.update(PATH=self.path, VIRTUAL_ENV=str(root), HDF5_USE_FILE_LOCKING="FALSE")
        for tool in ("cargo", "rustc", "rustup"):
            assert shutil.which(tool, path=self.path) is None, f"{tool} is on the fresh venv's PATH"

    def run(self, *args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
        env = dict(self.env, **kwargs.pop("env", {}))
        return subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
        )


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> FreshVenv:
    return FreshVenv(tmp_path_factory.mktemp("fresh") / "venv", wheel)


# The one `hq serve` starter of the Python tests (tests/python/server/conftest.py), run with the wheel's `hq`.
_spec = importlib.util.spec_from_file_location("server_conftest", ROOT / "tests" / "python" / "server" / "conftest.py")
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)


@pytest.fixture(scope="session")
def server(venv, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hq-serve")
    with (directory / "hq-serve.log").open("w+") as log:
        running = _server.HqServer(directory / "data", env=venv.env, log=log, hq=venv.bin / "hq")
        yield running
        running.stop()
