//! `tenure`: check policies and decide requests from the command line.
//!
//! Two subcommands (see `tenure --help`), one module each:
//!
//! * `tenure check FILE...` ([`check`]) parses and checks policy files as one policy set
//!   and prints diagnostics with source snippets ([`report`]).
//! * `tenure authorize --policy FILE... --requests FILE.jsonl` ([`authorize`]) decides a
//!   stream of JSON requests, one per line, and writes one JSON decision per line.
//!
//! Exit status is part of the interface and is documented in each subcommand's help,
//! next to its arguments below.
#![forbid(unsafe_code)]

mod authorize;
mod check;
mod lines;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Exit status: success (clean policies; every request decided).
const EXIT_OK: u8 = 0;
/// Exit status: a policy problem (diagnostics, or a policy file that cannot be read).
const EXIT_POLICY: u8 = 1;
/// Exit status: a request problem (malformed line or JSON, unreadable requests, I/O).
const EXIT_INPUT: u8 = 2;

/// The `tenure` command line.
#[derive(Debug, Parser)]
#[command(
    name = "tenure",
    version,
    about = "Check Tenure access policies and decide requests against them",
    long_about = "\
Check Tenure access policies and decide requests against them.

A policy is a set of `.tenure` files: rules of the form `WHO grants WHAT;` or
`WHO denies WHAT;`. Deny overrides grant, and with no applying grant the decision is
deny. See docs/LANGUAGE.md for the language."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(
        about = "Parse and check policy files as one policy set",
        long_about = "\
Parse and check policy files as one policy set.

All files are loaded together, in the order given, exactly as `authorize` would load
them: rules without `@id` are numbered across all files, and an `@id` used in two files
is an error. Every problem found is printed to standard error with a source snippet
(`FILE:LINE:COLUMN`). Colour is used only when standard error is a terminal and NO_COLOR
is not set.

When the policy set is clean, one summary line goes to standard output, such as
`ok: 7 rules in 2 files`; nothing is written to standard output otherwise.",
        after_help = "\
Exit status:
  0  every file parsed and checked cleanly
  1  a file has errors, or a file cannot be read (missing, unreadable, not UTF-8)
  2  the command line is invalid"
    )]
    Check(CheckArgs),
    #[command(
        about = "Decide requests (JSON lines) against a policy",
        long_about = r#"Decide requests against a policy.

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
such as `line 3: identity.groups[2]: set elements must be strings, found an integer`."#,
        after_help = "\
Exit status:
  0  every request was decided (whatever the decisions were)
  1  the policy failed to compile, or a policy file cannot be read; nothing is written
     to standard output
  2  a request is malformed (bad JSON, not an object, missing identity or resource, a
     nested object, float or non-string set element where a value belongs, tags not an
     object of strings), the requests cannot be read, output cannot be written, or the
     command line is invalid"
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
        Command::Check(args) => check::run(&args),
        Command::Authorize(args) => authorize::run(&args),
    };
    ExitCode::from(code)
}
