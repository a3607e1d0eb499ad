//! `login` and `logout` against `hq serve --auth edl` on 127.0.0.1: every login form (prompted user and
//! password, `login user`, token, environment, `.netrc`), a bad password, and that no secret is shown.

use std::sync::{Arc, Mutex};

use harmonyql::api::environment::Environment;
use harmonyql::eval::login::{PromptError, PromptFuture, Prompter};
use harmonyql::eval::session::{Config, Session};
use harmonyql::eval::sink::Report;
use harmonyql::harmony::auth::Credentials;
use harmonyql_server::{AuthMode, ServeConfig, Server};
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "wonderland-7";

/// Answers prompts in order and remembers what was asked and whether it was hidden.
#[derive(Debug, Default)]
struct Answers {
    answers: Mutex<Vec<String>>,
    asked: Mutex<Vec<(String, bool)>>,
}

impl Answers {
    fn new(answers: &[&str]) -> Arc<Self> {
        Arc::new(Answers {
            answers: Mutex::new(answers.iter().rev().map(|a| (*a).to_owned()).collect()),
            ..Default::default()
        })
    }
}

impl Prompter for Answers {
    fn ask<'a>(&'a self, prompt: &'a str, hidden: bool) -> PromptFuture<'a> {
        self.asked.lock().unwrap().push((prompt.to_owned(), hidden));
        let answer = self.answers.lock().unwrap().pop();
        Box::pin(async move { answer.ok_or_else(|| PromptError::Unavailable("no more answers".into())) })
    }
}

async fn start_edl_server() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, format!("alice:{PASSWORD}\n")).unwrap();
    let config = ServeConfig {
        port: 0,
        data_dir: dir.path().to_path_buf(),
        auth: AuthMode::Edl,
        users: Some(users),
        ..ServeConfig::default()
    };
    let server = Server::bind(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    (base, dir)
}

fn session(base: &str, prompter: Arc<Answers>) -> Session {
    let mut session = Session::new(Config {
        env: Environment::Url(base.to_owned()),
        credentials: Credentials::Anonymous,
        ..Config::default()
    });
    session.set_prompter(prompter);
    session
}

async fn run(session: &mut Session, cell: &str) -> (bool, String) {
    let mut reports: Vec<Report> = Vec::new();
    let outcome = session.run_async(cell, &mut reports, &CancellationToken::new()).await;
    // What a person sees (the one renderer's text) and, for what it hides, the reports' Debug too.
    let seen: Vec<String> = reports.iter().map(harmonyql::output::report::plain).collect();
    (outcome.ok, format!("{}\n{reports:?}", seen.join("\n")))
}

#[tokio::test]
async fn login_user_with_the_right_password_lets_requests_through_and_logout_forgets_it() {
    let (base, _dir) = start_edl_server().await;
    let prompter = Answers::new(&[PASSWORD]);
    let mut session = session(&base, prompter.clone());
    let (ok, shown) = run(&mut session, "jobs").await;
    assert!(!ok && shown.contains("authentication failed"), "{shown}");
    let (ok, shown) = run(&mut session, "login user alice").await;
    assert!(ok && shown.contains("as user alice: checked"), "{shown}");
    assert_eq!(*prompter.asked.lock().unwrap(), [("Password for alice at 127.0.0.1: ".to_owned(), true)]);
    let (ok, shown) = run(&mut session, "jobs").await;
    assert!(ok && shown.contains("0 of 0 job(s)"), "{shown}");
    let (ok, shown) = run(&mut session, "logout\njobs").await;
    assert!(!ok && shown.contains("logged out") && shown.contains("authentication failed"), "{shown}");
    assert!(!shown.contains(PASSWORD));
}

#[tokio::test]
async fn a_bad_password_is_refused_clearly_and_changes_nothing() {
    let (base, _dir) = start_edl_server().await;
    let mut session = session(&base, Answers::new(&["alice", "not-the-password"]));
    let (ok, shown) = run(&mut session, "login").await;
    assert!(!ok, "{shown}");
    assert!(shown.contains("Earthdata Login refused user alice") && shown.contains("nothing changed"), "{shown}");
    assert!(!shown.contains("not-the-password"), "{shown}");
    let (ok, _) = run(&mut session, "jobs").await;
    assert!(!ok, "the refused credentials must not be adopted");
}

#[tokio::test]
async fn login_prompts_for_user_then_password() {
    let (base, _dir) = start_edl_server().await;
    let prompter = Answers::new(&["alice", PASSWORD]);
    let mut session = session(&base, prompter.clone());
    let (ok, shown) = run(&mut session, "login\njobs").await;
    assert!(ok, "{shown}");
    let hidden: Vec<bool> = prompter.asked.lock().unwrap().iter().map(|(_, hidden)| *hidden).collect();
    assert_eq!(hidden, [false, true]);
}

#[tokio::test]
async fn login_token_uses_a_bearer_token_and_refuses_a_forged_one() {
    let (base, _dir) = start_edl_server().await;
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/users/token"))
        .basic_auth("alice", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = answer.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let mut session = session(&base, Answers::new(&[&token]));
    let (ok, shown) = run(&mut session, "login token\njobs").await;
    assert!(ok && shown.contains("as the token: checked"), "{shown}");
    assert!(!shown.contains(&token), "{shown}");
    let mut session = self::session(&base, Answers::new(&["hq1.616c696365.9999999999.00"]));
    let (ok, shown) = run(&mut session, "login token").await;
    assert!(!ok && shown.contains("refused the token"), "{shown}");
}

/// `hq run -e` with the given environment variables, from a thread so the test's runtime keeps serving.
async fn hq_run(statements: String, vars: Vec<(&'static str, String)>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hq"))
            .args(["run", "-e", &statements])
            .env_remove("EDL_TOKEN")
            .env_remove("EDL_USERNAME")
            .env_remove("EDL_PASSWORD")
            .envs(vars)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("hq runs");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn login_env_and_login_netrc_in_hq_run() {
    let (base, dir) = start_edl_server().await;
    let empty = dir.path().join("empty.netrc");
    std::fs::write(&empty, "").unwrap();
    let no_netrc = || ("NETRC", empty.display().to_string());
    let (ok, text) = hq_run(
        format!("env {base}\nlogin env\njobs"),
        vec![("EDL_USERNAME", "alice".into()), ("EDL_PASSWORD", PASSWORD.into()), no_netrc()],
    )
    .await;
    assert!(ok && text.contains("as user alice (EDL_USERNAME/EDL_PASSWORD): checked"), "{text}");
    assert!(!text.contains(PASSWORD));
    let (ok, text) = hq_run(format!("env {base}\nlogin env"), vec![no_netrc()]).await;
    assert!(
        !ok && text.contains("`login env` needs EDL_TOKEN or EARTHDATA_TOKEN, or EDL_USERNAME and EDL_PASSWORD"),
        "{text}"
    );

    let (ok, text) = hq_run(format!("env {base}\nlogin netrc"), vec![no_netrc()]).await;
    assert!(!ok && text.contains("machine 127.0.0.1 login YOUR_USER password YOUR_PASSWORD"), "{text}");
    let netrc = dir.path().join("netrc");
    std::fs::write(&netrc, format!("machine 127.0.0.1 login alice password {PASSWORD}\n")).unwrap();
    let (ok, text) =
        hq_run(format!("env {base}\nlogin netrc\njobs"), vec![("NETRC", netrc.display().to_string())]).await;
    assert!(ok && text.contains("as user alice (from"), "{text}");

    let (ok, text) = hq_run(format!("env {base}\nlogin user alice"), vec![no_netrc()]).await;
    assert!(!ok && text.contains("standard input is not a terminal") && text.contains("login env"), "{text}");
}
