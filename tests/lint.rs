//! Lints: a positive and a negative case per lint, configuration, the project's example
//! policy, and the reasoning lints checked against brute force over small random
//! policies (a finding must be true).

use proptest::prelude::*;
use tenure::lint::{lint, Level, Lint, LintOptions, LINTS};
use tenure::schema::Schema;
use tenure::{DecidedBy, Effect, Identity, Policy, Resource, Value};

fn findings(policy: &str, options: &LintOptions) -> Vec<(String, String)> {
    let policy = Policy::compile(policy).unwrap_or_else(|e| panic!("{e}"));
    lint(&policy, options)
        .iter()
        .map(|f| (f.lint().name.to_string(), f.rule_id().to_string()))
        .collect()
}

/// The lints `lint` reports for `policy` (with a leavers deny appended, so that
/// `leaver-gap` stays out of the way unless the case is about it).
fn lints_of(policy: &str, options: &LintOptions) -> Vec<String> {
    let text = format!("{policy}\n@id(\"leavers\") status != active denies *;");
    findings(&text, options)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

fn schema() -> LintOptions {
    LintOptions::new().with_schema(
        Schema::parse(
            "schema identity { role: enum [DBA, SRE, CloudEngineer]; status: enum [active, inactive] required; \
             clearance: int; department: string required; groups: set; }
             schema resource { type: enum [postgres, mysql, ssh] required; tag:env: enum [dev, prod]; tag:team: string; }",
        )
        .unwrap(),
    )
}

fn has(lints: &[String], name: &str) -> bool {
    lints.iter().any(|l| l == name)
}

#[test]
fn registry_codes_and_names_are_stable_and_unique() {
    let expected = [
        ("L001", "unknown-attribute", Level::Deny),
        ("L002", "unknown-value", Level::Deny),
        ("L003", "type-mismatch", Level::Deny),
        ("L004", "unsatisfiable", Level::Warn),
        ("L005", "redundant-grant", Level::Warn),
        ("L006", "overridden-grant", Level::Warn),
        ("L007", "duplicate-rule", Level::Warn),
        ("L008", "grant-to-everyone", Level::Warn),
        ("L009", "grant-to-everything", Level::Warn),
        ("L010", "glob-without-wildcard", Level::Warn),
        ("L011", "leaver-gap", Level::Deny),
        ("L012", "personal-grant", Level::Warn),
        ("L013", "mover-residue", Level::Warn),
        ("L014", "deny-when-absent", Level::Warn),
    ];
    let got: Vec<(&str, &str, Level)> = LINTS
        .iter()
        .map(|l| (l.code, l.name, l.default_level))
        .collect();
    assert_eq!(got, expected);
    for l in LINTS {
        assert_eq!(Lint::find(l.name), Some(l));
        assert_eq!(Lint::find(l.code), Some(l));
        // Each lint's own bad example triggers it, and its good example does not.
        let explain = l.explain();
        assert!(
            explain.contains(l.bad.lines().last().unwrap()),
            "{}",
            l.name
        );
    }
}

#[test]
fn every_lints_examples_hold() {
    for l in LINTS {
        let (bad_schema, bad) = split_example(l.bad);
        let (good_schema, good) = split_example(l.good);
        let options = |s: Option<&str>| {
            let mut o = match s {
                Some(s) => LintOptions::new().with_schema(Schema::parse(s).unwrap()),
                None => LintOptions::new(),
            };
            if l.name == "mover-residue" {
                o = o.with_mapped_attributes(["department", "email", "groups"]);
            }
            o
        };
        let leavers = if l.name == "leaver-gap" || bad_schema.is_some() {
            ""
        } else {
            "\n@id(\"leavers\") status != active denies *;"
        };
        let bad_found = findings(&format!("{bad}{leavers}"), &options(bad_schema));
        assert!(
            bad_found.iter().any(|(n, _)| n == l.name),
            "{}: bad example not reported: {bad_found:?}",
            l.name
        );
        let good_found = findings(
            &format!("{good}{leavers}"),
            &options(good_schema.or(bad_schema)),
        );
        assert!(
            !good_found.iter().any(|(n, _)| n == l.name),
            "{}: good example reported: {good_found:?}",
            l.name
        );
    }
}

/// An example is a policy, optionally preceded by a schema paragraph.
fn split_example(text: &str) -> (Option<&str>, &str) {
    match text.split_once("\n\n") {
        Some((schema, policy)) if schema.starts_with("schema") => (Some(schema), policy),
        _ => (None, text),
    }
}

#[test]
fn schema_lints() {
    let o = schema();
    assert!(has(
        &lints_of("departmnet = Cloud grants type = ssh;", &o),
        "unknown-attribute"
    ));
    assert!(!has(
        &lints_of("department = Cloud grants type = ssh;", &o),
        "unknown-attribute"
    ));
    assert!(has(
        &lints_of("role = DBS grants type = ssh;", &o),
        "unknown-value"
    ));
    assert!(!has(
        &lints_of("role in [DBA, SRE] grants type = ssh;", &o),
        "unknown-value"
    ));
    assert!(has(
        &lints_of("clearance = high grants type = ssh;", &o),
        "type-mismatch"
    ));
    assert!(has(
        &lints_of("role > 3 grants type = ssh;", &o),
        "type-mismatch"
    ));
    assert!(!has(
        &lints_of("clearance >= 3 grants type = ssh;", &o),
        "type-mismatch"
    ));
    // Without a schema: two types for one attribute, and integers on tags.
    let none = LintOptions::new();
    assert!(has(
        &lints_of("clearance = 3 grants *; clearance = high grants *;", &none),
        "type-mismatch"
    ));
    assert!(has(
        &lints_of("* grants tag:level = 2;", &none),
        "type-mismatch"
    ));
    assert!(has(
        &lints_of("* grants tag:level > 2;", &none),
        "type-mismatch"
    ));
    assert!(!has(
        &lints_of(
            "clearance = 3 grants tag:level = \"2\"; clearance >= 4 grants *;",
            &none
        ),
        "type-mismatch"
    ));
}

#[test]
fn unsatisfiable_knows_sets_and_tags() {
    let none = LintOptions::new();
    assert!(has(
        &lints_of("role = a grants tag:env = a and tag:env = b;", &none),
        "unsatisfiable"
    ));
    assert!(has(
        &lints_of("x < 3 and x > 5 grants type = ssh;", &none),
        "unsatisfiable"
    ));
    // A plain name may hold a set holding both.
    assert!(!has(
        &lints_of("x = a and x = b grants type = ssh;", &none),
        "unsatisfiable"
    ));
    // With a schema declaring a string, it may not.
    assert!(has(
        &lints_of(
            "department = a and department = b grants type = ssh;",
            &schema()
        ),
        "unsatisfiable"
    ));
    // A deny that can only apply through unknowns says so.
    let policy = Policy::compile("role = x denies tag:env = a and tag:env = b;").unwrap();
    let f = lint(&policy, &LintOptions::new());
    assert!(f
        .iter()
        .any(|f| f.lint().name == "unsatisfiable" && f.message().contains("only through unknown")));
}

#[test]
fn redundancy_override_duplicates() {
    let none = LintOptions::new();
    assert!(has(
        &lints_of(
            "role = DBA grants type = postgres; role = DBA grants type in [postgres, mysql];",
            &none
        ),
        "redundant-grant"
    ));
    assert!(!has(
        &lints_of(
            "role = DBA grants type = postgres; role = SRE grants type in [postgres, mysql];",
            &none
        ),
        "redundant-grant"
    ));
    assert!(has(
        &lints_of("role = c grants tag:env = prod; role = c denies *;", &none),
        "overridden-grant"
    ));
    assert!(!has(
        &lints_of(
            "role = c grants tag:env = staging; role = c denies tag:env = prod;",
            &none
        ),
        "overridden-grant"
    ));
    let dup = lints_of(
        "role in [DBA, SRE] grants type = x; role = SRE or role = DBA grants type = x;",
        &none,
    );
    assert!(has(&dup, "duplicate-rule"));
    assert!(
        !has(&dup, "redundant-grant"),
        "duplicates are not also reported as redundant: {dup:?}"
    );
    assert!(!has(
        &lints_of(
            "role in [DBA, SRE] grants type = x; role = SRE grants type = x;",
            &none
        ),
        "duplicate-rule"
    ));
}

#[test]
fn breadth_globs_people_and_residue() {
    let none = LintOptions::new();
    assert!(has(
        &lints_of("* grants type = ssh;", &none),
        "grant-to-everyone"
    ));
    assert!(has(
        &lints_of("has x or not has x grants type = ssh;", &none),
        "grant-to-everyone"
    ));
    assert!(!has(
        &lints_of("role = a grants type = ssh;", &none),
        "grant-to-everyone"
    ));
    assert!(has(
        &lints_of("role = a grants *;", &none),
        "grant-to-everything"
    ));
    assert!(!has(
        &lints_of("role = a grants type = ssh;", &none),
        "grant-to-everything"
    ));
    assert!(!has(
        &lints_of("@allow(\"grant-to-everything\") role = a grants *;", &none),
        "grant-to-everything"
    ));
    assert!(has(
        &lints_of("role = a grants name ~ \"bastion\";", &none),
        "glob-without-wildcard"
    ));
    assert!(!has(
        &lints_of("role = a grants name ~ \"bastion-*\";", &none),
        "glob-without-wildcard"
    ));
    assert!(has(
        &lints_of("email = \"pam@example.com\" grants type = ssh;", &none),
        "personal-grant"
    ));
    assert!(!has(
        &lints_of(
            "email != \"pam@example.com\" and role = a grants type = ssh;",
            &none
        ),
        "personal-grant"
    ));
    let mapped = LintOptions::new().with_mapped_attributes(["department", "groups"]);
    assert!(has(
        &lints_of("badge = gold grants type = ssh;", &mapped),
        "mover-residue"
    ));
    assert!(!has(
        &lints_of("department = Security grants type = ssh;", &mapped),
        "mover-residue"
    ));
    assert!(
        !has(
            &lints_of("badge = gold grants type = ssh;", &none),
            "mover-residue"
        ),
        "no mapping given: not run"
    );
}

#[test]
fn leaver_gap_and_deny_when_absent() {
    let none = LintOptions::new();
    let gap = findings("role = DBA grants type = postgres;", &none);
    assert_eq!(gap, [("leaver-gap".to_string(), "rule-1".to_string())]);
    assert!(findings(
        "role = DBA grants type = postgres; status != active denies *;",
        &none
    )
    .is_empty());
    // A deny that covers only some resources leaves a gap on the others.
    let partial = findings(
        "role = DBA grants type in [postgres, mysql]; status != active denies type = postgres;",
        &none,
    );
    assert!(partial.iter().any(|(n, _)| n == "leaver-gap"));
    // A configurable status attribute.
    let custom = LintOptions::new().with_status("state", "employed");
    assert!(findings(
        "role = DBA grants type = postgres; state != employed denies *;",
        &custom
    )
    .is_empty());
    let o = schema();
    assert!(has(
        &lints_of("department != Finance denies tag:team = finance;", &o),
        "deny-when-absent"
    ));
    assert!(!has(
        &lints_of(
            "department != Finance denies has tag:team and tag:team = finance;",
            &o
        ),
        "deny-when-absent"
    ));
    // `department` is required: not reported.
    assert!(!has(
        &lints_of("department != Finance denies type = ssh;", &o),
        "deny-when-absent"
    ));
    // The status deny itself is never told to use `has`.
    let p = Policy::compile(
        "role = DBA grants type = ssh; clearance < 3 denies *; status != active denies *;",
    )
    .unwrap();
    let f = lint(&p, &o);
    let d = f
        .iter()
        .find(|f| f.lint().name == "deny-when-absent")
        .expect("clearance is optional");
    assert!(d.help().unwrap().contains("has clearance"));
}

#[test]
fn levels_config_and_allow_annotations() {
    let mut options = LintOptions::new();
    options.apply_config("[lint]\nleaver-gap = \"warn\"\nL008 = \"allow\"\n[lifecycle]\nstatus_attribute = \"state\"\n").unwrap();
    let p = Policy::compile("* grants type = ssh;").unwrap();
    let f = lint(&p, &options);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].lint().name, f[0].level()),
        ("leaver-gap", Level::Warn)
    );
    assert!(f[0].message().contains("`state`"));
    let err = options
        .apply_config("[lint]\nno-such-lint = \"warn\"\n")
        .unwrap_err();
    assert_eq!(err.path(), "line 2, column 16");
    assert!(options
        .apply_config("[lint]\nleaver-gap = \"loud\"\n")
        .is_err());
    let silenced = findings(
        "@allow(\"leaver-gap\") role = a grants type = ssh;",
        &LintOptions::new(),
    );
    assert!(silenced.is_empty(), "{silenced:?}");
    let json = lint(
        &Policy::compile("role = a grants type = ssh;").unwrap(),
        &LintOptions::new(),
    )[0]
    .to_json();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "code", "name", "level", "message", "file", "line", "column", "rule", "help",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
}

// --- Brute force ------------------------------------------------------------------------

/// Every identity and resource over a small universe that holds every literal the random
/// policies use, absent and mistyped values, and sets.
fn universe() -> (Vec<Identity>, Vec<Resource>) {
    let roles: Vec<Option<Value>> = vec![
        None,
        Some("a".into()),
        Some("b".into()),
        Some("z".into()),
        Some(Value::Int(1)),
        Some(Value::set(["a", "b"])),
        Some(Value::set(["a", "z"])),
        Some(Value::set(["b", "z"])),
        Some(Value::set(["a", "b", "z"])),
        Some(Value::set(Vec::<String>::new())),
    ];
    let statuses: Vec<Option<Value>> = vec![
        None,
        Some("active".into()),
        Some("inactive".into()),
        Some(Value::Int(0)),
    ];
    let levels: Vec<Option<Value>> = vec![
        None,
        Some(Value::Int(0)),
        Some(Value::Int(2)),
        Some(Value::Int(5)),
        Some("x".into()),
    ];
    let mut identities = Vec::new();
    for r in &roles {
        for s in &statuses {
            for l in &levels {
                let mut i = Identity::new();
                if let Some(v) = r {
                    i.set("role", v.clone()).unwrap();
                }
                if let Some(v) = s {
                    i.set("status", v.clone()).unwrap();
                }
                if let Some(v) = l {
                    i.set("level", v.clone()).unwrap();
                }
                identities.push(i);
            }
        }
    }
    let types: Vec<Option<Value>> = vec![
        None,
        Some("x".into()),
        Some("y".into()),
        Some("w".into()),
        Some(Value::set(["x", "y"])),
    ];
    let envs: Vec<Option<&str>> = vec![None, Some("x"), Some("y"), Some("w")];
    let mut resources = Vec::new();
    for t in &types {
        for e in &envs {
            let mut r = Resource::new();
            if let Some(t) = t {
                r.set("type", t.clone()).unwrap();
            }
            if let Some(e) = e {
                r.set_tag("env", *e);
            }
            resources.push(r);
        }
    }
    (identities, resources)
}

fn atom_strategy(identity: bool) -> BoxedStrategy<String> {
    if identity {
        prop_oneof![
            prop::sample::select(vec!["a", "b", "z"]).prop_map(|v| format!("role = {v}")),
            prop::sample::select(vec!["a", "b"]).prop_map(|v| format!("role != {v}")),
            Just("role in [a, b]".to_string()),
            Just("status = active".to_string()),
            Just("status != active".to_string()),
            prop::sample::select(vec![1i64, 2, 3, 5]).prop_map(|n| format!("level < {n}")),
            prop::sample::select(vec![1i64, 2, 3, 5]).prop_map(|n| format!("level >= {n}")),
            Just("has level".to_string()),
        ]
        .boxed()
    } else {
        prop_oneof![
            prop::sample::select(vec!["x", "y"]).prop_map(|v| format!("type = {v}")),
            prop::sample::select(vec!["x", "y"]).prop_map(|v| format!("tag:env = {v}")),
            Just("tag:env != x".to_string()),
            Just("type in [x, y]".to_string()),
            Just("has tag:env".to_string()),
        ]
        .boxed()
    }
}

fn side_strategy(identity: bool) -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just("*".to_string()),
        4 => prop::collection::vec(atom_strategy(identity), 1..=3).prop_map(|atoms| atoms.join(" and ")),
        2 => (atom_strategy(identity), atom_strategy(identity)).prop_map(|(a, b)| format!("{a} or not ({b})")),
    ]
    .boxed()
}

fn policy_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (side_strategy(true), any::<bool>(), side_strategy(false)),
        1..=5,
    )
    .prop_map(|rules| {
        rules
            .into_iter()
            .map(|(who, deny, what)| {
                format!("{who} {} {what};\n", if deny { "denies" } else { "grants" })
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn reasoning_lints_are_true_by_brute_force(text in policy_strategy()) {
        let policy = Policy::compile(&text).unwrap();
        let (identities, resources) = universe();
        let rules: Vec<_> = policy.rules().collect();
        // Which rules apply (as reasons of a one-rule policy) to each pair.
        let singles: Vec<Policy> = (0..rules.len())
            .map(|r| Policy::compile(&single_rule_text(&text, r)).unwrap())
            .collect();
        let applies = |r: usize, i: &Identity, x: &Resource| {
            let rule = &rules[r];
            let d = singles[r].authorize(i, x);
            match rule.effect() {
                Effect::Grant => d.decided_by() == DecidedBy::Grant,
                Effect::Deny => d.decided_by() == DecidedBy::Deny,
            }
        };
        let mut table = vec![Vec::new(); rules.len()];
        for (r, row) in table.iter_mut().enumerate() {
            for i in &identities {
                for x in &resources {
                    row.push(applies(r, i, x));
                }
            }
        }
        let found = lint(&policy, &LintOptions::new());
        // The other way round: a gap the brute force sees is reported.
        for (r, rule) in rules.iter().enumerate() {
            if rule.effect() != Effect::Grant {
                continue;
            }
            let gap = identities.iter().enumerate().any(|(k, i)| {
                i.get("status") != Some(&Value::from("active"))
                    && resources.iter().enumerate().any(|(m, x)| {
                        table[r][k * resources.len() + m] && policy.authorize(i, x).decided_by() != DecidedBy::Deny
                    })
            });
            let reported = found.iter().any(|f| f.lint().name == "leaver-gap" && f.rule_id() == rule.id());
            prop_assert!(!gap || reported, "{}: a leaver gap of `{}` not reported", text, rule.id());
        }
        for f in found {
            let r = rules.iter().position(|rule| rule.id() == f.rule_id()).unwrap();
            let me = &table[r];
            match f.lint().name {
                "unsatisfiable" if rules[r].effect() == Effect::Grant => {
                    prop_assert!(!me.iter().any(|&a| a), "{}: {f}", text);
                }
                "redundant-grant" => {
                    let covered = (0..rules.len()).any(|o| o != r && rules[o].effect() == Effect::Grant
                        && me.iter().zip(&table[o]).all(|(&a, &b)| !a || b));
                    prop_assert!(covered, "{}: {f}", text);
                }
                "overridden-grant" => {
                    let overridden = (0..rules.len()).any(|o| rules[o].effect() == Effect::Deny
                        && me.iter().zip(&table[o]).all(|(&a, &b)| !a || b));
                    prop_assert!(overridden, "{}: {f}", text);
                }
                "leaver-gap" => {
                    let (i, x) = f.witness().expect("a leaver gap comes with a witness");
                    prop_assert!(i.get("status") != Some(&Value::from("active")));
                    prop_assert!(applies(r, i, x), "{}: {f}", text);
                    prop_assert!(policy.authorize(i, x).decided_by() != DecidedBy::Deny, "{}: {f}", text);
                }
                _ => {}
            }
        }
    }
}

/// The policy text holding only rule `r` (rules are one per line).
fn single_rule_text(text: &str, r: usize) -> String {
    text.lines().nth(r).unwrap_or("").to_string()
}
