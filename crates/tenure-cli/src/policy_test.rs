//! `tenure test`: policy unit tests in JSON files, reported like `cargo test`.
//!
//! A test file names its policy files (relative to the test file's directory) and lists
//! cases, each a request with the expected decision and, optionally, the expected
//! reasons:
//!
//! ```json
//! {"policies": ["../policies/base.tenure"],
//!  "cases": [{"name": "leavers are denied",
//!             "identity": {"status": "terminated"}, "resource": {},
//!             "expect": "deny", "reasons": ["leavers"]}]}
//! ```
//!
//! Every file is read and its policies compiled before any case runs: a problem in any
//! of them is reported and nothing runs (exit 2). Each file's policies form their own
//! policy set.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value as Json};
use tenure::{Decision, Identity, InputError, Policy, Resource};

use crate::report::{describe_io_error, load_policy, plural};
use crate::{Format, TestArgs, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

/// The keys of a test file's top-level object.
const FILE_KEYS: [&str; 2] = ["policies", "cases"];
/// The keys of a case.
const CASE_KEYS: [&str; 5] = ["name", "identity", "resource", "expect", "reasons"];

/// A test file that cannot be used: where (`cases[2].expect`) and what.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {}{message}", path_prefix(.path))]
struct TestFileError {
    file: String,
    path: String,
    message: String,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// The expected decision of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny,
}

impl Expect {
    fn as_str(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
        }
    }

    fn of(decision: &Decision) -> Expect {
        if decision.is_allowed() {
            Expect::Allow
        } else {
            Expect::Deny
        }
    }
}

/// One case of a test file.
#[derive(Debug)]
struct Case {
    name: String,
    identity: Identity,
    resource: Resource,
    expect: Expect,
    reasons: Option<Vec<String>>,
}

/// A test file, read and checked, with its policy compiled.
#[derive(Debug)]
struct TestFile {
    name: String,
    policy: Policy,
    cases: Vec<Case>,
}

/// What a case's decision was, and how it differs from the expectation.
#[derive(Debug)]
struct CaseResult<'a> {
    case: &'a Case,
    decision: Decision,
    decision_differs: bool,
    reasons_differ: bool,
}

impl CaseResult<'_> {
    fn passed(&self) -> bool {
        !self.decision_differs && !self.reasons_differ
    }

    fn got_reasons(&self) -> Vec<&str> {
        self.decision.reason_ids().collect()
    }
}

/// The outcome of one test file.
#[derive(Debug)]
struct FileResult<'a> {
    file: &'a TestFile,
    cases: Vec<CaseResult<'a>>,
}

impl FileResult<'_> {
    fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    /// The rules of the file's policy that no case's decision used: a rule is used when
    /// it is among the reasons of some case's decision (passed or failed).
    fn uncovered(&self) -> Vec<tenure::RuleView<'_>> {
        let policy = &self.file.policy;
        let mut used = vec![false; policy.len()];
        for result in &self.cases {
            for reason in result.decision.reasons() {
                if let Some(u) = used.get_mut(reason.rule_index()) {
                    *u = true;
                }
            }
        }
        policy.rules().filter(|r| !used[r.index()]).collect()
    }
}

pub(crate) fn run(args: &TestArgs) -> u8 {
    let mut files = Vec::with_capacity(args.files.len());
    let mut problems = 0usize;
    for path in &args.files {
        match load_test_file(path) {
            Ok(file) => files.push(file),
            Err(Problem::File(e)) => {
                eprintln!("error: {e}");
                problems += 1;
            }
            // The diagnostics are already on standard error.
            Err(Problem::Policy) => problems += 1,
        }
    }
    if problems > 0 {
        eprintln!(
            "error: {problems} test {} could not be loaded; no case was run",
            plural(problems, "file", "files")
        );
        return EXIT_INPUT;
    }
    let results: Vec<FileResult<'_>> = files.iter().map(run_file).collect();
    let text = match args.format {
        Format::Human => human_report(&results, args.coverage),
        Format::Json => format!("{:#}\n", json_report(&results, args.coverage)),
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!(
                "error: cannot write to standard output: {}",
                describe_io_error(&e)
            );
            return EXIT_INPUT;
        }
    }
    if results.iter().all(|r| r.failed() == 0) {
        EXIT_OK
    } else {
        EXIT_POLICY
    }
}

fn run_file(file: &TestFile) -> FileResult<'_> {
    let cases = file
        .cases
        .iter()
        .map(|case| {
            let decision = file.policy.authorize(&case.identity, &case.resource);
            let decision_differs = Expect::of(&decision) != case.expect;
            let reasons_differ = case
                .reasons
                .as_ref()
                .is_some_and(|want| !want.iter().map(String::as_str).eq(decision.reason_ids()));
            CaseResult {
                case,
                decision,
                decision_differs,
                reasons_differ,
            }
        })
        .collect();
    FileResult { file, cases }
}

// ---------------------------------------------------------------------------------------
// Reading test files
// ---------------------------------------------------------------------------------------

/// Why a test file cannot be used.
enum Problem {
    /// The file itself (unreadable, malformed, not the expected shape).
    File(TestFileError),
    /// Its policy does not load; the diagnostics were printed.
    Policy,
}

fn load_test_file(path: &Path) -> Result<TestFile, Problem> {
    let name = path.display().to_string();
    let fail = |path: &str, message: String| {
        Problem::File(TestFileError {
            file: name.clone(),
            path: path.to_string(),
            message,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(
            "",
            format!("cannot read test file: {}", describe_io_error(&e)),
        )
    })?;
    let json = tenure::json::parse(&text).map_err(|e| fail(e.path(), e.message().to_string()))?;
    let (policies, cases) = read_file_object(&json).map_err(|(p, m)| fail(&p, m))?;
    let directory = path.parent().unwrap_or(Path::new(""));
    let policy_paths: Vec<PathBuf> = policies.iter().map(|p| directory.join(p)).collect();
    let policy = load_policy(&policy_paths).map_err(|()| Problem::Policy)?;
    Ok(TestFile {
        name,
        policy,
        cases,
    })
}

/// A problem at a JSON path.
type ShapeError = (String, String);

fn unknown_key(path: &str, key: &str, expected: &[&str]) -> ShapeError {
    let expected: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
    (
        child(path, key),
        format!("unknown key; expected one of {}", expected.join(", ")),
    )
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object<'a>(json: &'a Json, path: &str) -> Result<&'a Map<String, Json>, ShapeError> {
    json.as_object()
        .ok_or_else(|| (path.to_string(), "expected a JSON object".to_string()))
}

fn required<'a>(
    object: &'a Map<String, Json>,
    path: &str,
    key: &str,
) -> Result<&'a Json, ShapeError> {
    object
        .get(key)
        .ok_or_else(|| (path.to_string(), format!("missing key `{key}`")))
}

fn strings(json: &Json, path: &str) -> Result<Vec<String>, ShapeError> {
    let items = json
        .as_array()
        .ok_or_else(|| (path.to_string(), "expected an array of strings".to_string()))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| (format!("{path}[{i}]"), "expected a string".to_string()))
        })
        .collect()
}

fn read_file_object(json: &Json) -> Result<(Vec<String>, Vec<Case>), ShapeError> {
    let top = object(json, "")?;
    if let Some(key) = top.keys().find(|k| !FILE_KEYS.contains(&k.as_str())) {
        return Err(unknown_key("", key, &FILE_KEYS));
    }
    let policies = strings(required(top, "", "policies")?, "policies")?;
    let cases = required(top, "", "cases")?
        .as_array()
        .ok_or_else(|| ("cases".to_string(), "expected an array".to_string()))?;
    let cases = cases
        .iter()
        .enumerate()
        .map(|(i, case)| read_case(case, &format!("cases[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((policies, cases))
}

fn read_case(json: &Json, path: &str) -> Result<Case, ShapeError> {
    let case = object(json, path)?;
    if let Some(key) = case.keys().find(|k| !CASE_KEYS.contains(&k.as_str())) {
        return Err(unknown_key(path, key, &CASE_KEYS));
    }
    let name = required(case, path, "name")?
        .as_str()
        .ok_or_else(|| (child(path, "name"), "expected a string".to_string()))?
        .to_string();
    // Entity errors name their path from `identity` / `resource`: put the case in front.
    let located = |e: InputError| (format!("{path}.{}", e.path()), e.message().to_string());
    let identity = Identity::from_json_value(required(case, path, "identity")?).map_err(located)?;
    let resource = Resource::from_json_value(required(case, path, "resource")?).map_err(located)?;
    let expect = match required(case, path, "expect")?.as_str() {
        Some("allow") => Expect::Allow,
        Some("deny") => Expect::Deny,
        _ => {
            return Err((
                child(path, "expect"),
                "expected \"allow\" or \"deny\"".to_string(),
            ))
        }
    };
    let reasons = match case.get("reasons") {
        None => None,
        Some(reasons) => Some(strings(reasons, &child(path, "reasons"))?),
    };
    Ok(Case {
        name,
        identity,
        resource,
        expect,
        reasons,
    })
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

fn list(ids: &[&str]) -> String {
    format!("[{}]", ids.join(", "))
}

fn human_report(results: &[FileResult<'_>], coverage: bool) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    for result in results {
        let n = result.cases.len();
        let _ = writeln!(
            out,
            "running {n} {} from {}",
            plural(n, "case", "cases"),
            result.file.name
        );
        for case in &result.cases {
            if case.passed() {
                let _ = writeln!(out, "test {} ... ok", case.case.name);
                continue;
            }
            let _ = writeln!(out, "test {} ... FAILED", case.case.name);
            if case.decision_differs {
                let _ = writeln!(out, "    expected: {}", case.case.expect.as_str());
                let _ = writeln!(out, "    got:      {}", case.decision);
            }
            if case.reasons_differ {
                let want: Vec<&str> = case
                    .case
                    .reasons
                    .iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                let _ = writeln!(out, "    expected reasons: {}", list(&want));
                let _ = writeln!(out, "    got reasons:      {}", list(&case.got_reasons()));
            }
        }
        if coverage {
            let uncovered = result.uncovered();
            let rules = result.file.policy.len();
            if uncovered.is_empty() {
                let _ = writeln!(
                    out,
                    "coverage: every rule ({rules}) was used by some case's decision"
                );
            } else {
                let _ = writeln!(
                    out,
                    "coverage: {} of {rules} {} used by no case's decision:",
                    uncovered.len(),
                    plural(rules, "rule", "rules")
                );
                for rule in uncovered {
                    let at = rule.location();
                    let _ = writeln!(
                        out,
                        "    {} ({}:{}:{})",
                        rule.id(),
                        rule.source_name(),
                        at.line,
                        at.column
                    );
                }
            }
        }
        out.push('\n');
    }
    let passed: usize = results.iter().map(FileResult::passed).sum();
    let failed: usize = results.iter().map(FileResult::failed).sum();
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    let _ = writeln!(
        out,
        "test result: {verdict}. {passed} passed, {failed} failed"
    );
    out
}

fn json_report(results: &[FileResult<'_>], coverage: bool) -> Json {
    let files: Vec<Json> = results
        .iter()
        .map(|result| {
            let cases: Vec<Json> = result
                .cases
                .iter()
                .map(|case| {
                    let mut differs = Vec::new();
                    if case.decision_differs {
                        differs.push("decision");
                    }
                    if case.reasons_differ {
                        differs.push("reasons");
                    }
                    json!({
                        "name": case.case.name,
                        "ok": case.passed(),
                        "expected": {
                            "decision": case.case.expect.as_str(),
                            "reasons": case.case.reasons,
                        },
                        "got": {
                            "decision": Expect::of(&case.decision).as_str(),
                            "reasons": case.got_reasons(),
                        },
                        "differs": differs,
                    })
                })
                .collect();
            let mut file = json!({
                "file": result.file.name,
                "passed": result.passed(),
                "failed": result.failed(),
                "cases": cases,
            });
            if coverage {
                let uncovered: Vec<Json> = result
                    .uncovered()
                    .iter()
                    .map(|rule| {
                        json!({
                            "rule": rule.id(),
                            "source": rule.source_name(),
                            "line": rule.location().line,
                            "column": rule.location().column,
                        })
                    })
                    .collect();
                file["uncovered"] = Json::from(uncovered);
            }
            file
        })
        .collect();
    let passed: usize = results.iter().map(FileResult::passed).sum();
    let failed: usize = results.iter().map(FileResult::failed).sum();
    json!({
        "ok": failed == 0,
        "passed": passed,
        "failed": failed,
        "files": files,
    })
}
