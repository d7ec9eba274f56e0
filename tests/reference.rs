//! The reference evaluator, and the property test that the compiled index agrees with it.
//!
//! The reference is deliberately naive and independent of the crate's IR and index: it
//! walks the public AST of every rule, in order, for every request, with its own
//! three-valued atom semantics written straight from the spec.

use proptest::prelude::*;
use tenure::unstable::ast::{self, Condition, GlobPiece, Literal, Predicate};
use tenure::{Attribute, DecidedBy, Effect, Identity, Policy, Resource, Side, Value};

/// What the reference evaluator reads of an identity or a resource.
pub trait Entity {
    /// The attribute `name`.
    fn get(&self, name: &str) -> Option<&Value>;
    /// The tag `key`.
    fn tag(&self, key: &str) -> Option<&str>;
}

impl Entity for Identity {
    fn get(&self, name: &str) -> Option<&Value> {
        Identity::get(self, name)
    }
    fn tag(&self, key: &str) -> Option<&str> {
        Identity::tag(self, key)
    }
}

impl Entity for Resource {
    fn get(&self, name: &str) -> Option<&Value> {
        Resource::get(self, name)
    }
    fn tag(&self, key: &str) -> Option<&str> {
        Resource::tag(self, key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    F,
    U,
    Tr,
}

fn not(t: T) -> T {
    match t {
        T::F => T::Tr,
        T::U => T::U,
        T::Tr => T::F,
    }
}

fn and(a: T, b: T) -> T {
    match (a, b) {
        (T::F, _) | (_, T::F) => T::F,
        (T::Tr, T::Tr) => T::Tr,
        _ => T::U,
    }
}

fn or(a: T, b: T) -> T {
    match (a, b) {
        (T::Tr, _) | (_, T::Tr) => T::Tr,
        (T::F, T::F) => T::F,
        _ => T::U,
    }
}

fn b(x: bool) -> T {
    if x {
        T::Tr
    } else {
        T::F
    }
}

/// What an attribute reference resolves to: absent, or a value.
fn lookup(e: &dyn Entity, a: &Attribute) -> Option<Value> {
    match a {
        Attribute::Name(n) => e.get(n).cloned(),
        Attribute::Tag(k) => e.tag(k).map(|s| Value::Str(s.to_string())),
    }
}

fn eq(v: &Value, l: &Literal) -> T {
    match (v, l) {
        (Value::Str(s), Literal::Str(l)) => b(**s == **l),
        (Value::Int(i), Literal::Int(l)) => b(i == l),
        (Value::Bool(x), Literal::Bool(l)) => b(x == l),
        (Value::Set(items), Literal::Str(l)) => b(items.iter().any(|s| *s == **l)),
        _ => T::U,
    }
}

/// Naive recursive glob match over chars.
fn glob(p: &[GlobPiece], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some(GlobPiece::AnyRun) => (0..=t.len()).any(|i| glob(&p[1..], &t[i..])),
        Some(GlobPiece::AnyOne) => !t.is_empty() && glob(&p[1..], &t[1..]),
        Some(GlobPiece::Char(c)) => t.first() == Some(c) && glob(&p[1..], &t[1..]),
    }
}

fn atom(e: &dyn Entity, a: &ast::Atom) -> T {
    let v = lookup(e, &a.attribute);
    if let Predicate::Has = a.predicate {
        return b(v.is_some());
    }
    let Some(v) = v else { return T::U };
    let ord = |f: &dyn Fn(i64) -> bool| match v {
        Value::Int(i) => b(f(i)),
        _ => T::U,
    };
    match &a.predicate {
        Predicate::Has => unreachable!(),
        Predicate::Eq(l) => eq(&v, l),
        Predicate::Ne(l) => not(eq(&v, l)),
        Predicate::In(ls) => ls.iter().fold(T::F, |acc, l| or(acc, eq(&v, l))),
        Predicate::NotIn(ls) => not(ls.iter().fold(T::F, |acc, l| or(acc, eq(&v, l)))),
        Predicate::Like(g) => match &v {
            Value::Str(s) => b(glob(g, &s.chars().collect::<Vec<_>>())),
            Value::Set(items) => b(items
                .iter()
                .any(|s| glob(g, &s.chars().collect::<Vec<_>>()))),
            _ => T::U,
        },
        Predicate::Lt(n) => ord(&|i| i < *n),
        Predicate::Le(n) => ord(&|i| i <= *n),
        Predicate::Gt(n) => ord(&|i| i > *n),
        Predicate::Ge(n) => ord(&|i| i >= *n),
    }
}

fn cond(e: &dyn Entity, c: &Condition) -> T {
    match c {
        Condition::Any(_) => T::Tr,
        Condition::Or(cs, _) => cs.iter().fold(T::F, |acc, c| or(acc, cond(e, c))),
        Condition::And(cs, _) => cs.iter().fold(T::Tr, |acc, c| and(acc, cond(e, c))),
        Condition::Not(c, _) => not(cond(e, c)),
        Condition::Group(c, _) => cond(e, c),
        Condition::Atom(a) => atom(e, a),
    }
}

fn atoms<'a>(c: &'a Condition, out: &mut Vec<&'a ast::Atom>) {
    match c {
        Condition::Any(_) => {}
        Condition::Or(cs, _) | Condition::And(cs, _) => cs.iter().for_each(|c| atoms(c, out)),
        Condition::Not(c, _) | Condition::Group(c, _) => atoms(c, out),
        Condition::Atom(a) => out.push(a),
    }
}

/// A reference reason: rule id, and the unknown attributes (side, attribute, missing?).
pub type RefReason = (String, Vec<(Side, Attribute, bool)>);

/// The reference decision: allowed?, how, reasons.
pub fn reference_decide(
    policy: &ast::Policy,
    identity: &dyn Entity,
    resource: &dyn Entity,
) -> (bool, DecidedBy, Vec<RefReason>) {
    let mut denies = Vec::new();
    let mut grants = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let id = rule
            .annotations
            .iter()
            .find(|a| a.name == "id")
            .map(|a| a.value.clone())
            .unwrap_or_else(|| format!("rule-{}", i + 1));
        let who = cond(identity, &rule.who);
        let what = cond(resource, &rule.what);
        match rule.effect {
            Effect::Grant if who == T::Tr && what == T::Tr => grants.push((id, Vec::new())),
            Effect::Deny if who != T::F && what != T::F => {
                let mut unknowns = Vec::new();
                for (side, c, t, e) in [
                    (Side::Identity, &rule.who, who, identity),
                    (Side::Resource, &rule.what, what, resource),
                ] {
                    if t != T::U {
                        continue;
                    }
                    let mut list = Vec::new();
                    atoms(c, &mut list);
                    for a in list {
                        if atom(e, a) == T::U {
                            let u = (side, a.attribute.clone(), lookup(e, &a.attribute).is_none());
                            if !unknowns.contains(&u) {
                                unknowns.push(u);
                            }
                        }
                    }
                }
                denies.push((id, unknowns));
            }
            _ => {}
        }
    }
    if !denies.is_empty() {
        (false, DecidedBy::Deny, denies)
    } else if !grants.is_empty() {
        (true, DecidedBy::Grant, grants)
    } else {
        (false, DecidedBy::Default, Vec::new())
    }
}

fn compiled_decide(
    policy: &Policy,
    identity: &Identity,
    resource: &Resource,
) -> (bool, DecidedBy, Vec<RefReason>) {
    let d = policy.authorize(identity, resource);
    let reasons = d
        .reasons()
        .iter()
        .map(|r| {
            (
                r.rule_id().to_string(),
                r.unknowns()
                    .iter()
                    .map(|u| {
                        (
                            u.side,
                            u.attribute.clone(),
                            u.cause == tenure::UnknownCause::Missing,
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    (d.is_allowed(), d.decided_by(), reasons)
}

// ---------------------------------------------------------------------------
// Generators. Small vocabularies, so that rules and requests collide often; absent
// attributes, mistyped values, sets (empty too), negations and `*` on both sides.

const NAMES: [&str; 4] = ["role", "dept", "n", "groups"];
const TAGS: [&str; 2] = ["env", "k8s.io/x"];
const STRS: [&str; 4] = ["x", "y", "z", "10"];

fn attribute_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&NAMES[..]).prop_map(str::to_string),
        1 => Just("tag:env".to_string()),
        1 => Just("tag:\"env\"".to_string()),
        1 => Just("tag:\"k8s.io/x\"".to_string()),
    ]
}

fn literal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&STRS[..]).prop_map(str::to_string),
        1 => Just("\"10\"".to_string()),
        2 => (-1i64..3).prop_map(|i| i.to_string()),
        1 => Just("true".to_string()),
        1 => Just("false".to_string()),
    ]
}

fn glob_text() -> impl Strategy<Value = String> {
    prop::sample::select(&["*", "x*", "*y", "?", "x?", "*1*", "\\*", "", "?*z"][..])
        .prop_map(|g| format!("\"{g}\""))
}

fn atom_text() -> impl Strategy<Value = String> {
    let lists = || prop::collection::vec(literal_text(), 1..4).prop_map(|v| v.join(", "));
    prop_oneof![
        3 => (attribute_text(), literal_text()).prop_map(|(a, v)| format!("{a} = {v}")),
        2 => (attribute_text(), literal_text()).prop_map(|(a, v)| format!("{a} != {v}")),
        2 => (attribute_text(), lists()).prop_map(|(a, v)| format!("{a} in [{v}]")),
        1 => (attribute_text(), lists()).prop_map(|(a, v)| format!("{a} not in [{v}]")),
        1 => (attribute_text(), glob_text()).prop_map(|(a, g)| format!("{a} ~ {g}")),
        1 => (attribute_text(), prop::sample::select(&["<", "<=", ">", ">="][..]), -1i64..3)
            .prop_map(|(a, op, n)| format!("{a} {op} {n}")),
        1 => attribute_text().prop_map(|a| format!("has {a}")),
    ]
}

fn condition_text() -> impl Strategy<Value = String> {
    atom_text().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" or "))),
            inner.clone().prop_map(|c| format!("not ({c})")),
            inner.prop_map(|c| format!("not {c}")),
        ]
    })
}

fn side_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_string()),
        6 => condition_text(),
        // Top-level `or` chains without parentheses.
        1 => prop::collection::vec(atom_text(), 2..4).prop_map(|v| v.join(" or ")),
    ]
}

pub(crate) fn rule_text(i: usize) -> impl Strategy<Value = String> {
    (
        side_text(),
        prop::bool::weighted(0.35),
        side_text(),
        prop::bool::weighted(0.5),
    )
        .prop_map(move |(who, deny, what, named)| {
            let effect = if deny { "denies" } else { "grants" };
            let id = if named {
                format!("@id(\"r{i}\") ")
            } else {
                String::new()
            };
            format!("{id}{who} {effect} {what};")
        })
}

pub(crate) fn policy_text() -> impl Strategy<Value = String> {
    (1usize..14).prop_flat_map(|n| {
        (0..n)
            .map(rule_text)
            .collect::<Vec<_>>()
            .prop_map(|rules| rules.join("\n"))
    })
}

fn value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        4 => prop::sample::select(&STRS[..]).prop_map(|s| Some(Value::Str(s.to_string()))),
        2 => (-1i64..3).prop_map(|i| Some(Value::Int(i))),
        1 => any::<bool>().prop_map(|b| Some(Value::Bool(b))),
        2 => prop::collection::vec(prop::sample::select(&STRS[..]), 0..3)
            .prop_map(|v| Some(Value::set(v))),
    ]
}

pub(crate) fn entity() -> impl Strategy<Value = Identity> {
    (
        prop::collection::vec(value(), NAMES.len()),
        prop::collection::vec(
            prop::option::of(prop::sample::select(&STRS[..])),
            TAGS.len(),
        ),
    )
        .prop_map(|(values, tags)| {
            let mut e = Identity::default();
            for (name, v) in NAMES.iter().zip(values) {
                if let Some(v) = v {
                    e.set(*name, v).expect("not `tags`");
                }
            }
            for (key, t) in TAGS.iter().zip(tags) {
                if let Some(t) = t {
                    e.set_tag(*key, t);
                }
            }
            e
        })
}

fn cases() -> u32 {
    std::env::var("TENURE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// The compiled index decides exactly as the reference scan, reasons included.
    #[test]
    fn compiled_equals_reference(
        text in policy_text(),
        requests in prop::collection::vec((entity(), entity()), 1..6),
    ) {
        let ast = tenure::unstable::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let policy = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        for (i, r) in requests {
            let identity = i;
            let resource = Resource::from_json_value(&r.to_json()).expect("same JSON shape");
            let want = reference_decide(&ast, &identity, &resource);
            let got = compiled_decide(&policy, &identity, &resource);
            prop_assert_eq!(&got, &want, "policy:\n{}\nidentity: {:?}\nresource: {:?}", text, identity, resource);
            prop_assert_eq!(policy.is_allowed(&identity, &resource), want.0);
            prop_assert_eq!(policy.authorize_linear(&identity, &resource), policy.authorize(&identity, &resource));
            prop_assert_eq!(policy.for_identity(&identity).authorize(&resource), policy.authorize(&identity, &resource));
        }
    }

    /// Printing a parsed policy and parsing it again gives the same policy.
    #[test]
    fn printed_policy_parses_back(text in policy_text()) {
        let ast = tenure::unstable::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let printed = ast.to_string();
        let again = tenure::unstable::parse(&printed).map_err(|e| TestCaseError::fail(format!("{e}\n{printed}")))?;
        prop_assert_eq!(printed, again.to_string());
    }
}
