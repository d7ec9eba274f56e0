//! The C API from Python through `ctypes` (no compiler needed): `examples/python/proxy.py`
//! decides as the Rust API does, across a bad and a good reload, and
//! `examples/python/check.py` checks the conventions and threads deciding while the
//! main thread reloads.
//!
//! Needs `python3`: under `CI=true` a missing one fails the test; elsewhere the test prints
//! what it did not run and how to install it.

mod support;

use std::process::Command;

use support::{crate_dir, drive_proxy, library_dir, run_ok, tool};

fn python(script: &str) -> Option<Command> {
    let python = tool(
        "python3",
        "the Python ctypes tests",
        "apt-get install python3",
    )?;
    let mut command = Command::new(python);
    command
        .arg(crate_dir().join("examples/python").join(script))
        .env("TENURE_FFI_LIB", library_dir().join("libtenure_ffi.so"));
    Some(command)
}

#[test]
fn proxy_py_decides_as_the_rust_api() {
    let Some(command) = python("proxy.py") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    assert_eq!(drive_proxy(command, dir.path()), 352);
}

#[test]
fn python_checks_the_conventions_and_threads() {
    let Some(mut command) = python("check.py") else {
        return;
    };
    run_ok(&mut command);
}
