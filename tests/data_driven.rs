//! Data-driven cases: every policy under `tests/data/cases/` with the requests it must
//! decide (`NAME.tenure` + `NAME.jsonl`) or the error it must fail with (`NAME.tenure` +
//! `NAME.error.json`). The format is a contract for every client that replays the cases
//! (the C API, the HTTP server); it is specified in `tests/data/cases/README.md`.
//!
//! Each request is decided five ways — `authorize`, `is_allowed`, `authorize_linear`,
//! `for_identity(..).authorize` and `for_identity(..).is_allowed` — which must agree with
//! each other and with the expectation. Every problem is collected and reported together,
//! each naming its file and line.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};
use tenure::{
    Attribute, DecidedBy, Decision, Identity, Policy, PolicyDiagnostic, Resource, Side,
    UnknownCause,
};

/// What `tests/data/cases/` held when these numbers were last raised: the harness fails
/// if fewer run, so a case cannot silently disappear. Raise them when adding cases.
const MIN_POLICY_FILES: usize = 48;
const MIN_REQUESTS: usize = 268;
const MIN_ERROR_CASES: usize = 24;

/// The keys a request line may have; the first four are required.
const REQUEST_KEYS: [&str; 6] = [
    "identity",
    "resource",
    "decision",
    "reasons",
    "decided_by",
    "unknown",
];
const UNKNOWN_KEYS: [&str; 4] = ["rule", "side", "attribute", "cause"];
/// The keys of an expected diagnostic; all but `help_contains` are required.
const ERROR_KEYS: [&str; 5] = [
    "kind",
    "line",
    "column",
    "message_contains",
    "help_contains",
];

#[derive(Default)]
struct Run {
    policies: usize,
    requests: usize,
    errors: usize,
    failures: Vec<String>,
}

impl Run {
    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases")
}

#[test]
fn data_cases_decide_as_expected() {
    let root = cases_dir();
    let mut run = Run::default();
    let mut policies = Vec::new();
    discover(&root, &root, &mut policies, &mut run);
    for path in &policies {
        run_policy(&root, path, &mut run);
    }
    let summary = format!(
        "{} policy files, {} requests, {} expected errors",
        run.policies, run.requests, run.errors
    );
    assert!(
        run.failures.is_empty(),
        "{} failure(s) in {} ({summary}):\n{}",
        run.failures.len(),
        root.display(),
        run.failures.join("\n")
    );
    assert!(
        run.policies >= MIN_POLICY_FILES
            && run.requests >= MIN_REQUESTS
            && run.errors >= MIN_ERROR_CASES,
        "cases went missing: {summary}; expected at least {MIN_POLICY_FILES} policy files, \
         {MIN_REQUESTS} requests, {MIN_ERROR_CASES} expected errors"
    );
}

/// Collects every `.tenure` under `dir` (recursively, sorted) and checks the layout: each
/// directory holds at least one policy, each policy exactly one of `NAME.jsonl` and
/// `NAME.error.json`, and nothing else is there but `README.md` files.
fn discover(root: &Path, dir: &Path, policies: &mut Vec<PathBuf>, run: &mut Run) {
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut entries: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => return run.fail(format!("{}: cannot read the directory: {e}", dir.display())),
    };
    entries.sort();
    let mut found_here = 0;
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            discover(root, &path, policies, run);
        } else if let Some(stem) = name.strip_suffix(".tenure") {
            found_here += 1;
            let requests = path.with_file_name(format!("{stem}.jsonl"));
            let error = path.with_file_name(format!("{stem}.error.json"));
            match (requests.is_file(), error.is_file()) {
                (true, false) | (false, true) => policies.push(path),
                (false, false) => run.fail(format!(
                    "{}: no {stem}.jsonl (requests) or {stem}.error.json (expected error) beside it",
                    rel(&path)
                )),
                (true, true) => run.fail(format!(
                    "{}: both {stem}.jsonl and {stem}.error.json; a policy either compiles or not",
                    rel(&path)
                )),
            }
        } else if let Some(stem) = name
            .strip_suffix(".error.json")
            .or_else(|| name.strip_suffix(".jsonl"))
        {
            if !path.with_file_name(format!("{stem}.tenure")).is_file() {
                run.fail(format!("{}: no {stem}.tenure beside it", rel(&path)));
            }
        } else if name != "README.md" {
            run.fail(format!("{}: not a case file", rel(&path)));
        }
    }
    if found_here == 0 {
        let shown = rel(dir);
        let shown = if shown.is_empty() { "." } else { &shown };
        run.fail(format!("{shown}: a case directory without any .tenure"));
    }
}

fn run_policy(root: &Path, path: &Path, run: &mut Run) {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .with_extension("")
        .display()
        .to_string();
    run.policies += 1;
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return run.fail(format!("{name}.tenure: unreadable: {e}")),
    };
    let compiled = Policy::compile(&text);
    let requests = path.with_extension("jsonl");
    if requests.is_file() {
        let policy = match compiled {
            Ok(policy) => policy,
            Err(e) => return run.fail(format!("{name}.tenure: does not compile:\n{e}")),
        };
        let lines = match fs::read_to_string(&requests) {
            Ok(lines) => lines,
            Err(e) => return run.fail(format!("{name}.jsonl: unreadable: {e}")),
        };
        let before = run.requests;
        for (n, line) in lines.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            run.requests += 1;
            let at = format!("{name}.jsonl:{}", n + 1);
            if let Err(problem) = check_request(&policy, line) {
                run.fail(format!("{at}: {problem}"));
            }
        }
        if run.requests == before {
            run.fail(format!("{name}.jsonl: no requests"));
        }
    } else {
        run.errors += 1;
        let at = format!("{name}.error.json");
        let want = match fs::read_to_string(path.with_extension("error.json"))
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Json>(&t).map_err(|e| e.to_string()))
        {
            Ok(want) => want,
            Err(e) => return run.fail(format!("{at}: unreadable: {e}")),
        };
        match compiled {
            Ok(_) => run.fail(format!("{at}: {name}.tenure compiled; expected an error")),
            Err(e) => {
                if let Err(problem) = check_error(e.diagnostics(), &want) {
                    run.fail(format!("{at}: {problem}\n  got:\n{e}"));
                }
            }
        }
    }
}

/// Checks one request line; `Err` says what differs.
fn check_request(policy: &Policy, line: &str) -> Result<(), String> {
    let case: Json = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let fields = case.as_object().ok_or("not a JSON object")?;
    only_keys(&case, &REQUEST_KEYS)?;
    for key in &REQUEST_KEYS[..4] {
        if !fields.contains_key(*key) {
            return Err(format!("missing `{key}`"));
        }
    }
    let identity = Identity::from_json(&case["identity"].to_string())
        .map_err(|e| format!("bad identity: {e}"))?;
    let resource = Resource::from_json(&case["resource"].to_string())
        .map_err(|e| format!("bad resource: {e}"))?;

    let decision = policy.authorize(&identity, &resource);
    let got = decision_json(&decision);
    for key in &REQUEST_KEYS[2..] {
        if let Some(want) = fields.get(*key) {
            if got[*key] != *want {
                return Err(format!(
                    "`{key}` is {}, expected {want}\n  got:      {got}\n  expected: {case}",
                    got[*key]
                ));
            }
        }
    }

    // Every way of deciding agrees, reasons and unknowns included.
    let allowed = decision.is_allowed();
    let linear = policy.authorize_linear(&identity, &resource);
    if linear != decision {
        return Err(format!(
            "authorize_linear gives {}, authorize {got}",
            decision_json(&linear)
        ));
    }
    if policy.is_allowed(&identity, &resource) != allowed {
        return Err(format!("is_allowed disagrees with authorize {got}"));
    }
    let prepared = policy.for_identity(&identity);
    let by_prepared = prepared.authorize(&resource);
    if by_prepared != decision {
        return Err(format!(
            "for_identity(..).authorize gives {}, authorize {got}",
            decision_json(&by_prepared)
        ));
    }
    if prepared.is_allowed(&resource) != allowed {
        return Err(format!(
            "for_identity(..).is_allowed disagrees with authorize {got}"
        ));
    }
    Ok(())
}

/// A decision in the vocabulary of the request lines.
fn decision_json(decision: &Decision) -> Json {
    let decided_by = match decision.decided_by() {
        DecidedBy::Deny => "deny",
        DecidedBy::Grant => "grant",
        DecidedBy::Default => "default",
        DecidedBy::UnknownSubject => "unknown_subject",
    };
    let unknown: Vec<Json> = decision
        .reasons()
        .iter()
        .flat_map(|reason| {
            reason.unknowns().iter().map(|u| {
                json!({
                    "rule": reason.rule_id(),
                    "side": match u.side {
                        Side::Identity => "identity",
                        Side::Resource => "resource",
                        other => panic!("unknown side {other:?}"),
                    },
                    "attribute": match &u.attribute {
                        Attribute::Name(name) => name.to_string(),
                        Attribute::Tag(key) => format!("tag:{key}"),
                    },
                    "cause": match u.cause {
                        UnknownCause::Missing => "missing",
                        UnknownCause::TypeMismatch => "type_mismatch",
                        other => panic!("unknown cause {other:?}"),
                    },
                })
            })
        })
        .collect();
    json!({
        "decision": if decision.is_allowed() { "allow" } else { "deny" },
        "reasons": decision.reason_ids().collect::<Vec<_>>(),
        "decided_by": decided_by,
        "unknown": unknown,
    })
}

/// Checks the diagnostics against an `.error.json`: an object describes the first
/// diagnostic, an array every diagnostic in order.
fn check_error(got: &[PolicyDiagnostic], want: &Json) -> Result<(), String> {
    match want {
        Json::Object(_) => check_diagnostic(&got[0], want),
        Json::Array(all) => {
            if all.len() != got.len() {
                return Err(format!("{} diagnostics, expected {}", got.len(), all.len()));
            }
            for (i, (d, w)) in got.iter().zip(all).enumerate() {
                check_diagnostic(d, w).map_err(|e| format!("diagnostic {}: {e}", i + 1))?;
            }
            Ok(())
        }
        _ => Err("expected an object or an array of objects".into()),
    }
}

fn check_diagnostic(got: &PolicyDiagnostic, want: &Json) -> Result<(), String> {
    only_keys(want, &ERROR_KEYS)?;
    let text = |key: &str| {
        want[key]
            .as_str()
            .ok_or_else(|| format!("`{key}` must be a string"))
    };
    let number = |key: &str| {
        want[key]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("`{key}` must be a positive integer"))
    };
    let (kind, line, column) = (text("kind")?, number("line")?, number("column")?);
    let message = text("message_contains")?;
    let code = got.kind().code();
    if code.strip_prefix("tenure::") != Some(kind) {
        return Err(format!("kind is {code}, expected {kind}"));
    }
    let location = got.location();
    if (location.line, location.column) != (line, column) {
        return Err(format!(
            "at {}:{}, expected {line}:{column}",
            location.line, location.column
        ));
    }
    if !got.message().contains(message) {
        return Err(format!(
            "message {:?} does not contain {message:?}",
            got.message()
        ));
    }
    if want.get("help_contains").is_some() {
        let help = text("help_contains")?;
        if !got.help_text().unwrap_or_default().contains(help) {
            return Err(format!(
                "help {:?} does not contain {help:?}",
                got.help_text()
            ));
        }
    }
    let shown = got.to_string();
    if !shown.starts_with(&format!("<policy>:{line}:{column}: ")) {
        return Err(format!("displays as {shown:?}"));
    }
    Ok(())
}

/// Refuses keys outside `allowed` (a misspelt key would otherwise check nothing), here
/// and in every `unknown` entry.
fn only_keys(value: &Json, allowed: &[&str]) -> Result<(), String> {
    let object = value.as_object().ok_or("expected a JSON object")?;
    let extra: BTreeSet<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if !extra.is_empty() {
        return Err(format!("unexpected keys {extra:?}; allowed: {allowed:?}"));
    }
    if let Some(unknown) = object.get("unknown") {
        for entry in unknown.as_array().ok_or("`unknown` must be an array")? {
            only_keys(entry, &UNKNOWN_KEYS)?;
        }
    }
    Ok(())
}

/// The harness catches what it must: a wrong expectation, a policy without requests, an
/// empty directory. (Run on throwaway copies in the target directory.)
#[test]
fn the_harness_fails_on_broken_cases() {
    let policy = Policy::compile("@id(\"g\") role = a grants *;").unwrap();
    let ok = r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow", "reasons": ["g"], "decided_by": "grant", "unknown": []}"#;
    assert_eq!(check_request(&policy, ok), Ok(()));
    for bad in [
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "deny", "reasons": ["g"]}"#,
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow", "reasons": []}"#,
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow", "reasons": ["g"], "decided_by": "deny"}"#,
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow", "reasons": ["g"], "unknown": [{"rule": "g", "side": "identity", "attribute": "role", "cause": "missing"}]}"#,
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow", "reason": ["g"]}"#,
        r#"{"identity": {"role": "a"}, "resource": {}, "decision": "allow"}"#,
        r#"{"identity": {"role": 1.5}, "resource": {}, "decision": "deny", "reasons": []}"#,
    ] {
        assert!(check_request(&policy, bad).is_err(), "accepted {bad}");
    }
    let e = Policy::compile("role = a grants *").unwrap_err();
    let want = json!({"kind": "syntax", "line": 1, "column": 18, "message_contains": "`;`"});
    assert_eq!(check_error(e.diagnostics(), &want), Ok(()));
    for bad in [
        json!({"kind": "value", "line": 1, "column": 18, "message_contains": "`;`"}),
        json!({"kind": "syntax", "line": 1, "column": 17, "message_contains": "`;`"}),
        json!({"kind": "syntax", "line": 1, "column": 18, "message_contains": "`,`"}),
        json!({"kind": "syntax", "line": 1, "column": 18, "message_contains": "`;`", "help_contains": "x"}),
        json!({"kind": "syntax", "line": 1, "column": 18}),
        json!([]),
    ] {
        assert!(
            check_error(e.diagnostics(), &bad).is_err(),
            "accepted {bad}"
        );
    }

    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data_driven_layout");
    let _ = fs::remove_dir_all(&scratch);
    let layout = |files: &[(&str, &str)]| -> Run {
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(scratch.join("sub")).unwrap();
        for (name, text) in files {
            fs::write(scratch.join(name), text).unwrap();
        }
        let mut run = Run::default();
        let mut policies = Vec::new();
        discover(&scratch, &scratch, &mut policies, &mut run);
        for path in &policies {
            run_policy(&scratch, path, &mut run);
        }
        run
    };
    let good = [
        ("a.tenure", "@id(\"g\") role = a grants *;"),
        ("a.jsonl", ok),
        ("sub/b.tenure", "x"),
        (
            "sub/b.error.json",
            r#"{"kind": "syntax", "line": 1, "column": 2, "message_contains": "unexpected"}"#,
        ),
    ];
    let run = layout(&good);
    assert_eq!(run.failures, Vec::<String>::new());
    assert_eq!((run.policies, run.requests, run.errors), (2, 1, 1));
    // A .jsonl missing, a .jsonl orphaned, a directory emptied, a stray file, no requests.
    for broken in [
        &[good[0], good[2], good[3]][..],
        &[good[1], good[2], good[3]][..],
        &[good[0], good[1]][..],
        &[good[0], good[1], good[2], good[3], ("notes.txt", "")][..],
        &[good[0], ("a.jsonl", "// nothing\n"), good[2], good[3]][..],
        &[("a.tenure", "x"), good[1], good[2], good[3]][..],
    ] {
        assert!(!layout(broken).failures.is_empty(), "accepted {broken:?}");
    }
    let _ = fs::remove_dir_all(&scratch);
}
