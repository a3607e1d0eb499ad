//! Harmony environments (prod, uat, sit, local, any URL) and their base URLs.
//!
//! Pure: parsing and formatting only. Which environment a session uses, and any `HARMONY_ROOT_URL`
//! override, is decided by the caller.

use std::fmt;

/// A Harmony deployment that requests are sent to.
///
/// ```
/// use harmonyql_lang::api::environment::Environment;
/// let uat: Environment = "uat".parse().unwrap();
/// assert_eq!(uat.root_url(), "https://harmony.uat.earthdata.nasa.gov");
/// assert_eq!(Environment::default().root_url(), "https://harmony.earthdata.nasa.gov");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Environment {
    /// NASA's production Harmony, with Earthdata Login production accounts.
    #[default]
    Prod,
    /// User acceptance testing; needs an Earthdata Login UAT account.
    Uat,
    /// System integration testing.
    Sit,
    /// A Harmony on this machine, such as `hq serve`: `http://localhost:{port}`.
    Local {
        /// The port it listens on; 3000 unless given.
        port: u16,
    },
    /// Any other Harmony, by its root URL (no trailing slash).
    Url(String),
}

/// Why a piece of text is not an environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown environment `{0}`: expected prod, uat, sit, local, local:PORT or a URL starting with http:// or https://"
)]
pub struct UnknownEnvironment(pub String);

/// The port `hq serve` and harmony-py's `Environment.LOCAL` use unless told otherwise.
pub const LOCAL_PORT: u16 = 3000;

impl Environment {
    /// The names users can type, in the order help texts list them.
    pub const NAMES: [&'static str; 4] = ["prod", "uat", "sit", "local"];

    /// The root URL that request paths are appended to, without a trailing slash.
    pub fn root_url(&self) -> String {
        match self {
            Environment::Prod => "https://harmony.earthdata.nasa.gov".to_owned(),
            Environment::Uat => "https://harmony.uat.earthdata.nasa.gov".to_owned(),
            Environment::Sit => "https://harmony.sit.earthdata.nasa.gov".to_owned(),
            Environment::Local { port } => format!("http://localhost:{port}"),
            Environment::Url(url) => url.clone(),
        }
    }

    /// The Earthdata Login host whose accounts this environment accepts, if it is one of NASA's.
    pub fn edl_host(&self) -> Option<&'static str> {
        match self {
            Environment::Prod => Some("urs.earthdata.nasa.gov"),
            Environment::Uat | Environment::Sit => Some("uat.urs.earthdata.nasa.gov"),
            Environment::Local { .. } | Environment::Url(_) => None,
        }
    }

    /// Whether this environment needs no Earthdata Login account (a local server).
    pub fn is_local(&self) -> bool {
        match self {
            Environment::Local { .. } => true,
            Environment::Url(url) => {
                let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
                rest.is_some_and(|rest| {
                    rest.starts_with("localhost") || rest.starts_with("127.") || rest.starts_with("[::1]")
                })
            }
            _ => false,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Prod => f.write_str("prod"),
            Environment::Uat => f.write_str("uat"),
            Environment::Sit => f.write_str("sit"),
            Environment::Local { port } if *port == LOCAL_PORT => f.write_str("local"),
            Environment::Local { port } => write!(f, "local:{port}"),
            Environment::Url(url) => f.write_str(url),
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownEnvironment(text.to_owned());
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "prod" | "production" => return Ok(Environment::Prod),
            "uat" => return Ok(Environment::Uat),
            "sit" => return Ok(Environment::Sit),
            "local" | "localhost" => return Ok(Environment::Local { port: LOCAL_PORT }),
            _ => {}
        }
        if let Some(port) = lower.strip_prefix("local:") {
            let port = port.parse::<u16>().map_err(|_| unknown())?;
            return Ok(Environment::Local { port });
        }
        let trimmed = text.trim().trim_end_matches('/');
        let has_scheme = lower.starts_with("http://") || lower.starts_with("https://");
        let host_len = trimmed.split_once("://").map_or(0, |(_, rest)| rest.len());
        if has_scheme && host_len > 0 && !trimmed.contains(char::is_whitespace) {
            return Ok(Environment::Url(trimmed.to_owned()));
        }
        Err(unknown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, root: &str) {
        let env: Environment = text.parse().unwrap();
        assert_eq!(env.root_url(), root, "{text}");
        // Printing and parsing again gives the same environment.
        assert_eq!(env.to_string().parse::<Environment>().unwrap(), env);
    }

    #[test]
    fn names_map_to_the_roots_harmony_py_uses() {
        check("prod", "https://harmony.earthdata.nasa.gov");
        check("UAT", "https://harmony.uat.earthdata.nasa.gov");
        check("sit", "https://harmony.sit.earthdata.nasa.gov");
        check("local", "http://localhost:3000");
        check("local:8080", "http://localhost:8080");
        check("http://127.0.0.1:5000/", "http://127.0.0.1:5000");
    }

    #[test]
    fn unknown_names_are_refused_with_the_choices() {
        for text in ["staging", "local:x", "ftp://a", "http://", ""] {
            let err = text.parse::<Environment>().unwrap_err();
            assert!(err.to_string().contains("expected prod, uat"), "{text}");
        }
    }

    #[test]
    fn edl_hosts_follow_the_environment() {
        assert_eq!(Environment::Prod.edl_host(), Some("urs.earthdata.nasa.gov"));
        assert_eq!(Environment::Uat.edl_host(), Some("uat.urs.earthdata.nasa.gov"));
        assert_eq!(Environment::Local { port: 3000 }.edl_host(), None);
        assert!(Environment::Url("http://127.0.0.1:9".into()).is_local());
        assert!(!Environment::Url("https://example.org".into()).is_local());
    }
}
