//! A policy's decision structure in layers: the index built by the last full compile
//! (the **base**), and after incremental recompiles a small index over the rules of the
//! sources edited since (the **delta**).
//!
//! A decision probes both layers and reports the union of their applying rules, so
//! deny-overrides and reasons are unchanged. Each layer numbers its rules from 0;
//! `positions` maps those numbers to the rules' positions in the policy, where the
//! base's rules of an edited or removed source are [`GONE`] (their programs stay in the
//! base, unread). A recompile thus costs an index over the edited sources only, plus one
//! pass over a `u32` per rule; when the delta outgrows [`Layers::DELTA_LIMIT`] (or an
//! eighth of the policy), the recompile builds a new base instead.

use std::ops::ControlFlow;
use std::sync::Arc;

use super::layout::SlotValues;
use super::Index;
use crate::decide::eval::Outcome;
use crate::decide::Sink;
use crate::ir::RuleList;
use crate::vocabulary::Effect;

/// A layer's rule that is no longer a rule of the policy.
const GONE: u32 = u32::MAX;

/// One index over some of a policy's rules, and where those rules are in the policy.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    index: Arc<Index>,
    /// The index's rule number → the rule's position in the policy ([`GONE`] when it is
    /// not in the policy any more); `None` when the two are equal.
    positions: Option<Arc<[u32]>>,
}

impl Layer {
    /// The layer's index.
    #[inline]
    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// The policy position of the layer's rule `r`; `None` when it is gone.
    #[inline]
    pub(crate) fn position(&self, r: u32) -> Option<u32> {
        match &self.positions {
            None => Some(r),
            Some(positions) => positions.get(r as usize).copied().filter(|&p| p != GONE),
        }
    }

    /// Reports the layer's rules that apply to the request (values normalised by
    /// [`Index::normalize`] of this layer's index) to `sink`, by policy position, as
    /// [`Applying::for_each_applying`](crate::decide::Applying::for_each_applying) asks:
    /// one walk over the request for both effects.
    #[inline]
    pub(crate) fn for_each_applying<'a>(
        &self,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        sink: &mut impl Sink,
    ) -> ControlFlow<()> {
        self.index
            .for_each_candidate_of(sink.only(), identity, resource, &mut |effect, id| {
                self.report(effect, id, identity, resource, sink)
            })
    }

    /// Evaluates the candidate of `effect` whose program starts at `id` when `sink` still
    /// wants that effect, and reports it to `sink` when it applies.
    #[inline]
    pub(crate) fn report<'a>(
        &self,
        effect: Effect,
        id: u32,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        sink: &mut impl Sink,
    ) -> ControlFlow<()> {
        if !sink.wants(effect) {
            return ControlFlow::Continue(());
        }
        self.evaluate(id, identity, resource, &mut |r, outcome| {
            sink.applies(effect, r, outcome)
        })
    }

    /// Evaluates the candidate whose program starts at `id` and calls
    /// `f(position, outcome)` when it applies. A gone rule is skipped before it is
    /// evaluated; without a position map (no incremental edit) no map is read.
    #[inline]
    fn evaluate<'a>(
        &self,
        id: u32,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        f: &mut impl FnMut(u32, Outcome) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let index = &*self.index;
        let moved = match &self.positions {
            None => None,
            Some(_) => match self.position(index.rule_of(id)) {
                None => return ControlFlow::Continue(()),
                moved => moved,
            },
        };
        match index.outcome(id, identity, resource) {
            (_, Outcome::NotApplied) => ControlFlow::Continue(()),
            (r, outcome) => f(moved.unwrap_or(r), outcome),
        }
    }

    /// Calls `f(position)` for every candidate of `effect` that is still a rule of the
    /// policy (possibly more than once).
    pub(crate) fn for_each_candidate<'a>(
        &self,
        effect: Effect,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        f: &mut impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let index = &*self.index;
        index.for_each_candidate(effect, identity, resource, &mut |id| match self
            .position(index.rule_of(id))
        {
            Some(position) => f(position),
            None => ControlFlow::Continue(()),
        })
    }
}

/// The base layer, the delta layer when sources were edited since the base was built,
/// and which sources each one holds.
#[derive(Debug, Clone)]
pub(crate) struct Layers {
    base: Layer,
    delta: Option<Layer>,
    /// Per source of the policy: the base's number of its first rule when its rules are
    /// those the base was built with, `None` when they are in the delta.
    base_starts: Vec<Option<u32>>,
}

impl Layers {
    /// The most rules a delta holds whatever the policy's size; above this and above an
    /// eighth of the policy, a recompile builds a new base.
    pub(crate) const DELTA_LIMIT: usize = 4096;

    /// One base layer over every rule.
    pub(crate) fn full(rules: &RuleList) -> Layers {
        let base_starts = (0..rules.chunks().len())
            // INVARIANT: rule positions fit in u32 (the rule-count limit is far below).
            .map(|k| Some(rules.chunk_start(k) as u32))
            .collect();
        Layers {
            base: Layer {
                index: Arc::new(Index::build(rules)),
                positions: None,
            },
            delta: None,
            base_starts,
        }
    }

    /// The layers of `rules`, whose sources are those of the policy these layers were
    /// built for except source `k`: new or changed, or, when `removed`, gone (the
    /// sources after it moved down by one). Shares the base and builds a delta over every
    /// source edited since the base; `None` when that delta would be too large (the
    /// caller builds [`Layers::full`]).
    pub(crate) fn edited(&self, rules: &RuleList, k: usize, removed: bool) -> Option<Layers> {
        let mut base_starts = self.base_starts.clone();
        if removed {
            if k < base_starts.len() {
                base_starts.remove(k);
            }
        } else {
            if k >= base_starts.len() {
                base_starts.resize(k + 1, None);
            }
            base_starts[k] = None;
        }
        let chunks = rules.chunks();
        if base_starts.len() != chunks.len() {
            return None;
        }
        let in_delta: usize = chunks
            .iter()
            .zip(&base_starts)
            .filter(|(_, start)| start.is_none())
            .map(|(c, _)| c.len())
            .sum();
        if in_delta > Layers::DELTA_LIMIT.max(rules.len() / 8) {
            return None;
        }
        // The base's rules that are still in the policy, where they are now.
        let mut base_positions = vec![GONE; self.base.index.stats().rules];
        let mut delta_chunks = Vec::new();
        let mut delta_positions: Vec<u32> = Vec::with_capacity(in_delta);
        for (k, (chunk, start)) in chunks.iter().zip(&base_starts).enumerate() {
            // INVARIANT: rule positions fit in u32 (the rule-count limit is far below).
            let at = rules.chunk_start(k) as u32;
            let len = chunk.len() as u32;
            match start {
                Some(start) => {
                    let from = *start as usize;
                    let place = base_positions.get_mut(from..from + len as usize)?;
                    place.iter_mut().zip(at..).for_each(|(p, q)| *p = q);
                }
                None => {
                    delta_chunks.push(chunk.clone());
                    delta_positions.extend(at..at + len);
                }
            }
        }
        let delta = (!delta_chunks.is_empty()).then(|| Layer {
            index: Arc::new(Index::build(&RuleList::from_chunks(delta_chunks))),
            positions: Some(delta_positions.into()),
        });
        let identity = base_positions
            .iter()
            .enumerate()
            .all(|(r, &p)| p as usize == r);
        Some(Layers {
            base: Layer {
                index: Arc::clone(&self.base.index),
                positions: (!identity).then(|| base_positions.into()),
            },
            delta,
            base_starts,
        })
    }

    /// The base layer.
    #[inline]
    pub(crate) fn base(&self) -> &Layer {
        &self.base
    }

    /// The delta layer, when sources were edited since the base was built.
    #[inline]
    pub(crate) fn delta(&self) -> Option<&Layer> {
        self.delta.as_ref()
    }

    /// The base, then the delta.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Layer> {
        std::iter::once(&self.base).chain(&self.delta)
    }
}
