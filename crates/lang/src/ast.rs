//! The syntax tree: statements, clauses and terms exactly as written, each with its span; nothing resolved.
//!
//! Numbers and dates keep the text the user typed, so checking can format them as harmony-py would.
//! [`Ast::to_source`] prints a tree back as text that parses to the same tree.

use std::fmt::Write as _;

use crate::keyword::{ClauseName, Form, Verb};
use crate::span::{Span, Spanned};

/// A parsed cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ast {
    /// Its statements in order; statements with syntax errors are left out.
    pub statements: Vec<Statement>,
}

/// One statement: an optional binding, then a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The whole statement.
    pub span: Span,
    /// `name = …`.
    pub binding: Option<Spanned<String>>,
    /// What to do.
    pub command: Command,
}

/// A verb with its positional arguments and clauses.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The whole command.
    pub span: Span,
    /// The leading keyword.
    pub verb: Spanned<Verb>,
    /// Positional arguments: a collection, a job, a file, a topic, a text.
    pub args: Vec<Term>,
    /// Clauses in the order written.
    pub clauses: Vec<Clause>,
    /// The statement inside `url …` and `curl …`.
    pub inner: Option<Box<Command>>,
}

/// A clause such as `bbox(…)`, `limit 1` or `skip preview`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The whole clause.
    pub span: Span,
    /// Its name.
    pub name: Spanned<ClauseName>,
    /// Its argument.
    pub value: ClauseValue,
}

/// A clause's argument, by form.
#[derive(Debug, Clone, PartialEq)]
pub enum ClauseValue {
    /// `name(arguments)`.
    Call(Vec<Arg>),
    /// `name value`.
    Value(Term),
    /// `name` or `name true|false`.
    Flag(Option<Spanned<bool>>),
}

/// One comma-separated argument inside parentheses.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The whole argument.
    pub span: Span,
    /// Its shape.
    pub kind: ArgKind,
}

/// The shape of an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgKind {
    /// One or more terms separated by spaces (`40`, `-140 20`, `(1 2, 3 4)`).
    Terms(Vec<Term>),
    /// `START .. STOP`, either end optional.
    Range(Option<Term>, Option<Term>),
}

/// An atom or a parenthesised group.
pub type Term = Spanned<TermKind>;

/// The kinds of atoms.
#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    /// A number as typed (`40`, `41.`, `-1e-5`).
    Number(String),
    /// A date or date-time as typed (`2020-04-27`, `2020-04-27T12:00:00Z`).
    DateTime(String),
    /// A quoted string, unescaped.
    Str(String),
    /// A bare word: names, paths, IDs, MIME types, URLs (`ATL03`, `EPSG:4326`, `image/tiff`).
    Word(String),
    /// `( arguments )`.
    Group(Vec<Arg>),
}

impl TermKind {
    /// The text of a word, string, number or date; `None` for a group.
    pub fn text(&self) -> Option<&str> {
        match self {
            TermKind::Number(t) | TermKind::DateTime(t) | TermKind::Str(t) | TermKind::Word(t) => Some(t),
            TermKind::Group(_) => None,
        }
    }

    /// What kind of thing this is, for messages ("a number", "a word").
    pub fn describe(&self) -> &'static str {
        match self {
            TermKind::Number(_) => "a number",
            TermKind::DateTime(_) => "a date",
            TermKind::Str(_) => "a string",
            TermKind::Word(_) => "a word",
            TermKind::Group(_) => "a parenthesised group",
        }
    }
}

impl Ast {
    /// Prints the tree as source text, one statement per line, that parses back to the same tree.
    pub fn to_source(&self) -> String {
        let mut out = String::new();
        for statement in &self.statements {
            if let Some(binding) = &statement.binding {
                let _ = write!(out, "{} = ", binding.node);
            }
            write_command(&statement.command, &mut out);
            out.push('\n');
        }
        out
    }

    /// The same tree with every span set to zero, to compare trees regardless of layout.
    pub fn without_spans(&self) -> Ast {
        let mut ast = self.clone();
        for statement in &mut ast.statements {
            statement.span = Span::default();
            if let Some(binding) = &mut statement.binding {
                binding.span = Span::default();
            }
            erase_command(&mut statement.command);
        }
        ast
    }
}

fn write_command(command: &Command, out: &mut String) {
    match command.verb.node {
        Verb::Show => {}
        Verb::SkipPreview => out.push_str("skip preview"),
        verb => out.push_str(verb.info().name),
    }
    if let Some(inner) = &command.inner {
        out.push(' ');
        write_command(inner, out);
    }
    for (index, term) in command.args.iter().enumerate() {
        if index > 0 || command.verb.node != Verb::Show {
            out.push(' ');
        }
        write_term(term, out);
    }
    for clause in &command.clauses {
        out.push(' ');
        out.push_str(clause.name.node.info().keyword);
        match &clause.value {
            ClauseValue::Call(args) => write_args(args, out),
            ClauseValue::Value(term) => {
                out.push(' ');
                write_term(term, out);
            }
            ClauseValue::Flag(Some(value)) => {
                let _ = write!(out, " {}", value.node);
            }
            ClauseValue::Flag(None) => {}
        }
    }
}

fn write_args(args: &[Arg], out: &mut String) {
    out.push('(');
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        match &arg.kind {
            ArgKind::Terms(terms) => {
                for (position, term) in terms.iter().enumerate() {
                    if position > 0 {
                        out.push(' ');
                    }
                    write_term(term, out);
                }
            }
            ArgKind::Range(start, stop) => {
                if let Some(start) = start {
                    write_term(start, out);
                    out.push(' ');
                }
                out.push_str("..");
                if let Some(stop) = stop {
                    out.push(' ');
                    write_term(stop, out);
                }
            }
        }
    }
    out.push(')');
}

fn write_term(term: &Term, out: &mut String) {
    match &term.node {
        TermKind::Number(text) | TermKind::DateTime(text) | TermKind::Word(text) => out.push_str(text),
        TermKind::Str(text) => {
            out.push('"');
            for c in text.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    _ => out.push(c),
                }
            }
            out.push('"');
        }
        TermKind::Group(args) => write_args(args, out),
    }
}

fn erase_command(command: &mut Command) {
    command.span = Span::default();
    command.verb.span = Span::default();
    command.args.iter_mut().for_each(erase_term);
    for clause in &mut command.clauses {
        clause.span = Span::default();
        clause.name.span = Span::default();
        match &mut clause.value {
            ClauseValue::Call(args) => args.iter_mut().for_each(erase_arg),
            ClauseValue::Value(term) => erase_term(term),
            ClauseValue::Flag(Some(value)) => value.span = Span::default(),
            ClauseValue::Flag(None) => {}
        }
    }
    if let Some(inner) = &mut command.inner {
        erase_command(inner);
    }
}

fn erase_arg(arg: &mut Arg) {
    arg.span = Span::default();
    match &mut arg.kind {
        ArgKind::Terms(terms) => terms.iter_mut().for_each(erase_term),
        ArgKind::Range(start, stop) => {
            start.iter_mut().for_each(erase_term);
            stop.iter_mut().for_each(erase_term);
        }
    }
}

fn erase_term(term: &mut Term) {
    term.span = Span::default();
    if let TermKind::Group(args) = &mut term.node {
        args.iter_mut().for_each(erase_arg);
    }
}

impl Clause {
    /// The form this clause was written in matches its table entry.
    pub fn has_expected_form(&self) -> bool {
        matches!(
            (self.name.node.info().form, &self.value),
            (Form::Call, ClauseValue::Call(_))
                | (Form::Value, ClauseValue::Value(_))
                | (Form::Flag, ClauseValue::Flag(_))
        )
    }
}
