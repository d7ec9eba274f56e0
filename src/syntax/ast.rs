//! The abstract syntax tree of a policy, exactly as written.
//!
//! The AST is for *printing back* and for *pointing at source*: every node keeps its
//! [`Span`], nothing is normalised, and its [`Display`](std::fmt::Display) output parses
//! back to an equal tree (spans aside). Semantic work happens on the checked
//! form (`src/ir/`).

// Without the `unstable` feature only the parser and the checker read the tree.
#![cfg_attr(not(feature = "unstable"), allow(dead_code))]

use std::fmt;

use crate::lexical::write_quoted;
pub use crate::source::Span;
use crate::vocabulary::write_glob;
pub use crate::vocabulary::{Attribute, Effect, GlobPiece, Literal};

/// A parsed policy source: its rules in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The rules, in source order.
    pub rules: Vec<Rule>,
}

/// `@name("value")` before a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The annotation's name, without `@`.
    pub name: String,
    /// The annotation's (unescaped) value.
    pub value: String,
    /// Where the whole annotation stands.
    pub span: Span,
}

/// One rule: `annotations WHO effect WHAT;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Annotations in source order.
    pub annotations: Vec<Annotation>,
    /// The condition on the identity.
    pub who: Condition,
    /// `grants` or `denies`.
    pub effect: Effect,
    /// The condition on the resource.
    pub what: Condition,
    /// Where the whole rule stands, annotations included.
    pub span: Span,
}

/// A condition on one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `*`: always true.
    Any(Span),
    /// `a or b or ...` (two or more operands).
    Or(Vec<Condition>, Span),
    /// `a and b and ...` (two or more operands).
    And(Vec<Condition>, Span),
    /// `not a`.
    Not(Box<Condition>, Span),
    /// `( a )`: kept so that printing reproduces the source's grouping.
    Group(Box<Condition>, Span),
    /// A single comparison.
    Atom(Atom),
}

impl Condition {
    /// Where this condition stands in its source.
    pub fn span(&self) -> Span {
        match self {
            Condition::Any(s)
            | Condition::Or(_, s)
            | Condition::And(_, s)
            | Condition::Not(_, s)
            | Condition::Group(_, s) => *s,
            Condition::Atom(a) => a.span,
        }
    }
}

/// A comparison's operator and operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `has ATTR`.
    Has,
    /// `ATTR = V`.
    Eq(Literal),
    /// `ATTR != V`.
    Ne(Literal),
    /// `ATTR in [V, ...]`.
    In(Vec<Literal>),
    /// `ATTR not in [V, ...]`.
    NotIn(Vec<Literal>),
    /// `ATTR ~ "glob"`.
    Like(Vec<GlobPiece>),
    /// `ATTR < N`.
    Lt(i64),
    /// `ATTR <= N`.
    Le(i64),
    /// `ATTR > N`.
    Gt(i64),
    /// `ATTR >= N`.
    Ge(i64),
}

/// A single comparison on one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The attribute compared.
    pub attribute: Attribute,
    /// What it is compared with.
    pub predicate: Predicate,
    /// Where the atom stands.
    pub span: Span,
}

// ---------------------------------------------------------------------------
// Printing. The printer writes canonical text that parses back to the same tree.

fn write_list(f: &mut fmt::Formatter<'_>, values: &[Literal]) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str("]")
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.attribute;
        match &self.predicate {
            Predicate::Has => write!(f, "has {a}"),
            Predicate::Eq(v) => write!(f, "{a} = {v}"),
            Predicate::Ne(v) => write!(f, "{a} != {v}"),
            Predicate::In(vs) => {
                write!(f, "{a} in ")?;
                write_list(f, vs)
            }
            Predicate::NotIn(vs) => {
                write!(f, "{a} not in ")?;
                write_list(f, vs)
            }
            Predicate::Like(g) => {
                write!(f, "{a} ~ ")?;
                write_glob(f, g)
            }
            Predicate::Lt(n) => write!(f, "{a} < {n}"),
            Predicate::Le(n) => write!(f, "{a} <= {n}"),
            Predicate::Gt(n) => write!(f, "{a} > {n}"),
            Predicate::Ge(n) => write!(f, "{a} >= {n}"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Any(_) => f.write_str("*"),
            Condition::Or(cs, _) => write_joined(f, cs, " or "),
            Condition::And(cs, _) => write_joined(f, cs, " and "),
            Condition::Not(c, _) => write!(f, "not {c}"),
            Condition::Group(c, _) => write!(f, "({c})"),
            Condition::Atom(a) => write!(f, "{a}"),
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, cs: &[Condition], sep: &str) -> fmt::Result {
    for (i, c) in cs.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}(", self.name)?;
        write_quoted(f, &self.value)?;
        f.write_str(")")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.annotations {
            writeln!(f, "{a}")?;
        }
        write!(f, "{} {} {};", self.who, self.effect.keyword(), self.what)
    }
}

impl fmt::Display for Policy {
    /// Prints the policy in canonical form: one rule per paragraph, annotations on their
    /// own lines, comments dropped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            writeln!(f, "{r}")?;
        }
        Ok(())
    }
}
