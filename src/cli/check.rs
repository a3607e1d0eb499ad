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
        let file_errors = diagnostics.iter().filter(|d| d.is_error()).count();
        for diagnostic in &first_shown(diagnostics) {
            eprintln!("{}", diagnostic.render_short(&text, path));
            let block = if colour { diagnostic.render_ansi(&text, path) } else { diagnostic.render_plain(&text, path) };
            eprintln!("{block}");
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
