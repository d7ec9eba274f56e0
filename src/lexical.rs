//! The language's lexical rules, in one place: character classes, keywords, comments,
//! strings and escapes.
//!
//! `grammar/tenure.pest` spells the same rules for pest; everything else that reads or
//! writes policy text — the nesting pre-scan and rule splitter (`syntax::prescan`), the
//! syntax-error messages, the unescaper and the printer — asks this module, so they
//! cannot drift apart from each other. The test `every_char_prints_and_parses_back` in
//! `syntax::tests` walks every `char` through print → parse.

use std::fmt;

#[cfg_attr(not(test), allow(dead_code))] // the grammar spells it; tests check the printer with it
/// The keywords; a name that merely begins with one (`notes`, `order`) is a name.
pub(crate) const KEYWORDS: [&str; 7] = ["grants", "denies", "and", "or", "not", "in", "has"];

/// The byte-order mark, accepted only as the very first character of a source.
pub(crate) const BOM: char = '\u{FEFF}';

/// The escapes a string accepts, for help texts.
pub(crate) const ESCAPES_HELP: &str = "escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\0` and `\\u{...}`; in globs also `\\*` and `\\?`";

/// Characters that may stand between any two tokens (the grammar's `WHITESPACE`).
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A letter: Unicode general category L, exactly as the grammar's `LETTER`.
pub(crate) fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && pest::unicode::LETTER(c))
}

#[cfg_attr(not(test), allow(dead_code))] // the grammar spells it; tests check the printer with it
/// The first character of a name (`role`, `2fa`).
pub(crate) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || is_letter(c)
}

/// A character of a name or tag key after the first (`manager.id`, `k8s-cluster`).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || is_letter(c)
}

/// A character of a bare value (`10.0.0.1`, `https://x`, `a@b`).
pub(crate) fn is_bare_char(c: char) -> bool {
    is_name_char(c) || matches!(c, ':' | '/' | '@')
}

#[cfg_attr(not(test), allow(dead_code))] // the grammar spells it; tests check the printer with it
/// True for the keywords of [`KEYWORDS`].
pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// The length in bytes of the comment at the start of `rest` (`#` or `//` up to, not
/// including, the line break), if a comment starts there. Comments start only where a
/// token could: inside a bare value `//` is part of the value.
pub(crate) fn comment_len(rest: &str) -> Option<usize> {
    if rest.starts_with('#') || rest.starts_with("//") {
        Some(rest.find('\n').unwrap_or(rest.len()))
    } else {
        None
    }
}

/// The length in bytes of the quoted string at the start of `rest` (which starts with
/// `"`), closing quote included; the whole of `rest` when the string is unterminated.
/// A backslash escapes the character after it.
pub(crate) fn quoted_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    rest.len()
}

/// The character a one-letter escape `\e` stands for (`\u{...}` aside). Globs also accept
/// `\*` and `\?`.
pub(crate) fn simple_escape(e: char) -> Option<char> {
    Some(match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        '"' => '"',
        '\\' => '\\',
        _ => return None,
    })
}

/// True when `s` is entirely `-?[0-9]+`, i.e. a bare word the language reads as an integer.
pub(crate) fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the printer may write string value `s` bare. Only plain ASCII words are
/// written bare (quoting always parses back); integers and booleans must be quoted to
/// stay strings, and `//` would read as a comment at the start of a token.
pub(crate) fn is_bare_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii() && is_bare_char(c))
        && !is_integer_text(s)
        && s != "true"
        && s != "false"
        && !s.contains("//")
}

#[cfg_attr(not(test), allow(dead_code))] // the grammar spells it; tests check the printer with it
/// Whether attribute name `s` can be written at all (names have no quoted form).
pub(crate) fn is_bare_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if is_name_start(c)) && chars.all(is_name_char) && !is_keyword(s)
}

/// Whether tag key `s` may be written bare after `tag:` (plain ASCII only, as values).
pub(crate) fn is_bare_tag_key(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii() && is_name_char(c))
}

/// Writes `s` as a quoted string literal with escapes.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        write_escaped_char(f, c)?;
    }
    f.write_char('"')
}

/// Writes one character of a quoted string, escaping what must be.
pub(crate) fn write_escaped_char(f: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '"' => f.write_str("\\\""),
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\t' => f.write_str("\\t"),
        '\r' => f.write_str("\\r"),
        c if c.is_control() || c == BOM => write!(f, "\\u{{{:x}}}", c as u32),
        c => f.write_char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_agree_with_the_grammar_on_samples() {
        assert!(is_letter('é') && is_letter('ж') && !is_letter('\u{06D6}'));
        assert!(is_name_char('-') && !is_name_char(':') && is_bare_char(':'));
        assert!(!is_whitespace(BOM));
        assert_eq!(comment_len("// x\ny"), Some(4));
        assert_eq!(comment_len("/x"), None);
        assert_eq!(quoted_len(r#""a\"b" c"#), 6);
        assert_eq!(quoted_len(r#""abc"#), 4);
    }
}
