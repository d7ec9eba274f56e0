//! Rule ids: written (`@id("…")`) or positional (`rule-N`, N the rule's load position
//! counted from 1).
//!
//! A positional id is not stored with its rule: it is written when asked, from the
//! rule's position. Adding or removing a rule renames every later unnamed rule, and an
//! incremental recompile therefore touches none of them; a compiled policy also keeps no
//! per-rule string for ids nobody wrote.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// The prefix of positional ids.
pub(crate) const POSITIONAL_PREFIX: &str = "rule-";

/// The longest positional id kept inline: `rule-` and 17 digits, far above any rule
/// count the limits allow.
const INLINE: usize = 22;

/// A rule's id as text, made without allocating: a written id shares the rule's string,
/// a positional one is written inline.
///
/// ```ignore
/// assert_eq!(RuleId::positional(41).as_str(), "rule-42");
/// ```
#[derive(Clone)]
pub(crate) enum RuleId {
    /// An `@id`.
    Written(Arc<str>),
    /// `rule-N`, written out.
    Positional { len: u8, bytes: [u8; INLINE] },
}

impl RuleId {
    /// The id of the rule at `index` (from 0) that has no `@id`: `rule-{index + 1}`.
    pub(crate) fn positional(index: usize) -> RuleId {
        let prefix = POSITIONAL_PREFIX.len();
        let mut bytes = [0u8; INLINE];
        bytes[..prefix].copy_from_slice(POSITIONAL_PREFIX.as_bytes());
        let mut n = index.saturating_add(1);
        // Digits past the room inline are dropped (17 of them: unreachable in practice).
        let digits = (n.ilog10() as usize + 1).min(INLINE - prefix);
        for place in bytes[prefix..prefix + digits].iter_mut().rev() {
            *place = b'0' + (n % 10) as u8;
            n /= 10;
        }
        // INVARIANT: prefix + digits <= INLINE < 256.
        RuleId::Positional {
            len: (prefix + digits) as u8,
            bytes,
        }
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            RuleId::Written(id) => id,
            // ASCII written by `positional`: always UTF-8.
            RuleId::Positional { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len).min(INLINE)]).unwrap_or_default()
            }
        }
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &RuleId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RuleId {}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The position of the rule a positional id names: `rule-N` → `N - 1`.
///
/// ```text
/// rule-1 → 0, rule-17 → 16; rule-0, rule-01, rule-x, dba → none
/// ```
pub(crate) fn auto_position(id: &str) -> Option<usize> {
    let digits = id.strip_prefix(POSITIONAL_PREFIX)?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_sub(1)
}

/// How many positional ids a block of [`PositionalIds`] writes at once.
const BLOCK: usize = 4096;

/// Positional ids as `&str` borrowed from a policy (for [`RuleView::id`](crate::RuleView::id)),
/// written on first use, a block of 4 096 at a time: about 10 bytes per id, and only
/// for the blocks somebody asked about.
#[derive(Debug, Default)]
pub(crate) struct PositionalIds {
    rules: usize,
    blocks: Box<[OnceLock<Box<str>>]>,
}

impl PositionalIds {
    /// Room for the positional ids of `rules` rules.
    pub(crate) fn new(rules: usize) -> PositionalIds {
        PositionalIds {
            rules,
            blocks: (0..rules.div_ceil(BLOCK))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// `rule-{index + 1}`; `None` past the rule count given to [`PositionalIds::new`].
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        if index >= self.rules {
            return None;
        }
        let block = self.blocks.get(index / BLOCK)?;
        let first = index / BLOCK * BLOCK;
        let end = (first + BLOCK).min(self.rules);
        let text = block.get_or_init(|| {
            let mut text = String::with_capacity(text_before(end) - text_before(first));
            for i in first..end {
                text.push_str(RuleId::positional(i).as_str());
            }
            text.into_boxed_str()
        });
        let start = text_before(index) - text_before(first);
        let end = text_before(index + 1) - text_before(first);
        text.get(start..end)
    }
}

/// The length of the positional ids of the rules before `index`, written one after the
/// other: `rule-1rule-2…rule-{index}`.
fn text_before(index: usize) -> usize {
    // Digits of the numbers 1..=index, a run of equal widths at a time.
    let mut digits = 0;
    let mut width = 1;
    let mut low = 1usize;
    while low <= index {
        let high = low.saturating_mul(10).saturating_sub(1).min(index);
        digits += (high - low + 1) * width;
        width += 1;
        low = match low.checked_mul(10) {
            Some(next) => next,
            None => break,
        };
    }
    POSITIONAL_PREFIX.len() * index + digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_ids_are_written_from_their_index() {
        assert_eq!(RuleId::positional(0).as_str(), "rule-1");
        assert_eq!(RuleId::positional(41).as_str(), "rule-42");
        assert_eq!(RuleId::positional(999_999).as_str(), "rule-1000000");
        assert_eq!(
            RuleId::positional(usize::MAX).as_str().len(),
            INLINE,
            "clamped, not a panic"
        );
        assert_eq!(RuleId::Written("a".into()), RuleId::Written("a".into()));
        assert_eq!(RuleId::positional(1), *"rule-2");
    }

    #[test]
    fn borrowed_positional_ids_match_the_written_ones_across_blocks() {
        let n = BLOCK * 3 + 17;
        let ids = PositionalIds::new(n);
        let mut concatenated = 0;
        for i in [
            0,
            1,
            8,
            9,
            10,
            98,
            99,
            100,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            9_999,
            n - 1,
        ] {
            assert_eq!(ids.get(i), Some(RuleId::positional(i).as_str()), "{i}");
        }
        for i in 0..n {
            concatenated += RuleId::positional(i).as_str().len();
            assert_eq!(text_before(i + 1), concatenated, "{i}");
        }
        assert_eq!(ids.get(n), None);
        assert_eq!(PositionalIds::default().get(0), None);
    }
}
