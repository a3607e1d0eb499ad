"""Starts `target/debug/hq serve --port 0` on a temporary data directory and points real harmony-py at it.

Only ROOT_URL changes: everything else is harmony-py 1.8.0 as users run it.
"""

import os
import pathlib
import re
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HQ = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "hq"
START_TIMEOUT_S = 20


class HqServer:
    """A running `hq serve` process and its URL. Its log goes to `log` (a file) or a temporary file: a pipe
    nobody reads would stall a busy server."""

    def __init__(self, data_dir: pathlib.Path, extra_args=(), env=None, log=None, hq: pathlib.Path = HQ):
        """`hq` is the binary to run: the debug build by default, the wheel's own for the wheel tests (which pass
        their fresh venv's whole environment as `env`)."""
        if not hq.is_file():
            pytest.fail(f"{hq} is missing: run `cargo build` first", pytrace=False)
        self.data_dir = data_dir
        self.log = log if log is not None else tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [str(hq), "serve", "--port", "0", "--data-dir", str(data_dir), *extra_args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.url = self._read_url()
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read_url(self) -> str:
        found = {}

        def read():
            for line in self.process.stdout:
                match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if match:
                    found["url"] = match.group(1)
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if "url" not in found:
            self.stop()
            self.log.seek(0)
            pytest.fail(f"hq serve did not start: {self.log.read()[:2000]}", pytrace=False)
        return found["url"]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def hq_server(tmp_path_factory):
    server = HqServer(tmp_path_factory.mktemp("hq-data"), ["--preview-threshold", "2"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(hq_server):
    """harmony-py's Client, unchanged except for ROOT_URL (its documented override)."""
    os.environ["ROOT_URL"] = hq_server.url
    from harmony import Client

    # check_interval is a public constructor argument; 0.2 s keeps the suite fast.
    return Client(check_interval=0.2)
