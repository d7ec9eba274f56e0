//! The checked form of a policy, as plain data: rules with resolved ids and normalised
//! conditions.
//!
//! Where the AST is for printing, the IR is for deciding: `!=` is `not (=)`, `not in`
//! is `not (in)`, groups are gone, globs are compiled. The index (`src/compile/`) is
//! built from it and `src/decide/` evaluates it; the exporter reads it.

pub(crate) mod glob;

use std::sync::Arc;

use crate::source::Span;
use crate::vocabulary::{Attribute, Effect, Literal};
pub(crate) use glob::Glob;

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

impl Expr {
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
