//! An [`Explanation`] for tools (JSON, [`Explanation::to_json`]) and for people
//! (text, `Display`).

use std::fmt;

use serde_json::{json, Map, Value as Json};

use super::{
    AtomExplanation, ConditionExplanation, DenyOverrides, Explanation, Outcome, RuleExplanation,
    Scope, Seen, SideExplanation, Truth,
};
use crate::decide::decision::{DecidedBy, Decision, UnknownCause};
use crate::value::Value;
use crate::vocabulary::Effect;

impl Truth {
    /// The word for this truth: `true`, `false` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Truth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// The name of this outcome in JSON: `certain`, `by_unknown` or `not_applied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Certain => "certain",
            Outcome::ByUnknown => "by_unknown",
            Outcome::NotApplied => "not_applied",
        }
    }
}

fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Grant => "grant",
        Effect::Deny => "deny",
    }
}

fn decided_by_name(decided_by: DecidedBy) -> &'static str {
    match decided_by {
        DecidedBy::Deny => "deny",
        DecidedBy::Grant => "grant",
        DecidedBy::Default => "default",
        DecidedBy::UnknownSubject => "unknown_subject",
    }
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Str(s) => Json::from(s.as_str()),
        Value::Int(i) => Json::from(*i),
        Value::Bool(b) => Json::from(*b),
        Value::Set(set) => Json::from(set.iter().collect::<Vec<_>>()),
    }
}

/// A value as JSON text: strings quoted, sets as arrays, so its type shows.
fn value_text(value: &Value) -> String {
    value_json(value).to_string()
}

fn decision_json(decision: &Decision) -> Map<String, Json> {
    let reasons: Vec<Json> = decision
        .reasons()
        .iter()
        .map(|r| {
            let unknown: Vec<Json> = r
                .unknowns()
                .iter()
                .map(|u| {
                    json!({
                        "side": u.side.to_string(),
                        "attribute": u.attribute.to_string(),
                        "cause": match u.cause {
                            UnknownCause::Missing => "missing",
                            UnknownCause::TypeMismatch => "type_mismatch",
                        },
                    })
                })
                .collect();
            json!({
                "rule": r.rule_id(),
                "effect": effect_name(r.effect()),
                "certain": r.is_certain(),
                "unknown": unknown,
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert(
        "decision".into(),
        Json::from(if decision.is_allowed() {
            "allow"
        } else {
            "deny"
        }),
    );
    out.insert(
        "decided_by".into(),
        Json::from(decided_by_name(decision.decided_by())),
    );
    out.insert("reasons".into(), Json::from(reasons));
    out
}

fn seen_json(seen: &Seen) -> Json {
    match seen {
        Seen::Value(v) => json!({"kind": "value", "type": v.type_name(), "value": value_json(v)}),
        Seen::Missing => json!({"kind": "missing"}),
        Seen::TypeMismatch(v) => {
            json!({"kind": "type_mismatch", "type": v.type_name(), "value": value_json(v)})
        }
    }
}

fn condition_json(condition: &ConditionExplanation) -> Json {
    let truth = condition.truth().as_str();
    match condition {
        ConditionExplanation::Any => json!({"op": "any", "truth": truth}),
        ConditionExplanation::And { operands, .. } => json!({
            "op": "and",
            "truth": truth,
            "operands": operands.iter().map(condition_json).collect::<Vec<_>>(),
        }),
        ConditionExplanation::Or { operands, .. } => json!({
            "op": "or",
            "truth": truth,
            "operands": operands.iter().map(condition_json).collect::<Vec<_>>(),
        }),
        ConditionExplanation::Not { operand, .. } => json!({
            "op": "not",
            "truth": truth,
            "operand": condition_json(operand),
        }),
        ConditionExplanation::Atom(atom) => json!({
            "op": "atom",
            "truth": truth,
            "written": atom.written,
            "attribute": atom.attribute.to_string(),
            "seen": seen_json(&atom.seen),
        }),
    }
}

fn side_json(side: &SideExplanation) -> Json {
    json!({"truth": side.truth.as_str(), "condition": condition_json(&side.condition)})
}

fn rule_json(rule: &RuleExplanation) -> Json {
    json!({
        "id": rule.id,
        "index": rule.index,
        "effect": effect_name(rule.effect),
        "source": rule.source_name,
        "line": rule.location.line,
        "column": rule.location.column,
        "candidate": rule.candidate,
        "who": side_json(&rule.who),
        "what": side_json(&rule.what),
        "applies": rule.applies(),
        "outcome": rule.outcome.as_str(),
    })
}

impl Explanation {
    /// The explanation as JSON, for tools. The shape is stable: fields may be added in
    /// later versions, never renamed or removed.
    ///
    /// ```text
    /// {
    ///   "decision": "allow" | "deny",
    ///   "decided_by": "deny" | "grant" | "default",
    ///   "reasons": [{"rule": ID, "effect": "grant" | "deny", "certain": BOOL,
    ///                "unknown": [{"side": "identity" | "resource", "attribute": "tag:env",
    ///                             "cause": "missing" | "type_mismatch"}]}],
    ///   "scope": "candidates" | "all",
    ///   "rule_count": N,
    ///   "rules": [{"id": ID, "index": N, "effect": "grant" | "deny",
    ///              "source": NAME, "line": N, "column": N, "candidate": BOOL,
    ///              "who": SIDE, "what": SIDE,
    ///              "applies": BOOL, "outcome": "certain" | "by_unknown" | "not_applied"}],
    ///   "deny_overrides": {"applying_denies": [ID], "applying_grants": [ID],
    ///                      "decided_by": "deny" | "grant" | "default", "summary": TEXT}
    /// }
    /// SIDE = {"truth": TRUTH, "condition": NODE}
    /// NODE = {"op": "any", "truth": "true"}
    ///      | {"op": "and" | "or", "truth": TRUTH, "operands": [NODE]}
    ///      | {"op": "not", "truth": TRUTH, "operand": NODE}
    ///      | {"op": "atom", "truth": TRUTH, "written": "role = DBA", "attribute": "role",
    ///         "seen": {"kind": "value", "type": TYPE, "value": VALUE}
    ///               | {"kind": "missing"}
    ///               | {"kind": "type_mismatch", "type": TYPE, "value": VALUE}}
    /// TRUTH = "true" | "false" | "unknown"
    /// TYPE = "string" | "integer" | "boolean" | "set"   (VALUE: a set is an array of strings)
    /// ```
    ///
    /// `decision`, `decided_by` and `reasons` are the [`Decision`]; `rules` are the
    /// examined rules in load order.
    ///
    /// ```
    /// use tenure::{Identity, Policy, Resource};
    ///
    /// let policy = Policy::compile(r#"@id("dba") role = DBA grants type = postgres;"#)?;
    /// let json = policy
    ///     .explain(&Identity::new().with("role", "DBA"), &Resource::new().with("type", 5))
    ///     .to_json();
    /// assert_eq!(json["decision"], "deny");
    /// assert_eq!(json["decided_by"], "default");
    /// let atom = &json["rules"][0]["what"]["condition"];
    /// assert_eq!(atom["written"], "type = postgres");
    /// assert_eq!(atom["truth"], "unknown");
    /// assert_eq!(atom["seen"], serde_json::json!({"kind": "type_mismatch", "type": "integer", "value": 5}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self) -> Json {
        let mut out = decision_json(&self.decision);
        out.insert(
            "scope".into(),
            Json::from(match self.scope {
                Scope::Candidates => "candidates",
                Scope::AllRules => "all",
            }),
        );
        out.insert("rule_count".into(), Json::from(self.rule_count));
        out.insert(
            "rules".into(),
            Json::from(self.rules.iter().map(rule_json).collect::<Vec<_>>()),
        );
        let overrides = &self.deny_overrides;
        out.insert(
            "deny_overrides".into(),
            json!({
                "applying_denies": overrides.applying_denies,
                "applying_grants": overrides.applying_grants,
                "decided_by": decided_by_name(overrides.decided_by),
                "summary": overrides.summary(),
            }),
        );
        Json::Object(out)
    }

    /// The explanation as text for people (what `Display` writes): each examined rule
    /// with its sides as trees of outcomes, then the deny-overrides step and the decision.
    ///
    /// ```
    /// use tenure::{Identity, Policy, Resource};
    ///
    /// let policy = Policy::compile(r#"@id("leavers") status != active denies *;"#)?;
    /// let text = policy.explain(&Identity::new(), &Resource::new()).render_text();
    /// assert!(text.contains("status != active: unknown (status is missing)"), "{text}");
    /// assert!(text.ends_with("decision: deny by leavers (unknown: identity.status)\n"), "{text}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render_text(&self) -> String {
        self.to_string()
    }
}

fn write_seen(f: &mut fmt::Formatter<'_>, atom: &AtomExplanation) -> fmt::Result {
    let a = &atom.attribute;
    match &atom.seen {
        Seen::Value(v) => write!(f, " ({a} is {})", value_text(v)),
        Seen::Missing => write!(f, " ({a} is missing)"),
        Seen::TypeMismatch(v) => write!(
            f,
            " (type mismatch: {a} is the {} {})",
            v.type_name(),
            value_text(v)
        ),
    }
}

fn write_condition(
    f: &mut fmt::Formatter<'_>,
    condition: &ConditionExplanation,
    depth: usize,
) -> fmt::Result {
    let indent = depth * 2;
    let truth = condition.truth();
    match condition {
        ConditionExplanation::Any => writeln!(f, "{:indent$}*: {truth}", ""),
        ConditionExplanation::And { operands, .. } | ConditionExplanation::Or { operands, .. } => {
            let op = if matches!(condition, ConditionExplanation::And { .. }) {
                "and"
            } else {
                "or"
            };
            writeln!(f, "{:indent$}{op}: {truth}", "")?;
            operands
                .iter()
                .try_for_each(|o| write_condition(f, o, depth + 1))
        }
        ConditionExplanation::Not { operand, .. } => {
            writeln!(f, "{:indent$}not: {truth}", "")?;
            write_condition(f, operand, depth + 1)
        }
        ConditionExplanation::Atom(atom) => {
            write!(f, "{:indent$}{}: {truth}", "", atom.written)?;
            write_seen(f, atom)?;
            writeln!(f)
        }
    }
}

/// How the two sides combined, in words.
fn combination(rule: &RuleExplanation) -> String {
    let (who, what) = (rule.who.truth, rule.what.truth);
    match (rule.outcome, rule.effect) {
        (Outcome::Certain, _) => "applies: both sides are true".to_string(),
        (Outcome::ByUnknown, _) => {
            format!("applies by unknown: a deny applies when no side is false (who is {who}, what is {what})")
        }
        (Outcome::NotApplied, Effect::Grant) => {
            format!("does not apply: a grant needs both sides true (who is {who}, what is {what})")
        }
        (Outcome::NotApplied, Effect::Deny) => match (who, what) {
            (Truth::False, Truth::False) => "does not apply: both sides are false".to_string(),
            (Truth::False, _) => "does not apply: the who side is false".to_string(),
            _ => "does not apply: the what side is false".to_string(),
        },
    }
}

fn write_rule(f: &mut fmt::Formatter<'_>, rule: &RuleExplanation) -> fmt::Result {
    write!(
        f,
        "rule {}: {} at {}:{}:{}",
        rule.id,
        effect_name(rule.effect),
        rule.source_name,
        rule.location.line,
        rule.location.column
    )?;
    if !rule.candidate {
        f.write_str(" (not a candidate of the index)")?;
    }
    writeln!(f)?;
    for (name, side) in [("who", &rule.who), ("what", &rule.what)] {
        writeln!(f, "  {name} is {}", side.truth)?;
        write_condition(f, &side.condition, 2)?;
    }
    writeln!(f, "  {}", combination(rule))
}

fn write_ids(f: &mut fmt::Formatter<'_>, label: &str, ids: &[String]) -> fmt::Result {
    if ids.is_empty() {
        writeln!(f, "  {label}: none")
    } else {
        writeln!(f, "  {label}: {}", ids.join(", "))
    }
}

fn write_overrides(f: &mut fmt::Formatter<'_>, overrides: &DenyOverrides) -> fmt::Result {
    writeln!(f, "deny overrides")?;
    write_ids(f, "applying denies", &overrides.applying_denies)?;
    write_ids(f, "applying grants", &overrides.applying_grants)?;
    writeln!(f, "  {}", overrides.summary())
}

impl fmt::Display for Explanation {
    /// The text of [`Explanation::render_text`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.rule_count;
        let rules_word = |k: usize| if k == 1 { "rule" } else { "rules" };
        match self.scope {
            Scope::Candidates => writeln!(
                f,
                "explaining {} of {n} {}: the index's candidates for this request",
                self.rules.len(),
                rules_word(n)
            )?,
            Scope::AllRules => writeln!(f, "explaining all {n} {}", rules_word(n))?,
        }
        for rule in &self.rules {
            writeln!(f)?;
            write_rule(f, rule)?;
        }
        writeln!(f)?;
        write_overrides(f, &self.deny_overrides)?;
        writeln!(f)?;
        writeln!(f, "decision: {}", self.decision)
    }
}
