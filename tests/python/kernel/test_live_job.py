"""The real `hq kernel` driving a real job on `hq serve`: progress arrives as one display updated in
place and ends at 100%, the job is the cell's value, and a download lands."""

import importlib.util
import pathlib

from jupyter_client.manager import start_new_kernel

from conftest import HQ_KERNEL

_spec = importlib.util.spec_from_file_location(
    "server_conftest", pathlib.Path(__file__).resolve().parents[1] / "server" / "conftest.py"
)
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)


def run(kc, code, timeout=120):
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    outputs = []
    while True:
        message = kc.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
        outputs.append(message)
    return reply, outputs


def test_wait_shows_live_progress_that_ends_at_100(tmp_path):
    server = _server.HqServer(tmp_path / "data")
    km, kc = start_new_kernel(kernel_name=HQ_KERNEL, startup_timeout=60)
    try:
        reply, _ = run(kc, f"env {server.url}")
        assert reply["content"]["status"] == "ok"
        reply, outputs = run(kc, "job = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)\nwait job")
        assert reply["content"]["status"] == "ok", reply["content"]
        displays = [m for m in outputs if m["msg_type"] == "display_data" and m["content"]["transient"].get("display_id")]
        updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
        assert len(displays) == 1, [m["msg_type"] for m in outputs]
        display_id = displays[0]["content"]["transient"]["display_id"]
        assert updates and all(m["content"]["transient"]["display_id"] == display_id for m in updates)
        final = updates[-1]["content"]["data"]
        assert "successful 100%" in final["text/plain"], final["text/plain"]
        assert '<progress value="100"' in final["text/html"]
        result = [m for m in outputs if m["msg_type"] == "execute_result"]
        assert result and "successful" in result[0]["content"]["data"]["text/plain"]
        target = tmp_path / "files"
        reply, outputs = run(kc, f'download job to "{target}"')
        assert reply["content"]["status"] == "ok", reply["content"]
        assert len(list(target.glob("*_ATL03_20200427193622_04930702_006_02_subsetted.h5"))) == 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        server.stop()
