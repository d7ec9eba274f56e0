//! Tests of `tenure fmt`: in-place rewrites, standard input and output, `--check` and its
//! diff, exit statuses, and idempotence through the binary.
//!
//! Each test runs the binary in its own temporary directory, since `fmt` rewrites files.

mod support;

use std::path::Path;

use support::{assert_code, run_in, stderr, stdout};

const MESSY: &str = "# deployers\n@id(\"deploy\")   role=dev  grants env in [dev,staging]; # ok\n\n\n\n* denies tag:env=prod;";
const TIDY: &str =
    "# deployers\n@id(\"deploy\")\nrole = dev grants env in [dev, staging]; # ok\n\n* denies tag:env = prod;\n";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read file")
}

#[test]
fn fmt_rewrites_files_in_place_silently_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = dir.path().join("messy.tenure");
    let tidy = dir.path().join("tidy.tenure");
    std::fs::write(&messy, MESSY).expect("write");
    std::fs::write(&tidy, TIDY).expect("write");

    let o = run_in(dir.path(), &["fmt", "messy.tenure", "tidy.tenure"], b"");
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    assert_eq!(read(&messy), TIDY);
    assert_eq!(read(&tidy), TIDY);

    // A second run changes nothing, and --check agrees.
    let o = run_in(dir.path(), &["fmt", "messy.tenure"], b"");
    assert_code(&o, 0);
    assert_eq!(read(&messy), TIDY);
    let o = run_in(
        dir.path(),
        &["fmt", "--check", "messy.tenure", "tidy.tenure"],
        b"",
    );
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");

    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[cfg(unix)]
#[test]
fn fmt_keeps_the_permissions_of_a_rewritten_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.tenure");
    std::fs::write(&path, MESSY).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    assert_code(&run_in(dir.path(), &["fmt", "p.tenure"], b""), 0);
    assert_eq!(read(&path), TIDY);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn fmt_dash_reads_standard_input_and_writes_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run_in(dir.path(), &["fmt", "-"], MESSY.as_bytes());
    assert_code(&o, 0);
    assert_eq!(stdout(&o), TIDY);
    assert_eq!(stderr(&o), "");
    // Idempotent through the binary.
    let again = run_in(dir.path(), &["fmt", "-"], TIDY.as_bytes());
    assert_code(&again, 0);
    assert_eq!(stdout(&again), TIDY);
}

#[test]
fn fmt_check_prints_a_diff_and_exits_1_without_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = dir.path().join("messy.tenure");
    std::fs::write(&messy, MESSY).expect("write");
    std::fs::write(dir.path().join("tidy.tenure"), TIDY).expect("write");

    let o = run_in(
        dir.path(),
        &["fmt", "--check", "tidy.tenure", "messy.tenure"],
        b"",
    );
    assert_code(&o, 1);
    assert_eq!(read(&messy), MESSY, "--check must not write");
    let diff = stdout(&o);
    assert!(
        diff.starts_with("--- messy.tenure\n+++ messy.tenure (formatted)\n@@ "),
        "{diff}"
    );
    assert!(
        diff.contains("\n-@id(\"deploy\")   role=dev  grants env in [dev,staging]; # ok\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n+@id(\"deploy\")\n+role = dev grants env in [dev, staging]; # ok\n"),
        "{diff}"
    );
    assert!(!diff.contains("tidy.tenure"), "{diff}");

    // Standard input too: the diff, exit 1, and not the formatted text.
    let o = run_in(dir.path(), &["fmt", "--check", "-"], MESSY.as_bytes());
    assert_code(&o, 1);
    assert!(
        stdout(&o).starts_with("--- <stdin>\n+++ <stdin> (formatted)\n"),
        "{}",
        stdout(&o)
    );
    let o = run_in(dir.path(), &["fmt", "--check", "-"], TIDY.as_bytes());
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
}

#[test]
fn fmt_syntax_error_prints_diagnostics_exits_2_and_formats_the_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = "role = x grants *;\nrole = y grants type => rdp;\n";
    std::fs::write(dir.path().join("broken.tenure"), broken).expect("write");
    let messy = dir.path().join("messy.tenure");
    std::fs::write(&messy, MESSY).expect("write");

    let o = run_in(dir.path(), &["fmt", "broken.tenure", "messy.tenure"], b"");
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("broken.tenure:2:"), "{err}");
    assert!(err.contains("role = y grants type => rdp;"), "{err}");
    assert_eq!(read(&dir.path().join("broken.tenure")), broken);
    assert_eq!(read(&messy), TIDY, "the other file is still formatted");

    let o = run_in(dir.path(), &["fmt", "-"], b"x = grants *;");
    assert_code(&o, 2);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("<stdin>:1:12"), "{}", stderr(&o));
}

#[test]
fn fmt_missing_or_non_utf8_file_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run_in(dir.path(), &["fmt", "nope.tenure"], b"");
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("cannot read policy file `nope.tenure`: no such file"),
        "{}",
        stderr(&o)
    );

    std::fs::write(
        dir.path().join("latin1.tenure"),
        b"role = caf\xe9 grants *;",
    )
    .expect("write");
    let o = run_in(dir.path(), &["fmt", "--check", "latin1.tenure"], b"");
    assert_code(&o, 2);
    assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
}

#[test]
fn fmt_bad_flag_or_no_file_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_code(&run_in(dir.path(), &["fmt", "--chek", "x.tenure"], b""), 2);
    assert_code(&run_in(dir.path(), &["fmt"], b""), 2);
}

#[test]
fn fmt_help_documents_exit_statuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run_in(dir.path(), &["fmt", "--help"], b"");
    assert_code(&o, 0);
    let help = stdout(&o);
    assert!(help.contains("Exit status:"), "{help}");
    assert!(help.contains("--check"), "{help}");
}
