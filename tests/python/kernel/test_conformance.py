"""jupyter_kernel_test 0.7 conformance, every sample attribute filled in: for the real `hq kernel`
in HarmonyQL's syntax, and for the kernel core with its mock interpreter.

HarmonyQL samples: `print "…"` for stdout, `warn "…"` for stderr, `help` for the pager, `url …` for
a value, `env local` for a rich display, an unclosed `bbox(` for a syntax error, `clear`.
Run: .venv/bin/python -m pytest tests/python/kernel
"""

import unittest

import jupyter_kernel_test

from conftest import HQ_KERNEL, MOCK_KERNEL


class HarmonyQLKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = HQ_KERNEL
    language_name = "harmonyql"
    file_extension = ".hq"

    code_hello_world = 'print "hello, world"'
    code_stderr = 'warn "this goes to stderr"'

    completion_samples = [
        {"text": "sub", "matches": {"subset"}},
        {"text": "subset ATL0", "matches": {"ATL03", "ATL06", "ATL07", "ATL08"}},
        {"text": 'print "été"\nwa', "matches": {"wait", "warn"}},
        {"text": "subset ATL03 bbox(-105.5, 40, -105, 41) form", "matches": {"format"}},
    ]

    complete_code_samples = ['print "hello, world"', "subset ATL03 bbox(-105.5, 40, -105, 41)", "help"]
    incomplete_code_samples = ["subset ATL03 bbox(-105.5, 40", 'print "unterminated', "subset ATL03 limit"]
    invalid_code_samples = ["subset ATL03 bbox(1, 2, 3, 4))", "subset ATL03 )"]

    code_page_something = "help subset"

    code_generate_error = "subset ATL03 bbox(1,2"

    code_execute_result = [
        # After code_display_data's `env local` (jupyter_kernel_test runs its tests in name order in one kernel).
        {"code": "url capabilities ATL03", "result": "http://localhost:3000/capabilities?shortname=ATL03"},
        {"code": "env uat\nurl jobs limit 5", "result": "https://harmony.uat.earthdata.nasa.gov/jobs?limit=5", "mime": "text/plain"},
    ]

    code_display_data = [{"code": "env local", "mime": "text/html"}, {"code": "env local", "mime": "text/plain"}]

    code_history_pattern = "url*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "subset"

    code_clear_output = "clear"


class MockKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = MOCK_KERNEL
    language_name = "harmonyql"
    file_extension = ".hq"

    code_hello_world = 'print "hello, world"'
    code_stderr = 'warn "this goes to stderr"'

    completion_samples = [
        {"text": "sub", "matches": {"subset"}},
        {"text": "subset ATL0", "matches": {"ATL03", "ATL06"}},
        {"text": 'print "été"\nwa', "matches": {"wait", "warn"}},
    ]

    complete_code_samples = ['print "hello, world"', "subset ATL03 bbox(-105.5, 40, -105, 41)", "help"]
    incomplete_code_samples = ["subset ATL03 bbox(-105.5, 40", 'print "unterminated']
    invalid_code_samples = ["subset ATL03 bbox(1, 2, 3, 4))", "subset ATL03 )"]

    code_page_something = "help"

    code_generate_error = "subset ATL03 bbox(1,2"

    code_execute_result = [{"code": "42", "result": "42"}, {"code": "2.5", "result": "2.5", "mime": "text/plain"}]

    code_display_data = [{"code": "subset ATL03 bbox(-105.5, 40, -105, 41)", "mime": "text/html"}]

    code_history_pattern = "4*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "subset"

    code_clear_output = "clear"


if __name__ == "__main__":
    unittest.main()
