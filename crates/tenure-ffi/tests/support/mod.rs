//! What the C and Python tests share: finding tools and the built library, and driving a
//! "proxy" (examples/proxy.c, examples/python/proxy.py) through a policy, a bad reload
//! and a good one, comparing every line with the Rust API's decision.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use tenure::{Policy, Request};

/// A tool on `PATH`; when missing, fails under `CI=true` and otherwise prints what was
/// not run and how to install it.
pub fn tool(name: &str, what: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let message = format!("`{name}` not found: {what} not run (install it: `{install}`)");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; CI=true requires it");
        }
        eprintln!("skipped: {message}");
    }
    found
}

/// The C compiler: `$CC`, else `cc`.
pub fn c_compiler(what: &str) -> Option<PathBuf> {
    match std::env::var_os("CC") {
        Some(cc) => Some(PathBuf::from(cc)),
        None => tool("cc", what, "apt-get install build-essential"),
    }
}

/// The directory holding `libtenure_ffi.a` and `libtenure_ffi.so` built with this test
/// (cargo builds every crate type of the library for the tests: they sit beside the
/// test binary, in `deps/`).
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe
        .parent()
        .expect("the test binary's directory")
        .to_path_buf();
    for dir in [
        deps.clone(),
        deps.parent().map(Path::to_path_buf).unwrap_or_default(),
    ] {
        if dir.join("libtenure_ffi.a").is_file() && dir.join("libtenure_ffi.so").is_file() {
            return dir;
        }
    }
    panic!("libtenure_ffi.a / .so not found beside {}", exe.display());
}

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles C `sources` against the header and the static library into `out`.
pub fn compile_c(cc: &Path, sources: &[PathBuf], out: &Path, extra: &[&str]) {
    let lib = library_dir().join("libtenure_ffi.a");
    let status = Command::new(cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .args(extra)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .args(sources)
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(out)
        .status()
        .expect("the C compiler runs");
    assert!(status.success(), "compiling {sources:?} failed");
}

/// Runs a C test program to completion; it must exit 0 and print `ok`.
pub fn run_ok(command: &mut Command) {
    let output = command.output().expect("the test program runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.starts_with("ok"),
        "{command:?} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}

pub const POLICY_A: &str = r#"
@id("dba") role = DBA grants type in [postgres, mysql];
@id("sre") groups = sre grants tag:env in [prod, staging] and not (type = k8s);
@id("cloud") role = CloudEngineer and clearance >= 3 grants tag:env = cloud or name ~ "cloud-*";
@id("leavers") status != active denies *;
@id("prod-freeze") * denies tag:env = prod and type = mysql;
"#;

pub const POLICY_B: &str = r#"
@id("dba-pg") role = DBA grants type = postgres;
@id("everyone-dev") * grants tag:env = dev;
@id("sre-all") groups in [sre, oncall] grants *;
@id("leavers") status != active denies *;
@id("low-clearance") clearance < 2 denies tag:env = prod;
"#;

pub const BROKEN: &str = "@id(\"dba\") role = DBA grants type in [postgres, ;\n";

/// `n` requests over a small attribute space (absent and mistyped values included), as
/// JSON lines; deterministic.
pub fn requests(n: usize, seed: u64) -> Vec<String> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |k: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % k
    };
    let roles = ["\"DBA\"", "\"SRE\"", "\"CloudEngineer\"", "7"];
    let statuses = ["\"active\"", "\"inactive\"", "true"];
    let groups = ["[\"sre\"]", "[\"oncall\", \"dba\"]", "[]", "\"sre\""];
    let types = ["postgres", "mysql", "ssh", "k8s"];
    let envs = ["prod", "staging", "dev", "cloud"];
    let names = ["cloud-db", "db-17", "cloud"];
    (0..n)
        .map(|_| {
            let mut identity = Vec::new();
            if next(5) > 0 {
                identity.push(format!("\"role\": {}", roles[next(4) as usize]));
            }
            if next(6) > 0 {
                identity.push(format!("\"status\": {}", statuses[next(3) as usize]));
            }
            if next(2) > 0 {
                identity.push(format!("\"groups\": {}", groups[next(4) as usize]));
            }
            if next(2) > 0 {
                identity.push(format!("\"clearance\": {}", next(5)));
            }
            let mut resource = vec![format!("\"type\": \"{}\"", types[next(4) as usize])];
            if next(4) > 0 {
                resource.push(format!(
                    "\"tags\": {{\"env\": \"{}\"}}",
                    envs[next(4) as usize]
                ));
            }
            if next(2) > 0 {
                resource.push(format!("\"name\": \"{}\"", names[next(3) as usize]));
            }
            format!(
                "{{\"identity\": {{{}}}, \"resource\": {{{}}}}}",
                identity.join(", "),
                resource.join(", ")
            )
        })
        .collect()
}

/// The line a proxy prints for `request` under `policy` serving as `version`.
pub fn expected_line(policy: &Policy, version: u64, request: &str) -> String {
    match Request::from_json(request) {
        Ok(request) => {
            let decision = policy.authorize(request.identity(), request.resource());
            let ids: Vec<&str> = decision.reason_ids().collect();
            format!(
                "{} {version} {}",
                if decision.is_allowed() {
                    "allow"
                } else {
                    "deny"
                },
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(",")
                }
            )
        }
        Err(_) => "deny 0 error:4".to_string(),
    }
}

/// Drives a proxy (`command`, to which the policy file's path is appended) through
/// policy A, a bad reload, more requests, a reload to policy B and more requests,
/// checking every line against the Rust API; returns how many decisions it checked.
pub fn drive_proxy(mut command: Command, dir: &Path) -> usize {
    let file = dir.join("policy.tenure");
    std::fs::write(&file, POLICY_A).expect("the policy file is writable");
    let mut child = command
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the proxy starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut checked = 0;
    let a = Policy::compile(POLICY_A).expect("policy A compiles");
    let b = Policy::compile(POLICY_B).expect("policy B compiles");
    let mut phase = |stdin: &mut ChildStdin,
                     stdout: &mut BufReader<ChildStdout>,
                     requests: Vec<String>,
                     policy: &Policy,
                     version: u64| {
        for request in &requests {
            writeln!(stdin, "{request}").expect("the proxy reads");
            stdin.flush().expect("flush");
            let got = read_line(stdout);
            let want = expected_line(policy, version, request);
            if want.starts_with("deny 0 error:") {
                assert!(
                    got.starts_with(&want),
                    "request {request}: got `{got}`, want `{want} …`"
                );
            } else {
                assert_eq!(got, want, "request {request}");
            }
            checked += 1;
        }
    };
    let mut first = requests(150, 1);
    first.push("{\"identity\": {\"role\": \"DBA\"}, \"identity\": {}}".into());
    first.push("not json".into());
    phase(&mut stdin, &mut stdout, first, &a, 1);

    std::fs::write(&file, BROKEN).expect("the policy file is writable");
    writeln!(stdin, "!reload").expect("the proxy reads");
    stdin.flush().expect("flush");
    let line = read_line(&mut stdout);
    assert!(
        line.starts_with("reload-failed 1 <policy>:1:"),
        "a bad reload is reported with its location: `{line}`"
    );
    phase(&mut stdin, &mut stdout, requests(50, 2), &a, 1);

    std::fs::write(&file, POLICY_B).expect("the policy file is writable");
    writeln!(stdin, "!reload").expect("the proxy reads");
    stdin.flush().expect("flush");
    assert_eq!(read_line(&mut stdout), "reloaded 2");
    phase(&mut stdin, &mut stdout, requests(150, 3), &b, 2);

    drop(stdin);
    let output = child.wait_with_output().expect("the proxy exits");
    assert!(
        output.status.success(),
        "the proxy exited with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    checked
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the proxy answers");
    line.trim_end().to_string()
}
