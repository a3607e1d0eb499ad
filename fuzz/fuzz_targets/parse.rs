//! Fuzz target: any text through parse, check, compile and every rendering must not panic,
//! and every diagnostic span must lie on character boundaries inside the text.
#![no_main]

use harmonyql::eval::session::{Config, Mode, Session};
use harmonyql::lang::parse::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse(text);
    for diagnostic in &parsed.diagnostics {
        assert!(diagnostic.span.end <= text.len());
        assert!(text.is_char_boundary(diagnostic.span.start) && text.is_char_boundary(diagnostic.span.end));
        let _ = diagnostic.render_plain(text, "fuzz");
        let _ = diagnostic.render_html(text);
    }
    let _ = parsed.ast.to_source();
    for mode in [Mode::ShowUrl, Mode::ShowCurl] {
        let mut session = Session::new(Config { mode, ..Config::default() });
        let mut reports = Vec::new();
        session.run(text, &mut reports);
    }
});
