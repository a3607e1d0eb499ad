//! `help`: statement and clause documentation, written from the keyword table so it never drifts.

use std::fmt::Write as _;

use crate::lang::keyword::{CLAUSES, ClauseName, VERBS, Verb, nearest};

/// The help text for `topic` (a statement or clause name), or the overview when `None`.
///
/// ```
/// use harmonyql::eval::help::render;
/// assert!(render(None).contains("subset COLLECTION"));
/// assert!(render(Some("bbox")).contains("bbox(west, south, east, north)"));
/// ```
pub fn render(topic: Option<&str>) -> String {
    let Some(topic) = topic else { return overview() };
    let key = topic.trim().to_ascii_lowercase().replace(' ', "_");
    let verb = Verb::from_keyword(&key).map(verb_help);
    let clause = ClauseName::from_keyword(&key).map(|clause| {
        let info = clause.info();
        let used_by: Vec<&str> = VERBS.iter().filter(|v| v.verb.clauses().contains(&clause)).map(|v| v.name).collect();
        format!("{}\n    {}\n    a clause of: {}\n", info.usage, info.doc, used_by.join(", "))
    });
    match (verb, clause) {
        (Some(verb), Some(clause)) => return format!("{verb}\nas a clause:\n{clause}"),
        (Some(text), None) | (None, Some(text)) => return text,
        (None, None) => {}
    }
    let names = VERBS.iter().map(|v| v.name).chain(CLAUSES.iter().map(|c| c.keyword));
    match nearest(&key, names) {
        Some(best) => format!("no help on `{topic}`; did you mean `help {best}`?\n"),
        None => format!("no help on `{topic}`; `help` lists the statements\n"),
    }
}

fn overview() -> String {
    let mut out = String::from("HarmonyQL statements (`help NAME` for details):\n\n");
    let width = VERBS.iter().map(|v| v.usage.len().min(48)).max().unwrap_or(0);
    for info in VERBS {
        let _ = writeln!(out, "  {:width$}  {}", info.usage, info.doc);
    }
    out.push_str(
        "\nNames: `job = subset …` names a result; later statements use the name (`wait job`).\n\
         Several statements per cell: one per line or separated by `;`; indent a line to continue a statement.\n\
         Comments start with `#`.\n",
    );
    out
}

fn verb_help(verb: Verb) -> String {
    let info = verb.info();
    let mut out = format!("{}\n    {}\n    example: {}\n", info.usage, info.doc, info.example);
    let clauses = verb.clauses();
    if !clauses.is_empty() {
        out.push_str("\nclauses:\n");
        let width = clauses.iter().map(|c| c.info().usage.len()).max().unwrap_or(0);
        for clause in clauses {
            let _ = writeln!(out, "  {:width$}  {}", clause.info().usage, clause.info().doc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_and_clause_has_help() {
        for info in VERBS {
            assert!(render(Some(info.name)).contains(info.usage), "{}", info.name);
        }
        for info in CLAUSES {
            assert!(render(Some(info.keyword)).contains(info.doc), "{}", info.keyword);
        }
    }

    #[test]
    fn unknown_topics_suggest() {
        assert_eq!(render(Some("subst")), "no help on `subst`; did you mean `help subset`?\n");
        assert!(render(Some("skip preview")).contains("skip preview [JOB]"));
    }
}
