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
use decision::{DecidedBy, Decision, Reason, Reasons};
use eval::Outcome;

/// What a decision path reports to: which effects are still worth evaluating, and each
/// rule that applies.
pub(crate) trait Sink {
    /// Whether candidates of `effect` are still to be evaluated.
    fn wants(&self, effect: Effect) -> bool;

    /// Rule `rule` of `effect` applies (`outcome` is never [`Outcome::NotApplied`]);
    /// breaking stops the walk.
    fn applies(&mut self, effect: Effect, rule: u32, outcome: Outcome) -> ControlFlow<()>;

    /// The one effect this sink ever wants, if it wants only one: the walk then does not
    /// visit the other effect's postings at all (a deny check over a resource with many
    /// grants posted under its keys would otherwise walk them only to skip them).
    fn only(&self) -> Option<Effect> {
        None
    }
}

/// A decision path: finds the rules that apply to one request.
pub(crate) trait Applying {
    /// Calls `sink.applies` for rules that apply, of both effects, in one walk over the
    /// request (the index looks each key up once for both effects). A candidate of an
    /// effect is evaluated only while `sink.wants` that effect. Rules come in any
    /// order, possibly more than once; the walk stops when the sink breaks. Every
    /// applying rule of an effect the sink wants throughout must be reported unless the
    /// sink breaks first.
    fn for_each_applying(&self, sink: &mut impl Sink) -> ControlFlow<()>;

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

    /// Calls `f(rule, outcome)` for the rules of `effect` that apply, as
    /// [`Applying::for_each_applying`] reports them.
    fn for_each_applying_of(
        &self,
        effect: Effect,
        f: &mut impl FnMut(u32, Outcome) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        self.for_each_applying(&mut Only { effect, f })
    }
}

/// A sink for the rules of one effect.
struct Only<F> {
    effect: Effect,
    f: F,
}

impl<F: FnMut(u32, Outcome) -> ControlFlow<()>> Sink for Only<F> {
    #[inline]
    fn wants(&self, effect: Effect) -> bool {
        effect == self.effect
    }

    #[inline]
    fn only(&self) -> Option<Effect> {
        Some(self.effect)
    }

    #[inline]
    fn applies(&mut self, effect: Effect, rule: u32, outcome: Outcome) -> ControlFlow<()> {
        if effect == self.effect {
            (self.f)(rule, outcome)
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Deny overrides grant, without reasons: stops at the first applying deny; evaluates
/// grants only until one applies. Does not allocate.
#[inline]
pub(crate) fn is_allowed(path: &impl Applying) -> bool {
    /// Whether a grant applied so far.
    struct FirstOfEach {
        granted: bool,
    }
    impl Sink for FirstOfEach {
        #[inline]
        fn wants(&self, effect: Effect) -> bool {
            effect == Effect::Deny || !self.granted
        }

        #[inline]
        fn applies(&mut self, effect: Effect, _: u32, _: Outcome) -> ControlFlow<()> {
            match effect {
                Effect::Deny => ControlFlow::Break(()),
                Effect::Grant => {
                    self.granted = true;
                    ControlFlow::Continue(())
                }
            }
        }
    }
    let mut sink = FirstOfEach { granted: false };
    path.for_each_applying(&mut sink).is_continue() && sink.granted
}

/// Whether some deny applies (true or by unknown). Does not allocate.
#[inline]
pub(crate) fn deny_applies(path: &impl Applying) -> bool {
    path.for_each_applying_of(Effect::Deny, &mut |_, _| ControlFlow::Break(()))
        .is_break()
}

/// The rules that apply, on the stack unless there are more than a few.
type Found = smallvec::SmallVec<[(u32, Outcome); 8]>;

/// Every applying deny, and the applying grants while no deny applied.
struct DeniesThenGrants {
    denies: Found,
    grants: Found,
}

impl Sink for DeniesThenGrants {
    #[inline]
    fn wants(&self, effect: Effect) -> bool {
        effect == Effect::Deny || self.denies.is_empty()
    }

    #[inline]
    fn applies(&mut self, effect: Effect, rule: u32, outcome: Outcome) -> ControlFlow<()> {
        match effect {
            Effect::Deny => self.denies.push((rule, outcome)),
            Effect::Grant => self.grants.push((rule, outcome)),
        }
        ControlFlow::Continue(())
    }
}

/// Deny overrides grant, with reasons in load order.
pub(crate) fn authorize(path: &impl Applying) -> Decision {
    let mut sink = DeniesThenGrants {
        denies: Found::new(),
        grants: Found::new(),
    };
    let _ = path.for_each_applying(&mut sink);
    let (mut found, effect, decided_by) = if !sink.denies.is_empty() {
        (sink.denies, Effect::Deny, DecidedBy::Deny)
    } else if !sink.grants.is_empty() {
        (sink.grants, Effect::Grant, DecidedBy::Grant)
    } else {
        return Decision {
            decided_by: DecidedBy::Default,
            reasons: Reasons::new(),
            policy_version: None,
        };
    };
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
    Decision {
        decided_by,
        reasons,
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
    fn for_each_applying(&self, sink: &mut impl Sink) -> ControlFlow<()> {
        for (r, rule) in self.rules.iter().enumerate() {
            if !sink.wants(rule.effect) {
                continue;
            }
            match eval::outcome(rule, self.identity, self.resource) {
                Outcome::NotApplied => {}
                // INVARIANT: rule indices fit in u32 (the rule-count limit is far below).
                outcome => sink.applies(rule.effect, r as u32, outcome)?,
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
