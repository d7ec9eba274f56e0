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
//! # Not expressible
//!
//! Globs with `?` (Cedar's `like` has only `*`), globs on set attributes, orderings on set
//! attributes, integer or boolean values compared with a set attribute, and annotations
//! whose names are not Cedar identifiers give an [`ExportError`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::ir::{Atom, Expr, Rule, Test};
use crate::syntax::ast::{Attribute, Effect, GlobPiece, Literal};
use crate::Policy;

/// Why a policy could not be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A rule uses a construct the target language cannot express.
    #[error("rule `{rule_id}` cannot be exported to Cedar: {construct}")]
    Unsupported {
        /// The id of the rule.
        rule_id: String,
        /// What in it cannot be expressed.
        construct: String,
    },
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
/// [`ExportError::Unsupported`] for the first rule that uses a construct Cedar lacks.
pub fn to_cedar(policy: &Policy) -> Result<String, ExportError> {
    to_cedar_with(policy, &CedarOptions::default())
}

/// Cedar policy text for `policy`, one Cedar policy per rule, in load order.
///
/// # Errors
/// As [`to_cedar`].
pub fn to_cedar_with(policy: &Policy, options: &CedarOptions) -> Result<String, ExportError> {
    let mut out = String::new();
    for (i, rule) in policy.ir_rules().iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_rule(&mut out, rule, options)?;
    }
    Ok(out)
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
    rule: &'a Rule,
    options: &'a CedarOptions,
}

fn write_rule(out: &mut String, rule: &Rule, options: &CedarOptions) -> Result<(), ExportError> {
    let w = Writer { rule, options };
    out.push_str("@id(");
    push_string(out, &rule.id);
    out.push_str(")\n");
    let mut seen = BTreeSet::new();
    for (name, value) in &rule.annotations {
        if !is_identifier(name) || name == "id" || !seen.insert(name.as_str()) {
            return Err(w.unsupported(format!(
                "annotation `@{name}` (Cedar needs unique identifier names)"
            )));
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
            w.grouped(&mut s, expr, var, certain)?;
        } else {
            w.expr(&mut s, expr, var, certain)?;
        }
        parts.push(s);
    }
    if !parts.is_empty() {
        out.push_str("\nwhen { ");
        out.push_str(&parts.join(" && "));
        out.push_str(" }");
    }
    out.push_str(";\n");
    Ok(())
}

impl Writer<'_> {
    fn unsupported(&self, construct: String) -> ExportError {
        ExportError::Unsupported {
            rule_id: self.rule.id.to_string(),
            construct,
        }
    }

    /// Writes `expr`; `certain` says whether an absent attribute must make an atom false
    /// (certainly-true reading) or true (possibly-true reading). `!` flips it.
    fn expr(
        &self,
        out: &mut String,
        expr: &Expr,
        var: Var,
        certain: bool,
    ) -> Result<(), ExportError> {
        match expr {
            Expr::Any => out.push_str("true"),
            Expr::Not(e) => {
                // Cedar's `!` binds tighter than `has`, `==` and `like`: always parenthesise.
                out.push_str("!(");
                self.expr(out, e, var, !certain)?;
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
                    self.grouped(out, e, var, certain)?;
                }
            }
            Expr::Atom(a) => self.atom(out, a, var, certain)?,
        }
        Ok(())
    }

    fn grouped(
        &self,
        out: &mut String,
        expr: &Expr,
        var: Var,
        certain: bool,
    ) -> Result<(), ExportError> {
        let simple = matches!(expr, Expr::Any | Expr::Not(_))
            || matches!(expr, Expr::Atom(a) if !self.options.guard_absent || a.test == Test::Has);
        if simple {
            self.expr(out, expr, var, certain)
        } else {
            out.push('(');
            self.expr(out, expr, var, certain)?;
            out.push(')');
            Ok(())
        }
    }

    fn atom(
        &self,
        out: &mut String,
        atom: &Atom,
        var: Var,
        certain: bool,
    ) -> Result<(), ExportError> {
        let v = var.name();
        let (has, access) = match &atom.attribute {
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
        let is_set = matches!(&atom.attribute, Attribute::Name(n) if self.options.set_attributes.contains(&**n));
        let comparison =
            match &atom.test {
                Test::Has => {
                    out.push_str(&has);
                    return Ok(());
                }
                Test::Eq(l) if is_set => format!("{access}.contains({})", self.set_element(l)?),
                Test::Eq(l) => format!("{access} == {}", literal(l)),
                Test::In(ls) if is_set => {
                    let items: Result<Vec<String>, _> =
                        ls.iter().map(|l| self.set_element(l)).collect();
                    format!("{access}.containsAny([{}])", items?.join(", "))
                }
                Test::In(ls) => {
                    let items: Vec<String> = ls.iter().map(literal).collect();
                    format!("[{}].contains({access})", items.join(", "))
                }
                Test::Like(_) if is_set => {
                    return Err(self
                        .unsupported(format!("a glob on the set attribute `{}`", atom.attribute)))
                }
                Test::Like(g) => {
                    let Some(pattern) = like_pattern(&g.pieces()) else {
                        return Err(self
                            .unsupported("a glob with `?` (Cedar's `like` has only `*`)".into()));
                    };
                    format!("{access} like {pattern}")
                }
                Test::Range { .. } | Test::EmptyRange if is_set => {
                    return Err(self.unsupported(format!(
                        "an ordering on the set attribute `{}`",
                        atom.attribute
                    )))
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
        Ok(())
    }

    fn set_element(&self, l: &Literal) -> Result<String, ExportError> {
        match l {
            Literal::Str(_) => Ok(literal(l)),
            other => Err(self.unsupported(format!(
                "comparing a set attribute with the non-string value `{other}`"
            ))),
        }
    }
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

    #[test]
    fn unexpressible_constructs_are_errors() {
        for src in [
            "* grants name ~ \"a?\";",
            "groups < 3 grants *;",
            "groups = 1 grants *;",
            "groups ~ \"a*\" grants *;",
        ] {
            let policy = Policy::compile(src).unwrap_or_else(|e| panic!("{e}"));
            assert!(to_cedar(&policy).is_err(), "{src}");
        }
    }
}
