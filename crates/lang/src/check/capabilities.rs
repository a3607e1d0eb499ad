//! Checks against what a collection can do, when its capabilities are known (a `capabilities` answer the
//! session kept): variable subsetting and variable names (with the nearest real one), reprojection, output
//! formats and shape subsetting. Without capabilities nothing is guessed, so offline checks stay offline.

use crate::api::capabilities::CapabilitiesV2;
use crate::ast::{Ast, ClauseValue, Command, TermKind};
use crate::diagnostic::Diagnostic;
use crate::keyword::{ClauseName, Verb, edit_distance};

use super::FORMATS;

/// Diagnostics for every `subset` in `ast` whose collection `known` has capabilities for.
pub fn against_capabilities(ast: &Ast, known: &dyn Fn(&str) -> Option<CapabilitiesV2>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for statement in &ast.statements {
        let command = match &statement.command.inner {
            Some(inner) => inner.as_ref(),
            None => &statement.command,
        };
        if command.verb.node != Verb::Subset {
            continue;
        }
        let Some(TermKind::Word(collection)) = command.args.first().map(|term| &term.node) else { continue };
        if let Some(capabilities) = known(collection) {
            // A name bound to a search (`subset found …`) is shown with the collection it stands for.
            let short_name = capabilities.short_name.as_str();
            let shown = if short_name.is_empty() || short_name == collection || capabilities.concept_id == *collection {
                collection.clone()
            } else {
                format!("{collection} ({short_name})")
            };
            check_command(command, &shown, &capabilities, &mut diagnostics);
        }
    }
    diagnostics
}

fn check_command(command: &Command, collection: &str, caps: &CapabilitiesV2, out: &mut Vec<Diagnostic>) {
    let offers = supported(caps);
    let unsupported = |what: &str, span| {
        Diagnostic::error("not-supported", format!("{collection} does not offer {what}"), span)
            .with_hint(format!("{collection} offers: {offers}"))
    };
    for clause in &command.clauses {
        match (clause.name.node, &clause.value) {
            (ClauseName::Vars, ClauseValue::Call(args)) => {
                let names: Vec<(String, crate::span::Span)> = args
                    .iter()
                    .filter_map(|arg| super::single_term(arg))
                    .filter_map(|term| term.node.text().map(|text| (text.to_owned(), term.span)))
                    .filter(|(name, _)| !name.eq_ignore_ascii_case("all"))
                    .collect();
                if names.is_empty() {
                    continue;
                }
                if !caps.variable_subset {
                    out.push(unsupported("variable subsetting", clause.span));
                    continue;
                }
                let real: Vec<&str> = caps.variables.iter().map(|variable| variable.name.as_str()).collect();
                for (name, span) in names {
                    let bare = name.trim_start_matches('/');
                    if real.iter().any(|known| known.trim_start_matches('/').eq_ignore_ascii_case(bare)) {
                        continue;
                    }
                    let mut diagnostic =
                        Diagnostic::error("unknown-variable", format!("{collection} has no variable `{name}`"), span);
                    let nearest = real
                        .iter()
                        .map(|known| {
                            (edit_distance(&bare.to_lowercase(), &known.trim_start_matches('/').to_lowercase()), known)
                        })
                        .min_by_key(|(distance, _)| *distance);
                    match nearest {
                        Some((distance, known)) if distance <= bare.len().max(3) / 3 => {
                            let replacement = if name.starts_with('/') && !known.starts_with('/') {
                                format!("/{known}")
                            } else {
                                (*known).to_owned()
                            };
                            diagnostic = diagnostic
                                .with_label(format!("did you mean `{replacement}`?"))
                                .with_fix(span, replacement);
                        }
                        _ => {
                            let shown: Vec<&str> = real.iter().take(8).copied().collect();
                            let more = real.len().saturating_sub(shown.len());
                            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
                            diagnostic = diagnostic.with_hint(format!("its variables: {}{tail}", shown.join(", ")));
                        }
                    }
                    out.push(diagnostic);
                }
            }
            (ClauseName::Crs, _) if !caps.reproject => out.push(unsupported("reprojection", clause.span)),
            (ClauseName::Shape, _) if !caps.shape_subset => out.push(unsupported("shape file subsetting", clause.span)),
            (ClauseName::Bbox, _) if !caps.bbox_subset => out.push(unsupported("bounding box subsetting", clause.span)),
            (ClauseName::Time, _) if !caps.temporal_subset => out.push(unsupported("temporal subsetting", clause.span)),
            (ClauseName::Concatenate, _) if !caps.concatenate => out.push(unsupported("concatenation", clause.span)),
            (ClauseName::Format, ClauseValue::Value(term)) => {
                let Some(text) = term.node.text() else { continue };
                let mime = FORMATS
                    .iter()
                    .find(|(friendly, _)| friendly.eq_ignore_ascii_case(text))
                    .map_or(text, |(_, mime)| mime);
                if !caps.output_formats.iter().any(|offered| offered.eq_ignore_ascii_case(mime)) {
                    out.push(
                        Diagnostic::error(
                            "format-not-offered",
                            format!("{collection} is not offered as {mime}"),
                            term.span,
                        )
                        .with_hint(format!("its output formats: {}", caps.output_formats.join(", "))),
                    );
                }
            }
            _ => {}
        }
    }
}

/// What the collection supports, as one line for hints.
fn supported(caps: &CapabilitiesV2) -> String {
    let mut offers = Vec::new();
    for (flag, what) in [
        (caps.variable_subset, "variable subsetting"),
        (caps.bbox_subset, "bounding box subsetting"),
        (caps.shape_subset, "shape file subsetting"),
        (caps.temporal_subset, "temporal subsetting"),
        (caps.reproject, "reprojection"),
        (caps.concatenate, "concatenation"),
    ] {
        if flag {
            offers.push(what.to_owned());
        }
    }
    if !caps.output_formats.is_empty() {
        offers.push(format!("formats {}", caps.output_formats.join(", ")));
    }
    if offers.is_empty() { "no transformation".to_owned() } else { offers.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::capabilities::VariableV2;
    use crate::parse::parse;

    fn atl03() -> CapabilitiesV2 {
        serde_json::from_value(serde_json::json!({
            "conceptId": "C1-P", "shortName": "ATL03", "variableSubset": true, "bboxSubset": true,
            "shapeSubset": false, "temporalSubset": true, "concatenate": false, "reproject": false,
            "outputFormats": ["application/x-hdf5"], "services": [], "variables": [],
            "capabilitiesVersion": "2"
        }))
        .map(|mut caps: CapabilitiesV2| {
            caps.variables = ["gt1l/heights/h_ph", "gt1l/heights/lat_ph", "gt1r/heights/h_ph"]
                .map(|name| VariableV2 { name: name.into(), href: String::new() })
                .to_vec();
            caps
        })
        .unwrap()
    }

    fn codes(cell: &str) -> Vec<(String, String)> {
        let caps = atl03();
        let known = |name: &str| (name == "ATL03").then(|| caps.clone());
        against_capabilities(&parse(cell).ast, &known)
            .into_iter()
            .map(|d| (d.code.to_owned(), d.label.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn what_the_collection_cannot_do_is_an_error_with_the_nearest_variable() {
        assert_eq!(
            codes("subset ATL03 vars(/gt1l/heights/h_phh, /gt1l/heights/lat_ph)"),
            [("unknown-variable".to_owned(), "did you mean `/gt1l/heights/h_ph`?".to_owned())]
        );
        assert!(codes("subset ATL03 vars(gt1l/heights/h_ph) bbox(-105.5, 40, -105, 41) format hdf5").is_empty());
        let found: Vec<String> = codes("url subset ATL03 crs EPSG:4326 format geotiff shape(\"a.geojson\")")
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        assert_eq!(found, ["not-supported", "format-not-offered", "not-supported"]);
        // Unknown collections are not guessed about.
        assert!(codes("subset SPL3SMP vars(nothing) crs EPSG:4326").is_empty());
    }

    #[test]
    fn a_name_bound_to_a_search_is_shown_with_its_collection() {
        let caps = atl03();
        let known = |name: &str| (name == "found").then(|| caps.clone());
        let diagnostics = against_capabilities(&parse("subset found vars(/gt1l/heights/h_phh)").ast, &known);
        assert_eq!(diagnostics[0].message, "found (ATL03) has no variable `/gt1l/heights/h_phh`");
    }
}
