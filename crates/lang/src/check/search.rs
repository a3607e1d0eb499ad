//! Checking `collections …` and `granules …`: what to search for, where and when, and how many to list.
//!
//! The spatial and temporal clauses are the ones `subset` takes, checked by the same rules, so a box that
//! finds granules is a box that orders them.

use crate::api::cmr::Concept;
use crate::ast::{ClauseValue, Command, TermKind};
use crate::diagnostic::Diagnostic;
use crate::keyword::ClauseName;
use crate::query::*;
use crate::span::Span;

use std::collections::BTreeMap;

use super::Checker;

impl Checker {
    pub(super) fn search(&mut self, command: &Command, concept: Concept) -> Option<Query> {
        let errors_before = self.error_count();
        let mut query = SearchQuery {
            concept,
            keyword: None,
            collection: None,
            provider: None,
            version: None,
            cloud_hosted: None,
            spatial: None,
            shape: None,
            shape_rings: None,
            temporal: None,
            limit: None,
        };
        match (concept, command.args.first().map(|term| &term.node)) {
            // A quoted text is free text; a bare word is a short name or concept ID.
            (Concept::Collections, Some(TermKind::Str(text))) => {
                if text.trim().is_empty() {
                    self.error(
                        Diagnostic::error("empty-keyword", "the search text is empty", command.args[0].span)
                            .with_hint("write the words to look for, e.g. collections \"sea ice\""),
                    );
                }
                query.keyword = Some(text.trim().to_owned());
            }
            (Concept::Collections, None) => {}
            _ => query.collection = self.collection(command),
        }
        let mut seen: BTreeMap<ClauseName, Span> = BTreeMap::new();
        let mut spatial_span: Option<Span> = None;
        for clause in &command.clauses {
            let name = clause.name.node;
            if let Some(first) = seen.insert(name, clause.span) {
                self.error(crate::check::statement::duplicate_clause(name, clause.span, first));
                continue;
            }
            let is_spatial = name == ClauseName::Bbox || name == ClauseName::Shape || name.is_wkt();
            if is_spatial && spatial_span.replace(clause.span).is_some() {
                self.error(
                    Diagnostic::error(
                        "two-spatial",
                        "a search has one area: a bbox, a WKT geometry or a shape file",
                        clause.span,
                    )
                    .with_hint("keep one of them; to search several areas use a multipolygon or a shape file"),
                );
                continue;
            }
            match (&clause.value, name) {
                (ClauseValue::Value(term), ClauseName::Provider) => {
                    query.provider = self.text(term, "a provider");
                    if let Some(provider) = &query.provider
                        && !provider.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        self.error(
                            Diagnostic::error(
                                "bad-provider",
                                format!("`{provider}` is not a CMR provider ID"),
                                term.span,
                            )
                            .with_hint("provider IDs are letters, digits and `_`, e.g. NSIDC_CPRD or POCLOUD"),
                        );
                    }
                }
                (ClauseValue::Value(term), ClauseName::Version) => query.version = self.text(term, "a version"),
                (ClauseValue::Value(term), ClauseName::Limit) => {
                    query.limit = self.integer(term, "limit", 1, MAX_SEARCH_LIMIT)
                }
                (ClauseValue::Flag(value), ClauseName::Cloud) => {
                    query.cloud_hosted = Some(value.as_ref().is_none_or(|v| v.node))
                }
                _ => {
                    // bbox, WKT, shape and time: exactly as `subset` checks them.
                    let mut subset = SubsetQuery::default();
                    self.subset_clause(clause, &mut subset);
                    query.spatial = query.spatial.take().or(subset.spatial);
                    query.shape = query.shape.take().or(subset.shape);
                    query.temporal = query.temporal.take().or(subset.temporal);
                }
            }
        }
        if self.error_count() != errors_before {
            return None;
        }
        if concept == Concept::Granules && query.collection.is_none() {
            return None;
        }
        Some(Query::Search(Box::new(query)))
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{Scope, ValueKind, check};
    use crate::parse::parse;
    use crate::query::Query;

    #[test]
    fn a_granules_result_is_ordered_by_name_and_only_so() {
        let checked = check(
            &parse("found = granules ATL03 limit 3\nsubset found vars(/gt1l/heights/h_ph)").ast,
            &Scope::default(),
        );
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
        let Query::Subset(subset) = &checked.statements[1].query else { panic!() };
        assert_eq!((subset.collection.as_ref(), subset.granules_from.as_deref()), (None, Some("found")));

        let mut scope = Scope::default();
        scope.bindings.insert("found".into(), ValueKind::Granules);
        let twice = check(&parse("subset found granule(G1-P)").ast, &scope);
        assert_eq!(twice.diagnostics[0].code, "granules-twice");
        // A name bound to anything else is still a collection short name.
        scope.bindings.insert("files".into(), ValueKind::Files);
        let checked = check(&parse("subset files").ast, &scope);
        let Query::Subset(subset) = &checked.statements[0].query else { panic!() };
        assert_eq!(subset.collection.as_ref().map(|c| c.0.as_str()), Some("files"));
        let plot = check(&parse("plot granules files").ast, &scope);
        assert_eq!(plot.diagnostics[0].code, "not-granules");
    }
}
