//! The checked form of a policy, as plain data: rules with resolved ids and normalised
//! conditions.
//!
//! Where the AST is for printing, the IR is for deciding: `!=` is `not (=)`, `not in`
//! is `not (in)`, groups are gone, globs are compiled. The index (`src/compile/`) is
//! built from it and `src/decide/` evaluates it; the exporter reads it.

pub(crate) mod glob;
mod id;
mod list;

use std::sync::Arc;

use crate::source::Span;
use crate::vocabulary::{Attribute, Effect, Literal, Side};
pub(crate) use glob::Glob;
pub(crate) use id::{auto_position, PositionalIds, RuleId};
pub(crate) use list::RuleList;

/// A comparison's test, after checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// `has ATTR`: never unknown.
    Has,
    /// `ATTR = V` (and, under `not`, `!=`).
    Eq(Literal),
    /// `ATTR in [V, ...]` (and, under `not`, `not in`): `= V1 or = V2 or ...` (a boxed
    /// slice: 8 bytes less than a `Vec` in every atom).
    In(Box<[Literal]>),
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
    /// The attribute tested, shared by every atom of the policy that tests it (8 bytes
    /// here instead of 24: atoms are many, attributes few).
    pub attribute: Arc<Attribute>,
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
    /// The rule's `@id`; `None` for a rule named `rule-N` by its load position, which
    /// [`Rule::id`] writes when asked (adding or removing a rule before it renames it).
    pub written_id: Option<Arc<str>>,
    /// Grant or deny.
    pub effect: Effect,
    /// The identity condition.
    pub who: Expr,
    /// The resource condition.
    pub what: Expr,
    /// Annotations other than `@id`, in order.
    pub annotations: Box<[(String, String)]>,
    /// Which source (by position in the compile call) the rule came from; see
    /// [`Rule::source`].
    pub source: u32,
    /// Where the rule stands in that source; see [`Rule::span`].
    pub span: SmallSpan,
}

/// Where a rule or an atom stands in its source, in 8 bytes rather than a [`Span`]'s 16
/// (a policy keeps one per rule and one per atom). Offsets past `u32::MAX` (a source
/// over 4 GiB, far above the default size limit) are clamped there: only diagnostics
/// read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallSpan {
    start: u32,
    end: u32,
}

impl From<Span> for SmallSpan {
    fn from(span: Span) -> SmallSpan {
        let clamp = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
        SmallSpan {
            start: clamp(span.start),
            end: clamp(span.end),
        }
    }
}

impl From<SmallSpan> for Span {
    fn from(span: SmallSpan) -> Span {
        Span::new(span.start as usize, span.end as usize)
    }
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

impl Rule {
    /// The rule's id, given its position among all rules (from 0): its `@id`, or
    /// `rule-{index + 1}`.
    pub(crate) fn id(&self, index: usize) -> RuleId {
        match &self.written_id {
            Some(id) => RuleId::Written(id.clone()),
            None => RuleId::positional(index),
        }
    }

    /// True when the rule has no `@id` and is named by its position.
    pub(crate) fn positional(&self) -> bool {
        self.written_id.is_none()
    }

    /// The index of the source the rule came from.
    pub(crate) fn source(&self) -> usize {
        self.source as usize
    }

    /// Where the rule stands in its source.
    pub(crate) fn span(&self) -> Span {
        self.span.into()
    }

    /// Every atom with the side it tests, in source order: `who`'s atoms, then `what`'s
    /// (lowering maps each written atom to exactly one atom here). An atom's place in
    /// this list is how `Policy::atom_span` finds where it was written.
    pub fn sided_atoms(&self) -> Vec<(Side, &Atom)> {
        let mut atoms = Vec::new();
        self.who
            .for_each_atom(&mut |a| atoms.push((Side::Identity, a)));
        self.what
            .for_each_atom(&mut |a| atoms.push((Side::Resource, a)));
        atoms
    }
}

// A policy keeps one rule per written rule and an expression node per atom: their sizes
// are most of its memory (docs/PERFORMANCE.md, issue 12).
const _: () = assert!(std::mem::size_of::<Atom>() == 32);
const _: () = assert!(std::mem::size_of::<Expr>() == 32);
const _: () = assert!(std::mem::size_of::<Rule>() == 112);
