//! Differential tests: Tenure against `cedar-policy`, through [`tenure::export::to_cedar`].
//!
//! Random policies in the subset Cedar can express are compiled by Tenure and exported to
//! Cedar text; random requests go to both engines, which must return the same decision
//! and the same determining rules (Cedar's `diagnostics().reason()`: the satisfied
//! `forbid`s when a forbid denies, the satisfied `permit`s when allowed, none on a default
//! deny — the same shape as Tenure's reasons).
//!
//! The generated rules are well-typed against a fixed schema, and the requests carry
//! every attribute with its schema type: there Tenure's fail-closed *unknown* and Cedar's
//! errors cannot arise, and both engines are plain two-valued logic. A second property
//! also drops attributes at random: the exporter's `has` guards make Cedar agree with
//! Tenure's three-valued logic on absent attributes too. The by-design differences
//! (absent attributes without guards, type mismatches) are pinned by tests at the end.
//!
//! Now and then the generator writes a mixed-type list (`x in [a, 1]`), which is unknown
//! in Tenure on every unlisted value and which Cedar cannot express: the properties check
//! that the export refuses exactly the policies holding one, with one
//! `tenure::export::mixed_list` problem per such list, and compare decisions on all the
//! others.
//!
//! Case count: `TENURE_DIFF_CASES` (default 10 000 per property).

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity as CEntity, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};

use miette::Diagnostic;
use tenure::export::{to_cedar, to_cedar_with, CedarOptions};
use tenure::{Identity, Policy, Resource, Value};

// ---------------------------------------------------------------------------------------
// The schema: every attribute has one type.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Str,
    Int,
    Bool,
    Set,
    Tag,
}

const IDENTITY_ATTRS: &[(&str, Ty)] = &[
    ("role", Ty::Str),
    ("dept", Ty::Str),
    ("manager.id", Ty::Str),
    ("groups", Ty::Set),
    ("level", Ty::Int),
    ("active", Ty::Bool),
    ("team", Ty::Tag),
];
const RESOURCE_ATTRS: &[(&str, Ty)] = &[
    ("type", Ty::Str),
    ("name", Ty::Str),
    ("port", Ty::Int),
    ("public", Ty::Bool),
    ("owners", Ty::Set),
    ("env", Ty::Tag),
    ("k8s.io/cluster", Ty::Tag),
];
const STRS: &[&str] = &["a", "b", "admin", "prod", "db-1", "", "x*y", "é", "q\"\\"];
const INTS: &[i64] = &[-5, -1, 0, 1, 2, 3, 42, 5432, i64::MAX, i64::MIN + 1];

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn attr_text(name: &str, ty: Ty) -> String {
    if ty == Ty::Tag {
        format!("tag:{}", quote(name))
    } else {
        name.to_string()
    }
}

fn s_str() -> impl Strategy<Value = String> {
    prop::sample::select(STRS).prop_map(quote)
}

fn s_int() -> impl Strategy<Value = i64> {
    prop::sample::select(INTS)
}

/// A glob in Cedar's reach: literal characters (a literal `*` escaped) and `*`.
fn s_glob() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(&["a", "b", "-", "1", "*", "\\*", "é"][..]),
        0..6,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

/// A value of one kind (0 string, 1 integer, 2 boolean), as written in Tenure.
fn s_value_of_kind(kind: usize) -> BoxedStrategy<String> {
    match kind {
        0 => s_str().boxed(),
        1 => s_int().prop_map(|n| n.to_string()).boxed(),
        _ => any::<bool>().prop_map(|b| b.to_string()).boxed(),
    }
}

/// `a in [...]` or `a not in [...]` with values of at least two types, in any order.
fn s_mixed_list(a: String) -> BoxedStrategy<String> {
    (0..3usize, 1..3usize)
        .prop_flat_map(|(first, step)| {
            let second = (first + step) % 3;
            (
                s_value_of_kind(first),
                s_value_of_kind(second),
                prop::collection::vec((0..3usize).prop_flat_map(s_value_of_kind), 0..3),
            )
        })
        .prop_map(|(x, y, mut rest)| {
            rest.push(x);
            rest.push(y);
            rest
        })
        .prop_shuffle()
        .prop_flat_map(move |vs| {
            let a = a.clone();
            any::<bool>().prop_map(move |not| {
                let op = if not { "not in" } else { "in" };
                format!("{a} {op} [{}]", vs.join(", "))
            })
        })
        .boxed()
}

/// An atom, and how many mixed-type lists it holds (0 or 1).
fn s_atom(attrs: &'static [(&'static str, Ty)]) -> BoxedStrategy<(String, usize)> {
    prop::sample::select(attrs)
        .prop_flat_map(|(name, ty)| {
            let a = attr_text(name, ty);
            // One atom in 100 is a mixed list (some 15% of policies hold one).
            let mixed = s_mixed_list(a.clone()).prop_map(|t| (t, 1));
            let well_typed = s_well_typed_atom(a, ty).prop_map(|t| (t, 0));
            prop_oneof![99 => well_typed, 1 => mixed]
        })
        .boxed()
}

fn s_well_typed_atom(a: String, ty: Ty) -> BoxedStrategy<String> {
    let has = Just(format!("has {a}")).boxed();
    let strings = |a: String| {
        prop_oneof![
            s_str().prop_map({
                let a = a.clone();
                move |v| format!("{a} = {v}")
            }),
            s_str().prop_map({
                let a = a.clone();
                move |v| format!("{a} != {v}")
            }),
            prop::collection::vec(s_str(), 1..4).prop_map({
                let a = a.clone();
                move |vs| format!("{a} in [{}]", vs.join(", "))
            }),
            prop::collection::vec(s_str(), 1..4).prop_map({
                let a = a.clone();
                move |vs| format!("{a} not in [{}]", vs.join(", "))
            }),
        ]
        .boxed()
    };
    match ty {
        Ty::Str | Ty::Tag => prop_oneof![
            1 => has,
            4 => strings(a.clone()),
            1 => s_glob().prop_map(move |g| format!("{a} ~ {g}")),
        ]
        .boxed(),
        Ty::Set => prop_oneof![1 => has, 4 => strings(a)].boxed(),
        Ty::Int => prop_oneof![
            1 => has,
            4 => (prop::sample::select(&["=", "!=", "<", "<=", ">", ">="][..]), s_int())
                .prop_map({
                    let a = a.clone();
                    move |(op, n)| format!("{a} {op} {n}")
                }),
            1 => prop::collection::vec(s_int(), 1..4).prop_map(move |ns| format!(
                "{a} in [{}]",
                ns.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            )),
        ]
        .boxed(),
        Ty::Bool => prop_oneof![
            1 => has,
            2 => (any::<bool>(), any::<bool>())
                .prop_map(move |(ne, b)| format!("{a} {} {b}", if ne { "!=" } else { "=" })),
        ]
        .boxed(),
    }
}

/// A condition, and how many mixed-type lists it holds.
fn s_cond(attrs: &'static [(&'static str, Ty)]) -> impl Strategy<Value = (String, usize)> {
    let leaf = s_atom(attrs);
    let join = |sep: &'static str| {
        move |cs: Vec<(String, usize)>| {
            let mixed = cs.iter().map(|(_, m)| m).sum();
            let texts: Vec<String> = cs.into_iter().map(|(c, _)| c).collect();
            (format!("({})", texts.join(sep)), mixed)
        }
    };
    let tree = leaf.prop_recursive(3, 12, 3, move |inner| {
        prop_oneof![
            inner.clone().prop_map(|(c, m)| (format!("not ({c})"), m)),
            prop::collection::vec(inner.clone(), 2..4).prop_map(join(" and ")),
            prop::collection::vec(inner, 2..4).prop_map(join(" or ")),
        ]
    });
    prop_oneof![1 => Just(("*".to_string(), 0)), 5 => tree]
}

/// A policy, and how many mixed-type lists it holds.
fn s_policy() -> impl Strategy<Value = (String, usize)> {
    prop::collection::vec(
        (
            any::<bool>(),
            prop::bool::weighted(0.35),
            s_cond(IDENTITY_ATTRS),
            s_cond(RESOURCE_ATTRS),
        ),
        1..7,
    )
    .prop_map(|rules| {
        let mut mixed = 0;
        let text = rules
            .into_iter()
            .enumerate()
            .map(|(i, (named, deny, (who, m1), (what, m2)))| {
                mixed += m1 + m2;
                let id = if named {
                    format!("@id(\"r{i}\") ")
                } else {
                    String::new()
                };
                let effect = if deny { "denies" } else { "grants" };
                format!("{id}{who} {effect} {what};\n")
            })
            .collect();
        (text, mixed)
    })
}

#[derive(Debug, Clone)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Set(Vec<String>),
}

fn s_value(ty: Ty) -> BoxedStrategy<Val> {
    let raw = || prop::sample::select(STRS).prop_map(str::to_string);
    match ty {
        Ty::Str | Ty::Tag => raw().prop_map(Val::Str).boxed(),
        Ty::Int => s_int().prop_map(Val::Int).boxed(),
        Ty::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Ty::Set => prop::collection::vec(raw(), 0..4)
            .prop_map(Val::Set)
            .boxed(),
    }
}

/// One attribute of a generated entity: name, schema type, value.
type Attr = (&'static str, Ty, Val);

/// An entity's attributes: every one present (`absent` = 0) or each dropped with
/// probability `absent`.
fn s_entity(attrs: &'static [(&'static str, Ty)], absent: f64) -> BoxedStrategy<Vec<Attr>> {
    let parts: Vec<BoxedStrategy<Option<Attr>>> = attrs
        .iter()
        .map(|&(name, ty)| {
            (prop::bool::weighted(absent), s_value(ty))
                .prop_map(move |(drop, v)| if drop { None } else { Some((name, ty, v)) })
                .boxed()
        })
        .collect();
    parts
        .prop_map(|vs| vs.into_iter().flatten().collect())
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Running both engines.

fn tenure_entity<T: serde::de::DeserializeOwned>(attrs: &[Attr]) -> T {
    let mut e = tenure::Identity::new();
    for (name, ty, v) in attrs {
        match (ty, v) {
            (Ty::Tag, Val::Str(s)) => e.set_tag(*name, s.as_str()),
            (_, Val::Str(s)) => e.set(*name, s.as_str()).expect("not `tags`"),
            (_, Val::Int(i)) => e.set(*name, *i).expect("not `tags`"),
            (_, Val::Bool(b)) => e.set(*name, *b).expect("not `tags`"),
            (_, Val::Set(s)) => e
                .set(*name, Value::set(s.iter().cloned()))
                .expect("not `tags`"),
        }
    }
    serde_json::from_value(e.to_json()).expect("same JSON shape")
}

fn cedar_value(v: &Val) -> RestrictedExpression {
    match v {
        Val::Str(s) => RestrictedExpression::new_string(s.clone()),
        Val::Int(i) => RestrictedExpression::new_long(*i),
        Val::Bool(b) => RestrictedExpression::new_bool(*b),
        Val::Set(s) => {
            RestrictedExpression::new_set(s.iter().cloned().map(RestrictedExpression::new_string))
        }
    }
}

fn uid(s: &str) -> EntityUid {
    EntityUid::from_str(s).expect("entity uid")
}

fn cedar_entity(id: &str, attrs: &[Attr]) -> CEntity {
    let plain = attrs
        .iter()
        .filter(|(_, ty, _)| *ty != Ty::Tag)
        .map(|(n, _, v)| ((*n).to_string(), cedar_value(v)));
    let tags = attrs
        .iter()
        .filter(|(_, ty, _)| *ty == Ty::Tag)
        .map(|(n, _, v)| ((*n).to_string(), cedar_value(v)));
    CEntity::new_with_tags(uid(id), plain, [], tags).expect("cedar entity")
}

/// Cedar's answer: (allowed, determining rule ids, number of evaluation errors).
fn cedar_decide(
    cedar_text: &str,
    identity: &[Attr],
    resource: &[Attr],
) -> (bool, BTreeSet<String>, usize) {
    let policies = PolicySet::from_str(cedar_text)
        .unwrap_or_else(|e| panic!("Cedar refuses the export: {e:?}\n{cedar_text}"));
    let entities = Entities::from_entities(
        [
            cedar_entity(r#"Identity::"i""#, identity),
            cedar_entity(r#"Resource::"r""#, resource),
        ],
        None,
    )
    .expect("entities");
    let request = Request::new(
        uid(r#"Identity::"i""#),
        uid(r#"Action::"access""#),
        uid(r#"Resource::"r""#),
        Context::empty(),
        None,
    )
    .expect("request");
    let response = Authorizer::new().is_authorized(&request, &policies, &entities);
    let reasons = response
        .diagnostics()
        .reason()
        .map(|pid| {
            policies
                .annotation(pid, "id")
                .unwrap_or_else(|| panic!("policy {pid} has no @id"))
                .to_string()
        })
        .collect();
    (
        response.decision() == cedar_policy::Decision::Allow,
        reasons,
        response.diagnostics().errors().count(),
    )
}

fn cases() -> u32 {
    std::env::var("TENURE_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn run(absent: f64) {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let options = CedarOptions {
        set_attributes: ["groups".to_string(), "owners".to_string()].into(),
        ..CedarOptions::default()
    };
    let strategy = (
        s_policy(),
        s_entity(IDENTITY_ATTRS, absent),
        s_entity(RESOURCE_ATTRS, absent),
    );
    let (compared, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let result = runner.run(&strategy, |((text, mixed), identity, resource)| {
        let policy =
            Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let exported = to_cedar_with(&policy, &options);
        if mixed > 0 {
            // Refused, with one problem per mixed list and nothing else.
            let Err(e) = exported else {
                return Err(TestCaseError::fail(format!(
                    "a policy with {mixed} mixed list(s) was exported\n{text}"
                )));
            };
            let codes: Vec<String> = e
                .problems()
                .iter()
                .map(|p| p.code().as_str().to_string())
                .collect();
            prop_assert_eq!(
                codes,
                vec!["tenure::export::mixed_list".to_string(); mixed],
                "{}\n{}",
                e,
                text
            );
            refused.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        compared.fetch_add(1, Ordering::Relaxed);
        let cedar_text = exported.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let i: Identity = tenure_entity(&identity);
        let r: Resource = tenure_entity(&resource);
        let decision = policy.authorize(&i, &r);
        let ours: BTreeSet<String> = decision.reason_ids().map(str::to_string).collect();
        let (allowed, theirs, errors) = cedar_decide(&cedar_text, &identity, &resource);
        prop_assert_eq!(
            errors,
            0,
            "Cedar errored on a well-typed request\n{}",
            cedar_text
        );
        prop_assert_eq!(
            decision.is_allowed(),
            allowed,
            "decision differs\n{}\n{}\n{:?}\n{:?}",
            text,
            cedar_text,
            identity,
            resource
        );
        prop_assert_eq!(
            ours,
            theirs,
            "determining rules differ\n{}\n{}\n{:?}\n{:?}",
            text,
            cedar_text,
            identity,
            resource
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (compared, refused) = (compared.into_inner(), refused.into_inner());
    if cases() >= 1_000 {
        // Both branches run, and most cases still compare decisions.
        assert!(
            refused > 0 && compared > 3 * refused,
            "{compared} compared, {refused} refused"
        );
    }
}

/// Every attribute present with its schema type: Tenure == Cedar.
#[test]
fn differential_cedar_all_attributes_present() {
    run(0.0);
}

/// Attributes dropped at random (types still match): with the exporter's `has` guards,
/// Tenure's three-valued logic and Cedar still agree.
#[test]
fn differential_cedar_absent_attributes_guarded() {
    run(0.3);
}

// ---------------------------------------------------------------------------------------
// By-design differences, each pinned by a test.

fn attrs(list: &[Attr]) -> Vec<Attr> {
    list.to_vec()
}

/// An absent attribute in a deny: Tenure's deny applies (unknown, fail closed); Cedar's
/// natural translation errors on the missing attribute and *skips* the forbid, so the
/// permit wins. The exporter's default guards close that gap.
#[test]
fn difference_absent_attribute_in_a_deny() {
    let policy =
        Policy::compile(r#"@id("all") * grants *; @id("leavers") status != active denies *;"#)
            .unwrap();
    let identity: Vec<Attr> = Vec::new(); // no `status`
    let tenure = policy.authorize(&Identity::new(), &Resource::new());
    assert!(!tenure.is_allowed());
    assert_eq!(tenure.reason_ids().collect::<Vec<_>>(), ["leavers"]);
    assert!(!tenure.reasons()[0].is_certain());

    let plain = to_cedar_with(
        &policy,
        &CedarOptions {
            guard_absent: false,
            ..CedarOptions::default()
        },
    )
    .unwrap();
    assert!(
        plain.contains(r#"!(principal.status == "active")"#),
        "{plain}"
    );
    let (allowed, reasons, errors) = cedar_decide(&plain, &identity, &[]);
    assert!(allowed, "Cedar skips the erroring forbid");
    assert_eq!(reasons, BTreeSet::from(["all".to_string()]));
    assert_eq!(errors, 1);

    let guarded = to_cedar(&policy).unwrap();
    let (allowed, reasons, errors) = cedar_decide(&guarded, &identity, &[]);
    assert!(
        !allowed,
        "the guarded export keeps Tenure's fail-closed deny"
    );
    assert_eq!(reasons, BTreeSet::from(["leavers".to_string()]));
    assert_eq!(errors, 0);
}

/// An absent tag in a deny, same story (Cedar's `getTag` errors on a missing tag).
#[test]
fn difference_absent_tag_in_a_deny() {
    let policy =
        Policy::compile(r#"@id("all") * grants *; @id("no-prod") * denies tag:env = prod;"#)
            .unwrap();
    assert!(!policy.is_allowed(&Identity::new(), &Resource::new()));
    let plain = to_cedar_with(
        &policy,
        &CedarOptions {
            guard_absent: false,
            ..CedarOptions::default()
        },
    )
    .unwrap();
    let (allowed, _, errors) = cedar_decide(&plain, &[], &[]);
    assert!(allowed);
    assert_eq!(errors, 1);
    let (allowed, _, _) = cedar_decide(&to_cedar(&policy).unwrap(), &[], &[]);
    assert!(!allowed);
}

/// A type mismatch in an ordering: Tenure's `level < 3` on a string is unknown, so the
/// deny applies; Cedar's `<` on a string is an error and the forbid is skipped, guards or
/// not (Cedar has no run-time type test to guard with).
#[test]
fn difference_type_mismatch_in_an_ordering() {
    let policy =
        Policy::compile(r#"@id("all") * grants *; @id("low") level < 3 denies *;"#).unwrap();
    let identity = attrs(&[("level", Ty::Str, Val::Str("high".into()))]);
    let tenure = policy.authorize(&tenure_entity(&identity), &Resource::new());
    assert!(!tenure.is_allowed());
    assert_eq!(tenure.reason_ids().collect::<Vec<_>>(), ["low"]);
    let (allowed, reasons, errors) = cedar_decide(&to_cedar(&policy).unwrap(), &identity, &[]);
    assert!(allowed, "Cedar skips the erroring forbid");
    assert_eq!(reasons, BTreeSet::from(["all".to_string()]));
    assert_eq!(errors, 1);
}

/// A type mismatch in an equality: Tenure's `port != "80"` on an integer is unknown, so
/// the deny applies; Cedar's `==` across types is simply `false` (no error), so `!=` is
/// true and Cedar's forbid applies too — but in a grant the two differ: Tenure's
/// `port != "80"` grant does not apply (unknown), Cedar's permit does.
#[test]
fn difference_type_mismatch_in_an_equality() {
    let policy = Policy::compile(r#"@id("not-80") * grants port != "80";"#).unwrap();
    let resource = attrs(&[("port", Ty::Int, Val::Int(443))]);
    let r: Resource = tenure_entity(&resource);
    assert!(
        !policy.is_allowed(&Identity::new(), &r),
        "unknown never grants"
    );
    let (allowed, reasons, errors) = cedar_decide(&to_cedar(&policy).unwrap(), &[], &resource);
    assert!(allowed, "Cedar's == across types is false, so != holds");
    assert_eq!(reasons, BTreeSet::from(["not-80".to_string()]));
    assert_eq!(errors, 0);
}

/// A mixed-type list in a deny: Tenure's `role in [admin, 1]` on `role = "b"` is unknown
/// (`role = 1` is a type mismatch), so the deny applies; the Cedar a translation would
/// give, `["admin", 1].contains(principal.role)`, is plain `false` and the permit wins. No
/// guard can tell the types apart, so the exporter refuses such lists.
#[test]
fn difference_mixed_list_is_refused() {
    let policy =
        Policy::compile(r#"@id("all") * grants *; @id("m") role in [admin, 1] denies *;"#).unwrap();
    let identity = attrs(&[("role", Ty::Str, Val::Str("b".into()))]);
    let tenure = policy.authorize(&tenure_entity(&identity), &Resource::new());
    assert!(!tenure.is_allowed());
    assert_eq!(tenure.reason_ids().collect::<Vec<_>>(), ["m"]);
    assert!(!tenure.reasons()[0].is_certain());

    let translated = "@id(\"all\")\npermit (principal, action, resource);\n\
                      @id(\"m\")\nforbid (principal, action, resource)\n\
                      when { !(principal has \"role\") || [\"admin\", 1].contains(principal.role) };\n";
    let (allowed, reasons, errors) = cedar_decide(translated, &identity, &[]);
    assert!(allowed, "Cedar's contains is false, not unknown");
    assert_eq!(reasons, BTreeSet::from(["all".to_string()]));
    assert_eq!(errors, 0);

    let err = to_cedar(&policy).unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    assert_eq!(err.first().rule_id(), "m");
    assert_eq!(err.first().rule_index(), 1);
    assert_eq!(
        err.code().map(|c| c.to_string()).as_deref(),
        Some("tenure::export::mixed_list")
    );
    assert!(err.to_string().contains("`[admin, 1]`"), "{err}");
}

/// Kleene `or` versus Cedar's left-to-right errors, without guards: Tenure's
/// `a = x or b = y` is true when `b = y` holds even if `a` is absent; unguarded Cedar
/// errors on `a` first and skips the permit. (With guards they agree.)
#[test]
fn difference_kleene_or_versus_error_propagation() {
    let policy = Policy::compile(r#"@id("g") role = x or dept = y grants *;"#).unwrap();
    let identity = attrs(&[("dept", Ty::Str, Val::Str("y".into()))]);
    assert!(policy.is_allowed(&tenure_entity(&identity), &Resource::new()));
    let plain = to_cedar_with(
        &policy,
        &CedarOptions {
            guard_absent: false,
            ..CedarOptions::default()
        },
    )
    .unwrap();
    let (allowed, _, errors) = cedar_decide(&plain, &identity, &[]);
    assert!(!allowed);
    assert_eq!(errors, 1);
    let (allowed, _, _) = cedar_decide(&to_cedar(&policy).unwrap(), &identity, &[]);
    assert!(allowed);
}

/// The extreme integers survive the export: Cedar's `Long` is 64-bit too.
#[test]
fn extreme_integers_agree() {
    for (text, level, want) in [
        ("level = -9223372036854775808 grants *;", i64::MIN, true),
        ("level = 9223372036854775807 grants *;", i64::MAX, true),
        ("level < -9223372036854775808 grants *;", i64::MIN, false),
        ("level > 9223372036854775807 grants *;", i64::MAX, false),
        ("level >= -9223372036854775808 grants *;", i64::MIN, true),
        ("level <= 9223372036854775807 grants *;", i64::MAX, true),
    ] {
        let policy = Policy::compile(text).unwrap();
        let identity = vec![("level", Ty::Int, Val::Int(level))];
        assert_eq!(
            policy.is_allowed(&tenure_entity(&identity), &Resource::new()),
            want,
            "{text}"
        );
        let (allowed, _, errors) = cedar_decide(&to_cedar(&policy).unwrap(), &identity, &[]);
        assert_eq!((allowed, errors), (want, 0), "{text}");
    }
}
