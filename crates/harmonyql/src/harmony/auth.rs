//! Earthdata Login: where credentials come from (token, user and password, environment, `.netrc`), the
//! `Secret` that never shows itself, and the per-hop rule deciding whether `Authorization` may go.
//!
//! Credentials go only to Earthdata Login hosts over https (a full host match, not a suffix trick) or to
//! the exact origin (scheme, host, port) the request was first sent to; cookies only back to the origin
//! that set them. `.netrc` is read by [`crate::harmony::netrc`]. Nothing here sends requests; `client`
//! asks these functions at each hop.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use reqwest::Url;

pub use crate::harmony::netrc::Netrc;

/// A secret string: shown as `*****` by `Debug` and `Display`; read it only with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

/// How the client proves who it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Credentials {
    /// No credentials of our own; `.netrc` is consulted per host, as requests does.
    #[default]
    Netrc,
    /// `Authorization: Bearer …` (an EDL token).
    Token(Secret),
    /// HTTP Basic, sent to the origin and to Earthdata Login during the redirect dance.
    Basic {
        /// The Earthdata Login user name.
        user: String,
        /// The password.
        password: Secret,
    },
    /// Nothing at all, not even `.netrc`.
    Anonymous,
}

/// Variables that hold an Earthdata Login bearer token, in the order they are read: harmony-py's name, then
/// earthaccess's (set on NASA's hubs).
pub const TOKEN_VARIABLES: [&str; 2] = ["EDL_TOKEN", "EARTHDATA_TOKEN"];

/// Variables that hold a user name and its password, in the order they are read: harmony-py's, then earthaccess's.
pub const USER_VARIABLES: [(&str, &str); 2] =
    [("EDL_USERNAME", "EDL_PASSWORD"), ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD")];

/// Credentials from environment variables and which variables gave them: a token first (`EDL_TOKEN`, then
/// `EARTHDATA_TOKEN`), else a user name with its password (`EDL_USERNAME`/`EDL_PASSWORD`, then
/// `EARTHDATA_USERNAME`/`EARTHDATA_PASSWORD`). Blank values count as unset. `None` when no variable gives any.
///
/// ```
/// use harmonyql::harmony::auth::{Credentials, from_variables};
/// let vars = [("EARTHDATA_USERNAME", "alice"), ("EARTHDATA_PASSWORD", "pw")];
/// let (credentials, source) = from_variables(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())).unwrap();
/// assert!(matches!(credentials, Credentials::Basic { ref user, .. } if user == "alice"));
/// assert_eq!(source, "EARTHDATA_USERNAME/EARTHDATA_PASSWORD");
/// ```
pub fn from_variables(var: impl Fn(&str) -> Option<String>) -> Option<(Credentials, String)> {
    let present = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    for name in TOKEN_VARIABLES {
        if let Some(token) = present(name) {
            return Some((Credentials::Token(Secret::new(token.trim())), name.to_owned()));
        }
    }
    for (user, password) in USER_VARIABLES {
        // A password is taken as it is: spaces may be part of it.
        if let (Some(name), Some(secret)) = (present(user), var(password).filter(|p| !p.is_empty())) {
            return Some((
                Credentials::Basic { user: name.trim().to_owned(), password: Secret::new(secret) },
                format!("{user}/{password}"),
            ));
        }
    }
    None
}

impl Credentials {
    /// The one rule every front end (the kernel, `hq run`, `hq check --online`, the library and the Python
    /// module) starts with: [`from_variables`] on the process's environment, else the `.netrc` entry for the
    /// host that asks.
    pub fn from_env() -> Self {
        from_variables(|name| std::env::var(name).ok()).map_or(Credentials::Netrc, |(credentials, _)| credentials)
    }
}

/// True when `host` is an Earthdata Login host: `urs.earthdata.nasa.gov` or a sub-host of it
/// (`uat.urs.earthdata.nasa.gov`), matched on the whole host name, case-insensitively.
///
/// ```
/// use harmonyql::harmony::auth::is_edl_host;
/// assert!(is_edl_host("uat.urs.earthdata.nasa.gov"));
/// assert!(!is_edl_host("urs.earthdata.nasa.gov.evil.example"));
/// ```
pub fn is_edl_host(host: &str) -> bool {
    let host = normalize_host(host);
    host == "urs.earthdata.nasa.gov" || host.ends_with(".urs.earthdata.nasa.gov")
}

/// A host name as credentials are looked up by it: lower case, without the final dot of a fully
/// qualified name (`URS.earthdata.nasa.gov.` is `urs.earthdata.nasa.gov`). Every decision about a host
/// (is it Earthdata Login, which `.netrc` entry) uses this one form, so no two can disagree.
pub fn normalize_host(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Whether two URLs share scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether credentials may go to `url` at all: to the exact origin (scheme, host, port) the user chose, or
/// to an Earthdata Login host over https. A redirect to `http://urs.earthdata.nasa.gov/…` would put the
/// password on the network in cleartext, so Earthdata Login over http gets nothing.
pub fn may_receive_credentials(origin: &Url, url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    same_origin(origin, url) || (url.scheme() == "https" && is_edl_host(host))
}

/// The `Authorization` value for one hop to `url`, given the origin the request was first sent to.
///
/// Tokens and Basic credentials go only where [`may_receive_credentials`] allows; `.netrc` credentials
/// go there too when the (normalised) host has an entry or there is a `default` one. Everything else gets
/// none, which is what drops `Authorization` on a redirect to S3, a foreign host or plain http.
pub fn authorization(credentials: &Credentials, netrc: &Netrc, origin: &Url, url: &Url) -> Option<Secret> {
    if !may_receive_credentials(origin, url) {
        return None;
    }
    let host = normalize_host(url.host_str()?);
    match credentials {
        Credentials::Token(token) => Some(Secret::new(format!("Bearer {}", token.expose()))),
        Credentials::Basic { user, password } => Some(basic(user, password)),
        Credentials::Netrc => netrc.lookup(&host).map(|(login, password)| basic(login, password)),
        Credentials::Anonymous => None,
    }
}

/// The cookie store: one jar per exact origin (scheme, host, port). Harmony's `token` cookie is a
/// credential, but browsers' rules (RFC 6265) send a cookie to every port of its host and a non-`Secure`
/// one over http too; keyed by origin, a cookie goes back only where it came from, like `Authorization`.
#[derive(Default)]
pub struct OriginCookies {
    jars: std::sync::Mutex<HashMap<String, reqwest::cookie::Jar>>,
}

impl OriginCookies {
    fn jars(&self) -> std::sync::MutexGuard<'_, HashMap<String, reqwest::cookie::Jar>> {
        // A panic elsewhere while holding the lock leaves the map whole; keep using it.
        self.jars.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl reqwest::cookie::CookieStore for OriginCookies {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &reqwest::header::HeaderValue>, url: &Url) {
        let origin = url.origin().ascii_serialization();
        self.jars().entry(origin).or_default().set_cookies(cookie_headers, url);
    }

    fn cookies(&self, url: &Url) -> Option<reqwest::header::HeaderValue> {
        self.jars().get(&url.origin().ascii_serialization())?.cookies(url)
    }
}

fn basic(user: &str, password: &Secret) -> Secret {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    Secret::new(format!("Basic {encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edl_hosts_match_whole_names_only() {
        let cases = [
            ("urs.earthdata.nasa.gov", true),
            ("uat.urs.earthdata.nasa.gov", true),
            ("URS.EarthData.NASA.gov", true),
            ("urs.earthdata.nasa.gov.evil.example", false),
            ("evil.example", false),
            ("nasa.gov", false),
            ("xurs.earthdata.nasa.gov", false),
        ];
        for (host, expected) in cases {
            assert_eq!(is_edl_host(host), expected, "{host}");
        }
    }

    #[test]
    fn secrets_never_show_themselves() {
        let secret = Secret::new("hunter2");
        let credentials = Credentials::Basic { user: "alice".into(), password: secret.clone() };
        assert_eq!(format!("{secret} {secret:?}"), "***** *****");
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn netrc_entries_and_default_are_found() {
        let netrc = Netrc::parse(
            "machine urs.earthdata.nasa.gov login alice password pw1\n\
             machine uat.urs.earthdata.nasa.gov\n  login bob\n  password pw2\ndefault login carol password pw3",
        );
        let cases = [
            ("urs.earthdata.nasa.gov", "alice", "pw1"),
            ("UAT.urs.earthdata.nasa.gov", "bob", "pw2"),
            ("other.example", "carol", "pw3"),
        ];
        for (host, login, password) in cases {
            let (found_login, found_password) = netrc.lookup(host).expect(host);
            assert_eq!((found_login, found_password.expose()), (login, password), "{host}");
        }
        assert!(Netrc::parse("machine a login x").lookup("a").is_none());
    }

    #[test]
    fn authorization_goes_only_to_the_origin_and_edl() {
        let origin = Url::parse("http://127.0.0.1:3000/jobs").unwrap();
        let token = Credentials::Token(Secret::new("t"));
        let netrc = Netrc::parse("machine urs.earthdata.nasa.gov login a password b");
        let cases = [
            ("http://127.0.0.1:3000/oauth/authorize", true),
            ("https://urs.earthdata.nasa.gov/oauth/authorize", true),
            ("https://urs.earthdata.nasa.gov.evil.example/x", false),
            ("https://bucket.s3.amazonaws.com/f.h5", false),
            ("http://127.0.0.1:3001/other-port", false),
        ];
        for (url, expected) in cases {
            let url = Url::parse(url).unwrap();
            assert_eq!(authorization(&token, &netrc, &origin, &url).is_some(), expected, "{url}");
        }
        let urs = Url::parse("https://urs.earthdata.nasa.gov/oauth/authorize").unwrap();
        let netrc_value = authorization(&Credentials::Netrc, &netrc, &origin, &urs).unwrap();
        assert_eq!(netrc_value.expose(), "Basic YTpi");
        assert!(authorization(&Credentials::Netrc, &netrc, &origin, &origin).is_none());
    }

    #[test]
    fn earthdata_login_gets_credentials_over_https_only() {
        let origin = Url::parse("https://harmony.earthdata.nasa.gov/jobs").unwrap();
        let token = Credentials::Token(Secret::new("t"));
        let netrc = Netrc::default();
        for url in [
            "http://urs.earthdata.nasa.gov/oauth/authorize",
            "http://uat.urs.earthdata.nasa.gov/oauth/authorize",
            "http://urs.earthdata.nasa.gov:443/oauth/authorize",
            "http://harmony.earthdata.nasa.gov/jobs",
            "https://harmony.earthdata.nasa.gov:8443/jobs",
        ] {
            assert!(authorization(&token, &netrc, &origin, &Url::parse(url).unwrap()).is_none(), "{url}");
        }
        for url in ["https://urs.earthdata.nasa.gov/oauth/authorize", "https://harmony.earthdata.nasa.gov/x"] {
            assert!(authorization(&token, &netrc, &origin, &Url::parse(url).unwrap()).is_some(), "{url}");
        }
    }

    #[test]
    fn a_trailing_dot_host_finds_its_own_netrc_entry_not_the_default() {
        let origin = Url::parse("https://harmony.earthdata.nasa.gov/jobs").unwrap();
        let netrc = Netrc::parse(
            "machine urs.earthdata.nasa.gov login edl password pw-edl\ndefault login other password pw-other",
        );
        let url = Url::parse("https://URS.earthdata.nasa.gov./oauth/authorize").unwrap();
        let value = authorization(&Credentials::Netrc, &netrc, &origin, &url).expect("an EDL host over https");
        assert_eq!(value.expose(), basic("edl", &Secret::new("pw-edl")).expose());
    }

    #[test]
    fn a_missing_netrc_entry_says_which_line_to_add() {
        let hint = Netrc::default().missing_entry_hint("uat.urs.earthdata.nasa.gov");
        assert!(hint.contains("machine uat.urs.earthdata.nasa.gov login YOUR_USER password YOUR_PASSWORD"), "{hint}");
    }
}
