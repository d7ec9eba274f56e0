//! `Policy::explain`: examples of each part of an explanation, its JSON and text forms,
//! and the property that an explanation agrees with the decision it explains.

use proptest::prelude::*;
use serde_json::json;
use tenure::explain::{ConditionExplanation, Outcome, Scope, Seen, Truth};
use tenure::{DecidedBy, Effect, Identity, Policy, Resource, Value};

use crate::reference::{entity, policy_text};

const POLICY: &str = r#"@id("cloud")
role = CloudEngineer and department = Cloud grants tag:env = cloud;
@id("leavers")
status != active denies *;
@id("clearance")
clearance < 3 denies tag:classification = secret;
@id("dba")
role = DBA grants type not in [rdp, ssh] or not (port >= 1024);
"#;

fn policy() -> Policy {
    Policy::compile_sources([("base.tenure", POLICY)]).expect("compiles")
}

fn cloud_engineer() -> Identity {
    Identity::new()
        .with("role", "CloudEngineer")
        .with("department", "Cloud")
        .with("status", "active")
}

#[test]
fn explain_a_certain_grant() {
    let policy = policy();
    let who = cloud_engineer().with("clearance", 5);
    let what = Resource::new().with_tag("env", "cloud");
    let explanation = policy.explain(&who, &what);
    assert_eq!(explanation.decision(), &policy.authorize(&who, &what));
    assert_eq!(explanation.scope(), Scope::Candidates);
    assert_eq!(explanation.rule_count(), 4);

    let cloud = explanation.rule("cloud").expect("a candidate");
    assert_eq!(cloud.effect, Effect::Grant);
    assert_eq!(cloud.source_name, "base.tenure");
    assert_eq!((cloud.location.line, cloud.location.column), (1, 1));
    assert!(cloud.candidate);
    assert_eq!(cloud.outcome, Outcome::Certain);
    assert_eq!(cloud.who.truth, Truth::True);
    let ConditionExplanation::And { truth, operands } = &cloud.who.condition else {
        panic!("an and: {:?}", cloud.who.condition);
    };
    assert_eq!((*truth, operands.len()), (Truth::True, 2));
    let atoms = cloud.who.condition.atoms();
    assert_eq!(atoms[0].written, "role = CloudEngineer");
    assert_eq!(atoms[0].seen, Seen::Value(Value::from("CloudEngineer")));
    assert_eq!(atoms[1].written, "department = Cloud");

    let overrides = explanation.deny_overrides();
    assert!(overrides.applying_denies.is_empty());
    assert_eq!(overrides.applying_grants, ["cloud"]);
    assert_eq!(overrides.decided_by, DecidedBy::Grant);
    assert_eq!(
        overrides.summary(),
        "allow: no deny applies, and the grant cloud applies"
    );
}

#[test]
fn explain_denies_by_unknown_with_missing_attributes() {
    let policy = policy();
    let who = Identity::new().with("role", "CloudEngineer");
    let what = Resource::new().with_tag("env", "cloud");
    let explanation = policy.explain(&who, &what);
    let decision = policy.authorize(&who, &what);
    assert_eq!(explanation.decision(), &decision);
    assert!(!decision.is_allowed());

    let leavers = explanation.rule("leavers").expect("a candidate");
    assert_eq!(leavers.outcome, Outcome::ByUnknown);
    assert_eq!(leavers.who.truth, Truth::Unknown);
    assert_eq!(leavers.what.condition, ConditionExplanation::Any);
    let atom = leavers.who.condition.atoms()[0];
    assert_eq!(
        (atom.written.as_str(), atom.truth, &atom.seen),
        ("status != active", Truth::Unknown, &Seen::Missing)
    );
    let clearance = explanation.rule("clearance").expect("a candidate");
    assert_eq!(clearance.who.condition.atoms()[0].written, "clearance < 3");
    assert_eq!(clearance.outcome, Outcome::ByUnknown);

    let overrides = explanation.deny_overrides();
    assert_eq!(overrides.applying_denies, ["leavers", "clearance"]);
    assert_eq!(overrides.decided_by, DecidedBy::Deny);
    assert_eq!(
        overrides.summary(),
        "deny: the denies leavers, clearance apply (and no grant applies)"
    );
}

#[test]
fn explain_shows_type_mismatches_sets_and_negations() {
    let policy = policy();
    let who = Identity::new()
        .with("role", "DBA")
        .with("status", "active")
        .with("clearance", "high");
    let what = Resource::new()
        .with_set("type", ["ssh", "web"])
        .with("port", "22")
        .with_tag("classification", "secret");
    let explanation = policy.explain_all(&who, &what);
    assert_eq!(explanation.decision(), &policy.authorize(&who, &what));

    let clearance = explanation.rule("clearance").expect("every rule");
    let atom = clearance.who.condition.atoms()[0];
    assert_eq!(atom.seen, Seen::TypeMismatch(Value::from("high")));
    assert_eq!(atom.truth, Truth::Unknown);

    let dba = explanation.rule("dba").expect("every rule");
    let ConditionExplanation::Or { truth, operands } = &dba.what.condition else {
        panic!("an or: {:?}", dba.what.condition);
    };
    assert_eq!(*truth, Truth::Unknown);
    let ConditionExplanation::Atom(not_in) = &operands[0] else {
        panic!("an atom: {:?}", operands[0]);
    };
    assert_eq!(not_in.written, "type not in [rdp, ssh]");
    assert_eq!(not_in.truth, Truth::False);
    assert_eq!(not_in.seen, Seen::Value(Value::set(["ssh", "web"])));
    let ConditionExplanation::Not { truth, operand } = &operands[1] else {
        panic!("a not: {:?}", operands[1]);
    };
    assert_eq!(*truth, Truth::Unknown);
    let ConditionExplanation::Atom(port) = &**operand else {
        panic!("an atom: {operand:?}");
    };
    assert_eq!(port.written, "port >= 1024");
    assert_eq!(port.seen, Seen::TypeMismatch(Value::from("22")));
    assert_eq!(dba.outcome, Outcome::NotApplied);
}

#[test]
fn explain_all_marks_rules_the_index_did_not_choose() {
    let policy = policy();
    let who = cloud_engineer().with("clearance", 5);
    let what = Resource::new().with_tag("env", "cloud");
    let candidates = policy.explain(&who, &what);
    let all = policy.explain_all(&who, &what);
    assert_eq!(all.scope(), Scope::AllRules);
    let ids: Vec<&str> = all.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["cloud", "leavers", "clearance", "dba"]);
    let dba = all.rule("dba").expect("every rule");
    assert!(
        !dba.candidate,
        "a DBA grant is not a candidate for a cloud engineer"
    );
    assert!(candidates.rule("dba").is_none());
    assert_eq!(candidates.deny_overrides(), all.deny_overrides());
}

#[test]
fn written_forms_of_every_atom() {
    let policy = Policy::compile(
        r#"has manager.id and x = 5 and b = true and name ~ "web-*" and level > 2 and level <= 9
            and n < -9223372036854775808 and tag:"k8s.io/cluster" != "prod eu" grants *;"#,
    )
    .expect("compiles");
    let explanation = policy.explain_all(&Identity::new(), &Resource::new());
    let written: Vec<&str> = explanation.rules()[0]
        .who
        .condition
        .atoms()
        .iter()
        .map(|a| a.written.as_str())
        .collect();
    assert_eq!(
        written,
        [
            "has manager.id",
            "x = 5",
            "b = true",
            r#"name ~ "web-*""#,
            "level >= 3",
            "level < 10",
            "n < -9223372036854775808",
            r#"tag:"k8s.io/cluster" != "prod eu""#,
        ]
    );
    let has = explanation.rules()[0].who.condition.atoms()[0];
    assert_eq!((has.truth, &has.seen), (Truth::False, &Seen::Missing));
}

#[test]
fn json_shape() {
    let policy = Policy::compile_sources([(
        "p.tenure",
        "@id(\"leavers\") status != active denies *;\n@id(\"ops\") groups = ops grants tag:env = dev;",
    )])
    .expect("compiles");
    let who = Identity::new().with_set("groups", ["ops"]);
    let what = Resource::new().with_tag("env", "dev");
    let got = policy.explain(&who, &what).to_json();
    let want = json!({
        "decision": "deny",
        "decided_by": "deny",
        "reasons": [{"rule": "leavers", "effect": "deny", "certain": false,
                     "unknown": [{"side": "identity", "attribute": "status", "cause": "missing"}]}],
        "scope": "candidates",
        "rule_count": 2,
        "rules": [
            {"id": "leavers", "index": 0, "effect": "deny", "source": "p.tenure", "line": 1, "column": 1,
             "candidate": true,
             "who": {"truth": "unknown", "condition": {"op": "atom", "truth": "unknown",
                     "written": "status != active", "attribute": "status", "seen": {"kind": "missing"}}},
             "what": {"truth": "true", "condition": {"op": "any", "truth": "true"}},
             "applies": true, "outcome": "by_unknown"},
            {"id": "ops", "index": 1, "effect": "grant", "source": "p.tenure", "line": 2, "column": 1,
             "candidate": true,
             "who": {"truth": "true", "condition": {"op": "atom", "truth": "true",
                     "written": "groups = ops", "attribute": "groups",
                     "seen": {"kind": "value", "type": "set", "value": ["ops"]}}},
             "what": {"truth": "true", "condition": {"op": "atom", "truth": "true",
                     "written": "tag:env = dev", "attribute": "tag:env",
                     "seen": {"kind": "value", "type": "string", "value": "dev"}}},
             "applies": true, "outcome": "certain"},
        ],
        "deny_overrides": {
            "applying_denies": ["leavers"],
            "applying_grants": ["ops"],
            "decided_by": "deny",
            "summary": "deny: the deny leavers applies, and a deny overrides every grant (ops)",
        },
    });
    assert_eq!(got, want, "{got:#}");
}

#[test]
fn text_rendering() {
    let policy = Policy::compile_sources([(
        "p.tenure",
        "@id(\"leavers\") status != active denies *;\n@id(\"ops\") groups = ops and not has contractor grants tag:env = dev;",
    )])
    .expect("compiles");
    let who = Identity::new()
        .with("status", "active")
        .with_set("groups", ["ops"]);
    let what = Resource::new().with_tag("env", "dev");
    let explanation = policy.explain(&who, &what);
    let want = r#"explaining 2 of 2 rules: the index's candidates for this request

rule leavers: deny at p.tenure:1:1
  who is false
    status != active: false (status is "active")
  what is true
    *: true
  does not apply: the who side is false

rule ops: grant at p.tenure:2:1
  who is true
    and: true
      groups = ops: true (groups is ["ops"])
      not: true
        has contractor: false (contractor is missing)
  what is true
    tag:env = dev: true (tag:env is "dev")
  applies: both sides are true

deny overrides
  applying denies: none
  applying grants: ops
  allow: no deny applies, and the grant ops applies

decision: allow by ops
"#;
    assert_eq!(explanation.render_text(), want);
    assert_eq!(explanation.to_string(), want);
}

#[test]
fn an_empty_policy_explains_the_default_deny() {
    let policy = Policy::compile("").expect("compiles");
    let explanation = policy.explain_all(&Identity::new(), &Resource::new());
    assert!(explanation.rules().is_empty());
    assert_eq!(explanation.deny_overrides().decided_by, DecidedBy::Default);
    assert!(explanation.render_text().ends_with(
        "deny: no deny and no grant applies (default deny)\n\ndecision: deny (no rule grants)\n"
    ));
}

fn cases() -> u32 {
    std::env::var("TENURE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// An explanation agrees with the decision it explains: same decision as `authorize`,
    /// the rules it says apply are the decision's reasons (the applying denies when any
    /// apply, else the applying grants), `explain_all` examines every rule in load order,
    /// and `explain` examines a subset with the same results.
    #[test]
    fn explanation_agrees_with_authorize(
        text in policy_text(),
        requests in prop::collection::vec((entity(), entity()), 1..4),
    ) {
        let policy = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        for (identity, r) in requests {
            let resource = Resource::from_json_value(&r.to_json()).expect("same JSON shape");
            let decision = policy.authorize(&identity, &resource);
            let all = policy.explain_all(&identity, &resource);
            let candidates = policy.explain(&identity, &resource);
            let context = format!("policy:\n{text}\nidentity: {identity:?}\nresource: {resource:?}");

            prop_assert_eq!(all.decision(), &decision, "{}", context);
            prop_assert_eq!(candidates.decision(), &decision, "{}", context);
            prop_assert_eq!(all.deny_overrides().decided_by, decision.decided_by(), "{}", context);

            // Every rule, in load order.
            let indices: Vec<usize> = all.rules().iter().map(|r| r.index).collect();
            prop_assert_eq!(indices, (0..policy.len()).collect::<Vec<_>>());
            let ids: Vec<&str> = all.rules().iter().map(|r| r.id.as_str()).collect();
            let policy_ids: Vec<&str> = policy.rules().map(|r| r.id()).collect();
            prop_assert_eq!(ids, policy_ids);

            // The applying rules are the reasons.
            let reasons: Vec<&str> = decision.reason_ids().collect();
            let applying = |e: &tenure::explain::Explanation, effect: Effect| -> Vec<String> {
                e.rules().iter().filter(|r| r.effect == effect && r.applies()).map(|r| r.id.clone()).collect()
            };
            let denies = applying(&all, Effect::Deny);
            let grants = applying(&all, Effect::Grant);
            prop_assert_eq!(&all.deny_overrides().applying_denies, &denies);
            prop_assert_eq!(&all.deny_overrides().applying_grants, &grants);
            let deciding = if denies.is_empty() { &grants } else { &denies };
            prop_assert_eq!(deciding, &reasons, "{}", context);
            prop_assert_eq!(candidates.deny_overrides(), all.deny_overrides(), "{}", context);

            // A deny applies by unknown exactly when its reason lists unknowns.
            for reason in decision.reasons() {
                let rule = &all.rules()[reason.rule_index()];
                prop_assert_eq!(rule.outcome == Outcome::ByUnknown, !reason.is_certain(), "{}", context);
            }

            // Candidates are a subset of all rules, explained identically; what is left
            // out does not apply.
            for rule in candidates.rules() {
                prop_assert!(rule.candidate);
                prop_assert_eq!(rule, &all.rules()[rule.index]);
            }
            for rule in all.rules().iter().filter(|r| !r.candidate) {
                prop_assert!(!rule.applies(), "{} applies but is not a candidate\n{}", rule.id, context);
            }

            // The JSON carries the same decision.
            let json = candidates.to_json();
            prop_assert_eq!(json["decision"].as_str(), Some(if decision.is_allowed() { "allow" } else { "deny" }));
            prop_assert_eq!(json["rules"].as_array().map(Vec::len), Some(candidates.rules().len()));
        }
    }
}
