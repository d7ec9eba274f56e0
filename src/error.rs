//! Errors: policy diagnostics (parse and check) and request-input errors.
//!
//! Every policy error carries the source name, the byte span, the 1-based line and
//! column, and the source text, so it renders itself — plainly through
//! [`Display`](std::fmt::Display), or with snippets through [`miette`].

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::syntax::ast::Span;

/// A named policy text, as given to [`crate::Policy::compile_sources`].
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) name: Arc<str>,
    pub(crate) text: Arc<str>,
}

/// A line and column in a policy source, both counting from 1 (columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in Unicode scalar values.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text, and to a char boundary).
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

/// The kind of a policy problem; stable, for programs that match on errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A value is malformed: an integer out of range, a bad escape.
    Value,
    /// Two rules share an `@id`, or one rule carries `@id` twice.
    DuplicateId,
    /// An annotation is malformed (for example an empty `@id`).
    Annotation,
    /// An input limit was exceeded (size, rule count, nesting, list or string length).
    Limit,
}

impl ErrorKind {
    /// A short stable code such as `tenure::syntax`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "tenure::syntax",
            ErrorKind::Value => "tenure::value",
            ErrorKind::DuplicateId => "tenure::duplicate_id",
            ErrorKind::Annotation => "tenure::annotation",
            ErrorKind::Limit => "tenure::limit",
        }
    }
}

/// One problem in a policy source, with its location.
///
/// Displays as `name:line:column: message`.
#[derive(Clone, thiserror::Error)]
#[error("{}:{}:{}: {}", .origin.name, .location.line, .location.column, .message)]
pub struct PolicyDiagnostic {
    kind: ErrorKind,
    message: String,
    help: Option<String>,
    origin: Source,
    named: NamedSource<Arc<str>>,
    span: Span,
    location: Location,
}

impl PolicyDiagnostic {
    pub(crate) fn new(
        kind: ErrorKind,
        source: &Source,
        span: Span,
        message: impl Into<String>,
    ) -> PolicyDiagnostic {
        PolicyDiagnostic {
            kind,
            message: message.into(),
            help: None,
            location: Location::of_offset(&source.text, span.start),
            named: NamedSource::new(source.name.as_ref(), source.text.clone()),
            origin: source.clone(),
            span,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> PolicyDiagnostic {
        self.help = Some(help.into());
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, lowercase, without location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A hint on how to fix it, when there is one.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The name of the source the problem is in.
    pub fn source_name(&self) -> &str {
        &self.origin.name
    }

    /// The byte span of the problem in its source.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The 1-based line and column where the problem starts.
    pub fn location(&self) -> Location {
        self.location
    }
}

impl fmt::Debug for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyDiagnostic")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("help", &self.help)
            .field("source", &self.origin.name)
            .field("span", &self.span)
            .field("location", &self.location)
            .finish()
    }
}

impl Diagnostic for PolicyDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.named as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.span.end.saturating_sub(self.span.start);
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".to_string()),
            self.span.start,
            len,
        ))))
    }
}

impl PolicyDiagnostic {
    /// This diagnostic as a [`miette::Report`], for miette's renderers (the source,
    /// under its name, travels with it).
    pub fn to_report(&self) -> miette::Report {
        miette::Report::new(self.clone())
    }
}

/// A policy that failed to parse or check: one or more [`PolicyDiagnostic`]s.
///
/// All problems found are reported, not only the first; a syntax error stops the
/// source it is in from being checked further.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", display_all(.diagnostics))]
pub struct Error {
    // INVARIANT: never empty.
    diagnostics: Vec<PolicyDiagnostic>,
}

/// One diagnostic per line.
fn display_all(diagnostics: &[PolicyDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    pub(crate) fn from_diagnostics(diagnostics: Vec<PolicyDiagnostic>) -> Error {
        debug_assert!(!diagnostics.is_empty());
        Error { diagnostics }
    }

    /// Every problem found, in source order.
    pub fn diagnostics(&self) -> &[PolicyDiagnostic] {
        &self.diagnostics
    }

    /// The first problem found.
    pub fn first(&self) -> &PolicyDiagnostic {
        &self.diagnostics[0]
    }
}

impl Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostics[0].code()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}

/// A malformed identity or resource: the JSON path of the problem and what is wrong.
///
/// ```
/// let err = tenure::Identity::from_json(r#"{"groups": ["a", "b", 3]}"#).unwrap_err();
/// assert_eq!(err.path(), "identity.groups[2]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at `{path}`")]
pub struct InputError {
    path: String,
    message: String,
}

impl InputError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Where the problem is, such as `identity.groups[2]` or `resource.tags.env`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}
