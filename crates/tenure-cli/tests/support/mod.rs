//! What the process-level tests of `tenure` share: running the binary in a directory
//! (with standard input), reading its output, checking its exit status.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_tenure");

/// The fixture directory `tests/data/` (or a directory under it).
pub fn data_dir(under: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(under)
}

/// Runs `tenure ARGS` in `dir`, feeding `stdin` (from another thread, so that a large
/// input cannot deadlock against full output pipes; a broken pipe is expected when the
/// binary stops reading early).
pub fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tenure");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for tenure");
    writer.join().expect("stdin writer");
    output
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts the exit status, printing the output when it differs.
#[track_caller]
pub fn assert_code(o: &Output, expected: i32) {
    assert_eq!(
        o.status.code(),
        Some(expected),
        "unexpected exit status\n--- stdout\n{}--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}
