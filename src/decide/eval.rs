//! Kleene evaluation of checked conditions, and the one table of which values a literal
//! can be compared with.
//!
//! [`comparable`] is the single definition of "unknown by type": equality
//! ([`equals`]) calls it, the index's type-mismatch probes call it (`src/compile/`), and
//! so the unknowns a decision reports agree with the candidates the index finds.

use crate::entity::Entity;
use crate::ir::{Atom, Expr, Rule, Test};
use crate::value::ValueRef;
use crate::vocabulary::{Effect, Literal, LiteralKind};

/// A three-valued truth: Kleene logic over true, false and unknown. Public as
/// [`tenure::explain::Truth`](crate::explain::Truth), the outcome of each part of an
/// [`Explanation`](crate::explain::Explanation).
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
    pub(crate) fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// Whether `value = literal-of-kind` is a comparison (true or false) rather than
/// unknown: strings and sets compare with strings, integers with integers, booleans with
/// booleans.
#[inline]
pub(crate) fn comparable(value: ValueRef<'_>, kind: LiteralKind) -> bool {
    matches!(
        (value, kind),
        (ValueRef::Str(_) | ValueRef::Set(_), LiteralKind::Str)
            | (ValueRef::Int(_), LiteralKind::Int)
            | (ValueRef::Bool(_), LiteralKind::Bool)
    )
}

/// Equality of an entity value with a literal; a set equals a string it contains.
#[inline]
pub(crate) fn equals(value: ValueRef<'_>, literal: &Literal) -> Truth {
    if !comparable(value, literal.kind()) {
        return Truth::Unknown;
    }
    Truth::from_bool(match (value, literal) {
        (ValueRef::Str(s), Literal::Str(l)) => s == &**l,
        (ValueRef::Int(i), Literal::Int(l)) => i == *l,
        (ValueRef::Bool(b), Literal::Bool(l)) => b == *l,
        // A set's slice is sorted and unique: `Set` guarantees it.
        (ValueRef::Set(items), Literal::Str(l)) => {
            items.binary_search_by(|x| x.as_str().cmp(l)).is_ok()
        }
        _ => false,
    })
}

/// Kleene `or` over `truths`, stopping at the first *true* (`and` is its dual:
/// `not any(not …)`).
#[inline]
pub(crate) fn any(truths: impl Iterator<Item = Truth>) -> Truth {
    let mut acc = Truth::False;
    for t in truths {
        match t {
            Truth::True => return Truth::True,
            Truth::Unknown => acc = Truth::Unknown,
            Truth::False => {}
        }
    }
    acc
}

/// Evaluates one comparison on `entity`.
#[inline]
pub(crate) fn atom(atom: &Atom, entity: &Entity) -> Truth {
    let value = entity.value_of(&atom.attribute);
    if let Test::Has = atom.test {
        return Truth::from_bool(value.is_some());
    }
    let Some(value) = value else {
        return Truth::Unknown;
    };
    match &atom.test {
        Test::Has => Truth::True,
        Test::Eq(l) => equals(value, l),
        Test::In(ls) => any(ls.iter().map(|l| equals(value, l))),
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

/// Evaluates a condition on `entity` under Kleene logic.
pub(crate) fn expr(e: &Expr, entity: &Entity) -> Truth {
    match e {
        Expr::Any => Truth::True,
        Expr::Atom(a) => atom(a, entity),
        Expr::Not(e) => !expr(e, entity),
        Expr::And(es) => !any(es.iter().map(|e| !expr(e, entity))),
        Expr::Or(es) => any(es.iter().map(|e| expr(e, entity))),
    }
}

/// How a rule evaluated on one request. Public as
/// [`tenure::explain::Outcome`](crate::explain::Outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The rule does not apply.
    NotApplied,
    /// Both sides certainly true.
    Certain,
    /// A deny that applies because a side is unknown.
    ByUnknown,
}

/// Whether a rule of `effect` can still apply once its `WHO` side is `who`: a grant
/// needs *true*, a deny anything but *false*.
#[inline]
pub(crate) fn who_admits(effect: Effect, who: Truth) -> bool {
    match effect {
        Effect::Grant => who == Truth::True,
        Effect::Deny => who != Truth::False,
    }
}

/// A rule's outcome from the truths of its two sides: a grant applies when both are
/// true; a deny when neither is false, certainly when both are true.
#[inline]
pub(crate) fn combine(effect: Effect, who: Truth, what: Truth) -> Outcome {
    match (effect, who, what) {
        (_, Truth::True, Truth::True) => Outcome::Certain,
        (Effect::Grant, _, _)
        | (Effect::Deny, Truth::False, _)
        | (Effect::Deny, _, Truth::False) => Outcome::NotApplied,
        (Effect::Deny, _, _) => Outcome::ByUnknown,
    }
}

/// Whether `rule` applies to the request, and how.
#[inline]
pub(crate) fn outcome(rule: &Rule, identity: &Entity, resource: &Entity) -> Outcome {
    let who = expr(&rule.who, identity);
    if !who_admits(rule.effect, who) {
        return Outcome::NotApplied;
    }
    combine(rule.effect, who, expr(&rule.what, resource))
}
