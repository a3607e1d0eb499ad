"""Installs throw-away kernelspecs for the kernels under test and points Jupyter at them.

Two kernels are tested:
- `harmonyql-mock`: the real kernel core with a mock interpreter (`examples/mock_kernel`), for
  protocol behaviours that need statements HarmonyQL does not have (sleep, panic);
- `harmonyql-hq`: the real `hq kernel` (or HQ_KERNEL_ARGV), for conformance with HarmonyQL's syntax.
The kernelspecs go into a temporary directory put at the front of JUPYTER_PATH, so nothing is
installed on the machine.
"""

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
MOCK_KERNEL = "harmonyql-mock"
HQ_KERNEL = "harmonyql-hq"
# The protocol tests run against the mock: they need statements only the mock has.
KERNEL_NAME = MOCK_KERNEL
USING_MOCK = True


def _mock_argv() -> list[str]:
    subprocess.run(["cargo", "build", "--quiet", "--example", "mock_kernel"], cwd=REPO, check=True, timeout=1200)
    return [str(TARGET / "debug" / "examples" / "mock_kernel")]


def _hq_argv() -> list[str]:
    configured = os.environ.get("HQ_KERNEL_ARGV")
    if configured:
        argv = shlex.split(configured)
        argv[0] = str((REPO / argv[0]).resolve()) if not os.path.isabs(argv[0]) else argv[0]
        return argv
    subprocess.run(["cargo", "build", "--quiet", "--bin", "hq"], cwd=REPO, check=True, timeout=1200)
    return [str(TARGET / "debug" / "hq"), "kernel"]


def _install_kernelspecs() -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="hq-jupyter-"))
    for name, argv in [(MOCK_KERNEL, _mock_argv()), (HQ_KERNEL, _hq_argv())]:
        spec_dir = data_dir / "kernels" / name
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": argv + ["--connection-file", "{connection_file}"],
            "display_name": f"HarmonyQL ({name})",
            "language": "harmonyql",
            "interrupt_mode": "message",
            # Blank is unset: the kernel starts where every front end starts without HARMONY_ROOT_URL (prod).
            "env": {"HARMONY_ROOT_URL": ""},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(data_dir)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    )
    return data_dir


# At import time, before any TestCase.setUpClass starts a kernel.
KERNELSPEC_DATA_DIR = _install_kernelspecs()
