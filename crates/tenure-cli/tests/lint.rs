//! `tenure lint`, `tenure check --schema`, `tenure validate` and `tenure export`: every
//! format and exit status, configuration files, and SARIF checked against the SARIF
//! 2.1.0 schema.

mod support;

use std::process::Output;

use support::{assert_code, data_dir, run_in, stderr, stdout};

fn run(args: &[&str]) -> Output {
    run_in(&data_dir("lint"), args, b"")
}

/// Writes a scratch file outside the fixture directory; returns its absolute path.
fn scratch(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tenure-cli-lint-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("a scratch file");
    path.display().to_string()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn lint_json_lists_every_finding_with_its_fields_and_fails_on_deny() {
    let o = run(&["lint", "--no-config", "--format", "json", "leaky.tenure"]);
    assert_code(&o, 1);
    let findings = json(&o);
    let names: Vec<(&str, &str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(names.contains(&("leaver-gap", "dba", "deny")), "{names:?}");
    assert!(
        names.contains(&("grant-to-everyone", "everyone", "warn")),
        "{names:?}"
    );
    assert!(
        names.contains(&("glob-without-wildcard", "everyone", "warn")),
        "{names:?}"
    );
    let first = &findings[0];
    for key in [
        "code", "name", "level", "message", "file", "line", "column", "rule", "help",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    assert_eq!(first["file"], "leaky.tenure");
    assert_eq!(first["line"], 1);
}

#[test]
fn fail_level_and_flags_decide_the_exit_status() {
    // Only warnings left: exit 0 at the default fail level, 1 at warn.
    let o = run(&[
        "lint",
        "--no-config",
        "--allow",
        "leaver-gap",
        "--format",
        "json",
        "leaky.tenure",
    ]);
    assert_code(&o, 0);
    assert!(
        !json(&o).as_array().unwrap().is_empty(),
        "warnings are still reported"
    );
    let o = run(&[
        "lint",
        "--no-config",
        "--allow",
        "L011",
        "--fail-level",
        "warn",
        "leaky.tenure",
    ]);
    assert_code(&o, 1);
    let o = run(&[
        "lint",
        "--no-config",
        "--deny",
        "grant-to-everyone",
        "--allow",
        "leaver-gap",
        "leaky.tenure",
    ]);
    assert_code(&o, 1);
    let o = run(&[
        "lint",
        "--no-config",
        "--allow",
        "no-such-lint",
        "leaky.tenure",
    ]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("unknown lint `no-such-lint`"));
}

#[test]
fn the_nearest_tenure_toml_configures_its_files() {
    // team/sub/leaky.tenure is governed by team/tenure.toml: leaver-gap is a warning,
    // globs without wildcards are allowed.
    let o = run(&["lint", "--format", "json", "team/sub/leaky.tenure"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains("\"leaver-gap\"") && text.contains("\"warn\""),
        "{text}"
    );
    assert!(!text.contains("glob-without-wildcard"), "{text}");
    // --no-config ignores it; --config names one.
    assert_code(&run(&["lint", "--no-config", "team/sub/leaky.tenure"]), 1);
    assert_code(
        &run(&["lint", "--config", "team/tenure.toml", "leaky.tenure"]),
        0,
    );
    // A file outside team/ is not governed by it (both in one run).
    let o = run(&[
        "lint",
        "--format",
        "json",
        "leaky.tenure",
        "team/sub/leaky.tenure",
    ]);
    assert_code(&o, 1);
    let findings = json(&o);
    let deny_files: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "deny")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(deny_files, ["leaky.tenure", "leaky.tenure"]);
}

#[test]
fn sarif_is_valid_sarif_2_1_0_with_rules_from_the_registry() {
    let o = run(&["lint", "--no-config", "--format", "sarif", "leaky.tenure"]);
    assert_code(&o, 1);
    let sarif = json(&o);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json"))
            .expect("the SARIF schema reads");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 14);
    assert_eq!(rules[10]["id"], "L011");
    assert_eq!(rules[10]["name"], "leaver-gap");
    let gap = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "L011")
        .expect("a leaver gap");
    assert_eq!(gap["level"], "error");
    assert_eq!(gap["locations"][0]["logicalLocations"][0]["name"], "dba");
    assert_eq!(
        gap["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}

#[test]
fn github_and_human_formats() {
    let o = run(&["lint", "--no-config", "--format", "github", "leaky.tenure"]);
    assert_code(&o, 1);
    let text = stdout(&o);
    assert!(
        text.lines().any(
            |l| l.starts_with("::error file=leaky.tenure,line=1,col=1,title=L011 leaver-gap::")
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::warning file=leaky.tenure,line=2,")),
        "{text}"
    );
    let o = run(&["lint", "--no-config", "leaky.tenure"]);
    assert_code(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains("L011 leaver-gap") && text.contains("leaky.tenure:1:1"),
        "{text}"
    );
    assert!(text.ends_with("5 findings: 2 deny, 3 warn\n"), "{text}");
}

#[test]
fn schema_violations_are_findings_under_lint_and_errors_under_check() {
    let o = run(&[
        "lint",
        "--no-config",
        "--schema",
        "schema.tenure",
        "--format",
        "json",
        "typos.tenure",
    ]);
    assert_code(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains("\"L001\"") && text.contains("did you mean `clearance`?"),
        "{text}"
    );
    assert!(
        text.contains("\"L002\"") && text.contains("did you mean `DBA`?"),
        "{text}"
    );
    let o = run(&["check", "--schema", "schema.tenure", "typos.tenure"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("tenure::schema::unknown_value"),
        "{}",
        stderr(&o)
    );
    assert_code(
        &run(&["check", "--schema", "schema.tenure", "leaky.tenure"]),
        0,
    );
    // A schema that does not parse: lint cannot run (2), check reports it (1).
    let broken = scratch("broken.schema", "schema identity { role: ; }");
    assert_code(
        &run(&["lint", "--no-config", "--schema", &broken, "leaky.tenure"]),
        2,
    );
    assert_code(&run(&["check", "--schema", &broken, "leaky.tenure"]), 1);
    // A policy with a syntax error: lint cannot run.
    let broken = scratch("broken.tenure", "role = grants *;");
    assert_code(&run(&["lint", "--no-config", &broken]), 2);
    assert_code(&run(&["lint", "--no-config", "missing.tenure"]), 2);
}

#[test]
fn explain_prints_the_lint_with_examples() {
    let o = run(&["lint", "--explain", "leaver-gap"]);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(
        text.starts_with("L011 leaver-gap (default: deny, group: lifecycle)"),
        "{text}"
    );
    assert!(text.contains("Bad:") && text.contains("Good:"));
    assert_code(&run(&["lint", "--explain", "L005"]), 0);
    assert_code(&run(&["lint", "--explain", "nope"]), 2);
}

#[test]
fn validate_reports_each_problem_with_its_line_and_path() {
    let o = run(&[
        "validate",
        "--schema",
        "schema.tenure",
        "--identities",
        "identities.jsonl",
    ]);
    assert_code(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains(
            "identities.jsonl:line 2: identity.clearance: a string, but the schema declares `int`"
        ),
        "{text}"
    );
    assert!(text.contains("identities.jsonl:line 2: identity.role: `DBS` is not one of DBA, SRE [tenure::schema::not_in_enum]"), "{text}");
    assert!(
        text.contains("line 2: identity.status: required, but missing"),
        "{text}"
    );
    assert!(!text.contains("line 1:"), "{text}");
    let o = run(&[
        "validate",
        "--schema",
        "schema.tenure",
        "--identities",
        "identities.jsonl",
        "--format",
        "json",
    ]);
    assert_code(&o, 1);
    assert_eq!(json(&o)[0]["line"], 2);
    let bad = scratch("bad.jsonl", "{\"a\": 1.5}\n");
    let o = run(&["validate", "--schema", "schema.tenure", "--resources", &bad]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
    let good = scratch("good.jsonl", "{\"type\": \"ssh\"}\n");
    assert_code(
        &run(&[
            "validate",
            "--schema",
            "schema.tenure",
            "--resources",
            &good,
        ]),
        0,
    );
    assert_code(&run(&["validate", "--schema", "schema.tenure"]), 2);
}

#[test]
fn export_writes_cedar_and_reports_what_it_cannot_express() {
    let o = run(&[
        "export",
        "--to",
        "cedar",
        "--policy",
        "typos.tenure",
        "--schema",
        "schema.tenure",
    ]);
    assert_code(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains("@id(\"typo\")\npermit (principal, action, resource)"),
        "{text}"
    );
    assert!(
        text.contains("entity Identity = {") && text.contains("\"status\": String,"),
        "{text}"
    );
    let out = scratch("out.cedarschema", "");
    let o = run(&[
        "export",
        "--to",
        "cedar",
        "--policy",
        "typos.tenure",
        "--schema",
        "schema.tenure",
        "--schema-out",
        &out,
    ]);
    assert_code(&o, 0);
    assert!(!stdout(&o).contains("entity Identity"));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("action \"access\" appliesTo"));
    let inexpressible = scratch(
        "inexpressible.tenure",
        "* grants name ~ \"web-?\";\nrole = x grants groups ~ \"a*\";\n",
    );
    let o = run(&["export", "--to", "cedar", "--policy", &inexpressible]);
    assert_code(&o, 1);
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("inexpressible.tenure:1:1") && err.contains("inexpressible.tenure:2:1"),
        "{err}"
    );
    assert!(err.contains("2 constructs cannot be expressed"), "{err}");
    assert_code(
        &run(&["export", "--to", "rego", "--policy", "typos.tenure"]),
        2,
    );
}
