//! The words every stage shares: [`Attribute`], [`Literal`], [`Effect`], [`Side`] and
//! glob pieces. The parser produces them, the checker interns them, the index keys on
//! them, decisions report them; this module depends on nothing but the lexical rules.

use std::fmt;
use std::sync::Arc;

use crate::lexical;

/// An attribute reference: a plain name or an entity tag.
///
/// ```
/// use tenure::Attribute;
/// assert_eq!(Attribute::tag("env").to_string(), "tag:env");
/// assert_eq!(Attribute::tag("k8s.io/cluster").to_string(), r#"tag:"k8s.io/cluster""#);
/// assert_eq!(Attribute::name("role").key(), "role");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// A plain attribute such as `role` or `manager.id`.
    Name(Arc<str>),
    /// A tag, written `tag:KEY` or `tag:"KEY"`.
    Tag(Arc<str>),
}

impl Attribute {
    /// A plain attribute.
    pub fn name(name: impl Into<Arc<str>>) -> Attribute {
        Attribute::Name(name.into())
    }

    /// A tag attribute.
    pub fn tag(key: impl Into<Arc<str>>) -> Attribute {
        Attribute::Tag(key.into())
    }

    /// The name or tag key, without `tag:`.
    pub fn key(&self) -> &str {
        match self {
            Attribute::Name(k) | Attribute::Tag(k) => k,
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A name outside the grammar (only reachable from builders) has no written
            // form; it is printed raw.
            Attribute::Name(n) => f.write_str(n),
            Attribute::Tag(k) if lexical::is_bare_tag_key(k) => write!(f, "tag:{k}"),
            Attribute::Tag(k) => {
                f.write_str("tag:")?;
                lexical::write_quoted(f, k)
            }
        }
    }
}

/// A literal value in a policy (part of the unstable AST, see `tenure::unstable`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Literal {
    /// A string, quoted or bare.
    Str(Arc<str>),
    /// A 64-bit integer (a bare word that is entirely `-?[0-9]+`).
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
}

/// The kind of a literal: which values it can be compared with (see `decide::eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum LiteralKind {
    Str = 0,
    Int = 1,
    Bool = 2,
}

impl LiteralKind {
    /// Every kind, in index order.
    pub(crate) const ALL: [LiteralKind; 3] =
        [LiteralKind::Str, LiteralKind::Int, LiteralKind::Bool];
}

impl Literal {
    pub(crate) fn kind(&self) -> LiteralKind {
        match self {
            Literal::Str(_) => LiteralKind::Str,
            Literal::Int(_) => LiteralKind::Int,
            Literal::Bool(_) => LiteralKind::Bool,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) if lexical::is_bare_word(s) => f.write_str(s),
            Literal::Str(s) => lexical::write_quoted(f, s),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Whether a rule grants or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `grants`: the rule allows access when both sides are certainly true.
    Grant,
    /// `denies`: the rule forbids access when neither side is false.
    Deny,
}

impl Effect {
    /// The keyword that spells this effect (`grants` or `denies`).
    pub fn keyword(self) -> &'static str {
        match self {
            Effect::Grant => "grants",
            Effect::Deny => "denies",
        }
    }
}

/// Which entity of a request an attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Side {
    /// The identity (the rule's `WHO`).
    Identity,
    /// The resource (the rule's `WHAT`).
    Resource,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Identity => "identity",
            Side::Resource => "resource",
        })
    }
}

/// One piece of a glob pattern (part of the unstable AST).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlobPiece {
    /// A literal character.
    Char(char),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
}

/// Writes a glob as its quoted source form.
pub(crate) fn write_glob(f: &mut impl fmt::Write, pieces: &[GlobPiece]) -> fmt::Result {
    f.write_char('"')?;
    for p in pieces {
        match p {
            GlobPiece::AnyRun => f.write_char('*')?,
            GlobPiece::AnyOne => f.write_char('?')?,
            GlobPiece::Char('*') => f.write_str("\\*")?,
            GlobPiece::Char('?') => f.write_str("\\?")?,
            GlobPiece::Char(c) => lexical::write_escaped_char(f, *c)?,
        }
    }
    f.write_char('"')
}
