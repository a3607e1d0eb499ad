//! Golden tests of the `hq` binary (built by cargo as `CARGO_BIN_EXE_hq`), run in a temporary directory.

use std::process::{Command, Output};

fn hq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hq"))
        .args(args)
        .env_remove("HARMONY_ROOT_URL")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("hq runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn url_prints_the_tutorial_appendix_url_plus_our_label() {
    let output = hq(&[
        "url",
        "subset C1256407609-NSIDC_CUAT bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)",
        "--env",
        "uat",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "https://harmony.uat.earthdata.nasa.gov/C1256407609-NSIDC_CUAT/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&subset=lat%2840%3A41.0%29&subset=lon%28-105.5%3A-105%29&subset=time%28%222020-04-27T00%3A00%3A00%22%3A%222020-05-28T00%3A00%3A00%22%29&label=harmonyql&variable=all\n"
    );
}

#[test]
fn url_with_the_harmony_py_label_or_none() {
    let with = hq(&["url", "subset C1940468263-POCLOUD bbox(-107,40,-105,42)", "--label", "harmony-py"]);
    assert!(stdout(&with).ends_with("&label=harmony-py&variable=all\n"), "{}", stdout(&with));
    let without = hq(&["url", "subset C1940468263-POCLOUD bbox(-107,40,-105,42)", "--no-label"]);
    assert!(stdout(&without).ends_with("subset=lon%28-107%3A-105%29&variable=all\n"), "{}", stdout(&without));
}

#[test]
fn harmony_root_url_chooses_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_hq"))
        .args(["url", "capabilities ATL03"])
        .env("HARMONY_ROOT_URL", "http://127.0.0.1:3001")
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "http://127.0.0.1:3001/capabilities?shortname=ATL03\n");
}

#[test]
fn curl_renders_the_multipart_submission() {
    let output = hq(&["curl", "subset ATL03 bbox(-105.5,40,-105,41) granule(G1-P, G2-P)", "--env", "local"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("curl -L -H 'User-Agent: harmonyql/"), "{text}");
    assert!(text.contains("--form-string 'subset=lat(40:41)' --form-string 'subset=lon(-105.5:-105)'"), "{text}");
    assert!(text.contains("--form-string 'granuleId=G1-P,G2-P'"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "'http://localhost:3000/ATL03/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset'"
        ),
        "{text}"
    );
}

#[test]
fn a_wrong_line_gets_a_caret_and_exit_code_1() {
    let output = hq(&["url", "subset ATL03 bbox(-105.5, 40, -105"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "error[unclosed-paren]: unclosed `(` in `bbox`\n --> statement:1:18\n  |\n1 | subset ATL03 bbox(-105.5, 40, -105\n  |                  ^ this `(` is never closed\n  = hint: add `)` at the end of the arguments\n\n"
    );
}

#[test]
fn check_reports_file_line_col_and_fails() {
    let dir = std::env::temp_dir().join(format!("hq-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.hq");
    std::fs::write(&good, "env local\njob = subset ATL03 bbox(-105.5, 40, -105, 41)\nwait job\n").unwrap();
    let bad = dir.join("bad.hq");
    std::fs::write(&bad, "env local\nsubset ATL03 format geotif\n").unwrap();
    let ok = hq(&["check", good.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("good.hq: ok, 3 statements"));
    let failed = hq(&["check", bad.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1));
    let text = stderr(&failed);
    assert!(text.contains(&format!("{}:2:21: error: unknown format `geotif`", bad.display())), "{text}");
    assert!(text.contains("  |                     ^^^^^^ did you mean `geotiff`?"), "{text}");
    let missing = hq(&["check", dir.join("missing.hq").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(3));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_refuses_deep_nesting_with_a_diagnostic_instead_of_aborting() {
    // 10,000 `(` once overflowed the parser's stack: `hq check` died with SIGABRT (exit 134).
    let dir = std::env::temp_dir().join(format!("hq-check-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [
        ("open.hq", format!("subset ATL03 bbox{}\n", "(".repeat(10_000))),
        ("closed.hq", format!("subset ATL03 bbox{}{}\n", "(".repeat(10_000), ")".repeat(10_000))),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let output = hq(&["check", path.to_str().unwrap()]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", &text[..text.len().min(2000)]);
        assert!(text.contains(&format!("{}:1:50: error: nesting deeper than 32 levels", path.display())), "{name}");
        assert!(text.contains("error[too-deep]"), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_output_stays_small_for_thousands_of_errors_on_one_long_line() {
    // 3,999 duplicate `limit`s on one 32 KB line once printed ~190 MB: every error repeated the whole line.
    let dir = std::env::temp_dir().join(format!("hq-check-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many.hq");
    std::fs::write(&path, format!("subset ATL03 {}\n", "limit 1 ".repeat(4_000))).unwrap();
    let output = hq(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stderr.len() < 64 * 1024, "{} bytes of diagnostics", output.stderr.len());
    let text = stderr(&output);
    assert!(text.contains("note[more-diagnostics]: … and 3979 more errors not shown"), "{text}");
    assert!(text.ends_with("3999 errors\n"), "the count is of every error: {text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_has_examples_and_exit_codes() {
    let output = hq(&["--help"]);
    let text = stdout(&output);
    assert!(text.contains("hq url 'subset C1256407609-NSIDC_CUAT"), "{text}");
    assert!(text.contains("Exit codes:"), "{text}");
}

#[test]
fn unknown_environment_is_a_usage_error() {
    let output = hq(&["url", "capabilities ATL03", "--env", "staging"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown environment `staging`"));
}
