"""No output of `hq run` and no trace log line of `hq serve --auth edl` shows a password or a bearer token.

Run here, in separate processes, rather than in the Rust test binary: a long-lived child spawned from
there inherits the binary's open HDF5 files and their locks.
"""

import base64
import json
import os
import subprocess
import urllib.request

from client_support import HQ, HqServer, RUN_TIMEOUT_S, stop

PASSWORD = "wonderland-pw-9d2"


def test_no_output_or_log_line_shows_a_password_or_a_token(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text(f"alice:{PASSWORD}\n")
    log_path = tmp_path / "serve.log"
    log_file = open(log_path, "w")
    server = HqServer(
        tmp_path / "data", ["--auth", "edl", "--users", str(users)], env={"HQ_LOG": "trace"}, log=log_file
    )
    try:
        basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(
            f"{server.url}/api/users/token", method="POST", headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, timeout=20) as answer:
            token = json.load(answer)["access_token"]
        script = 'j = subset C1000000001-HQ_LOCAL\nwait j\ncurl status j\ndownload j to "out"'
        shown = ""
        for name, value in [("EDL_USERNAME", "alice"), ("EDL_TOKEN", token)]:
            env = {k: v for k, v in os.environ.items() if k not in ("EDL_TOKEN", "EDL_USERNAME")}
            env.update({"EDL_PASSWORD": PASSWORD, name: value, "NETRC": str(tmp_path / "no-netrc")})
            done = subprocess.run(
                [str(HQ), "run", "--env", server.url, "--poll-interval", "0.2", "-e", script],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
                env=env,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "Authorization: *****" in done.stdout
            shown += done.stdout + done.stderr
    finally:
        stop(server.process)
        log_file.close()
    log = log_path.read_text()
    assert "TRACE" in log or "DEBUG" in log, "the server logged at trace level"
    for secret in (PASSWORD, token):
        assert secret not in shown + log, "a secret was shown"
