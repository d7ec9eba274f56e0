//! Tenure rules → Cedar policy text.
//!
//! Each rule becomes one Cedar policy: a grant a `permit`, a deny a `forbid`, its id an
//! `@id` annotation, and both sides one `when` clause over `principal` (the identity) and
//! `resource`. Atoms map as follows (`E` is `principal` or `resource`):
//!
//! | Tenure | Cedar |
//! | --- | --- |
//! | `has a`, `has tag:k` | `E has "a"`, `E.hasTag("k")` |
//! | `a = v`, `a != v` | `E.a == v`, `!(E.a == v)` |
//! | `a in [v, w]` | `[v, w].contains(E.a)` |
//! | `s = v`, `s in [v, w]` on a set attribute | `E.s.contains(v)`, `E.s.containsAny([v, w])` |
//! | `a ~ "glob*"` | `E.a like "glob*"` |
//! | `a < 3`, `a >= -1` | `E.a <= 2`, `E.a >= -1` |
//! | `tag:k = v` | `E.getTag("k") == v` |
//!
//! Cedar cannot tell a set attribute from a string one at run time, so the exporter needs
//! to know which attributes hold sets ([`CedarOptions::set_attributes`]; `groups` by
//! default).
//!
//! # Three-valued logic
//!
//! In Tenure a comparison on an absent attribute is *unknown*: a grant then does not
//! apply, a deny does (fail closed). In Cedar reading an absent attribute is an error,
//! and a policy that errors is skipped — a `forbid` included. With
//! [`CedarOptions::guard_absent`] (the default) every comparison is guarded with `has`
//! (`hasTag` for tags) so that the Cedar policy behaves as Tenure's rule does when
//! attributes are absent: inside a `permit` an absent attribute makes the comparison
//! count as *not satisfied*, inside a `forbid` as *satisfied*, with the sense flipped
//! under each `!`. That is exactly Kleene logic: a `permit` holds when its condition is
//! certainly true, a `forbid` when it is possibly true.
//!
//! What no guard can express is a *type mismatch* (Cedar has no run-time type test for
//! strings and integers): Tenure's `clearance < 3` on a string is unknown and a deny
//! applies, while Cedar's `<` errors and the `forbid` is skipped; Tenure's
//! `port = "80"` on an integer is unknown while Cedar's `==` across types is `false`.
//! Those differences are by design and are tested in `tests/differential.rs`.
//!
//! # Mixed-type lists are refused
//!
//! A list whose values are of more than one type (`x in [a, 1]`, `x not in [a, true]`) is
//! refused, on either side, with [`ExportProblemKind::MixedList`]. In Tenure such a list
//! is the Kleene `or` of its equalities, and a value of another type than the attribute's
//! makes its equality *unknown*; a mixed list always holds a value of another type, so
//! `x in [a, 1]` is never false: true when `x` is listed, else unknown (`x = "b"`: `x = a`
//! is false, `x = 1` is unknown). Cedar's `[a, 1].contains(x)` is plain `false` there, and
//! so would be a split by type (`["a"].contains(x) || [1].contains(x)`): Cedar has no
//! run-time type test, and the `has` guards above only reproduce *absence*, so no split
//! makes a `forbid` apply on that unknown as Tenure's deny does. A mixed list is also
//! almost always a mistake (`port in [80, "443"]`), so the exporter refuses it and asks
//! for a list of one type rather than emit a rule whose meaning would be surprising.
//!
//! # Not expressible
//!
//! Globs with `?` (Cedar's `like` has only `*`), globs on set attributes, orderings on set
//! attributes, integer or boolean values compared with a set attribute, mixed-type lists,
//! and annotations whose names are not Cedar identifiers (or repeat) are problems. The
//! exporter goes on past a problem and reports every one it finds, over all rules, in
//! rule order: an [`ExportError`] holds a non-empty list of [`ExportProblem`]s, each with
//! the rule's id, position and source location, and a [`ExportProblemKind`] whose
//! [`miette::Diagnostic`] code (`tenure::export::…`) and help say what to change.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use miette::Diagnostic;

use crate::ir::{Atom, Expr, Rule, Test};
use crate::vocabulary::{write_glob, Attribute, Effect, GlobPiece, Literal};
use crate::{Code, Location, Policy};

/// Why a policy could not be exported: every problem found, over all rules, in rule
/// order (never empty).
///
/// Displays one problem per line. As a [`miette::Diagnostic`] its code is the first
/// problem's and its related diagnostics are all the problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_all(.problems))]
pub struct ExportError {
    // INVARIANT: never empty.
    problems: Vec<ExportProblem>,
}

/// One problem per line.
fn display_all(problems: &[ExportProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ExportError {
    /// Every problem found, in rule order (and, within a rule, annotations first, then
    /// the identity side, then the resource side, each in source order).
    pub fn problems(&self) -> &[ExportProblem] {
        &self.problems
    }

    /// The first problem found.
    pub fn first(&self) -> &ExportProblem {
        &self.problems[0]
    }
}

impl Diagnostic for ExportError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Diagnostic::code(&self.problems[0])
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// One construct that cannot be exported, with the rule it is in.
///
/// Displays as ``source:line:column: rule `id` (#position) cannot be exported to Cedar:
/// what``, where line and column are the rule's start and the position counts rules from
/// 1 in load order (as the `rule-N` ids do).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}:{}:{}: rule `{}` (#{}) cannot be exported to Cedar: {}",
    .source_name, .location.line, .location.column, .rule_id, .rule_index + 1, .kind
)]
pub struct ExportProblem {
    rule_id: String,
    rule_index: usize,
    source_name: String,
    location: Location,
    kind: ExportProblemKind,
}

impl ExportProblem {
    /// The id of the rule.
    pub fn rule_id(&self) -> &str {
        &self.rule_id
    }

    /// The rule's index in [`Policy::rules`] (from 0).
    pub fn rule_index(&self) -> usize {
        self.rule_index
    }

    /// The name of the source the rule came from.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Where the rule starts in its source.
    pub fn location(&self) -> Location {
        self.location
    }

    /// What cannot be exported.
    pub fn kind(&self) -> &ExportProblemKind {
        &self.kind
    }
}

impl ExportProblem {
    /// The stable code of this problem (its kind's).
    pub fn code(&self) -> Code {
        self.kind.code()
    }
}

impl Diagnostic for ExportProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code().as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.kind
            .code()
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

/// What in a rule cannot be exported to Cedar. Each kind has its own stable [`Code`]
/// (`tenure::export::…`) in the diagnostics registry, with its help text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportProblemKind {
    /// A list mixes value types (`x in [a, 1]`, `x not in [a, true]`); see the module docs.
    #[error(
        "the list `{list}` on `{attribute}` mixes {types} values (Tenure treats a value of \
         another type than the attribute's as unknown, Cedar as unequal)"
    )]
    MixedList {
        /// The attribute compared, as written in Tenure.
        attribute: String,
        /// The list, as written in Tenure.
        list: String,
        /// The value types it mixes, such as `string and integer`.
        types: String,
    },
    /// A glob uses `?`.
    #[error("the glob {glob} on `{attribute}` uses `?` (Cedar's `like` has only `*`)")]
    GlobAnyOne {
        /// The attribute matched.
        attribute: String,
        /// The glob, quoted as in Tenure.
        glob: String,
    },
    /// A glob on a set attribute.
    #[error(
        "a glob on the set attribute `{attribute}` (Cedar cannot match set elements against \
         a pattern)"
    )]
    GlobOnSet {
        /// The attribute matched.
        attribute: String,
    },
    /// An ordering (`<`, `<=`, `>`, `>=`) on a set attribute.
    #[error("an ordering on the set attribute `{attribute}`")]
    OrderingOnSet {
        /// The attribute ordered.
        attribute: String,
    },
    /// An integer or boolean compared with a set attribute.
    #[error("comparing the set attribute `{attribute}` with the non-string value `{value}`")]
    NonStringSetValue {
        /// The set attribute.
        attribute: String,
        /// The value, as written in Tenure.
        value: String,
    },
    /// An annotation name that is not a Cedar identifier.
    #[error("annotation `@{name}` is not a Cedar identifier")]
    AnnotationName {
        /// The annotation's name.
        name: String,
    },
    /// An annotation name that the rule repeats (or `id`, which the exporter writes).
    #[error("annotation `@{name}` appears more than once (Cedar allows one per name)")]
    DuplicateAnnotation {
        /// The annotation's name.
        name: String,
    },
}

impl ExportProblemKind {
    /// This kind's stable code.
    pub fn code(&self) -> Code {
        match self {
            ExportProblemKind::MixedList { .. } => Code::ExportMixedList,
            ExportProblemKind::GlobAnyOne { .. } => Code::ExportGlobAnyOne,
            ExportProblemKind::GlobOnSet { .. } => Code::ExportGlobOnSet,
            ExportProblemKind::OrderingOnSet { .. } => Code::ExportOrderingOnSet,
            ExportProblemKind::NonStringSetValue { .. } => Code::ExportNonStringSetValue,
            ExportProblemKind::AnnotationName { .. } => Code::ExportAnnotationName,
            ExportProblemKind::DuplicateAnnotation { .. } => Code::ExportDuplicateAnnotation,
        }
    }
}

/// How [`to_cedar_with`] translates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CedarOptions {
    /// Attributes (on either side) that hold sets of strings; `=`/`in` on them become
    /// `contains`/`containsAny`. Default: `groups`.
    pub set_attributes: BTreeSet<String>,
    /// Guard every comparison with `has`/`hasTag` so that absent attributes behave as in
    /// Tenure (see the module docs). Default: true. Without guards the output reads like
    /// hand-written Cedar, and a `forbid` on an absent attribute is skipped by Cedar.
    pub guard_absent: bool,
}

impl Default for CedarOptions {
    fn default() -> CedarOptions {
        CedarOptions {
            set_attributes: ["groups".to_string()].into_iter().collect(),
            guard_absent: true,
        }
    }
}

/// Cedar policy text for `policy`, with default [`CedarOptions`].
///
/// ```
/// let policy = tenure::Policy::compile(r#"@id("cloud") role = CloudEngineer grants tag:env = cloud;"#)?;
/// let cedar = tenure::export::to_cedar(&policy)?;
/// assert!(cedar.starts_with("@id(\"cloud\")\npermit (principal, action, resource)\nwhen {"));
/// assert!(cedar.contains(r#"principal.role == "CloudEngineer""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An [`ExportError`] listing every construct Cedar lacks, over all rules, in rule order.
pub fn to_cedar(policy: &Policy) -> Result<String, ExportError> {
    to_cedar_with(policy, &CedarOptions::default())
}

/// Cedar policy text for `policy`, one Cedar policy per rule, in load order.
///
/// # Errors
/// As [`to_cedar`].
pub fn to_cedar_with(policy: &Policy, options: &CedarOptions) -> Result<String, ExportError> {
    let mut out = String::new();
    let mut problems = Vec::new();
    for (i, rule) in policy.ir_rules().iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let id = rule.id(i);
        for kind in write_rule(&mut out, rule, id.as_str(), options) {
            problems.push(ExportProblem {
                rule_id: id.to_string(),
                rule_index: i,
                source_name: policy.source_name_of(rule.source()).to_string(),
                location: policy.location_of(i),
                kind,
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ExportError { problems })
    }
}

/// Which entity a side of a rule is about.
#[derive(Clone, Copy)]
enum Var {
    Principal,
    Resource,
}

impl Var {
    fn name(self) -> &'static str {
        match self {
            Var::Principal => "principal",
            Var::Resource => "resource",
        }
    }
}

struct Writer<'a> {
    options: &'a CedarOptions,
    /// The problems found so far in the rule; the text written is then of no use.
    problems: Vec<ExportProblemKind>,
}

/// Writes `rule`, whose id is `id`, and returns its problems (none when the text written
/// is its export).
fn write_rule(
    out: &mut String,
    rule: &Rule,
    id: &str,
    options: &CedarOptions,
) -> Vec<ExportProblemKind> {
    let mut w = Writer {
        options,
        problems: Vec::new(),
    };
    out.push_str("@id(");
    push_string(out, id);
    out.push_str(")\n");
    let mut seen = BTreeSet::new();
    for (name, value) in &rule.annotations {
        if !is_identifier(name) {
            w.problems
                .push(ExportProblemKind::AnnotationName { name: name.clone() });
        } else if name == "id" || !seen.insert(name.as_str()) {
            w.problems
                .push(ExportProblemKind::DuplicateAnnotation { name: name.clone() });
        }
        let _ = write!(out, "@{name}(");
        push_string(out, value);
        out.push_str(")\n");
    }
    out.push_str(match rule.effect {
        Effect::Grant => "permit",
        Effect::Deny => "forbid",
    });
    out.push_str(" (principal, action, resource)");
    // A permit needs its condition certainly true, a forbid possibly true.
    let certain = rule.effect == Effect::Grant;
    let sides: Vec<(Var, &Expr)> = [(Var::Principal, &rule.who), (Var::Resource, &rule.what)]
        .into_iter()
        .filter(|(_, e)| **e != Expr::Any)
        .collect();
    let mut parts = Vec::new();
    for &(var, expr) in &sides {
        let mut s = String::new();
        if sides.len() > 1 {
            w.grouped(&mut s, expr, var, certain);
        } else {
            w.expr(&mut s, expr, var, certain);
        }
        parts.push(s);
    }
    if !parts.is_empty() {
        out.push_str("\nwhen { ");
        out.push_str(&parts.join(" && "));
        out.push_str(" }");
    }
    out.push_str(";\n");
    w.problems
}

impl Writer<'_> {
    /// Writes `expr`; `certain` says whether an absent attribute must make an atom false
    /// (certainly-true reading) or true (possibly-true reading). `!` flips it.
    fn expr(&mut self, out: &mut String, expr: &Expr, var: Var, certain: bool) {
        match expr {
            Expr::Any => out.push_str("true"),
            Expr::Not(e) => {
                // Cedar's `!` binds tighter than `has`, `==` and `like`: always parenthesise.
                out.push_str("!(");
                self.expr(out, e, var, !certain);
                out.push(')');
            }
            Expr::And(es) | Expr::Or(es) => {
                let op = if matches!(expr, Expr::And(_)) {
                    " && "
                } else {
                    " || "
                };
                if es.is_empty() {
                    out.push_str(if matches!(expr, Expr::And(_)) {
                        "true"
                    } else {
                        "false"
                    });
                }
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        out.push_str(op);
                    }
                    self.grouped(out, e, var, certain);
                }
            }
            Expr::Atom(a) => self.atom(out, a, var, certain),
        }
    }

    fn grouped(&mut self, out: &mut String, expr: &Expr, var: Var, certain: bool) {
        let simple = matches!(expr, Expr::Any | Expr::Not(_))
            || matches!(expr, Expr::Atom(a) if !self.options.guard_absent || a.test == Test::Has);
        if simple {
            self.expr(out, expr, var, certain);
        } else {
            out.push('(');
            self.expr(out, expr, var, certain);
            out.push(')');
        }
    }

    /// Records a problem; returns the text to write in place of the comparison.
    fn problem(&mut self, kind: ExportProblemKind) -> String {
        self.problems.push(kind);
        "false".to_string()
    }

    fn atom(&mut self, out: &mut String, atom: &Atom, var: Var, certain: bool) {
        let v = var.name();
        let (has, access) = match &*atom.attribute {
            Attribute::Tag(k) => {
                let mut key = String::new();
                push_string(&mut key, k);
                (format!("{v}.hasTag({key})"), format!("{v}.getTag({key})"))
            }
            Attribute::Name(n) => {
                let mut quoted = String::new();
                push_string(&mut quoted, n);
                let access = if is_identifier(n) {
                    format!("{v}.{n}")
                } else {
                    format!("{v}[{quoted}]")
                };
                (format!("{v} has {quoted}"), access)
            }
        };
        let attribute = || atom.attribute.to_string();
        let is_set = matches!(&*atom.attribute, Attribute::Name(n) if self.options.set_attributes.contains(&**n));
        // Refused before anything else, on set attributes too (see the module docs).
        let mixed = match &atom.test {
            Test::In(ls) => mixed_types(ls),
            _ => None,
        };
        let comparison = match &atom.test {
            Test::Has => {
                out.push_str(&has);
                return;
            }
            Test::In(ls) if mixed.is_some() => self.problem(ExportProblemKind::MixedList {
                attribute: attribute(),
                list: tenure_list(ls),
                types: mixed.unwrap_or_default(),
            }),
            Test::Eq(l) if is_set => match self.set_element(l, atom) {
                Some(e) => format!("{access}.contains({e})"),
                None => "false".to_string(),
            },
            Test::Eq(l) => format!("{access} == {}", literal(l)),
            Test::In(ls) if is_set => {
                let items: Vec<String> = ls
                    .iter()
                    .filter_map(|l| self.set_element(l, atom))
                    .collect();
                format!("{access}.containsAny([{}])", items.join(", "))
            }
            Test::In(ls) => {
                let items: Vec<String> = ls.iter().map(literal).collect();
                format!("[{}].contains({access})", items.join(", "))
            }
            Test::Like(_) if is_set => self.problem(ExportProblemKind::GlobOnSet {
                attribute: attribute(),
            }),
            Test::Like(g) => {
                let pieces = g.pieces();
                match like_pattern(&pieces) {
                    Some(pattern) => format!("{access} like {pattern}"),
                    None => {
                        let mut glob = String::new();
                        let _ = write_glob(&mut glob, &pieces);
                        self.problem(ExportProblemKind::GlobAnyOne {
                            attribute: attribute(),
                            glob,
                        })
                    }
                }
            }
            Test::Range { .. } | Test::EmptyRange if is_set => {
                self.problem(ExportProblemKind::OrderingOnSet {
                    attribute: attribute(),
                })
            }
            Test::Range { lo, hi } => match (*lo, *hi) {
                (i64::MIN, hi) => format!("{access} <= {hi}"),
                (lo, i64::MAX) => format!("{access} >= {lo}"),
                (lo, hi) => format!("({access} >= {lo} && {access} <= {hi})"),
            },
            // False on every integer, an error (like Tenure's unknown) on anything else.
            Test::EmptyRange => format!("({access} < 0 && {access} > 0)"),
        };
        if !self.options.guard_absent {
            out.push_str(&comparison);
        } else if certain {
            let _ = write!(out, "{has} && {comparison}");
        } else {
            let _ = write!(out, "!({has}) || {comparison}");
        }
    }

    /// A set element for `l`, or `None` (and a problem) when `l` is not a string.
    fn set_element(&mut self, l: &Literal, atom: &Atom) -> Option<String> {
        match l {
            Literal::Str(_) => Some(literal(l)),
            other => {
                self.problems.push(ExportProblemKind::NonStringSetValue {
                    attribute: atom.attribute.to_string(),
                    value: other.to_string(),
                });
                None
            }
        }
    }
}

/// The type of a literal, in words.
fn type_name(l: &Literal) -> &'static str {
    match l {
        Literal::Str(_) => "string",
        Literal::Int(_) => "integer",
        Literal::Bool(_) => "boolean",
    }
}

/// When `list` holds values of more than one type, those types in order of first
/// appearance (`string and integer`).
fn mixed_types(list: &[Literal]) -> Option<String> {
    let mut types: Vec<&str> = Vec::new();
    for l in list {
        let t = type_name(l);
        if !types.contains(&t) {
            types.push(t);
        }
    }
    match types.as_slice() {
        [] | [_] => None,
        [a, b] => Some(format!("{a} and {b}")),
        [a, b, c, ..] => Some(format!("{a}, {b} and {c}")),
    }
}

/// A list as written in Tenure: `[a, 1]`.
fn tenure_list(list: &[Literal]) -> String {
    let items: Vec<String> = list.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => {
            let mut out = String::new();
            push_string(&mut out, s);
            out
        }
        Literal::Int(i) => i.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}

/// A Cedar `like` pattern for glob pieces; `None` when the glob uses `?`.
fn like_pattern(pieces: &[GlobPiece]) -> Option<String> {
    let mut out = String::from("\"");
    for p in pieces {
        match p {
            GlobPiece::AnyRun => out.push('*'),
            GlobPiece::AnyOne => return None,
            GlobPiece::Char(c) => push_char(&mut out, *c, true),
        }
    }
    out.push('"');
    Some(out)
}

/// Writes `s` as a Cedar string literal.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        push_char(out, c, false);
    }
    out.push('"');
}

/// Writes one character of a Cedar string or `like` pattern body.
fn push_char(out: &mut String, c: char, in_pattern: bool) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '*' if in_pattern => out.push_str("\\*"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A Cedar identifier that may follow `.` (not a reserved word).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s,
            "true" | "false" | "if" | "then" | "else" | "in" | "like" | "has" | "is" | "__cedar"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(src: &str) -> String {
        let policy = Policy::compile(src).unwrap_or_else(|e| panic!("{e}"));
        to_cedar(&policy).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn grants_and_denies() {
        let out = export(
            r#"@id("a") @note("x") role = admin grants *; status != active denies tag:env = prod;"#,
        );
        assert_eq!(
            out,
            "@id(\"a\")\n@note(\"x\")\npermit (principal, action, resource)\nwhen { principal has \"role\" && principal.role == \"admin\" };\n\n\
             @id(\"rule-2\")\nforbid (principal, action, resource)\nwhen { !(principal has \"status\" && principal.status == \"active\") && (!(resource.hasTag(\"env\")) || resource.getTag(\"env\") == \"prod\") };\n"
        );
    }

    #[test]
    fn sets_globs_ranges_and_odd_names() {
        let out = export(
            r#"groups in [a, b] and clearance < 3 and "manager.id" = x grants name ~ "db-\**";"#
                .replace("\"manager.id\"", "manager.id")
                .as_str(),
        );
        assert!(
            out.contains(r#"principal.groups.containsAny(["a", "b"])"#),
            "{out}"
        );
        assert!(out.contains("principal.clearance <= 2"), "{out}");
        assert!(out.contains(r#"principal["manager.id"] == "x""#), "{out}");
        assert!(out.contains(r#"resource.name like "db-\**""#), "{out}");
    }

    fn problems(src: &str) -> ExportError {
        let policy = Policy::compile(src).unwrap_or_else(|e| panic!("{e}"));
        match to_cedar(&policy) {
            Ok(out) => panic!("exported {src}\n{out}"),
            Err(e) => e,
        }
    }

    fn code(d: &dyn Diagnostic) -> String {
        d.code().map(|c| c.to_string()).unwrap_or_default()
    }

    #[test]
    fn unexpressible_constructs_are_errors() {
        for (src, want) in [
            ("* grants name ~ \"a?\";", "tenure::export::glob_any_one"),
            ("groups < 3 grants *;", "tenure::export::ordering_on_set"),
            (
                "groups = 1 grants *;",
                "tenure::export::non_string_set_value",
            ),
            ("groups ~ \"a*\" grants *;", "tenure::export::glob_on_set"),
            ("role in [a, 1] grants *;", "tenure::export::mixed_list"),
            (
                "@my-note(\"x\") * grants *;",
                "tenure::export::annotation_name",
            ),
            (
                "@note(\"x\") @note(\"y\") * grants *;",
                "tenure::export::duplicate_annotation",
            ),
        ] {
            let err = problems(src);
            assert_eq!(err.problems().len(), 1, "{src}: {err}");
            let problem = err.first();
            assert_eq!(code(problem), want, "{src}");
            assert_eq!(code(&err), want, "{src}");
            assert_eq!(problem.kind().code().as_str(), want, "{src}");
            let help = Diagnostic::help(problem)
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(!help.is_empty(), "{src}: no help");
            assert_eq!(problem.rule_id(), "rule-1");
            assert_eq!(problem.rule_index(), 0);
            assert!(
                err.to_string()
                    .starts_with("<policy>:1:1: rule `rule-1` (#1) cannot be exported to Cedar: "),
                "{src}: {err}"
            );
        }
    }

    #[test]
    fn mixed_lists_are_refused_on_either_side_in_and_not_in() {
        for (src, list) in [
            ("role in [a, 1] grants *;", "[a, 1]"),
            ("role not in [a, 1] grants *;", "[a, 1]"),
            ("* denies port in [80, \"80\"];", "[80, \"80\"]"),
            ("* denies port not in [80, true];", "[80, true]"),
            ("* grants tag:env in [prod, 1, false];", "[prod, 1, false]"),
            ("not (active in [true, yes]) denies *;", "[true, yes]"),
            ("groups in [a, 1] grants *;", "[a, 1]"),
        ] {
            let err = problems(src);
            assert_eq!(err.problems().len(), 1, "{src}: {err}");
            let p = err.first();
            assert_eq!(code(p), "tenure::export::mixed_list", "{src}");
            assert!(
                matches!(p.kind(), ExportProblemKind::MixedList { list: l, .. } if l == list),
                "{src}: {:?}",
                p.kind()
            );
            assert!(err.to_string().contains(&format!("`{list}`")), "{err}");
            assert!(err.to_string().contains("rule `rule-1`"), "{err}");
        }
        let err = problems("@id(\"m\") * grants tag:env in [prod, 1, false];");
        assert_eq!(
            err.to_string(),
            "<policy>:1:1: rule `m` (#1) cannot be exported to Cedar: the list `[prod, 1, false]` \
             on `tag:env` mixes string, integer and boolean values (Tenure treats a value of \
             another type than the attribute's as unknown, Cedar as unequal)"
        );
        // Lists of one type still export.
        let out =
            export("role in [a, \"1\"] grants port in [1, 2]; active in [true, false] denies *;");
        assert!(
            out.contains(r#"["a", "1"].contains(principal.role)"#),
            "{out}"
        );
        assert!(out.contains("[1, 2].contains(resource.port)"), "{out}");
        assert!(
            out.contains("[true, false].contains(principal.active)"),
            "{out}"
        );
    }

    #[test]
    fn every_problem_is_reported_in_rule_order() {
        let src = "@id(\"ok\") role = a grants *;\n\
                   @id(\"two\") @my-note(\"x\") groups < 3 grants name ~ \"a?\";\n\
                   role = b grants *;\n\
                   x in [a, 1] or y not in [2, b] denies groups ~ \"*\";\n";
        let err = problems(src);
        let got: Vec<(&str, usize, String)> = err
            .problems()
            .iter()
            .map(|p| (p.rule_id(), p.rule_index(), code(p)))
            .collect();
        let want: Vec<(&str, usize, String)> = [
            ("two", 1, "annotation_name"),
            ("two", 1, "ordering_on_set"),
            ("two", 1, "glob_any_one"),
            ("rule-4", 3, "mixed_list"),
            ("rule-4", 3, "mixed_list"),
            ("rule-4", 3, "glob_on_set"),
        ]
        .into_iter()
        .map(|(id, i, c)| (id, i, format!("tenure::export::{c}")))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            err.problems()[3].location(),
            Location { line: 4, column: 1 }
        );
        assert_eq!(err.to_string().lines().count(), 6, "{err}");
        assert_eq!(code(&err), "tenure::export::annotation_name");
        assert_eq!(err.related().map_or(0, Iterator::count), 6);
    }
}
