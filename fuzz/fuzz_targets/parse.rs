//! Fuzz target: any text through parse, check, compile and every rendering must not panic,
//! and every diagnostic span must lie on character boundaries inside the text. Depends on the
//! language crate alone, so the fuzzer instruments only the code it fuzzes.
#![no_main]

use harmonyql_lang::api::environment::Environment;
use harmonyql_lang::check::{Scope, check};
use harmonyql_lang::compile::{CompileOptions, compile};
use harmonyql_lang::parse::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse(text);
    let checked = check(&parsed.ast, &Scope::default());
    for diagnostic in parsed.diagnostics.iter().chain(&checked.diagnostics) {
        assert!(diagnostic.span.end <= text.len());
        assert!(text.is_char_boundary(diagnostic.span.start) && text.is_char_boundary(diagnostic.span.end));
        let _ = diagnostic.render_plain(text, "fuzz");
        let _ = diagnostic.render_html(text);
    }
    let _ = parsed.ast.to_source();
    for statement in &checked.statements {
        for env in [Environment::Prod, Environment::Local { port: 3000 }] {
            if let Ok(request) = compile(&statement.query, &env, &CompileOptions::default()) {
                let _ = request.to_url();
                let _ = request.to_curl(&[]);
            }
        }
    }
});
