//! `tenure authorize`: decide requests, one JSON object per line, against a policy.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use tenure::{Code, DecidedBy, Decision, Identity, InputError, Policy, Request, Resource};

use crate::lines::{LineText, Lines, MAX_LINE_BYTES};
use crate::report::{describe_io_error, load_policy};
use crate::{AuthorizeArgs, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

/// One output line. `decision` and `reasons` come first and are fixed.
#[derive(Debug, Serialize)]
struct Output<'a> {
    decision: &'static str,
    reasons: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<String>,
}

impl<'a> Output<'a> {
    fn of(decision: &'a Decision) -> Output<'a> {
        let mut unknown: Vec<String> = Vec::new();
        if decision.decided_by() == DecidedBy::Deny {
            // Linear: 64 000 denies applying by unknown must not cost 64 000².
            let mut seen = HashSet::new();
            for reason in decision.reasons() {
                for u in reason.unknowns() {
                    if seen.insert((u.side, &u.attribute)) {
                        unknown.push(format!("{}.{}", u.side, u.attribute));
                    }
                }
            }
        }
        Output {
            decision: if decision.is_allowed() {
                "allow"
            } else {
                "deny"
            },
            reasons: decision.reason_ids().collect(),
            unknown,
        }
    }
}

/// Why `authorize` stopped early.
#[derive(Debug)]
enum Stop {
    /// A request could not be read or is malformed.
    Input(String),
    /// Standard output is closed (as under `| head`): stop quietly.
    BrokenPipe,
    /// Standard output failed otherwise.
    Output(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::BrokenPipe
        } else {
            Stop::Output(e)
        }
    }
}

/// A malformed request: where (`line 3: identity.groups[2]`) and what.
#[derive(Debug)]
struct RequestError {
    path: String,
    message: String,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl From<InputError> for RequestError {
    fn from(e: InputError) -> RequestError {
        RequestError {
            path: e.path().to_string(),
            message: e.message().to_string(),
        }
    }
}

pub(crate) fn run(args: &AuthorizeArgs) -> u8 {
    let Ok(policy) = load_policy(&args.policy) else {
        return EXIT_POLICY;
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match (&args.requests, &args.identity, &args.resource) {
        (Some(path), _, _) => authorize_stream(&policy, path, &mut out),
        (None, Some(identity), Some(resource)) => {
            authorize_one(&policy, identity, resource, &mut out)
        }
        // clap enforces one of the two forms.
        _ => Err(Stop::Input(
            "give --requests FILE, or --identity JSON and --resource JSON".to_string(),
        )),
    };
    // Write what was decided before reporting a later problem.
    let flushed = out.flush().map_err(Stop::from);
    match result.and(flushed) {
        Ok(()) | Err(Stop::BrokenPipe) => EXIT_OK,
        Err(Stop::Input(message)) => {
            eprintln!("error: {message}");
            EXIT_INPUT
        }
        Err(Stop::Output(e)) => {
            eprintln!(
                "error: cannot write to standard output: {}",
                describe_io_error(&e)
            );
            EXIT_INPUT
        }
    }
}

fn write_decision(out: &mut impl Write, decision: &Decision) -> Result<(), Stop> {
    serde_json::to_writer(&mut *out, &Output::of(decision)).map_err(|e| {
        match e.io_error_kind() {
            Some(kind) => Stop::from(io::Error::from(kind)),
            None => Stop::Output(io::Error::other(e)),
        }
    })?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads one request given on the command line as `--identity JSON --resource JSON`
/// (`authorize`, `explain`). The error names the flag when the JSON is malformed
/// (`--identity: …`), else the path of the problem (`identity.groups[2]: …`).
pub(crate) fn read_request_flags(
    identity: &str,
    resource: &str,
) -> Result<(Identity, Resource), String> {
    let bad = |flag: &str, e: InputError| {
        if e.code() == Code::MalformedJson {
            format!("{flag}: {}", e.message())
        } else {
            RequestError::from(e).to_string()
        }
    };
    let identity = Identity::from_json(identity).map_err(|e| bad("--identity", e))?;
    let resource = Resource::from_json(resource).map_err(|e| bad("--resource", e))?;
    Ok((identity, resource))
}

fn authorize_one(
    policy: &Policy,
    identity: &str,
    resource: &str,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (identity, resource) = read_request_flags(identity, resource).map_err(Stop::Input)?;
    write_decision(out, &policy.authorize(&identity, &resource))
}

fn authorize_stream(policy: &Policy, path: &Path, out: &mut impl Write) -> Result<(), Stop> {
    let stdin;
    let (name, reader): (String, Box<dyn BufRead>) = if path.as_os_str() == "-" {
        stdin = io::stdin();
        ("<stdin>".to_string(), Box::new(stdin.lock()))
    } else {
        let name = path.display().to_string();
        match File::open(path) {
            Ok(file) => (name, Box::new(BufReader::with_capacity(64 * 1024, file))),
            Err(e) => {
                return Err(Stop::Input(format!(
                    "cannot read requests file `{name}`: {}",
                    describe_io_error(&e)
                )))
            }
        }
    };
    let mut lines = Lines::new(reader);
    while let Some((n, line)) = lines.next_line() {
        let fail = |e: RequestError| Stop::Input(format!("{name}: {e}"));
        let text = line.map_err(|e| {
            Stop::Input(format!(
                "{name}: line {n}: cannot read: {}",
                describe_io_error(&e)
            ))
        })?;
        let text = match text {
            LineText::Text(text) => text,
            LineText::TooLong => {
                return Err(fail(RequestError {
                    path: format!("line {n}"),
                    message: format!("longer than {MAX_LINE_BYTES} bytes"),
                }))
            }
            LineText::NotUtf8 => {
                return Err(fail(RequestError {
                    path: format!("line {n}"),
                    message: "not valid UTF-8".to_string(),
                }))
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let request = parse_request(text, n).map_err(fail)?;
        write_decision(out, &policy.decide(&request))?;
    }
    Ok(())
}

/// Parses one request line, `{"identity": {...}, "resource": {...}}`; errors read
/// `line 3: identity.groups[2]: …`, problems of the line as a whole `line 3: …`.
fn parse_request(text: &str, n: usize) -> Result<Request, RequestError> {
    Request::from_json(text).map_err(|e| {
        let path = match e.path() {
            "request" => format!("line {n}"),
            path => format!("line {n}: {path}"),
        };
        RequestError {
            path,
            message: e.message().to_string(),
        }
    })
}
