//! Replays every checked-in fuzz input under `fuzz/regressions/<target>/` — crashers the
//! fuzzers found, minimised, plus hand-written hostile cases — through the same checks
//! the fuzz targets run (`fuzz/src/lib.rs`, included here as a module), and the seed
//! corpora under `fuzz/seeds/<target>/` as well. So a fixed bug stays fixed without a
//! fuzzer installed.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code, missing_docs)]
mod checks;

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n != ".gitkeep" && n != "README.md")
        })
        .collect();
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8]) -> bool) -> usize {
    let mut n = 0;
    for kind in ["regressions", "seeds"] {
        for path in inputs(kind, target) {
            let data = std::fs::read(&path).expect("read input");
            // A panic here names the file through the message below.
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(
                result.is_ok(),
                "{target}: {} fails its check",
                path.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn parse_regressions() {
    assert!(replay("parse", checks::check_parse) > 0);
}

#[test]
fn roundtrip_regressions() {
    assert!(replay("roundtrip", checks::check_roundtrip) > 0);
}

#[test]
fn fmt_regressions() {
    assert!(replay("fmt", checks::check_fmt) > 0);
}

#[test]
fn lint_regressions() {
    assert!(replay("lint", checks::check_lint) > 0);
}

#[test]
fn builder_differential_regressions() {
    assert!(replay("builder_differential", checks::check_builder_differential) > 0);
}

#[test]
fn authorize_differential_regressions() {
    assert!(
        replay(
            "authorize_differential",
            checks::check_authorize_differential
        ) > 0
    );
}

#[test]
fn json_inputs_regressions() {
    assert!(replay("json_inputs", checks::check_json_inputs) > 0);
}

/// The checks run on a fixed policy, and the fuzz crate's independent evaluator agrees
/// with the engine on a fixed structured case.
#[test]
fn the_reference_evaluator_agrees_on_a_fixed_case() {
    assert!(checks::check_roundtrip(b"role = admin grants *;"));
    let case = checks::GCase::from_bytes(&[7u8; 512]).expect("case");
    let (allowed, _, _) = checks::reference_decision(&case);
    let policy = tenure::Policy::compile(&case.policy_text()).expect("compiles");
    assert_eq!(
        policy.is_allowed(&case.identity(), &case.resource()),
        allowed
    );
}
