//! Syntax errors: a pest failure turned into a diagnostic that says what was found, what
//! was expected, and — for common slips (`==`, `&&`, `'quotes'`) — how to fix it.

use super::grammar::Rule;
use crate::diagnostics::Code;
use crate::error::PolicyDiagnostic;
use crate::lexical;
use crate::source::{Source, Span};

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
    let word: String = if lexical::is_name_char(first) {
        rest.chars()
            .take_while(|&c| lexical::is_name_char(c))
            .take(24)
            .collect()
    } else {
        rest.chars()
            .take_while(|&c| !lexical::is_whitespace(c) && !lexical::is_name_char(c))
            .take(3)
            .collect()
    };
    format!("`{}`", word.escape_debug())
}

/// The diagnostic for pest's `err` on the segment of `source` that starts at byte `base`.
pub(super) fn syntax_diagnostic(
    source: &Source,
    base: usize,
    err: &pest::error::Error<Rule>,
) -> PolicyDiagnostic {
    let text: &str = &source.text;
    let offset = base
        + match err.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
    if let Some(diag) = string_diagnostic(source, offset) {
        return diag;
    }
    if text
        .get(offset..)
        .is_some_and(|rest| rest.starts_with(lexical::BOM))
    {
        return PolicyDiagnostic::new(
            Code::MisplacedBom,
            source,
            Span::new(offset, offset + lexical::BOM.len_utf8()),
            "unexpected byte-order mark (U+FEFF)",
        );
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
    let diag = PolicyDiagnostic::new(Code::Unexpected, source, Span::new(offset, end), message);
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
                    Some(PolicyDiagnostic::new(
                        Code::BadEscape,
                        source,
                        Span::new(at, at + len),
                        message,
                    ))
                };
                match e {
                    // `\*` and `\?` are glob escapes: a glob that uses them parses, so
                    // reaching here means a plain string does.
                    e if lexical::simple_escape(e).is_some() => {}
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
    Some(PolicyDiagnostic::new(
        Code::UnterminatedString,
        source,
        Span::new(offset, offset + 1),
        "unterminated string",
    ))
}
