//! `login` and `logout`: where Earthdata Login credentials come from (a prompt, the environment,
//! `.netrc`), and the check that they work before the session adopts them.
//!
//! Secrets are asked for through a [`Prompter`] the front end provides (the kernel's stdin channel with
//! `password: true`, the terminal without echo), never typed into cells. They are held as
//! [`Secret`]s and never appear in reports, errors or logs. Must not print or know about Jupyter.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;

use crate::api::environment::Environment;
use crate::harmony::auth::{Credentials, Netrc, Secret};
use crate::harmony::client::Client;
use crate::harmony::error::Error as ClientError;
use crate::lang::query::Login;

/// What a front end answers when asked for a line; boxed so the trait stays object-safe.
pub type PromptFuture<'a> = Pin<Box<dyn Future<Output = Result<String, PromptError>> + Send + 'a>>;

/// How the evaluator asks the user for a line of text: a front end's input channel.
///
/// `hidden` answers (passwords, tokens) must not be echoed, stored in history or logged.
///
/// ```
/// use harmonyql::eval::login::{PromptError, PromptFuture, Prompter};
/// /// Answers every prompt with the same text (a test's prompter).
/// #[derive(Debug)]
/// struct Always(&'static str);
/// impl Prompter for Always {
///     fn ask<'a>(&'a self, _prompt: &'a str, _hidden: bool) -> PromptFuture<'a> {
///         Box::pin(async move { Ok::<_, PromptError>(self.0.to_owned()) })
///     }
/// }
/// ```
pub trait Prompter: Send + Sync + fmt::Debug {
    /// Shows `prompt` and returns the line the user typed (without its newline).
    fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a>;
}

/// Why a prompt got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    /// The front end cannot ask (no stdin channel, not a terminal); the text says what to do instead.
    #[error("{0}")]
    Unavailable(String),
    /// The user interrupted while the prompt was open.
    #[error("interrupted while waiting for the answer")]
    Interrupted,
}

/// What to do when a front end cannot ask for secrets.
pub const OTHER_WAYS: &str = "set EDL_USERNAME and EDL_PASSWORD (or EDL_TOKEN) where hq runs and use `login env`, \
     or add a .netrc entry and use `login netrc`";

/// Why `login` did not log in. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// No prompter, or the prompter could not ask.
    #[error("cannot ask for {what}: {source}")]
    Prompt {
        /// What was to be asked (`the password`, `a token`).
        what: &'static str,
        /// Why not.
        #[source]
        source: PromptError,
    },
    /// The answer was empty.
    #[error("no {0} was given; nothing changed")]
    Empty(&'static str),
    /// `login env` with neither variable set.
    #[error(
        "`login env` needs EDL_TOKEN or EARTHDATA_TOKEN, or EDL_USERNAME and EDL_PASSWORD (or EARTHDATA_USERNAME and \
         EARTHDATA_PASSWORD), in the environment hq runs in"
    )]
    NoEnvironment,
    /// `login netrc` without an entry for the host.
    #[error("{0}")]
    NoNetrcEntry(String),
    /// Earthdata Login refused the credentials.
    #[error("Earthdata Login refused {who} at {url}: check the {what} and log in again; nothing changed")]
    Refused {
        /// Who tried (`user alice`, `the token`).
        who: String,
        /// What to check (`user name and password`, `token`).
        what: &'static str,
        /// Where (redacted).
        url: String,
    },
    /// The client could not be built.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// Interrupted while checking.
    #[error("interrupted while checking the credentials; nothing changed")]
    Interrupted,
}

/// Credentials a `login` statement produced, and what to tell the user.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The credentials to adopt.
    pub credentials: Credentials,
    /// A confirmation (who, from where, whether checked).
    pub message: String,
    /// Something the user should know (the check could not run).
    pub warning: Option<String>,
}

/// The message after `logout`.
pub const LOGGED_OUT: &str =
    "logged out: credentials forgotten; requests go without credentials until the next `login`";

/// Runs a `login` statement: gets the credentials, checks them against `env` when it can be reached,
/// and returns them (the caller adopts them). A refused login changes nothing.
pub async fn login(
    method: &Login,
    env: &Environment,
    prompter: Option<&dyn Prompter>,
    cancel: &CancellationToken,
) -> Result<LoggedIn, LoginError> {
    let host = edl_host(env);
    let (credentials, who, source) = match method {
        Login::Prompt => {
            let user = ask(prompter, &format!("Earthdata Login user name ({host}): "), false, "a user name").await?;
            let user = user.trim().to_owned();
            if user.is_empty() {
                return Err(LoginError::Empty("user name"));
            }
            let password = ask_password(prompter, &user, &host).await?;
            (Credentials::Basic { user: user.clone(), password }, format!("user {user}"), "password")
        }
        Login::User(user) => {
            let password = ask_password(prompter, user, &host).await?;
            (Credentials::Basic { user: user.clone(), password }, format!("user {user}"), "password")
        }
        Login::Token => {
            let token = ask(prompter, &format!("Earthdata Login token for {host}: "), true, "a token").await?;
            let token = token.trim();
            if token.is_empty() {
                return Err(LoginError::Empty("token"));
            }
            (Credentials::Token(Secret::new(token)), "the token".to_owned(), "token")
        }
        Login::Env => {
            let (credentials, source) = from_variables(|name| std::env::var(name).ok())?;
            let who = match &credentials {
                Credentials::Basic { user, .. } => format!("user {user} ({source})"),
                _ => format!("the token in {source}"),
            };
            (credentials, who, "environment")
        }
        Login::Netrc => {
            let netrc = Netrc::load();
            let Some((user, _)) = netrc.lookup(&host) else {
                return Err(LoginError::NoNetrcEntry(netrc.missing_entry_hint(&host)));
            };
            let file = netrc.path.as_ref().map_or_else(|| "~/.netrc".to_owned(), |p| p.display().to_string());
            (Credentials::Netrc, format!("user {user} (from {file})"), ".netrc")
        }
    };
    let what = match &credentials {
        Credentials::Token(_) => "token",
        Credentials::Netrc => ".netrc entry",
        _ => "user name and password",
    };
    let (message, warning) = match check(env, &credentials, cancel).await {
        Ok(()) => (format!("logged in to {} as {who}: checked with GET /jobs", env.root_url()), None),
        Err(ClientError::Unauthenticated { url, .. }) => return Err(LoginError::Refused { who, what, url }),
        Err(ClientError::Http { status: 401 | 403, url, .. })
        | Err(ClientError::Harmony { status: 401 | 403, url, .. }) => {
            return Err(LoginError::Refused { who, what, url });
        }
        Err(ClientError::Cancelled { .. }) => return Err(LoginError::Interrupted),
        Err(other) => (
            format!("logged in to {} as {who} ({source})", env.root_url()),
            Some(format!("the credentials could not be checked now ({other}); they will be used on the next request")),
        ),
    };
    Ok(LoggedIn { credentials, message, warning })
}

/// The host Earthdata Login credentials are for: NASA's URS for prod/uat/sit, else the server's own host
/// (`hq serve --auth edl` is its own URS).
pub fn edl_host(env: &Environment) -> String {
    if let Some(host) = env.edl_host() {
        return host.to_owned();
    }
    reqwest::Url::parse(&env.root_url())
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Credentials from environment variables by the one rule of [`crate::harmony::auth::from_variables`], and
/// which variables gave them; an error saying which variables were looked for when none did.
pub fn from_variables(var: impl Fn(&str) -> Option<String>) -> Result<(Credentials, String), LoginError> {
    crate::harmony::auth::from_variables(var).ok_or(LoginError::NoEnvironment)
}

async fn ask(
    prompter: Option<&dyn Prompter>,
    prompt: &str,
    hidden: bool,
    what: &'static str,
) -> Result<String, LoginError> {
    let Some(prompter) = prompter else {
        return Err(LoginError::Prompt {
            what,
            source: PromptError::Unavailable(format!("this front end has no way to ask: {OTHER_WAYS}")),
        });
    };
    prompter.ask(prompt, hidden).await.map_err(|source| LoginError::Prompt { what, source })
}

async fn ask_password(prompter: Option<&dyn Prompter>, user: &str, host: &str) -> Result<Secret, LoginError> {
    let password = ask(prompter, &format!("Password for {user} at {host}: "), true, "the password").await?;
    if password.is_empty() {
        return Err(LoginError::Empty("password"));
    }
    Ok(Secret::new(password))
}

/// Signs in with `GET /jobs` as harmony-py's `validate_auth` does; interrupted by `cancel`.
async fn check(env: &Environment, credentials: &Credentials, cancel: &CancellationToken) -> Result<(), ClientError> {
    let client = Client::new(env.clone(), credentials.clone())?;
    tokio::select! {
        _ = cancel.cancelled() => Err(ClientError::Cancelled { what: "checking the credentials".to_owned() }),
        result = tokio::time::timeout(CHECK_TIMEOUT, client.sign_in()) => match result {
            Ok(result) => result,
            Err(_) => Err(ClientError::BadResponse {
                url: format!("{}/jobs", env.root_url()),
                message: format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
            }),
        },
    }
}

/// How long the check may take before the credentials are kept unchecked.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Answers(std::sync::Mutex<Vec<(String, bool)>>, Vec<&'static str>);

    impl Prompter for Answers {
        fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a> {
            let mut asked = self.0.lock().unwrap();
            asked.push((prompt.to_owned(), hidden));
            let answer = self.1.get(asked.len() - 1).map(|a| (*a).to_owned());
            Box::pin(async move { answer.ok_or(PromptError::Interrupted) })
        }
    }

    #[test]
    fn environment_variables_prefer_a_token_then_user_and_password_in_harmony_pys_then_earthaccesss_names() {
        type Vars = &'static [(&'static str, &'static str)];
        let cases: [(Vars, Option<(&str, &str)>); 9] = [
            (&[("EDL_TOKEN", "t1"), ("EDL_USERNAME", "a"), ("EDL_PASSWORD", "p")], Some(("token", "EDL_TOKEN"))),
            (&[("EDL_USERNAME", "alice"), ("EDL_PASSWORD", "p")], Some(("alice", "EDL_USERNAME/EDL_PASSWORD"))),
            (
                &[("EDL_TOKEN", "  "), ("EDL_USERNAME", "bob"), ("EDL_PASSWORD", "p")],
                Some(("bob", "EDL_USERNAME/EDL_PASSWORD")),
            ),
            // earthaccess's names, as NASA's hubs set them.
            (&[("EARTHDATA_TOKEN", "t2")], Some(("token", "EARTHDATA_TOKEN"))),
            (
                &[("EARTHDATA_USERNAME", "carol"), ("EARTHDATA_PASSWORD", "p")],
                Some(("carol", "EARTHDATA_USERNAME/EARTHDATA_PASSWORD")),
            ),
            // A token in either name wins over any user name; harmony-py's names before earthaccess's.
            (
                &[("EARTHDATA_TOKEN", "t2"), ("EDL_USERNAME", "a"), ("EDL_PASSWORD", "p")],
                Some(("token", "EARTHDATA_TOKEN")),
            ),
            (
                &[
                    ("EARTHDATA_USERNAME", "carol"),
                    ("EARTHDATA_PASSWORD", "p"),
                    ("EDL_USERNAME", "dave"),
                    ("EDL_PASSWORD", "q"),
                ],
                Some(("dave", "EDL_USERNAME/EDL_PASSWORD")),
            ),
            (&[("EDL_USERNAME", "alice"), ("EARTHDATA_PASSWORD", "p")], None),
            (&[], None),
        ];
        for (vars, expected) in cases {
            let found = from_variables(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()));
            let got = match found {
                Ok((Credentials::Token(_), source)) => Some(("token".to_owned(), source)),
                Ok((Credentials::Basic { user, .. }, source)) => Some((user, source)),
                Ok((other, _)) => panic!("{other:?}"),
                Err(error) => {
                    let message = error.to_string();
                    assert!(
                        message.contains("EDL_USERNAME and EDL_PASSWORD") && message.contains("EARTHDATA_TOKEN"),
                        "{message}"
                    );
                    None
                }
            };
            let got = got.as_ref().map(|(who, source)| (who.as_str(), source.as_str()));
            assert_eq!(got, expected, "{vars:?}");
        }
    }

    #[test]
    fn credentials_are_for_nasa_urs_or_the_local_server_itself() {
        let cases = [
            (Environment::Prod, "urs.earthdata.nasa.gov"),
            (Environment::Uat, "uat.urs.earthdata.nasa.gov"),
            (Environment::Local { port: 3000 }, "localhost"),
            (Environment::Url("http://127.0.0.1:4321".into()), "127.0.0.1"),
        ];
        for (env, host) in cases {
            assert_eq!(edl_host(&env), host, "{env}");
        }
    }

    #[tokio::test]
    async fn prompts_ask_for_the_password_hidden_and_never_repeat_it() {
        let prompter = Answers(Default::default(), vec!["alice", ""]);
        let cancel = CancellationToken::new();
        let error = login(&Login::Prompt, &Environment::Uat, Some(&prompter), &cancel).await.unwrap_err();
        assert!(matches!(error, LoginError::Empty("password")), "{error}");
        let asked = prompter.0.lock().unwrap().clone();
        assert_eq!(
            asked,
            [
                ("Earthdata Login user name (uat.urs.earthdata.nasa.gov): ".to_owned(), false),
                ("Password for alice at uat.urs.earthdata.nasa.gov: ".to_owned(), true)
            ]
        );
    }

    #[tokio::test]
    async fn without_a_prompter_the_error_names_the_other_ways() {
        let cancel = CancellationToken::new();
        for method in [Login::Token, Login::User("alice".into()), Login::Prompt] {
            let error = login(&method, &Environment::Prod, None, &cancel).await.unwrap_err();
            let text = error.to_string();
            assert!(text.contains("login env") && text.contains("login netrc"), "{text}");
        }
    }
}
