"""What jupyter_kernel_test does not cover, driven through jupyter_client's KernelManager:
interrupt, update_display_data, password input over stdin, stop_on_error, restart and shutdown, on the
kernel core (the bad-signature and syntax-error tests run against the real kernel in test_hq_live.py).

Uses the same kernelspec as test_conformance.py (see conftest.py). Besides the conformance samples,
these tests use `wait MS` (an interruptible wait), `login` (password over stdin) and `set NAME VALUE` /
`get NAME` (state across cells); a real HarmonyQL kernel needs equivalents of those.
"""

import os
import select
import signal
import subprocess
import sys
import time
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from conftest import KERNEL_NAME, USING_MOCK

TIMEOUT = 15


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def outputs_until_idle(kc, msg_id, timeout=TIMEOUT):
    """The iopub messages caused by msg_id, up to (excluding) its idle status."""
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


def reply_to(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def run(kc, code, **kwargs):
    msg_id = kc.execute(code, **kwargs)
    reply = reply_to(kc, msg_id)
    return reply, outputs_until_idle(kc, msg_id)


def test_interrupt_stops_a_wait_within_a_second_and_the_kernel_stays_usable(kernel):
    km, kc = kernel
    run(kc, "set region colorado")
    msg_id = kc.execute("wait 30000")
    time.sleep(0.5)
    started = time.monotonic()
    km.interrupt_kernel()
    reply = reply_to(kc, msg_id, timeout=5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"interrupt took {elapsed:.2f} s"
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "Interrupted"
    outputs_until_idle(kc, msg_id)
    reply, outputs = run(kc, "get region")
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"] == [
        "colorado"
    ]


def test_progress_is_one_display_updated_in_place_ending_at_100_percent(kernel):
    _, kc = kernel
    _, outputs = run(kc, "subset ATL03 bbox(-105.5, 40, -105, 41)")
    displays = [m for m in outputs if m["msg_type"] == "display_data"]
    updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
    assert len(displays) == 1
    display_id = displays[0]["content"]["transient"]["display_id"]
    assert updates, "no update_display_data"
    assert {u["content"]["transient"]["display_id"] for u in updates} == {display_id}
    assert updates[-1]["content"]["data"]["text/plain"] == "ATL03: 100%"
    assert "<script" not in updates[-1]["content"]["data"]["text/html"]
    assert len(updates) <= 2, "five updates within 100 ms must be coalesced"


def test_password_input_goes_through_stdin_and_is_never_echoed(kernel):
    _, kc = kernel
    msg_id = kc.execute("login", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=TIMEOUT)
    assert request["msg_type"] == "input_request"
    assert request["content"] == {"prompt": "Earthdata password: ", "password": True}
    assert request["parent_header"]["msg_id"] == msg_id
    kc.input("s3cret-pw")
    reply = reply_to(kc, msg_id)
    outputs = outputs_until_idle(kc, msg_id)
    assert reply["content"]["status"] == "ok"
    texts = [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"]
    assert texts == ["logged in (password of 9 characters)\n"]
    assert all("s3cret" not in str(m["content"]) for m in outputs)


def test_input_without_allow_stdin_fails_cleanly(kernel):
    _, kc = kernel
    reply, _ = run(kc, "login", allow_stdin=False)
    assert reply["content"]["status"] == "error"
    assert "allow_stdin" in reply["content"]["evalue"]


def test_stop_on_error_aborts_cells_queued_behind_a_failure(kernel):
    _, kc = kernel
    failing = kc.execute("wait 300\nget undefined_name")
    queued = kc.execute('print "should not run"')
    assert reply_to(kc, failing)["content"]["status"] == "error"
    assert reply_to(kc, queued)["content"]["status"] == "aborted"
    later, outputs = run(kc, 'print "runs again"')
    assert later["content"]["status"] == "ok"
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["runs again\n"]


@pytest.mark.skipif(not USING_MOCK, reason="only the mock interpreter can be asked to panic")
def test_a_panic_becomes_an_error_reply_and_state_survives(kernel):
    _, kc = kernel
    run(kc, "set collection ATL03")
    reply, outputs = run(kc, "panic")
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "InternalError"
    assert [m["msg_type"] for m in outputs].count("error") == 1
    reply, outputs = run(kc, "get collection")
    assert [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"] == ["ATL03"]


def test_restart_gives_a_fresh_kernel_that_counts_from_one(kernel):
    km, kc = kernel
    run(kc, "42")
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    reply, _ = run(kc, "42")
    assert reply["content"]["execution_count"] == 1


def test_shutdown_request_ends_the_process():
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=60)
    try:
        msg_id = kc.shutdown()
        reply = kc.get_control_msg(timeout=TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"] == {"status": "ok", "restart": False}
        deadline = time.monotonic() + 5
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not km.is_alive(), "the kernel process is still running after shutdown_reply"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# A client that starts the kernel, leaves a cell running, prints the kernel's pid and then waits to be killed.
ORPHANING_CLIENT = r"""
import sys, time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=60)
kc.execute("wait 30000")
print(km.provisioner.process.pid, flush=True)
time.sleep(120)
"""


def _running(pid):
    """True while pid is a live process (an unreaped zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_kernel_whose_client_is_killed_exits_instead_of_living_on():
    # jupyter_client starts kernels in their own session with JPY_PARENT_PID set; ipykernel polls its parent
    # and exits when it is gone. A client killed with -9 (a crashed Jupyter server, an OOM kill) never sends
    # shutdown_request, so a kernel that does not poll runs on forever, holding its ports and the pipes it
    # inherited (a CI run once waited 90 minutes on one).
    client = subprocess.Popen([sys.executable, "-c", ORPHANING_CLIENT, KERNEL_NAME], stdout=subprocess.PIPE,
                              text=True)
    pid = None
    try:
        ready, _, _ = select.select([client.stdout], [], [], 60)
        assert ready, "the client did not start the kernel within 60 s"
        pid = int(client.stdout.readline())
        assert _running(pid)
        client.kill()
        client.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(pid), "the kernel is still running 10 s after its client was killed"
    finally:
        client.kill()
        client.wait(timeout=10)
        if pid is not None and _running(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigint_interrupts_the_running_cell_instead_of_killing_the_kernel(kernel):
    km, kc = kernel
    msg_id = kc.execute("wait 30000")
    time.sleep(0.5)
    started = time.monotonic()
    km.signal_kernel(signal.SIGINT)
    reply = reply_to(kc, msg_id, timeout=5)
    assert time.monotonic() - started < 1.0
    assert reply["content"]["ename"] == "Interrupted"
    outputs_until_idle(kc, msg_id)
    assert km.is_alive()
    reply, _ = run(kc, 'print "still here"')
    assert reply["content"]["status"] == "ok"
