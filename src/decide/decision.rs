//! Decisions and their reasons: the public result of every decision path.

use std::fmt;

use crate::ir::RuleId;
use crate::vocabulary::{Attribute, Effect, Side};

/// Why a comparison was unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownCause {
    /// The attribute is absent.
    Missing,
    /// The attribute's value has a type the comparison cannot use.
    TypeMismatch,
}

/// An attribute whose comparison was unknown, which made a deny apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnknownAttribute {
    /// The entity it was looked up on.
    pub side: Side,
    /// The attribute.
    pub attribute: Attribute,
    /// Absent, or of the wrong type.
    pub cause: UnknownCause,
}

impl fmt::Display for UnknownAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = match self.cause {
            UnknownCause::Missing => "missing",
            UnknownCause::TypeMismatch => "of another type",
        };
        write!(f, "{}.{} ({cause})", self.side, self.attribute)
    }
}

/// One rule that decided a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub(crate) rule_id: RuleId,
    pub(crate) rule_index: usize,
    pub(crate) effect: Effect,
    pub(crate) unknowns: Vec<UnknownAttribute>,
}

impl Reason {
    /// The rule's id (`@id`, or `rule-N`).
    pub fn rule_id(&self) -> &str {
        self.rule_id.as_str()
    }

    /// The rule's position among all rules in load order, from 0.
    pub fn rule_index(&self) -> usize {
        self.rule_index
    }

    /// Whether the rule grants or denies.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// True when both sides of the rule were certainly true; false for a deny that
    /// applied because some comparison was unknown.
    pub fn is_certain(&self) -> bool {
        self.unknowns.is_empty()
    }

    /// For a deny that applied by unknown: the attributes whose comparisons were unknown,
    /// in rule order (identity side first), without repeats.
    pub fn unknowns(&self) -> &[UnknownAttribute] {
        &self.unknowns
    }
}

/// A decision's reasons: one is kept inline.
pub(crate) type Reasons = smallvec::SmallVec<[Reason; 1]>;

/// How a decision was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecidedBy {
    /// One or more deny rules applied (deny overrides grant).
    Deny,
    /// No deny applied and one or more grant rules did.
    Grant,
    /// Nothing applied: default deny.
    Default,
    /// [`Engine::authorize_subject`](crate::Engine::authorize_subject) found no record
    /// of the subject in the engine's directory (or several): denied without deciding.
    UnknownSubject,
}

/// The answer to "may this identity reach this resource?", with its reasons.
///
/// ```
/// use tenure::{Identity, Policy, Resource};
///
/// let policy = Policy::compile(r#"
///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
///     @id("leavers") status != active denies *;
/// "#)?;
/// let who = Identity::new().with("role", "CloudEngineer").with("status", "active");
/// let what = Resource::new().with_tag("env", "cloud");
/// let decision = policy.authorize(&who, &what);
/// assert!(decision.is_allowed());
/// assert_eq!(decision.reason_ids().collect::<Vec<_>>(), ["cloud"]);
///
/// // Without `status` the leavers deny applies by unknown: fail closed.
/// let decision = policy.authorize(&Identity::new().with("role", "CloudEngineer"), &what);
/// assert!(!decision.is_allowed());
/// assert_eq!(decision.reasons()[0].unknowns()[0].to_string(), "identity.status (missing)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub(crate) decided_by: DecidedBy,
    /// Most decisions have one reason: kept in the decision itself, not allocated.
    pub(crate) reasons: Reasons,
    /// The [`Engine`](crate::Engine) version of the policy that decided.
    pub(crate) policy_version: Option<u64>,
}

impl Decision {
    /// True when access is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decided_by == DecidedBy::Grant
    }

    /// How the decision was reached.
    pub fn decided_by(&self) -> DecidedBy {
        self.decided_by
    }

    /// The rules that decided, in load order: every applying deny, else every applying
    /// grant, else none (default deny).
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }

    /// The ids of [`Self::reasons`].
    pub fn reason_ids(&self) -> impl Iterator<Item = &str> {
        self.reasons.iter().map(Reason::rule_id)
    }

    /// The version of the policy that made this decision when it was made through an
    /// [`Engine`](crate::Engine) (1 for the engine's first policy, +1 for each successful
    /// reload); `None` when it was made by a [`Policy`](crate::Policy) directly.
    pub fn policy_version(&self) -> Option<u64> {
        self.policy_version
    }

    /// A deny for a subject the engine's directory does not know.
    pub(crate) fn unknown_subject(policy_version: u64) -> Decision {
        Decision {
            decided_by: DecidedBy::UnknownSubject,
            reasons: Reasons::new(),
            policy_version: Some(policy_version),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.decided_by {
            DecidedBy::Default => return f.write_str("deny (no rule grants)"),
            DecidedBy::UnknownSubject => return f.write_str("deny (unknown subject)"),
            DecidedBy::Grant => f.write_str("allow by ")?,
            DecidedBy::Deny => f.write_str("deny by ")?,
        }
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(r.rule_id.as_str())?;
            if !r.unknowns.is_empty() {
                f.write_str(" (unknown: ")?;
                for (j, u) in r.unknowns.iter().enumerate() {
                    if j > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}.{}", u.side, u.attribute)?;
                }
                f.write_str(")")?;
            }
        }
        Ok(())
    }
}
