//! Decoding the escapes of a quoted string or glob that the grammar accepted.

use crate::lexical;

/// One decoded character of a quoted string or glob.
pub(super) enum Piece {
    /// A character written as itself.
    Char(char),
    /// A character written as an escape (`\*` is a literal star in a glob).
    Escaped(char),
}

/// Decodes the escapes of a string body the grammar already accepted.
pub(super) struct Unescaper<'a> {
    raw: &'a str,
    chars: std::str::CharIndices<'a>,
}

impl<'a> Unescaper<'a> {
    pub(super) fn new(raw: &'a str) -> Unescaper<'a> {
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
            // The grammar accepted the escape: a simple one, or `\*` / `\?` in a glob.
            other => Ok(lexical::simple_escape(other).unwrap_or(other)),
        };
        Some((i, decoded.map(Piece::Escaped)))
    }
}
