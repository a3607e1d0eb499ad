//! Which Harmony a session starts on. One rule for every front end — the kernel, `hq run`/`url`/`check`, and
//! the Python module's `%%hq` and `Session()` — so a hub where some notebooks use our kernel and others use
//! `%%hq` never sends them to different places: `HARMONY_ROOT_URL` when it is set and not blank, else NASA's
//! production Harmony, as harmony-py does. The local Harmony (`hq serve`) is chosen explicitly: `env local`,
//! `--env local`, or `hq kernel install --env local`, which writes `HARMONY_ROOT_URL` into kernel.json.

use crate::api::environment::{Environment, UnknownEnvironment};

/// The variable that names the Harmony to start on (any name `env` takes: `prod`, `local:3001`, a root URL).
pub const ROOT_URL_VARIABLE: &str = "HARMONY_ROOT_URL";

/// `HARMONY_ROOT_URL` is set to something that names no environment.
#[derive(Debug, thiserror::Error)]
#[error("{ROOT_URL_VARIABLE}: {0}")]
pub struct BadRootUrl(#[from] pub UnknownEnvironment);

/// The Harmony a new session starts on, from this process's environment.
pub fn starting_environment() -> Result<Environment, BadRootUrl> {
    starting_environment_from(std::env::var(ROOT_URL_VARIABLE).ok().as_deref())
}

/// The rule itself, given the variable's value (if any).
pub fn starting_environment_from(root_url: Option<&str>) -> Result<Environment, BadRootUrl> {
    match root_url.map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text.parse()?),
        _ => Ok(Environment::Prod),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_is_prod_and_anything_else_is_parsed() {
        assert_eq!(starting_environment_from(None).unwrap(), Environment::Prod);
        assert_eq!(starting_environment_from(Some("  ")).unwrap(), Environment::Prod);
        assert_eq!(starting_environment_from(Some("local:3001")).unwrap(), Environment::Local { port: 3001 });
        assert_eq!(starting_environment_from(Some("http://127.0.0.1:9/")).unwrap().root_url(), "http://127.0.0.1:9");
        let error = starting_environment_from(Some("nowhere")).unwrap_err().to_string();
        assert!(error.starts_with("HARMONY_ROOT_URL: unknown environment `nowhere`"), "{error}");
    }
}
