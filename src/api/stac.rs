//! Placeholder: filled in by the local-server work (issue 3).
