//! The HarmonyQL language: cell text → diagnostics, completions and compiled requests. Pure: no I/O.
