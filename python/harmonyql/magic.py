"""`%%hq` and `%hq` for IPython and ipykernel notebooks.

    %load_ext harmonyql

    %%hq
    job = subset ATL03 bbox({box}) time(2020-04-27 .. 2020-05-28)
    wait job

One `harmonyql.Session` per IPython shell, kept across cells (environment, login, names, jobs). Outputs are the
ones our HarmonyQL kernel shows: this module only hands the native module's displays to IPython.

* **Names become Python variables.** After a cell, every name it bound is set in the notebook: a job as a
  `harmonyql.Job` (`id`, `status`, `progress`, `message`, `links`, `request`, `labels`, `document`), downloaded files
  as `list[pathlib.Path]`, result links as `list[str]`, capabilities and other Harmony answers as `dict`.
* **Python values pass in with `{name}`** (or `{name.attribute}`): a `str` goes in as written, numbers as Python
  prints them, `True`/`False` as `true`/`false`, paths and date-times as quoted strings, dates as `YYYY-MM-DD`, a
  `harmonyql.Job` as its ID, lists and tuples as their items joined by `, `. `{{` and `}}` are literal braces.
* **The stop button** stops a running `wait` or `download` (no half-written files) and the kernel stays usable;
  `wait job` follows the job again.
"""

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.display import clear_output, display

from harmonyql._errors import HarmonyQLError
from harmonyql._harmonyql import Session, expand


class _IPythonFrontEnd:
    """Where a running cell's displays go: each call is one IPython display call."""

    def __init__(self):
        self._progress = {}

    def progress(self, key, data, metadata):
        handle = self._progress.get(key)
        if handle is None:
            self._progress[key] = display(data, metadata=metadata, raw=True, display_id=True)
        else:
            handle.update(data, metadata=metadata, raw=True)

    def display(self, data, metadata):
        display(data, metadata=metadata, raw=True)

    def stdout(self, text):
        print(text, end="", flush=True)

    def stderr(self, text):
        import sys

        print(text, end="", file=sys.stderr, flush=True)

    def page(self, text):
        from IPython.core import page

        page.page(text)

    def clear(self):
        clear_output(wait=False)


@magics_class
class HarmonyQLMagics(Magics):
    """`%%hq` runs the cell as HarmonyQL, `%hq` one line; both share the shell's session."""

    def __init__(self, shell):
        super().__init__(shell)
        self.session = Session()

    def _run(self, text):
        text = expand(text, self.shell.user_ns)
        try:
            cell = self.session.run(text, _IPythonFrontEnd())
        except HarmonyQLError as error:
            self.shell.user_ns.update(error.cell.names)
            raise
        self.shell.user_ns.update(cell.names)
        return cell.value

    # IPython's own `{}` expansion (str() of the value) is off: `harmonyql.expand` gives values their HarmonyQL text.
    @no_var_expand
    @cell_magic
    def hq(self, line, cell):
        """Runs the cell as HarmonyQL (the line after `%%hq` runs first)."""
        return self._run(f"{line}\n{cell}" if line.strip() else cell)

    @no_var_expand
    @line_magic("hq")
    def hq_line(self, line):
        """Runs one line of HarmonyQL."""
        return self._run(line)


def load_ipython_extension(ipython):
    ipython.register_magics(HarmonyQLMagics)
