//! The checked form of a policy: rules with resolved ids and normalised conditions, and
//! their three-valued (Kleene) evaluation.
//!
//! Where the AST is for printing, the IR is for deciding: `!=` is `not (=)`, `not in`
//! is `not (in)`, groups are gone, globs are compiled. Both the compiled index (for the
//! candidates it finds) and [`Policy::authorize_linear`](crate::Policy::authorize_linear)
//! evaluate rules through [`Expr::eval`].

pub mod glob;

use std::sync::Arc;

use crate::entity::{Entity, ValueRef};
use crate::syntax::ast::{Attribute, Effect, Literal, Span};
pub use glob::Glob;

/// A three-valued truth: Kleene logic over true, false and unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    /// Certainly false.
    False,
    /// Unknown: an attribute is absent or of another type than the comparison needs.
    Unknown,
    /// Certainly true.
    True,
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// Kleene negation: unknown stays unknown.
    #[inline]
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
            Truth::True => Truth::False,
        }
    }
}

impl Truth {
    #[inline]
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A comparison's test, after checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// `has ATTR`: never unknown.
    Has,
    /// `ATTR = V` (and, under `not`, `!=`).
    Eq(Literal),
    /// `ATTR in [V, ...]` (and, under `not`, `not in`): `= V1 or = V2 or ...`.
    In(Vec<Literal>),
    /// `ATTR ~ "glob"` (boxed: globs are rare and large, atoms are many).
    Like(Box<Glob>),
    /// `ATTR < N` and friends: `lo <= value <= hi` on integers.
    Range {
        /// Smallest value that passes.
        lo: i64,
        /// Largest value that passes.
        hi: i64,
    },
    /// An ordering that no integer passes (`x < i64::MIN`); still unknown on non-integers.
    EmptyRange,
}

/// A single comparison on one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The attribute tested.
    pub attribute: Attribute,
    /// The test.
    pub test: Test,
}

/// A normalised condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `*`.
    Any,
    /// All operands.
    And(Vec<Expr>),
    /// Any operand.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A comparison.
    Atom(Atom),
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's id: its `@id`, or `rule-N` by load position.
    pub id: Arc<str>,
    /// Grant or deny.
    pub effect: Effect,
    /// The identity condition.
    pub who: Expr,
    /// The resource condition.
    pub what: Expr,
    /// Annotations other than `@id`, in order.
    pub annotations: Vec<(String, String)>,
    /// Which source (by position in the compile call) the rule came from.
    pub source: usize,
    /// Where the rule stands in that source.
    pub span: Span,
}

/// Equality of an entity value with a literal; `Unknown` on a type mismatch.
#[inline]
pub(crate) fn equals(value: ValueRef<'_>, literal: &Literal) -> Truth {
    match (value, literal) {
        (ValueRef::Str(s), Literal::Str(l)) => Truth::from_bool(s == &**l),
        (ValueRef::Int(i), Literal::Int(l)) => Truth::from_bool(i == *l),
        (ValueRef::Bool(b), Literal::Bool(l)) => Truth::from_bool(b == *l),
        (ValueRef::Set(items), Literal::Str(l)) => {
            Truth::from_bool(items.binary_search_by(|x| x.as_str().cmp(l)).is_ok())
        }
        _ => Truth::Unknown,
    }
}

impl Atom {
    /// Evaluates this comparison on `entity`.
    #[inline]
    pub fn eval(&self, entity: &Entity) -> Truth {
        let value = entity.value_of(&self.attribute);
        if let Test::Has = self.test {
            return Truth::from_bool(value.is_some());
        }
        let Some(value) = value else {
            return Truth::Unknown;
        };
        match &self.test {
            Test::Has => Truth::True,
            Test::Eq(l) => equals(value, l),
            Test::In(ls) => {
                let mut acc = Truth::False;
                for l in ls {
                    match equals(value, l) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => acc = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                acc
            }
            Test::Like(g) => match value {
                ValueRef::Str(s) => Truth::from_bool(g.is_match(s)),
                ValueRef::Set(items) => Truth::from_bool(items.iter().any(|s| g.is_match(s))),
                _ => Truth::Unknown,
            },
            Test::Range { lo, hi } => match value {
                ValueRef::Int(i) => Truth::from_bool(*lo <= i && i <= *hi),
                _ => Truth::Unknown,
            },
            Test::EmptyRange => match value {
                ValueRef::Int(_) => Truth::False,
                _ => Truth::Unknown,
            },
        }
    }
}

impl Expr {
    /// Evaluates this condition on `entity` under Kleene logic.
    pub fn eval(&self, entity: &Entity) -> Truth {
        match self {
            Expr::Any => Truth::True,
            Expr::Atom(a) => a.eval(entity),
            Expr::Not(e) => !e.eval(entity),
            Expr::And(es) => {
                let mut acc = Truth::True;
                for e in es {
                    match e.eval(entity) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => acc = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                acc
            }
            Expr::Or(es) => {
                let mut acc = Truth::False;
                for e in es {
                    match e.eval(entity) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => acc = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                acc
            }
        }
    }

    /// Calls `f` on every atom, in source order.
    pub fn for_each_atom<'a>(&'a self, f: &mut impl FnMut(&'a Atom)) {
        match self {
            Expr::Any => {}
            Expr::Atom(a) => f(a),
            Expr::Not(e) => e.for_each_atom(f),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.for_each_atom(f)),
        }
    }
}

/// How a rule evaluated on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The rule does not apply.
    NotApplied,
    /// Both sides certainly true.
    Certain,
    /// A deny that applies because a side is unknown.
    ByUnknown,
}

/// A candidate visitor for the `is_allowed` paths: breaks at the first rule (by index into
/// `rules`) that applies to the request.
#[inline]
pub(crate) fn break_if_applies<'a>(
    rules: &'a [Rule],
    identity: &'a Entity,
    resource: &'a Entity,
) -> impl FnMut(u32) -> std::ops::ControlFlow<()> + 'a {
    move |r| {
        if rules[r as usize].outcome(identity, resource) == Outcome::NotApplied {
            std::ops::ControlFlow::Continue(())
        } else {
            std::ops::ControlFlow::Break(())
        }
    }
}

impl Rule {
    /// Whether this rule applies to the request, by its effect's rule: a grant needs both
    /// sides true; a deny needs neither side false.
    #[inline]
    pub(crate) fn outcome(&self, identity: &Entity, resource: &Entity) -> Outcome {
        let who = self.who.eval(identity);
        match self.effect {
            Effect::Grant => {
                if who != Truth::True || self.what.eval(resource) != Truth::True {
                    Outcome::NotApplied
                } else {
                    Outcome::Certain
                }
            }
            Effect::Deny => {
                if who == Truth::False {
                    return Outcome::NotApplied;
                }
                match (who, self.what.eval(resource)) {
                    (_, Truth::False) => Outcome::NotApplied,
                    (Truth::True, Truth::True) => Outcome::Certain,
                    _ => Outcome::ByUnknown,
                }
            }
        }
    }
}
