//! Completion, inspection and completeness, all from the same grammar and keyword table.
//!
//! Pure: what to offer for names that live outside the text (collections of the current
//! environment, a collection's variables, bound names, file paths) arrives in [`Known`]; the caller
//! adds file paths for [`Expect::Path`] itself, since listing directories is I/O.

use crate::check::{FORMATS, ValueKind};
use crate::keyword::{CLAUSES, ClauseName, Form, VERBS, Verb};
use crate::lex;
use crate::parse::{parse, split_statements};
use crate::query::PlotKind;
use crate::span::Span;

/// Names outside the text that completion may offer.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Bound names and what they hold.
    pub bindings: Vec<(String, ValueKind)>,
    /// Collection short names (and concept IDs) of the current environment.
    pub collections: Vec<String>,
    /// Variables of collections, by the collection name as typed.
    pub variables: Vec<(String, Vec<String>)>,
}

/// Short names offered when the environment's catalog is not known: NASA collections Harmony serves
/// that tutorials use.
pub const WELL_KNOWN_COLLECTIONS: &[&str] = &[
    "ATL03",
    "ATL06",
    "ATL07",
    "ATL08",
    "ATL10",
    "SPL2SMP",
    "SPL2SMP_E",
    "SPL3SMP",
    "SPL3SMP_E",
    "SPL4CMDL",
    "SPL4SMAU",
];

/// What may stand at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A statement keyword or a bound name.
    Statement,
    /// A collection.
    Collection,
    /// A clause of this verb.
    Clause(Verb),
    /// A variable of this collection (inside `vars(…)`).
    Variable(Option<String>),
    /// A bound job.
    Job,
    /// A file path or a bound name holding files.
    Path,
    /// One of fixed words.
    Choice(&'static [&'static str]),
    /// Nothing we can help with (a number, a date).
    Nothing,
}

/// Where the word being typed is and what may stand there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionContext {
    /// The bytes the completion replaces (the word typed so far).
    pub span: Span,
    /// That word.
    pub prefix: String,
    /// What may stand there.
    pub expect: Expect,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The text to insert.
    pub text: String,
    /// What it is: `statement`, `clause`, `collection`, `variable`, `name`, `value`.
    pub kind: &'static str,
}

/// Completions at `cursor` (a byte offset on a character boundary) for everything but file paths.
///
/// ```
/// use harmonyql_lang::assist::{complete, Known};
/// let (span, items) = complete("sub", 3, &Known::default());
/// assert_eq!((span.start, items[0].text.as_str()), (0, "subset"));
/// ```
pub fn complete(text: &str, cursor: usize, known: &Known) -> (Span, Vec<Candidate>) {
    let context = context_at(text, cursor);
    let prefix = context.prefix.to_ascii_lowercase();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut offer = |text: &str, kind: &'static str| {
        if text.to_ascii_lowercase().starts_with(&prefix) && !candidates.iter().any(|c| c.text == text) {
            candidates.push(Candidate { text: text.to_owned(), kind });
        }
    };
    match &context.expect {
        Expect::Statement => {
            for info in VERBS {
                offer(&info.name.replace('_', " "), "statement");
            }
            for (name, _) in &known.bindings {
                offer(name, "name");
            }
        }
        Expect::Collection => {
            for name in &known.collections {
                offer(name, "collection");
            }
            if known.collections.is_empty() {
                for name in WELL_KNOWN_COLLECTIONS {
                    offer(name, "collection");
                }
            }
        }
        Expect::Clause(verb) => {
            for clause in verb.clauses() {
                offer(clause.info().keyword, "clause");
            }
            if matches!(verb, Verb::Results) {
                for word in ["https", "http", "s3"] {
                    offer(word, "value");
                }
            }
        }
        Expect::Variable(collection) => {
            let variables =
                collection.as_ref().and_then(|c| known.variables.iter().find(|(name, _)| name.eq_ignore_ascii_case(c)));
            for variable in variables.map(|(_, v)| v.as_slice()).unwrap_or_default() {
                offer(variable, "variable");
            }
            offer("all", "variable");
        }
        Expect::Job => {
            for (name, kind) in &known.bindings {
                if *kind == ValueKind::Job {
                    offer(name, "name");
                }
            }
        }
        Expect::Path => {
            for (name, kind) in &known.bindings {
                if matches!(kind, ValueKind::Files | ValueKind::Dataset | ValueKind::Job) {
                    offer(name, "name");
                }
            }
        }
        Expect::Choice(words) => {
            for word in *words {
                offer(word, "value");
            }
        }
        Expect::Nothing => {}
    }
    (context.span, candidates)
}

const FORMAT_NAMES: &[&str] =
    &["geotiff", "netcdf4", "hdf5", "zarr", "png", "jpeg", "gif", "csv", "geojson", "shapefile"];
const LINK_TYPES: &[&str] = &["https", "http", "s3"];

/// Works out what may stand at `cursor`.
pub fn context_at(text: &str, cursor: usize) -> CompletionContext {
    let cursor = floor_char_boundary(text, cursor);
    let before = &text[..cursor];
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| lex::is_word_char(*c) && *c != ':')
        .last()
        .map_or(cursor, |(index, _)| index);
    let span = Span::new(word_start, cursor);
    let prefix = text[word_start..cursor].to_owned();
    let statement_start = split_statements(before).last().map_or(0, |range| range.start);
    let statement = &before[statement_start..word_start];
    let expect = expect_in(statement);
    CompletionContext { span, prefix, expect }
}

/// What may come after `statement` (the statement's text up to the word being typed).
fn expect_in(statement: &str) -> Expect {
    let (open_clause, tokens) = scan(statement);
    let mut words: &[String] = &tokens;
    // `name = …`
    if words.len() >= 2 && words[1] == "=" {
        words = &words[2..];
    }
    while words.first().is_some_and(|w| w.eq_ignore_ascii_case("url") || w.eq_ignore_ascii_case("curl")) {
        words = &words[1..];
    }
    let Some(first) = words.first() else { return Expect::Statement };
    let (verb, rest) =
        if first.eq_ignore_ascii_case("skip") && words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("preview")) {
            (Verb::SkipPreview, &words[2..])
        } else {
            match Verb::from_keyword(first) {
                Some(verb) => (verb, &words[1..]),
                None => return Expect::Nothing,
            }
        };
    if let Some(clause) = open_clause {
        return match clause.as_str() {
            "vars" => Expect::Variable(rest.first().cloned()),
            // Inside an open string: a path if a path may stand where the string started.
            "\"" => match statement.rfind(['"', '\'']).map(|quote| expect_in(&statement[..quote])) {
                Some(Expect::Path) => Expect::Path,
                _ => Expect::Nothing,
            },
            "label" | "add" | "remove" => Expect::Nothing,
            _ => Expect::Nothing,
        };
    }
    if let Some(last) = rest.last()
        && let Some(name) = ClauseName::from_keyword(last)
        && name.info().form == Form::Value
        && verb.clauses().contains(&name)
    {
        return match name {
            ClauseName::Format => Expect::Choice(FORMAT_NAMES),
            ClauseName::Average => Expect::Choice(&["time", "area"]),
            ClauseName::By => Expect::Choice(&["distance", "latitude", "time"]),
            ClauseName::Surface => Expect::Choice(&["land", "ocean", "sea_ice", "land_ice", "inland_water"]),
            ClauseName::Crs => Expect::Choice(&["EPSG:4326", "EPSG:6933", "EPSG:3413", "EPSG:3031"]),
            ClauseName::Version if verb == Verb::Capabilities => Expect::Choice(&["1", "2", "3-alpha"]),
            ClauseName::Interpolation => Expect::Choice(&["nearest", "bilinear", "cubic"]),
            ClauseName::Beam => Expect::Choice(&["gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"]),
            ClauseName::To if verb == Verb::Download => Expect::Path,
            ClauseName::To | ClauseName::From => Expect::Job,
            _ => Expect::Nothing,
        };
    }
    match verb {
        Verb::Env if rest.is_empty() => Expect::Choice(&["prod", "uat", "sit", "local"]),
        Verb::Set if rest.is_empty() => Expect::Choice(&["label"]),
        Verb::Login if rest.is_empty() => Expect::Choice(&["user", "token", "netrc", "env"]),
        Verb::Help if rest.is_empty() => Expect::Statement,
        Verb::Subset | Verb::Capabilities | Verb::Granules | Verb::Collections if rest.is_empty() => Expect::Collection,
        Verb::Wait
        | Verb::Status
        | Verb::Pause
        | Verb::Resume
        | Verb::Cancel
        | Verb::SkipPreview
        | Verb::Stac
        | Verb::Steps
        | Verb::Download
            if rest.is_empty() =>
        {
            Expect::Job
        }
        Verb::Results if rest.len() < 2 => Expect::Choice(LINK_TYPES),
        Verb::Open | Verb::Export if rest.is_empty() => Expect::Path,
        Verb::Plot if rest.is_empty() => Expect::Choice(&PlotKind::NAMES),
        Verb::Plot if rest.len() == 1 && PlotKind::from_name(&rest[0]).is_some() => Expect::Path,
        verb if !verb.clauses().is_empty() => Expect::Clause(verb),
        _ => Expect::Nothing,
    }
}

/// The words of a statement at parenthesis depth 0 (groups dropped), and the clause whose
/// parentheses are still open at the end, if any.
fn scan(statement: &str) -> (Option<String>, Vec<String>) {
    let mut tokens: Vec<String> = Vec::new();
    let mut open: Vec<Option<String>> = Vec::new();
    let mut rest = statement;
    loop {
        rest = lex::blank(rest).map_or(rest, |(r, _)| r);
        let Some(c) = rest.chars().next() else { break };
        if c == '(' {
            open.push(if open.is_empty() { tokens.last().cloned() } else { None });
            rest = &rest[1..];
        } else if c == ')' {
            open.pop();
            rest = &rest[1..];
        } else if c == '"' || c == '\'' {
            match lex::string(rest) {
                Ok((r, Some(text))) => {
                    if open.is_empty() {
                        tokens.push(text);
                    }
                    rest = r;
                }
                _ => return (Some("\"".into()), tokens),
            }
        } else if c == '=' && open.is_empty() {
            tokens.push("=".into());
            rest = &rest[1..];
        } else if let Ok((r, word)) = lex::word(rest) {
            if open.is_empty() {
                tokens.push(word.to_owned());
            }
            rest = r;
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    (open.first().cloned().flatten(), tokens)
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// What a cell needs before it can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// It parses: run it.
    Complete,
    /// The text ends inside a construct (an open parenthesis or string, a clause waiting for its value).
    Incomplete,
    /// It can never parse as it is.
    Invalid,
}

/// Whether `text` is ready to run, needs more input, or is wrong, by the one grammar.
///
/// ```
/// use harmonyql_lang::assist::{is_complete, Completeness};
/// assert_eq!(is_complete("subset ATL03 bbox(-105.5, 40"), Completeness::Incomplete);
/// assert_eq!(is_complete("subset ATL03"), Completeness::Complete);
/// assert_eq!(is_complete("subset ATL03 )"), Completeness::Invalid);
/// ```
pub fn is_complete(text: &str) -> Completeness {
    let parsed = parse(text);
    if parsed.incomplete {
        Completeness::Incomplete
    } else if parsed.diagnostics.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Invalid
    }
}

/// Documentation for the keyword or format name under `cursor`: its span and text (Markdown).
pub fn inspect(text: &str, cursor: usize) -> Option<(Span, String)> {
    let cursor = floor_char_boundary(text, cursor);
    let start = text[..cursor]
        .char_indices()
        .rev()
        .take_while(|(_, c)| lex::is_ident_char(*c))
        .last()
        .map_or(cursor, |(i, _)| i);
    let end =
        text[cursor..].char_indices().find(|(_, c)| !lex::is_ident_char(*c)).map_or(text.len(), |(i, _)| cursor + i);
    let word = &text[start..end];
    if word.is_empty() {
        return None;
    }
    let span = Span::new(start, end);
    let lower = word.to_ascii_lowercase();
    let after = text[end..].trim_start();
    let joined = after
        .split(|c: char| !lex::is_ident_char(c))
        .next()
        .map(|next| format!("{lower}_{}", next.to_ascii_lowercase()));
    let verb = joined.as_deref().and_then(Verb::from_keyword).or_else(|| Verb::from_keyword(&lower));
    let clause = joined.as_deref().and_then(ClauseName::from_keyword).or_else(|| ClauseName::from_keyword(&lower));
    let starts_statement = text[..start].trim_end().is_empty()
        || text[..start].trim_end().ends_with(['\n', ';', '='])
        || text[..start].trim_end().ends_with("url")
        || text[..start].trim_end().ends_with("curl");
    if let (Some(verb), true) = (verb, starts_statement || clause.is_none()) {
        let info = verb.info();
        let clauses: Vec<&str> = verb.clauses().iter().map(|c| c.info().keyword).collect();
        let mut doc = format!("**{}**\n\n{}.\n\nExample: `{}`", info.usage, capitalise(info.doc), info.example);
        if !clauses.is_empty() {
            doc.push_str(&format!("\n\nClauses: {}", clauses.join(", ")));
        }
        return Some((span, doc));
    }
    if let Some(clause) = clause {
        let info = clause.info();
        return Some((span, format!("**{}**\n\n{}.", info.usage, capitalise(info.doc))));
    }
    if let Some((_, mime)) = FORMATS.iter().find(|(name, _)| *name == lower) {
        return Some((span, format!("**format {lower}**\n\nOutput format `{mime}`.")));
    }
    None
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Every keyword completion could offer, for editors' syntax files.
pub fn keywords() -> Vec<&'static str> {
    VERBS.iter().map(|v| v.name).chain(CLAUSES.iter().map(|c| c.keyword)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, known: &Known) -> Vec<String> {
        let cursor = text.find('|').expect("a | marks the cursor");
        let cell = text.replace('|', "");
        complete(&cell, cursor, known).1.into_iter().map(|c| c.text).collect()
    }

    fn known() -> Known {
        Known {
            bindings: vec![("job".into(), ValueKind::Job), ("files".into(), ValueKind::Files)],
            collections: vec!["ATL03".into(), "ATL03_GT1L".into(), "SPL3SMP".into()],
            variables: vec![(
                "SPL3SMP".into(),
                vec![
                    "Soil_Moisture_Retrieval_Data_AM/soil_moisture".into(),
                    "Soil_Moisture_Retrieval_Data_PM/soil_moisture_pm".into(),
                ],
            )],
        }
    }

    #[test]
    fn completes_by_position() {
        let known = known();
        assert_eq!(texts("sub|", &known), ["subset"]);
        assert_eq!(texts("s|", &known), ["set", "subset", "steps", "status", "skip preview", "stac"]);
        assert_eq!(texts("subset AT|", &known), ["ATL03", "ATL03_GT1L"]);
        assert_eq!(texts("subset ATL03 bb|", &known), ["bbox"]);
        assert_eq!(texts("subset ATL03 bbox(1, 2, 3, 4) f|", &known), ["format"]);
        assert_eq!(texts("subset ATL03 format geo|", &known), ["geotiff", "geojson"]);
        assert_eq!(
            texts("subset SPL3SMP vars(Soil_Moisture_Retrieval_Data_A|", &known),
            ["Soil_Moisture_Retrieval_Data_AM/soil_moisture"]
        );
        assert_eq!(texts("wait j|", &known), ["job"]);
        assert_eq!(texts("x = subset ATL03\nwait |", &known), ["job"]);
        assert_eq!(texts("env u|", &known), ["uat"]);
        assert_eq!(texts("plot photons f|", &known), ["files"]);
        assert_eq!(texts("url subset ATL03 lim|", &known), ["limit"]);
        assert_eq!(texts("subset ATL03 bbox(-105|", &known), Vec::<String>::new());
    }

    #[test]
    fn paths_are_expected_where_a_file_may_stand_bare_or_in_an_open_string() {
        let cases = [
            ("open out/fi", Expect::Path, "out/fi"),
            ("open \"out/fi", Expect::Path, "out/fi"),
            ("download job to \"da", Expect::Path, "da"),
            ("plot photons \"f", Expect::Path, "f"),
            ("print \"ab", Expect::Nothing, "ab"),
            ("subset ATL03 label \"x", Expect::Nothing, "x"),
        ];
        for (cell, expect, prefix) in cases {
            let context = context_at(cell, cell.len());
            assert_eq!((context.expect, context.prefix.as_str()), (expect, prefix), "{cell}");
        }
    }

    #[test]
    fn well_known_collections_when_the_catalog_is_unknown() {
        assert_eq!(texts("subset ATL0|", &Known::default()), ["ATL03", "ATL06", "ATL07", "ATL08"]);
    }

    #[test]
    fn completion_span_counts_bytes_after_non_ascii() {
        let cell = "print \"été\"\nsu";
        let (span, items) = complete(cell, cell.len(), &Known::default());
        assert_eq!(&cell[span.start..span.end], "su");
        assert_eq!(items[0].text, "subset");
    }

    #[test]
    fn completeness_uses_the_grammar() {
        assert_eq!(is_complete("subset ATL03 bbox(-105.5, 40"), Completeness::Incomplete);
        assert_eq!(is_complete("print \"abc"), Completeness::Incomplete);
        assert_eq!(is_complete("subset ATL03 limit"), Completeness::Incomplete);
        assert_eq!(is_complete("subset ATL03 bbox(1, 2, 3, 4))"), Completeness::Invalid);
        assert_eq!(is_complete("help"), Completeness::Complete);
    }

    #[test]
    fn inspection_documents_keywords() {
        let (span, doc) = inspect("subset ATL03 bbox(1, 2, 3, 4)", 15).unwrap();
        assert_eq!(span, Span::new(13, 17));
        assert!(doc.contains("bbox(west, south, east, north)"));
        assert!(inspect("subset ATL03", 2).unwrap().1.contains("Clauses: bbox"));
        assert!(inspect("skip preview job", 1).unwrap().1.contains("skip preview [JOB]"));
        assert!(inspect("subset ATL03 format geotiff", 22).unwrap().1.contains("image/tiff"));
        assert_eq!(inspect("subset ATL03", 9), None);
    }
}
