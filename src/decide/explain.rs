//! Why a request was decided as it was: every examined rule, each side, each atom.
//!
//! [`Policy::explain`](crate::Policy::explain) evaluates the rules the index finds for a
//! request (its *candidates*; [`Policy::explain_all`](crate::Policy::explain_all):
//! every rule) and keeps everything the decision path throws away: the outcome of each
//! atom with the value it saw (or that the attribute was missing, or of another type),
//! how `and`, `or` and `not` combined them, the truth of each side, whether the rule
//! applies, and the deny-overrides step that turns the applying rules into the decision.
//! The [`Decision`] inside is the one [`Policy::authorize`](crate::Policy::authorize)
//! returns for the same request.
//!
//! The explanation reads the same evaluator as every decision path (`decide::eval`), so
//! it cannot drift from the decisions it explains: atoms are evaluated by the same
//! function, operands combined by the same Kleene `or`, sides by the same rule of
//! application.
//!
//! Conditions are shown in their checked form: `A != V` and `A not in [...]` stay atoms
//! (with their own outcome), parentheses are gone, and an ordering reads as a half-open
//! bound (`clearance <= 2` reads `clearance < 3`, `level > 2` reads `level >= 3`).
//!
//! ```
//! use tenure::explain::{Seen, Truth};
//! use tenure::{Identity, Policy, Resource};
//!
//! let policy = Policy::compile(r#"
//!     @id("cloud") role = CloudEngineer grants tag:env = cloud;
//!     @id("leavers") status != active denies *;
//! "#)?;
//! let who = Identity::new().with("role", "CloudEngineer");
//! let what = Resource::new().with_tag("env", "cloud");
//! let explanation = policy.explain(&who, &what);
//! assert_eq!(explanation.decision(), &policy.authorize(&who, &what));
//!
//! // The leavers deny applies by unknown: `status` is missing.
//! let leavers = explanation.rule("leavers").unwrap();
//! assert!(leavers.applies());
//! assert_eq!(leavers.who.truth, Truth::Unknown);
//! let atom = leavers.who.condition.atoms()[0];
//! assert_eq!(atom.written, "status != active");
//! assert_eq!(atom.seen, Seen::Missing);
//! assert_eq!(explanation.deny_overrides().applying_denies, ["leavers"]);
//! assert_eq!(explanation.deny_overrides().applying_grants, ["cloud"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod render;

use rustc_hash::FxHashSet;
use std::fmt::Write as _;

use super::decision::{DecidedBy, Decision, UnknownAttribute, UnknownCause};
use super::eval;
pub use super::eval::{Outcome, Truth};
use crate::entity::Entity;
use crate::ir::{Atom, Expr, Rule, RuleList, Test};
use crate::source::Location;
use crate::value::{Value, ValueRef};
use crate::vocabulary::{write_glob, Attribute, Effect, Side};

/// The attributes whose comparisons are unknown on the sides of `rule` that are
/// unknown, in rule order (identity side first), each once. Linear in the rule's size.
pub(crate) fn unknowns_of(
    rule: &Rule,
    identity: &Entity,
    resource: &Entity,
) -> Vec<UnknownAttribute> {
    let mut out: Vec<UnknownAttribute> = Vec::new();
    let mut seen = FxHashSet::default();
    for (side, expr, entity) in [
        (Side::Identity, &rule.who, identity),
        (Side::Resource, &rule.what, resource),
    ] {
        if eval::expr(expr, entity) != Truth::Unknown {
            continue;
        }
        expr.for_each_atom(&mut |atom| {
            if eval::atom(atom, entity) != Truth::Unknown {
                return;
            }
            let cause = cause_of_unknown(entity, &atom.attribute);
            if seen.insert((side, &atom.attribute, cause)) {
                out.push(UnknownAttribute {
                    side,
                    attribute: Attribute::clone(&atom.attribute),
                    cause,
                });
            }
        });
    }
    out
}

/// Why a comparison on `attribute` that came out unknown did: the attribute is absent,
/// or its value has a type the comparison cannot use. The one definition shared by
/// decisions' reasons and explanations.
fn cause_of_unknown(entity: &Entity, attribute: &Attribute) -> UnknownCause {
    if entity.value_of(attribute).is_none() {
        UnknownCause::Missing
    } else {
        UnknownCause::TypeMismatch
    }
}

/// Which rules an [`Explanation`] examines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// The index's candidates for the request: every rule that could apply, and usually
    /// few others ([`Policy::explain`](crate::Policy::explain)).
    Candidates,
    /// Every rule of the policy ([`Policy::explain_all`](crate::Policy::explain_all)).
    AllRules,
}

/// What an atom saw of its attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// The attribute's value, of a type the comparison uses.
    Value(Value),
    /// The attribute is absent: the comparison is unknown (`has` is false).
    Missing,
    /// The attribute's value has a type the comparison cannot use (an ordering on a
    /// string, `= 5` on a set): the comparison is unknown.
    TypeMismatch(Value),
}

/// One comparison of a rule, evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AtomExplanation {
    /// The atom as policy text in its checked form, such as `role = DBA`,
    /// `type not in [rdp, ssh]` or `clearance < 3`.
    pub written: String,
    /// The attribute compared.
    pub attribute: Attribute,
    /// The comparison's outcome.
    pub truth: Truth,
    /// What the comparison saw.
    pub seen: Seen,
}

/// A condition of a rule, evaluated: a tree mirroring the rule's checked condition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConditionExplanation {
    /// `*`: always true.
    Any,
    /// Every operand must hold (Kleene `and`).
    And {
        /// The conjunction's outcome.
        truth: Truth,
        /// The operands, in order.
        operands: Vec<ConditionExplanation>,
    },
    /// Some operand must hold (Kleene `or`).
    Or {
        /// The disjunction's outcome.
        truth: Truth,
        /// The operands, in order.
        operands: Vec<ConditionExplanation>,
    },
    /// Negation (unknown stays unknown).
    Not {
        /// The negation's outcome.
        truth: Truth,
        /// The negated condition.
        operand: Box<ConditionExplanation>,
    },
    /// A comparison.
    Atom(AtomExplanation),
}

impl ConditionExplanation {
    /// The outcome of this condition.
    pub fn truth(&self) -> Truth {
        match self {
            ConditionExplanation::Any => Truth::True,
            ConditionExplanation::And { truth, .. }
            | ConditionExplanation::Or { truth, .. }
            | ConditionExplanation::Not { truth, .. } => *truth,
            ConditionExplanation::Atom(atom) => atom.truth,
        }
    }

    /// Every atom of the condition, in source order.
    pub fn atoms(&self) -> Vec<&AtomExplanation> {
        let mut out = Vec::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<&'a AtomExplanation>) {
        match self {
            ConditionExplanation::Any => {}
            ConditionExplanation::And { operands, .. }
            | ConditionExplanation::Or { operands, .. } => {
                operands.iter().for_each(|o| o.collect_atoms(out));
            }
            ConditionExplanation::Not { operand, .. } => operand.collect_atoms(out),
            ConditionExplanation::Atom(atom) => out.push(atom),
        }
    }
}

/// One side of a rule (`WHO` on the identity, `WHAT` on the resource), evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SideExplanation {
    /// Which entity the side tests.
    pub side: Side,
    /// The side's outcome.
    pub truth: Truth,
    /// How it came about.
    pub condition: ConditionExplanation,
}

/// One rule, evaluated on the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleExplanation {
    /// The rule's id (`@id`, or `rule-N`).
    pub id: String,
    /// The rule's position among all rules in load order, from 0.
    pub index: usize,
    /// Grant or deny.
    pub effect: Effect,
    /// The source the rule came from.
    pub source_name: String,
    /// Where the rule starts in its source.
    pub location: Location,
    /// Whether the policy's index chose the rule for evaluation (always true under
    /// [`Scope::Candidates`]; a rule that is not a candidate cannot apply).
    pub candidate: bool,
    /// The `WHO` side, on the identity.
    pub who: SideExplanation,
    /// The `WHAT` side, on the resource.
    pub what: SideExplanation,
    /// How the sides combine: a grant applies when both are true; a deny when neither is
    /// false, certainly when both are true.
    pub outcome: Outcome,
}

impl RuleExplanation {
    /// Whether the rule applies to the request (certainly, or a deny by unknown).
    pub fn applies(&self) -> bool {
        self.outcome != Outcome::NotApplied
    }
}

/// The deny-overrides step: how the applying rules became the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DenyOverrides {
    /// The ids of the denies that apply, in load order.
    pub applying_denies: Vec<String>,
    /// The ids of the grants that apply, in load order (overridden when a deny applies).
    pub applying_grants: Vec<String>,
    /// The verdict: by the applying denies, else by the applying grants, else the default
    /// deny.
    pub decided_by: DecidedBy,
}

impl DenyOverrides {
    /// Why the verdict is what it is, in one sentence, such as
    /// `deny: the deny leavers applies, and a deny overrides every grant (cloud)`.
    pub fn summary(&self) -> String {
        let list = |ids: &[String]| ids.join(", ");
        let rules = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                many.to_string()
            }
        };
        let mut out = String::new();
        match self.decided_by {
            DecidedBy::Deny => {
                let n = self.applying_denies.len();
                let _ = write!(
                    out,
                    "deny: {} {} {}",
                    rules(n, "the deny", "the denies"),
                    list(&self.applying_denies),
                    rules(n, "applies", "apply")
                );
                if self.applying_grants.is_empty() {
                    out.push_str(" (and no grant applies)");
                } else {
                    let _ = write!(
                        out,
                        ", and a deny overrides every grant ({})",
                        list(&self.applying_grants)
                    );
                }
            }
            DecidedBy::Grant => {
                let n = self.applying_grants.len();
                let _ = write!(
                    out,
                    "allow: no deny applies, and {} {} {}",
                    rules(n, "the grant", "the grants"),
                    list(&self.applying_grants),
                    rules(n, "applies", "apply")
                );
            }
            DecidedBy::Default => out.push_str("deny: no deny and no grant applies (default deny)"),
            DecidedBy::UnknownSubject => out.push_str("deny: the subject is unknown"),
        }
        out
    }
}

/// Why a request was decided as it was: the decision, every examined rule evaluated
/// part by part, and the deny-overrides step. From
/// [`Policy::explain`](crate::Policy::explain) and
/// [`Policy::explain_all`](crate::Policy::explain_all); see the [module](self) for an
/// example. [`Explanation::to_json`] gives it to tools, and `Display` (or
/// [`Explanation::render_text`]) to people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    decision: Decision,
    scope: Scope,
    rules: Vec<RuleExplanation>,
    rule_count: usize,
    deny_overrides: DenyOverrides,
}

impl Explanation {
    /// The decision, exactly as [`Policy::authorize`](crate::Policy::authorize) returns
    /// it for the same request.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// Which rules were examined.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The examined rules, in load order.
    pub fn rules(&self) -> &[RuleExplanation] {
        &self.rules
    }

    /// The examined rule with this id, if it was examined.
    pub fn rule(&self, id: &str) -> Option<&RuleExplanation> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// How many rules the policy has (examined or not).
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// The deny-overrides step.
    pub fn deny_overrides(&self) -> &DenyOverrides {
        &self.deny_overrides
    }
}

/// Where a rule was written: its source's name and its location there.
pub(crate) struct Written<'a> {
    pub(crate) source_name: &'a str,
    pub(crate) location: Location,
}

/// A request to explain, with what the policy already knows about it.
pub(crate) struct Request<'a> {
    /// The identity.
    pub(crate) identity: &'a Entity,
    /// The resource.
    pub(crate) resource: &'a Entity,
    /// Per rule (by index), whether the index chose it for this request.
    pub(crate) candidates: &'a [bool],
    /// The decision of the indexed path for this request.
    pub(crate) decision: Decision,
}

/// Explains `request` over `rules`: every candidate (under [`Scope::Candidates`]) or
/// every rule, in load order; `written` says where each rule (by index) stands.
pub(crate) fn explain<'a>(
    rules: &RuleList,
    request: Request<'_>,
    scope: Scope,
    written: impl Fn(usize) -> Written<'a>,
) -> Explanation {
    let mut explained = Vec::new();
    let mut applying_denies = Vec::new();
    let mut applying_grants = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let candidate = request.candidates.get(index).copied().unwrap_or(false);
        if scope == Scope::Candidates && !candidate {
            continue;
        }
        let who = explain_side(Side::Identity, &rule.who, request.identity);
        let what = explain_side(Side::Resource, &rule.what, request.resource);
        let outcome = eval::combine(rule.effect, who.truth, what.truth);
        let id = rule.id(index).to_string();
        if outcome != Outcome::NotApplied {
            match rule.effect {
                Effect::Deny => applying_denies.push(id.clone()),
                Effect::Grant => applying_grants.push(id.clone()),
            }
        }
        let at = written(index);
        explained.push(RuleExplanation {
            id,
            index,
            effect: rule.effect,
            source_name: at.source_name.to_string(),
            location: at.location,
            candidate,
            who,
            what,
            outcome,
        });
    }
    // Deny overrides grant, as `decide::authorize` decides it.
    let decided_by = if !applying_denies.is_empty() {
        DecidedBy::Deny
    } else if !applying_grants.is_empty() {
        DecidedBy::Grant
    } else {
        DecidedBy::Default
    };
    Explanation {
        decision: request.decision,
        scope,
        rules: explained,
        rule_count: rules.len(),
        deny_overrides: DenyOverrides {
            applying_denies,
            applying_grants,
            decided_by,
        },
    }
}

fn explain_side(side: Side, expr: &Expr, entity: &Entity) -> SideExplanation {
    let condition = explain_condition(expr, entity);
    let truth = condition.truth();
    // INVARIANT: the explanation combines as the evaluator does.
    debug_assert_eq!(truth, eval::expr(expr, entity));
    SideExplanation {
        side,
        truth,
        condition,
    }
}

fn explain_condition(expr: &Expr, entity: &Entity) -> ConditionExplanation {
    match expr {
        Expr::Any => ConditionExplanation::Any,
        Expr::Atom(atom) => ConditionExplanation::Atom(explain_atom(atom, false, entity)),
        Expr::Not(inner) => match &**inner {
            // `A != V` and `A not in [...]` were written as one atom: show them so.
            Expr::Atom(atom) if matches!(atom.test, Test::Eq(_) | Test::In(_)) => {
                ConditionExplanation::Atom(explain_atom(atom, true, entity))
            }
            inner => {
                let operand = explain_condition(inner, entity);
                ConditionExplanation::Not {
                    truth: !operand.truth(),
                    operand: Box::new(operand),
                }
            }
        },
        Expr::And(operands) => {
            let operands: Vec<_> = operands
                .iter()
                .map(|e| explain_condition(e, entity))
                .collect();
            ConditionExplanation::And {
                truth: !eval::any(operands.iter().map(|o| !o.truth())),
                operands,
            }
        }
        Expr::Or(operands) => {
            let operands: Vec<_> = operands
                .iter()
                .map(|e| explain_condition(e, entity))
                .collect();
            ConditionExplanation::Or {
                truth: eval::any(operands.iter().map(ConditionExplanation::truth)),
                operands,
            }
        }
    }
}

/// Evaluates `atom` (negated when `negated`: `!=`, `not in`) and records what it saw.
fn explain_atom(atom: &Atom, negated: bool, entity: &Entity) -> AtomExplanation {
    let plain = eval::atom(atom, entity);
    let truth = if negated { !plain } else { plain };
    let seen = match entity.value_of(&atom.attribute) {
        None => Seen::Missing,
        Some(value) if plain == Truth::Unknown => {
            debug_assert_eq!(
                cause_of_unknown(entity, &atom.attribute),
                UnknownCause::TypeMismatch
            );
            Seen::TypeMismatch(owned(value))
        }
        Some(value) => Seen::Value(owned(value)),
    };
    AtomExplanation {
        written: written_form(atom, negated),
        attribute: Attribute::clone(&atom.attribute),
        truth,
        seen,
    }
}

fn owned(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Str(s) => Value::Str(s.to_string()),
        ValueRef::Int(i) => Value::Int(i),
        ValueRef::Bool(b) => Value::Bool(b),
        ValueRef::Set(items) => Value::set(items.iter().cloned()),
    }
}

/// The atom as policy text, in its checked form.
fn written_form(atom: &Atom, negated: bool) -> String {
    let a = &atom.attribute;
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = match &atom.test {
        Test::Has => write!(out, "has {a}"),
        Test::Eq(l) if negated => write!(out, "{a} != {l}"),
        Test::Eq(l) => write!(out, "{a} = {l}"),
        Test::In(ls) => {
            let list: Vec<String> = ls.iter().map(ToString::to_string).collect();
            let op = if negated { "not in" } else { "in" };
            write!(out, "{a} {op} [{}]", list.join(", "))
        }
        Test::Like(glob) => {
            let _ = write!(out, "{a} ~ ");
            write_glob(&mut out, &glob.pieces())
        }
        Test::Range { lo, hi } => match (*lo, *hi) {
            (i64::MIN, i64::MAX) => write!(out, "{a} >= {}", i64::MIN),
            (i64::MIN, hi) => write!(out, "{a} < {}", hi + 1),
            (lo, i64::MAX) => write!(out, "{a} >= {lo}"),
            // Not produced by the checker (one atom bounds one end); kept readable.
            (lo, hi) => write!(out, "{a} >= {lo} and {a} <= {hi}"),
        },
        Test::EmptyRange => write!(out, "{a} < {}", i64::MIN),
    };
    out
}
