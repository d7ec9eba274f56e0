//! [`RuleList`]: a policy's checked rules in load order, one shared chunk per source.

use std::sync::Arc;

use super::Rule;

/// The checked rules of a policy, in load order, kept as one shared chunk per source:
/// an incremental recompile (`src/recompile.rs`) shares the chunks of the sources it did
/// not touch with the policy it started from instead of copying their rules.
///
/// Positions are global (the rule's place among all rules, from 0); finding the chunk
/// of a position is a binary search over the chunks' ends, free for a single source.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleList {
    chunks: Vec<Arc<[Rule]>>,
    /// `ends[k]`: the number of rules in chunks `0..=k`.
    ends: Vec<usize>,
}

impl RuleList {
    /// The list of these chunks, in order (one per source, empty ones included).
    pub(crate) fn from_chunks(chunks: Vec<Arc<[Rule]>>) -> RuleList {
        let mut total = 0;
        let ends = chunks
            .iter()
            .map(|c| {
                total += c.len();
                total
            })
            .collect();
        RuleList { chunks, ends }
    }

    /// Splits rules in load order into one chunk per source (`sources` of them), by
    /// their [`Rule::source`].
    pub(crate) fn by_source(rules: Vec<Rule>, sources: usize) -> RuleList {
        let mut chunks: Vec<Vec<Rule>> = (0..sources).map(|_| Vec::new()).collect();
        for rule in rules {
            let k = rule.source().min(sources.saturating_sub(1));
            if let Some(chunk) = chunks.get_mut(k) {
                chunk.push(rule);
            }
        }
        RuleList::from_chunks(chunks.into_iter().map(Arc::from).collect())
    }

    /// How many rules.
    pub(crate) fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// True when there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rule at a global position.
    #[inline]
    pub(crate) fn get(&self, position: usize) -> Option<&Rule> {
        if let [only] = self.chunks.as_slice() {
            return only.get(position);
        }
        let k = self.ends.partition_point(|&end| end <= position);
        let chunk = self.chunks.get(k)?;
        chunk.get(position - self.chunk_start(k))
    }

    /// Whether `id`, written as an `@id`, is `rule-N` where rule N has no `@id`: the two
    /// would share the name.
    pub(crate) fn positional_taken(&self, id: &str) -> bool {
        super::auto_position(id)
            .and_then(|n| self.get(n))
            .is_some_and(Rule::positional)
    }

    /// Every rule, in load order.
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            chunks: self.chunks.iter(),
            current: [].iter(),
            left: self.len(),
        }
    }

    /// The chunks, one per source.
    pub(crate) fn chunks(&self) -> &[Arc<[Rule]>] {
        &self.chunks
    }

    /// The global position of chunk `k`'s first rule.
    pub(crate) fn chunk_start(&self, k: usize) -> usize {
        match k {
            0 => 0,
            _ => self.ends.get(k - 1).copied().unwrap_or_else(|| self.len()),
        }
    }
}

/// The rules of a [`RuleList`], in load order.
#[derive(Debug, Clone)]
pub(crate) struct Iter<'a> {
    chunks: std::slice::Iter<'a, Arc<[Rule]>>,
    current: std::slice::Iter<'a, Rule>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Rule;

    #[inline]
    fn next(&mut self) -> Option<&'a Rule> {
        loop {
            if let Some(rule) = self.current.next() {
                self.left -= 1;
                return Some(rule);
            }
            self.current = self.chunks.next()?.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a RuleList {
    type Item = &'a Rule;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Vec<Rule>> for RuleList {
    /// One chunk holding every rule.
    fn from(rules: Vec<Rule>) -> RuleList {
        RuleList::from_chunks(vec![Arc::from(rules)])
    }
}

impl std::ops::Index<usize> for RuleList {
    type Output = Rule;

    /// The rule at a global position; panics when there is none, as a slice does.
    fn index(&self, position: usize) -> &Rule {
        match self.get(position) {
            Some(rule) => rule,
            None => panic!(
                "rule position {position} out of range ({} rules)",
                self.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Expr;
    use crate::source::Span;
    use crate::vocabulary::Effect;

    fn rule(id: &str, source: u32) -> Rule {
        Rule {
            written_id: Some(id.into()),
            effect: Effect::Grant,
            who: Expr::Any,
            what: Expr::Any,
            annotations: Box::default(),
            source,
            span: Span::new(0, 0).into(),
        }
    }

    #[test]
    fn positions_are_global_across_chunks_empty_ones_included() {
        let list = RuleList::by_source(
            vec![rule("a", 0), rule("b", 0), rule("c", 2), rule("d", 3)],
            5,
        );
        assert_eq!(list.chunks().len(), 5);
        assert_eq!(list.len(), 4);
        let ids: Vec<String> = (0..4).map(|i| list[i].id(i).to_string()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
        assert!(list.get(4).is_none());
        assert_eq!(list.chunk_start(2), 2);
        assert_eq!(list.chunk_start(4), 4);
        let iterated: Vec<String> = list
            .iter()
            .enumerate()
            .map(|(i, r)| r.id(i).to_string())
            .collect();
        assert_eq!(iterated, ids);
        assert!(RuleList::default().is_empty());
    }
}
