//! Tests of `tenure explain`: both formats, `--all`, and every exit status.
//!
//! The binary runs in `tests/data/` so that file names in its output are the short
//! relative names given on the command line.

mod support;

use std::process::Output;

use support::{assert_code, data_dir, run_in, stderr, stdout};

fn run(args: &[&str]) -> Output {
    run_in(&data_dir(""), args, b"")
}

const CLOUD_ENGINEER: &str =
    r#"{"role": "CloudEngineer", "department": "Cloud", "status": "active", "clearance": 3}"#;
const CLOUD_CLUSTER: &str = r#"{"type": "kubernetes", "tags": {"env": "cloud"}}"#;

fn explain(extra: &[&str], identity: &str, resource: &str) -> Output {
    let mut args = vec![
        "explain",
        "--policy",
        "base.tenure",
        "--policy",
        "extra.tenure",
        "--identity",
        identity,
        "--resource",
        resource,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn explain_human_shows_rules_atoms_and_the_decision() {
    let o = explain(&[], CLOUD_ENGINEER, CLOUD_CLUSTER);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("explaining "), "{out}");
    assert!(
        out.contains("rule cloud: grant at base.tenure:5:1\n"),
        "{out}"
    );
    assert!(
        out.contains("      role = CloudEngineer: true (role is \"CloudEngineer\")\n"),
        "{out}"
    );
    assert!(out.contains("  applies: both sides are true\n"), "{out}");
    assert!(
        out.contains("rule leavers: deny at base.tenure:8:1\n"),
        "{out}"
    );
    assert!(
        out.contains("  does not apply: the who side is false\n"),
        "{out}"
    );
    assert!(
        out.contains("deny overrides\n  applying denies: none\n  applying grants: cloud\n"),
        "{out}"
    );
    assert!(out.ends_with("\ndecision: allow by cloud\n"), "{out}");
    // Candidates only: the DevOps grant cannot apply to a cloud engineer.
    assert!(!out.contains("devops-staging"), "{out}");
    assert_eq!(stderr(&o), "");
}

#[test]
fn explain_shows_missing_attributes_and_type_mismatches() {
    let o = explain(
        &[],
        r#"{"role": "CloudEngineer", "clearance": "high"}"#,
        CLOUD_CLUSTER,
    );
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains("status != active: unknown (status is missing)"),
        "{out}"
    );
    assert!(
        out.contains("clearance < 3: unknown (type mismatch: clearance is the string \"high\")"),
        "{out}"
    );
    assert!(out.contains("applies by unknown"), "{out}");
    assert!(out.contains("\ndecision: deny by leavers"), "{out}");
}

#[test]
fn explain_all_examines_every_rule() {
    let o = explain(&["--all"], CLOUD_ENGINEER, CLOUD_CLUSTER);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("explaining all 7 rules\n"), "{out}");
    assert!(
        out.contains(
            "rule devops-staging: grant at base.tenure:2:1 (not a candidate of the index)\n"
        ),
        "{out}"
    );
    let rules = out.lines().filter(|l| l.starts_with("rule ")).count();
    assert_eq!(rules, 7, "{out}");
}

#[test]
fn explain_json_is_one_document_with_the_decision_and_every_rule() {
    let o = explain(
        &["--format", "json", "--all"],
        CLOUD_ENGINEER,
        CLOUD_CLUSTER,
    );
    assert_code(&o, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["decided_by"], "grant");
    assert_eq!(json["scope"], "all");
    assert_eq!(json["rule_count"], 7);
    let rules = json["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 7);
    let cloud = &rules[1];
    assert_eq!(cloud["id"], "cloud");
    assert_eq!(cloud["source"], "base.tenure");
    assert_eq!(
        (cloud["line"].as_u64(), cloud["column"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(cloud["applies"], true);
    assert_eq!(cloud["outcome"], "certain");
    assert_eq!(cloud["who"]["condition"]["op"], "and");
    assert_eq!(
        cloud["who"]["condition"]["operands"][0],
        serde_json::json!({"op": "atom", "truth": "true", "written": "role = CloudEngineer",
                           "attribute": "role",
                           "seen": {"kind": "value", "type": "string", "value": "CloudEngineer"}})
    );
    assert_eq!(rules[0]["candidate"], false);
    assert_eq!(
        json["deny_overrides"]["applying_grants"],
        serde_json::json!(["cloud"])
    );
    assert_eq!(json["reasons"][0]["rule"], "cloud");

    // Without --all: only the candidates.
    let o = explain(&["--format", "json"], CLOUD_ENGINEER, CLOUD_CLUSTER);
    assert_code(&o, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(json["scope"], "candidates");
    assert!(json["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .all(|r| r["candidate"] == true));
}

#[test]
fn explain_exits_0_on_a_deny() {
    let o = explain(&[], r#"{"status": "left"}"#, "{}");
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("\ndecision: deny by leavers"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explain_exits_1_when_the_policy_does_not_compile() {
    let o = run(&[
        "explain",
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

    let o = run(&[
        "explain",
        "--policy",
        "missing.tenure",
        "--identity",
        "{}",
        "--resource",
        "{}",
    ]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("cannot read policy file `missing.tenure`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn explain_exits_2_on_a_malformed_request_or_flag() {
    let o = explain(&[], r#"{"role": "#, "{}");
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).starts_with("error: --identity: malformed JSON"),
        "{}",
        stderr(&o)
    );

    let o = explain(&[], "{}", r#"{"tags": {"env": 1}}"#);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("resource.tags.env"), "{}", stderr(&o));

    let o = explain(&["--format", "xml"], "{}", "{}");
    assert_code(&o, 2);

    let o = run(&["explain", "--policy", "base.tenure", "--identity", "{}"]);
    assert_code(&o, 2);
}
