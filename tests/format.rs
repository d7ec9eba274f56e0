//! The formatter (`tenure::format`): the canonical style on examples with comments in
//! every position, and the property that formatting is idempotent, keeps every comment
//! and keeps the checked rules (so every decision) of the policy it formats.

use proptest::prelude::*;
use tenure::format::{comments, format, format_source, MAX_WIDTH};
use tenure::Policy;

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(f) => f,
        Err(e) => panic!("does not format: {e}\n{text}"),
    }
}

/// Formats `text`, checks that the result is `expected`, formats again without change, and
/// compiles to the same checked rules as `text`.
#[track_caller]
fn assert_formats_to(text: &str, expected: &str) {
    let f = formatted(text);
    assert_eq!(f, expected, "--- source\n{text}");
    assert_eq!(formatted(&f), f, "not idempotent");
    assert_same_rules(text, &f);
    assert_eq!(
        comments(text).expect("parses"),
        comments(&f).expect("parses")
    );
}

#[track_caller]
fn assert_same_rules(original: &str, formatted: &str) {
    let (Ok(a), Ok(b)) = (Policy::compile(original), Policy::compile(formatted)) else {
        panic!("one of the two does not compile:\n{original}\n---\n{formatted}");
    };
    assert_eq!(
        tenure::unstable::checked_rules(&a),
        tenure::unstable::checked_rules(&b)
    );
}

#[test]
fn one_rule_per_line_with_single_spaces() {
    assert_formats_to(
        "role=admin   grants\t*;  * denies tag:env=prod;role in[x,y,]grants*;",
        "role = admin grants *;\n* denies tag:env = prod;\nrole in [x, y] grants *;\n",
    );
    assert_formats_to(
        "n>=-3 and n<=7 and m!=x and not   not has  k grants  g not in [ a , \"b c\" ] ;",
        "n >= -3 and n <= 7 and m != x and not not has k grants g not in [a, \"b c\"];\n",
    );
}

#[test]
fn annotations_go_on_their_own_lines_above_the_rule() {
    assert_formats_to(
        "@id(\"a\") @note(\"say \\\"hi\\\"\")   * grants *;",
        "@id(\"a\")\n@note(\"say \\\"hi\\\"\")\n* grants *;\n",
    );
}

#[test]
fn blank_lines_collapse_to_one_and_edges_are_dropped() {
    assert_formats_to(
        "\n\n\na = 1 grants *;\nb = 2 grants *;\n\n\n\n\nc = 3 grants *;\n \t \n\n",
        "a = 1 grants *;\nb = 2 grants *;\n\nc = 3 grants *;\n",
    );
    // A line holding only spaces, or a CR, counts as blank.
    assert_formats_to(
        "a = 1 grants *;\r\n   \r\nb = 2 grants *;\r\n",
        "a = 1 grants *;\n\nb = 2 grants *;\n",
    );
    assert_formats_to("", "");
    assert_formats_to("\n \n", "");
}

#[test]
fn comments_keep_their_places() {
    let text = "\
# header

// about a
a = 1 grants *;   # trailing a   \r
b = 2 grants *;// trailing b
# between b and c, no blank line
c = 3 grants *;


# before d, after a blank line
d = 4 grants *;
# after d
e = 5 grants *;

# at the end

";
    let expected = "\
# header

// about a
a = 1 grants *; # trailing a
b = 2 grants *; // trailing b
# between b and c, no blank line
c = 3 grants *;

# before d, after a blank line
d = 4 grants *;
# after d
e = 5 grants *;

# at the end
";
    assert_formats_to(text, expected);
}

#[test]
fn comments_inside_a_rule_move_above_it_in_order() {
    let text = "\
a = 1 grants *;

@id(\"x\") # on the annotation
role = admin # after the identity
  // inside
  grants env = # before a value
  prod; # trailing
";
    let expected = "\
a = 1 grants *;

# on the annotation
# after the identity
// inside
# before a value
@id(\"x\")
role = admin grants env = prod; # trailing
";
    assert_formats_to(text, expected);
}

#[test]
fn a_comment_after_a_later_rule_on_the_same_line_is_not_trailing_an_earlier_one() {
    assert_formats_to(
        "* grants *; * denies x = 1; # t\n# own",
        "* grants *;\n* denies x = 1; # t\n# own\n",
    );
    // Inside the next rule (after its annotation): above that rule.
    assert_formats_to(
        "a = 1 grants *; @id(\"x\") # c\n b = 2 grants *;",
        "a = 1 grants *;\n# c\n@id(\"x\")\nb = 2 grants *;\n",
    );
}

#[test]
fn comment_markers_inside_strings_globs_and_values_are_not_comments() {
    assert_formats_to(
        "x = \"a # b // c \\\" # d\" and u = http://a//b and t = \"#\" grants p ~ \"//\\* # ?\"; # real",
        "x = \"a # b // c \\\" # d\" and u = \"http://a//b\" and t = \"#\" grants p ~ \"//\\* # ?\"; # real\n",
    );
    // After a name, `//` starts a comment; in a bare value it does not.
    assert_formats_to(
        "role// c\n= x grants y = a//b;",
        "// c\nrole = x grants y = \"a//b\";\n",
    );
}

#[test]
fn values_are_quoted_exactly_when_they_must_be() {
    assert_formats_to(
        "a = \"plain\" and b = \"42\" and c = 42 and d = \"true\" and e = true and f = \"a b\" grants *;",
        "a = plain and b = \"42\" and c = 42 and d = \"true\" and e = true and f = \"a b\" grants *;\n",
    );
    assert_formats_to(
        "tag:\"k8s.io/x\" = \"é\" and tag:env in [\"dev\", staging] grants n ~ \"pr\\*od-*?\\u{41}\";",
        "tag:\"k8s.io/x\" = \"é\" and tag:env in [dev, staging] grants n ~ \"pr\\*od-*?A\";\n",
    );
}

#[test]
fn parentheses_are_kept() {
    assert_formats_to(
        "not(a=1 or(b=2))and((c=3))grants(d=4);",
        "not (a = 1 or (b = 2)) and ((c = 3)) grants (d = 4);\n",
    )
}

#[test]
fn long_rules_break_before_top_level_operators() {
    let text = "@id(\"long\") department = engineering or department = platform-operations or groups in [sre, oncall] \
                grants env in [production, staging] and (service ~ \"payments-*\" or service ~ \"ledger-*\") and not tag:frozen = yes;";
    let expected = "\
@id(\"long\")
department = engineering
    or department = platform-operations
    or groups in [sre, oncall]
    grants env in [production, staging]
    and (service ~ \"payments-*\" or service ~ \"ledger-*\")
    and not tag:frozen = yes;
";
    assert_formats_to(text, expected);
    // `*` and single operands stay whole.
    let long_list: Vec<String> = (0..30).map(|i| format!("value-{i}")).collect();
    let text = format!("* grants x in [{}];", long_list.join(", "));
    assert_formats_to(
        &text,
        &format!("*\n    grants x in [{}];\n", long_list.join(", ")),
    );
    // Exactly MAX_WIDTH characters stays on one line.
    let pad = "x".repeat(MAX_WIDTH - "a =  grants *;".len());
    let exact = format!("a = {pad} grants *;\n");
    assert_eq!(exact.trim_end().chars().count(), MAX_WIDTH);
    assert_formats_to(&exact, &exact);
}

#[test]
fn a_byte_order_mark_is_kept() {
    assert_formats_to("\u{FEFF}  * grants *;\n\n", "\u{FEFF}* grants *;\n");
}

#[test]
fn a_policy_that_does_not_parse_fails_as_compile_does() {
    for text in [
        "role = grants *;",
        "a = 1 grants *;\nb == 2 grants *;\nc = 99999999999999999999 grants *;",
        "x = \"\\u{110000}\" grants *;",
        "a grants *",
    ] {
        let error = format(text).expect_err(text);
        let compile_error = Policy::compile(text).expect_err(text);
        assert_eq!(error.to_string(), compile_error.to_string());
        assert_eq!(error.diagnostics().len(), compile_error.diagnostics().len());
    }
    let error = format_source("dir/p.tenure", "x grants;").expect_err("broken");
    assert!(error.to_string().contains("dir/p.tenure:1:3"), "{error}");
}

#[test]
fn checker_problems_do_not_stop_formatting() {
    // Duplicate ids are the checker's business; the text parses, so it formats.
    assert_eq!(
        formatted("@id(\"a\") * grants *; @id(\"a\") * grants *;"),
        "@id(\"a\")\n* grants *;\n@id(\"a\")\n* grants *;\n"
    );
}

// ---------------------------------------------------------------------------------------
// The property: random policies (the reference test's generator) laid out with random
// whitespace and comments between every two tokens and every two rules.

/// A comment as written (its marker, then text that may look like code or end in spaces).
fn comment_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["#", "//"][..]),
        prop::sample::select(
            &[
                "",
                " note",
                " \"quoted ; ( [",
                " a // b # c",
                " trailing   ",
                "#",
                " ünïcode ;) */",
                "\t@id(\"x\") * grants *;",
            ][..],
        ),
    )
        .prop_map(|(marker, text)| format!("{marker}{text}"))
}

/// What goes between two tokens of a rule: whitespace, or a comment to the end of the
/// line. The comment, when there is one, comes along.
fn token_gap() -> impl Strategy<Value = (String, Option<String>)> {
    prop_oneof![
        8 => Just((" ".to_string(), None)),
        1 => Just(("\n    ".to_string(), None)),
        1 => Just(("\t\r\n\n ".to_string(), None)),
        2 => comment_text().prop_map(|c| (format!(" {c}\n"), Some(c))),
    ]
}

/// What goes between two rules (and before the first, after the last).
fn rule_gap() -> impl Strategy<Value = (String, Option<String>)> {
    prop_oneof![
        4 => Just(("\n".to_string(), None)),
        1 => Just(("".to_string(), None)),
        1 => Just((" ".to_string(), None)),
        2 => Just(("\n\n\n".to_string(), None)),
        2 => comment_text().prop_map(|c| (format!(" {c}\n"), Some(c))),
        2 => comment_text().prop_map(|c| (format!("\n{c}\n"), Some(c))),
        1 => comment_text().prop_map(|c| (format!("\n\n{c}\n \n\n"), Some(c))),
    ]
}

/// A policy text and the comments written into it, in order.
fn commented_policy() -> impl Strategy<Value = (String, Vec<String>)> {
    (1usize..10).prop_flat_map(|n| {
        let rules: Vec<_> = (0..n)
            .map(|i| {
                (
                    rule_gap(),
                    crate::reference::rule_text(i),
                    prop::collection::vec(token_gap(), 64),
                )
            })
            .collect();
        (rules, rule_gap()).prop_map(|(rules, last_gap)| {
            let mut text = String::new();
            let mut written = Vec::new();
            let mut put = |text: &mut String, (gap, comment): (String, Option<String>)| {
                text.push_str(&gap);
                written.extend(comment);
            };
            for (gap, rule, token_gaps) in rules {
                put(&mut text, gap);
                // The generator separates tokens by single spaces and writes no spaces
                // inside strings, so the spaces are exactly the token gaps.
                let mut gaps = token_gaps.into_iter();
                for (i, token) in rule.split(' ').enumerate() {
                    if i > 0 {
                        put(&mut text, gaps.next().unwrap_or((" ".to_string(), None)));
                    }
                    text.push_str(token);
                }
            }
            put(&mut text, last_gap);
            (text, written)
        })
    })
}

fn cases() -> u32 {
    std::env::var("TENURE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Formatting is idempotent, keeps every comment (text and order) and compiles to the
    /// same checked rules (ids, effects, conditions, annotations), so every request is
    /// decided as before; the layout has no trailing whitespace and no doubled blank line.
    #[test]
    fn formatting_is_idempotent_and_keeps_meaning_and_comments((text, written) in commented_policy()) {
        let f = format(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let again = format(&f).map_err(|e| TestCaseError::fail(format!("{e}\n{f}")))?;
        prop_assert_eq!(&again, &f, "not idempotent; source:\n{}", text);

        let original = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let reformatted = Policy::compile(&f).map_err(|e| TestCaseError::fail(format!("{e}\n{f}")))?;
        prop_assert_eq!(
            tenure::unstable::checked_rules(&original),
            tenure::unstable::checked_rules(&reformatted),
            "source:\n{}\nformatted:\n{}", text, f
        );

        let expected: Vec<&str> = written.iter().map(|c| c.trim_end()).collect();
        prop_assert_eq!(comments(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?, expected.clone());
        prop_assert_eq!(comments(&f).map_err(|e| TestCaseError::fail(format!("{e}")))?, expected, "formatted:\n{}", f);

        prop_assert!(f.is_empty() || (f.ends_with('\n') && !f.ends_with("\n\n")), "{}", f);
        prop_assert!(!f.starts_with('\n'), "{}", f);
        prop_assert!(!f.contains("\n\n\n"), "{}", f);
        prop_assert!(f.lines().all(|l| l == l.trim_end()), "{}", f);
    }
}

#[test]
fn the_example_policy_is_formatted() {
    let text = include_str!("../examples/happy_place.tenure");
    assert_eq!(
        tenure::format::format(text).unwrap(),
        text,
        "run `tenure fmt examples/happy_place.tenure`"
    );
}
