"""Helpers and fixtures for the client tests. Starts a moto S3 server and `hq serve --stage-s3` on 127.0.0.1 (free ports, temporary directories) for
the client's end-to-end tests, and runs `hq run -e` against them. Every process is stopped at the end and
every wait is bounded.
"""

import importlib.util
import os
import pathlib
import socket
import subprocess
import sys
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


# The one `hq serve` launcher of the Python tests, from the server tests' conftest.
_spec = importlib.util.spec_from_file_location("server_conftest", ROOT / "tests" / "python" / "server" / "conftest.py")
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)
HqServer = _server.HqServer


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
