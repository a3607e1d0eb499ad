//! Completion, inspection and `is_complete` for a session: what the language offers at the cursor (keywords,
//! clauses, values from `lang::assist`), what the session knows (bound names, the environment's collections and
//! their variables, fetched and cached by [`Session::prepare_assist`]) and file paths. The interpreter owns this,
//! as in xeus; the kernel only relays it.

use std::path::Path;

use crate::eval::session::Session;
use crate::lang::assist::{self, Completeness, Expect, context_at};

/// What completion offers at a cursor: the candidates and the byte range they replace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completions {
    /// Candidates in display order, each with what it is (`statement`, `clause`, `collection`, `variable`,
    /// `name`, `value`, `path`).
    pub items: Vec<(String, &'static str)>,
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Byte offset where the replaced text ends.
    pub end: usize,
}

impl Session {
    /// What completion may offer beyond keywords: bound names, the environment's collections and the
    /// variables of collections whose capabilities are cached (see [`Session::prepare_assist`]).
    pub fn known(&self) -> assist::Known {
        assist::Known {
            bindings: self.scope.bindings.iter().map(|(name, kind)| (name.clone(), *kind)).collect(),
            collections: self.catalog.collections(&self.env),
            variables: self.catalog.all_variables(&self.env),
        }
    }

    /// Fetches what completion or inspection at `cursor` needs from the environment: the collection
    /// listing after `subset`/`capabilities`, a collection's capabilities inside `vars(` or under the
    /// cursor. Each fetch is bounded (under a second) and cached; failures fall back silently.
    pub async fn prepare_assist(&mut self, code: &str, cursor: usize) {
        let Ok(client) = self.client() else { return };
        match context_at(code, cursor).expect {
            Expect::Collection => self.catalog.fetch_listing(&client).await,
            Expect::Variable(Some(collection)) => self.catalog.fetch_capabilities(&client, &collection).await,
            _ => {}
        }
        if let Some(collection) = collection_at(code, cursor) {
            self.catalog.fetch_capabilities(&client, &collection).await;
        }
    }

    /// A summary of the collection under `cursor` (Markdown), if its capabilities are cached.
    pub fn collection_help(&self, code: &str, cursor: usize) -> Option<String> {
        let collection = collection_at(code, cursor)?;
        self.catalog.capabilities(&self.env, &collection).map(crate::eval::catalog::summary)
    }

    /// Completions at `cursor` (a byte offset): keywords and values from the grammar, names and collections
    /// the session knows, and file paths (relative to `cwd`) where a path goes.
    pub fn complete(&self, code: &str, cursor: usize, cwd: &Path) -> Completions {
        let (span, candidates) = assist::complete(code, cursor, &self.known());
        let mut items: Vec<(String, &'static str)> = candidates.into_iter().map(|c| (c.text, c.kind)).collect();
        let context = context_at(code, cursor);
        if context.expect == Expect::Path {
            items.extend(crate::eval::paths::complete_paths(&context.prefix, cwd).into_iter().map(|p| (p, "path")));
        }
        Completions { items, start: span.start, end: span.end }
    }

    /// Help for what stands at `cursor`, as Markdown: a collection's capabilities when they are cached, else the
    /// keyword's documentation.
    pub fn inspect(&self, code: &str, cursor: usize) -> Option<String> {
        self.collection_help(code, cursor).or_else(|| assist::inspect(code, cursor).map(|(_, markdown)| markdown))
    }

    /// Whether `code` is ready to run, or more lines could complete it.
    pub fn is_complete(&self, code: &str) -> Completeness {
        assist::is_complete(code)
    }
}

/// The collection name under `cursor`, when it stands where a collection goes (after `subset`, `capabilities`).
fn collection_at(code: &str, cursor: usize) -> Option<String> {
    let is_word = |c: char| crate::lang::lex::is_word_char(c) && c != ':';
    let cursor = (0..=cursor.min(code.len())).rev().find(|i| code.is_char_boundary(*i))?;
    let start = code[..cursor].char_indices().rev().take_while(|(_, c)| is_word(*c)).last().map_or(cursor, |(i, _)| i);
    let end = code[cursor..].char_indices().find(|(_, c)| !is_word(*c)).map_or(code.len(), |(i, _)| cursor + i);
    let word = &code[start..end];
    let expects_collection = context_at(code, start).expect == Expect::Collection;
    (!word.is_empty() && expects_collection).then(|| word.to_owned())
}
