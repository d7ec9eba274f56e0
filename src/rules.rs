//! [`RuleView`]: a compiled policy's rules as callers see them — id, effect,
//! annotations, where they were written — without the internal representation.

use std::fmt;

use crate::ir;
use crate::source::Location;
use crate::vocabulary::Effect;

/// One rule of a compiled [`Policy`](crate::Policy), from
/// [`Policy::rules`](crate::Policy::rules) or [`Policy::rule`](crate::Policy::rule).
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
    rule: &'p ir::Rule,
    index: usize,
    id: &'p str,
    source_name: &'p str,
    location: Location,
}

impl<'p> RuleView<'p> {
    pub(crate) fn new(
        rule: &'p ir::Rule,
        index: usize,
        id: &'p str,
        source_name: &'p str,
        location: Location,
    ) -> RuleView<'p> {
        RuleView {
            rule,
            index,
            id,
            source_name,
            location,
        }
    }

    fn rule(&self) -> &'p ir::Rule {
        self.rule
    }

    /// The rule's id: its `@id`, or `rule-N` by load position (N from 1).
    pub fn id(&self) -> &'p str {
        self.id
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
        self.source_name
    }

    /// The 1-based line and column where the rule starts in its source.
    pub fn location(&self) -> Location {
        self.location
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
