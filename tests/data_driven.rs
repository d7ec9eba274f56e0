//! Data-driven cases: each `tests/data/NAME.tenure` policy is checked against the requests
//! in `tests/data/NAME.jsonl`, one JSON object a line:
//! `{"identity": {...}, "resource": {...}, "decision": "allow"|"deny", "reasons": [ids]}`.
//! Adding a case is adding a line (or a pair of files).

use std::fs;
use std::path::Path;

use tenure::{Identity, Policy, Resource};

#[test]
fn data_files_decide_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut policies: Vec<_> = fs::read_dir(&dir)
        .expect("tests/data exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tenure"))
        .collect();
    policies.sort();
    assert!(
        policies.len() >= 3,
        "expected data files in {}",
        dir.display()
    );
    let mut checked = 0;
    for path in policies {
        let text = fs::read_to_string(&path).expect("readable policy");
        let name = path.display().to_string();
        let policy = Policy::compile_sources([(name.as_str(), text.as_str())])
            .unwrap_or_else(|e| panic!("{e}"));
        let requests = fs::read_to_string(path.with_extension("jsonl"))
            .unwrap_or_else(|_| panic!("{name}: missing .jsonl beside it"));
        for (n, line) in requests.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with("//") {
                continue;
            }
            let case: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            let identity = Identity::from_json_value(&case["identity"]).expect("identity");
            let resource = Resource::from_json_value(&case["resource"]).expect("resource");
            let decision = policy.authorize(&identity, &resource);
            let got = if decision.is_allowed() {
                "allow"
            } else {
                "deny"
            };
            let reasons: Vec<&str> = decision.reason_ids().collect();
            let want_reasons: Vec<&str> = case["reasons"]
                .as_array()
                .expect("reasons array")
                .iter()
                .map(|v| v.as_str().expect("reason id"))
                .collect();
            assert_eq!(
                (got, reasons),
                (case["decision"].as_str().expect("decision"), want_reasons),
                "{}.jsonl line {}",
                path.with_extension("").display(),
                n + 1
            );
            assert_eq!(
                policy.is_allowed(&identity, &resource),
                decision.is_allowed()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} data cases");
}
