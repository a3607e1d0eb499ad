//! Rules read from the sources that Cargo's dependency edges cannot check: every file documents itself, the
//! language crate touches no I/O through `std`, and the client names nothing of Jupyter. Which crate may use
//! which is held by the crates' manifests (see `the_crates_are_the_layering`); this file fails loudly when a
//! directory it reads has moved, so a rule can never pass by reading nothing.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory the rules read; a missing one fails the test instead of silently checking nothing.
fn dir(relative: &str) -> PathBuf {
    let path = workspace().join(relative);
    assert!(path.is_dir(), "{} moved or vanished: update tests/it/tidy.rs, whose rules read it", path.display());
    path
}

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
    assert!(!files.is_empty() || dir.ends_with("snapshots"), "{} holds no Rust sources", dir.display());
    files
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

const CRATE_SOURCES: [&str; 6] =
    ["src", "crates/lang/src", "crates/data/src", "crates/server/src", "crates/harmonyql/src", "crates/python/src"];

#[test]
fn every_source_file_starts_with_a_module_doc() {
    for root in CRATE_SOURCES {
        for path in sources(&dir(root)) {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with("//!"), "{} must start with a `//!` comment saying what it owns", path.display());
        }
    }
}

#[test]
fn the_language_crate_does_no_io() {
    // Cargo keeps tokio, reqwest, hdf5 and axum out of the crate's tree; `std` is in every tree, so its I/O
    // modules are checked here.
    let forbidden = ["std::fs", "std::net", "std::process", "std::io", "std::env"];
    for path in sources(&dir("crates/lang/src")) {
        let code = code_of(&path);
        for word in forbidden {
            assert!(!code.contains(word), "{} uses `{word}`: the language crate must stay pure", path.display());
        }
    }
    for path in sources(&dir("crates/lang/src/api")) {
        let code = code_of(&path);
        for word in ["crate::parse", "crate::check", "crate::compile", "crate::query", "crate::ast"] {
            assert!(!code.contains(word), "{}: api must not depend on the language's stages", path.display());
        }
    }
}

#[test]
fn the_client_knows_nothing_of_front_ends() {
    for path in sources(&dir("crates/harmonyql/src/harmony")) {
        let code = code_of(&path);
        for word in ["crate::kernel", "crate::eval", "crate::output", "jupyter"] {
            assert!(!code.contains(word), "{}: harmony must not use `{word}`", path.display());
        }
    }
}

#[test]
fn only_the_kernel_wire_and_server_name_jupyter_protocol_types() {
    for path in sources(&dir("crates/harmonyql/src")) {
        if path.ends_with("kernel/server.rs") || path.ends_with("kernel/wire.rs") {
            continue;
        }
        let code = code_of(&path);
        assert!(
            !code.contains("jupyter_protocol") && !code.contains("jupyter_zmq_client"),
            "{}: only kernel/server.rs and kernel/wire.rs may name jupyter-protocol types",
            path.display()
        );
    }
}

/// The layering as dependency edges: what each crate's manifest may name. A new edge is an architecture
/// change, made here and in ARCHITECTURE.md together.
#[test]
fn the_crates_are_the_layering() {
    let rules: [(&str, &[&str]); 5] = [
        (
            "crates/lang/Cargo.toml",
            &["harmonyql", "harmonyql-data", "harmonyql-server", "tokio", "reqwest", "hdf5", "axum"],
        ),
        ("crates/data/Cargo.toml", &["harmonyql", "harmonyql-server", "tokio", "reqwest", "axum"]),
        ("crates/server/Cargo.toml", &["harmonyql", "reqwest", "jupyter-protocol", "zeromq"]),
        ("crates/harmonyql/Cargo.toml", &["harmonyql-server", "axum", "redb"]),
        // The Python module is a front end of the library, like the kernel: never the server.
        ("crates/python/Cargo.toml", &["harmonyql-server", "axum", "redb"]),
    ];
    for (manifest, forbidden) in rules {
        let text = std::fs::read_to_string(workspace().join(manifest)).unwrap_or_else(|e| panic!("{manifest}: {e}"));
        let dependencies = text.split("[dev-dependencies]").next().unwrap();
        let names: Vec<&str> = dependencies
            .lines()
            .filter_map(|line| line.split(['.', ' ', '=']).next())
            .filter(|name| !name.is_empty() && !name.starts_with(['[', '#']))
            .collect();
        for name in forbidden {
            assert!(!names.contains(name), "{manifest} depends on `{name}`, which its layer must not");
        }
    }
}

/// Every file under `dir` (recursively) whose name ends with `extension`.
fn files_with(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("node_modules") && !path.ends_with(".venv") {
                found.extend(files_with(&path, extension));
            }
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found
}

/// The security pages' tables name the tests that check each row (`module::test_name`, or a Python file with
/// `::test_name`); each named test must exist, so a renamed or deleted test fails here instead of leaving the table
/// claiming a defence nobody checks.
#[test]
fn security_tables_name_real_tests() {
    let mut pages = vec![workspace().join("docs/SECURITY.md")];
    let pages_dir = workspace().join("docs/security");
    if pages_dir.is_dir() {
        pages.extend(files_with(&pages_dir, "md"));
    }
    let mut rust = String::new();
    for root in ["crates", "src", "tests/it"] {
        for path in files_with(&dir(root), "rs") {
            rust.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let mut python = String::new();
    for path in files_with(&dir("tests/python"), "py") {
        python.push_str(&std::fs::read_to_string(path).unwrap());
    }
    let mut named = 0;
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for row in text.lines().filter(|line| line.starts_with('|') && !line.starts_with("|---")) {
            let Some(tests) = row.trim_end_matches('|').rsplit('|').next() else { continue };
            for reference in tests.split('`').skip(1).step_by(2) {
                let Some((_, name)) = reference.rsplit_once("::") else { continue };
                if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') || name.is_empty() {
                    continue;
                }
                let found = if reference.contains(".py") {
                    python.contains(&format!("def {name}("))
                } else {
                    rust.contains(&format!("fn {name}("))
                };
                assert!(found, "{}: the table names `{reference}`, which no test defines", page.display());
                named += 1;
            }
        }
    }
    assert!(named > 0 || !workspace().join("docs/security").is_dir(), "the security tables name no test at all");
}
