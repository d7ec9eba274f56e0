//! Tests of the lifecycle commands of `tenure`: `directory` / `inventory` import and
//! export, `entitlements`, `who-can`, `impact`, `scim apply`, `journal`, `schedule` and
//! `advance`, run as a user runs them.
//!
//! Every test works in its own temporary directory (the working directory of the binary,
//! so `sqlite:t.db` and the default `sqlite:tenure.db` land there). Fixtures are in
//! `tests/data/lifecycle/`: the Happy Place policy and inventory of `examples/`, the SCIM
//! requests of `examples/scim/` as Okta sends them (plus a few shaped as Entra ID sends
//! them), with `{{name}}` standing for ids the service assigns, substituted from earlier
//! responses; and a small directory, inventory and pair of policies for the questions.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value as Json};

mod support;

use support::{assert_code, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_tenure");

/// The store every test uses, relative to its temporary working directory.
const STORE: &str = "sqlite:t.db";

/// A fixture's absolute path, `tests/data/lifecycle/NAME`.
fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/lifecycle")
        .join(name)
        .display()
        .to_string()
}

/// A temporary working directory to run `tenure` in.
struct Sandbox {
    dir: tempfile::TempDir,
    /// How many request files were written (for their names).
    written: Cell<usize>,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temporary directory"),
            written: Cell::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `tenure ARGS` in the sandbox, standard input empty, output captured (so
    /// neither standard output nor standard error is a terminal).
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run tenure")
    }

    /// Writes `text` to a new file in the sandbox and returns its path.
    fn write(&self, stem: &str, text: &str) -> String {
        let n = self.written.get() + 1;
        self.written.set(n);
        let path = self.path(&format!("{n:02}-{stem}"));
        std::fs::write(&path, text).expect("write a sandbox file");
        path.display().to_string()
    }

    /// The SCIM request fixture `scim/NAME` with `{{name}}` replaced by the ids given,
    /// written to the sandbox; returns its path.
    fn request(&self, name: &str, ids: &Ids) -> String {
        let mut text = std::fs::read_to_string(fixture(&format!("scim/{name}")))
            .expect("read a request fixture");
        for (placeholder, id) in &ids.0 {
            text = text.replace(&format!("{{{{{placeholder}}}}}"), id);
        }
        assert!(!text.contains("{{"), "{name}: an id is missing: {text}");
        self.write(name, &text)
    }

    /// `tenure scim apply` of a request fixture under the Happy Place policy and mapping.
    fn scim(&self, name: &str, ids: &Ids) -> Output {
        let request = self.request(name, ids);
        self.run(&[
            "scim",
            "apply",
            "--policy",
            &fixture("happy_place.tenure"),
            "--store",
            STORE,
            "--mapping",
            &fixture("scim/mapping.toml"),
            &request,
        ])
    }

    /// The journal of the store, checked to be JSON Lines.
    fn journal(&self, store: &str) -> Vec<Json> {
        let o = self.run(&["journal", "--store", store]);
        assert_code(&o, 0);
        json_lines(&o)
    }

    /// `entitlements --identity ID --format json` on the store: resource → reasons.
    fn reach(&self, policy: &str, id: &str) -> BTreeMap<String, Json> {
        let o = self.run(&[
            "entitlements",
            "--policy",
            policy,
            "--store",
            STORE,
            "--identity",
            id,
            "--format",
            "json",
        ]);
        assert_code(&o, 0);
        let line = one_line(&o);
        check_entitlements_line(&line);
        assert_eq!(line["identity"], id);
        entitlements_of(&line)
    }
}

/// The ids the service assigned, by placeholder name.
#[derive(Default)]
struct Ids(Vec<(&'static str, String)>);

impl Ids {
    /// Remembers the `id` of a SCIM response.
    fn remember(&mut self, name: &'static str, line: &Json) -> String {
        let id = line["response"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("the response carries no id: {line}"))
            .to_string();
        self.0.push((name, id.clone()));
        id
    }
}

/// Standard output as JSON Lines: every line (each ending in a newline) parses as JSON.
#[track_caller]
fn json_lines(o: &Output) -> Vec<Json> {
    let text = stdout(o);
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output does not end with a newline: {text:?}"
    );
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n--- stdout\n{text}"))
        })
        .collect()
}

/// Standard output as exactly one JSON line.
#[track_caller]
fn one_line(o: &Output) -> Json {
    let mut lines = json_lines(o);
    assert_eq!(lines.len(), 1, "expected one line\n{}", stdout(o));
    lines.remove(0)
}

/// The keys of a JSON object.
fn keys(value: &Json) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn key_set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// A list of reasons: a non-empty array of rule ids.
#[track_caller]
fn check_reasons(reasons: &Json) {
    let list = reasons.as_array().expect("reasons is an array");
    assert!(!list.is_empty(), "no reasons: {reasons}");
    assert!(list.iter().all(Json::is_string), "{reasons}");
}

/// An access list of `scim apply` or the journal: `[{"resource", "reasons"}]`.
#[track_caller]
fn check_access_list(list: &Json) {
    for item in list.as_array().expect("an access list is an array") {
        assert_eq!(keys(item), key_set(&["resource", "reasons"]), "{item}");
        assert!(item["resource"].is_string(), "{item}");
        check_reasons(&item["reasons"]);
    }
}

/// resource → reasons of an access list.
fn access_of(list: &Json) -> BTreeMap<String, Json> {
    check_access_list(list);
    list.as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            (
                item["resource"].as_str().unwrap_or("").to_string(),
                item["reasons"].clone(),
            )
        })
        .collect()
}

/// One line of `entitlements --format json`.
#[track_caller]
fn check_entitlements_line(line: &Json) {
    assert_eq!(keys(line), key_set(&["identity", "resources"]), "{line}");
    assert!(line["identity"].is_string(), "{line}");
    let resources = line["resources"].as_array().expect("resources is an array");
    for r in resources {
        assert_eq!(keys(r), key_set(&["id", "reasons"]), "{line}");
        check_reasons(&r["reasons"]);
    }
    let ids: Vec<&str> = resources.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), resources.len(), "{line}");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not in id order: {line}"
    );
}

/// resource → reasons of an `entitlements` line.
fn entitlements_of(line: &Json) -> BTreeMap<String, Json> {
    line["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_string(),
                r["reasons"].clone(),
            )
        })
        .collect()
}

/// The access `after` has and `before` has not, with `after`'s reasons.
fn minus(
    after: &BTreeMap<String, Json>,
    before: &BTreeMap<String, Json>,
) -> BTreeMap<String, Json> {
    after
        .iter()
        .filter(|(r, _)| !before.contains_key(*r))
        .map(|(r, why)| (r.clone(), why.clone()))
        .collect()
}

const EVENTS: [&str; 5] = ["join", "move", "leave", "purge", "none"];

/// One `scim apply` line: its exact shape, and `none` lines carry no identity.
#[track_caller]
fn check_scim_line(line: &Json) {
    assert_eq!(
        keys(line),
        key_set(&["status", "response", "event", "identity", "seq", "gained", "lost"]),
        "{line}"
    );
    assert!(line["status"].is_u64(), "{line}");
    let event = line["event"].as_str().expect("event is a string");
    assert!(EVENTS.contains(&event), "{line}");
    check_access_list(&line["gained"]);
    check_access_list(&line["lost"]);
    if event == "none" {
        assert!(line["identity"].is_null(), "{line}");
        assert!(line["seq"].is_null(), "{line}");
        assert_eq!(line["gained"], json!([]), "{line}");
        assert_eq!(line["lost"], json!([]), "{line}");
    } else {
        assert!(line["identity"].is_string(), "{line}");
        assert!(line["seq"].as_u64().is_some_and(|s| s > 0), "{line}");
    }
    if line["status"] == 204 {
        assert!(line["response"].is_null(), "{line}");
    } else {
        assert!(line["response"].is_object(), "{line}");
    }
}

/// The lines of a successful `scim apply`, each checked.
#[track_caller]
fn applied(o: &Output) -> Vec<Json> {
    assert_code(o, 0);
    let lines = json_lines(o);
    assert!(!lines.is_empty(), "no output");
    for line in &lines {
        check_scim_line(line);
    }
    // One request, one response: every line carries the same status and body.
    for line in &lines[1..] {
        assert_eq!(line["status"], lines[0]["status"]);
        assert_eq!(line["response"], lines[0]["response"]);
    }
    lines
}

/// The single line of a `scim apply` that changed no identity.
#[track_caller]
fn applied_none(o: &Output, status: u64) -> Json {
    let lines = applied(o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event"], "none", "{}", lines[0]);
    assert_eq!(lines[0]["status"], status, "{}", lines[0]);
    lines[0].clone()
}

/// The single line of a `scim apply` that changed one identity, with event `event`.
#[track_caller]
fn applied_one(o: &Output, status: u64, event: &str, identity: &str) -> Json {
    let lines = applied(o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["status"], status, "{line}");
    assert_eq!(line["event"], event, "{line}");
    assert_eq!(line["identity"], identity, "{line}");
    line.clone()
}

/// A line's access change agrees with the entitlements before and after it.
#[track_caller]
fn check_change(line: &Json, before: &BTreeMap<String, Json>, after: &BTreeMap<String, Json>) {
    assert_eq!(
        access_of(&line["gained"]),
        minus(after, before),
        "gained: {line}"
    );
    assert_eq!(
        access_of(&line["lost"]),
        minus(before, after),
        "lost: {line}"
    );
}

/// A SCIM error: exit 1, one JSON line with the error body as the response.
#[track_caller]
fn refused(o: &Output, status: u64) -> Json {
    assert_code(o, 1);
    let line = one_line(o);
    check_scim_line(&line);
    assert_eq!(line["status"], status, "{line}");
    assert_eq!(line["event"], "none", "{line}");
    let body = &line["response"];
    assert_eq!(body["status"], status.to_string(), "{line}");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{line}"
    );
    line
}

/// The Happy Place store after Pamela's whole lifecycle (and Sam joining), with every
/// `scim apply` line that was written, in order.
struct Story {
    sandbox: Sandbox,
    pamela: String,
    sam: String,
    lines: Vec<Json>,
}

/// Pamela's lifecycle through `tenure scim apply`, each step checked against
/// `entitlements` before and after it.
fn pamela_story() -> Story {
    let s = Sandbox::new();
    let policy = fixture("happy_place.tenure");
    let o = s.run(&[
        "inventory",
        "import",
        "--store",
        STORE,
        &fixture("inventory.jsonl"),
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    let mut ids = Ids::default();
    let mut lines = Vec::new();
    let nothing = BTreeMap::new();

    // Joiner: Okta creates her account, a DevOps Engineer in Platform.
    let o = s.scim("01-create-user.json", &ids);
    let line = applied(&o).remove(0);
    assert_eq!(line["status"], 201, "{line}");
    assert_eq!(line["event"], "join", "{line}");
    let pamela = ids.remember("pamela", &line);
    assert_eq!(line["identity"], pamela.as_str());
    assert_eq!(line["response"]["userName"], "pamela@happyplace.example");
    let joined = s.reach(&policy, &pamela);
    check_change(&line, &nothing, &joined);
    let gained = access_of(&line["gained"]);
    assert_eq!(gained["db-orders-dev"], json!(["devops-staging"]));
    assert_eq!(gained["bastion-prod"], json!(["named-hosts"]));
    assert_eq!(
        gained["bastion-dev"],
        json!(["devops-staging", "named-hosts"])
    );
    // Denied: finance's ledger, secret resources (no clearance on file), RDP.
    for denied in ["db-ledger-staging", "db-orders-prod", "rdp-build-win"] {
        assert!(!gained.contains_key(denied), "{denied}: {line}");
    }
    lines.push(line);

    // Group push: okta-devops with Pamela. Her groups change; her access does not.
    let o = s.scim("02-create-group-devops.json", &ids);
    let line = applied_one(&o, 201, "move", &pamela);
    assert_eq!(line["response"]["displayName"], "okta-devops");
    ids.remember("okta-devops", &line);
    assert_eq!(line["gained"], json!([]));
    assert_eq!(line["lost"], json!([]));
    assert_eq!(s.reach(&policy, &pamela), joined);
    lines.push(line);

    // Mover: a full PUT makes her a Cloud Engineer in Cloud with clearance 3.
    let o = s.scim("03-put-user-mover.json", &ids);
    let line = applied_one(&o, 200, "move", &pamela);
    assert_eq!(line["response"]["title"], "Cloud Engineer");
    let moved = s.reach(&policy, &pamela);
    check_change(&line, &joined, &moved);
    let gained = access_of(&line["gained"]);
    let lost = access_of(&line["lost"]);
    assert_eq!(gained["k8s-cloud-eu"], json!(["cloud"]));
    assert_eq!(gained["k8s-prod"], json!(["cloud-prod-read"]));
    assert_eq!(lost["db-orders-dev"], json!(["devops-staging"]));
    // Still reachable (by another rule only): neither gained nor lost.
    assert!(!lost.contains_key("bastion-dev"), "{line}");
    assert_eq!(moved["bastion-dev"], json!(["named-hosts"]));
    lines.push(line);

    // Okta sends the same PUT again: every attribute equal, so no move.
    let o = s.scim("03-put-user-mover.json", &ids);
    let line = applied_none(&o, 200);
    assert_eq!(line["response"]["id"], pamela.as_str());
    lines.push(line);

    // Out of okta-devops, into okta-cloud: moves without access changes.
    for (request, status) in [
        ("04-patch-group-devops-remove.json", 200),
        ("05-create-group-cloud.json", 201),
    ] {
        let o = s.scim(request, &ids);
        let line = applied_one(&o, status, "move", &pamela);
        assert_eq!(line["gained"], json!([]), "{request}");
        assert_eq!(line["lost"], json!([]), "{request}");
        lines.push(line);
    }
    assert_eq!(s.reach(&policy, &pamela), moved);

    // Entra ID provisions Sam, an SRE without MFA on file.
    let o = s.scim("10-entra-create-user-sam.json", &ids);
    let line = applied(&o).remove(0);
    assert_eq!(
        (line["status"].clone(), line["event"].clone()),
        (json!(201), json!("join"))
    );
    let sam = ids.remember("sam", &line);
    check_change(&line, &nothing, &s.reach(&policy, &sam));
    lines.push(line);

    // A group created without members changes no identity.
    let o = s.scim("11-entra-create-group-oncall.json", &ids);
    let line = applied_none(&o, 201);
    assert_eq!(line["response"]["displayName"], "okta-oncall");
    ids.remember("okta-oncall", &line);
    lines.push(line);

    // Both added to okta-oncall in one PATCH: one line per member.
    let pamela_before = s.reach(&policy, &pamela);
    let sam_before = s.reach(&policy, &sam);
    let o = s.scim("12-entra-patch-group-add-members.json", &ids);
    let added = applied(&o);
    assert_eq!(added.len(), 2, "{added:?}");
    let by_identity: BTreeMap<&str, &Json> = added
        .iter()
        .map(|l| (l["identity"].as_str().unwrap_or(""), l))
        .collect();
    assert_eq!(
        by_identity.keys().copied().collect::<BTreeSet<_>>(),
        key_set(&[&pamela, &sam])
    );
    for line in &added {
        assert_eq!(line["event"], "move", "{line}");
    }
    let on_call = by_identity[pamela.as_str()];
    check_change(on_call, &pamela_before, &s.reach(&policy, &pamela));
    assert_eq!(
        on_call["gained"],
        json!([{"resource": "ssh-web-prod-1", "reasons": ["on-call"]}])
    );
    // Sam has no MFA on file: the `mfa` deny keeps production from him.
    let sam_line = by_identity[sam.as_str()];
    check_change(sam_line, &sam_before, &s.reach(&policy, &sam));
    assert_eq!(sam_line["gained"], json!([]));
    let mut seqs: Vec<u64> = added.iter().filter_map(|l| l["seq"].as_u64()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs[1], seqs[0] + 1, "{added:?}");
    lines.extend(added);

    // A change of an attribute the mapping does not read: no identity changes.
    let o = s.scim("13-entra-patch-user-locale.json", &ids);
    let line = applied_none(&o, 200);
    assert_eq!(line["response"]["locale"], "de-DE");
    lines.push(line);

    // A GET (a filtered list) changes nothing.
    let o = s.scim("14-get-user.json", &ids);
    let line = applied_none(&o, 200);
    assert_eq!(line["response"]["totalResults"], 1);
    assert_eq!(line["response"]["Resources"][0]["id"], sam.as_str());
    lines.push(line);

    // Refused requests: exit 1, the SCIM error as the response, nothing journaled.
    let head = s.journal(STORE).len();
    let line = refused(&s.scim("15-patch-unknown-user.json", &ids), 404);
    assert!(line["response"]["detail"].is_string(), "{line}");
    let line = refused(&s.scim("10-entra-create-user-sam.json", &ids), 409);
    assert_eq!(line["response"]["scimType"], "uniqueness", "{line}");
    assert_eq!(s.journal(STORE).len(), head);

    // Leaver: deactivated, she loses everything she could reach.
    let before = s.reach(&policy, &pamela);
    assert!(!before.is_empty());
    let o = s.scim("06-patch-user-deactivate.json", &ids);
    let line = applied_one(&o, 200, "leave", &pamela);
    assert_eq!(line["response"]["active"], false);
    assert_eq!(line["gained"], json!([]));
    assert_eq!(access_of(&line["lost"]), before);
    assert!(s.reach(&policy, &pamela).is_empty());
    lines.push(line);

    // Purge: Okta deletes the account; 204 and no body.
    let o = s.scim("07-delete-user.json", &ids);
    let line = applied_one(&o, 204, "purge", &pamela);
    assert!(line["response"].is_null());
    assert_eq!(line["gained"], json!([]));
    assert_eq!(line["lost"], json!([]));
    lines.push(line);
    let o = s.run(&[
        "entitlements",
        "--policy",
        &policy,
        "--store",
        STORE,
        "--identity",
        &pamela,
    ]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains(&pamela), "{}", stderr(&o));

    // Deleting again: 404.
    refused(&s.scim("07-delete-user.json", &ids), 404);

    // Sequence numbers only grow.
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    Story {
        sandbox: s,
        pamela,
        sam,
        lines,
    }
}

// ---------------------------------------------------------------------------------------
// scim apply and the journal
// ---------------------------------------------------------------------------------------

#[test]
fn pamela_story_through_scim_apply() {
    let story = pamela_story();
    let events: Vec<&str> = story
        .lines
        .iter()
        .filter_map(|l| l["event"].as_str())
        .collect();
    assert_eq!(
        events,
        [
            "join", "move", "move", "none", "move", "move", "join", "none", "move", "move", "none",
            "none", "leave", "purge"
        ]
    );
    // Sam is still on record, Pamela is not.
    let o = story
        .sandbox
        .run(&["directory", "export", "--store", STORE]);
    assert_code(&o, 0);
    let ids: Vec<Json> = json_lines(&o).iter().map(|l| l["id"].clone()).collect();
    assert_eq!(ids, [json!(story.sam)]);
}

const JOURNAL_KEYS: [&str; 11] = [
    "seq",
    "at",
    "source",
    "event",
    "identity",
    "resource",
    "change",
    "gained",
    "lost",
    "policy",
    "mapping_hash",
];

#[test]
fn journal_lines_match_what_scim_apply_reported() {
    let story = pamela_story();
    let s = &story.sandbox;
    let journal = s.journal(STORE);
    // Numbered 1, 2, 3, … with no gaps, each line of the documented shape.
    for (n, record) in journal.iter().enumerate() {
        assert_eq!(record["seq"], n as u64 + 1, "{record}");
        assert_eq!(keys(record), key_set(&JOURNAL_KEYS), "{record}");
        let at = record["at"].as_str().expect("at is a string");
        assert!(at.parse::<jiff::Timestamp>().is_ok(), "{record}");
    }
    // The inventory import (no policy: no access changes), then the policy in force.
    assert!(journal[..22]
        .iter()
        .all(|r| r["event"] == "resource_add" && r["source"] == "cli"));
    assert_eq!(journal[22]["event"], "policy");

    let reported: Vec<&Json> = story.lines.iter().filter(|l| !l["seq"].is_null()).collect();
    let scim: Vec<&Json> = journal.iter().filter(|r| r["source"] == "scim").collect();
    assert_eq!(reported.len(), scim.len());
    for line in reported {
        let seq = line["seq"].as_u64().expect("seq");
        let record = &journal[seq as usize - 1];
        assert_eq!(record["seq"], seq);
        assert_eq!(record["source"], "scim", "{record}");
        assert_eq!(record["event"], line["event"], "{record}");
        assert_eq!(record["identity"], line["identity"], "{record}");
        assert!(record["resource"].is_null(), "{record}");
        assert_eq!(record["gained"], line["gained"], "{record}");
        assert_eq!(record["lost"], line["lost"], "{record}");
        assert_eq!(record["policy"]["version"], 1, "{record}");
        assert_eq!(record["change"]["event"], line["event"], "{record}");
    }
    let purge = journal.last().expect("a journal");
    assert_eq!(purge["event"], "purge");
    assert_eq!(
        purge["change"],
        json!({"event": "purge", "id": story.pamela})
    );

    // --since: only what follows.
    let since = (journal.len() - 2).to_string();
    let o = s.run(&["journal", "--store", STORE, "--since", &since]);
    assert_code(&o, 0);
    assert_eq!(json_lines(&o), journal[journal.len() - 2..]);
    let o = s.run(&[
        "journal",
        "--store",
        STORE,
        "--since",
        &journal.len().to_string(),
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
}

#[test]
fn journal_import_rebuilds_an_equal_store() {
    let story = pamela_story();
    let s = &story.sandbox;
    let o = s.run(&["journal", "--store", STORE]);
    assert_code(&o, 0);
    let exported = stdout(&o);
    let file = s.write("journal.jsonl", &exported);

    let o = s.run(&["journal", "--store", "sqlite:copy.db", "--import", &file]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    assert_eq!(s.journal("sqlite:copy.db"), s.journal(STORE));
    for catalog in ["directory", "inventory"] {
        let old = s.run(&[catalog, "export", "--store", STORE]);
        let new = s.run(&[catalog, "export", "--store", "sqlite:copy.db"]);
        assert_code(&old, 0);
        assert_code(&new, 0);
        assert!(!json_lines(&old).is_empty(), "{catalog}");
        assert_eq!(stdout(&new), stdout(&old), "{catalog}");
    }

    // Only an empty store is rebuilt; the copy stays as it was.
    let o = s.run(&["journal", "--store", "sqlite:copy.db", "--import", &file]);
    assert_code(&o, 1);
    assert_eq!(s.journal("sqlite:copy.db"), s.journal(STORE));

    // A malformed journal line: exit 2, naming the line; nothing imported.
    let mut lines: Vec<&str> = exported.lines().collect();
    lines[2] = r#"{"seq": 3, "at": "#;
    let broken = s.write("broken.jsonl", &lines.join("\n"));
    let o = s.run(&["journal", "--store", "sqlite:other.db", "--import", &broken]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    assert!(s.journal("sqlite:other.db").is_empty());
}

// ---------------------------------------------------------------------------------------
// directory and inventory: import and export
// ---------------------------------------------------------------------------------------

/// The lines of a JSON Lines fixture, by id.
fn by_id(lines: &[Json]) -> BTreeMap<String, Json> {
    lines
        .iter()
        .map(|l| (l["id"].as_str().expect("an id").to_string(), l.clone()))
        .collect()
}

fn fixture_lines(name: &str) -> Vec<Json> {
    std::fs::read_to_string(fixture(name))
        .expect("read a fixture")
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line"))
        .collect()
}

#[test]
fn export_of_an_import_reads_back_equal_in_id_order() {
    let s = Sandbox::new();
    for (catalog, file) in [
        ("directory", "identities.jsonl"),
        ("inventory", "resources.jsonl"),
    ] {
        let o = s.run(&[catalog, "import", "--store", STORE, &fixture(file)]);
        assert_code(&o, 0);
        assert_eq!(stdout(&o), "", "{catalog}");
        let o = s.run(&[catalog, "export", "--store", STORE]);
        assert_code(&o, 0);
        let exported = json_lines(&o);
        let ids: Vec<&str> = exported.iter().filter_map(|l| l["id"].as_str()).collect();
        assert_eq!(ids.len(), exported.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{catalog}: {ids:?}");
        assert_eq!(by_id(&exported), by_id(&fixture_lines(file)), "{catalog}");
    }
    // Importing the same files again changes nothing.
    let before = s.journal(STORE);
    assert_eq!(before.len(), 9);
    for (catalog, file) in [
        ("directory", "identities.jsonl"),
        ("inventory", "resources.jsonl"),
    ] {
        let o = s.run(&[catalog, "import", "--store", STORE, &fixture(file)]);
        assert_code(&o, 0);
    }
    assert_eq!(s.journal(STORE), before);
}

#[test]
fn import_with_a_policy_journals_joins_and_moves_with_their_access_changes() {
    let s = Sandbox::new();
    let policy = fixture("small_old.tenure");
    let o = s.run(&[
        "inventory",
        "import",
        "--store",
        STORE,
        &fixture("resources.jsonl"),
    ]);
    assert_code(&o, 0);
    let o = s.run(&[
        "directory",
        "import",
        "--policy",
        &policy,
        "--store",
        STORE,
        &fixture("identities.jsonl"),
    ]);
    assert_code(&o, 0);
    let journal = s.journal(STORE);
    let joins: Vec<&Json> = journal.iter().filter(|r| r["event"] == "join").collect();
    assert_eq!(joins.len(), 4);
    for join in &joins {
        assert_eq!(join["source"], "cli", "{join}");
        let id = join["identity"].as_str().expect("identity");
        assert_eq!(access_of(&join["gained"]), s.reach(&policy, id), "{join}");
    }

    // Alice moves from DBA to SRE (a changed line); the others are unchanged.
    let moved = std::fs::read_to_string(fixture("identities.jsonl"))
        .expect("fixture")
        .replace(
            r#""id": "alice", "role": "DBA""#,
            r#""id": "alice", "role": "SRE""#,
        );
    let file = s.write("moved.jsonl", &moved);
    let before = s.reach(&policy, "alice");
    let o = s.run(&[
        "directory",
        "import",
        "--policy",
        &policy,
        "--store",
        STORE,
        &file,
    ]);
    assert_code(&o, 0);
    let after_import = s.journal(STORE);
    assert_eq!(after_import.len(), journal.len() + 1);
    let record = after_import.last().expect("a record");
    assert_eq!(record["event"], "move", "{record}");
    assert_eq!(record["identity"], "alice", "{record}");
    assert_eq!(
        record["change"]["changes"],
        json!([{"op": "set", "attribute": "role", "value": "SRE"}])
    );
    let after = s.reach(&policy, "alice");
    assert_eq!(access_of(&record["lost"]), minus(&before, &after));
    assert_eq!(
        access_of(&record["lost"]),
        BTreeMap::from([("db-dev".to_string(), json!(["dba"]))])
    );
    assert_eq!(access_of(&record["gained"]), minus(&after, &before));
}

#[test]
fn policy_is_optional_on_imports_exports_and_journal() {
    let s = Sandbox::new();
    let policy = fixture("small_old.tenure");
    let broken_policy = fixture("broken.tenure");
    for (catalog, file) in [
        ("directory", "identities.jsonl"),
        ("inventory", "resources.jsonl"),
    ] {
        let o = s.run(&[catalog, "import", "--store", STORE, &fixture(file)]);
        assert_code(&o, 0);
    }
    let journal = s.journal(STORE);
    let runs: [&[&str]; 3] = [
        &["directory", "export", "--store", STORE],
        &["inventory", "export", "--store", STORE],
        &["journal", "--store", STORE],
    ];
    for args in runs {
        let without = s.run(args);
        assert_code(&without, 0);
        let mut with: Vec<&str> = args.to_vec();
        with.extend(["--policy", &policy]);
        let with = s.run(&with);
        assert_code(&with, 0);
        assert_eq!(stdout(&with), stdout(&without), "{args:?}");
        assert!(!json_lines(&with).is_empty(), "{args:?}");
        // Checked all the same.
        let mut broken: Vec<&str> = args.to_vec();
        broken.extend(["--policy", &policy, "--policy", &broken_policy]);
        let o = s.run(&broken);
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "", "{args:?}");
    }
    // Nothing was written by any of them.
    assert_eq!(s.journal(STORE), journal);

    // The journal rebuilt with a policy given: the store stays a copy.
    let file = s.write(
        "journal.jsonl",
        &stdout(&s.run(&["journal", "--store", STORE])),
    );
    let o = s.run(&[
        "journal",
        "--policy",
        &policy,
        "--store",
        "sqlite:copy.db",
        "--import",
        &file,
    ]);
    assert_code(&o, 0);
    assert_eq!(s.journal("sqlite:copy.db"), journal);
}

#[test]
fn store_defaults_to_tenure_db_in_the_working_directory() {
    let s = Sandbox::new();
    let o = s.run(&["directory", "import", &fixture("identities.jsonl")]);
    assert_code(&o, 0);
    assert!(s.path("tenure.db").exists());
    let o = s.run(&["directory", "export"]);
    assert_code(&o, 0);
    assert_eq!(
        by_id(&json_lines(&o)),
        by_id(&fixture_lines("identities.jsonl"))
    );
    let o = s.run(&["directory", "export", "--store", "sqlite:tenure.db"]);
    assert_code(&o, 0);
    assert_eq!(json_lines(&o).len(), 4);
}

// ---------------------------------------------------------------------------------------
// entitlements, who-can, impact
// ---------------------------------------------------------------------------------------

/// The two ways to name the identities and resources a question is asked of.
fn sources() -> [Vec<String>; 2] {
    [
        vec!["--store".into(), STORE.into()],
        vec![
            "--directory".into(),
            fixture("identities.jsonl"),
            "--inventory".into(),
            fixture("resources.jsonl"),
        ],
    ]
}

/// A sandbox whose store holds the small directory and inventory.
fn small_store() -> Sandbox {
    let s = Sandbox::new();
    for (catalog, file) in [
        ("directory", "identities.jsonl"),
        ("inventory", "resources.jsonl"),
    ] {
        let o = s.run(&[catalog, "import", "--store", STORE, &fixture(file)]);
        assert_code(&o, 0);
    }
    s
}

/// Runs `tenure` with `args` followed by `source`.
fn ask(s: &Sandbox, args: &[&str], source: &[String]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(source.iter().map(String::as_str));
    s.run(&all)
}

type Pairs = BTreeMap<(String, String), Json>;

/// `entitlements --format json` (every identity) as (identity, resource) → reasons.
fn all_entitlements(s: &Sandbox, policy: &[&str], source: &[String]) -> (String, Pairs) {
    let mut args = vec!["entitlements", "--format", "json"];
    for p in policy {
        args.extend(["--policy", p]);
    }
    let o = ask(s, &args, source);
    assert_code(&o, 0);
    assert_eq!(
        stderr(&o),
        "",
        "nothing on standard error when it is not a terminal"
    );
    let lines = json_lines(&o);
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["identity"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["alice", "bob", "carol", "dave"],
        "one line per identity, in id order"
    );
    let mut pairs = Pairs::new();
    for line in &lines {
        check_entitlements_line(line);
        for (resource, reasons) in entitlements_of(line) {
            pairs.insert(
                (
                    line["identity"].as_str().unwrap_or("").to_string(),
                    resource,
                ),
                reasons,
            );
        }
    }
    (stdout(&o), pairs)
}

#[test]
fn entitlements_and_who_can_agree_from_the_store_and_from_files() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    let [store, files] = sources();

    let (text, pairs) = all_entitlements(&s, &[&policy], &store);
    let (files_text, _) = all_entitlements(&s, &[&policy], &files);
    assert_eq!(
        files_text, text,
        "--store and --directory/--inventory agree"
    );
    // A policy in two files is the same policy set.
    let (split_text, _) = all_entitlements(
        &s,
        &[
            &fixture("split_grants.tenure"),
            &fixture("split_denies.tenure"),
        ],
        &files,
    );
    assert_eq!(split_text, text, "--policy is repeatable");

    assert_eq!(pairs[&("alice".into(), "db-dev".into())], json!(["dba"]));
    assert_eq!(pairs[&("bob".into(), "ssh-web".into())], json!(["on-call"]));
    assert_eq!(
        pairs[&("dave".into(), "bastion".into())],
        json!(["bastions", "admins"])
    );
    assert!(!pairs.contains_key(&("alice".into(), "db-prod".into())));
    // Carol left: the `leavers` deny overrides every grant.
    assert!(!pairs.keys().any(|(identity, _)| identity == "carol"));

    // One identity: the same line as in the full answer.
    let full: Vec<&str> = text.lines().collect();
    for source in [&store, &files] {
        let o = ask(
            &s,
            &[
                "entitlements",
                "--policy",
                &policy,
                "--identity",
                "bob",
                "--format",
                "json",
            ],
            source,
        );
        assert_code(&o, 0);
        assert_eq!(stdout(&o), format!("{}\n", full[1]));
        let o = ask(
            &s,
            &[
                "entitlements",
                "--policy",
                &policy,
                "--identity",
                "carol",
                "--format",
                "json",
            ],
            source,
        );
        assert_code(&o, 0);
        assert_eq!(one_line(&o), json!({"identity": "carol", "resources": []}));
    }

    // who-can, for every resource, finds exactly the same pairs with the same reasons.
    let mut reverse = Pairs::new();
    for resource in ["bastion", "db-dev", "db-prod", "db-replica", "ssh-web"] {
        let mut answers = Vec::new();
        for source in [&store, &files] {
            let o = ask(
                &s,
                &[
                    "who-can",
                    "--policy",
                    &policy,
                    "--resource",
                    resource,
                    "--format",
                    "json",
                ],
                source,
            );
            assert_code(&o, 0);
            answers.push(stdout(&o));
            let line = one_line(&o);
            assert_eq!(keys(&line), key_set(&["resource", "identities"]), "{line}");
            assert_eq!(line["resource"], resource);
            let holders = line["identities"].as_array().expect("identities");
            let ids: Vec<&str> = holders.iter().filter_map(|h| h["id"].as_str()).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{line}");
            for h in holders {
                assert_eq!(keys(h), key_set(&["id", "reasons"]), "{line}");
                check_reasons(&h["reasons"]);
                reverse.insert(
                    (
                        h["id"].as_str().unwrap_or("").to_string(),
                        resource.to_string(),
                    ),
                    h["reasons"].clone(),
                );
            }
        }
        assert_eq!(
            answers[0], answers[1],
            "who-can {resource}: --store and files agree"
        );
    }
    assert_eq!(reverse, pairs);
}

#[test]
fn impact_is_the_difference_of_entitlements() {
    let s = small_store();
    let old = fixture("small_old.tenure");
    let new = fixture("small_new.tenure");
    let mut answers = Vec::new();
    for source in sources() {
        let o = ask(
            &s,
            &["impact", "--old", &old, "--new", &new, "--format", "json"],
            &source,
        );
        assert_code(&o, 0);
        answers.push(stdout(&o));
        let line = one_line(&o);
        assert_eq!(keys(&line), key_set(&["gained", "lost"]), "{line}");
        let pairs_of = |list: &Json| -> Pairs {
            list.as_array()
                .expect("an array")
                .iter()
                .map(|p| {
                    assert_eq!(
                        keys(p),
                        key_set(&["identity", "resource", "reasons"]),
                        "{p}"
                    );
                    check_reasons(&p["reasons"]);
                    let key = (
                        p["identity"].as_str().unwrap_or("").to_string(),
                        p["resource"].as_str().unwrap_or("").to_string(),
                    );
                    (key, p["reasons"].clone())
                })
                .collect()
        };
        let (_, before) = all_entitlements(&s, &[&old], &source);
        let (_, after) = all_entitlements(&s, &[&new], &source);
        let gained = pairs_of(&line["gained"]);
        let lost = pairs_of(&line["lost"]);
        let diff = |a: &Pairs, b: &Pairs| -> Pairs {
            a.iter()
                .filter(|(k, _)| !b.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        assert_eq!(gained, diff(&after, &before));
        assert_eq!(lost, diff(&before, &after));
        assert_eq!(gained[&("alice".into(), "db-prod".into())], json!(["dba"]));
        assert_eq!(
            gained[&("bob".into(), "db-replica".into())],
            json!(["sre-replica"])
        );
        assert_eq!(
            lost,
            Pairs::from([(("bob".into(), "ssh-web".into()), json!(["on-call"]))])
        );
        // Carol stays a leaver; Dave reaches everything under both.
        assert!(!gained
            .keys()
            .chain(lost.keys())
            .any(|(i, _)| i == "carol" || i == "dave"));
    }
    assert_eq!(answers[0], answers[1], "--store and files agree");

    // No change, no impact.
    let o = s.run(&[
        "impact", "--old", &old, "--new", &old, "--store", STORE, "--format", "json",
    ]);
    assert_code(&o, 0);
    assert_eq!(one_line(&o), json!({"gained": [], "lost": []}));
}

#[test]
fn questions_from_files_create_no_store() {
    let s = Sandbox::new();
    let policy = fixture("small_old.tenure");
    let files = &sources()[1];
    let runs: [&[&str]; 3] = [
        &["entitlements", "--policy", &policy, "--format", "json"],
        &[
            "who-can",
            "--policy",
            &policy,
            "--resource",
            "db-dev",
            "--format",
            "json",
        ],
        &[
            "impact",
            "--old",
            &policy,
            "--new",
            &fixture("small_new.tenure"),
            "--format",
            "json",
        ],
    ];
    for args in runs {
        let o = ask(&s, args, files);
        assert_code(&o, 0);
        assert!(!json_lines(&o).is_empty());
    }
    let left: Vec<_> = std::fs::read_dir(s.dir.path())
        .expect("read the sandbox")
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .expect("read the sandbox");
    assert!(left.is_empty(), "files created: {left:?}");
}

#[test]
fn human_format_is_text_and_the_default() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    let runs: [&[&str]; 3] = [
        &["entitlements", "--policy", &policy, "--store", STORE],
        &[
            "who-can",
            "--policy",
            &policy,
            "--store",
            STORE,
            "--resource",
            "db-dev",
        ],
        &[
            "impact",
            "--old",
            &policy,
            "--new",
            &fixture("small_new.tenure"),
            "--store",
            STORE,
        ],
    ];
    for args in runs {
        let default = s.run(args);
        assert_code(&default, 0);
        let mut human: Vec<&str> = args.to_vec();
        human.extend(["--format", "human"]);
        let human = s.run(&human);
        assert_code(&human, 0);
        let text = stdout(&human);
        assert_eq!(stdout(&default), text, "{args:?}: human is the default");
        assert!(!text.trim().is_empty(), "{args:?}");
        assert!(text.contains("alice"), "{args:?}: {text}");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                serde_json::from_str::<Json>(line).is_err(),
                "{args:?}: JSON: {line}"
            );
        }
        assert!(!text.contains('\u{1b}'), "{args:?}: {text:?}");
    }
}

// ---------------------------------------------------------------------------------------
// schedule and advance
// ---------------------------------------------------------------------------------------

#[test]
fn schedule_add_list_advance_and_cancel() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    let at = "2031-01-31T18:00:00Z";
    let bob = s.reach(&policy, "bob");
    assert!(!bob.is_empty());

    let o = s.run(&[
        "schedule",
        "add",
        "--store",
        STORE,
        "--at",
        at,
        &fixture("leave_bob.json"),
    ]);
    assert_code(&o, 0);
    let added = one_line(&o);
    assert_eq!(added["event"], json!({"event": "leave", "id": "bob"}));
    assert_eq!(added["at"], at);
    let id = added["id"].as_u64().expect("an id");

    let o = s.run(&["schedule", "list", "--store", STORE]);
    assert_code(&o, 0);
    assert_eq!(json_lines(&o), std::slice::from_ref(&added));

    // Not yet due: nothing happens.
    let head = s.journal(STORE).len();
    let o = s.run(&[
        "advance",
        "--policy",
        &policy,
        "--store",
        STORE,
        "--to",
        "2031-01-31T17:59:59Z",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    // (The policy, seen for the first time, is journaled; nothing else is.)
    let journal = s.journal(STORE);
    assert!(
        journal[head..].iter().all(|r| r["event"] == "policy"),
        "{journal:?}"
    );
    assert_eq!(s.reach(&policy, "bob"), bob);

    // Due: applied at its effective time, journaled with source `schedule`.
    let o = s.run(&["advance", "--policy", &policy, "--store", STORE, "--to", at]);
    assert_code(&o, 0);
    let record = one_line(&o);
    assert_eq!(keys(&record), key_set(&JOURNAL_KEYS), "{record}");
    assert_eq!(record["event"], "leave");
    assert_eq!(record["identity"], "bob");
    assert_eq!(record["source"], "schedule");
    let stamped: jiff::Timestamp = record["at"].as_str().expect("at").parse().expect("a time");
    assert_eq!(stamped, at.parse::<jiff::Timestamp>().expect("a time"));
    assert_eq!(record["gained"], json!([]));
    assert_eq!(access_of(&record["lost"]), bob);
    assert!(s.reach(&policy, "bob").is_empty());
    let journal = s.journal(STORE);
    assert_eq!(journal.last(), Some(&record));
    assert_eq!(record["seq"], journal.len());

    let o = s.run(&["schedule", "list", "--store", STORE]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    let o = s.run(&[
        "advance",
        "--policy",
        &policy,
        "--store",
        STORE,
        "--to",
        "2032-01-01T00:00:00Z",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");

    // Cancelled before it is due: never applied.
    let o = s.run(&[
        "schedule",
        "add",
        "--store",
        STORE,
        "--at",
        "2031-06-01T00:00:00Z",
        &fixture("leave_bob.json"),
    ]);
    assert_code(&o, 0);
    let second = one_line(&o);
    let second_id = second["id"].as_u64().expect("an id");
    assert_ne!(second_id, id);
    let o = s.run(&[
        "schedule",
        "cancel",
        "--store",
        STORE,
        &second_id.to_string(),
    ]);
    assert_code(&o, 0);
    let cancelled = one_line(&o);
    assert_eq!(cancelled["id"], second_id);
    assert_eq!(cancelled["cancelled"], true);
    assert_eq!(cancelled["event"], second["event"]);
    let o = s.run(&["schedule", "list", "--store", STORE]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
    // Cancelling it again is refused.
    let o = s.run(&[
        "schedule",
        "cancel",
        "--store",
        STORE,
        &second_id.to_string(),
    ]);
    assert_code(&o, 1);
    assert_eq!(stdout(&o), "");

    // A due event that no longer applies: exit 1, dropped from the schedule.
    let o = s.run(&[
        "schedule",
        "add",
        "--store",
        STORE,
        "--at",
        "2031-02-01T00:00:00Z",
        &fixture("leave_nobody.json"),
    ]);
    assert_code(&o, 0);
    let o = s.run(&["advance", "--store", STORE, "--to", "2031-03-01T00:00:00Z"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("nobody"), "{}", stderr(&o));
    let o = s.run(&["schedule", "list", "--store", STORE]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "");
}

// ---------------------------------------------------------------------------------------
// exit statuses
// ---------------------------------------------------------------------------------------

#[test]
fn a_policy_that_does_not_compile_exits_1() {
    let s = small_store();
    let broken = fixture("broken.tenure");
    let good = fixture("small_old.tenure");
    let request = fixture("scim/01-create-user.json");
    let runs: [&[&str]; 5] = [
        &[
            "entitlements",
            "--policy",
            &broken,
            "--store",
            STORE,
            "--format",
            "json",
        ],
        &[
            "who-can",
            "--policy",
            &broken,
            "--store",
            STORE,
            "--resource",
            "db-dev",
            "--format",
            "json",
        ],
        &[
            "impact", "--old", &good, "--new", &broken, "--store", STORE, "--format", "json",
        ],
        &[
            "scim", "apply", "--policy", &broken, "--store", STORE, &request,
        ],
        &[
            "directory",
            "import",
            "--policy",
            &broken,
            "--store",
            STORE,
            &fixture("identities.jsonl"),
        ],
    ];
    let journal = s.journal(STORE);
    for args in runs {
        let o = s.run(args);
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(
            stderr(&o).contains("broken.tenure:2"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(s.journal(STORE), journal, "nothing written");
}

#[test]
fn unknown_identity_or_resource_exits_1() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    for source in sources() {
        let o = ask(
            &s,
            &[
                "entitlements",
                "--policy",
                &policy,
                "--identity",
                "zed",
                "--format",
                "json",
            ],
            &source,
        );
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains("`zed`"), "{}", stderr(&o));
        let o = ask(
            &s,
            &[
                "who-can",
                "--policy",
                &policy,
                "--resource",
                "db-zed",
                "--format",
                "json",
            ],
            &source,
        );
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains("`db-zed`"), "{}", stderr(&o));
    }
}

#[test]
fn a_malformed_line_in_an_import_exits_2_naming_the_line() {
    let s = Sandbox::new();
    let o = s.run(&[
        "directory",
        "import",
        "--store",
        STORE,
        &fixture("malformed_identities.jsonl"),
    ]);
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("malformed_identities.jsonl"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    let o = s.run(&["directory", "export", "--store", STORE]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "", "nothing imported");

    // The same file as a question's --directory.
    let o = s.run(&[
        "entitlements",
        "--policy",
        &fixture("small_old.tenure"),
        "--directory",
        &fixture("malformed_identities.jsonl"),
        "--inventory",
        &fixture("resources.jsonl"),
    ]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));

    // A resource line without an id.
    let file = s.write(
        "no-id.jsonl",
        "{\"id\": \"a\", \"type\": \"ssh\"}\n\n{\"type\": \"ssh\"}\n",
    );
    let o = s.run(&["inventory", "import", "--store", STORE, &file]);
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
}

#[test]
fn a_bad_store_address_exits_2() {
    let s = Sandbox::new();
    let policy = fixture("small_old.tenure");
    let bad = "mysql://x";
    let runs: [&[&str]; 8] = [
        &["directory", "export", "--store", bad],
        &[
            "inventory",
            "import",
            "--store",
            bad,
            &fixture("resources.jsonl"),
        ],
        &[
            "entitlements",
            "--policy",
            &policy,
            "--store",
            bad,
            "--format",
            "json",
        ],
        &[
            "who-can",
            "--policy",
            &policy,
            "--store",
            bad,
            "--resource",
            "db-dev",
        ],
        &[
            "scim",
            "apply",
            "--policy",
            &policy,
            "--store",
            bad,
            &fixture("scim/01-create-user.json"),
        ],
        &["journal", "--store", bad],
        &["schedule", "list", "--store", bad],
        &["advance", "--store", bad, "--to", "2031-01-01T00:00:00Z"],
    ];
    for args in runs {
        let o = s.run(args);
        assert_code(&o, 2);
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(stderr(&o).contains("mysql://x"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_missing_file_exits_2() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    let missing = s.path("missing.jsonl").display().to_string();
    let runs: [&[&str]; 13] = [
        &["directory", "import", "--store", STORE, &missing],
        &["inventory", "import", "--store", STORE, &missing],
        &[
            "entitlements",
            "--policy",
            &policy,
            "--directory",
            &missing,
            "--inventory",
            &fixture("resources.jsonl"),
        ],
        &[
            "who-can",
            "--policy",
            &policy,
            "--directory",
            &fixture("identities.jsonl"),
            "--inventory",
            &missing,
            "--resource",
            "db-dev",
        ],
        &[
            "scim", "apply", "--policy", &policy, "--store", STORE, &missing,
        ],
        &["journal", "--store", STORE, "--import", &missing],
        &[
            "schedule",
            "add",
            "--store",
            STORE,
            "--at",
            "2031-01-01T00:00:00Z",
            &missing,
        ],
        // A policy file that cannot be read is an unreadable file (exit 2), not a policy
        // that fails to compile (exit 1), on every lifecycle command.
        &["entitlements", "--policy", &missing, "--store", STORE],
        &[
            "who-can",
            "--policy",
            &policy,
            "--policy",
            &missing,
            "--store",
            STORE,
            "--resource",
            "db-dev",
        ],
        &[
            "impact", "--old", &policy, "--new", &missing, "--store", STORE,
        ],
        &[
            "scim",
            "apply",
            "--policy",
            &missing,
            "--store",
            STORE,
            &fixture("scim/01-create-user.json"),
        ],
        &[
            "directory",
            "import",
            "--policy",
            &missing,
            "--store",
            STORE,
            &fixture("identities.jsonl"),
        ],
        &[
            "advance",
            "--policy",
            &missing,
            "--store",
            STORE,
            "--to",
            "2031-01-01T00:00:00Z",
        ],
    ];
    let journal = s.journal(STORE);
    for args in runs {
        let o = s.run(args);
        assert_code(&o, 2);
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(
            stderr(&o).contains("missing.jsonl"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(s.journal(STORE), journal, "nothing written");
    // The mapping of `scim apply` too.
    let o = s.run(&[
        "scim",
        "apply",
        "--policy",
        &policy,
        "--store",
        STORE,
        "--mapping",
        &missing,
        &fixture("scim/01-create-user.json"),
    ]);
    assert_code(&o, 2);
}

#[test]
fn a_bad_flag_exits_2() {
    let s = small_store();
    let policy = fixture("small_old.tenure");
    let runs: [&[&str]; 7] = [
        &[
            "entitlements",
            "--policy",
            &policy,
            "--store",
            STORE,
            "--format",
            "xml",
        ],
        &["entitlements", "--store", STORE],
        &["who-can", "--policy", &policy, "--store", STORE],
        &[
            "entitlements",
            "--policy",
            &policy,
            "--directory",
            &fixture("identities.jsonl"),
        ],
        &["journal", "--store", STORE, "--since", "x"],
        &["advance", "--store", STORE, "--to", "next tuesday"],
        &[
            "schedule",
            "add",
            "--store",
            STORE,
            "--at",
            "tomorrow",
            &fixture("leave_bob.json"),
        ],
    ];
    for args in runs {
        let o = s.run(args);
        assert_code(&o, 2);
        assert_eq!(stdout(&o), "", "{args:?}");
    }
}

#[test]
fn help_documents_the_exit_statuses() {
    let s = Sandbox::new();
    for command in [
        &["entitlements"][..],
        &["who-can"],
        &["impact"],
        &["scim", "apply"],
        &["journal"],
        &["advance"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let o = s.run(&args);
        assert_code(&o, 0);
        let text = stdout(&o);
        assert!(text.contains("Exit status:"), "{command:?}: {text}");
        assert!(text.contains("  0  "), "{command:?}: {text}");
        assert!(text.contains("  2  "), "{command:?}: {text}");
    }
}
