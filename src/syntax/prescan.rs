//! A lexer that follows the grammar's lexical rules exactly (through `crate::lexical`),
//! used before and around pest:
//!
//! * [`check_nesting`] bounds the parenthesis depth *before* pest recurses, so hostile
//!   input cannot overflow the stack on any target;
//! * [`rule_end_after`] and [`last_rule_end_before`] find rule boundaries (`;` outside
//!   strings and comments), so a syntax error is reported and parsing resumes at the next
//!   rule.
//!
//! Where a comment starts is the one subtle rule: `//` and `#` start a comment wherever a
//! token could start (after `not`, after `and`, after a name), but inside a bare value
//! (`x = https://a`) `//` belongs to the value. A bare value is read only where the
//! grammar reads one: after `=` (also the `=` of `!=`, `<=`, `>=`), `[` and `,`. If the
//! lexer and pest disagree anywhere else, pest fails at that point with a syntax error,
//! before reaching any parenthesis the lexer did not count.

use crate::diagnostics::Code;
use crate::error::PolicyDiagnostic;
use crate::lexical;
use crate::source::{Source, Span};

/// What the lexer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    Open,
    Close,
    Semicolon,
    /// `=`, `[` or `,`: a bare value may follow.
    BeforeValue,
    Word,
    Quoted,
    Other,
}

/// Tokens of `text[start..]` as (token, byte range), skipping whitespace and comments.
pub(super) struct Lexer<'t> {
    text: &'t str,
    at: usize,
    value_next: bool,
    /// Where the comments skipped so far stand, when recording ([`comment_spans`]).
    comments: Option<Vec<Span>>,
}

impl<'t> Lexer<'t> {
    /// A lexer from byte `start`, which must be a token boundary (the start, or just after
    /// a `;`).
    pub(super) fn new(text: &'t str, start: usize) -> Lexer<'t> {
        Lexer {
            text,
            at: start,
            value_next: false,
            comments: None,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = (Token, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = &self.text[self.at..];
            let c = rest.chars().next()?;
            if lexical::is_whitespace(c) {
                self.at += c.len_utf8();
                continue;
            }
            if let Some(len) = lexical::comment_len(rest) {
                if let Some(comments) = &mut self.comments {
                    comments.push(Span::new(self.at, self.at + len));
                }
                self.at += len;
                continue;
            }
            let start = self.at;
            let (token, len) = match c {
                '"' => (Token::Quoted, lexical::quoted_len(rest)),
                '(' => (Token::Open, 1),
                ')' => (Token::Close, 1),
                ';' => (Token::Semicolon, 1),
                '=' | '[' | ',' => (Token::BeforeValue, 1),
                c if self.value_next && lexical::is_bare_char(c) => {
                    (Token::Word, word_len(rest, lexical::is_bare_char))
                }
                c if lexical::is_name_char(c) => {
                    (Token::Word, word_len(rest, lexical::is_name_char))
                }
                c => (Token::Other, c.len_utf8()),
            };
            self.value_next = token == Token::BeforeValue;
            self.at += len;
            return Some((token, start, start + len));
        }
    }
}

fn word_len(rest: &str, class: fn(char) -> bool) -> usize {
    rest.char_indices()
        .find(|&(_, c)| !class(c))
        .map_or(rest.len(), |(i, _)| i)
}

/// Refuses parenthesis nesting deeper than `max_nesting` in `text[start..]` (a segment
/// of `source`), before pest sees it.
pub(super) fn check_nesting(
    source: &Source,
    start: usize,
    max_nesting: usize,
) -> Result<(), Box<PolicyDiagnostic>> {
    // One piece: the same pass, never splitting.
    checked_pieces(source, start, usize::MAX, max_nesting).map(|_| ())
}

/// [`check_nesting`] and the split of `text[start..]` into pieces of about `piece_bytes`
/// at rule ends, in one pass of the lexer: the piece bounds after `start`, the last one
/// the end of the text. A source shorter than two pieces is one piece.
pub(super) fn checked_pieces(
    source: &Source,
    start: usize,
    piece_bytes: usize,
    max_nesting: usize,
) -> Result<Vec<usize>, Box<PolicyDiagnostic>> {
    let text: &str = &source.text;
    let mut bounds = Vec::new();
    let mut from = start;
    let mut splitting = text.len() - from >= piece_bytes.saturating_mul(2);
    let mut depth = 0usize;
    for (token, s, e) in Lexer::new(text, start) {
        match token {
            Token::Open => {
                depth += 1;
                if depth > max_nesting {
                    return Err(too_deep(source, Span::new(s, e), max_nesting));
                }
            }
            Token::Close => depth = depth.saturating_sub(1),
            // The first rule end past a piece's worth of bytes ends the piece, unless it
            // ends the text or leaves less than two pieces' worth.
            Token::Semicolon if splitting && e > from.saturating_add(piece_bytes) => {
                if e >= text.len() {
                    splitting = false;
                } else {
                    bounds.push(e);
                    from = e;
                    splitting = text.len() - from >= piece_bytes.saturating_mul(2);
                }
            }
            _ => {}
        }
    }
    bounds.push(text.len());
    Ok(bounds)
}

fn too_deep(source: &Source, span: Span, max_nesting: usize) -> Box<PolicyDiagnostic> {
    Box::new(PolicyDiagnostic::new(
        Code::TooDeep,
        source,
        span,
        format!("conditions are nested deeper than {max_nesting} levels"),
    ))
}

/// The spans of the comments in `text[start..]`, in order, as the lexer skips them (the
/// grammar drops comments; the formatter keeps them).
pub(crate) fn comment_spans(text: &str, start: usize) -> Vec<Span> {
    let mut lexer = Lexer::new(text, start);
    lexer.comments = Some(Vec::new());
    for _ in lexer.by_ref() {}
    lexer.comments.unwrap_or_default()
}

/// The end of the first `;` token that ends at or after `offset`, lexing from `start`;
/// the end of the text when there is none.
pub(super) fn rule_end_after(text: &str, start: usize, offset: usize) -> usize {
    Lexer::new(text, start)
        .find(|&(t, _, e)| t == Token::Semicolon && e > offset)
        .map_or(text.len(), |(_, _, e)| e)
}

/// The end of the last `;` token that ends at or before `offset`, lexing from `start`;
/// `start` when there is none.
pub(super) fn last_rule_end_before(text: &str, start: usize, offset: usize) -> usize {
    Lexer::new(text, start)
        .take_while(|&(_, s, _)| s < offset)
        .filter(|&(t, _, e)| t == Token::Semicolon && e <= offset)
        .last()
        .map_or(start, |(_, _, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(Token, &str)> {
        Lexer::new(text, 0)
            .map(|(t, s, e)| (t, &text[s..e]))
            .collect()
    }

    /// The one-pass split finds the bounds that lexing each piece again finds, and
    /// refuses the first parenthesis past the limit, as `check_nesting` does.
    #[test]
    fn checked_pieces_split_like_rule_end_after_and_refuse_deep_nesting() {
        let mut text = String::from("\u{feff}");
        for i in 0..400 {
            text.push_str(match i % 4 {
                0 => "role = \"a;b\" grants *;\n",
                1 => "# a comment; with a semicolon\n(x = 1 or (y = 2)) denies *;\n",
                2 => "url = https://a;b // c;\n",
                _ => "* grants name ~ \"x*;\";",
            });
        }
        let source = Source::new("s", text.clone());
        let start = BOM_LEN;
        for piece in [1, 7, 64, 500, 4096, text.len()] {
            let mut expected = Vec::new();
            let mut from = start;
            while text.len() - from >= piece * 2 {
                let bound = rule_end_after(&text, from, from + piece);
                if bound <= from || bound >= text.len() {
                    break;
                }
                expected.push(bound);
                from = bound;
            }
            expected.push(text.len());
            let bounds = checked_pieces(&source, start, piece, 8).expect("nesting 2");
            assert_eq!(bounds, expected, "pieces of {piece} bytes");
        }
        let deep = Source::new(
            "d",
            format!(
                "a = b grants *; {}x = y{} denies *;",
                "(".repeat(5),
                ")".repeat(5)
            ),
        );
        // The fifth `(` (offset 20) is one level too deep, split or not.
        let fifth = Span::new(20, 21);
        let whole = check_nesting(&deep, 0, 4).expect_err("5 > 4");
        let split = checked_pieces(&deep, 0, 4, 4).expect_err("5 > 4");
        assert_eq!((whole.span(), split.span()), (fifth, fifth));
        assert!(check_nesting(&deep, 0, 5).is_ok());
        assert!(checked_pieces(&deep, 0, 4, 5).is_ok());
    }

    const BOM_LEN: usize = '\u{feff}'.len_utf8();

    #[test]
    fn comments_start_where_tokens_can() {
        use Token::*;
        assert_eq!(
            tokens("(not// :-)\nx = http://a//b and// ((\ny"),
            [
                (Open, "("),
                (Word, "not"),
                (Word, "x"),
                (BeforeValue, "="),
                (Word, "http://a//b"),
                (Word, "and"),
                (Word, "y"),
            ]
        );
        assert_eq!(
            tokens(r#"a = "x;(" ; # ( ;"#),
            [
                (Word, "a"),
                (BeforeValue, "="),
                (Quoted, r#""x;(""#),
                (Semicolon, ";")
            ]
        );
    }

    #[test]
    fn rule_boundaries_skip_strings_and_comments() {
        let text = r#"a = "x;y" grants *; b = 1 # ;
        grants *;"#;
        let first = rule_end_after(text, 0, 0);
        assert_eq!(&text[..first], r#"a = "x;y" grants *;"#);
        assert_eq!(rule_end_after(text, first, first), text.len());
        assert_eq!(last_rule_end_before(text, 0, text.len() - 3), first);
    }
}
