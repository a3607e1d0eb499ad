//! Rules read from the sources: every file documents itself, and the layering of ARCHITECTURE.md holds.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file without its `#[cfg(test)]` module, where tests may use anything.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let code = match text.find("#[cfg(test)]") {
        Some(index) => &text[..index],
        None => &text,
    };
    code.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    for path in sources(&src()) {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("//!"), "{} must start with a `//!` comment saying what it owns", path.display());
    }
}

#[test]
fn lang_and_api_do_no_io() {
    let forbidden = [
        "tokio",
        "reqwest",
        "std::fs",
        "std::net",
        "std::process",
        "std::io",
        "crate::harmony",
        "crate::server",
        "crate::kernel",
        "crate::eval",
        "crate::cli",
        "crate::data",
        "crate::plot",
    ];
    for layer in ["lang", "api"] {
        for path in sources(&src().join(layer)) {
            let code = code_of(&path);
            for word in forbidden {
                assert!(!code.contains(word), "{} uses `{word}`: {layer} must stay pure", path.display());
            }
        }
    }
    for path in sources(&src().join("api")) {
        assert!(!code_of(&path).contains("crate::lang"), "{}: api must not depend on lang", path.display());
    }
}

#[test]
fn the_server_never_imports_the_client() {
    let server = src().join("server");
    if !server.exists() {
        return;
    }
    for path in sources(&server) {
        assert!(
            !code_of(&path).contains("crate::harmony"),
            "{}: the server must not import the client",
            path.display()
        );
    }
}

#[test]
fn the_client_knows_nothing_of_front_ends() {
    let client = src().join("harmony");
    if !client.exists() {
        return;
    }
    for path in sources(&client) {
        let code = code_of(&path);
        for word in ["crate::server", "crate::kernel", "crate::cli", "jupyter"] {
            assert!(!code.contains(word), "{}: harmony must not use `{word}`", path.display());
        }
    }
}
