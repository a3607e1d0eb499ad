"""The real `hq kernel` against a real `hq serve`, driven through jupyter_client: login with the password
over stdin (`password: true`), completion and inspection from the server's catalog with code-point
cursors, interrupt under a real `wait`, a forged message, and a syntax error with the caret."""

import importlib.util
import json
import pathlib
import re
import time
import urllib.request
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

from conftest import HQ_KERNEL

_spec = importlib.util.spec_from_file_location(
    "server_conftest", pathlib.Path(__file__).resolve().parents[1] / "server" / "conftest.py"
)
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)

TIMEOUT = 60
PASSWORD = "wonder-land-42"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def hq_kernel():
    km, kc = start_new_kernel(kernel_name=HQ_KERNEL, startup_timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def server(tmp_path):
    server = _server.HqServer(tmp_path / "data")
    yield server
    server.stop()


@pytest.fixture
def edl_server(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text(f"alice:{PASSWORD}\n")
    server = _server.HqServer(tmp_path / "data", extra_args=("--auth", "edl", "--users", str(users)))
    yield server
    server.stop()


def reply_to(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def outputs_until_idle(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return outputs
            continue
        outputs.append(msg)


def run(kc, code, **kwargs):
    msg_id = kc.execute(code, **kwargs)
    reply = reply_to(kc, msg_id)
    return reply, outputs_until_idle(kc, msg_id)


def test_login_reads_the_password_over_stdin_hidden_and_a_submission_then_works(hq_kernel, edl_server):
    _, kc = hq_kernel
    reply, _ = run(kc, f"env {edl_server.url}")
    assert reply["content"]["status"] == "ok"
    reply, _ = run(kc, "jobs")
    assert reply["content"]["status"] == "error", "the server must refuse before login"
    msg_id = kc.execute("login user alice", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=TIMEOUT)
    assert request["msg_type"] == "input_request"
    assert request["content"]["password"] is True
    assert request["content"]["prompt"] == "Password for alice at 127.0.0.1: "
    assert request["parent_header"]["msg_id"] == msg_id
    kc.input(PASSWORD)
    reply = reply_to(kc, msg_id)
    outputs = outputs_until_idle(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    texts = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert "as user alice: checked" in texts
    reply, outputs = run(kc, "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)")
    assert reply["content"]["status"] == "ok", reply["content"]
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert results and UUID.search(results[0]["content"]["data"]["text/plain"]), outputs
    msg_id = kc.history(hist_access_type="tail", n=10)
    history = reply_to(kc, msg_id)
    everything = json.dumps(history["content"]) + json.dumps([m["content"] for m in outputs])
    assert PASSWORD not in everything


def test_a_wrong_password_is_refused_clearly(hq_kernel, edl_server):
    _, kc = hq_kernel
    run(kc, f"env {edl_server.url}")
    msg_id = kc.execute("login user alice", allow_stdin=True)
    kc.get_stdin_msg(timeout=TIMEOUT)
    kc.input("not-it")
    reply = reply_to(kc, msg_id)
    outputs_until_idle(kc, msg_id)
    assert reply["content"]["status"] == "error"
    assert "Earthdata Login refused user alice" in reply["content"]["evalue"]
    assert "not-it" not in json.dumps(reply["content"])


def complete(kc, code, cursor=None):
    msg_id = kc.complete(code, len(code) if cursor is None else cursor)
    return reply_to(kc, msg_id)["content"]


def test_completion_offers_the_servers_collections_and_a_collections_variables(hq_kernel, server):
    _, kc = hq_kernel
    run(kc, f"env {server.url}")
    # A non-ASCII line before the statement: cursors are code points, not bytes.
    prefix = 'print "café ☕"\n'
    code = prefix + "subset AT"
    reply = complete(kc, code)
    assert reply["status"] == "ok"
    assert "ATL03" in reply["matches"] and "ATL03_GT1L" in reply["matches"], reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (len(prefix) + 7, len(code))
    reply = complete(kc, prefix + "subset C2596")
    assert reply["matches"] == ["C2596864127-NSIDC_CPRD"], reply["matches"]

    code = prefix + "subset ATL03 vars(/gt1l/heights/h"
    started = time.monotonic()
    reply = complete(kc, code)
    assert time.monotonic() - started < 5
    assert "/gt1l/heights/h_ph" in reply["matches"], reply["matches"]
    assert all(m.startswith("/gt1l/heights/h") for m in reply["matches"]), reply["matches"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (code.index("/gt1l"), len(code))

    msg_id = kc.inspect("subset ATL03 bbox(1, 2, 3, 4)", 9)
    inspected = reply_to(kc, msg_id)["content"]
    assert inspected["found"] is True
    assert "sds/trajectory-subsetter" in inspected["data"]["text/plain"], inspected["data"]


def test_completion_against_an_unreachable_server_falls_back_quickly(hq_kernel):
    _, kc = hq_kernel
    run(kc, "env http://127.0.0.1:9")
    started = time.monotonic()
    reply = complete(kc, "subset AT")
    assert time.monotonic() - started < 3
    assert "ATL03" in reply["matches"]


def job_status(server, job_id):
    with urllib.request.urlopen(f"{server.url}/jobs/{job_id}", timeout=10) as response:
        return json.load(response)


def test_interrupt_stops_a_real_wait_within_a_second_and_the_job_goes_on(hq_kernel, tmp_path):
    km, kc = hq_kernel
    slow = _server.HqServer(tmp_path / "slow", extra_args=("--scale", "40"))
    try:
        run(kc, f"env {slow.url}")
        reply, _ = run(kc, "job = subset ATL03")
        assert reply["content"]["status"] == "ok", reply["content"]
        # `wait` polls at once, then every 3 s: at scale 40 the job is still running at the first poll, so
        # an interrupt 1 s later lands in a real wait, between polls.
        msg_id = kc.execute("wait job")
        time.sleep(1.0)
        started = time.monotonic()
        km.interrupt_kernel()
        reply = reply_to(kc, msg_id, timeout=10)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"interrupt took {elapsed:.2f} s"
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "Interrupted"
        evalue = reply["content"]["evalue"]
        assert evalue.startswith("interrupted: "), evalue
        job_id = UUID.search(evalue).group(0)
        assert f"wait {job_id}" in evalue, "the message says how to follow the job again"
        outputs_until_idle(kc, msg_id)
        status = job_status(slow, job_id)
        assert status["status"] in ("running", "accepted", "successful"), status
        reply, _ = run(kc, "url capabilities ATL03")
        assert reply["content"]["status"] == "ok", "the next cell runs"
    finally:
        slow.stop()


def test_a_forged_message_is_ignored_by_the_real_kernel(hq_kernel):
    _, kc = hq_kernel
    forged = Session(key=b"not-the-kernel-key", username="intruder")
    bad = forged.msg("execute_request", content={
        "code": 'print "forged"', "silent": False, "store_history": True,
        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
    })
    forged.send(kc.shell_channel.socket, bad)
    with pytest.raises(Empty):
        while True:
            msg = kc.get_shell_msg(timeout=1.0)
            assert msg["parent_header"].get("msg_id") != bad["header"]["msg_id"], "the kernel answered a forged message"
    reply, outputs = run(kc, 'print "genuine"')
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["genuine\n"]
    assert reply["content"]["execution_count"] == 1, "the forged cell must not have counted"


def test_a_syntax_error_in_the_real_kernel_is_one_error_with_the_caret(hq_kernel):
    _, kc = hq_kernel
    reply, outputs = run(kc, "subset ATL03 bbox(1,2")
    assert [m["msg_type"] for m in outputs] == ["execute_input", "error"]
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "SyntaxError"
    traceback = outputs[1]["content"]["traceback"]
    assert reply["content"]["traceback"] == traceback
    # Without the colours: the caret stands under the open parenthesis that is never closed.
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in traceback]
    source = next(i for i, line in enumerate(plain) if line.endswith("subset ATL03 bbox(1,2"))
    assert plain[source + 1].index("^") == plain[source].index("("), plain


def test_pasted_junk_cells_get_an_error_and_the_real_kernel_lives_on(hq_kernel):
    """10,000 `(` once overflowed the parser's stack and killed the kernel (on execute and on
    is_complete); 3,999 errors in 32 KB printed ~190 MB; a 20 MB cell took gigabytes."""
    _, kc = hq_kernel
    deep = "subset ATL03 bbox" + "(" * 10_000
    msg_id = kc.is_complete(deep)
    assert reply_to(kc, msg_id)["content"]["status"] == "invalid"
    cells = [
        (deep, "too-deep"),
        (deep + ")" * 10_000, "too-deep"),
        ("subset ATL03 " + "limit 1 " * 4_000, "duplicate-clause"),
        ("subset ATL03 " + "limit 1 " * 2_500_000, "cell-too-large"),
    ]
    for code, expected in cells:
        reply, outputs = run(kc, code)
        assert reply["content"]["status"] == "error", expected
        errors = [m for m in outputs if m["msg_type"] == "error"]
        assert len(errors) == 1, expected
        traceback = "\n".join(errors[0]["content"]["traceback"])
        assert f"[{expected}]" in re.sub(r"\x1b\[[0-9;]*m", "", traceback), traceback[:500]
        assert len(traceback) < 64 * 1024, f"{expected}: {len(traceback)} characters of traceback"
    reply, outputs = run(kc, 'print "still here"')
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["still here\n"]


def test_a_fresh_kernel_starts_where_hq_and_the_python_module_start(hq_kernel):
    """One rule for every front end (harmony::starting): HARMONY_ROOT_URL, else prod. The test kernelspec blanks
    the variable, so a fresh kernel's first cell is on prod, as `hq url` is."""
    _, kc = hq_kernel
    reply, outputs = run(kc, "url capabilities ATL03")
    assert reply["content"]["status"] == "ok"
    results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
    assert results == ["https://harmony.earthdata.nasa.gov/capabilities?shortname=ATL03"], results
