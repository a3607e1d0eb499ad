//! The one integration-test binary; each module says in its own doc comment what belongs there.

mod data;
mod server;
