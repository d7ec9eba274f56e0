//! Text → [`ast::Policy`]: the only module that knows about pest.
//!
//! Parsing runs in two steps. A cheap pre-scan bounds the parenthesis depth, so that
//! neither pest's recursive descent nor the tree builder can overflow the stack on
//! hostile input; then the pest grammar (`grammar/tenure.pest`) runs and its pairs are
//! turned into an AST whose nodes keep their spans.

pub mod ast;

use pest::iterators::Pair;
use pest::Parser as _;

use crate::error::{Error, ErrorKind, PolicyDiagnostic, Source};
use crate::limits::Limits;
use ast::{Annotation, Atom, Attribute, Condition, Effect, GlobPiece, Literal, Predicate, Span};

/// The pest parser, private so that no pest type leaks through the public API.
mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/tenure.pest"]
    pub(super) struct TenureParser;
}
use grammar::{Rule, TenureParser};

/// Parses one policy text into its AST, with default [`Limits`].
///
/// ```
/// let ast = tenure::syntax::parse("role = admin grants *;")?;
/// assert_eq!(ast.rules.len(), 1);
/// assert_eq!(ast.to_string(), "role = admin grants *;\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A syntax error (with the line, column and what was expected), a malformed value, or an
/// exceeded limit.
pub fn parse(text: &str) -> Result<ast::Policy, Error> {
    let source = Source {
        name: "<policy>".into(),
        text: text.into(),
    };
    parse_source(&source, &Limits::default()).map_err(Error::from_diagnostics)
}

/// Parses one named source. Stops at the first syntax error; value errors are all
/// collected.
pub(crate) fn parse_source(
    source: &Source,
    limits: &Limits,
) -> Result<ast::Policy, Vec<PolicyDiagnostic>> {
    let text: &str = &source.text;
    prescan_nesting(source, limits)?;
    let mut pairs =
        TenureParser::parse(Rule::policy, text).map_err(|e| vec![syntax_diagnostic(source, &e)])?;
    let mut builder = Builder {
        source,
        limits,
        errors: Vec::new(),
    };
    let mut rules = Vec::new();
    if let Some(policy) = pairs.next() {
        for pair in policy.into_inner() {
            if pair.as_rule() == Rule::rule {
                rules.push(builder.rule(pair));
            }
        }
    }
    if builder.errors.is_empty() {
        Ok(ast::Policy { rules })
    } else {
        Err(builder.errors)
    }
}

/// Rejects parenthesis nesting deeper than the limit before pest sees the text.
///
/// The scan skips strings and comments the way the grammar does, so parentheses inside
/// them do not count.
fn prescan_nesting(source: &Source, limits: &Limits) -> Result<(), Vec<PolicyDiagnostic>> {
    let bytes = source.text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80 || b"_-.:/@".contains(&b);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') && (i == 0 || !is_word_byte(bytes[i - 1])) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(vec![PolicyDiagnostic::new(
                        ErrorKind::Limit,
                        source,
                        Span::new(i, i + 1),
                        format!(
                            "conditions are nested deeper than {} levels",
                            limits.max_nesting
                        ),
                    )
                    .with_help(
                        "flatten the condition; `and`/`or` chains need no parentheses",
                    )]);
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What a grammar rule is called in an error message.
fn describe(r: Rule) -> &'static str {
    match r {
        Rule::EOI => "end of input",
        Rule::rule => "a rule",
        Rule::annotation => "an annotation `@name(\"...\")`",
        Rule::annotation_name => "an annotation name",
        Rule::effect | Rule::grants | Rule::denies => "`grants`|`denies`",
        Rule::side => "a condition|`*`",
        Rule::any => "`*`",
        Rule::condition | Rule::conjunction | Rule::negation | Rule::atom => "a condition",
        Rule::has_atom | Rule::has_kw => "`has`",
        Rule::attribute | Rule::name | Rule::tag_attribute => "an attribute",
        Rule::tag_key => "a tag key",
        Rule::eq => "`=`",
        Rule::ne => "`!=`",
        Rule::in_list | Rule::in_kw => "`in`",
        Rule::not_in => "`not in`",
        Rule::like => "`~`",
        Rule::le => "`<=`",
        Rule::ge => "`>=`",
        Rule::lt => "`<`",
        Rule::gt => "`>`",
        Rule::and_kw => "`and`",
        Rule::or_kw => "`or`",
        Rule::not_kw => "`not`",
        Rule::value | Rule::bare_word => "a value",
        Rule::integer => "an integer",
        Rule::string | Rule::string_inner => "a quoted string",
        Rule::glob | Rule::glob_inner => "a quoted glob pattern",
        Rule::list => "a list `[...]`",
        Rule::semicolon => "`;`",
        Rule::open_paren => "`(`",
        Rule::close_paren => "`)`",
        Rule::open_bracket => "`[`",
        Rule::close_bracket => "`]`",
        Rule::comma => "`,`",
        _ => "a rule",
    }
}

/// The token found at `offset`, for "unexpected `...`".
fn found_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of input".to_string();
    };
    let word: String = if first.is_alphanumeric() || first == '_' {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .take(24)
            .collect()
    } else {
        rest.chars()
            .take_while(|c| !c.is_whitespace() && !c.is_alphanumeric())
            .take(3)
            .collect()
    };
    format!("`{}`", word.escape_debug())
}

fn syntax_diagnostic(source: &Source, err: &pest::error::Error<Rule>) -> PolicyDiagnostic {
    let text: &str = &source.text;
    let offset = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    if let Some(diag) = string_diagnostic(source, offset) {
        return diag;
    }
    let mut expected: Vec<&'static str> = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for r in positives {
            for d in describe(*r).split('|') {
                if !expected.contains(&d) {
                    expected.push(d);
                }
            }
        }
    }
    let found = found_at(text, offset);
    let message = match expected.as_slice() {
        [] => format!("unexpected {found}"),
        [one] => format!("unexpected {found}; expected {one}"),
        [a, b] => format!("unexpected {found}; expected {a} or {b}"),
        many => format!("unexpected {found}; expected one of {}", many.join(", ")),
    };
    let end = (offset + 1..=text.len())
        .find(|&e| text.is_char_boundary(e))
        .unwrap_or(offset);
    let diag = PolicyDiagnostic::new(ErrorKind::Syntax, source, Span::new(offset, end), message);
    let rest = text.get(offset..).unwrap_or("");
    let before = text.get(..offset).unwrap_or("").trim_end();
    let help = if rest.starts_with('=') && before.ends_with('=') {
        Some("equality is written with a single `=`")
    } else if rest.starts_with('>') && before.ends_with('=') {
        Some("did you mean `>=`?")
    } else if rest.starts_with('<') && before.ends_with('=') {
        Some("did you mean `<=`?")
    } else if rest.starts_with("&&") {
        Some("write `and` instead of `&&`")
    } else if rest.starts_with("||") {
        Some("write `or` instead of `||`")
    } else if rest.starts_with('!') {
        Some("negation is written `not`; inequality `!=`")
    } else if rest.starts_with('\'') {
        Some("strings are quoted with `\"`")
    } else if rest.starts_with("[]") || (rest.starts_with(']') && before.ends_with('[')) {
        Some("a list holds at least one value")
    } else if expected.contains(&"`;`") && !expected.contains(&"a condition") {
        Some("every rule ends with `;`")
    } else if expected.contains(&"an integer") {
        Some("`<`, `<=`, `>` and `>=` compare with a 64-bit integer")
    } else {
        None
    };
    match help {
        Some(h) => diag.with_help(h),
        None => diag,
    }
}

/// When the parse failed at a `"`, points at what is wrong inside the string: an unknown
/// escape, a malformed `\u{...}`, or a missing closing quote.
fn string_diagnostic(source: &Source, offset: usize) -> Option<PolicyDiagnostic> {
    let text: &str = &source.text;
    let rest = text.get(offset..)?;
    if !rest.starts_with('"') {
        return None;
    }
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let Some((j, e)) = chars.next() else { break };
                let at = offset + i;
                let bad = |len: usize, message: String| {
                    Some(
                        PolicyDiagnostic::new(ErrorKind::Syntax, source, Span::new(at, at + len), message)
                            .with_help("escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\0` and `\\u{...}`; in globs also `\\*` and `\\?`"),
                    )
                };
                match e {
                    // `\*` and `\?` are glob escapes: a glob that uses them parses, so
                    // reaching here means a plain string does.
                    '"' | '\\' | 'n' | 't' | 'r' | '0' => {}
                    'u' => {
                        let body = &rest[j + 1..];
                        let close = body.find('}');
                        let ok = body.starts_with('{')
                            && close.is_some_and(|c| {
                                (2..=7).contains(&c)
                                    && body[1..c].chars().all(|h| h.is_ascii_hexdigit())
                            });
                        if !ok {
                            let len = 2 + close.map_or(0, |c| c + 1);
                            return bad(
                                len.min(rest.len() - i),
                                "malformed unicode escape; write `\\u{` and 1 to 6 hex digits `}`"
                                    .to_string(),
                            );
                        }
                    }
                    other => {
                        return bad(
                            1 + other.len_utf8(),
                            format!("unknown escape `\\{}` in string", other.escape_debug()),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    Some(
        PolicyDiagnostic::new(
            ErrorKind::Syntax,
            source,
            Span::new(offset, offset + 1),
            "unterminated string",
        )
        .with_help("close the string with `\"`"),
    )
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// Turns pest pairs into AST nodes, collecting value errors.
struct Builder<'s> {
    source: &'s Source,
    limits: &'s Limits,
    errors: Vec<PolicyDiagnostic>,
}

impl Builder<'_> {
    fn error(&mut self, kind: ErrorKind, span: Span, message: String) {
        self.errors
            .push(PolicyDiagnostic::new(kind, self.source, span, message));
    }

    fn error_help(&mut self, kind: ErrorKind, span: Span, message: String, help: &str) {
        self.errors
            .push(PolicyDiagnostic::new(kind, self.source, span, message).with_help(help));
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) -> ast::Rule {
        let span = span_of(&pair);
        let mut annotations = Vec::new();
        let mut sides = Vec::with_capacity(2);
        let mut effect = Effect::Grant;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::annotation => {
                    let a = self.annotation(p);
                    if annotations.len() == self.limits.max_annotations {
                        self.error(
                            ErrorKind::Limit,
                            a.span,
                            format!(
                                "a rule carries more than {} annotations",
                                self.limits.max_annotations
                            ),
                        );
                    }
                    annotations.push(a);
                }
                Rule::side => sides.push(self.side(p)),
                Rule::effect => {
                    effect = match p.into_inner().next().map(|p| p.as_rule()) {
                        Some(Rule::denies) => Effect::Deny,
                        _ => Effect::Grant,
                    }
                }
                _ => {}
            }
        }
        let what = sides.pop().unwrap_or(Condition::Any(span));
        let who = sides.pop().unwrap_or(Condition::Any(span));
        ast::Rule {
            annotations,
            who,
            effect,
            what,
            span,
        }
    }

    fn annotation(&mut self, pair: Pair<'_, Rule>) -> Annotation {
        let span = span_of(&pair);
        let mut name = String::new();
        let mut value = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::annotation_name => name = p.as_str().to_string(),
                Rule::string => value = self.string(p),
                _ => {}
            }
        }
        Annotation { name, value, span }
    }

    fn side(&mut self, pair: Pair<'_, Rule>) -> Condition {
        let span = span_of(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::condition => self.condition(p, 0),
            _ => Condition::Any(span),
        }
    }

    /// `depth` counts the parentheses and `not`s around this condition.
    fn condition(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        self.chain(pair, Rule::conjunction, Condition::Or, |b, p| {
            b.conjunction(p, depth)
        })
    }

    fn conjunction(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        self.chain(pair, Rule::negation, Condition::And, |b, p| {
            b.negation(p, depth)
        })
    }

    /// An `or` or `and` chain: its `operand` pairs built by `build`, or the lone operand.
    fn chain<'i>(
        &mut self,
        pair: Pair<'i, Rule>,
        operand: Rule,
        join: fn(Vec<Condition>, Span) -> Condition,
        build: impl Fn(&mut Self, Pair<'i, Rule>) -> Condition,
    ) -> Condition {
        let span = span_of(&pair);
        let mut operands: Vec<Condition> = pair
            .into_inner()
            .filter(|p| p.as_rule() == operand)
            .map(|p| build(self, p))
            .collect();
        if operands.len() == 1 {
            operands.pop().unwrap_or(Condition::Any(span))
        } else {
            join(operands, span)
        }
    }

    fn negation(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        let span = span_of(&pair);
        let mut not_starts = Vec::new();
        let mut inner = None;
        let mut group_start = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::not_kw => not_starts.push(p.as_span().start()),
                Rule::open_paren => group_start = Some(p.as_span().start()),
                Rule::close_paren => {}
                _ => inner = Some(p),
            }
        }
        let nested = depth + not_starts.len() + usize::from(group_start.is_some());
        if nested > self.limits.max_nesting {
            self.error_help(
                ErrorKind::Limit,
                span,
                format!(
                    "conditions are nested deeper than {} levels",
                    self.limits.max_nesting
                ),
                "`not not x` is `x`; remove the doubled negations",
            );
            return Condition::Any(span);
        }
        let Some(inner) = inner else {
            return Condition::Any(span);
        };
        let mut cond = match (inner.as_rule(), group_start) {
            (Rule::condition, Some(start)) => {
                let c = self.condition(inner, nested);
                Condition::Group(Box::new(c), Span::new(start, span.end))
            }
            (Rule::atom, _) => Condition::Atom(self.atom(inner)),
            _ => Condition::Any(span),
        };
        // Innermost `not` first, so each node's span starts at its own keyword.
        for start in not_starts.into_iter().rev() {
            cond = Condition::Not(Box::new(cond), Span::new(start, span.end));
        }
        cond
    }

    fn atom(&mut self, pair: Pair<'_, Rule>) -> Atom {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let Some(first) = inner.next() else {
            return Atom {
                attribute: Attribute::Name("".into()),
                predicate: Predicate::Has,
                span,
            };
        };
        if first.as_rule() == Rule::has_atom {
            let attribute = first
                .into_inner()
                .find(|p| p.as_rule() == Rule::attribute)
                .map(|p| self.attribute(p))
                .unwrap_or(Attribute::Name("".into()));
            return Atom {
                attribute,
                predicate: Predicate::Has,
                span,
            };
        }
        let attribute = self.attribute(first);
        let predicate = match inner.next() {
            Some(p) => self.predicate(p),
            None => Predicate::Has,
        };
        Atom {
            attribute,
            predicate,
            span,
        }
    }

    fn predicate(&mut self, pair: Pair<'_, Rule>) -> Predicate {
        let which = pair.as_rule();
        let operand = pair
            .into_inner()
            .find(|p| !matches!(p.as_rule(), Rule::in_kw | Rule::not_kw));
        let Some(operand) = operand else {
            return Predicate::Has;
        };
        match which {
            Rule::eq => Predicate::Eq(self.value(operand)),
            Rule::ne => Predicate::Ne(self.value(operand)),
            Rule::in_list => Predicate::In(self.list(operand)),
            Rule::not_in => Predicate::NotIn(self.list(operand)),
            Rule::like => Predicate::Like(self.glob(operand)),
            Rule::le => Predicate::Le(self.integer(&operand)),
            Rule::ge => Predicate::Ge(self.integer(&operand)),
            Rule::lt => Predicate::Lt(self.integer(&operand)),
            Rule::gt => Predicate::Gt(self.integer(&operand)),
            _ => Predicate::Has,
        }
    }

    fn attribute(&mut self, pair: Pair<'_, Rule>) -> Attribute {
        let Some(inner) = pair.into_inner().next() else {
            return Attribute::Name("".into());
        };
        let span = span_of(&inner);
        let attribute = match inner.as_rule() {
            Rule::tag_attribute => match inner.into_inner().next() {
                Some(k) if k.as_rule() == Rule::string => Attribute::Tag(self.string(k).into()),
                Some(k) => Attribute::Tag(k.as_str().into()),
                None => Attribute::Tag("".into()),
            },
            _ => Attribute::Name(inner.as_str().into()),
        };
        let len = match &attribute {
            Attribute::Name(s) | Attribute::Tag(s) => s.len(),
        };
        if len > self.limits.max_string_bytes {
            self.error(
                ErrorKind::Limit,
                span,
                format!(
                    "attribute name is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        attribute
    }

    fn list(&mut self, pair: Pair<'_, Rule>) -> Vec<Literal> {
        let span = span_of(&pair);
        let values: Vec<Literal> = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::value)
            .map(|p| self.value(p))
            .collect();
        if values.len() > self.limits.max_list_len {
            self.error(
                ErrorKind::Limit,
                span,
                format!(
                    "list has {} values, more than the limit of {}",
                    values.len(),
                    self.limits.max_list_len
                ),
            );
        }
        values
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Literal {
        let Some(inner) = pair.into_inner().next() else {
            return Literal::Str("".into());
        };
        if inner.as_rule() == Rule::string {
            return Literal::Str(self.string(inner).into());
        }
        let word = inner.as_str();
        let span = span_of(&inner);
        if word.len() > self.limits.max_string_bytes {
            self.error(
                ErrorKind::Limit,
                span,
                format!(
                    "value is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        match word {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            w if ast::is_integer_text(w) => Literal::Int(self.integer(&inner)),
            w => Literal::Str(w.into()),
        }
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> i64 {
        match pair.as_str().parse::<i64>() {
            Ok(i) => i,
            Err(_) => {
                self.error_help(
                    ErrorKind::Value,
                    span_of(pair),
                    format!("integer `{}` does not fit in 64 bits", pair.as_str()),
                    "integers range from -9223372036854775808 to 9223372036854775807; quote the value to compare it as a string",
                );
                0
            }
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let span = span_of(&pair);
        let raw = pair
            .into_inner()
            .next()
            .map(|p| p.as_str())
            .unwrap_or_default();
        if raw.len() > self.limits.max_string_bytes {
            self.error(
                ErrorKind::Limit,
                span,
                format!(
                    "string is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        let mut out = String::with_capacity(raw.len());
        let base = span.start + 1;
        for (offset, piece) in Unescaper::new(raw) {
            match piece {
                Ok(Piece::Char(c) | Piece::Escaped(c)) => out.push(c),
                Err(msg) => {
                    self.error(
                        ErrorKind::Value,
                        Span::new(base + offset, base + offset + 1),
                        msg,
                    );
                }
            }
        }
        out
    }

    fn glob(&mut self, pair: Pair<'_, Rule>) -> Vec<GlobPiece> {
        let span = span_of(&pair);
        let raw = pair
            .into_inner()
            .next()
            .map(|p| p.as_str())
            .unwrap_or_default();
        let base = span.start + 1;
        let mut pieces = Vec::new();
        for (offset, piece) in Unescaper::new(raw) {
            match piece {
                Ok(Piece::Char('*')) => {
                    // Consecutive stars mean the same as one.
                    if pieces.last() != Some(&GlobPiece::AnyRun) {
                        pieces.push(GlobPiece::AnyRun);
                    }
                }
                Ok(Piece::Char('?')) => pieces.push(GlobPiece::AnyOne),
                Ok(Piece::Char(c) | Piece::Escaped(c)) => pieces.push(GlobPiece::Char(c)),
                Err(msg) => self.error(
                    ErrorKind::Value,
                    Span::new(base + offset, base + offset + 1),
                    msg,
                ),
            }
        }
        if pieces.len() > self.limits.max_glob_len {
            self.error(
                ErrorKind::Limit,
                span,
                format!(
                    "glob is longer than {} characters",
                    self.limits.max_glob_len
                ),
            );
        }
        pieces
    }
}

/// One decoded character of a quoted string or glob.
enum Piece {
    /// A character written as itself.
    Char(char),
    /// A character written as an escape (`\*` is a literal star in a glob).
    Escaped(char),
}

/// Decodes the escapes of a string body the grammar already accepted.
struct Unescaper<'a> {
    raw: &'a str,
    chars: std::str::CharIndices<'a>,
}

impl<'a> Unescaper<'a> {
    fn new(raw: &'a str) -> Unescaper<'a> {
        Unescaper {
            raw,
            chars: raw.char_indices(),
        }
    }
}

impl Iterator for Unescaper<'_> {
    type Item = (usize, Result<Piece, String>);

    fn next(&mut self) -> Option<Self::Item> {
        let (i, c) = self.chars.next()?;
        if c != '\\' {
            return Some((i, Ok(Piece::Char(c))));
        }
        let Some((_, e)) = self.chars.next() else {
            return Some((i, Err("string ends in a lone `\\`".to_string())));
        };
        let decoded = match e {
            'n' => Ok('\n'),
            't' => Ok('\t'),
            'r' => Ok('\r'),
            '0' => Ok('\0'),
            'u' => {
                // The grammar guarantees `{hex{1,6}}`.
                let rest = &self.raw[i + 2..];
                let close = rest.find('}').unwrap_or(rest.len());
                let hex = rest.get(1..close).unwrap_or("");
                for _ in 0..=close {
                    self.chars.next();
                }
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("`\\u{{{hex}}}` is not a Unicode scalar value"))
            }
            other => Ok(other),
        };
        Some((i, decoded.map(Piece::Escaped)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> ast::Policy {
        match parse(text) {
            Ok(p) => p,
            Err(e) => panic!("{text:?} failed: {e}"),
        }
    }

    #[test]
    fn spec_example_parses() {
        let p = parse_ok(
            r#"
            @id("devops-staging")
            role = DevOpsEngineer grants tag:env in [dev, staging] and type != rdp;
            @id("named-hosts")
            * grants name ~ "bastion-*";
            "#,
        );
        assert_eq!(p.rules.len(), 2);
    }

    #[test]
    fn whitespace_is_free() {
        parse_ok("role in[x,y]grants*;");
        parse_ok("");
        parse_ok("# only a comment\n// and another");
    }

    #[test]
    fn keyword_prefixed_names_are_names() {
        let p = parse_ok("notes = a and order = b and grantsx = c grants *;");
        assert_eq!(
            p.to_string(),
            "notes = a and order = b and grantsx = c grants *;\n"
        );
    }

    #[test]
    fn bare_words_classify() {
        let p = parse_ok("a = 42 and b = \"42\" and c = 10.0.0.1 and d = true and e = true-ish and f = -7 grants *;");
        let Condition::And(atoms, _) = &p.rules[0].who else {
            panic!()
        };
        let lits: Vec<_> = atoms
            .iter()
            .map(|c| match c {
                Condition::Atom(Atom {
                    predicate: Predicate::Eq(l),
                    ..
                }) => l.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            lits,
            vec![
                Literal::Int(42),
                Literal::Str("42".into()),
                Literal::Str("10.0.0.1".into()),
                Literal::Bool(true),
                Literal::Str("true-ish".into()),
                Literal::Int(-7),
            ]
        );
    }

    #[test]
    fn integer_out_of_range_is_an_error() {
        let e = parse("a = 99999999999999999999 grants *;").unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Value);
        assert_eq!(e.first().location().column, 5);
    }

    #[test]
    fn ordering_needs_an_integer() {
        let e = parse("a < abc grants *;").unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Syntax);
        assert!(e.to_string().contains("an integer"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!(
            "{}a = b{} grants *;",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Limit);
        let nots = format!("{}a = b grants *;", "not ".repeat(250_000));
        let e = parse(&nots).unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Limit);
    }

    #[test]
    fn printer_round_trips() {
        let text = r#"@id("x") @note("a \"quoted\" note")
            not (a = "b c" or tag:"k8s.io/cluster" ~ "pr\*od-*?") and n >= -3 and g not in [x, 1, false] denies has tag:env;"#;
        let p = parse_ok(text);
        let printed = p.to_string();
        let again = parse_ok(&printed);
        assert_eq!(printed, again.to_string());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("role = x grants *\nrole = y grants *;").unwrap_err();
        let d = e.first();
        assert_eq!(d.location().line, 2);
        assert!(d.message().contains("`;`"), "{}", d.message());
    }
}
