//! Tests: every construct and semantic rule of the language (issue 2), one at a time.

use tenure::{DecidedBy, ErrorKind, Identity, Policy, Resource, UnknownCause, Value};

fn policy(text: &str) -> Policy {
    Policy::compile(text).unwrap_or_else(|e| panic!("policy failed to compile: {e}\n{text}"))
}

fn id(json: &str) -> Identity {
    Identity::from_json(json).expect("identity json")
}

fn res(json: &str) -> Resource {
    Resource::from_json(json).expect("resource json")
}

/// (allowed, reason ids)
fn decide(p: &Policy, i: &Identity, r: &Resource) -> (bool, Vec<String>) {
    let d = p.authorize(i, r);
    assert_eq!(
        d.is_allowed(),
        p.is_allowed(i, r),
        "is_allowed disagrees with authorize"
    );
    assert_eq!(
        d,
        p.authorize_linear(i, r),
        "index disagrees with linear scan"
    );
    (d.is_allowed(), d.reason_ids().map(str::to_string).collect())
}

/// Allowed under `WHO grants *` for an identity, i.e. the WHO side is certainly true.
fn who_true(cond: &str, identity: &str) -> bool {
    let p = policy(&format!("{cond} grants *;"));
    decide(&p, &id(identity), &Resource::new()).0
}

/// Denied under `WHO denies *; * grants *` — the WHO side is true or unknown.
fn who_not_false(cond: &str, identity: &str) -> bool {
    let p = policy(&format!("{cond} denies *; * grants *;"));
    !decide(&p, &id(identity), &Resource::new()).0
}

/// The truth value of a condition on an identity: "true", "false" or "unknown".
fn truth(cond: &str, identity: &str) -> &'static str {
    match (who_true(cond, identity), who_not_false(cond, identity)) {
        (true, true) => "true",
        (false, true) => "unknown",
        (false, false) => "false",
        (true, false) => panic!("true but false: {cond} on {identity}"),
    }
}

#[test]
fn spec_example_policy_compiles_and_decides() {
    let p = policy(
        r#"
        @id("devops-staging")
        role = DevOpsEngineer grants tag:env in [dev, staging] and type != rdp;

        @id("cloud")
        role = CloudEngineer and department = Cloud grants tag:env = cloud;

        @id("dba-no-prod")
        role = DBA grants type in [postgres, mysql] and not (tag:env = prod);

        @id("admins")
        groups = okta-admins grants *;

        @id("leavers")
        status != active denies *;

        @id("clearance")
        clearance < 3 denies tag:classification = secret;

        @id("named-hosts")
        * grants name ~ "bastion-*";
        "#,
    );
    let pamela = id(
        r#"{"id": "pamela", "role": "CloudEngineer", "department": "Cloud", "status": "active", "groups": ["okta-cloud", "everyone"], "clearance": 3}"#,
    );
    let cloud =
        res(r#"{"id": "vm-1", "type": "ssh", "name": "cloud-1", "tags": {"env": "cloud"}}"#);
    assert_eq!(decide(&p, &pamela, &cloud), (true, vec!["cloud".into()]));
    let prod_db = res(
        r#"{"id": "db-17", "type": "postgres", "name": "orders-prod", "tags": {"env": "prod", "team": "payments"}, "port": 5432}"#,
    );
    assert_eq!(decide(&p, &pamela, &prod_db), (false, vec![]));
    let bastion = res(r#"{"type": "ssh", "name": "bastion-eu"}"#);
    assert_eq!(
        decide(&p, &pamela, &bastion),
        (true, vec!["named-hosts".into()])
    );
    // Leaver: every applying deny is listed; `clearance` is absent on the secret host.
    let leaver = id(r#"{"role": "CloudEngineer", "department": "Cloud", "status": "inactive"}"#);
    let secret =
        res(r#"{"name": "bastion-x", "tags": {"env": "cloud", "classification": "secret"}}"#);
    let d = p.authorize(&leaver, &secret);
    assert!(!d.is_allowed());
    assert_eq!(d.decided_by(), DecidedBy::Deny);
    assert_eq!(d.reason_ids().collect::<Vec<_>>(), ["leavers", "clearance"]);
    assert!(d.reasons()[0].is_certain());
    assert!(!d.reasons()[1].is_certain());
    assert_eq!(d.reasons()[1].unknowns()[0].cause, UnknownCause::Missing);
    // Admins reach everything.
    let admin = id(r#"{"status": "active", "groups": ["okta-admins"], "clearance": 5}"#);
    assert_eq!(decide(&p, &admin, &prod_db), (true, vec!["admins".into()]));
}

#[test]
fn default_deny_and_empty_policies() {
    for text in ["", "   ", "# only a comment\n// another\n"] {
        let p = policy(text);
        let d = p.authorize(&Identity::new(), &Resource::new());
        assert!(!d.is_allowed());
        assert_eq!(d.decided_by(), DecidedBy::Default);
        assert!(d.reasons().is_empty());
    }
    let p = policy("role = a grants *;");
    assert_eq!(
        decide(&p, &id(r#"{"role": "b"}"#), &Resource::new()),
        (false, vec![])
    );
}

#[test]
fn deny_overrides_grant_and_reasons_are_in_load_order() {
    let p = policy(
        r#"@id("g2") * grants *; @id("d1") role = x denies *; @id("g1") role = x grants *; @id("d0") * denies tag:env = prod;"#,
    );
    let x = id(r#"{"role": "x"}"#);
    let dev = res(r#"{"tags": {"env": "dev"}}"#);
    assert_eq!(decide(&p, &x, &dev), (false, vec!["d1".into()]));
    // Without an env tag, `d0` applies by unknown too.
    assert_eq!(
        decide(&p, &x, &Resource::new()),
        (false, vec!["d1".into(), "d0".into()])
    );
    let prod = res(r#"{"tags": {"env": "prod"}}"#);
    assert_eq!(
        decide(&p, &x, &prod),
        (false, vec!["d1".into(), "d0".into()])
    );
    let y = id(r#"{"role": "y"}"#);
    assert_eq!(decide(&p, &y, &dev), (true, vec!["g2".into()]));
    let p = policy("@id(\"b\") * grants *; @id(\"a\") * grants *;");
    assert_eq!(
        decide(&p, &Identity::new(), &Resource::new()),
        (true, vec!["b".into(), "a".into()])
    );
}

#[test]
fn rule_ids_count_all_rules_in_load_order() {
    let p = Policy::compile_sources([
        ("a.tenure", "@id(\"first\") * grants *; * grants *;"),
        ("b.tenure", "* grants *;"),
    ])
    .unwrap();
    let ids: Vec<&str> = p.rules().iter().map(|r| r.id.as_ref()).collect();
    assert_eq!(ids, ["first", "rule-2", "rule-3"]);
    assert_eq!(p.source_name(&p.rules()[2]), "b.tenure");
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
    // An explicit id that collides with a generated one.
    let e = Policy::compile("@id(\"rule-2\") * grants *; * grants *;").unwrap_err();
    assert_eq!(e.first().kind(), ErrorKind::DuplicateId);
    // Two @id on one rule, and an empty @id.
    assert!(Policy::compile("@id(\"a\") @id(\"b\") * grants *;").is_err());
    assert!(Policy::compile("@id(\"\") * grants *;").is_err());
}

#[test]
fn other_annotations_are_kept() {
    let p = policy("@id(\"a\") @owner(\"team-iam\") @ticket(\"SEC-1\") * grants *;");
    assert_eq!(
        p.rules()[0].annotations,
        vec![
            ("owner".to_string(), "team-iam".to_string()),
            ("ticket".to_string(), "SEC-1".to_string())
        ]
    );
}

#[test]
fn equality_and_inequality() {
    assert_eq!(truth("role = a", r#"{"role": "a"}"#), "true");
    assert_eq!(truth("role = a", r#"{"role": "b"}"#), "false");
    assert_eq!(truth("role = a", r#"{}"#), "unknown");
    assert_eq!(truth("role != a", r#"{"role": "b"}"#), "true");
    assert_eq!(truth("role != a", r#"{"role": "a"}"#), "false");
    assert_eq!(truth("role != a", r#"{}"#), "unknown");
    // Case-sensitive, exact.
    assert_eq!(truth("role = Admin", r#"{"role": "admin"}"#), "false");
    // Quoted and bare words are the same string.
    assert_eq!(truth("role = \"a-b.c\"", r#"{"role": "a-b.c"}"#), "true");
    assert_eq!(truth("ip = 10.0.0.1", r#"{"ip": "10.0.0.1"}"#), "true");
}

#[test]
fn type_mismatches_are_unknown() {
    assert_eq!(truth("n = 42", r#"{"n": 42}"#), "true");
    assert_eq!(truth("n = 42", r#"{"n": "42"}"#), "unknown");
    assert_eq!(truth("n = \"42\"", r#"{"n": 42}"#), "unknown");
    assert_eq!(truth("n != 42", r#"{"n": "42"}"#), "unknown");
    assert_eq!(truth("n = true", r#"{"n": true}"#), "true");
    assert_eq!(truth("n = true", r#"{"n": "true"}"#), "unknown");
    assert_eq!(truth("n = true-ish", r#"{"n": "true-ish"}"#), "true");
    assert_eq!(truth("n = 12abc", r#"{"n": "12abc"}"#), "true");
    assert_eq!(truth("n < 3", r#"{"n": "2"}"#), "unknown");
    assert_eq!(truth("n < 3", r#"{"n": ["a"]}"#), "unknown");
    assert_eq!(truth("n < 3", r#"{"n": []}"#), "unknown");
    assert_eq!(truth("n ~ \"*\"", r#"{"n": 1}"#), "unknown");
    assert_eq!(truth("n ~ \"*\"", r#"{"n": false}"#), "unknown");
}

#[test]
fn in_and_not_in() {
    assert_eq!(truth("r in [a, b]", r#"{"r": "b"}"#), "true");
    assert_eq!(truth("r in [a, b]", r#"{"r": "c"}"#), "false");
    assert_eq!(truth("r in [a, b]", r#"{}"#), "unknown");
    assert_eq!(truth("r not in [a, b]", r#"{"r": "c"}"#), "true");
    assert_eq!(truth("r not in [a, b]", r#"{"r": "a"}"#), "false");
    assert_eq!(truth("r not in [a, b]", r#"{}"#), "unknown");
    // Mixed-type lists: `in` is an `or` of equalities, so a mismatch can make it unknown.
    assert_eq!(truth("r in [3, x]", r#"{"r": "x"}"#), "true");
    assert_eq!(truth("r in [3, x]", r#"{"r": 3}"#), "true");
    assert_eq!(truth("r in [3, x]", r#"{"r": "y"}"#), "unknown");
    assert_eq!(truth("r not in [3, x]", r#"{"r": "y"}"#), "unknown");
    assert_eq!(truth("r in [1, 2]", r#"{"r": 3}"#), "false");
    // Trailing comma.
    assert_eq!(truth("r in [a, b,]", r#"{"r": "b"}"#), "true");
}

#[test]
fn sets_match_any_element() {
    let g = r#"{"groups": ["admins", "everyone"]}"#;
    assert_eq!(truth("groups = admins", g), "true");
    assert_eq!(truth("groups = ops", g), "false");
    assert_eq!(truth("groups != admins", g), "false");
    assert_eq!(truth("groups != ops", g), "true");
    assert_eq!(truth("groups in [ops, admins]", g), "true");
    assert_eq!(truth("groups not in [ops, admins]", g), "false");
    assert_eq!(truth("groups not in [ops, dev]", g), "true");
    assert_eq!(truth("groups ~ \"adm*\"", g), "true");
    assert_eq!(truth("groups ~ \"x*\"", g), "false");
    // Sets hold strings: integers, booleans and orderings are unknown.
    assert_eq!(truth("groups = 1", g), "unknown");
    assert_eq!(truth("groups = true", g), "unknown");
    assert_eq!(truth("groups > 1", g), "unknown");
    // The empty set is present.
    let empty = r#"{"groups": []}"#;
    assert_eq!(truth("has groups", empty), "true");
    assert_eq!(truth("groups = admins", empty), "false");
    assert_eq!(truth("groups in [a, b]", empty), "false");
    assert_eq!(truth("groups ~ \"*\"", empty), "false");
    assert_eq!(truth("groups != admins", empty), "true");
    assert_eq!(truth("groups not in [a]", empty), "true");
    assert_eq!(truth("groups = 1", empty), "unknown");
}

#[test]
fn orderings() {
    for (cond, n, want) in [
        ("c < 3", 2, "true"),
        ("c < 3", 3, "false"),
        ("c <= 3", 3, "true"),
        ("c > 3", 3, "false"),
        ("c > 3", 4, "true"),
        ("c >= 3", 3, "true"),
        ("c >= -3", -4, "false"),
        ("c < -9223372036854775808", i64::MIN, "false"),
        ("c > 9223372036854775807", i64::MAX, "false"),
    ] {
        assert_eq!(
            truth(cond, &format!(r#"{{"c": {n}}}"#)),
            want,
            "{cond} with {n}"
        );
    }
    assert_eq!(truth("c < 3", "{}"), "unknown");
    // Orderings take integers only.
    for bad in ["c < abc", "c < \"3\"", "c < 3.5", "c < true", "c < 12abc"] {
        let e = Policy::compile(&format!("{bad} grants *;")).unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Syntax, "{bad}");
    }
}

#[test]
fn globs() {
    for (glob, value, want) in [
        ("bastion-*", "bastion-eu-1", "true"),
        ("bastion-*", "my-bastion-1", "false"),
        ("*", "", "true"),
        ("*", "a/b\nc", "true"),
        ("a?c", "abc", "true"),
        ("a?c", "aéc", "true"),
        ("a?c", "abbc", "false"),
        ("a\\*", "a*", "true"),
        ("a\\*", "ab", "false"),
        ("a\\?", "a?", "true"),
        ("a\\?", "ab", "false"),
        ("*.prod.*", "db.prod.eu", "true"),
        ("Bastion", "bastion", "false"),
    ] {
        let cond = format!("name ~ \"{glob}\"");
        let identity = serde_json::json!({ "name": value }).to_string();
        assert_eq!(truth(&cond, &identity), want, "{glob} ~ {value:?}");
    }
    assert_eq!(truth("name ~ \"*\"", "{}"), "unknown");
}

#[test]
fn has_is_never_unknown() {
    assert_eq!(truth("has role", r#"{"role": "a"}"#), "true");
    assert_eq!(truth("has role", r#"{}"#), "false");
    assert_eq!(truth("has role", r#"{"role": null}"#), "false");
    assert_eq!(truth("not has role", r#"{}"#), "true");
    assert_eq!(truth("has tag:env", r#"{"tags": {"env": "x"}}"#), "true");
}

#[test]
fn kleene_connectives() {
    let u = r#"{"a": "1"}"#; // b absent: `b = x` unknown; `a = 1` is a string "1" → `a = "1"` true.
    assert_eq!(truth("a = \"1\" and b = x", u), "unknown");
    assert_eq!(truth("a = \"2\" and b = x", u), "false");
    assert_eq!(truth("a = \"1\" or b = x", u), "true");
    assert_eq!(truth("a = \"2\" or b = x", u), "unknown");
    assert_eq!(truth("not b = x", u), "unknown");
    assert_eq!(truth("not not a = \"1\"", u), "true");
    // Precedence: or loosest, then and, then not.
    assert_eq!(truth("a = \"2\" and b = x or a = \"1\"", u), "true");
    assert_eq!(truth("a = \"2\" and (b = x or a = \"1\")", u), "false");
    assert_eq!(truth("not a = \"1\" or a = \"1\"", u), "true");
    assert_eq!(truth("not (a = \"1\" or a = \"1\")", u), "false");
    // Explicit opt-out of fail-closed: `has x and x = v`.
    assert_eq!(truth("has b and b = x", u), "false");
}

#[test]
fn absent_attributes_never_grant_but_deny_on_both_sides() {
    let p = policy("@id(\"g\") * grants tag:env = dev; @id(\"d\") * denies tag:env = prod;");
    let i = Identity::new();
    assert_eq!(
        decide(&p, &i, &res(r#"{"tags": {"env": "dev"}}"#)),
        (true, vec!["g".into()])
    );
    // No env tag: the grant cannot apply; the deny applies by unknown.
    let d = p.authorize(&i, &Resource::new());
    assert_eq!(d.reason_ids().collect::<Vec<_>>(), ["d"]);
    assert!(!d.reasons()[0].is_certain());
    let u = &d.reasons()[0].unknowns()[0];
    assert_eq!(u.side, tenure::Side::Resource);
    assert_eq!(u.attribute, tenure::Attribute::tag("env"));
    assert_eq!(u.cause, UnknownCause::Missing);
    // Mistyped on the identity side.
    let p = policy("@id(\"d\") clearance < 3 denies *; * grants *;");
    let d = p.authorize(&id(r#"{"clearance": "high"}"#), &Resource::new());
    assert_eq!(d.reason_ids().collect::<Vec<_>>(), ["d"]);
    assert_eq!(
        d.reasons()[0].unknowns()[0].cause,
        UnknownCause::TypeMismatch
    );
    let d = p.authorize(&id(r#"{"clearance": 5}"#), &Resource::new());
    assert!(d.is_allowed());
}

#[test]
fn tags_work_on_both_sides_and_quoted_keys_are_the_same() {
    let p = policy("tag:team = payments grants tag:\"team\" = payments;");
    let i = id(r#"{"tags": {"team": "payments"}}"#);
    assert!(decide(&p, &i, &res(r#"{"tags": {"team": "payments"}}"#)).0);
    assert!(!decide(&p, &i, &res(r#"{"tags": {"team": "search"}}"#)).0);
    let p = policy("* grants tag:\"k8s.io/cluster\" = eu-1;");
    assert!(
        decide(
            &p,
            &Identity::new(),
            &res(r#"{"tags": {"k8s.io/cluster": "eu-1"}}"#)
        )
        .0
    );
    // A plain attribute named like a tag key is not the tag.
    assert!(!decide(&p, &Identity::new(), &res(r#"{"k8s.io/cluster": "eu-1"}"#)).0);
}

#[test]
fn names_with_keyword_prefixes_and_dotted_names() {
    let p = policy("notes = a and order = b and grantsx = c and manager.id = m-1 and cost_center = 42 grants *;");
    let i = id(
        r#"{"notes": "a", "order": "b", "grantsx": "c", "manager.id": "m-1", "cost_center": 42}"#,
    );
    assert!(decide(&p, &i, &Resource::new()).0);
}

#[test]
fn string_escapes() {
    let p = policy(r#"n = "a\"b\\c\n\t\u{e9}" grants *;"#);
    let i = Identity::new().with("n", "a\"b\\c\n\t\u{e9}");
    assert!(decide(&p, &i, &Resource::new()).0);
    assert!(Policy::compile(r#"n = "\u{110000}" grants *;"#).is_err());
    let e = Policy::compile(r#"n = "ab\q" grants *;"#).unwrap_err();
    assert_eq!(e.first().location().column, 8, "{e}");
    assert!(e.first().message().contains("unknown escape `\\q`"), "{e}");
    let e = Policy::compile(r#"n = "a\*" grants *;"#).unwrap_err();
    assert!(e.first().message().contains("unknown escape"), "{e}");
    let e = Policy::compile(r#"n ~ "a\*" grants *;"#);
    assert!(e.is_ok());
    let e = Policy::compile("n = \"abc grants *;").unwrap_err();
    assert!(e.first().message().contains("unterminated string"), "{e}");
    let e = Policy::compile("n == a grants *;").unwrap_err();
    assert!(
        e.first().help_text().unwrap_or("").contains("single `=`"),
        "{e:?}"
    );
    let e = Policy::compile("n => 3 grants *;").unwrap_err();
    assert!(
        e.first().help_text().unwrap_or("").contains("`>=`"),
        "{e:?}"
    );
}

#[test]
fn integers_are_64_bit() {
    assert_eq!(
        truth("n = 9223372036854775807", r#"{"n": 9223372036854775807}"#),
        "true"
    );
    assert_eq!(
        truth("n = -9223372036854775808", r#"{"n": -9223372036854775808}"#),
        "true"
    );
    let e = Policy::compile("n = 9223372036854775808 grants *;").unwrap_err();
    assert_eq!(e.first().kind(), ErrorKind::Value);
}

#[test]
fn parse_errors_have_line_column_and_expectation() {
    let cases = [
        ("role = a grants *", 1, 18, "`;`"),
        ("role == a grants *;", 1, 7, "a value"),
        ("role = a permits *;", 1, 10, "`grants`, `denies`"),
        ("\n\n  role in [] grants *;", 3, 12, "a value"),
        ("role = a and grants *;", 1, 14, "a condition"),
        ("@id(x) * grants *;", 1, 5, "a quoted string"),
        ("not = a grants *;", 1, 5, "a condition"),
    ];
    for (text, line, column, expected) in cases {
        let e = Policy::compile(text).unwrap_err();
        let d = e.first();
        assert_eq!(d.kind(), ErrorKind::Syntax, "{text}");
        assert_eq!(
            (d.location().line, d.location().column),
            (line, column),
            "{text}: {d}"
        );
        assert!(d.message().contains(expected), "{text}: {}", d.message());
        assert!(
            e.to_string()
                .starts_with(&format!("<policy>:{line}:{column}:")),
            "{e}"
        );
    }
}

#[test]
fn all_value_errors_are_reported() {
    let e =
        Policy::compile("a = 99999999999999999999 grants *;\nb = 99999999999999999999 grants *;")
            .unwrap_err();
    assert_eq!(e.diagnostics().len(), 2);
    assert_eq!(e.diagnostics()[1].location().line, 2);
}

#[test]
fn builders_and_json_agree() {
    let from_json = id(
        r#"{"id": "pamela", "role": "CloudEngineer", "groups": ["b", "a"], "clearance": 3, "active": true, "tags": {"site": "eu"}}"#,
    );
    let built = Identity::new()
        .with("id", "pamela")
        .with("role", "CloudEngineer")
        .with_set("groups", ["a", "b"])
        .with("clearance", 3)
        .with("active", true)
        .with_tag("site", "eu");
    assert_eq!(from_json, built);
    assert_eq!(built.get("groups"), Some(&Value::set(["a", "b"])));
}

#[test]
fn policies_are_shared_across_threads() {
    let p = policy("role = a grants *;");
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
