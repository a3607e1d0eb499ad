//! Integration tests, one binary; each module says in a comment what belongs there.

mod server;
