//! Tests of `tenure test`: policy unit tests in JSON files, both formats, `--coverage`,
//! and every exit status.
//!
//! The binary runs in `tests/data/`; the test files are in `tests/data/policy_test/` and
//! name their policies relative to that directory (`../base.tenure`).

mod support;

use std::process::Output;

use support::{assert_code, data_dir, run_in, stderr, stdout};

fn run(args: &[&str]) -> Output {
    run_in(&data_dir(""), args, b"")
}

#[test]
fn passing_cases_report_like_cargo_test_and_exit_0() {
    let o = run(&["test", "policy_test/access.json"]);
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "running 3 cases from policy_test/access.json\n\
         test cloud engineers reach cloud clusters ... ok\n\
         test leavers are denied ... ok\n\
         test everyone reaches the bastions ... ok\n\
         \n\
         test result: ok. 3 passed, 0 failed\n"
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn failing_cases_show_what_differed_and_exit_1() {
    let o = run(&["test", "policy_test/failing.json"]);
    assert_code(&o, 1);
    assert_eq!(
        stdout(&o),
        "running 3 cases from policy_test/failing.json\n\
         test cloud engineers reach cloud clusters ... ok\n\
         test a missing status still grants ... FAILED\n\
         \x20   expected: allow\n\
         \x20   got:      deny by leavers (unknown: identity.status), no-rdp-contractors (unknown: identity.kind, resource.type)\n\
         test leavers are denied by leavers only ... FAILED\n\
         \x20   expected reasons: [leavers]\n\
         \x20   got reasons:      [leavers, clearance]\n\
         \n\
         test result: FAILED. 1 passed, 2 failed\n"
    );
}

#[test]
fn several_files_add_up_in_one_summary() {
    let o = run(&[
        "test",
        "policy_test/access.json",
        "policy_test/failing.json",
    ]);
    assert_code(&o, 1);
    let out = stdout(&o);
    assert!(
        out.contains("running 3 cases from policy_test/access.json\n"),
        "{out}"
    );
    assert!(
        out.contains("running 3 cases from policy_test/failing.json\n"),
        "{out}"
    );
    assert!(
        out.ends_with("test result: FAILED. 4 passed, 2 failed\n"),
        "{out}"
    );
}

#[test]
fn coverage_lists_the_rules_no_decision_used() {
    let o = run(&["test", "--coverage", "policy_test/access.json"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains(
            "coverage: 3 of 7 rules used by no case's decision:\n\
             \x20   devops-staging (policy_test/../base.tenure:2:1)\n\
             \x20   admins (policy_test/../extra.tenure:2:1)\n\
             \x20   no-rdp-contractors (policy_test/../extra.tenure:8:1)\n"
        ),
        "{out}"
    );
    // `admins` applies to the leaver, but the denies override it: not used.
    assert!(
        out.ends_with("test result: ok. 3 passed, 0 failed\n"),
        "{out}"
    );
}

#[test]
fn json_format_is_one_document_with_cases_and_summary() {
    let o = run(&[
        "test",
        "--format",
        "json",
        "--coverage",
        "policy_test/failing.json",
    ]);
    assert_code(&o, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(json["ok"], false);
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(1), Some(2))
    );
    let file = &json["files"][0];
    assert_eq!(file["file"], "policy_test/failing.json");
    let cases = file["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0]["ok"], true);
    assert_eq!(cases[0]["differs"], serde_json::json!([]));
    assert_eq!(
        cases[1],
        serde_json::json!({
            "name": "a missing status still grants",
            "ok": false,
            "expected": {"decision": "allow", "reasons": null},
            "got": {"decision": "deny", "reasons": ["leavers", "no-rdp-contractors"]},
            "differs": ["decision"],
        })
    );
    assert_eq!(cases[2]["differs"], serde_json::json!(["reasons"]));
    assert_eq!(
        cases[2]["expected"]["reasons"],
        serde_json::json!(["leavers"])
    );
    let uncovered: Vec<&str> = file["uncovered"]
        .as_array()
        .expect("uncovered, with --coverage")
        .iter()
        .map(|r| r["rule"].as_str().expect("an id"))
        .collect();
    assert_eq!(uncovered, ["devops-staging", "admins", "rule-6"]);
    assert_eq!(file["uncovered"][0]["line"], 2);

    let o = run(&["test", "--format", "json", "policy_test/access.json"]);
    assert_code(&o, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(json["ok"], true);
    assert!(json["files"][0].get("uncovered").is_none());
}

#[track_caller]
fn assert_refused(file: &str, message: &str) {
    let o = run(&["test", file, "policy_test/access.json"]);
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "", "no case runs when a file cannot be loaded");
    let err = stderr(&o);
    assert!(err.contains(message), "{err}");
    assert!(
        err.ends_with("error: 1 test file could not be loaded; no case was run\n"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_refused_with_the_file_and_json_path() {
    assert_refused(
        "policy_test/unknown_key.json",
        "error: policy_test/unknown_key.json: cases[1].expectt: unknown key; expected one of `name`, `identity`, `resource`, `expect`, `reasons`\n",
    );
}

#[test]
fn duplicate_keys_are_refused_with_their_path() {
    assert_refused(
        "policy_test/duplicate_key.json",
        "error: policy_test/duplicate_key.json: cases[0].name: ",
    );
}

#[test]
fn malformed_test_files_exit_2() {
    assert_refused(
        "policy_test/malformed.json",
        "error: policy_test/malformed.json: malformed JSON",
    );
    assert_refused(
        "policy_test/bad_identity.json",
        "error: policy_test/bad_identity.json: cases[0].identity.clearance: floating-point numbers",
    );
    assert_refused(
        "policy_test/bad_expect.json",
        "error: policy_test/bad_expect.json: cases[0].expect: expected \"allow\" or \"deny\"\n",
    );
    assert_refused(
        "policy_test/no_such.json",
        "error: policy_test/no_such.json: cannot read test file: no such file\n",
    );
}

#[test]
fn policies_that_do_not_load_exit_2() {
    assert_refused(
        "policy_test/bad_policy.json",
        "policy_test/../syntax_error.tenure:3:23",
    );
    assert_refused(
        "policy_test/missing_policy.json",
        "error: cannot read policy file `policy_test/no_such.tenure`: no such file\n",
    );
}

#[test]
fn the_command_line_is_checked() {
    let o = run(&["test"]);
    assert_code(&o, 2);
    let o = run(&["test", "--format", "xml", "policy_test/access.json"]);
    assert_code(&o, 2);
}
