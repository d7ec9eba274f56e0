//! [`RuleView`]: a compiled policy's rules as callers see them — id, effect,
//! annotations, where they were written — without the internal representation.

use std::fmt;

use crate::policy::Policy;
use crate::source::Location;
use crate::vocabulary::Effect;

/// One rule of a compiled [`Policy`], from [`Policy::rules`] or [`Policy::rule`].
///
/// ```
/// let policy = tenure::Policy::compile_sources([
///     ("base.tenure", "@id(\"a\") @owner(\"sec\") * grants tag:public = yes;"),
///     ("extra.tenure", "\n  role = x denies *;"),
/// ])?;
/// let rule = policy.rule("rule-2").unwrap();
/// assert_eq!(rule.effect(), tenure::Effect::Deny);
/// assert_eq!(rule.source_name(), "extra.tenure");
/// assert_eq!((rule.location().line, rule.location().column), (2, 3));
/// assert_eq!(policy.rule("a").unwrap().annotation("owner"), Some("sec"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct RuleView<'p> {
    policy: &'p Policy,
    index: usize,
}

impl<'p> RuleView<'p> {
    pub(crate) fn new(policy: &'p Policy, index: usize) -> RuleView<'p> {
        RuleView { policy, index }
    }

    fn rule(&self) -> &'p crate::ir::Rule {
        &self.policy.ir_rules()[self.index]
    }

    /// The rule's id: its `@id`, or `rule-N` by load position (N from 1).
    pub fn id(&self) -> &'p str {
        &self.rule().id
    }

    /// Grant or deny.
    pub fn effect(&self) -> Effect {
        self.rule().effect
    }

    /// The rule's position among all rules in load order, from 0 (as
    /// [`Reason::rule_index`](crate::Reason::rule_index)).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Annotations other than `@id`, in order, as (name, value).
    pub fn annotations(&self) -> impl ExactSizeIterator<Item = (&'p str, &'p str)> {
        self.rule()
            .annotations
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of the first annotation named `name`.
    pub fn annotation(&self, name: &str) -> Option<&'p str> {
        self.annotations().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The name of the source the rule came from.
    pub fn source_name(&self) -> &'p str {
        self.policy.source_name_of(self.rule().source)
    }

    /// The 1-based line and column where the rule starts in its source.
    pub fn location(&self) -> Location {
        self.policy.location_of(self.index)
    }
}

impl fmt::Debug for RuleView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleView")
            .field("id", &self.id())
            .field("effect", &self.effect())
            .field("index", &self.index)
            .field("source", &self.source_name())
            .field("location", &self.location())
            .finish()
    }
}
