//! `tenure`: check policies and decide requests from the command line.
//!
//! Two subcommands (see `tenure --help`):
//!
//! * `tenure check FILE...` parses and checks policy files as one policy set and prints
//!   diagnostics with source snippets.
//! * `tenure authorize --policy FILE... --requests FILE.jsonl` decides a stream of JSON
//!   requests, one per line, and writes one JSON decision per line.
//!
//! Exit status is part of the interface and is documented in each subcommand's help.
#![forbid(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use serde_json::Value as Json;
use tenure::{DecidedBy, Decision, Identity, InputError, Policy, Resource};

/// Exit status: success (clean policies; every request decided).
const EXIT_OK: u8 = 0;
/// Exit status: a policy problem (diagnostics, or a policy file that cannot be read).
const EXIT_POLICY: u8 = 1;
/// Exit status: a request problem (malformed line or JSON, unreadable requests, I/O).
const EXIT_INPUT: u8 = 2;

/// Longest request line accepted, in bytes (newline excluded): room for an identity and
/// a resource at their own size limit each, plus framing.
const MAX_LINE_BYTES: usize = 2 * tenure::limits::MAX_ENTITY_JSON_BYTES + 64 * 1024;

const ABOUT: &str = "Check Tenure access policies and decide requests against them";

const LONG_ABOUT: &str = "\
Check Tenure access policies and decide requests against them.

A policy is a set of `.tenure` files: rules of the form `WHO grants WHAT;` or
`WHO denies WHAT;`. Deny overrides grant, and with no applying grant the decision is
deny. See docs/LANGUAGE.md for the language.";

const CHECK_ABOUT: &str = "Parse and check policy files as one policy set";

const CHECK_LONG_ABOUT: &str = "\
Parse and check policy files as one policy set.

All files are loaded together, in the order given, exactly as `authorize` would load
them: rules without `@id` are numbered across all files, and an `@id` used in two files
is an error. Every problem found is printed to standard error with a source snippet
(`FILE:LINE:COLUMN`). Colour is used only when standard error is a terminal and NO_COLOR
is not set.

When the policy set is clean, one summary line goes to standard output, such as
`ok: 7 rules in 2 files`; nothing is written to standard output otherwise.";

const CHECK_AFTER: &str = "\
Exit status:
  0  every file parsed and checked cleanly
  1  a file has errors, or a file cannot be read (missing, unreadable, not UTF-8)
  2  the command line is invalid";

const AUTHORIZE_ABOUT: &str = "Decide requests (JSON lines) against a policy";

const AUTHORIZE_LONG_ABOUT: &str = r#"Decide requests against a policy.

The policy is every --policy file, loaded in the order given as one policy set.

Requests come from --requests FILE (or `-` for standard input), one JSON object per
line:
  {"identity": {...}, "resource": {...}}
or, for a single request, from --identity JSON --resource JSON. An identity or resource
is a flat object of attributes (string, 64-bit integer, boolean, or array of strings;
null means absent) plus an optional "tags" object of strings. Blank lines are skipped
(they still count for line numbers); other keys on a request line are ignored. A line
may be at most 2 MiB plus 64 KiB long. Requests are read and answered one at a time,
so input of any length runs in constant memory.

For each request one line is written to standard output, in input order:
  {"decision":"allow","reasons":["rule-id",...]}
`decision` is "allow" or "deny"; `reasons` holds the bare ids of the rules that decided,
in load order: every applying deny, else every applying grant, else [] (default deny).
When a deny applied only because some comparison was unknown (an attribute missing or
of another type), the line also has "unknown": ["identity.status", "resource.tag:env",
...] naming those attributes; the field is left out when empty. More fields may be
added after these in later versions.

The exit status does not depend on the decisions: a deny is a normal answer. A
malformed request stops processing: the decisions for the lines before it have already
been written, and the error on standard error names the line number and JSON path,
such as `line 3: identity.groups[2]: set elements must be strings, found an integer`."#;

const AUTHORIZE_AFTER: &str = "\
Exit status:
  0  every request was decided (whatever the decisions were)
  1  the policy failed to compile, or a policy file cannot be read; nothing is written
     to standard output
  2  a request is malformed (bad JSON, not an object, missing identity or resource, a
     nested object, float or non-string set element where a value belongs, tags not an
     object of strings), the requests cannot be read, output cannot be written, or the
     command line is invalid";

/// The `tenure` command line.
#[derive(Debug, Parser)]
#[command(name = "tenure", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(about = CHECK_ABOUT, long_about = CHECK_LONG_ABOUT, after_help = CHECK_AFTER)]
    Check(CheckArgs),
    #[command(
        about = AUTHORIZE_ABOUT,
        long_about = AUTHORIZE_LONG_ABOUT,
        after_help = AUTHORIZE_AFTER
    )]
    Authorize(AuthorizeArgs),
}

/// Arguments of `tenure check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// Policy files (`.tenure`), loaded in this order as one policy set
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Arguments of `tenure authorize`.
#[derive(Debug, Args)]
struct AuthorizeArgs {
    /// A policy file; repeat to load several as one policy set, in the order given
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,

    /// Requests as JSON lines, `{"identity": {...}, "resource": {...}}`; `-` reads standard input
    #[arg(
        long,
        value_name = "FILE.jsonl",
        conflicts_with_all = ["identity", "resource"],
        required_unless_present_all = ["identity", "resource"]
    )]
    requests: Option<PathBuf>,

    /// One request's identity as a JSON object (with --resource, instead of --requests)
    #[arg(long, value_name = "JSON", requires = "resource")]
    identity: Option<String>,

    /// One request's resource as a JSON object (with --identity, instead of --requests)
    #[arg(long, value_name = "JSON", requires = "identity")]
    resource: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => check(&args),
        Command::Authorize(args) => authorize(&args),
    };
    ExitCode::from(code)
}

// ---------------------------------------------------------------------------------------
// Policies and diagnostics
// ---------------------------------------------------------------------------------------

/// A policy file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read policy file `{path}`: {reason}")]
struct ReadError {
    path: String,
    reason: String,
}

/// Reads every policy file as (name, text), the name being the path as given.
fn read_policy_files(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Vec<ReadError>> {
    let mut sources = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => errors.push(ReadError {
                path: name,
                reason: describe_io_error(&e),
            }),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

/// An I/O error in words, lowercase.
fn describe_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidData => "file is not valid UTF-8".to_string(),
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            // Drop the " (os error N)" suffix and lowercase the first letter.
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

/// Whether diagnostics on standard error should be coloured: only on a terminal, and
/// only when `NO_COLOR` is unset or empty (<https://no-color.org>).
fn stderr_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && io::stderr().is_terminal()
}

/// Writes every diagnostic of `error` to standard error, with source snippets.
fn print_diagnostics(error: &tenure::Error) {
    let terminal = io::stderr().is_terminal();
    let theme = match (terminal, stderr_color()) {
        (true, true) => miette::GraphicalTheme::unicode(),
        (true, false) => miette::GraphicalTheme::unicode_nocolor(),
        (false, _) => miette::GraphicalTheme::none(),
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100);
    let mut out = String::new();
    for diagnostic in error.diagnostics() {
        let report = diagnostic.to_report();
        let mut rendered = String::new();
        if handler
            .render_report(&mut rendered, report.as_ref())
            .is_err()
        {
            // Rendering into a String cannot fail in practice; fall back to the plain form.
            rendered = format!("error: {diagnostic}\n");
        }
        out.push_str(&rendered);
        out.push('\n');
    }
    let n = error.diagnostics().len();
    out.push_str(&format!(
        "error: {n} {} found\n",
        plural(n, "problem", "problems")
    ));
    let _ = io::stderr().lock().write_all(out.as_bytes());
}

fn print_read_errors(errors: &[ReadError]) {
    let mut stderr = io::stderr().lock();
    for e in errors {
        let _ = writeln!(stderr, "error: {e}");
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Reads and compiles the policy files, reporting problems on standard error.
fn load_policy(paths: &[PathBuf]) -> Result<Policy, ()> {
    let sources = read_policy_files(paths).map_err(|errors| print_read_errors(&errors))?;
    Policy::compile_sources(sources).map_err(|error| print_diagnostics(&error))
}

// ---------------------------------------------------------------------------------------
// tenure check
// ---------------------------------------------------------------------------------------

fn check(args: &CheckArgs) -> u8 {
    let Ok(policy) = load_policy(&args.files) else {
        return EXIT_POLICY;
    };
    let rules = policy.rules().len();
    let files = args.files.len();
    println!(
        "ok: {rules} {} in {files} {}",
        plural(rules, "rule", "rules"),
        plural(files, "file", "files")
    );
    EXIT_OK
}

// ---------------------------------------------------------------------------------------
// tenure authorize
// ---------------------------------------------------------------------------------------

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
            for reason in decision.reasons() {
                for u in reason.unknowns() {
                    let name = format!("{}.{}", u.side, u.attribute);
                    if !unknown.contains(&name) {
                        unknown.push(name);
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

fn authorize(args: &AuthorizeArgs) -> u8 {
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

fn authorize_one(
    policy: &Policy,
    identity: &str,
    resource: &str,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let parse = |flag: &str, text: &str| {
        parse_json(text).map_err(|message| Stop::Input(format!("{flag}: {message}")))
    };
    let bad = |e: InputError| Stop::Input(RequestError::from(e).to_string());
    let identity =
        Identity::from_json_value_at(&parse("--identity", identity)?, "identity").map_err(bad)?;
    let resource =
        Resource::from_json_value_at(&parse("--resource", resource)?, "resource").map_err(bad)?;
    write_decision(out, &policy.authorize(&identity, &resource))
}

/// Parses JSON text; the error reads `malformed JSON at column 5: EOF while parsing a value`.
fn parse_json(text: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        if e.line() > 1 {
            format!(
                "malformed JSON at line {} column {}: {message}",
                e.line(),
                e.column()
            )
        } else {
            format!("malformed JSON at column {}: {message}", e.column())
        }
    })
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
        let (identity, resource) = parse_request(text, n).map_err(fail)?;
        write_decision(out, &policy.authorize(&identity, &resource))?;
    }
    Ok(())
}

/// Parses one request line, `{"identity": {...}, "resource": {...}}`.
fn parse_request(text: &str, n: usize) -> Result<(Identity, Resource), RequestError> {
    let at = format!("line {n}");
    let json = parse_json(text).map_err(|message| RequestError {
        path: at.clone(),
        message,
    })?;
    let Json::Object(map) = &json else {
        return Err(RequestError {
            path: at,
            message: format!(
                "expected a JSON object with `identity` and `resource`, found {}",
                json_kind(&json)
            ),
        });
    };
    let field = |key: &str| {
        map.get(key).ok_or_else(|| RequestError {
            path: at.clone(),
            message: format!(
                "missing `{key}`; each line is {{\"identity\": {{...}}, \"resource\": {{...}}}}"
            ),
        })
    };
    let identity = Identity::from_json_value_at(field("identity")?, &format!("{at}: identity"))?;
    let resource = Resource::from_json_value_at(field("resource")?, &format!("{at}: resource"))?;
    Ok((identity, resource))
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// One line read by [`Lines`].
enum LineText<'a> {
    /// The line, without its line ending.
    Text(&'a str),
    /// Longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// Not UTF-8.
    NotUtf8,
}

/// Reads lines one at a time into one reused buffer, never holding more than
/// [`MAX_LINE_BYTES`] + 1 bytes of a line.
struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// How many lines have been read.
    number: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line with its 1-based number, or `None` at the end of input.
    fn next_line(&mut self) -> Option<(usize, io::Result<LineText<'_>>)> {
        self.buf.clear();
        let limit = (MAX_LINE_BYTES + 2) as u64; // the line, "\r\n"
        let read = match (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
        {
            Ok(0) => return None,
            Ok(read) => read,
            Err(e) => return Some((self.number + 1, Err(e))),
        };
        self.number += 1;
        let mut line: &[u8] = &self.buf[..read];
        let complete = line.ends_with(b"\n");
        if complete {
            line = &line[..line.len() - 1];
        }
        if line.ends_with(b"\r") {
            line = &line[..line.len() - 1];
        }
        let text = if line.len() > MAX_LINE_BYTES {
            LineText::TooLong
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => LineText::Text(text),
                Err(_) => LineText::NotUtf8,
            }
        };
        Some((self.number, Ok(text)))
    }
}
