//! Anchored glob matching (`*` any run, `?` one character), classified at build time.
//!
//! After globset: each glob is classified once into the cheapest strategy that matches it
//! — exact, prefix, suffix, contains, or general segments — so a match never backtracks.
//! The general strategy splits the pattern at `*` and finds each segment at its leftmost
//! position, which is correct for `*`-only wildcards; the cost is O(text × segment) at
//! worst and never exponential (`"*a*a*a*a*a*b"` is linear).

use crate::vocabulary::GlobPiece;

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    strategy: Strategy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Strategy {
    /// No wildcard: plain equality.
    Exact(String),
    /// `lit*`.
    Prefix(String),
    /// `*lit`.
    Suffix(String),
    /// `*lit*`.
    Contains(String),
    /// Anything else: `first*middle*...*last`.
    Segments {
        first: Segment,
        middle: Vec<Segment>,
        last: Segment,
    },
    /// Only `?`s and literals, no `*`: must match the whole text.
    Whole(Segment),
}

/// A run of literal characters and `?`s, between stars.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Segment {
    items: Vec<Option<char>>, // None is `?`
    /// The segment as text when it has no `?` (set by [`Segment::seal`]).
    text: Option<String>,
}

impl Segment {
    /// Matches at byte `pos`; returns the end byte position.
    fn match_at(&self, text: &str, pos: usize) -> Option<usize> {
        let mut chars = text.get(pos..)?.char_indices();
        let mut end = pos;
        for item in &self.items {
            let (i, c) = chars.next()?;
            if let Some(want) = item {
                if *want != c {
                    return None;
                }
            }
            end = pos + i + c.len_utf8();
        }
        Some(end)
    }

    /// Leftmost match at or after `from`; returns (start, end).
    fn find(&self, text: &str, from: usize) -> Option<(usize, usize)> {
        if self.items.is_empty() {
            return Some((from, from));
        }
        let rest = text.get(from..)?;
        if let Some(literal) = &self.text {
            // All literal: a substring search, linear in the text.
            return rest
                .find(literal.as_str())
                .map(|i| (from + i, from + i + literal.len()));
        }
        for (i, _) in rest.char_indices() {
            if let Some(end) = self.match_at(text, from + i) {
                return Some((from + i, end));
            }
        }
        None
    }

    /// Matches at the very end of `text`, starting no earlier than `from`.
    fn match_suffix(&self, text: &str, from: usize) -> bool {
        let n = self.items.len();
        let mut start = text.len();
        for _ in 0..n {
            match text[..start].char_indices().next_back() {
                Some((i, _)) => start = i,
                None => return false,
            }
        }
        start >= from && self.match_at(text, start) == Some(text.len())
    }

    fn literal(&self) -> Option<String> {
        self.items.iter().copied().collect()
    }

    fn seal(mut self) -> Segment {
        self.text = self.literal();
        self
    }
}

impl Glob {
    /// Compiles glob pieces (as the parser produces them).
    pub fn new(pieces: &[GlobPiece]) -> Glob {
        let mut segments: Vec<Segment> = vec![Segment::default()];
        for p in pieces {
            match p {
                GlobPiece::AnyRun => segments.push(Segment::default()),
                GlobPiece::AnyOne => segments.last_mut().map_or((), |s| s.items.push(None)),
                GlobPiece::Char(c) => segments.last_mut().map_or((), |s| s.items.push(Some(*c))),
            }
        }
        let strategy = match segments.len() {
            1 => {
                let seg = segments.remove(0);
                match seg.literal() {
                    Some(lit) => Strategy::Exact(lit),
                    None => Strategy::Whole(seg),
                }
            }
            n => {
                let first = segments.remove(0);
                let last = segments.remove(n - 2);
                let middle: Vec<Segment> = segments.into_iter().map(Segment::seal).collect();
                match (first.literal(), last.literal(), middle.as_slice()) {
                    (Some(f), Some(l), []) if l.is_empty() => Strategy::Prefix(f),
                    (Some(f), Some(l), []) if f.is_empty() => Strategy::Suffix(l),
                    (Some(f), Some(l), [m]) if f.is_empty() && l.is_empty() => match m.literal() {
                        Some(lit) => Strategy::Contains(lit),
                        None => Strategy::Segments {
                            first,
                            middle,
                            last,
                        },
                    },
                    _ => Strategy::Segments {
                        first,
                        middle,
                        last,
                    },
                }
            }
        };
        Glob { strategy }
    }

    /// The glob's pieces, as the parser would produce them for its canonical source
    /// (consecutive stars merged), for printing and exporting.
    pub fn pieces(&self) -> Vec<GlobPiece> {
        let lit = |s: &str| s.chars().map(GlobPiece::Char).collect::<Vec<_>>();
        let seg = |s: &Segment| {
            s.items
                .iter()
                .map(|i| i.map_or(GlobPiece::AnyOne, GlobPiece::Char))
                .collect::<Vec<_>>()
        };
        let mut out = Vec::new();
        match &self.strategy {
            Strategy::Exact(l) => out.extend(lit(l)),
            Strategy::Prefix(p) => {
                out.extend(lit(p));
                out.push(GlobPiece::AnyRun);
            }
            Strategy::Suffix(s) => {
                out.push(GlobPiece::AnyRun);
                out.extend(lit(s));
            }
            Strategy::Contains(c) => {
                out.push(GlobPiece::AnyRun);
                out.extend(lit(c));
                out.push(GlobPiece::AnyRun);
            }
            Strategy::Whole(s) => out.extend(seg(s)),
            Strategy::Segments {
                first,
                middle,
                last,
            } => {
                out.extend(seg(first));
                for m in middle {
                    out.push(GlobPiece::AnyRun);
                    out.extend(seg(m));
                }
                out.push(GlobPiece::AnyRun);
                out.extend(seg(last));
            }
        }
        out
    }

    /// True when the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        match &self.strategy {
            Strategy::Exact(lit) => text == lit,
            Strategy::Prefix(p) => text.starts_with(p.as_str()),
            Strategy::Suffix(s) => text.ends_with(s.as_str()),
            Strategy::Contains(c) => text.contains(c.as_str()),
            Strategy::Whole(seg) => seg.match_at(text, 0) == Some(text.len()),
            Strategy::Segments {
                first,
                middle,
                last,
            } => {
                let Some(mut pos) = first.match_at(text, 0) else {
                    return false;
                };
                for seg in middle {
                    match seg.find(text, pos) {
                        Some((_, end)) => pos = end,
                        None => return false,
                    }
                }
                last.match_suffix(text, pos)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(s: &str) -> Glob {
        let pieces: Vec<GlobPiece> = s
            .chars()
            .map(|c| match c {
                '*' => GlobPiece::AnyRun,
                '?' => GlobPiece::AnyOne,
                c => GlobPiece::Char(c),
            })
            .collect();
        Glob::new(&pieces)
    }

    #[test]
    fn strategies_match() {
        let cases = [
            ("bastion-*", "bastion-1", true),
            ("bastion-*", "bastion-", true),
            ("bastion-*", "xbastion-1", false),
            ("*-prod", "db-prod", true),
            ("*-prod", "db-prod2", false),
            ("*prod*", "a-prod-b", true),
            ("*", "", true),
            ("*", "a/b\nc", true),
            ("", "", true),
            ("", "a", false),
            ("a?c", "abc", true),
            ("a?c", "aéc", true),
            ("a?c", "ac", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("*a*a*a*a*a*b", "aaaaaab", true),
            ("?*", "", false),
            ("*?", "é", true),
            ("a*?", "a", false),
        ];
        for (g, t, want) in cases {
            assert_eq!(glob(g).is_match(t), want, "{g:?} ~ {t:?}");
        }
    }

    #[test]
    fn pathological_glob_is_fast() {
        let text = "a".repeat(200_000);
        let g = glob("*a*a*a*a*a*b");
        assert!(!g.is_match(&text));
        let g = glob("*a?a?a?a?a?b*");
        assert!(!g.is_match(&text));
    }
}
