//! The lifecycle commands: `directory` / `inventory` import and export, `entitlements`,
//! `who-can`, `impact`, `scim apply`, `journal`, `schedule`, `advance`.
//!
//! Questions (`entitlements`, `who-can`, `impact`) read either a store (`--store`) or
//! JSON Lines files (`--directory`, `--inventory`: no store needed). Changes go through
//! [`tenure_directory::Lifecycle`], so each one commits with its journal record before it
//! is reported.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value as Json};
use tenure::lifecycle::{impact, Directory, Event, Inventory};
use tenure::Policy;
use tenure_directory::scim::ScimRequest;
use tenure_directory::{answers, Lifecycle, LifecycleError, Recorded};

use crate::report::{describe_io_error, load_policy_with_hash};
use crate::{
    AdvanceArgs, EntitlementsArgs, ExportArgs, Format, ImpactArgs, ImportArgs, JournalArgs,
    ScheduleCommand, ScimApplyArgs, SourceArgs, StoreArgs, WhoCanArgs, EXIT_INPUT, EXIT_OK,
    EXIT_POLICY,
};

/// Why a lifecycle command stopped: the message is printed, the status returned.
pub(crate) struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Failure {
        Failure {
            status: EXIT_INPUT,
            message: message.into(),
        }
    }

    fn refused(message: impl Into<String>) -> Failure {
        Failure {
            status: EXIT_POLICY,
            message: message.into(),
        }
    }

    fn policy() -> Failure {
        Failure {
            status: EXIT_POLICY,
            message: String::new(),
        }
    }
}

impl From<LifecycleError> for Failure {
    fn from(e: LifecycleError) -> Failure {
        match e {
            LifecycleError::Store(e) => Failure::input(format!("{e}{}", cause_of(&e))),
            other => Failure::refused(other.to_string()),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::input(format!(
            "cannot write to standard output: {}",
            describe_io_error(&e)
        ))
    }
}

fn cause_of(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// Runs a lifecycle command and turns its outcome into an exit status.
pub(crate) fn finish(result: Result<(), Failure>) -> u8 {
    match result {
        Ok(()) => EXIT_OK,
        Err(Failure { status, message }) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            status
        }
    }
}

fn read_file(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        Failure::input(format!(
            "cannot read `{}`: {}",
            path.display(),
            describe_io_error(&e)
        ))
    })
}

fn open(store: &StoreArgs) -> Result<Lifecycle, Failure> {
    Lifecycle::open(&store.store).map_err(Failure::from)
}

/// Opens the store with the policy (if any) in force.
fn open_with_policy(store: &StoreArgs, policy: &[PathBuf]) -> Result<Lifecycle, Failure> {
    let mut lifecycle = open(store)?;
    if !policy.is_empty() {
        let (policy, hash) = load(policy)?;
        lifecycle.set_policy(policy, &hash)?;
    }
    Ok(lifecycle)
}

/// Reads and compiles the policy files, with their content hash. A file that cannot be
/// read is an unreadable file (exit 2, as every lifecycle command's help says; `check`
/// and `authorize` count it as a policy problem); a policy that does not compile exits 1.
fn load(paths: &[PathBuf]) -> Result<(Policy, String), Failure> {
    // Read each file first only to tell the two apart: `load_policy_with_hash` stays the
    // one place that names, hashes and compiles the sources.
    for path in paths {
        std::fs::read_to_string(path).map_err(|e| {
            Failure::input(format!(
                "cannot read policy file `{}`: {}",
                path.display(),
                describe_io_error(&e)
            ))
        })?;
    }
    load_policy_with_hash(paths).map_err(|()| Failure::policy())
}

fn compile(paths: &[PathBuf]) -> Result<Policy, Failure> {
    load(paths).map(|(policy, _)| policy)
}

/// The optional `--policy` of a command that computes no access (`export`, `journal`):
/// checked like any other, and not put in force (nothing is written).
fn check_policy(paths: &[PathBuf]) -> Result<(), Failure> {
    if !paths.is_empty() {
        load(paths)?;
    }
    Ok(())
}

/// A progress bar on standard error that shows itself only once the work has taken
/// over a second, and never when standard error is not a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl Progress {
    fn new(total: usize, what: &'static str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}})"))
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    fn inc(&mut self) {
        self.bar.inc(1);
        if !self.shown
            && self.started.elapsed() > Duration::from_secs(1)
            && io::stderr().is_terminal()
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The directory and inventory a question is asked of: from the store or from files.
fn catalogs(source: &SourceArgs) -> Result<(Directory, Inventory), Failure> {
    match (&source.directory, &source.inventory) {
        (Some(d), Some(i)) => {
            let directory = Directory::from_json_lines(&read_file(d)?).map_err(|e| {
                Failure::input(format!("{}: {}: {}", d.display(), e.path(), e.message()))
            })?;
            let inventory = Inventory::from_json_lines(&read_file(i)?).map_err(|e| {
                Failure::input(format!("{}: {}: {}", i.display(), e.path(), e.message()))
            })?;
            Ok((directory, inventory))
        }
        (None, None) => {
            let mut lifecycle = open(&source.store)?;
            let directory = lifecycle.directory()?.clone();
            let inventory = lifecycle.inventory()?.clone();
            Ok((directory, inventory))
        }
        _ => Err(Failure::input(
            "give both --directory and --inventory, or neither (to read --store)",
        )),
    }
}

fn write_line(out: &mut impl Write, value: &Json) -> Result<(), Failure> {
    writeln!(out, "{value}")?;
    Ok(())
}

fn reasons_text(reasons: &[String]) -> String {
    reasons.join(", ")
}

pub(crate) fn entitlements(args: &EntitlementsArgs) -> Result<(), Failure> {
    let policy = compile(&args.policy)?;
    let (directory, inventory) = catalogs(&args.source)?;
    let ids: Vec<String> = match &args.identity {
        Some(id) => {
            if !directory.contains(id) {
                return Err(Failure::refused(format!("no identity `{id}` on record")));
            }
            vec![id.clone()]
        }
        None => directory.iter().map(|(id, _)| id.to_string()).collect(),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut progress = Progress::new(ids.len(), "identities");
    for id in ids {
        let Some(identity) = directory.get(&id) else {
            continue;
        };
        let reach = policy.entitlements(identity, &inventory);
        match args.format {
            Format::Json => write_line(&mut out, &answers::entitlements(&id, &reach))?,
            Format::Human => {
                writeln!(
                    out,
                    "{id}: {} {}",
                    reach.len(),
                    crate::report::plural(reach.len(), "resource", "resources")
                )?;
                for e in &reach {
                    writeln!(out, "  {:<30} {}", e.resource, reasons_text(&e.reasons))?;
                }
            }
        }
        progress.inc();
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn who_can(args: &WhoCanArgs) -> Result<(), Failure> {
    let policy = compile(&args.policy)?;
    let (directory, inventory) = catalogs(&args.source)?;
    let Some(resource) = inventory.get(&args.resource) else {
        return Err(Failure::refused(format!(
            "no resource `{}` on record",
            args.resource
        )));
    };
    let holders = policy.who_can(resource, &directory);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => write_line(&mut out, &answers::holders(&args.resource, &holders))?,
        Format::Human => {
            writeln!(
                out,
                "{}: {} {}",
                args.resource,
                holders.len(),
                crate::report::plural(holders.len(), "identity", "identities")
            )?;
            for h in &holders {
                writeln!(out, "  {:<30} {}", h.identity, reasons_text(&h.reasons))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn impact_cmd(args: &ImpactArgs) -> Result<(), Failure> {
    let old = compile(&args.old)?;
    let new = compile(&args.new)?;
    let (directory, inventory) = catalogs(&args.source)?;
    let change = impact(&old, &new, &directory, &inventory);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => write_line(
            &mut out,
            &json!({"gained": change.gained, "lost": change.lost}),
        )?,
        Format::Human => {
            for (label, list) in [("gained", &change.gained), ("lost", &change.lost)] {
                writeln!(out, "{label}: {}", list.len())?;
                for p in list {
                    writeln!(
                        out,
                        "  {:<24} {:<30} {}",
                        p.identity,
                        p.resource,
                        reasons_text(&p.reasons)
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `directory import` / `inventory import`: every line an identity (resource) joining,
/// or moving when its id is on record; one transaction, one journal record per change.
pub(crate) fn import(args: &ImportArgs, resources: bool) -> Result<(), Failure> {
    let text = read_file(&args.file)?;
    let name = args.file.display();
    let mut lifecycle = open_with_policy(&args.store, &args.policy)?;
    let events: Vec<Event> = if resources {
        let incoming = Inventory::from_json_lines(&text)
            .map_err(|e| Failure::input(format!("{name}: {}: {}", e.path(), e.message())))?;
        lifecycle.inventory()?.import_events(&incoming)
    } else {
        let incoming = Directory::from_json_lines(&text)
            .map_err(|e| Failure::input(format!("{name}: {}: {}", e.path(), e.message())))?;
        lifecycle.directory()?.import_events(&incoming)
    };
    let total = events.len();
    let results = lifecycle.apply_batch(events, "cli")?;
    let mut applied = 0;
    for result in results {
        match result {
            Ok(r) if r.seq != 0 => applied += 1,
            Ok(_) => {}
            Err(e) => return Err(Failure::refused(e.to_string())),
        }
    }
    eprintln!("imported: {applied} of {total} changes journaled");
    Ok(())
}

pub(crate) fn export(args: &ExportArgs, resources: bool) -> Result<(), Failure> {
    check_policy(&args.policy)?;
    let mut lifecycle = open(&args.store)?;
    let text = if resources {
        lifecycle.inventory()?.to_json_lines()
    } else {
        lifecycle.directory()?.to_json_lines()
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// One `scim apply` output line.
fn scim_line(status: u16, response: &Json, record: Option<&Recorded>) -> Json {
    let event = record.map_or("none", |r| r.event.as_str());
    json!({
        "status": status,
        "response": response,
        "event": event,
        "identity": record.and_then(|r| r.identity.clone()),
        "seq": record.map(|r| r.seq),
        "gained": record.map_or(json!([]), |r| r.gained.clone()),
        "lost": record.map_or(json!([]), |r| r.lost.clone()),
    })
}

pub(crate) fn scim_apply(args: &ScimApplyArgs) -> Result<(), Failure> {
    let text = read_file(&args.request)?;
    let mut lifecycle = open_with_policy(&args.store, &args.policy)?;
    if let Some(path) = &args.mapping {
        let text = read_file(path)?;
        if let Err(e) = tenure_directory::mapping::Mapping::from_toml(&text) {
            return Err(Failure::input(format!("{}: {e}", path.display())));
        }
        lifecycle.set_mapping_toml(&text, "cli")?;
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let request = match ScimRequest::from_json(&text) {
        Ok(request) => request,
        Err(e) => {
            write_line(&mut out, &scim_line(e.status, &e.to_json(), None))?;
            out.flush()?;
            return Err(Failure::refused(String::new()));
        }
    };
    match lifecycle.scim(&request, "scim") {
        Ok(applied) => {
            let response = applied.response.clone().unwrap_or(Json::Null);
            if applied.records.is_empty() {
                write_line(&mut out, &scim_line(applied.status, &response, None))?;
            }
            for record in &applied.records {
                write_line(
                    &mut out,
                    &scim_line(applied.status, &response, Some(record)),
                )?;
            }
            out.flush()?;
            Ok(())
        }
        Err(LifecycleError::Scim(e)) => {
            write_line(&mut out, &scim_line(e.status, &e.to_json(), None))?;
            out.flush()?;
            Err(Failure::refused(String::new()))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn journal(args: &JournalArgs) -> Result<(), Failure> {
    check_policy(&args.policy)?;
    let mut lifecycle = open(&args.store)?;
    if let Some(path) = &args.import {
        let text = read_file(path)?;
        let mut records = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record = tenure_directory::store::JournalRecord::from_json_line(line)
                .map_err(|e| Failure::input(format!("{}: line {}: {e}", path.display(), n + 1)))?;
            records.push(record);
        }
        let n = lifecycle.import_journal(&records)?;
        eprintln!("imported: {n} journal records");
        return Ok(());
    }
    let records = lifecycle.journal(args.since.unwrap_or(0))?;
    let mut out = BufWriter::new(io::stdout().lock());
    for record in records {
        writeln!(out, "{}", record.to_json_line())?;
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn schedule(command: &ScheduleCommand) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    match command {
        ScheduleCommand::List(store) => {
            let mut lifecycle = open(store)?;
            for s in lifecycle.scheduled()? {
                write_line(
                    &mut out,
                    &json!({"id": s.id, "at": s.at.to_string(), "event": s.event}),
                )?;
            }
        }
        ScheduleCommand::Cancel { store, id } => {
            let mut lifecycle = open(store)?;
            let s = lifecycle.cancel(*id)?;
            write_line(
                &mut out,
                &json!({"id": s.id, "at": s.at.to_string(), "event": s.event, "cancelled": true}),
            )?;
        }
        ScheduleCommand::Add { store, at, event } => {
            let at = parse_time(at)?;
            let text = read_file(event)?;
            let event = Event::from_json(&text).map_err(|e| {
                Failure::input(format!(
                    "{}: {}: {}",
                    event.display(),
                    e.path(),
                    e.message()
                ))
            })?;
            let mut lifecycle = open(store)?;
            let id = lifecycle.schedule(at, event.clone(), "cli")?;
            write_line(
                &mut out,
                &json!({"id": id, "at": at.to_string(), "event": event}),
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, Failure> {
    text.parse().map_err(|e| {
        Failure::input(format!(
            "`{text}` is not an RFC 3339 time (such as 2025-01-31T18:00:00Z): {e}"
        ))
    })
}

pub(crate) fn advance(args: &AdvanceArgs) -> Result<(), Failure> {
    let to = parse_time(&args.to)?;
    let mut lifecycle = open_with_policy(&args.store, &args.policy)?;
    let results = lifecycle.advance(to)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = 0;
    for result in results {
        match result {
            Ok(record) if record.seq != 0 => writeln!(out, "{}", record.to_json_line())?,
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                eprintln!("error: a due event did not apply and was dropped: {e}");
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        return Err(Failure::refused(String::new()));
    }
    Ok(())
}
