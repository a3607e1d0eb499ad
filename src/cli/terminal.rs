//! The terminal sink: results to stdout, diagnostics and notes to stderr, colour only on a terminal.

use std::io::{IsTerminal, Write};

use crate::eval::sink::{Report, Sink};

/// Prints reports for a person at a terminal (or a pipe).
pub struct Terminal {
    /// Name shown in diagnostics (`cell`, a file path).
    pub origin: String,
}

impl Sink for Terminal {
    fn report(&mut self, report: Report) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`hq url … | head`) is not an error worth reporting.
        let _ = match report {
            Report::Url(text) | Report::Curl(text) => writeln!(out, "{text}"),
            Report::Text(text) | Report::Help(text) => writeln!(out, "{}", text.trim_end()),
            Report::Warning(text) => writeln!(std::io::stderr(), "{}", text.trim_end()),
            Report::Clear => Ok(()),
            Report::Environment { env, root_url } => writeln!(out, "environment: {env} ({root_url})"),
            Report::Diagnostics { source, diagnostics } => {
                let colour = std::io::stderr().is_terminal();
                let mut err = std::io::stderr().lock();
                for diagnostic in diagnostics {
                    let text = if colour {
                        diagnostic.render_ansi(&source, &self.origin)
                    } else {
                        diagnostic.render_plain(&source, &self.origin)
                    };
                    let _ = writeln!(err, "{text}");
                }
                Ok(())
            }
            Report::NotAvailable { statement, reason } => writeln!(std::io::stderr(), "hq: {statement}: {reason}"),
        };
    }
}
