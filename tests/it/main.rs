//! Integration tests, one binary. Each module says in its first line what belongs there.

mod cli;
mod kernel;
mod lang;
mod tidy;
