"""benches/common.py's `measured`, which every comparison runs its children through: a failing child must end
the benchmark with the child's own error, even when something it started outlives it."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benches"))
from common import measured  # noqa: E402

# Starts a process in a session of its own (as jupyter_client starts a kernel) that inherits stdout and
# stderr and outlives its parent, then fails.
LEAVES_AN_ORPHAN = """
import subprocess, sys
print(subprocess.Popen(["sleep", "31.4159"], start_new_session=True).pid, flush=True)
sys.exit("the child failed on purpose")
"""


def test_a_failing_child_is_reported_with_its_stderr_though_an_orphan_holds_its_outputs():
    started = time.monotonic()
    with pytest.raises(SystemExit) as failure:
        measured([sys.executable, "-c", LEAVES_AN_ORPHAN])
    # Before: the pipes were read to their end on non-daemon threads, so the orphan kept the interpreter
    # from exiting (a CI run waited 90 minutes on an orphaned kernel), and the stderr arrived empty.
    assert time.monotonic() - started < 10
    assert "the child failed on purpose" in str(failure.value)
    subprocess.run(["pkill", "-f", "^sleep 31.4159$"], check=False)


def test_a_successful_child_gives_its_stdout_time_and_peak_memory():
    seconds, peak_mib, out, cpu = measured([sys.executable, "-c", "print('hello')"], cpu=True)
    assert out == "hello\n"
    assert 0 < seconds < 30 and peak_mib > 1 and cpu >= 0
