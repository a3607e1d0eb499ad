"""Installs a throw-away kernelspec for the kernel under test and points Jupyter at it.

The kernel under test is the mock kernel (`examples/mock_kernel`: the real kernel core with a mock
interpreter) unless HQ_KERNEL_ARGV names another command, for example
`HQ_KERNEL_ARGV="target/debug/hq kernel"`. The kernelspec goes into a temporary directory put at
the front of JUPYTER_PATH, so nothing is installed on the machine.
"""

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
KERNEL_NAME = "harmonyql-test"

# Statements only the mock understands (`panic`) are tested only against the mock.
USING_MOCK = not os.environ.get("HQ_KERNEL_ARGV")


def _kernel_argv() -> list[str]:
    configured = os.environ.get("HQ_KERNEL_ARGV")
    if configured:
        argv = shlex.split(configured)
        argv[0] = str((REPO / argv[0]).resolve()) if not os.path.isabs(argv[0]) else argv[0]
        return argv
    subprocess.run(
        ["cargo", "build", "--quiet", "--example", "mock_kernel"], cwd=REPO, check=True, timeout=1200
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return [str(target / "debug" / "examples" / "mock_kernel")]


def _install_kernelspec() -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="hq-jupyter-"))
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": _kernel_argv() + ["--connection-file", "{connection_file}"],
        "display_name": "HarmonyQL (test)",
        "language": "harmonyql",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(data_dir)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    )
    return data_dir


# At import time, before any TestCase.setUpClass starts a kernel.
KERNELSPEC_DATA_DIR = _install_kernelspec()
