//! Regression tests for the foundation issue: the fail-open on unsorted sets, and each
//! hardening fix. Each test names the problem it guards against.

use tenure::{Code, Identity, Limits, Policy, Resource, Set, Value};

// ---------------------------------------------------------------------------------------
// 1. Sets built through the public API are always sorted: no operator fails open.

/// Identities whose `groups` hold `contractors` and `alpha`, built every public way, in
/// an order that is not sorted.
fn identities_with_unsorted_groups() -> Vec<Identity> {
    let unsorted = ["contractors", "alpha", "contractors"];
    vec![
        Identity::new().with("groups", Value::Set(unsorted.into_iter().collect())),
        Identity::new().with("groups", Value::Set(Set::new(unsorted))),
        Identity::new().with("groups", Value::set(unsorted)),
        Identity::new().with("groups", vec!["contractors", "alpha"]),
        Identity::new().with_set("groups", unsorted),
        {
            let mut set = Set::default();
            for g in unsorted {
                set.insert(g);
            }
            Identity::new().with("groups", set)
        },
        Identity::from_json(r#"{"groups": ["contractors", "alpha", "contractors"]}"#).unwrap(),
        serde_json::from_str(r#"{"groups": ["contractors", "alpha"]}"#).unwrap(),
    ]
}

#[test]
fn unsorted_sets_cannot_make_a_deny_miss() {
    // Each policy must deny an identity in `contractors` (the issue's list of operators).
    let denying = [
        "* grants *; groups = contractors denies *;",
        "* grants *; groups in [contractors, zeta] denies *;",
        "* grants *; not (groups != contractors) denies *;",
        "groups != contractors grants *;",
        "groups not in [contractors] grants *;",
        "groups not in [zeta, contractors] grants *;",
    ];
    for text in denying {
        let policy = Policy::compile(text).unwrap();
        for identity in identities_with_unsorted_groups() {
            assert!(
                !policy.is_allowed(&identity, &Resource::new()),
                "{text} allowed {identity:?}"
            );
            assert!(!policy.authorize(&identity, &Resource::new()).is_allowed());
            assert!(!policy.for_identity(&identity).is_allowed(&Resource::new()));
        }
    }
}

#[test]
fn unsorted_sets_cannot_make_a_resource_side_deny_miss() {
    let unsorted = ["contractors", "alpha"];
    let resources = [
        Resource::new().with("owners", Value::Set(unsorted.into_iter().collect())),
        Resource::new().with_set("owners", unsorted),
        Resource::from_json(r#"{"owners": ["contractors", "alpha"]}"#).unwrap(),
    ];
    for text in [
        "* grants *; * denies owners = contractors;",
        "* grants *; * denies owners in [contractors];",
        "* grants owners != contractors;",
        "* grants owners not in [contractors];",
    ] {
        let policy = Policy::compile(text).unwrap();
        for resource in &resources {
            assert!(!policy.is_allowed(&Identity::new(), resource), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Hardening.

#[test]
fn duplicate_json_keys_are_refused_with_their_path() {
    let cases = [
        (
            r#"{"status":"deprovisioned","role":"admin","status":"active"}"#,
            "identity.status",
        ),
        (
            r#"{"tags": {"a": "1"}, "tags": {"b": "2"}}"#,
            "identity.tags",
        ),
        (
            r#"{"tags": {"env": "dev", "env": "prod"}}"#,
            "identity.tags.env",
        ),
    ];
    for (json, path) in cases {
        let e = Identity::from_json(json).unwrap_err();
        assert_eq!((e.code(), e.path()), (Code::DuplicateKey, path), "{json}");
        // Through serde as well.
        assert!(serde_json::from_str::<Identity>(json).is_err(), "{json}");
    }
    let e = tenure::Request::from_json(r#"{"identity": {}, "resource": {}, "resource": {}}"#)
        .unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (Code::DuplicateKey, "request.resource")
    );
}

#[test]
fn json_numbers_are_read_by_the_digits_written() {
    let i = Identity::from_json(r#"{"n": -0}"#).unwrap();
    assert_eq!(i.get("n"), Some(&Value::Int(0)));
    let e = Identity::from_json(r#"{"n": 9.2e18}"#).unwrap_err();
    assert_eq!(e.code(), Code::FloatNumber);
    assert!(e.message().contains("`9.2e18`"), "{e}");
    let e = Identity::from_json(r#"{"n": 18446744073709551616}"#).unwrap_err();
    assert_eq!(e.code(), Code::NumberRange);
    assert!(e.message().contains("`18446744073709551616`"), "{e}");
    let e = Identity::from_json(r#"{"n": 1.0}"#).unwrap_err();
    assert_eq!(e.code(), Code::FloatNumber);
}

#[test]
fn tags_count_against_the_attribute_limit() {
    use tenure::limits::MAX_ENTITY_ATTRIBUTES;
    let half = MAX_ENTITY_ATTRIBUTES / 2;
    let attrs: Vec<String> = (0..half).map(|i| format!("\"a{i}\": 1")).collect();
    let tags: Vec<String> = (0..=half).map(|i| format!("\"t{i}\": \"x\"")).collect();
    let json = format!("{{{}, \"tags\": {{{}}}}}", attrs.join(","), tags.join(","));
    let e = Identity::from_json(&json).unwrap_err();
    assert_eq!(e.code(), Code::InputTooLarge, "{e}");
    let tags: Vec<String> = (0..half).map(|i| format!("\"t{i}\": \"x\"")).collect();
    let json = format!("{{{}, \"tags\": {{{}}}}}", attrs.join(","), tags.join(","));
    assert!(Identity::from_json(&json).is_ok());
}

#[test]
fn the_entity_size_limit_holds_on_every_input_path() {
    use tenure::limits::MAX_ENTITY_JSON_BYTES;
    let big = serde_json::json!({ "name": "x".repeat(MAX_ENTITY_JSON_BYTES) });
    assert_eq!(
        Identity::from_json_value(&big).unwrap_err().code(),
        Code::InputTooLarge
    );
    assert!(serde_json::from_value::<Resource>(big.clone()).is_err());
    let request = serde_json::json!({ "identity": big, "resource": {} }).to_string();
    let e = tenure::Request::from_json(&request).unwrap_err();
    assert_eq!(e.code(), Code::InputTooLarge);
}

#[test]
fn an_attribute_named_tags_is_refused() {
    assert_eq!(
        Identity::new().try_with("tags", "x").unwrap_err().code(),
        Code::ReservedName
    );
    let mut r = Resource::new().with("a", 1);
    assert!(r.set("tags", 1).is_err());
    assert_eq!(r, Resource::new().with("a", 1));
    let built = Identity::new().with("role", "x").with_tag("tags", "y");
    assert_eq!(Identity::from_json_value(&built.to_json()).unwrap(), built);
}

#[test]
#[should_panic(expected = "cannot be named `tags`")]
fn the_infallible_builder_panics_on_tags() {
    let _ = Identity::new().with("tags", "x");
}

#[test]
fn unknowns_are_listed_once_each_over_60000_atoms() {
    // One deny over 60 000 comparisons of 30 000 absent attributes, each named twice:
    // every attribute is reported once, in order. (The size guards the linear
    // de-duplication by run time only; it asserts no time.)
    let n = 60_000;
    let atoms: Vec<String> = (0..n).map(|i| format!("a{} = x", i % (n / 2))).collect();
    let text = format!("{} denies *; * grants *;", atoms.join(" or "));
    let policy = Policy::compile(&text).unwrap();
    let d = policy.authorize(&Identity::new(), &Resource::new());
    assert!(!d.is_allowed());
    let unknowns = d.reasons()[0].unknowns();
    assert_eq!(unknowns.len(), n / 2);
    assert_eq!(unknowns[1].attribute, tenure::Attribute::name("a1"));
}

#[test]
fn many_syntax_errors_are_located_in_one_pass() {
    // 40 000 broken rules on one line: every one is found and located.
    let text = "x = ; ".repeat(40_000);
    let e = Policy::compile(&text).unwrap_err();
    assert_eq!(e.diagnostics().len(), 40_000);
    let last = e.diagnostics().last().unwrap().location();
    assert_eq!((last.line, last.column), (1, 6 * 39_999 + 5));
    let shown = e.to_string();
    assert_eq!(shown.lines().count(), tenure::MAX_DISPLAYED_DIAGNOSTICS + 1);
    assert!(
        shown.ends_with("… and 39900 more problems"),
        "{}",
        &shown[shown.len() - 60..]
    );
}

#[test]
fn a_snippet_shows_a_window_not_the_whole_line() {
    let text = format!("{}x = ;", "y = 1 grants *; ".repeat(10_000));
    let e = Policy::compile(&text).unwrap_err();
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
        .render_report(&mut out, e.first())
        .unwrap();
    assert!(out.contains("x = ;"), "{out}");
    assert!(out.len() < 2_000, "{} bytes for one snippet", out.len());
}

#[test]
fn a_list_at_the_length_limit_compiles_and_matches_its_last_value() {
    // (Guards the linear `in`-list compile by run time only.)
    let values: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
    let text = format!("role in [{}] grants *;", values.join(", "));
    let policy = Policy::compile(&text).unwrap();
    assert!(policy.is_allowed(&Identity::new().with("role", "v9999"), &Resource::new()));
}

#[test]
fn the_nesting_limit_is_clamped_to_a_safe_ceiling() {
    use tenure::limits::MAX_NESTING_CEILING;
    let limits = Limits::default().with_max_nesting(usize::MAX);
    assert_eq!(limits.effective_max_nesting(), MAX_NESTING_CEILING);
    let deep = |n: usize| format!("{}a = b{} grants *;", "(".repeat(n), ")".repeat(n));
    let e =
        Policy::compile_with_limits([("p", deep(MAX_NESTING_CEILING + 1))], &limits).unwrap_err();
    assert_eq!(e.first().code(), Code::TooDeep);
    assert!(
        e.to_string().contains("nested deeper than 256 levels"),
        "{e}"
    );
}

#[test]
fn ceiling_nesting_fits_a_small_stack() {
    use tenure::limits::MAX_NESTING_CEILING;
    // Parse, check, compile and decide at the ceiling on a 2 MiB thread (Rust's default
    // for spawned threads), in whatever build this test runs.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let half = MAX_NESTING_CEILING / 2;
            let who = format!("{}a = b{}", "(not ".repeat(half), ")".repeat(half));
            let text = format!("{who} denies *; * grants *;");
            let limits = Limits::default().with_max_nesting(MAX_NESTING_CEILING);
            let policy = Policy::compile_with_limits([("p", text.as_str())], &limits).unwrap();
            let d = policy.authorize(&Identity::new(), &Resource::new());
            d.is_allowed()
        })
        .unwrap();
    assert!(!handle.join().unwrap(), "the deny applies by unknown");
}
