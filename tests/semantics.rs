//! Tests of the Rust API around the language: several sources, rule metadata, builders,
//! sharing across threads.
//!
//! The language's semantics — every construct, truth value, decision, reason, unknown
//! attribute and compile error that a policy text and a request determine — are data:
//! `tests/data/cases/`, replayed by `tests/data_driven.rs` (format in
//! `tests/data/cases/README.md`). What stays here needs the Rust API to express:
//! `Policy::compile_sources`, `Policy::rules`, `Policy::source_name`, the builders, `Clone`
//! and `Send`.

use tenure::{ErrorKind, Identity, Policy, Resource, Value};

#[test]
fn rule_ids_count_all_rules_in_load_order() {
    let p = Policy::compile_sources([
        ("a.tenure", "@id(\"first\") * grants *; * grants *;"),
        ("b.tenure", "* grants *;"),
    ])
    .unwrap();
    let ids: Vec<&str> = p.rules().map(|r| r.id()).collect();
    assert_eq!(ids, ["first", "rule-2", "rule-3"]);
    assert_eq!(p.rule("rule-3").map(|r| r.source_name()), Some("b.tenure"));
}

#[test]
fn duplicate_ids_are_errors_across_sources() {
    let e = Policy::compile_sources([
        ("a.tenure", "@id(\"x\") * grants *;"),
        ("b.tenure", "\n@id(\"x\") * grants *;"),
    ])
    .unwrap_err();
    let d = e.first();
    assert_eq!(d.kind(), ErrorKind::DuplicateId);
    assert_eq!(d.source_name(), "b.tenure");
    assert_eq!(d.location().line, 2);
    assert!(d.message().contains("`x`"));
}

#[test]
fn other_annotations_are_kept() {
    let p =
        Policy::compile("@id(\"a\") @owner(\"team-iam\") @ticket(\"SEC-1\") * grants *;").unwrap();
    let rule = p.rule("a").expect("rule a");
    assert_eq!(
        rule.annotations().collect::<Vec<_>>(),
        [("owner", "team-iam"), ("ticket", "SEC-1")]
    );
}

#[test]
fn builders_and_json_agree() {
    let from_json = Identity::from_json(
        r#"{"id": "pamela", "role": "CloudEngineer", "groups": ["b", "a"], "clearance": 3, "active": true, "tags": {"site": "eu"}}"#,
    )
    .unwrap();
    let built = Identity::new()
        .with("id", "pamela")
        .with("role", "CloudEngineer")
        .with_set("groups", ["a", "b"])
        .with("clearance", 3)
        .with("active", true)
        .with_tag("site", "eu");
    assert_eq!(from_json, built);
    assert_eq!(built.get("groups"), Some(&Value::set(["a", "b"])));
    // A built identity decides like its JSON twin (string escapes included).
    let p = Policy::compile(r#"n = "a\"b\\c\n\t\u{e9}" grants *;"#).unwrap();
    let i = Identity::new().with("n", "a\"b\\c\n\t\u{e9}");
    assert!(p.is_allowed(&i, &Resource::new()));
    assert_eq!(
        p.authorize(&i, &Resource::new()),
        p.authorize_linear(&i, &Resource::new())
    );
}

#[test]
fn policies_are_shared_across_threads() {
    let p = Policy::compile("role = a grants *;").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || {
                p.is_allowed(&Identity::new().with("role", "a"), &Resource::new())
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap());
    }
}
