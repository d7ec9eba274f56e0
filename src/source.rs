//! Policy text and positions in it: [`Span`] (bytes), [`Location`] (line and column) and
//! the named `Source` every diagnostic points into.
//!
//! A source indexes its line starts once, on first use, so locating any number of
//! diagnostics costs one pass over the text plus a binary search each.

use std::sync::{Arc, OnceLock};

/// A byte range in a policy source.
///
/// ```
/// let err = tenure::Policy::compile("role = x grants").unwrap_err();
/// let span = err.first().span();
/// assert_eq!((span.start, span.end), (15, 15));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// This span moved `by` bytes to the right.
    pub(crate) fn shifted(self, by: usize) -> Span {
        Span::new(self.start + by, self.end + by)
    }
}

/// A line and column in a policy source, both counting from 1 (columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in Unicode scalar values.
    pub column: usize,
}

impl std::fmt::Display for Location {
    /// `line L, column C`, as errors in TOML and JSON inputs name a place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text, and to a char
    /// boundary). Scans the text; diagnostics use an index built once per source instead.
    ///
    /// ```
    /// let l = tenure::Location::of_offset("ab\ncé d", 7);
    /// assert_eq!((l.line, l.column), (2, 4));
    /// ```
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let offset = floor_char_boundary(text, offset);
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

/// The largest char boundary of `text` at or below `offset` (clamped to the text).
pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A named policy text, as given to [`crate::Policy::compile_sources`].
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) name: Arc<str>,
    pub(crate) text: Arc<str>,
    lines: Arc<OnceLock<LineIndex>>,
}

impl Source {
    pub(crate) fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
            lines: Arc::default(),
        }
    }

    /// The line and column of byte `offset`, through the source's line index.
    pub(crate) fn location(&self, offset: usize) -> Location {
        self.lines().location(&self.text, offset)
    }

    /// The source's line index, built on first use.
    pub(crate) fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }
}

/// Where each line starts, and whether it is ASCII (then columns are byte differences).
#[derive(Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(newline_offsets(text).map(|i| i + 1));
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = starts.get(i + 1).copied().unwrap_or(text.len());
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        LineIndex { starts, ascii }
    }

    /// The 0-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// How many lines there are (at least one).
    pub(crate) fn count(&self) -> usize {
        self.starts.len()
    }

    /// Where 0-based `line` starts.
    pub(crate) fn start(&self, line: usize) -> usize {
        self.starts[line]
    }

    /// Where 0-based `line` ends, its line break excluded.
    pub(crate) fn end(&self, line: usize, text_len: usize) -> usize {
        self.starts.get(line + 1).map_or(text_len, |next| next - 1)
    }

    fn location(&self, text: &str, offset: usize) -> Location {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = if self.ascii[line] {
            offset - start
        } else {
            text[start..offset].chars().count()
        };
        Location {
            line: line + 1,
            column: column + 1,
        }
    }
}

fn newline_offsets(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_locations_equal_scanned_ones() {
        let text = "ab\ncé d\n\nlast é line";
        let source = Source::new("s", text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                source.location(offset),
                Location::of_offset(text, offset),
                "{offset}"
            );
        }
    }
}
