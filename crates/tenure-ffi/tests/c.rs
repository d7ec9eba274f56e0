//! The C API from real C: `examples/proxy.c` against the Rust API's decisions, the
//! conventions (`tests/c/api.c`) and pthreads deciding while the main thread reloads
//! (`tests/c/threads.c`) — each built plainly, run under valgrind memcheck (no errors,
//! no leaks) and built with AddressSanitizer (LeakSanitizer included).
//!
//! Needs a C compiler and valgrind: under `CI=true` a missing one fails the test;
//! elsewhere the test prints what it did not run and how to install it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{c_compiler, compile_c, crate_dir, drive_proxy, run_ok, tool};

const VALGRIND: &[&str] = &[
    "-q",
    "--error-exitcode=97",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--show-leak-kinds=definite,indirect,possible",
];

fn program(name: &str) -> PathBuf {
    match name {
        "proxy" => crate_dir().join("examples/proxy.c"),
        other => crate_dir().join(format!("tests/c/{other}.c")),
    }
}

/// Builds `name` plainly and with AddressSanitizer into `dir`.
fn build(cc: &Path, name: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let plain = dir.join(name);
    compile_c(cc, &[program(name)], &plain, &["-O1"]);
    let asan = dir.join(format!("{name}-asan"));
    compile_c(
        cc,
        &[program(name)],
        &asan,
        &["-O1", "-fsanitize=address", "-fno-omit-frame-pointer"],
    );
    (plain, asan)
}

fn asan(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    command.env(
        "ASAN_OPTIONS",
        "detect_leaks=1:abort_on_error=0:exitcode=98",
    );
    command
}

fn valgrind(valgrind: &Path, binary: &Path) -> Command {
    let mut command = Command::new(valgrind);
    command.args(VALGRIND).arg(binary);
    command
}

#[test]
fn proxy_c_decides_as_the_rust_api_plain_under_valgrind_and_asan() {
    let Some(cc) = c_compiler("the C proxy test") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (plain, sanitized) = build(&cc, "proxy", dir.path());
    assert_eq!(drive_proxy(Command::new(&plain), dir.path()), 352);
    assert_eq!(drive_proxy(asan(&sanitized), dir.path()), 352);
    if let Some(vg) = tool(
        "valgrind",
        "the C proxy under valgrind",
        "apt-get install valgrind",
    ) {
        assert_eq!(drive_proxy(valgrind(&vg, &plain), dir.path()), 352);
    }
}

#[test]
fn api_conventions_hold_from_c() {
    let Some(cc) = c_compiler("the C API conventions test") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (plain, sanitized) = build(&cc, "api", dir.path());
    run_ok(&mut Command::new(&plain));
    run_ok(&mut asan(&sanitized));
    if let Some(vg) = tool(
        "valgrind",
        "the C API test under valgrind",
        "apt-get install valgrind",
    ) {
        run_ok(&mut valgrind(&vg, &plain));
    }
}

#[test]
fn pthreads_decide_while_the_main_thread_reloads() {
    let Some(cc) = c_compiler("the C threads test") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (plain, sanitized) = build(&cc, "threads", dir.path());
    run_ok(Command::new(&plain).args(["20000", "2000"]));
    run_ok(asan(&sanitized).args(["5000", "500"]));
    if let Some(vg) = tool(
        "valgrind",
        "the C threads test under valgrind",
        "apt-get install valgrind",
    ) {
        run_ok(valgrind(&vg, &plain).args(["1000", "100"]));
    }
}
