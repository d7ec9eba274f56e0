//! The policy formatter: policy text → the same policy in Tenure's one canonical layout,
//! comments kept.
//!
//! The formatter parses with the same syntax stage as [`Policy::compile`](crate::Policy::compile)
//! and prints the AST back (the printer every other tool uses, so quoting and value
//! spelling are the printer's), laying rules and comments out by one fixed style. The
//! parser drops comments, so they are recovered from the text, between the tokens the
//! parser read.
//!
//! # The style
//!
//! * One rule per line: `WHO grants WHAT;`, single spaces between tokens, lists as
//!   `[a, b]`, parentheses where the author wrote them, values quoted exactly when they
//!   must be (`"42"` stays a string, `prod` needs no quotes).
//! * Each annotation on its own line, above its rule, in source order.
//! * Rules are never reordered or merged (unnamed rules are `rule-N` by position).
//! * A rule longer than [`MAX_WIDTH`] characters (annotations and trailing comment not
//!   counted) is broken before each top-level `or` / `and` of each side and before
//!   `grants` / `denies`; continuation lines are indented by four spaces. An operand
//!   that is itself longer stays whole on its line.
//! * One or more blank lines between two rules or comments become one blank line; blank
//!   lines at the start and at the end are dropped; lines carry no trailing whitespace;
//!   the text ends with exactly one line break (an empty policy stays empty). A leading
//!   byte-order mark is kept.
//!
//! # Comments
//!
//! Every comment is kept, its text byte for byte (trailing whitespace trimmed), and
//! comments stay in source order:
//!
//! * a comment on its own line between rules stays on its own line, above the rule that
//!   follows it (or at the end of the text);
//! * a comment after a rule's `;` on the same line stays there, after one space;
//! * a comment *inside* a rule (between two of its tokens, annotations included) moves to
//!   its own line just above the rule (above its annotations), in order.
//!
//! Formatting is idempotent, and the formatted text compiles to rules that decide
//! exactly as the original's (same ids, same conditions).
//!
//! ```
//! let text = "# who may deploy\n@id(\"deploy\")   role=dev  grants env in [dev,staging]; # ok\n";
//! let formatted = tenure::format::format(text)?;
//! assert_eq!(
//!     formatted,
//!     "# who may deploy\n@id(\"deploy\")\nrole = dev grants env in [dev, staging]; # ok\n"
//! );
//! assert_eq!(tenure::format::format(&formatted)?, formatted);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::diagnostics::Code;
use crate::error::{Error, PolicyDiagnostic};
use crate::lexical::BOM;
use crate::limits::Limits;
use crate::source::{Source, Span};
use crate::syntax::{self, ast};

/// The widest a rule's line may be, in characters, before the formatter breaks it.
pub const MAX_WIDTH: usize = 100;

/// The indent of a broken rule's continuation lines.
const CONTINUATION_INDENT: &str = "    ";

/// Formats one policy text in the canonical layout, keeping its comments.
///
/// Errors name the source `<policy>`, as [`Policy::compile`](crate::Policy::compile)'s
/// do; [`format_source`] takes a name.
///
/// ```
/// let formatted = tenure::format::format("role=admin grants*;// all\n\n\n* denies tag:env=prod;")?;
/// assert_eq!(formatted, "role = admin grants *; // all\n\n* denies tag:env = prod;\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A text that does not parse: every syntax error, malformed value (an integer out of
/// range, a bad `\u{...}` escape) and exceeded [`Limits`] the parser reports, exactly as
/// [`Policy::compile`](crate::Policy::compile) reports them, with locations. Problems
/// found only after parsing (a duplicate `@id`) do not stop formatting.
pub fn format(text: &str) -> Result<String, Error> {
    format_source("<policy>", text)
}

/// As [`format()`], with the source name that errors carry (such as the file's path).
///
/// ```
/// let err = tenure::format::format_source("p.tenure", "role grants *;").unwrap_err();
/// assert!(err.to_string().contains("p.tenure:1:6"), "{err}");
/// ```
///
/// # Errors
/// As [`format()`].
pub fn format_source(name: &str, text: &str) -> Result<String, Error> {
    let source = Source::new(name, text);
    let rules = parse(&source)?;
    let body_start = body_start(text);
    let comments = syntax::comment_spans(text, body_start);
    let mut layout = Layout {
        text,
        out: String::with_capacity(text.len() + text.len() / 8),
        previous_end: None,
    };
    if body_start > 0 {
        layout.out.push(BOM);
    }
    layout.policy(&rules, &comments);
    Ok(layout.out)
}

/// Every comment of a policy text, in source order, as the formatter sees them: text from
/// `#` or `//` to the end of the line, trailing whitespace trimmed. **Unstable** (behind
/// the `unstable` feature): for tests and fuzz targets that check comments survive.
///
/// ```
/// let comments = tenure::format::comments("x = http://a//b # one\n// two\ngrants *;")?;
/// assert_eq!(comments, ["# one", "// two"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`format()`]: where a comment starts is only defined for text that parses.
#[cfg(feature = "unstable")]
pub fn comments(text: &str) -> Result<Vec<&str>, Error> {
    let source = Source::new("<policy>", text);
    parse(&source)?;
    Ok(syntax::comment_spans(text, body_start(text))
        .into_iter()
        .map(|span| comment_text(text, span))
        .collect())
}

/// Parses `source` as `Policy::compile` does, stopping at the syntax stage.
fn parse(source: &Source) -> Result<Vec<ast::Rule>, Error> {
    let limits = Limits::default();
    if source.text.len() > limits.max_policy_bytes {
        return Err(Error::from_diagnostics(vec![PolicyDiagnostic::new(
            Code::PolicyTooLarge,
            source,
            Span::new(0, 0),
            format!(
                "policy text is {} bytes, more than the limit of {}",
                source.text.len(),
                limits.max_policy_bytes
            ),
        )]));
    }
    let parsed = syntax::parse_source(source, &limits);
    if !parsed.errors.is_empty() {
        return Err(Error::from_diagnostics(parsed.errors));
    }
    Ok(parsed.rules.into_iter().map(|(_, rule)| rule).collect())
}

/// Where the policy proper starts: after a leading byte-order mark, if any.
fn body_start(text: &str) -> usize {
    if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    }
}

// ---------------------------------------------------------------------------------------
// Finding comments.

/// A comment's text as written, trailing whitespace (a `\r` of a CRLF line) trimmed.
fn comment_text(text: &str, span: Span) -> &str {
    text[span.start..span.end].trim_end()
}

// ---------------------------------------------------------------------------------------
// Laying out.

/// The formatted text being written, and where in the source the last item written ended
/// (blank lines between items are read from the source text between them).
struct Layout<'t> {
    text: &'t str,
    out: String,
    previous_end: Option<usize>,
}

impl Layout<'_> {
    fn policy(&mut self, rules: &[ast::Rule], comments: &[Span]) {
        let mut pending = comments.iter().copied().peekable();
        for (i, rule) in rules.iter().enumerate() {
            let next_rule_start = rules.get(i + 1).map_or(self.text.len(), |r| r.span.start);
            // Comments on their own lines before the rule.
            while let Some(comment) = pending.next_if(|c| c.start < rule.span.start) {
                self.comment_line(comment, comment.start, comment.end);
            }
            // Comments inside the rule: on their own lines just above it, standing where
            // the rule starts (so the first takes the blank line before the rule, if any).
            while let Some(comment) = pending.next_if(|c| c.start < rule.span.end) {
                self.comment_line(comment, rule.span.start, rule.span.start);
            }
            self.separate(rule.span.start);
            self.rule(rule);
            self.previous_end = Some(rule.span.end);
            // A comment between rules, on the same line as the rule's `;`, stays after it.
            let text = self.text;
            let trailing = |c: &Span| {
                c.start < next_rule_start && !text[rule.span.end..c.start].contains('\n')
            };
            if let Some(comment) = pending.next_if(trailing) {
                self.out.push(' ');
                self.out.push_str(comment_text(self.text, comment));
            }
            self.out.push('\n');
        }
        for comment in pending {
            self.comment_line(comment, comment.start, comment.end);
        }
    }

    /// Writes `comment` on its own line, as an item that stood at `start..end` in the
    /// source.
    fn comment_line(&mut self, comment: Span, start: usize, end: usize) {
        self.separate(start);
        self.out.push_str(comment_text(self.text, comment));
        self.out.push('\n');
        self.previous_end = Some(end);
    }

    /// Writes one blank line before an item that starts at `start` in the source when the
    /// source has a blank line between it and the previous item.
    fn separate(&mut self, start: usize) {
        if let Some(previous_end) = self.previous_end {
            let between = &self.text[previous_end..start];
            if between.bytes().filter(|&b| b == b'\n').count() >= 2 {
                self.out.push('\n');
            }
        }
    }

    /// Writes a rule, its annotations on their own lines, without the final line break.
    fn rule(&mut self, rule: &ast::Rule) {
        for annotation in &rule.annotations {
            self.out.push_str(&annotation.to_string());
            self.out.push('\n');
        }
        let effect = rule.effect.keyword();
        let one_line = format!("{} {effect} {};", rule.who, rule.what);
        if one_line.chars().count() <= MAX_WIDTH {
            self.out.push_str(&one_line);
            return;
        }
        let (who_operands, who_joiner) = top_level_operands(&rule.who);
        let (what_operands, what_joiner) = top_level_operands(&rule.what);
        for (i, operand) in who_operands.iter().enumerate() {
            if i > 0 {
                self.continuation(who_joiner);
            }
            self.out.push_str(&operand.to_string());
        }
        for (i, operand) in what_operands.iter().enumerate() {
            self.continuation(if i == 0 { effect } else { what_joiner });
            self.out.push_str(&operand.to_string());
        }
        self.out.push(';');
    }

    /// Starts a continuation line with `keyword` and a space.
    fn continuation(&mut self, keyword: &str) {
        self.out.push('\n');
        self.out.push_str(CONTINUATION_INDENT);
        self.out.push_str(keyword);
        self.out.push(' ');
    }
}

/// A side's top-level operands and the keyword that joins them: `a or b` → ([a, b], `or`);
/// anything else is its own single operand.
fn top_level_operands(side: &ast::Condition) -> (Vec<&ast::Condition>, &'static str) {
    match side {
        ast::Condition::Or(operands, _) => (operands.iter().collect(), "or"),
        ast::Condition::And(operands, _) => (operands.iter().collect(), "and"),
        other => (vec![other], ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(text: &str) -> String {
        match format(text) {
            Ok(f) => f,
            Err(e) => panic!("{text:?} does not format: {e}"),
        }
    }

    fn comment_texts(text: &str) -> Vec<&str> {
        syntax::comment_spans(text, body_start(text))
            .into_iter()
            .map(|s| comment_text(text, s))
            .collect()
    }

    #[test]
    fn comments_are_found_where_tokens_can_start() {
        assert_eq!(
            comment_texts("x = http://a//b and// c\ny in [a//b, # d\n c//e] grants *;"),
            ["// c", "# d"]
        );
        assert_eq!(
            comment_texts("x = \"a # b // c \\\" # d\" grants n ~ \"\\\\\" ; # e  \r\n"),
            ["# e"]
        );
        // After a name, `//` starts a comment (names hold no `/`).
        assert_eq!(comment_texts("role// c\n= x grants *;"), ["// c"]);
        // After `=`, a comment, then a bare value with `//`.
        assert_eq!(comment_texts("x = # c\nhttp://a grants *;"), ["# c"]);
    }

    #[test]
    fn empty_and_comment_only_texts() {
        assert_eq!(formatted(""), "");
        assert_eq!(formatted(" \n\n \t\n"), "");
        assert_eq!(formatted("\n\n# a   \n\n\n// b\n\n"), "# a\n\n// b\n");
        assert_eq!(formatted("\u{FEFF}* grants *;"), "\u{FEFF}* grants *;\n");
    }

    #[test]
    fn a_broken_rule_keeps_its_trailing_comment_on_the_last_line() {
        let long = "a_rather_long_attribute_name = some_value";
        let text = format!("{long} or {long} grants {long} and {long}; # end");
        let f = formatted(&text);
        assert_eq!(
            f,
            format!("{long}\n    or {long}\n    grants {long}\n    and {long}; # end\n")
        );
        assert_eq!(formatted(&f), f);
    }
}
