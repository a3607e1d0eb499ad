"""The client end to end against `hq serve`: direct S3 downloads (moto standing in for AWS us-west-2)
give the same bytes as the https ones, and `hq` downloads a job to the same file names and bytes as
harmony-py's `download_all`.
"""

import os
import pathlib

from client_support import S3_ENV, hq_run

ATL03_GT1L = "C1000000001-HQ_LOCAL"
TUTORIAL = "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)"


def files_in(directory: pathlib.Path) -> dict:
    """Name → bytes of the complete files in a directory (partial downloads are hidden `.hq-part` files)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and not p.name.startswith(".")}


def test_s3_links_download_directly_and_match_the_https_files(staged_server, moto_url, tmp_path):
    script = f"""j = {TUTORIAL}
wait j
results j s3
download j to "https"
download j s3 to "s3"
"""
    # The client reaches the S3-compatible server through the standard AWS_ENDPOINT_URL variable.
    done = hq_run(staged_server.url, script, tmp_path, env={"AWS_ENDPOINT_URL": moto_url})
    assert "s3://harmony-local-staging/public/" in done.stdout, done.stdout
    over_https, over_s3 = files_in(tmp_path / "https"), files_in(tmp_path / "s3")
    assert over_https, done.stdout
    assert over_s3 == over_https
    for secret in S3_ENV.values():
        if "secret" in secret:
            assert secret not in done.stdout + done.stderr


def test_hq_and_harmony_py_download_the_same_files(staged_server, tmp_path):
    os.environ["ROOT_URL"] = staged_server.url
    from harmony import Client, Collection, Request

    client = Client(check_interval=0.2)
    job_id = client.submit(Request(collection=Collection(id=ATL03_GT1L)))
    client.wait_for_processing(job_id)
    by_python = tmp_path / "harmony-py"
    by_python.mkdir()
    for future in client.download_all(job_id, directory=str(by_python)):
        future.result(timeout=120)
    hq_run(staged_server.url, f'download {job_id} to "hq"', tmp_path)
    python_files, hq_files = files_in(by_python), files_in(tmp_path / "hq")
    assert python_files, "harmony-py downloaded nothing"
    assert sorted(hq_files) == sorted(python_files), "the same names (harmony-py's <workItemId>_<file> rule)"
    assert hq_files == python_files, "identical bytes"
