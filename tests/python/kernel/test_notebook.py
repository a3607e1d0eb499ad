"""A notebook executed headlessly with nbclient keeps the final state of every progress display,
its errors, and language_info: what a saved, executed tutorial shows.
"""

import nbformat
from nbclient import NotebookClient

from conftest import KERNEL_NAME


def test_executed_notebook_keeps_final_progress_and_language_info():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "HarmonyQL (test)", "language": "harmonyql"}
    nb.cells = [
        nbformat.v4.new_code_cell('print "hello, world"'),
        nbformat.v4.new_code_cell("subset ATL03 bbox(-105.5, 40, -105, 41)"),
        nbformat.v4.new_code_cell("42"),
        nbformat.v4.new_code_cell("subset ATL03 bbox(1,2"),
    ]
    NotebookClient(nb, timeout=60, startup_timeout=60, allow_errors=True).execute()

    assert nb.metadata["language_info"]["name"] == "harmonyql"
    assert nb.metadata["language_info"]["file_extension"] == ".hq"
    hello, progress, value, error = (cell.outputs for cell in nb.cells)
    assert [o["text"] for o in hello] == ["hello, world\n"]
    assert len(progress) == 1, "one display, updated in place"
    assert progress[0]["output_type"] == "display_data"
    assert progress[0]["data"]["text/plain"] == "ATL03: 100%"
    assert 'value="100"' in progress[0]["data"]["text/html"]
    assert value[0]["output_type"] == "execute_result"
    assert value[0]["data"]["text/plain"] == "42"
    assert [o["output_type"] for o in error] == ["error"]
    assert error[0]["ename"] == "ParseError"
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4]
