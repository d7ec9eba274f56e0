//! `tenure`: check policies, decide requests, and follow identities through their
//! lifecycle from the command line.
//!
//! Subcommands (see `tenure --help`), one module each:
//!
//! * `tenure check FILE...` ([`check`]) parses and checks policy files as one policy set
//!   and prints diagnostics with source snippets ([`report`]).
//! * `tenure fmt [--check] FILE...` ([`fmt`]) rewrites policy files in the canonical
//!   layout of `tenure::format`, or with `--check` prints the diff of those that would
//!   change.
//! * `tenure authorize --policy FILE... --requests FILE.jsonl` ([`authorize`]) decides a
//!   stream of JSON requests, one per line, and writes one JSON decision per line.
//! * `tenure explain --policy FILE... --identity JSON --resource JSON` ([`explain`])
//!   shows why one request is decided as it is, rule by rule and atom by atom.
//! * `tenure test FILE...` ([`policy_test`]) runs policy unit tests written as JSON.
//! * The lifecycle commands ([`lifecycle`]): `directory` / `inventory` import and export,
//!   `entitlements`, `who-can`, `impact`, `scim apply`, `journal`, `schedule`, `advance`,
//!   on a store (`--store sqlite:PATH` or `postgres://…`) through `tenure-directory`.
//!
//! Exit status is part of the interface and is documented in each subcommand's help,
//! next to its arguments below.
#![forbid(unsafe_code)]

mod authorize;
mod check;
mod explain;
mod export;
mod fmt;
mod lifecycle;
mod lines;
mod lint;
mod policy_test;
mod report;
mod schema_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
        about = "Rewrite policy files in the canonical layout, comments kept",
        long_about = "\
Rewrite policy files in the canonical layout, comments kept.

One rule per line (`WHO grants WHAT;`), single spaces between tokens, each annotation
on its own line above its rule, one blank line where the source had one or more, no
trailing whitespace, one line break at the end. A rule longer than 100 characters is
broken before each top-level `or`/`and` and before `grants`/`denies`, continuation
lines indented by four spaces. Comments stay where they are; a comment between the
tokens of a rule moves to its own line just above the rule. Rules are never reordered:
the formatted policy decides every request as before. See docs/AUTHORING.md.

Each FILE is rewritten in place, atomically (a new file beside it, renamed over it,
with the same permissions), only when it changes; nothing is printed on success. `-`
reads standard input and writes the formatted policy to standard output.

With --check nothing is written: a unified diff (to standard output) shows each file
that would change. A file that cannot be read, is not UTF-8 or does not parse is
reported on standard error (diagnostics with source snippets, as `tenure check` prints
them) and left as it is; the other files are still formatted.",
        after_help = "\
Exit status:
  0  every file is formatted (with --check: every file already was)
  1  with --check: a file would change (its diff is on standard output)
  2  a file cannot be read, is not UTF-8, does not parse or cannot be written, or the
     command line is invalid"
    )]
    Fmt(FmtArgs),
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
    #[command(
        about = "Explain why one request is decided as it is",
        long_about = r#"Explain why one request is decided as it is.

The policy is every --policy file, loaded in the order given as one policy set; the
request is --identity JSON and --resource JSON, read exactly as `authorize` reads them.

For each rule the index examines for this request (its candidates, which include every
rule that can apply; --all: every rule of the policy), in load order: its id, effect and
FILE:LINE:COLUMN; each side (`who` on the identity, `what` on the resource) as a tree of
`and`, `or`, `not` and atoms, each with its outcome (true, false or unknown) and what the
atom saw: the value (strings quoted, sets as arrays), or that the attribute is missing,
or a type mismatch (a value of another type than the comparison needs); then how the
sides combine (a grant applies when both are true, a deny when neither is false) and
whether the rule applies. Then the deny-overrides step: the applying denies, the
applying grants, and the verdict with its reason; last, the decision, exactly as
`authorize` would decide it.

Atoms are shown in their checked form: `x < 3` and `x <= 2` both read `x < 3`,
`x > 2` reads `x >= 3`.

--format json writes one JSON document, whose shape is documented with
`Explanation::to_json` in the library (decision, decided_by, reasons, scope,
rule_count, rules, deny_overrides)."#,
        after_help = "\
Exit status:
  0  the request was explained (whatever the decision is)
  1  the policy failed to compile, or a policy file cannot be read; nothing is written
     to standard output
  2  the identity or resource is malformed (bad JSON, a nested object, a float...),
     output cannot be written, or the command line is invalid"
    )]
    Explain(ExplainArgs),
    #[command(
        about = "Run policy unit tests (JSON files), reported like `cargo test`",
        long_about = r#"Run policy unit tests written as JSON files.

Each FILE is one JSON object:
  {"policies": ["path.tenure", ...],
   "cases": [{"name": "...", "identity": {...}, "resource": {...},
              "expect": "allow" | "deny", "reasons": ["rule-id", ...]}]}
Policy paths are relative to the test file's directory; each FILE's policies are
loaded, in the order listed, as one policy set of their own. "reasons" is optional:
when given, the decision's reasons (rule ids in load order: every applying deny, else
every applying grant, else none) must equal it, order included. Unknown keys, and
duplicate keys, are errors. Every FILE is read and its policies compiled before any case
runs.

The report, like `cargo test`:
  running 3 cases from tests/access.json
  test leavers are denied ... ok
  test dba reaches staging ... FAILED
      expected: allow
      got:      deny by leavers (unknown: identity.status)
then `test result: ok. N passed, M failed` (FAILED instead of ok when M > 0).

--coverage lists, per FILE, the rules that no case's decision used, with FILE:LINE:COLUMN;
a rule is used when it is among the reasons of some case's decision, whether the case
passed or not (a grant overridden by a deny is not used).

--format json writes one JSON document: {"ok": BOOL, "passed": N, "failed": M,
"files": [{"file", "passed", "failed", "cases": [{"name", "ok", "expected": {"decision",
"reasons"}, "got": {"decision", "reasons"}, "differs": ["decision", "reasons"]}],
"uncovered": [{"rule", "source", "line", "column"}] (with --coverage)}]}."#,
        after_help = "\
Exit status:
  0  every case passed
  1  a case failed
  2  a test file cannot be read or is malformed (bad JSON, an unknown or missing key, a
     value of the wrong type, a malformed identity or resource), a policy file cannot be
     read or does not compile (no case is run then), output cannot be written, or the
     command line is invalid"
    )]
    Test(TestArgs),
    #[command(
        about = "Lint policy files: schema violations, dead or redundant rules, lifecycle gaps",
        long_about = r#"Lint policy files: mistakes a policy compiles with.

The policy is every POLICY file, loaded as one policy set (as `check` loads them). Every
lint has a stable code and name (L001 unknown-attribute ... L014 deny-when-absent), a
default level (allow, warn or deny) and an explanation: `tenure lint --explain NAME`
prints it with a bad and a good example.

Levels come from, in increasing precedence: each lint's default; the `[lint]` table of
the nearest `tenure.toml` found by searching upward from each policy file's directory
(`--config FILE` names one instead, `--no-config` uses none), as `name = "warn"`; the
flags --allow, --warn and --deny NAME (names or codes, repeatable). The same file's
`[lifecycle]` table sets `status_attribute` and `active_value` (default `status` and
`active`). A rule annotated `@allow("NAME")` is exempt from that lint.

--schema adds the schema lints (L001-L003 by declared type, L014); without it L003
checks types within the policy. --mapping names the SCIM mapping (TOML) whose written
attributes `mover-residue` (L013) checks against; without it, the lifecycle's default
mapping.

Every finding at warn or deny is reported, whatever --fail-level, to standard output:
human (snippets), json (one array of {"code","name","level","message","file","line",
"column","rule","help"}), sarif (SARIF 2.1.0, for code scanning) or github (workflow
commands, `::warning file=...,line=...,col=...::...`)."#,
        after_help = "\
Exit status:
  0  no finding at or above --fail-level (default deny)
  1  findings at or above --fail-level
  2  could not run: a file cannot be read, a syntax or value error in a policy, schema,
     mapping or configuration, an unknown lint, or an invalid command line"
    )]
    Lint(LintArgs),
    #[command(
        about = "Check identities or resources (JSON lines) against a schema",
        long_about = "\
Check identities or resources against a schema.

Each line of --identities FILE or --resources FILE (`-` reads standard input) is one
identity or resource in the core JSON shape. Every problem is printed as
`FILE:line N: PATH: message [code]`: a `required` attribute missing
(tenure::schema::missing_required), a value of another type than declared
(tenure::schema::wrong_type), a value outside the enum (tenure::schema::not_in_enum).
Attributes the schema does not declare are allowed.",
        after_help = "\
Exit status:
  0  every line fits the schema
  1  problems were found
  2  the schema or the data cannot be read or parsed (a malformed JSON line), or the
     command line is invalid"
    )]
    Validate(ValidateArgs),
    #[command(
        about = "Export a policy to Cedar (and a schema to a Cedar schema)",
        long_about = "\
Export a policy to Cedar policy text, on standard output.

Each rule becomes one Cedar policy (a grant a `permit`, a deny a `forbid`, its id an
`@id` annotation) over `principal` (the identity) and `resource`; comparisons are guarded
with `has` so that absent attributes behave as in Tenure. Anything Cedar cannot express
(globs with `?`, globs or orderings on set attributes, mixed-type lists, annotation
names) is reported on standard error, all of it with locations, and nothing is exported.

With --schema, the attributes the schema declares `set` are the set attributes of the
export (else `groups`), and the schema is written as a Cedar schema (entity types
`Identity` and `Resource`, action `access`) to --schema-out FILE, or after the policies
on standard output.",
        after_help = "\
Exit status:
  0  exported
  1  a policy or schema does not compile or cannot be read, or a construct cannot be
     expressed in Cedar (nothing is exported)
  2  output cannot be written, or the command line is invalid"
    )]
    Export(CedarExportArgs),
    #[command(
        subcommand,
        about = "Import or export the identities of a store (JSON Lines)"
    )]
    Directory(CatalogCommand),
    #[command(
        subcommand,
        about = "Import or export the resources of a store (JSON Lines)"
    )]
    Inventory(CatalogCommand),
    #[command(
        about = "Every resource an identity can reach, with the deciding rules",
        long_about = r#"Every resource an identity can reach, with the grants that allow each.

Answers through the policy's index (not by deciding every pair), exactly as `authorize`
would decide each pair. Reads the identities and resources of --store, or of the JSON
Lines files --directory and --inventory (each line carries its "id"; no store needed).

--format json writes one line per identity:
  {"identity": ID, "resources": [{"id": R, "reasons": ["rule-id", ...]}, ...]}
(resources in id order; without --identity, one line per identity in id order)."#,
        after_help = "\
Exit status:
  0  answered
  1  the policy failed to compile, or the identity is not on record
  2  the store or a file cannot be read, a line is malformed, or the command line is invalid"
    )]
    Entitlements(EntitlementsArgs),
    #[command(
        name = "who-can",
        about = "Every identity that can reach a resource, with the deciding rules",
        long_about = r#"Every identity that can reach a resource, with the grants that allow each.

--format json writes {"resource": ID, "identities": [{"id": I, "reasons": [...]}, ...]}."#,
        after_help = "\
Exit status:
  0  answered
  1  the policy failed to compile, or the resource is not on record
  2  the store or a file cannot be read, or the command line is invalid"
    )]
    WhoCan(WhoCanArgs),
    #[command(
        about = "The access a policy change gains and loses",
        long_about = r#"The (identity, resource) pairs that gain and lose access when --new replaces --old.

Computed from the rules that differ (by content), and equal to comparing every pair.
--format json writes {"gained": [{"identity", "resource", "reasons"}], "lost": [...]}:
gained reasons are the new policy's grants, lost reasons the old policy's."#,
        after_help = "\
Exit status:
  0  answered
  1  a policy failed to compile
  2  the store or a file cannot be read, or the command line is invalid"
    )]
    Impact(ImpactArgs),
    #[command(subcommand, about = "Apply SCIM 2.0 requests to a store")]
    Scim(ScimCommand),
    #[command(
        about = "The journal of a store, as JSON Lines",
        long_about = r#"The journal of a store: one JSON record per line, in sequence order.

  {"seq": N, "at": RFC 3339, "source": "scim"|"cli"|"api"|"schedule", "event":
   "join"|"move"|"leave"|"purge"|"resource_add"|"resource_change"|"resource_remove"|"policy",
   "identity": ID or null, "resource": ID or null, "change": the event, "gained": [...],
   "lost": [...], "policy": {"version", "hash"} or null, "mapping_hash": ... }"#,
        after_help = "\
Exit status:
  0  written
  1  the policy failed to compile, or the journal cannot be imported (the store is not
     empty, or the records do not replay)
  2  the store or a file cannot be read, a line is malformed, or the command line is
     invalid"
    )]
    Journal(JournalArgs),
    #[command(subcommand, about = "List, add or cancel scheduled events")]
    Schedule(ScheduleCommand),
    #[command(
        about = "Apply the scheduled events due by a time",
        long_about = "Apply every scheduled event due at or before --to, in time order, each \
journaled with source `schedule` at its effective time and its access change (printed \
as journal lines).",
        after_help = "\
Exit status:
  0  every due event applied
  1  a due event no longer applied (it was dropped from the schedule), or the policy failed to compile
  2  the store cannot be read, or the command line is invalid"
    )]
    Advance(AdvanceArgs),
    #[cfg(feature = "server")]
    #[command(
        about = "Serve SCIM 2.0 (for Okta and Entra) and Tenure's own endpoints over HTTP",
        long_about = r#"Serve SCIM 2.0 for identity providers, and Tenure's own endpoints, over HTTP.

Identity providers provision into /scim/v2 (Users, Groups, discovery); each request is
applied to the store, with its journal record and access change, before it is answered.
Tenure's endpoints: GET /healthz (no token), GET /v1/identities/ID/entitlements,
GET /v1/resources/ID/access, GET /v1/journal?since=SEQ (scope read), PUT and DELETE
/v1/resources/ID, POST /admin/reload (scope admin).

--token-file holds one bearer token per line, optionally followed by its scopes (scim,
read, admin; scim when none are given). SIGHUP or POST /admin/reload re-reads it and
recompiles the policy files (a bad policy keeps the old one serving). SIGTERM or Ctrl-C
stops accepting, finishes the requests in flight and exits 0. One JSON line per request
is logged on standard error (never a token or a body). Put a TLS-terminating proxy in
front of it: it speaks plain HTTP. See docs/SERVE.md."#,
        after_help = "\
Exit status:
  0  stopped by SIGTERM or Ctrl-C after finishing the requests in flight
  1  the policy does not load (unreadable file or diagnostics)
  2  the token file is missing, empty or malformed; the store, mapping or inventory
     cannot be read; the address cannot be bound; or the command line is invalid"
    )]
    Serve(ServeArgs),
}

/// Arguments of `tenure serve`.
#[cfg(feature = "server")]
#[derive(Debug, Args)]
struct ServeArgs {
    /// A policy file (repeatable; loaded in order as one policy set, again on reload)
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// The address to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Bearer tokens, one per line, each optionally followed by its scopes
    #[arg(long, required = true, value_name = "FILE")]
    token_file: PathBuf,
    /// An attribute mapping (TOML) to put in force (kept in the store)
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Resources (JSON Lines, or a JSON array) added or changed at start (resources not
    /// in the file stay on record)
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
}

/// `--store`, on every lifecycle command.
#[derive(Debug, Args)]
struct StoreArgs {
    /// The store: `sqlite:PATH` (embedded) or `postgres://…`
    #[arg(long, value_name = "ADDRESS", default_value = "sqlite:tenure.db")]
    store: String,
}

/// Where a question's identities and resources come from.
#[derive(Debug, Args)]
struct SourceArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Identities as JSON Lines (with --inventory, instead of --store)
    #[arg(long, value_name = "FILE.jsonl", requires = "inventory")]
    directory: Option<PathBuf>,
    /// Resources as JSON Lines (with --directory, instead of --store)
    #[arg(long, value_name = "FILE.jsonl", requires = "directory")]
    inventory: Option<PathBuf>,
}

/// Output format of the questions.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned text
    Human,
    /// JSON
    Json,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Import JSON Lines (each line with its "id"): new ids join, known ids move; journaled
    Import(ImportArgs),
    /// Export JSON Lines, in id order, to standard output
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A policy file (repeatable): checked, and otherwise not needed to export
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A policy file, to journal each change with its access change (repeatable)
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// The JSON Lines file
    #[arg(value_name = "FILE.jsonl")]
    file: PathBuf,
}

#[derive(Debug, Args)]
struct EntitlementsArgs {
    /// A policy file (repeatable; loaded in order as one policy set)
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    /// The identity's id (every identity when left out)
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Args)]
struct WhoCanArgs {
    /// A policy file (repeatable)
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    /// The resource's id
    #[arg(long, required = true, value_name = "ID")]
    resource: String,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Args)]
struct ImpactArgs {
    /// The policy in force (repeatable)
    #[arg(long, required = true, value_name = "FILE")]
    old: Vec<PathBuf>,
    /// The policy replacing it (repeatable)
    #[arg(long, required = true, value_name = "FILE")]
    new: Vec<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Subcommand)]
enum ScimCommand {
    #[command(
        about = "Apply one SCIM request (a JSON file) to a store",
        long_about = r#"Apply one SCIM request to a store, exactly as `tenure serve` would.

REQUEST.json holds {"method": "POST", "path": "/scim/v2/Users", "body": {...}}; the path
as the identity provider sends it (`/scim/v2/Users/ID`, `/Users?filter=...`). Writes one
JSON line per journaled identity event (a group change: one per affected member; a
change and a deactivation in one request: a move, then a leave):
  {"status": 201, "response": {...}, "event": "join"|"move"|"leave"|"purge"|"none",
   "identity": ID or null, "seq": N or null, "gained": [{"resource", "reasons"}], "lost": [...]}
A request that changes no identity writes one line with "event": "none". A SCIM error
writes its line (the error body as "response") and exits 1."#,
        after_help = "\
Exit status:
  0  applied
  1  the SCIM request was refused (its error is the response), or the policy failed to compile
  2  a file or the store cannot be read, or the command line is invalid"
    )]
    Apply(ScimApplyArgs),
}

#[derive(Debug, Args)]
struct ScimApplyArgs {
    /// A policy file (repeatable)
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// An attribute mapping (TOML) to put in force; the store keeps it for later commands
    /// (without this flag, the mapping last put in force, else the default one)
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// The request file
    #[arg(value_name = "REQUEST.json")]
    request: PathBuf,
}

#[derive(Debug, Args)]
struct JournalArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A policy file (repeatable): checked, and otherwise not needed for the journal
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// Only records after this sequence number
    #[arg(long, value_name = "SEQ", conflicts_with = "import")]
    since: Option<u64>,
    /// Instead of writing the journal, rebuild an empty store from an exported one
    /// (the directory and inventory are replayed from its events)
    #[arg(long, value_name = "FILE.jsonl")]
    import: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// List scheduled events in time order (JSON Lines)
    List(StoreArgs),
    /// Schedule an event (a JSON file such as {"event": "leave", "id": "pamela"})
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// When it takes effect (RFC 3339)
        #[arg(long, value_name = "TIME")]
        at: String,
        /// The event file
        #[arg(value_name = "EVENT.json")]
        event: PathBuf,
    },
    /// Cancel a scheduled event by id
    Cancel {
        #[command(flatten)]
        store: StoreArgs,
        /// The id `schedule list` shows
        #[arg(value_name = "ID")]
        id: u64,
    },
}

#[derive(Debug, Args)]
struct AdvanceArgs {
    /// A policy file, for the access changes (repeatable)
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// Apply what is due at or before this time (RFC 3339)
    #[arg(long, value_name = "TIME")]
    to: String,
}

/// Arguments of `tenure check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// Policy files (`.tenure`), loaded in this order as one policy set
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// A schema file: also report the policy's type errors against it (an undeclared
    /// attribute, a value outside an enum, an ordering on a string, a literal of the
    /// wrong type)
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
}

/// Arguments of `tenure fmt`.
#[derive(Debug, Args)]
struct FmtArgs {
    /// Policy files to format in place; `-` reads standard input and writes standard output
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write nothing: print a diff for each file that would change, and exit 1 if any would
    #[arg(long)]
    check: bool,
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

/// Arguments of `tenure explain`.
#[derive(Debug, Args)]
struct ExplainArgs {
    /// A policy file; repeat to load several as one policy set, in the order given
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,

    /// The request's identity as a JSON object
    #[arg(long, required = true, value_name = "JSON")]
    identity: String,

    /// The request's resource as a JSON object
    #[arg(long, required = true, value_name = "JSON")]
    resource: String,

    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,

    /// Explain every rule of the policy, not only the index's candidates
    #[arg(long)]
    all: bool,
}

/// Arguments of `tenure lint`.
#[derive(Debug, Args)]
struct LintArgs {
    /// Policy files (`.tenure`), loaded in this order as one policy set
    #[arg(value_name = "POLICY", required_unless_present = "explain")]
    files: Vec<PathBuf>,

    /// A schema file: adds the schema lints
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,

    /// The SCIM mapping (TOML) whose attributes `mover-residue` checks against
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: LintFormat,

    /// The lowest level that makes the exit status 1
    #[arg(long, value_enum, default_value = "deny")]
    fail_level: FailLevel,

    /// Silence a lint (name or code; repeatable)
    #[arg(long, value_name = "NAME")]
    allow: Vec<String>,

    /// Report a lint as a warning (name or code; repeatable)
    #[arg(long, value_name = "NAME")]
    warn: Vec<String>,

    /// Report a lint as an error (name or code; repeatable)
    #[arg(long, value_name = "NAME")]
    deny: Vec<String>,

    /// Use this configuration file instead of searching for `tenure.toml`
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,

    /// Use no configuration file
    #[arg(long)]
    no_config: bool,

    /// Print a lint's explanation, with a bad and a good example, and exit
    #[arg(long, value_name = "NAME")]
    explain: Option<String>,
}

/// `tenure lint --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LintFormat {
    /// Source snippets, for people
    Human,
    /// One JSON array of findings
    Json,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// GitHub Actions workflow commands
    Github,
}

/// `tenure lint --fail-level`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailLevel {
    /// Fail on warnings too
    Warn,
    /// Fail on errors only
    Deny,
}

impl FailLevel {
    fn level(self) -> tenure::lint::Level {
        match self {
            FailLevel::Warn => tenure::lint::Level::Warn,
            FailLevel::Deny => tenure::lint::Level::Deny,
        }
    }
}

/// Arguments of `tenure validate`.
#[derive(Debug, Args)]
struct ValidateArgs {
    /// The schema file
    #[arg(long, required = true, value_name = "FILE")]
    schema: PathBuf,

    /// Identities, one JSON object per line (`-`: standard input)
    #[arg(
        long,
        value_name = "FILE.jsonl",
        conflicts_with = "resources",
        required_unless_present = "resources"
    )]
    identities: Option<PathBuf>,

    /// Resources, one JSON object per line (`-`: standard input)
    #[arg(long, value_name = "FILE.jsonl")]
    resources: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: ValidateFormat,
}

/// `tenure validate --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ValidateFormat {
    /// One problem per line
    Human,
    /// One JSON array of problems
    Json,
}

/// Arguments of `tenure export`.
#[derive(Debug, Args)]
struct CedarExportArgs {
    /// The target language
    #[arg(long, value_enum)]
    to: ExportTarget,

    /// A policy file; repeat to load several as one policy set, in the order given
    #[arg(long, required = true, value_name = "FILE")]
    policy: Vec<PathBuf>,

    /// A schema file: its set attributes guide the export, and it is exported too
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,

    /// Where to write the Cedar schema (default: after the policies, on standard output)
    #[arg(long, value_name = "FILE", requires = "schema")]
    schema_out: Option<PathBuf>,
}

/// `tenure export --to`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportTarget {
    /// Cedar policy text
    Cedar,
}

/// Arguments of `tenure test`.
#[derive(Debug, Args)]
struct TestArgs {
    /// Test files (JSON)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,

    /// List the rules that no case's decision used
    #[arg(long)]
    coverage: bool,
}

/// `tenure serve`: runs until SIGTERM or Ctrl-C.
#[cfg(feature = "server")]
fn serve(args: ServeArgs) -> u8 {
    let config = tenure_server::Config {
        policy_files: args.policy,
        store: args.store.store,
        listen: args.listen,
        token_file: args.token_file,
        mapping: args.mapping,
        inventory: args.inventory,
        schedule_interval: std::time::Duration::from_secs(1),
    };
    match tenure_server::run(config) {
        Ok(()) => EXIT_OK,
        Err(e @ tenure_server::ServeError::Policy(_)) => {
            eprintln!("error: {e}");
            EXIT_POLICY
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Authorize(args) => authorize::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Test(args) => policy_test::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Validate(args) => schema_cmd::validate(&args),
        Command::Export(args) => export::run(&args),
        Command::Directory(CatalogCommand::Import(args)) => {
            lifecycle::finish(lifecycle::import(&args, false))
        }
        Command::Directory(CatalogCommand::Export(args)) => {
            lifecycle::finish(lifecycle::export(&args, false))
        }
        Command::Inventory(CatalogCommand::Import(args)) => {
            lifecycle::finish(lifecycle::import(&args, true))
        }
        Command::Inventory(CatalogCommand::Export(args)) => {
            lifecycle::finish(lifecycle::export(&args, true))
        }
        Command::Entitlements(args) => lifecycle::finish(lifecycle::entitlements(&args)),
        Command::WhoCan(args) => lifecycle::finish(lifecycle::who_can(&args)),
        Command::Impact(args) => lifecycle::finish(lifecycle::impact_cmd(&args)),
        Command::Scim(ScimCommand::Apply(args)) => lifecycle::finish(lifecycle::scim_apply(&args)),
        Command::Journal(args) => lifecycle::finish(lifecycle::journal(&args)),
        Command::Schedule(command) => lifecycle::finish(lifecycle::schedule(&command)),
        Command::Advance(args) => lifecycle::finish(lifecycle::advance(&args)),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve(args),
    };
    ExitCode::from(code)
}
