//! Input limits and hostile-but-valid input (issue 4 §3): one test per limit, each at the
//! limit (accepted) and past it (refused with a clear [`ErrorKind::Limit`] or
//! [`tenure::InputError`]), plus inputs that are valid but built to hurt.

use std::time::{Duration, Instant};

use tenure::limits::{MAX_ENTITY_ATTRIBUTES, MAX_ENTITY_JSON_BYTES, MAX_SET_ELEMENTS};
use tenure::{ErrorKind, Identity, Limits, Policy, Resource};

fn limit_error(text: &str, limits: &Limits) -> tenure::Error {
    match Policy::compile_with_limits([("p.tenure", text)], limits) {
        Ok(_) => panic!("accepted past a limit: {:.200}", text),
        Err(e) => {
            assert!(
                e.diagnostics().iter().any(|d| d.kind() == ErrorKind::Limit),
                "expected a limit error, got: {:.500}",
                e.to_string()
            );
            e
        }
    }
}

fn compiles(text: &str, limits: &Limits) -> Policy {
    Policy::compile_with_limits([("p.tenure", text)], limits)
        .unwrap_or_else(|e| panic!("refused: {:.500}", e.to_string()))
}

#[test]
fn default_limit_values_are_the_documented_ones() {
    let l = Limits::default();
    assert_eq!(l.max_policy_bytes, 256 * 1024 * 1024);
    assert_eq!(l.max_rules, 2_000_000);
    assert_eq!(l.max_nesting, 64);
    assert_eq!(l.max_list_len, 10_000);
    assert_eq!(l.max_string_bytes, 65_536);
    assert_eq!(l.max_glob_len, 1024);
    assert_eq!(l.max_annotations, 65_536);
    assert_eq!(MAX_ENTITY_JSON_BYTES, 1024 * 1024);
    assert_eq!(MAX_ENTITY_ATTRIBUTES, 4096);
    assert_eq!(MAX_SET_ELEMENTS, 4096);
}

#[test]
fn policy_text_size() {
    let limits = Limits::default().with_max_policy_bytes(100);
    let at = format!("{}* grants *;", " ".repeat(100 - 11));
    assert_eq!(at.len(), 100);
    compiles(&at, &limits);
    let e = limit_error(&format!(" {at}"), &limits);
    assert!(e.to_string().contains("more than the limit of 100"), "{e}");
    // The total counts over all sources.
    let e = Policy::compile_with_limits([("a", at.as_str()), ("b", "* grants *;")], &limits)
        .unwrap_err();
    assert_eq!(e.first().kind(), ErrorKind::Limit);
}

#[test]
fn rule_count() {
    let limits = Limits::default().with_max_rules(1000);
    compiles(&"* grants *;\n".repeat(1000), &limits);
    let e = limit_error(&"* grants *;\n".repeat(1001), &limits);
    assert!(e.to_string().contains("more than 1000 rules"), "{e}");
    // Across sources too.
    let half = "* grants *;\n".repeat(501);
    let e = Policy::compile_with_limits([("a", half.as_str()), ("b", half.as_str())], &limits)
        .unwrap_err();
    assert_eq!(e.first().kind(), ErrorKind::Limit);
}

#[test]
fn nesting_depth_at_and_past_the_limit() {
    let limits = Limits::default();
    let nested = |n: usize| format!("{}a = b{} grants *;", "(".repeat(n), ")".repeat(n));
    compiles(&nested(64), &limits);
    limit_error(&nested(65), &limits);
    let nots = |n: usize| format!("{}a = b grants *;", "not ".repeat(n));
    compiles(&nots(64), &limits);
    limit_error(&nots(65), &limits);
    // Parentheses and `not`s add up.
    compiles(&format!("{}(a = b) grants *;", "not ".repeat(63)), &limits);
    limit_error(&format!("{}(a = b) grants *;", "not ".repeat(64)), &limits);
}

#[test]
fn hundred_thousand_parentheses_do_not_overflow_the_stack() {
    let text = format!(
        "{}a = b{} grants *;",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let e = limit_error(&text, &Limits::default());
    assert_eq!(
        e.first().location().column,
        65,
        "points at the first paren too deep"
    );
    // Unbalanced, and on the resource side.
    limit_error(
        &format!("* grants {}", "(".repeat(100_000)),
        &Limits::default(),
    );
    // Parentheses right after something the pre-scan could mistake for a comment.
    limit_error(
        &format!(
            "x = a//b and {}a = b{} grants *;",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        &Limits::default(),
    );
    limit_error(
        &format!(
            "x = \"\\\\\" and {}a = b{} grants *;",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        &Limits::default(),
    );
    limit_error(
        &format!("x = a//b grants {}", "(".repeat(100_000)),
        &Limits::default(),
    );
}

#[test]
fn a_megabyte_of_not_is_refused_without_overflow() {
    let text = format!("{}a = b grants *;", "not ".repeat(256 * 1024));
    assert!(text.len() > 1024 * 1024);
    limit_error(&text, &Limits::default());
    // Alternating with parentheses.
    let text = format!(
        "{}a = b{} grants *;",
        "not (".repeat(100_000),
        ")".repeat(100_000)
    );
    limit_error(&text, &Limits::default());
}

#[test]
fn in_list_length() {
    let list = |n: usize| {
        let values: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        format!("role in [{}] grants *;", values.join(", "))
    };
    let p = compiles(&list(10_000), &Limits::default());
    assert!(p.is_allowed(&Identity::new().with("role", "v9999"), &Resource::new()));
    let e = limit_error(&list(10_001), &Limits::default());
    assert!(e.to_string().contains("10001 values"), "{e}");
    let not_in = list(10_001).replace(" in [", " not in [");
    limit_error(&not_in, &Limits::default());
}

#[test]
fn string_length() {
    let n = 65_536;
    compiles(
        &format!("a = \"{}\" grants *;", "x".repeat(n)),
        &Limits::default(),
    );
    limit_error(
        &format!("a = \"{}\" grants *;", "x".repeat(n + 1)),
        &Limits::default(),
    );
    // Bare words, tag keys (bare and quoted), attribute names, annotation values.
    limit_error(
        &format!("a = {} grants *;", "x".repeat(n + 1)),
        &Limits::default(),
    );
    limit_error(
        &format!("tag:{} = x grants *;", "k".repeat(n + 1)),
        &Limits::default(),
    );
    limit_error(
        &format!("tag:\"{}\" = x grants *;", "k".repeat(n + 1)),
        &Limits::default(),
    );
    limit_error(
        &format!("{} = x grants *;", "n".repeat(n + 1)),
        &Limits::default(),
    );
    limit_error(
        &format!("a in [x, \"{}\"] grants *;", "x".repeat(n + 1)),
        &Limits::default(),
    );
}

#[test]
fn annotation_value_length() {
    let n = 65_536;
    compiles(
        &format!("@note(\"{}\") * grants *;", "x".repeat(n)),
        &Limits::default(),
    );
    limit_error(
        &format!("@note(\"{}\") * grants *;", "x".repeat(n + 1)),
        &Limits::default(),
    );
}

#[test]
fn glob_length() {
    compiles(
        &format!("* grants name ~ \"{}\";", "a".repeat(1024)),
        &Limits::default(),
    );
    let e = limit_error(
        &format!("* grants name ~ \"{}\";", "a".repeat(1025)),
        &Limits::default(),
    );
    assert!(e.to_string().contains("1024"), "{e}");
    limit_error(
        &format!("* grants name ~ \"{}\";", "a?".repeat(513)),
        &Limits::default(),
    );
}

/// Times one decision of `glob` against `text`.
fn time_glob(glob: &str, text: &str) -> (bool, Duration) {
    let policy = Policy::compile(&format!("* grants name ~ \"{glob}\";")).unwrap();
    let resource = Resource::new().with("name", text);
    let start = Instant::now();
    let allowed = policy.is_allowed(&Identity::new(), &resource);
    (allowed, start.elapsed())
}

#[test]
fn the_classic_backtracking_glob_is_linear() {
    // `*a*a*a*a*a*b` against a megabyte of `a`: a backtracking matcher takes O(n^6).
    let text = "a".repeat(1024 * 1024);
    let (allowed, took) = time_glob("*a*a*a*a*a*b", &text);
    assert!(!allowed);
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let (allowed, took) = time_glob("*a*a*a*a*a*b", &format!("{text}b"));
    assert!(allowed);
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn hostile_globs_stay_bounded_on_a_megabyte() {
    // Segments with `?`, and long literal segments, cost at most O(text x segment):
    // bounded by the glob-length limit, never exponential.
    let text = "a".repeat(1024 * 1024);
    let long = format!("*{}b*c", "a".repeat(48));
    let worst = format!("*{}b", "a*".repeat(500));
    for glob in ["*a?a?a?a?a?b*", long.as_str(), worst.as_str(), "?*?*?*?*b"] {
        let (allowed, took) = time_glob(glob, &text);
        assert!(!allowed, "{glob}");
        assert!(took < Duration::from_secs(20), "{glob:.40}: took {took:?}");
    }
}

#[test]
fn annotations_per_rule() {
    let limits = Limits::default().with_max_annotations(100);
    compiles(&format!("{}* grants *;", "@n(\"x\") ".repeat(100)), &limits);
    limit_error(&format!("{}* grants *;", "@n(\"x\") ".repeat(101)), &limits);
}

#[test]
fn ten_thousand_annotations_are_fine() {
    let text = format!(
        "{}@id(\"many\") * grants *;",
        (0..10_000)
            .map(|i| format!("@note{i}(\"value {i}\")\n"))
            .collect::<String>()
    );
    let policy = Policy::compile(&text).unwrap();
    let rule = policy.rule("many").unwrap();
    assert_eq!(rule.annotations().len(), 10_000);
    assert_eq!(
        rule.annotations().nth(9_999),
        Some(("note9999", "value 9999"))
    );
}

#[test]
fn json_size() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_ENTITY_JSON_BYTES));
    let e = Identity::from_json(&big).unwrap_err();
    assert!(e.message().contains("larger than"), "{e}");
    let e = Resource::from_json(&big).unwrap_err();
    assert_eq!(e.path(), "resource");
    let fits = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_ENTITY_JSON_BYTES - 20));
    assert!(Identity::from_json(&fits).is_ok());
}

#[test]
fn json_attribute_count() {
    let obj = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("\"a{i}\": {i}")).collect();
        format!("{{{}}}", fields.join(","))
    };
    assert!(Identity::from_json(&obj(MAX_ENTITY_ATTRIBUTES)).is_ok());
    let e = Identity::from_json(&obj(MAX_ENTITY_ATTRIBUTES + 1)).unwrap_err();
    assert!(e.message().contains("4096"), "{e}");
}

#[test]
fn json_set_size() {
    let set = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| format!("\"g{i}\"")).collect();
        format!("{{\"groups\": [{}]}}", items.join(","))
    };
    assert!(Identity::from_json(&set(MAX_SET_ELEMENTS)).is_ok());
    let e = Identity::from_json(&set(MAX_SET_ELEMENTS + 1)).unwrap_err();
    assert_eq!(e.path(), "identity.groups");
}

#[test]
fn json_nesting_depth_is_bounded_by_the_parser() {
    // Deep input is an error, not a stack overflow: the text reader keeps nested values
    // as raw text (skipped without recursion) and refuses them by shape; serde_json's
    // own reader stops at 128 levels.
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let deep = format!(
            "{{\"x\": {}1{}}}",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let e = Identity::from_json(&deep).unwrap_err();
        assert!(e.path().starts_with("identity.x"), "{e}");
        let e = serde_json::from_str::<Identity>(&deep).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
    }
    // Nesting that the parser allows is still refused by shape.
    let e = Identity::from_json(r#"{"x": [["a"]]}"#).unwrap_err();
    assert_eq!(e.path(), "identity.x[0]");
}

// ---------------------------------------------------------------------------------------
// Hostile but valid input.

#[test]
fn unicode_confusables_are_distinct() {
    // Latin `admin` and Cyrillic `аdmin` (U+0430): two ids, two values, no normalisation.
    let policy = Policy::compile(
        "@id(\"admin\") role = admin grants *;\n@id(\"\u{430}dmin\") role = \u{430}dmin denies *;",
    )
    .unwrap();
    assert_eq!(policy.rules().len(), 2);
    let latin = policy.authorize(&Identity::new().with("role", "admin"), &Resource::new());
    assert!(latin.is_allowed());
    let cyrillic = policy.authorize(
        &Identity::new().with("role", "\u{430}dmin"),
        &Resource::new(),
    );
    assert!(!cyrillic.is_allowed());
    assert_eq!(cyrillic.reason_ids().collect::<Vec<_>>(), ["\u{430}dmin"]);
    // Composed and decomposed é are different values; fullwidth letters are not ASCII.
    let policy = Policy::compile("name = \"caf\u{e9}\" grants *;").unwrap();
    assert!(policy.is_allowed(&Identity::new().with("name", "caf\u{e9}"), &Resource::new()));
    assert!(!policy.is_allowed(
        &Identity::new().with("name", "cafe\u{301}"),
        &Resource::new()
    ));
    assert!(!policy.is_allowed(
        &Identity::new().with("name", "\u{ff43}af\u{e9}"),
        &Resource::new()
    ));
    // Right-to-left override and zero-width characters inside values stay exact.
    let policy = Policy::compile("name = \"a\u{202e}b\u{200b}\" grants *;").unwrap();
    assert!(policy.is_allowed(
        &Identity::new().with("name", "a\u{202e}b\u{200b}"),
        &Resource::new()
    ));
    assert!(!policy.is_allowed(&Identity::new().with("name", "ab"), &Resource::new()));
}

#[test]
fn nul_bytes_in_strings() {
    // Escaped and raw NUL inside quotes; both compare exactly.
    let policy =
        Policy::compile("@id(\"n\\0\") name = \"a\\0b\" grants tag:k = \"x\u{0}y\";").unwrap();
    let identity = Identity::new().with("name", "a\0b");
    let resource = Resource::new().with_tag("k", "x\0y");
    let d = policy.authorize(&identity, &resource);
    assert!(d.is_allowed());
    assert_eq!(d.reason_ids().collect::<Vec<_>>(), ["n\0"]);
    assert!(!policy.is_allowed(&Identity::new().with("name", "a"), &resource));
    // From JSON too.
    let identity = Identity::from_json(r#"{"name": "a\u0000b"}"#).unwrap();
    assert!(policy.is_allowed(&identity, &resource));
    // A NUL outside quotes is a syntax error, not a crash.
    let e = Policy::compile("name = a\0b grants *;").unwrap_err();
    assert_eq!(e.first().kind(), ErrorKind::Syntax);
}

#[test]
fn extremely_long_attribute_names() {
    let name = "n".repeat(65_536);
    let policy = Policy::compile(&format!("{name} = x grants tag:\"{name}\" = y;")).unwrap();
    let identity = Identity::new().with(name.as_str(), "x");
    let resource = Resource::new().with_tag(name.as_str(), "y");
    assert!(policy.is_allowed(&identity, &resource));
    let json = format!("{{\"{name}\": \"x\"}}");
    assert!(policy.is_allowed(&Identity::from_json(&json).unwrap(), &resource));
}

#[test]
fn many_rules_and_wide_conditions_are_fine() {
    let wide = (0..5_000)
        .map(|i| format!("a{i} = v"))
        .collect::<Vec<_>>()
        .join(" or ");
    let policy = Policy::compile(&format!("{wide} grants *;")).unwrap();
    assert!(policy.is_allowed(&Identity::new().with("a4999", "v"), &Resource::new()));
    let many = "role = x grants *;\n".repeat(20_000);
    let policy = Policy::compile(&many).unwrap();
    assert_eq!(
        policy
            .authorize(&Identity::new().with("role", "x"), &Resource::new())
            .reasons()
            .len(),
        20_000
    );
}

#[test]
fn malformed_utf8_like_escapes_are_errors() {
    for text in [
        "a = \"\\u{d800}\" grants *;",
        "a = \"\\u{110000}\" grants *;",
        "a = \"\\u{}\" grants *;",
        "a = \"\\q\" grants *;",
        "a = \"unterminated grants *;",
    ] {
        assert!(Policy::compile(text).is_err(), "{text}");
    }
}
