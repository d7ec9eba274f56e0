//! Deciding, in one place: Kleene evaluation ([`eval`]), the deny-overrides combinator
//! ([`authorize`], [`is_allowed`]), and explanations ([`explain`]: the unknowns of a
//! deny's reason, and the public [`Explanation`](explain::Explanation) of a request).
//!
//! Every decision path — the index ([`Policy::authorize`](crate::Policy::authorize)),
//! the per-identity fast path ([`PreparedIdentity`](crate::PreparedIdentity)) and the
//! linear scan — only says *which rules apply* by implementing [`Applying`]; how applying
//! rules become a decision is written once, here:
//!
//! * deny overrides grant: every applying deny, else every applying grant, else the
//!   default deny;
//! * reasons in load order, each once; a deny that applied by unknown lists the
//!   attributes that were unknown.

pub(crate) mod decision;
pub(crate) mod eval;
pub mod explain;

use std::ops::ControlFlow;

use crate::entity::Entity;
use crate::ir::{RuleId, RuleList};
use crate::vocabulary::Effect;
use decision::{DecidedBy, Decision, Reason};
use eval::Outcome;

/// A decision path: finds the rules of one effect that apply to one request.
pub(crate) trait Applying {
    /// Calls `f(rule, outcome)` for rules of `effect` that apply (`outcome` is never
    /// [`Outcome::NotApplied`]), in any order, possibly more than once; stops when `f`
    /// breaks. Every applying rule must be reported unless `f` breaks first.
    fn for_each_applying(
        &self,
        effect: Effect,
        f: &mut impl FnMut(u32, Outcome) -> ControlFlow<()>,
    ) -> ControlFlow<()>;

    /// The rules that indices refer to.
    fn rules(&self) -> &RuleList;

    /// Whether some rule may have an `@id`. When none has, a reason's id is written from
    /// the rule's position without reading the rule: on a large policy that is a cache
    /// miss saved per rule that applies.
    fn written_ids(&self) -> bool {
        true
    }

    /// The request's two entities.
    fn entities(&self) -> (&Entity, &Entity);
}

/// Deny overrides grant, without reasons: stops at the first applying deny, then at the
/// first applying grant. Does not allocate.
#[inline]
pub(crate) fn is_allowed(path: &impl Applying) -> bool {
    let mut first = |_, _| ControlFlow::Break(());
    if path.for_each_applying(Effect::Deny, &mut first).is_break() {
        return false;
    }
    path.for_each_applying(Effect::Grant, &mut first).is_break()
}

/// Whether some deny applies (true or by unknown). Does not allocate.
#[inline]
pub(crate) fn deny_applies(path: &impl Applying) -> bool {
    path.for_each_applying(Effect::Deny, &mut |_, _| ControlFlow::Break(()))
        .is_break()
}

/// Deny overrides grant, with reasons in load order.
pub(crate) fn authorize(path: &impl Applying) -> Decision {
    // The rules that apply, on the stack unless there are more than a few.
    let mut found: smallvec::SmallVec<[(u32, Outcome); 8]> = smallvec::SmallVec::new();
    for (effect, decided_by) in [
        (Effect::Deny, DecidedBy::Deny),
        (Effect::Grant, DecidedBy::Grant),
    ] {
        let _ = path.for_each_applying(effect, &mut |r, outcome| {
            found.push((r, outcome));
            ControlFlow::Continue(())
        });
        if found.is_empty() {
            continue;
        }
        found.sort_unstable_by_key(|&(r, _)| r);
        found.dedup_by_key(|&mut (r, _)| r);
        let (identity, resource) = path.entities();
        let rules = path.rules();
        let written_ids = path.written_ids();
        let reasons = found
            .iter()
            .map(|&(r, outcome)| {
                let index = r as usize;
                let (rule_id, unknowns) = match (outcome, written_ids) {
                    (Outcome::ByUnknown, _) => {
                        let rule = &rules[index];
                        let unknowns = explain::unknowns_of(rule, identity, resource);
                        (rule.id(index), unknowns)
                    }
                    (_, true) => (rules[index].id(index), Vec::new()),
                    (_, false) => (RuleId::positional(index), Vec::new()),
                };
                Reason {
                    rule_id,
                    rule_index: index,
                    effect,
                    unknowns,
                }
            })
            .collect();
        return Decision {
            decided_by,
            reasons,
            policy_version: None,
        };
    }
    Decision {
        decided_by: DecidedBy::Default,
        reasons: Vec::new(),
        policy_version: None,
    }
}

/// The linear path: every rule, in order, without the index.
pub(crate) struct Linear<'a> {
    pub(crate) rules: &'a RuleList,
    pub(crate) identity: &'a Entity,
    pub(crate) resource: &'a Entity,
}

impl Applying for Linear<'_> {
    fn for_each_applying(
        &self,
        effect: Effect,
        f: &mut impl FnMut(u32, Outcome) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for (r, rule) in self.rules.iter().enumerate() {
            if rule.effect != effect {
                continue;
            }
            match eval::outcome(rule, self.identity, self.resource) {
                Outcome::NotApplied => {}
                // INVARIANT: rule indices fit in u32 (the rule-count limit is far below).
                outcome => f(r as u32, outcome)?,
            }
        }
        ControlFlow::Continue(())
    }

    fn rules(&self) -> &RuleList {
        self.rules
    }

    fn entities(&self) -> (&Entity, &Entity) {
        (self.identity, self.resource)
    }
}
