//! Tests of the `tenure` command-line tool: `check`, `authorize`, exit statuses and output.
//!
//! The binary runs in `tests/data/` so that file names in its messages are the short
//! relative names given on the command line.

mod support;

use std::path::PathBuf;
use std::process::Output;

use support::{assert_code, run_in, stderr, stdout};

/// The fixture directory, `tests/data/`.
fn data_dir() -> PathBuf {
    support::data_dir("")
}

/// Runs `tenure ARGS` in the fixture directory, feeding `stdin`.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    run_in(&data_dir(), args, stdin)
}

/// Runs `tenure ARGS` in the fixture directory with empty standard input.
fn run(args: &[&str]) -> Output {
    run_with_stdin(args, b"")
}

const POLICY: [&str; 4] = ["--policy", "base.tenure", "--policy", "extra.tenure"];

/// The decisions for `requests.jsonl` under base.tenure + extra.tenure, in input order.
const EXPECTED: [&str; 5] = [
    // A certain grant.
    r#"{"decision":"allow","reasons":["cloud"]}"#,
    // No rule applies: default deny, no reasons.
    r#"{"decision":"deny","reasons":[]}"#,
    // Two certain denies (in load order) override the admins grant; no unknowns.
    r#"{"decision":"deny","reasons":["leavers","clearance"]}"#,
    // Denies that apply only because `status`, `clearance` and the tag are missing.
    r#"{"decision":"deny","reasons":["leavers","clearance"],"unknown":["identity.status","identity.clearance","resource.tag:classification"]}"#,
    // A grant by the rule without `@id`: the sixth rule of the set.
    r#"{"decision":"allow","reasons":["rule-6"]}"#,
];

fn expected_output() -> String {
    EXPECTED.iter().map(|l| format!("{l}\n")).collect()
}

// ---------------------------------------------------------------------------------------
// tenure check
// ---------------------------------------------------------------------------------------

#[test]
fn check_clean_files_prints_a_summary_and_exits_0() {
    let o = run(&["check", "base.tenure", "extra.tenure"]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "ok: 7 rules in 2 files\n");
    assert_eq!(stderr(&o), "");

    let o = run(&["check", "base.tenure"]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "ok: 4 rules in 1 file\n");
}

#[test]
fn check_syntax_error_names_file_line_and_column_and_exits_1() {
    let o = run(&["check", "syntax_error.tenure"]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains("syntax_error.tenure:3:23"), "{err}");
    // The snippet shows the offending line.
    assert!(err.contains("role = y grants type => rdp;"), "{err}");
    // Not a terminal: no colour escapes.
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn check_finds_duplicate_ids_across_files() {
    // Each file is clean on its own...
    assert_code(&run(&["check", "dup.tenure"]), 0);
    assert_code(&run(&["check", "base.tenure"]), 0);
    // ...but together `cloud` is defined twice.
    let o = run(&["check", "base.tenure", "dup.tenure"]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains("duplicate rule id `cloud`"), "{err}");
    assert!(err.contains("dup.tenure:4:1"), "{err}");
}

#[test]
fn check_reports_problems_in_every_file() {
    let o = run(&[
        "check",
        "value_error.tenure",
        "base.tenure",
        "syntax_error.tenure",
    ]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains("value_error.tenure:2:13"), "{err}");
    assert!(err.contains("does not fit in 64 bits"), "{err}");
    assert!(err.contains("syntax_error.tenure:3:23"), "{err}");
    assert!(err.contains("2 problems"), "{err}");
}

#[test]
fn check_unreadable_file_is_named_and_exits_1() {
    let o = run(&["check", "base.tenure", "no-such-file.tenure"]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("no-such-file.tenure"), "{}", stderr(&o));
}

#[test]
fn check_without_files_is_a_usage_error() {
    let o = run(&["check"]);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "");
}

// ---------------------------------------------------------------------------------------
// tenure authorize
// ---------------------------------------------------------------------------------------

#[test]
fn authorize_jsonl_file_writes_one_decision_per_line_in_order() {
    let mut args = POLICY.to_vec();
    args.splice(0..0, ["authorize"]);
    args.extend(["--requests", "requests.jsonl"]);
    let o = run(&args);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), expected_output());
    assert_eq!(stderr(&o), "");
}

#[test]
fn authorize_reads_standard_input_with_dash() {
    let input = std::fs::read(data_dir().join("requests.jsonl")).expect("fixture");
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "-"]);
    let o = run_with_stdin(&args, &input);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), expected_output());
}

#[test]
fn authorize_accepts_crlf_and_a_last_line_without_newline() {
    let text = std::fs::read_to_string(data_dir().join("requests.jsonl")).expect("fixture");
    let input = text.trim_end().replace('\n', "\r\n");
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "-"]);
    let o = run_with_stdin(&args, input.as_bytes());
    assert_code(&o, 0);
    assert_eq!(stdout(&o), expected_output());
}

#[test]
fn authorize_policy_order_decides_reason_order_and_rule_numbers() {
    // Loaded the other way round, the rule without `@id` is the second: `rule-2`.
    let input = std::fs::read(data_dir().join("requests.jsonl")).expect("fixture");
    let args = [
        "authorize",
        "--policy",
        "extra.tenure",
        "--policy",
        "base.tenure",
        "--requests",
        "-",
    ];
    let o = run_with_stdin(&args, &input);
    assert_code(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[4], r#"{"decision":"allow","reasons":["rule-2"]}"#);
}

#[test]
fn authorize_one_request_from_identity_and_resource() {
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend([
        "--identity",
        r#"{"role": "CloudEngineer", "department": "Cloud", "status": "active", "clearance": 4, "kind": "employee"}"#,
        "--resource",
        r#"{"type": "kubernetes", "tags": {"env": "cloud"}}"#,
    ]);
    let o = run(&args);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "{\"decision\":\"allow\",\"reasons\":[\"cloud\"]}\n"
    );

    // Same identity without `kind`: the contractor deny applies by unknown on both sides.
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend([
        "--identity",
        r#"{"role": "CloudEngineer", "department": "Cloud", "status": "active", "clearance": 4}"#,
        "--resource",
        r#"{"tags": {"env": "cloud"}}"#,
    ]);
    let o = run(&args);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "{\"decision\":\"deny\",\"reasons\":[\"no-rdp-contractors\"],\"unknown\":[\"identity.kind\",\"resource.type\"]}\n"
    );
}

#[test]
fn authorize_bad_identity_or_resource_json_exits_2() {
    let cases: [(&str, &str, &str); 4] = [
        (r#"{"groups": ["a", 1]}"#, "{}", "identity.groups[1]"),
        ("{}", r#"{"tags": {"env": 3}}"#, "resource.tags.env"),
        ("{}", r#"{"a":"#, "--resource: malformed JSON"),
        ("[]", "{}", "identity: expected a JSON object"),
    ];
    for (identity, resource, needle) in cases {
        let mut args = vec!["authorize"];
        args.extend(POLICY);
        args.extend(["--identity", identity, "--resource", resource]);
        let o = run(&args);
        assert_code(&o, 2);
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
}

#[test]
fn authorize_requests_and_identity_are_mutually_exclusive() {
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend([
        "--requests",
        "requests.jsonl",
        "--identity",
        "{}",
        "--resource",
        "{}",
    ]);
    let o = run(&args);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "");

    // --identity needs --resource.
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--identity", "{}"]);
    assert_code(&run(&args), 2);
}

#[test]
fn authorize_malformed_line_stops_with_line_number_and_path() {
    let good = r#"{"identity": {"status": "active", "clearance": 5, "kind": "staff"}, "resource": {"name": "bastion-1", "type": "ssh"}}"#;
    let good_out = r#"{"decision":"allow","reasons":["rule-6"]}"#;
    // (bad line 3, what stderr must name after `line 3: `)
    let cases: &[(&str, &str)] = &[
        // Not JSON.
        (r#"{"identity": {"#, "malformed JSON"),
        (
            r#"{"identity": {}, "resource": {}} trailing"#,
            "malformed JSON",
        ),
        // Not an object.
        ("[1, 2]", "expected a JSON object"),
        (r#""pamela""#, "expected a JSON object"),
        ("null", "expected a JSON object"),
        // Missing halves.
        (r#"{"resource": {}}"#, "missing `identity`"),
        (r#"{"identity": {}}"#, "missing `resource`"),
        // A half that is not an object.
        (
            r#"{"identity": "pamela", "resource": {}}"#,
            "identity: expected a JSON object",
        ),
        // A nested object where a value belongs.
        (
            r#"{"identity": {"manager": {"id": "x"}}, "resource": {}}"#,
            "identity.manager: nested objects",
        ),
        // `tags` not an object of strings.
        (
            r#"{"identity": {}, "resource": {"tags": ["env"]}}"#,
            "resource.tags: `tags` must be an object",
        ),
        (
            r#"{"identity": {}, "resource": {"tags": {"env": 1}}}"#,
            "resource.tags.env: tag values must be strings",
        ),
        (
            r#"{"identity": {"tags": {"env": {"a": "b"}}}, "resource": {}}"#,
            "identity.tags.env: tag values must be strings",
        ),
        // Floats.
        (
            r#"{"identity": {"clearance": 2.5}, "resource": {}}"#,
            "identity.clearance: floating-point",
        ),
        // Sets of non-strings.
        (
            r#"{"identity": {"groups": ["a", "b", 3]}, "resource": {}}"#,
            "identity.groups[2]: set elements must be strings",
        ),
        (
            r#"{"identity": {}, "resource": {"owners": [null]}}"#,
            "resource.owners[0]: set elements must be strings",
        ),
    ];
    for (bad, needle) in cases {
        let input = format!("{good}\n\n{bad}\n{good}\n");
        let mut args = vec!["authorize"];
        args.extend(POLICY);
        args.extend(["--requests", "-"]);
        let o = run_with_stdin(&args, input.as_bytes());
        assert_code(&o, 2);
        // The line before was answered and flushed; nothing after the bad line.
        assert_eq!(stdout(&o), format!("{good_out}\n"), "for {bad}");
        let err = stderr(&o);
        assert!(
            err.contains(&format!("line 3: {needle}")),
            "stderr for {bad} lacks `line 3: {needle}`:\n{err}"
        );
    }
}

#[test]
fn authorize_malformed_line_in_a_file_names_the_file() {
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "malformed.jsonl"]);
    let o = run(&args);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), format!("{}\n{}\n", EXPECTED[0], EXPECTED[1]));
    let err = stderr(&o);
    assert!(
        err.contains("malformed.jsonl: line 4: identity.groups[2]: set elements must be strings"),
        "{err}"
    );
}

#[test]
fn authorize_rejects_a_line_that_is_not_utf8() {
    let mut input = br#"{"identity": {}, "resource": {}}"#.to_vec();
    input.extend(b"\n\xff\xfe\n");
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "-"]);
    let o = run_with_stdin(&args, &input);
    assert_code(&o, 2);
    assert_eq!(stdout(&o).lines().count(), 1);
    assert!(
        stderr(&o).contains("line 2: not valid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn authorize_policy_that_fails_to_compile_exits_1_with_empty_stdout() {
    for policy in ["syntax_error.tenure", "dup.tenure"] {
        let args = [
            "authorize",
            "--policy",
            "base.tenure",
            "--policy",
            policy,
            "--requests",
            "requests.jsonl",
        ];
        let o = run(&args);
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains(policy), "{}", stderr(&o));
    }
    // Same with --identity/--resource.
    let o = run(&[
        "authorize",
        "--policy",
        "syntax_error.tenure",
        "--identity",
        "{}",
        "--resource",
        "{}",
    ]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("syntax_error.tenure:3:23"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn authorize_unreadable_inputs() {
    // A missing policy file is a policy problem: exit 1.
    let o = run(&[
        "authorize",
        "--policy",
        "nope.tenure",
        "--requests",
        "requests.jsonl",
    ]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("nope.tenure"), "{}", stderr(&o));
    // A missing requests file is a request problem: exit 2.
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "nope.jsonl"]);
    let o = run(&args);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("nope.jsonl"), "{}", stderr(&o));
}

#[test]
fn authorize_empty_input_and_blank_lines_write_nothing() {
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "-"]);
    let o = run_with_stdin(&args, b"\n  \n\t\r\n");
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
}

#[test]
fn authorize_streams_many_requests_in_order() {
    // 20 000 requests alternating between an allow, a default deny and an unknown deny.
    let lines = [
        r#"{"identity": {"status": "active", "clearance": 5, "kind": "staff"}, "resource": {"name": "bastion-1", "type": "ssh"}}"#,
        r#"{"identity": {"status": "active", "clearance": 5, "kind": "staff"}, "resource": {"name": "db", "type": "ssh"}}"#,
        r#"{"identity": {"clearance": 5, "kind": "staff"}, "resource": {"name": "bastion-1", "type": "ssh"}}"#,
    ];
    let outs = [
        r#"{"decision":"allow","reasons":["rule-6"]}"#,
        r#"{"decision":"deny","reasons":[]}"#,
        r#"{"decision":"deny","reasons":["leavers"],"unknown":["identity.status"]}"#,
    ];
    let n = 20_000;
    let mut input = String::new();
    let mut expected = String::new();
    for i in 0..n {
        input.push_str(lines[i % 3]);
        input.push('\n');
        expected.push_str(outs[i % 3]);
        expected.push('\n');
    }
    let mut args = vec!["authorize"];
    args.extend(POLICY);
    args.extend(["--requests", "-"]);
    let o = run_with_stdin(&args, input.as_bytes());
    assert_code(&o, 0);
    assert!(
        stdout(&o) == expected,
        "output differs from the expected {n} lines"
    );
}

// ---------------------------------------------------------------------------------------
// Version and help
// ---------------------------------------------------------------------------------------

#[test]
fn version_prints_the_crate_version() {
    let o = run(&["--version"]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        format!("tenure {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_documents_exit_status() {
    for sub in ["check", "authorize"] {
        let o = run(&[sub, "--help"]);
        assert_code(&o, 0);
        let out = stdout(&o);
        assert!(out.contains("Exit status:"), "{sub}: {out}");
        assert!(out.contains("  1  "), "{sub}: {out}");
    }
    let o = run(&["authorize", "--help"]);
    assert!(stdout(&o).contains("  2  a request is malformed"));
}

// ---------------------------------------------------------------------------------------
// Hardening (foundation issue): duplicate keys, numbers, BOMs, sizes, caps
// ---------------------------------------------------------------------------------------

#[test]
fn authorize_refuses_duplicate_keys_with_their_path() {
    let cases = [
        (
            r#"{"identity": {"status": "deprovisioned", "role": "admin", "status": "active"}, "resource": {}}"#,
            "line 1: identity.status: duplicate key `status`",
        ),
        (
            r#"{"identity": {}, "resource": {"tags": {"env": "dev", "env": "prod"}}}"#,
            "line 1: resource.tags.env: duplicate key `env`",
        ),
        (
            r#"{"identity": {"tags": {}, "tags": {}}, "resource": {}}"#,
            "line 1: identity.tags: duplicate key `tags`",
        ),
        (
            r#"{"identity": {}, "resource": {}, "identity": {"role": "admin"}}"#,
            "line 1: request.identity: duplicate key `identity`",
        ),
    ];
    for (line, message) in cases {
        let o = run_with_stdin(
            &["authorize", "--policy", "base.tenure", "--requests", "-"],
            format!("{line}\n").as_bytes(),
        );
        assert_code(&o, 2);
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains(message), "{line}\n{}", stderr(&o));
    }
    let o = run(&[
        "authorize",
        "--policy",
        "base.tenure",
        "--identity",
        r#"{"role": "a", "role": "b"}"#,
        "--resource",
        "{}",
    ]);
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("identity.role: duplicate key `role`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn authorize_reads_numbers_by_the_digits_written() {
    let policy =
        std::env::temp_dir().join(format!("tenure-cli-numbers-{}.tenure", std::process::id()));
    std::fs::write(&policy, "@id(\"zero\") n = 0 grants *;").unwrap();
    let policy = policy.to_str().unwrap();
    let o = run_with_stdin(
        &["authorize", "--policy", policy, "--requests", "-"],
        b"{\"identity\": {\"n\": -0}, \"resource\": {}}\n{\"identity\": {\"n\": 9.2e18}, \"resource\": {}}\n",
    );
    assert_code(&o, 2);
    assert_eq!(
        stdout(&o),
        "{\"decision\":\"allow\",\"reasons\":[\"zero\"]}\n"
    );
    assert!(
        stderr(&o)
            .contains("line 2: identity.n: floating-point numbers are not supported (`9.2e18`)"),
        "{}",
        stderr(&o)
    );
    let o = run_with_stdin(
        &["authorize", "--policy", policy, "--requests", "-"],
        b"{\"identity\": {\"n\": 99999999999999999999}, \"resource\": {}}\n",
    );
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("integer `99999999999999999999` does not fit in 64 bits"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn authorize_accepts_a_bom_at_the_start_of_a_request_file() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(
        std::fs::read(data_dir().join("requests.jsonl"))
            .unwrap()
            .as_slice(),
    );
    let o = run_with_stdin(
        &[
            "authorize",
            "--policy",
            "base.tenure",
            "--policy",
            "extra.tenure",
            "--requests",
            "-",
        ],
        &input,
    );
    assert_code(&o, 0);
    assert_eq!(stdout(&o), expected_output());
}

#[test]
fn authorize_enforces_the_entity_size_limit_on_request_lines() {
    // 1.1 MiB of identity fits in a request line (2 MiB + 64 KiB) but not in an entity.
    let big = "x".repeat(1_150_000);
    let line = format!("{{\"identity\": {{\"name\": \"{big}\"}}, \"resource\": {{}}}}\n");
    let o = run_with_stdin(
        &["authorize", "--policy", "base.tenure", "--requests", "-"],
        line.as_bytes(),
    );
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("line 1: identity: JSON text is larger than 1048576 bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_caps_printed_diagnostics_and_clips_snippets() {
    let dir = std::env::temp_dir().join(format!("tenure-cli-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many.tenure");
    // 500 broken rules on one line of 10 KB: every one is found, 100 are printed.
    std::fs::write(
        &path,
        "x = ; ".repeat(500) + &"y = 1 grants *; ".repeat(600),
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("… and 400 more problems"),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    assert!(
        err.contains("500 problems found"),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    // Each snippet shows a window around its problem, not the whole 13 KB line.
    assert!(
        err.len() < 100 * 2_000,
        "{} bytes of diagnostics",
        err.len()
    );
}
