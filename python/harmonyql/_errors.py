"""The exception a failing HarmonyQL cell raises (built by the native module, which cannot define
`_render_traceback_`)."""


class HarmonyQLError(Exception):
    """A HarmonyQL cell failed. `ename` names the stage as our kernel does (`SyntaxError`, `CheckError`,
    `HarmonyError`, …), `traceback` holds the lines with the caret, `cell` what the cell did before it failed
    (names bound, outputs shown)."""

    def __init__(self, ename, evalue, traceback, cell):
        super().__init__(f"{ename}: {evalue}")
        self.ename = ename
        self.evalue = evalue
        self.traceback = list(traceback)
        self.cell = cell

    def _render_traceback_(self):
        # IPython shows these lines instead of Python frames: the same caret our kernel shows.
        return self.traceback
