//! Errors: policy diagnostics (parse and check) and request-input errors.
//!
//! Every policy error carries a stable [`Code`], the source name, the byte span, the
//! 1-based line and column, and the source text, so it renders itself — plainly through
//! [`Display`](std::fmt::Display), or with a snippet through [`miette`]. Snippets are
//! clipped to a window around the problem, so a one-line policy of megabytes prints a
//! few lines, not the whole text per error.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan};

use crate::diagnostics::Code;
pub use crate::diagnostics::ErrorKind;
use crate::source::{floor_char_boundary, Location, Source, Span};

/// How many diagnostics [`Error`]'s `Display` prints before "… and N more".
pub const MAX_DISPLAYED_DIAGNOSTICS: usize = 100;

/// Bytes of context shown on each side of a problem in a snippet.
const SNIPPET_WINDOW: usize = 160;

/// One problem in a policy source, with its location.
///
/// Displays as `name:line:column: message`.
#[derive(Clone, thiserror::Error)]
#[error("{}:{}:{}: {}", .origin.name, .location.line, .location.column, .message)]
pub struct PolicyDiagnostic {
    code: Code,
    message: String,
    help: Option<String>,
    origin: Source,
    span: Span,
    location: Location,
}

impl PolicyDiagnostic {
    /// A diagnostic with `code`'s default help. `code` must be a policy code.
    pub(crate) fn new(
        code: Code,
        source: &Source,
        span: Span,
        message: impl Into<String>,
    ) -> PolicyDiagnostic {
        debug_assert!(code.kind().is_some(), "{code:?} is not a policy code");
        PolicyDiagnostic {
            code,
            message: message.into(),
            help: code.help().map(str::to_string),
            location: source.location(span.start),
            origin: source.clone(),
            span,
        }
    }

    /// Replaces the default help with one specific to this occurrence.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> PolicyDiagnostic {
        self.help = Some(help.into());
        self
    }

    /// The stable code of this problem.
    pub fn code(&self) -> Code {
        self.code
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind().unwrap_or(ErrorKind::Syntax)
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

    /// This diagnostic as a [`miette::Report`], for miette's renderers (the source,
    /// under its name, travels with it).
    pub fn to_report(&self) -> miette::Report {
        miette::Report::new(self.clone())
    }
}

impl fmt::Debug for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyDiagnostic")
            .field("code", &self.code)
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
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.origin as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.span.end.saturating_sub(self.span.start);
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(self.code.label().to_string()),
            self.span.start,
            len,
        ))))
    }
}

impl SourceCode for Source {
    /// The lines around `span`, clipped to [`SNIPPET_WINDOW`] bytes on each side.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.text;
        let (s, e) = (span.offset(), span.offset() + span.len());
        if e > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let lines = self.lines();
        let first = lines.line_of(s).saturating_sub(context_lines_before);
        let last = (lines.line_of(e.saturating_sub(1).max(s)) + context_lines_after)
            .min(lines.count() - 1);
        let mut start = lines.start(first);
        let mut end = lines.end(last, text.len());
        if s.saturating_sub(start) > SNIPPET_WINDOW {
            start = ceil_char_boundary(text, s - SNIPPET_WINDOW);
        }
        if end.saturating_sub(e) > SNIPPET_WINDOW {
            end = floor_char_boundary(text, e + SNIPPET_WINDOW);
        }
        let line = lines.line_of(start);
        let column = text[lines.start(line)..start].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &text.as_bytes()[start..end],
            (start, end - start).into(),
            line,
            column,
            lines.line_of(end.saturating_sub(1).max(start)) - line + 1,
        )))
    }
}

fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

/// A policy that failed to parse or check: one or more [`PolicyDiagnostic`]s.
///
/// All problems found are kept, in source order; `Display` prints the first
/// [`MAX_DISPLAYED_DIAGNOSTICS`] one per line, then `… and N more`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", display_capped(.diagnostics))]
pub struct Error {
    // INVARIANT: never empty.
    diagnostics: Vec<PolicyDiagnostic>,
}

fn display_capped(diagnostics: &[PolicyDiagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics
        .iter()
        .take(MAX_DISPLAYED_DIAGNOSTICS)
        .enumerate()
    {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    if let Some(more) = more_than_displayed(diagnostics.len()) {
        out.push('\n');
        out.push_str(&more);
    }
    out
}

/// `… and N more problems` when `count` is over [`MAX_DISPLAYED_DIAGNOSTICS`].
pub fn more_than_displayed(count: usize) -> Option<String> {
    let more = count
        .checked_sub(MAX_DISPLAYED_DIAGNOSTICS)
        .filter(|&n| n > 0)?;
    Some(format!(
        "… and {more} more problem{}",
        if more == 1 { "" } else { "s" }
    ))
}

impl Error {
    pub(crate) fn from_diagnostics(diagnostics: Vec<PolicyDiagnostic>) -> Error {
        debug_assert!(!diagnostics.is_empty());
        Error { diagnostics }
    }

    /// Every problem found: per source, syntax problems in source order, then the
    /// value, id and limit problems of the rules that parsed.
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
        Diagnostic::code(&self.diagnostics[0])
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics
                .iter()
                .take(MAX_DISPLAYED_DIAGNOSTICS)
                .map(|d| d as &dyn Diagnostic),
        ))
    }
}

/// A malformed identity, resource or request: the JSON path of the problem, what is
/// wrong, and a stable [`Code`].
///
/// ```
/// let err = tenure::Identity::from_json(r#"{"groups": ["a", "b", 3]}"#).unwrap_err();
/// assert_eq!(err.path(), "identity.groups[2]");
/// assert_eq!(err.code(), tenure::Code::JsonType);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at `{path}`")]
pub struct InputError {
    code: Code,
    path: String,
    message: String,
}

impl InputError {
    pub(crate) fn new(
        code: Code,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> InputError {
        InputError {
            code,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn reserved_tags_name() -> InputError {
        InputError::new(
            Code::ReservedName,
            "tags",
            "an attribute cannot be named `tags`: the JSON form reserves it for tags",
        )
    }

    /// The stable code of this problem.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Where the problem is, such as `identity.groups[2]` or `resource.tags.env`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same problem located under `prefix` (such as `line 3`): the path becomes
    /// `line 3: identity.groups[2]`.
    pub fn located(mut self, prefix: &str) -> InputError {
        self.path = if self.path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}: {}", self.path)
        };
        self
    }
}

impl Diagnostic for InputError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}
