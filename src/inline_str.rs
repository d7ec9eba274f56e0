//! [`InlineStr`]: a string map key kept inline when short.
//!
//! Keys of up to 22 bytes — nearly all attribute names (`role`, `department`, `env`) and
//! most values a policy posts — are stored in the map's own node or slot, so that finding
//! one compares bytes already in cache instead of following one pointer per key compared:
//! on a cold request, or in a table of a million keys, those pointers are cache misses.
//! Entities key their attributes and tags with it; the index keys its string postings.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The longest string kept inline.
const INLINE: usize = 22;

/// A string, ordered, compared and hashed as its bytes (as `String` is); found in maps
/// by `&[u8]`.
#[derive(Clone)]
pub(crate) struct InlineStr(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl InlineStr {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            // Built from a `str`, cut at its own length: always UTF-8.
            Repr::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Repr::Heap(text) => text,
        }
    }

    /// The bytes.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len).min(INLINE)],
            Repr::Heap(text) => text.as_bytes(),
        }
    }
}

impl InlineStr {
    /// `text` inline, when it is short enough.
    fn inline(text: &str) -> Option<InlineStr> {
        let len = u8::try_from(text.len())
            .ok()
            .filter(|&l| usize::from(l) <= INLINE)?;
        let mut bytes = [0; INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(InlineStr(Repr::Inline { len, bytes }))
    }
}

impl From<String> for InlineStr {
    fn from(text: String) -> InlineStr {
        InlineStr::inline(&text).unwrap_or_else(|| InlineStr(Repr::Heap(text.into_boxed_str())))
    }
}

impl From<&str> for InlineStr {
    fn from(text: &str) -> InlineStr {
        InlineStr::inline(text).unwrap_or_else(|| InlineStr(Repr::Heap(text.into())))
    }
}

impl Borrow<[u8]> for InlineStr {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The first 8 inline bytes as a big-endian word: compared as integers, they order as
/// the bytes do, without a call to `memcmp`.
#[inline]
fn head(bytes: &[u8; INLINE]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_be_bytes(*w))
}

impl PartialEq for InlineStr {
    #[inline]
    fn eq(&self, other: &InlineStr) -> bool {
        match (&self.0, &other.0) {
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for InlineStr {}

impl PartialOrd for InlineStr {
    fn partial_cmp(&self, other: &InlineStr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InlineStr {
    /// As the bytes order, which is `str`'s order. Two inline strings compare their
    /// padded bytes, the first 8 as one word: their bytes are zero after the length, so
    /// the padded bytes' order, then the length's, is the order of the strings (a string
    /// that only adds NUL bytes to another pads to the same bytes and is longer).
    #[inline]
    fn cmp(&self, other: &InlineStr) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                match head(x).cmp(&head(y)) {
                    Ordering::Equal => x[8..].cmp(&y[8..]).then(a.cmp(b)),
                    unequal => unequal,
                }
            }
            _ => self.as_bytes().cmp(other.as_bytes()),
        }
    }
}

impl Hash for InlineStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for InlineStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for InlineStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn orders_and_finds_like_strings() {
        let names = [
            "role",
            "",
            "é-accent",
            "a-name-much-longer-than-twenty-two-bytes",
            "department",
            "rolf",
            "role2",
        ];
        let map: BTreeMap<InlineStr, usize> = names
            .iter()
            .map(|n| (InlineStr::from(*n), n.len()))
            .collect();
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            map.keys().map(InlineStr::as_str).collect::<Vec<_>>(),
            sorted
        );
        for n in names {
            assert_eq!(map.get(n.as_bytes()), Some(&n.len()), "{n}");
        }
        assert_eq!(map.get("rol".as_bytes()), None);
        for n in names {
            assert_eq!(map.get(&InlineStr::from(n)), Some(&n.len()), "{n}");
        }
    }

    #[test]
    fn compares_like_bytes() {
        // NUL bytes (padding looks the same), prefixes, the longest inline length and one
        // more, high bytes (unsigned order), and both representations mixed.
        let texts = [
            "",
            "\0",
            "\0\0",
            "a",
            "a\0",
            "ab",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopqrstuv",
            "abcdefghijklmnopqrstuvw",
            "abcdefghijklmnopqrstuu",
            "é",
            "\u{7f}",
            "zzzzzzzzzzzzzzzzzzzzzzzzzz",
        ];
        for a in texts {
            for b in texts {
                let (x, y) = (InlineStr::from(a), InlineStr::from(b));
                assert_eq!(x.cmp(&y), a.as_bytes().cmp(b.as_bytes()), "{a:?} {b:?}");
                assert_eq!(x == y, a == b, "{a:?} {b:?}");
            }
        }
    }
}
