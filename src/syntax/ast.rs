//! The abstract syntax tree of a policy, exactly as written.
//!
//! The AST is for *printing back* and for *pointing at source*: every node keeps its
//! [`Span`], nothing is normalised, and its [`Display`](std::fmt::Display) output parses
//! back to an equal tree (spans aside). Semantic work happens on the checked
//! [`crate::ir`] form.

use std::fmt;
use std::sync::Arc;

/// A byte range in a policy source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A parsed policy source: its rules in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The rules, in source order.
    pub rules: Vec<Rule>,
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

/// An attribute reference: a plain name or an entity tag.
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

/// A literal value in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Literal {
    /// A string, quoted or bare.
    Str(Arc<str>),
    /// A 64-bit integer (a bare word that is entirely `-?[0-9]+`).
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
}

/// One piece of a glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlobPiece {
    /// A literal character.
    Char(char),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
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

// The printer writes a value or tag key bare only when it is plain ASCII: the grammar's
// letters are Unicode category L, which `char::is_alphabetic` does not match exactly
// (combining marks such as U+06D6 are alphabetic but not letters), so anything else is
// quoted, which always parses back.
fn is_bare_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/' | '@'))
        && !is_integer_text(s)
        && s != "true"
        && s != "false"
        && !s.contains("//")
}

/// True when `s` is entirely `-?[0-9]+`, i.e. a bare word the language reads as an integer.
pub(crate) fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_bare_name(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok =
        matches!(chars.next(), Some(c) if c.is_alphabetic() || c.is_ascii_digit() || c == '_');
    first_ok
        && s.chars()
            .all(|c| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
        && !matches!(s, "grants" | "denies" | "and" | "or" | "not" | "in" | "has")
}

fn is_bare_tag_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Writes `s` as a quoted string literal with escapes.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        write_escaped_char(f, c)?;
    }
    f.write_char('"')
}

fn write_escaped_char(f: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '"' => f.write_str("\\\""),
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\t' => f.write_str("\\t"),
        '\r' => f.write_str("\\r"),
        c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32),
        c => f.write_char(c),
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Name(n) if is_bare_name(n) => f.write_str(n),
            // Names outside the grammar cannot be written; print them as a quoted tag-like
            // form would be wrong, so fall back to the raw text (only reachable from builders).
            Attribute::Name(n) => f.write_str(n),
            Attribute::Tag(k) if is_bare_tag_key(k) => write!(f, "tag:{k}"),
            Attribute::Tag(k) => {
                f.write_str("tag:")?;
                write_quoted(f, k)
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) if is_bare_word(s) => f.write_str(s),
            Literal::Str(s) => write_quoted(f, s),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

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

/// Writes a glob as its quoted source form.
pub(crate) fn write_glob(f: &mut impl fmt::Write, pieces: &[GlobPiece]) -> fmt::Result {
    f.write_char('"')?;
    for p in pieces {
        match p {
            GlobPiece::AnyRun => f.write_char('*')?,
            GlobPiece::AnyOne => f.write_char('?')?,
            GlobPiece::Char('*') => f.write_str("\\*")?,
            GlobPiece::Char('?') => f.write_str("\\?")?,
            GlobPiece::Char(c) => write_escaped_char(f, *c)?,
        }
    }
    f.write_char('"')
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
