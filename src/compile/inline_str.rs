//! [`InlineStr`]: a string key stored in the hash table's own slot when it is short, so
//! that finding it compares bytes already in cache instead of following a pointer to
//! them (one cache miss per probe in a table of a million keys).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The longest string kept inline.
const INLINE: usize = 22;

/// A string as bytes, inline up to 22 bytes; found in maps by `&[u8]`.
#[derive(Debug, Clone)]
pub(crate) enum InlineStr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl InlineStr {
    pub(crate) fn new(text: &Arc<str>) -> InlineStr {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                InlineStr::Inline { len, bytes }
            }
            _ => InlineStr::Shared(text.clone()),
        }
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            InlineStr::Inline { len, bytes } => &bytes[..usize::from(*len).min(INLINE)],
            InlineStr::Shared(text) => text.as_bytes(),
        }
    }
}

impl Borrow<[u8]> for InlineStr {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for InlineStr {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for InlineStr {}

impl Hash for InlineStr {
    /// As the bytes hash, so that a map of `InlineStr` is searched with `&[u8]`.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;

    #[test]
    fn found_by_bytes_inline_or_shared() {
        let long: Arc<str> = "a-string-longer-than-twenty-two-bytes".into();
        let short: Arc<str> = "role_17".into();
        let empty: Arc<str> = "".into();
        let mut map = FxHashMap::default();
        for (k, v) in [(&long, 1), (&short, 2), (&empty, 3)] {
            map.insert(InlineStr::new(k), v);
        }
        assert!(matches!(InlineStr::new(&short), InlineStr::Inline { .. }));
        assert!(matches!(InlineStr::new(&long), InlineStr::Shared(_)));
        assert_eq!(map.get(long.as_bytes()), Some(&1));
        assert_eq!(map.get("role_17".as_bytes()), Some(&2));
        assert_eq!(map.get(b"".as_slice()), Some(&3));
        assert_eq!(map.get("role_1".as_bytes()), None);
        assert_eq!(map.get("role_170".as_bytes()), None);
    }
}
