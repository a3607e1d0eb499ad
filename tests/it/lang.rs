//! The language end to end on fixture scripts (`tests/lang/*.hq`) and property tests of the grammar.

use harmonyql::api::environment::Environment;
use harmonyql::eval::session::{Config, Mode, Session};
use harmonyql::eval::sink::Report;
use harmonyql::lang::ast::{Arg, ArgKind, Ast, Clause, ClauseValue, Command, Statement, TermKind};
use harmonyql::lang::keyword::{CLAUSES, ClauseName, Form, Verb};
use harmonyql::lang::parse::parse;
use harmonyql::lang::span::{Span, Spanned};
use proptest::prelude::*;

/// Runs a script as `hq url --label harmony-py` would and renders every report as text.
/// A first line `# mode: curl` shows curl commands instead.
fn run_script(text: &str) -> String {
    let mode = if text.starts_with("# mode: curl") { Mode::ShowCurl } else { Mode::ShowUrl };
    let config = Config { env: Environment::Prod, default_label: Some("harmony-py".into()), mode, ..Config::default() };
    let mut session = Session::new(config);
    let mut reports = Vec::new();
    session.run(text, &mut reports);
    let mut out = String::new();
    for report in reports {
        match report {
            Report::Diagnostics { source, diagnostics } => {
                for diagnostic in diagnostics {
                    out.push_str(&diagnostic.render_plain(&source, "script"));
                }
            }
            Report::Url(url) => out.push_str(&format!("url: {url}\n")),
            Report::Curl(curl) => out.push_str(&format!("curl: {curl}\n")),
            Report::Text(text) => out.push_str(&format!("text: {text}\n")),
            Report::Help(text) => out.push_str(&format!("help: {text}\n")),
            Report::Warning(text) => out.push_str(&format!("warning: {text}\n")),
            Report::Clear => out.push_str("clear\n"),
            Report::Environment { env, root_url, .. } => out.push_str(&format!("env: {env} {root_url}\n")),
            Report::NotAvailable { statement, reason } => {
                out.push_str(&format!("not available: {statement}: {reason}\n"))
            }
            Report::Failed(failure) => out.push_str(
                &harmonyql::output::report::failure_as_caret(&failure).render_plain(&failure.source, "script"),
            ),
            other => out.push_str(&format!("harmony: {}\n", harmonyql::output::report::plain(&other))),
        }
    }
    out
}

#[test]
fn fixture_scripts() {
    // A directory walk rather than insta's `glob` feature, whose globset pulled regex features into test
    // builds only, so `cargo build` and `cargo test` compiled the dependencies twice.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lang");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "hq"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 10, "expected the fixture scripts in {}", dir.display());
    for path in scripts {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        insta::with_settings!({ snapshot_suffix => name, input_file => &path }, {
            insta::assert_snapshot!(run_script(&text));
        });
    }
}

#[test]
fn a_session_survives_a_cell_of_ten_thousand_parentheses() {
    // The kernel runs cells on threads with 2 MiB stacks; half of that must be plenty.
    let reports = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let cell = format!("subset ATL03 bbox{}", "(".repeat(10_000));
            let completeness = harmonyql::lang::assist::is_complete(&cell);
            (completeness, run_script(&cell))
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(reports.0, harmonyql::lang::assist::Completeness::Invalid);
    assert!(reports.1.starts_with("error[too-deep]: nesting deeper than 32 levels"), "{}", &reports.1[..200]);
}

#[test]
fn a_twenty_megabyte_cell_is_refused_in_one_short_diagnostic() {
    let cell = "subset ATL03 ".to_owned() + &"limit 1 ".repeat(2_500_000);
    let output = run_script(&cell);
    assert!(output.starts_with("error[cell-too-large]: this cell is 20000013 bytes; the limit is 2097152"), "{output}");
    assert!(output.len() < 2048, "{} bytes", output.len());
    assert_eq!(harmonyql::lang::assist::is_complete(&cell), harmonyql::lang::assist::Completeness::Invalid);
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,6}(/[a-z_]{1,5})?".prop_filter("not a keyword", |w: &String| not_a_keyword(w))
}

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,6}".prop_filter("not a keyword", |w: &String| not_a_keyword(w))
}

fn not_a_keyword(w: &str) -> bool {
    {
        let lower = w.to_ascii_lowercase();
        Verb::from_keyword(&lower).is_none()
            && ClauseName::from_keyword(&lower).is_none()
            && ![
                "true", "false", "skip", "preview", "ignore", "errors", "pixel", "scale", "granule", "resolve", "wi",
                "step", "input", "output", "work",
            ]
            .contains(&lower.as_str())
    }
}

fn term() -> impl Strategy<Value = TermKind> {
    let atom = prop_oneof![
        "-?[0-9]{1,3}(\\.[0-9]{1,3})?".prop_map(TermKind::Number),
        "20[0-9]{2}-0[1-9]-[12][0-9](T1[0-9]:[0-5][0-9]:[0-5][0-9]Z)?".prop_map(TermKind::DateTime),
        "[ -~]{0,8}".prop_map(TermKind::Str),
        word().prop_map(TermKind::Word),
    ];
    atom.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(prop::collection::vec(inner, 1..3), 1..3).prop_map(|groups| {
            TermKind::Group(
                groups
                    .into_iter()
                    .map(|terms| Arg {
                        span: Span::default(),
                        kind: ArgKind::Terms(terms.into_iter().map(|t| Spanned::new(t, Span::default())).collect()),
                    })
                    .collect(),
            )
        })
    })
}

fn arg() -> impl Strategy<Value = Arg> {
    let spanned = |t: TermKind| Spanned::new(t, Span::default());
    prop_oneof![
        prop::collection::vec(term(), 1..3).prop_map(move |terms| Arg {
            span: Span::default(),
            kind: ArgKind::Terms(terms.into_iter().map(spanned).collect())
        }),
        (prop::option::of(term()), prop::option::of(term())).prop_map(move |(a, b)| Arg {
            span: Span::default(),
            kind: ArgKind::Range(a.map(spanned), b.map(spanned))
        }),
    ]
}

fn clause(allowed: &'static [ClauseName]) -> impl Strategy<Value = Clause> {
    (prop::sample::select(allowed), prop::collection::vec(arg(), 0..3), term(), prop::option::of(any::<bool>()))
        .prop_map(|(name, args, value, flag)| {
            let value = match name.info().form {
                Form::Call => ClauseValue::Call(args),
                Form::Value => ClauseValue::Value(Spanned::new(value, Span::default())),
                Form::Flag => ClauseValue::Flag(flag.map(|f| Spanned::new(f, Span::default()))),
            };
            Clause { span: Span::default(), name: Spanned::new(name, Span::default()), value }
        })
}

fn command() -> impl Strategy<Value = Command> {
    let verbs = vec![
        Verb::Subset,
        Verb::Capabilities,
        Verb::Jobs,
        Verb::Steps,
        Verb::Results,
        Verb::Download,
        Verb::Wait,
        Verb::SkipPreview,
        Verb::Plot,
        Verb::Help,
    ];
    prop::sample::select(verbs)
        .prop_flat_map(|verb| {
            let positional = match verb {
                Verb::Jobs => 0,
                Verb::Results | Verb::Plot => 2,
                _ => 1,
            };
            let allowed = if verb.clauses().is_empty() { &[ClauseName::Bbox][..] } else { verb.clauses() };
            (Just(verb), prop::collection::vec(term(), 0..=positional), prop::collection::vec(clause(allowed), 0..4))
        })
        .prop_map(|(verb, args, clauses)| {
            let clauses = if verb.clauses().is_empty() { Vec::new() } else { clauses };
            Command {
                span: Span::default(),
                verb: Spanned::new(verb, Span::default()),
                args: args.into_iter().map(|t| Spanned::new(t, Span::default())).collect(),
                clauses,
                inner: None,
            }
        })
}

fn ast() -> impl Strategy<Value = Ast> {
    prop::collection::vec((prop::option::of(ident()), command(), any::<bool>()), 1..4).prop_map(|items| Ast {
        statements: items
            .into_iter()
            .map(|(binding, command, wrap)| {
                let command = if wrap && binding.is_none() {
                    Command {
                        span: Span::default(),
                        verb: Spanned::new(Verb::Url, Span::default()),
                        args: Vec::new(),
                        clauses: Vec::new(),
                        inner: Some(Box::new(command)),
                    }
                } else {
                    command
                };
                Statement { span: Span::default(), binding: binding.map(|b| Spanned::new(b, Span::default())), command }
            })
            .collect(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Printing a tree and parsing it back gives the same tree.
    #[test]
    fn printing_then_parsing_gives_the_same_tree(tree in ast()) {
        let source = tree.to_source();
        let parsed = parse(&source);
        prop_assert!(parsed.diagnostics.is_empty(), "{}\n{:?}", source, parsed.diagnostics);
        prop_assert_eq!(parsed.ast.without_spans(), tree.without_spans(), "{}", source);
    }

    /// Whatever the text, parsing and checking return, with spans inside the text.
    #[test]
    fn any_text_parses_without_panicking(text in "\\PC{0,60}") {
        let parsed = parse(&text);
        for diagnostic in &parsed.diagnostics {
            prop_assert!(diagnostic.span.end <= text.len());
            prop_assert!(text.is_char_boundary(diagnostic.span.start) && text.is_char_boundary(diagnostic.span.end));
            let _ = diagnostic.render_plain(&text, "cell");
        }
        let _ = run_script(&text);
    }
}

#[test]
fn clause_table_covers_every_clause() {
    assert_eq!(CLAUSES.len(), CLAUSES.iter().map(|c| c.keyword).collect::<std::collections::BTreeSet<_>>().len());
}
