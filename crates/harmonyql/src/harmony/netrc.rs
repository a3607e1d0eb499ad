//! `.netrc`, read exactly as Python's `netrc` module reads it (CPython 3.11 and later), because that is
//! what requests, harmony-py and earthaccess use: the same file must give the same credentials here.
//!
//! The rules, all Python's: tokens are separated by blanks; `"…"` quotes a token (blanks included) and `\`
//! escapes the next character, in or out of quotes. `machine NAME` or `default` starts an entry made of
//! `login`/`user`, `account` and `password` tokens in any order; a later entry for the same machine
//! replaces an earlier one. `macdef NAME` starts a macro whose body runs to the first empty line and is
//! not read as entries. A token starting with `#` is a comment and, when it is found on the line where
//! reading it began, the rest of its line is skipped too (so `password pa#ss` keeps its `#`, and a
//! commented-out `# machine …` line is not live). Any other word, or a macro without its closing empty
//! line, makes the whole file unusable, as Python raises and requests then uses none of it.
//!
//! One deliberate difference: machine names are matched as host names are (case-insensitively, without a
//! final dot), where Python compares strings. `tests/fixtures/netrc_cases.json` holds the cases of
//! CPython's own tests and the files that once differed; they run against this parser here and against
//! Python's in `tests/python/client/test_netrc_cases.py`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::harmony::auth::{Secret, normalize_host};

/// One entry: what Python's `netrc.authenticators(host)` returns. Absent tokens are empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    /// `login` (or `user`).
    pub login: String,
    /// `account`.
    pub account: String,
    /// `password`.
    pub password: Secret,
}

/// Why a `.netrc` file cannot be used. Never quotes the file's words: one could be a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem} (line {line})")]
pub struct NetrcError {
    /// What is wrong.
    pub problem: String,
    /// The line, counted as Python counts it (for the same message as requests' users see).
    pub line: usize,
}

/// The entries of a `.netrc` file, by machine name, and the `default` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Netrc {
    machines: HashMap<String, Entry>,
    default: Option<Entry>,
    /// Where it was read from, for messages.
    pub path: Option<PathBuf>,
    /// Why the file could not be used, when it could not (it then has no entries).
    pub problem: Option<NetrcError>,
}

impl Netrc {
    /// Parses `.netrc` text; a file Python would refuse gives no entries and keeps the reason in `problem`.
    pub fn parse(text: &str) -> Self {
        Netrc::try_parse(text).unwrap_or_else(|error| Netrc { problem: Some(error), ..Netrc::default() })
    }

    /// Parses `.netrc` text, or says why Python's `netrc` would refuse it.
    pub fn try_parse(text: &str) -> Result<Self, NetrcError> {
        let mut netrc = Netrc::default();
        let mut lexer = Lexer::new(text);
        loop {
            let line_before = lexer.line;
            let word = lexer.token();
            let name = match word.as_str() {
                // The end (or, as in Python, an empty quoted token `""`).
                "" => break,
                comment if comment.starts_with('#') => {
                    // Only a lone `#` read on one line skips the rest of it, as Python does.
                    if lexer.line == line_before && comment.chars().count() == 1 {
                        lexer.skip_line();
                    }
                    continue;
                }
                "machine" => Some(lexer.token()),
                "default" => None,
                "macdef" => {
                    lexer.token(); // the macro's name
                    lexer.skip_macro_body()?;
                    continue;
                }
                _ => return Err(lexer.error("expected `machine`, `default` or `macdef`")),
            };
            if name.as_deref() == Some("") {
                return Err(lexer.error("`machine` without a name"));
            }
            let entry = lexer.entry()?;
            match name {
                Some(name) => {
                    netrc.machines.insert(normalize_host(&name), entry);
                }
                None => netrc.default = Some(entry),
            }
        }
        Ok(netrc)
    }

    /// Reads `$NETRC`, else `$HOME/.netrc` (`_netrc` on Windows); a missing file is an empty `Netrc`.
    pub fn load() -> Self {
        let path = std::env::var_os("NETRC").map(PathBuf::from).or_else(|| {
            let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
            let name = if cfg!(windows) { "_netrc" } else { ".netrc" };
            Some(Path::new(&home).join(name))
        });
        match path {
            Some(path) => Netrc::read(&path),
            None => Netrc::default(),
        }
    }

    /// Reads one `.netrc` file; a missing or unreadable file is an empty `Netrc` that remembers the path.
    pub fn read(path: &Path) -> Self {
        let mut netrc = std::fs::read_to_string(path).map(|text| Netrc::parse(&text)).unwrap_or_default();
        netrc.path = Some(path.to_path_buf());
        netrc
    }

    /// The entry for `host`, else the `default` entry: Python's `authenticators(host)`.
    pub fn authenticators(&self, host: &str) -> Option<&Entry> {
        self.machines.get(&normalize_host(host)).or(self.default.as_ref())
    }

    /// The user and password to send to `host`, as requests takes them from the entry: the login (or the
    /// account when there is no login) and the password. An entry without a password gives none, and the
    /// `default` entry is then not tried: the file says this host has no password.
    pub fn lookup(&self, host: &str) -> Option<(&str, &Secret)> {
        let entry = self.authenticators(host)?;
        let user = if entry.login.is_empty() { &entry.account } else { &entry.login };
        (!entry.password.expose().is_empty()).then_some((user.as_str(), &entry.password))
    }

    /// The message for a host with no entry: which line to add, and where (or why the file is unusable).
    pub fn missing_entry_hint(&self, host: &str) -> String {
        let file = self.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "~/.netrc".to_owned());
        if let Some(problem) = &self.problem {
            return format!(
                "no credentials for {host}: {file} cannot be read as a .netrc file: {problem}; fix it (Python's \
                 netrc, requests and harmony-py refuse it too), set EDL_USERNAME and EDL_PASSWORD, or use a token"
            );
        }
        format!(
            "no credentials for {host}: add the line `machine {host} login YOUR_USER password YOUR_PASSWORD` to {file} \
             (chmod 600), set EDL_USERNAME and EDL_PASSWORD, or use a token"
        )
    }
}

/// Python's `_netrclex`: a character reader that counts lines the same way, including its quirk that
/// [`Lexer::skip_line`] (Python's `readline`) does not count the line it skips.
struct Lexer {
    chars: Vec<char>,
    at: usize,
    line: usize,
    /// A token read ahead by an entry and given back for the top level.
    pushed_back: Option<String>,
}

impl Lexer {
    fn new(text: &str) -> Self {
        // Python opens the file in text mode: `\r\n` and `\r` are line breaks.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        Lexer { chars: text.chars().collect(), at: 0, line: 1, pushed_back: None }
    }

    fn error(&self, problem: &str) -> NetrcError {
        NetrcError { problem: problem.to_owned(), line: self.line }
    }

    fn next_char(&mut self) -> Option<char> {
        let c = *self.chars.get(self.at)?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// The next token: blanks skipped, quotes removed, backslash escapes applied; empty at the end.
    fn token(&mut self) -> String {
        if let Some(token) = self.pushed_back.take() {
            return token;
        }
        let is_blank = |c: char| matches!(c, '\n' | '\t' | '\r' | ' ');
        let mut token = String::new();
        let Some(first) = std::iter::from_fn(|| self.next_char()).find(|&c| !is_blank(c)) else {
            return token;
        };
        if first == '"' {
            // A quoted token ends at the closing quote (or the end of the text); blanks are kept.
            while let Some(c) = self.next_char() {
                match c {
                    '"' => break,
                    '\\' => token.extend(self.next_char()),
                    c => token.push(c),
                }
            }
            return token;
        }
        let mut next = Some(first);
        while let Some(c) = next {
            match c {
                c if is_blank(c) => break,
                '\\' => token.extend(self.next_char()),
                c => token.push(c),
            }
            next = self.next_char();
        }
        token
    }

    /// Skips to just after the next line break, without counting it (as Python's `readline` does);
    /// returns what was skipped.
    fn skip_line(&mut self) -> String {
        let mut skipped = String::new();
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            skipped.push(c);
            if c == '\n' {
                break;
            }
        }
        skipped
    }

    /// Skips a macro body: every line up to and including the first empty one.
    fn skip_macro_body(&mut self) -> Result<(), NetrcError> {
        loop {
            match self.skip_line().as_str() {
                "" => return Err(self.error("a `macdef` body must end with an empty line")),
                "\n" => return Ok(()),
                _ => {}
            }
        }
    }

    /// The tokens of one entry, up to the next `machine`, `default`, `macdef` or the end.
    fn entry(&mut self) -> Result<Entry, NetrcError> {
        let mut entry = Entry::default();
        loop {
            let line_before = self.line;
            let word = self.token();
            if word.starts_with('#') {
                if self.line == line_before {
                    self.skip_line();
                }
                continue;
            }
            match word.as_str() {
                "" | "machine" | "default" | "macdef" => {
                    self.pushed_back = Some(word);
                    return Ok(entry);
                }
                "login" | "user" => entry.login = self.token(),
                "account" => entry.account = self.token(),
                "password" => entry.password = Secret::new(self.token()),
                _ => return Err(self.error("expected `login`, `account` or `password` in an entry")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/netrc_cases.json`: each text and what Python's `netrc` gives for each host.
    #[test]
    fn every_shared_case_reads_as_python_reads_it() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/netrc_cases.json");
        let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cases = cases["cases"].as_array().unwrap();
        assert!(cases.len() >= 60, "the CPython cases and ours");
        let mut differ = Vec::new();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let parsed = Netrc::try_parse(case["text"].as_str().unwrap());
            let expect = &case["expect"];
            let ok = match (&parsed, expect.as_str()) {
                (Err(_), Some("error")) => true,
                (Ok(_), Some("error")) | (Err(_), None) => false,
                (Ok(netrc), _) => expect.as_object().unwrap().iter().all(|(host, expected)| {
                    let found = netrc
                        .authenticators(host)
                        .map(|e| serde_json::json!([e.login, e.account, e.password.expose()]));
                    found.as_ref().unwrap_or(&serde_json::Value::Null) == expected
                }),
                (Err(_), Some(_)) => false,
            };
            if !ok {
                differ.push(format!("{name}: expected {expect}, parsed {parsed:?}"));
            }
        }
        assert!(differ.is_empty(), "{} cases differ from Python:\n{}", differ.len(), differ.join("\n"));
    }

    #[test]
    fn lookup_sends_what_requests_sends() {
        let netrc = Netrc::parse(
            "machine a.example account acct password pw-a\nmachine b.example login bob\ndefault login d password pw-d",
        );
        let (user, password) = netrc.lookup("A.example.").unwrap();
        assert_eq!((user, password.expose()), ("acct", "pw-a"), "the account stands in for a missing login");
        assert!(netrc.lookup("b.example").is_none(), "no password: nothing, not the default");
        assert_eq!(netrc.lookup("c.example").unwrap().0, "d");
    }

    #[test]
    fn an_unusable_file_says_why_without_quoting_it() {
        let netrc = Netrc::parse("machine h login alice passwd hunter2\n");
        assert!(netrc.lookup("h").is_none());
        let hint = netrc.missing_entry_hint("h");
        assert!(hint.contains("line 1") && hint.contains("expected `login`"), "{hint}");
        assert!(!hint.contains("hunter2") && !hint.contains("passwd"), "{hint}");
    }
}
