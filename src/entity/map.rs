//! [`KeyMap`]: an entity's attributes or tags, as one sorted vector.
//!
//! Entities are small (a JSON entity holds at most
//! [`MAX_ENTITY_ATTRIBUTES`](crate::limits::MAX_ENTITY_ATTRIBUTES) attributes; most hold a
//! handful) and are read far more often than they are changed: a decision reads a few
//! attributes of each side. A sorted vector keeps each key beside its value in one
//! allocation, so a cold read touches a line or two instead of a B-tree node's separate
//! key and value arrays, and finding a key compares [`InlineStr`]s without a call to
//! `memcmp` (against the `BTreeMap` it replaces, `cachegrind` on `decide_profile 10`:
//! 1 990 → 1 897 instructions per decision).
//!
//! Inserting in key order appends; inserting out of order shifts the later entries, so
//! that building an entity of `n` attributes costs O(n²) moves in the worst case (about
//! 50 ms at 4 096). Bulk reads ([`KeyMap::from_entries`]) sort once instead.

use std::fmt;

use crate::inline_str::InlineStr;

/// A map from [`InlineStr`] keys to `V`, in key order.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyMap<V> {
    /// Sorted by key, each key once.
    entries: Vec<(InlineStr, V)>,
}

impl<V: fmt::Debug> fmt::Debug for KeyMap<V> {
    /// As a map: `{"role": Str("dba")}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            entries: Vec::new(),
        }
    }
}

impl<V> KeyMap<V> {
    /// A map of `entries`; of entries with the same key, the last one wins.
    pub(crate) fn from_entries(mut entries: Vec<(InlineStr, V)>) -> KeyMap<V> {
        // Stable: equal keys stay in their order, and the last of each run is kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(InlineStr, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match kept.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => kept.push(entry),
            }
        }
        KeyMap { entries: kept }
    }

    /// Where `key` is, or where it would go.
    #[inline]
    fn find(&self, key: &[u8]) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key))
    }

    /// The value of `key`.
    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    /// The value of `key`, compared as [`InlineStr`]s (no `memcmp` call when both are
    /// short): the decision path's read. A small map is scanned (keys of another length
    /// are told apart by their first word), a larger one searched.
    #[inline]
    pub(crate) fn get_key(&self, key: &InlineStr) -> Option<&V> {
        if self.entries.len() <= Self::SCANNED {
            return self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        }
        let at = self.entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        Some(&self.entries[at].1)
    }

    /// Maps of at most this many keys are scanned rather than searched.
    const SCANNED: usize = 8;

    /// Sets `key` to `value`, returning the value it replaces.
    pub(crate) fn insert(&mut self, key: InlineStr, value: V) -> Option<V> {
        // Entities are usually built in key order: append without a search.
        match self.entries.last() {
            Some((last, _)) if *last < key => {}
            None => {}
            Some(_) => match self.find(key.as_bytes()) {
                Ok(at) => return Some(std::mem::replace(&mut self.entries[at].1, value)),
                Err(at) => {
                    self.entries.insert(at, (key, value));
                    return None;
                }
            },
        }
        self.entries.push((key, value));
        None
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<V> {
        let at = self.find(key).ok()?;
        Some(self.entries.remove(at).1)
    }

    /// The number of keys.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in key order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = (&InlineStr, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<'a, V> IntoIterator for &'a KeyMap<V> {
    type Item = (&'a InlineStr, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (InlineStr, V)>,
        fn(&'a (InlineStr, V)) -> (&'a InlineStr, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator (no `rand` in the library's tests).
    fn next(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state >> 33
    }

    #[test]
    fn behaves_like_a_btree_map() {
        // Random inserts (in and out of order, replacing), removes and reads over keys
        // short and long, checked step by step against `BTreeMap`.
        let keys: Vec<String> = (0..40)
            .map(|i| match i % 4 {
                0 => format!("k{i}"),
                1 => format!("a-key-longer-than-twenty-two-bytes-{i}"),
                2 => "x".repeat(i % 7),
                _ => format!("é{i}\0"),
            })
            .collect();
        let mut state = 7;
        let mut map = KeyMap::default();
        let mut model = BTreeMap::new();
        for step in 0..5_000u64 {
            let key = &keys[next(&mut state) as usize % keys.len()];
            match next(&mut state) % 4 {
                0 | 1 => assert_eq!(
                    map.insert(InlineStr::from(key.as_str()), step),
                    model.insert(key.clone(), step)
                ),
                2 => assert_eq!(map.remove(key.as_bytes()), model.remove(key)),
                _ => {
                    assert_eq!(map.get(key.as_bytes()), model.get(key));
                    assert_eq!(map.get_key(&InlineStr::from(key.as_str())), model.get(key));
                }
            }
            assert_eq!(map.len(), model.len());
        }
        let ours: Vec<(&str, &u64)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let theirs: Vec<(&str, &u64)> = model.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn bulk_entries_are_sorted_and_the_last_of_a_key_wins() {
        let map = KeyMap::from_entries(vec![
            (InlineStr::from("b"), 1),
            (InlineStr::from("a"), 2),
            (InlineStr::from("b"), 3),
            (InlineStr::from("c"), 4),
            (InlineStr::from("a"), 5),
        ]);
        let entries: Vec<(&str, i32)> = map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(entries, [("a", 5), ("b", 3), ("c", 4)]);
    }
}
