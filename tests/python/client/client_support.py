"""Helpers and fixtures for the client tests. Starts a moto S3 server and `hq serve --stage-s3` on 127.0.0.1 (free ports, temporary directories) for
the client's end-to-end tests, and runs `hq run -e` against them. Every process is stopped at the end and
every wait is bounded.
"""

import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HQ = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "hq"
BUCKET = "harmony-local-staging"
START_TIMEOUT_S = 30
RUN_TIMEOUT_S = 180
# Keys of the staging server; moto accepts any, hq serve hands them out from /cloud-access.
S3_ENV = {"AWS_ACCESS_KEY_ID": "hqtestkeyid", "AWS_SECRET_ACCESS_KEY": "hq-test-secret-key-never-shown"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_url():
    """moto's S3 server (pip `moto[server]`) on a free loopback port, with the staging bucket."""
    port = free_port()
    moto = pathlib.Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop(process)
                pytest.fail("moto_server did not start", pytrace=False)
            time.sleep(0.2)
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-west-2", **{k.lower(): v for k, v in S3_ENV.items()})
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    yield url
    stop(process)


class HqServer:
    """`hq serve --port 0` on a temporary data directory; `url` once it listens."""

    def __init__(self, data_dir: pathlib.Path, extra_args=(), env=None, log=None):
        if not HQ.is_file():
            pytest.fail(f"{HQ} is missing: run `cargo build` first", pytrace=False)
        self.process = subprocess.Popen(
            [str(HQ), "serve", "--port", "0", "--data-dir", str(data_dir), *extra_args],
            stdout=subprocess.PIPE,
            # A busy log goes to a file: a full pipe nobody reads would stall the server.
            stderr=log if log is not None else subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
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
            stop(self.process)
            pytest.fail("hq serve did not start", pytrace=False)
        self.url = found["url"]


@pytest.fixture(scope="session")
def staged_server(moto_url, tmp_path_factory):
    """`hq serve --stage-s3 MOTO`: results are also in moto's bucket, `/cloud-access` gives its keys."""
    server = HqServer(tmp_path_factory.mktemp("hq-data"), ["--stage-s3", moto_url], env=S3_ENV)
    yield server
    stop(server.process)


def hq_run(env_url: str, script: str, cwd: pathlib.Path, env=None) -> subprocess.CompletedProcess:
    """`hq run --env URL -e SCRIPT` in `cwd`, bounded, with the output checked for success."""
    done = subprocess.run(
        [str(HQ), "run", "--env", env_url, "--poll-interval", "0.2", "-e", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done
