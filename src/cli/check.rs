//! `hq check FILE…`: parse and check HarmonyQL scripts without running them.

use std::io::{IsTerminal, Read};

use crate::cli::Failure;
use harmonyql::lang::check::{Scope, check};
use harmonyql::lang::diagnostic::first_shown;
use harmonyql::lang::parse::parse;

/// Arguments of `hq check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scripts to check (`-` reads standard input)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// Also ask Harmony and CMR: each subset's granule count and size (warning when Harmony will pause it
    /// for preview), and what its collection cannot do (variables, reprojection, formats, shapes)
    #[arg(long)]
    online: bool,
    /// The Harmony (and its CMR) asked with --online: prod, uat, sit, local, local:PORT or a root URL
    /// [default: HARMONY_ROOT_URL, else prod]
    #[arg(long, value_name = "ENV", requires = "online")]
    env: Option<String>,
}

/// Checks each file; every problem is printed as `FILE:LINE:COL` with the line and a caret.
pub(crate) fn run(args: CheckArgs) -> Result<(), Failure> {
    let colour = std::io::stderr().is_terminal();
    let mut errors = 0usize;
    for path in &args.files {
        let text = read(path)?;
        let parsed = parse(&text);
        let checked = check(&parsed.ast, &Scope::default());
        let mut diagnostics = parsed.diagnostics;
        diagnostics.extend(checked.diagnostics);
        let mut file_errors = diagnostics.iter().filter(|d| d.is_error()).count();
        for diagnostic in &first_shown(diagnostics) {
            eprintln!("{}", diagnostic.render_short(&text, path));
            let block = if colour { diagnostic.render_ansi(&text, path) } else { diagnostic.render_plain(&text, path) };
            eprintln!("{block}");
        }
        if args.online && file_errors == 0 {
            file_errors += online(&args, path, &text, &parsed.ast, &checked.statements, colour)?;
        }
        errors += file_errors;
        if file_errors == 0 {
            eprintln!("{path}: ok, {} statements", checked.statements.len());
        }
    }
    if errors > 0 {
        eprintln!("{errors} error{}", if errors == 1 { "" } else { "s" });
        return Err(Failure::Input);
    }
    Ok(())
}

/// `--online`: capabilities and granule estimates for each `subset`; returns the number of errors found.
fn online(
    args: &CheckArgs,
    path: &str,
    text: &str,
    ast: &harmonyql::lang::ast::Ast,
    statements: &[harmonyql::lang::query::CheckedStatement],
    colour: bool,
) -> Result<usize, Failure> {
    use harmonyql::api::capabilities::CapabilitiesV2;
    use harmonyql::harmony::auth::Credentials;
    use harmonyql::harmony::client::Client;
    use harmonyql::lang::query::{CapabilitiesQuery, Query};

    let env = crate::cli::EnvArgs { env: args.env.clone(), label: None, no_label: true }.environment()?;
    let credentials = Credentials::from_env();
    let client = Client::new(env.clone(), credentials).map_err(|error| Failure::Operation(error.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Operation(format!("cannot start the runtime: {error}")))?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let options = harmonyql::lang::compile::CompileOptions::default();
    let mut errors = 0;
    runtime.block_on(async {
        let mut known: std::collections::HashMap<String, CapabilitiesV2> = std::collections::HashMap::new();
        for statement in statements {
            let Query::Subset(subset) = &statement.query else { continue };
            let Some(collection) = &subset.collection else { continue };
            let line = text[..statement.span.start.min(text.len())].matches('\n').count() + 1;
            if !known.contains_key(&collection.0) {
                let query = Query::Capabilities(CapabilitiesQuery { collection: collection.clone(), version: None });
                match harmonyql::lang::compile::compile(&query, &env, &options) {
                    Ok(request) => match client.json::<CapabilitiesV2>(&request).await {
                        Ok(capabilities) => {
                            known.insert(collection.0.clone(), capabilities);
                        }
                        Err(error) => eprintln!("{path}:{line}: capabilities of {} not checked: {error}", collection.0),
                    },
                    Err(error) => eprintln!("{path}:{line}: {error}"),
                }
            }
            match harmonyql::eval::search::estimate(&client, subset, &env, &cancel).await {
                Ok(estimate) => eprintln!("{path}:{line}: subset {} {}", collection.0, estimate.describe()),
                Err(error) => eprintln!("{path}:{line}: granules of {} not counted: {error}", collection.0),
            }
        }
        let lookup = |name: &str| known.get(name).cloned();
        for diagnostic in harmonyql::lang::check::against_capabilities(ast, &lookup) {
            eprintln!("{}", diagnostic.render_short(text, path));
            let block = if colour { diagnostic.render_ansi(text, path) } else { diagnostic.render_plain(text, path) };
            eprintln!("{block}");
            errors += usize::from(diagnostic.is_error());
        }
    });
    Ok(errors)
}

fn read(path: &str) -> Result<String, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Io(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| Failure::Io(format!("cannot read {path}: {e}")))
}
