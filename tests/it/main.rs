//! Integration tests, one binary. Each module says in its first line what belongs there.

mod cli;
mod client;
mod cmr;
mod credentials;
mod data;
mod download;
mod kernel;
mod lang;
mod library;
mod login;
mod peer;
mod plot;
mod processor;
mod regression;
mod serve_hostile;
mod server;
mod server_load;
mod soak;
mod tidy;
mod tls_redirect;
