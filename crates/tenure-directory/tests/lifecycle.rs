//! The lifecycle service ([`Lifecycle`]) end to end: every event kind with its journal
//! record and access change, refused input that writes nothing, journal export and
//! import, crash safety under SIGKILL, scheduled leavers, mapping changes, SCIM group
//! memberships — on SQLite, and the compact scenario and two writers on a real
//! PostgreSQL (`tests/support/postgres.rs`, one server for the binary).
//!
//! Fixtures are under `tests/data/lifecycle/` (see the README there) and reuse the Okta
//! requests of `tests/data/scim/okta/`. Clocks are set by hand, so journal times are
//! exact; nothing is timed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{json, Value as Json};
use tenure::lifecycle::{Change, Directory, Event, Inventory};
use tenure::{Identity, Policy, Resource, Value};
use tenure_directory::mapping::Mapping;
use tenure_directory::scim::ScimRequest;
use tenure_directory::store::{JournalRecord, PolicyStamp};
use tenure_directory::{policy_hash, Lifecycle, LifecycleError, Recorded, ScimApplied};

const POLICY: &str = include_str!("data/lifecycle/policy.tenure");
const INVENTORY: &str = include_str!("data/lifecycle/inventory.jsonl");
const MAPPING_ROLE: &str = include_str!("data/lifecycle/mapping-role.toml");
/// The user id in the Okta fixtures' paths and member values.
const OKTA_USER: &str = "23a35c27-23d3-4c03-b4c5-6443c09e7173";
/// The other user id in Okta's membership PATCH.
const OKTA_OTHER_USER: &str = "89bb1940-b905-4575-9e7f-6f887cfb368e";
/// The group id in the Okta fixtures' paths.
const OKTA_GROUP: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";
/// The SCIM group the policy grants on (`groups = "Test SCIMv2"`).
const SCIM_GROUP: &str = "Test SCIMv2";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

/// A clock the test moves by hand (shared with the `Lifecycle` it is installed in).
#[derive(Clone)]
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn at(text: &str) -> Clock {
        Clock(Arc::new(AtomicI64::new(ts(text).as_microsecond())))
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_microsecond(self.0.load(Ordering::SeqCst)).expect("in range")
    }

    fn tick(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1_000_000, Ordering::SeqCst);
    }

    fn install(&self, lifecycle: &mut Lifecycle) {
        let clock = self.clone();
        lifecycle.set_clock(move || clock.now());
    }
}

fn sqlite_address(dir: &Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(name).display())
}

fn policy() -> Policy {
    Policy::compile(POLICY).expect("the test policy compiles")
}

fn stamp() -> PolicyStamp {
    PolicyStamp {
        version: 1,
        hash: policy_hash(&[("policy", POLICY)]),
    }
}

/// Opens `address` with `clock` installed and the test policy in force.
fn open(address: &str, clock: &Clock) -> Lifecycle {
    let mut lifecycle =
        Lifecycle::open(address).unwrap_or_else(|e| panic!("open {address}: {e:?}"));
    clock.install(&mut lifecycle);
    let stamp = lifecycle
        .set_policy(policy(), POLICY)
        .expect("set the policy");
    assert_eq!(stamp, self::stamp());
    lifecycle
}

fn identity(json: Json) -> Identity {
    Identity::from_json_value(&json).expect("an identity")
}

fn resource(json: Json) -> Resource {
    Resource::from_json_value(&json).expect("a resource")
}

fn person(id: &str, role: &str) -> Identity {
    identity(json!({"id": id, "role": role, "status": "active", "groups": []}))
}

fn set(attribute: &str, value: impl Into<Value>) -> Change {
    Change::Set {
        attribute: attribute.into(),
        value: value.into(),
    }
}

fn add_member(attribute: &str, value: &str) -> Change {
    Change::AddMember {
        attribute: attribute.into(),
        value: value.into(),
    }
}

fn moved(id: &str, changes: Vec<Change>) -> Event {
    Event::Move {
        id: id.into(),
        changes,
    }
}

fn changed(id: &str, changes: Vec<Change>) -> Event {
    Event::ChangeResource {
        id: id.into(),
        changes,
    }
}

/// The test inventory's resources, each as an `AddResource`, in id order.
fn inventory_events() -> Vec<Event> {
    let inventory = Inventory::from_json_lines(INVENTORY).expect("the test inventory");
    inventory
        .iter()
        .map(|(_, r)| Event::AddResource {
            resource: r.clone(),
        })
        .collect()
}

fn apply(lifecycle: &mut Lifecycle, event: Event) -> Recorded {
    lifecycle
        .apply(event.clone(), "cli")
        .unwrap_or_else(|e| panic!("{event:?}: {e:?}"))
}

/// The stable code of an error (`miette::Diagnostic::code`).
fn code(error: &LifecycleError) -> String {
    miette::Diagnostic::code(error)
        .map(|c| c.to_string())
        .unwrap_or_default()
}

/// The values of `key` in a `gained`/`lost` array.
fn keys(list: &Json, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| item[key].as_str().expect("a string key").to_string())
        .collect()
}

/// `after` minus `before` (gained) and `before` minus `after` (lost), keyed by `key`, as
/// the journal writes them.
fn diff(before: Vec<Json>, after: Vec<Json>, key: &str) -> (Json, Json) {
    let has = |list: &[Json], item: &Json| list.iter().any(|i| i[key] == item[key]);
    let gained: Vec<Json> = after.iter().filter(|i| !has(&before, i)).cloned().collect();
    let lost: Vec<Json> = before.iter().filter(|i| !has(&after, i)).cloned().collect();
    (Json::Array(gained), Json::Array(lost))
}

/// What an identity event must record, from `Policy::entitlements` before and after.
fn identity_change(
    policy: &Policy,
    before: Option<&Identity>,
    after: Option<&Identity>,
    inventory: &Inventory,
) -> (Json, Json) {
    let reach = |i: Option<&Identity>| -> Vec<Json> {
        i.map(|i| policy.entitlements(i, inventory))
            .unwrap_or_default()
            .into_iter()
            .map(|e| json!({"resource": e.resource, "reasons": e.reasons}))
            .collect()
    };
    diff(reach(before), reach(after), "resource")
}

/// What a resource event must record, from `Policy::who_can` before and after.
fn resource_change(
    policy: &Policy,
    before: Option<&Resource>,
    after: Option<&Resource>,
    directory: &Directory,
) -> (Json, Json) {
    let reach = |r: Option<&Resource>| -> Vec<Json> {
        r.map(|r| policy.who_can(r, directory))
            .unwrap_or_default()
            .into_iter()
            .map(|h| json!({"identity": h.identity, "reasons": h.reasons}))
            .collect()
    };
    diff(reach(before), reach(after), "identity")
}

/// The directory, inventory and journal, for before/after comparisons.
#[derive(Debug, PartialEq)]
struct Model {
    directory: String,
    inventory: String,
    journal: Vec<JournalRecord>,
}

fn model(lifecycle: &mut Lifecycle) -> Model {
    Model {
        directory: lifecycle.directory().expect("directory").to_json_lines(),
        inventory: lifecycle.inventory().expect("inventory").to_json_lines(),
        journal: lifecycle.journal(0).expect("journal"),
    }
}

/// The model plus the SCIM users and groups as `GET` lists them.
#[derive(Debug, PartialEq)]
struct State {
    model: Model,
    users: Option<Json>,
    groups: Option<Json>,
}

fn state(lifecycle: &mut Lifecycle) -> State {
    let mut list = |path: &str| {
        let applied = scim(lifecycle, &ScimRequest::new("GET", path));
        assert!(applied.records.is_empty());
        applied.response
    };
    let users = list("/scim/v2/Users");
    let groups = list("/scim/v2/Groups");
    State {
        model: model(lifecycle),
        users,
        groups,
    }
}

/// Asserts the journal is numbered 1, 2, 3, … and returns its length.
fn assert_gap_free(journal: &[JournalRecord]) -> u64 {
    for (n, record) in journal.iter().enumerate() {
        assert_eq!(record.seq, n as u64 + 1, "journal gap at position {n}");
    }
    journal.len() as u64
}

/// A SCIM request file under `tests/data/`, with `replace` applied to its text.
fn request(file: &str, replace: &[(&str, &str)]) -> ScimRequest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    ScimRequest::from_json(&text).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

fn scim(lifecycle: &mut Lifecycle, request: &ScimRequest) -> ScimApplied {
    lifecycle
        .scim(request, "scim")
        .unwrap_or_else(|e| panic!("{} {}: {e:?}", request.method, request.path))
}

/// The id of the resource a SCIM request created.
fn created(applied: &ScimApplied) -> String {
    assert_eq!(applied.status, 201, "{:?}", applied.response);
    applied.response.as_ref().expect("a body")["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// Creates an Okta user (`okta/02-create-user.json`) under another user name.
fn okta_user(lifecycle: &mut Lifecycle, name: &str) -> (String, ScimApplied) {
    let applied = scim(
        lifecycle,
        &request(
            "scim/okta/02-create-user.json",
            &[
                ("test.user@okta.local", &format!("{name}@okta.local")),
                ("00ujl29u0le5T6Aj10h7", &format!("00u-{name}")),
            ],
        ),
    );
    (created(&applied), applied)
}

fn okta_group(lifecycle: &mut Lifecycle) -> String {
    let applied = scim(lifecycle, &request("scim/okta/09-create-group.json", &[]));
    assert!(applied.records.is_empty(), "a group without members moves nobody");
    created(&applied)
}

/// Asserts a record is one of `journal`'s, at its place.
fn assert_journaled(journal: &[JournalRecord], record: &Recorded) {
    let at = journal
        .get(record.seq as usize - 1)
        .unwrap_or_else(|| panic!("seq {} is not in the journal", record.seq));
    assert_eq!(at, record);
}

// ---------------------------------------------------------------------------------------
// 1. Every event kind through `apply`
// ---------------------------------------------------------------------------------------

/// One step of the event walk: the event, the journal name expected (`none` when it
/// changes nothing), and the ids gained and lost (resources for identity events,
/// identities for resource events).
type Step = (Event, &'static str, &'static [&'static str], &'static [&'static str]);

fn event_walk() -> Vec<Step> {
    let resources: BTreeMap<String, Event> = inventory_events()
        .into_iter()
        .map(|e| match &e {
            Event::AddResource { resource } => (
                tenure::lifecycle::id_of(resource).unwrap_or_default().to_string(),
                e.clone(),
            ),
            _ => unreachable!(),
        })
        .collect();
    let add = |id: &str| resources[id].clone();
    let badge = |value: Option<&str>| match value {
        Some(v) => Change::SetTag {
            key: "badge".into(),
            value: v.into(),
        },
        None => Change::RemoveTag {
            key: "badge".into(),
        },
    };
    vec![
        (add("vm-1"), "resource_add", &[], &[]),
        (
            Event::Join {
                identity: person("pamela", "CloudEngineer"),
            },
            "join",
            &["vm-1"],
            &[],
        ),
        (add("wiki"), "resource_add", &["pamela"], &[]),
        (add("db-1"), "resource_add", &[], &[]),
        (add("ops-1"), "resource_add", &[], &[]),
        (add("vault-1"), "resource_add", &[], &[]),
        (
            Event::Join {
                identity: person("sam", "DBA"),
            },
            "join",
            &["db-1", "wiki"],
            &[],
        ),
        (
            moved("pamela", vec![set("role", "DBA")]),
            "move",
            &["db-1"],
            &["vm-1"],
        ),
        (
            moved(
                "pamela",
                vec![Change::Remove {
                    attribute: "role".into(),
                }],
            ),
            "move",
            &[],
            &["db-1"],
        ),
        (
            moved("pamela", vec![add_member("groups", "ops")]),
            "move",
            &["ops-1"],
            &[],
        ),
        (
            moved("pamela", vec![badge(Some("gold"))]),
            "move",
            &["vault-1"],
            &[],
        ),
        (moved("pamela", vec![badge(None)]), "move", &[], &["vault-1"]),
        (
            moved(
                "pamela",
                vec![Change::RemoveMember {
                    attribute: "groups".into(),
                    value: "ops".into(),
                }],
            ),
            "move",
            &[],
            &["ops-1"],
        ),
        (
            moved(
                "pamela",
                vec![set("role", "CloudEngineer"), add_member("groups", "ops")],
            ),
            "move",
            &["ops-1", "vm-1"],
            &[],
        ),
        // Every attribute stays equal: not journaled.
        (
            moved("pamela", vec![set("role", "CloudEngineer")]),
            "none",
            &[],
            &[],
        ),
        (
            moved(
                "pamela",
                vec![
                    Change::RemoveMember {
                        attribute: "groups".into(),
                        value: "absent".into(),
                    },
                    badge(None),
                    Change::Remove {
                        attribute: "title".into(),
                    },
                    set("role", "DBA"),
                    set("role", "CloudEngineer"),
                ],
            ),
            "none",
            &[],
            &[],
        ),
        (
            changed(
                "vm-1",
                vec![Change::SetTag {
                    key: "env".into(),
                    value: "prod".into(),
                }],
            ),
            "resource_change",
            &[],
            &["pamela"],
        ),
        (
            changed(
                "vm-1",
                vec![Change::SetTag {
                    key: "env".into(),
                    value: "cloud".into(),
                }],
            ),
            "resource_change",
            &["pamela"],
            &[],
        ),
        (
            changed("db-1", vec![set("type", "mysql")]),
            "resource_change",
            &[],
            &["sam"],
        ),
        (
            changed(
                "db-1",
                vec![
                    Change::Remove {
                        attribute: "type".into(),
                    },
                    set("type", "postgres"),
                ],
            ),
            "resource_change",
            &["sam"],
            &[],
        ),
        (
            changed(
                "ops-1",
                vec![
                    add_member("owners", "alice"),
                    Change::RemoveTag { key: "team".into() },
                ],
            ),
            "resource_change",
            &[],
            &["pamela"],
        ),
        (
            changed(
                "ops-1",
                vec![
                    Change::RemoveMember {
                        attribute: "owners".into(),
                        value: "alice".into(),
                    },
                    Change::SetTag {
                        key: "team".into(),
                        value: "ops".into(),
                    },
                ],
            ),
            "resource_change",
            &["pamela"],
            &[],
        ),
        // A resource change that changes nothing: not journaled either.
        (
            changed(
                "ops-1",
                vec![Change::SetTag {
                    key: "team".into(),
                    value: "ops".into(),
                }],
            ),
            "none",
            &[],
            &[],
        ),
        (
            Event::Leave { id: "sam".into() },
            "leave",
            &[],
            &["db-1", "wiki"],
        ),
        // The leave of an inactive identity: not journaled.
        (Event::Leave { id: "sam".into() }, "none", &[], &[]),
        (
            Event::RemoveResource { id: "wiki".into() },
            "resource_remove",
            &[],
            &["pamela"],
        ),
        (
            Event::Leave {
                id: "pamela".into(),
            },
            "leave",
            &[],
            &["ops-1", "vm-1"],
        ),
        (
            Event::Purge {
                id: "pamela".into(),
            },
            "purge",
            &[],
            &[],
        ),
        (
            Event::Join {
                identity: person("pamela", "DBA"),
            },
            "join",
            &["db-1"],
            &[],
        ),
        (
            Event::Purge {
                id: "pamela".into(),
            },
            "purge",
            &[],
            &["db-1"],
        ),
        (
            Event::RemoveResource { id: "vm-1".into() },
            "resource_remove",
            &[],
            &[],
        ),
    ]
}

#[test]
fn every_event_kind_is_journaled_with_its_access_change() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "events.db");
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&address, &clock);
    let policy = policy();
    let mapping_hash = Mapping::default().content_hash();

    let journal = lifecycle.journal(0).unwrap();
    assert_eq!(journal.len(), 1);
    let first = &journal[0];
    assert_eq!((first.seq, first.event.as_str()), (1, "policy"));
    assert_eq!(first.policy, Some(stamp()));
    assert_eq!(
        first.change,
        json!({"version": 1, "hash": stamp().hash, "rules": policy.len()})
    );
    let mut expected = journal;

    for (n, (event, name, gained, lost)) in event_walk().into_iter().enumerate() {
        clock.tick(60);
        let directory = lifecycle.directory().unwrap().clone();
        let inventory = lifecycle.inventory().unwrap().clone();
        let record = apply(&mut lifecycle, event.clone());
        let context = format!("step {n}: {event:?} -> {record:?}");
        let directory_after = lifecycle.directory().unwrap().clone();
        let inventory_after = lifecycle.inventory().unwrap().clone();

        if name == "none" {
            assert_eq!((record.seq, record.event.as_str()), (0, "none"), "{context}");
            assert_eq!(directory_after, directory, "{context}");
            assert_eq!(inventory_after, inventory, "{context}");
            assert_eq!(lifecycle.journal(0).unwrap(), expected, "{context}");
            continue;
        }
        assert_eq!(record.seq, expected.len() as u64 + 1, "{context}");
        assert_eq!(record.event, name, "{context}");
        assert_eq!(record.source, "cli", "{context}");
        assert_eq!(record.at, clock.now(), "{context}");
        assert_eq!(record.change, event.to_json(), "{context}");
        assert_eq!(record.policy, Some(stamp()), "{context}");
        assert_eq!(record.mapping_hash.as_deref(), Some(mapping_hash.as_str()));
        let (want_gained, want_lost, key) = match event.subject() {
            Some(tenure::lifecycle::Subject::Identity(id)) => {
                assert_eq!(record.identity.as_deref(), Some(id), "{context}");
                assert_eq!(record.resource, None, "{context}");
                assert_eq!(inventory_after, inventory, "{context}");
                let (g, l) = identity_change(
                    &policy,
                    directory.get(id),
                    directory_after.get(id),
                    &inventory,
                );
                (g, l, "resource")
            }
            Some(tenure::lifecycle::Subject::Resource(id)) => {
                assert_eq!(record.resource.as_deref(), Some(id), "{context}");
                assert_eq!(record.identity, None, "{context}");
                assert_eq!(directory_after, directory, "{context}");
                let (g, l) = resource_change(
                    &policy,
                    inventory.get(id),
                    inventory_after.get(id),
                    &directory,
                );
                (g, l, "identity")
            }
            None => panic!("{context}: no subject"),
        };
        assert_eq!(record.gained, want_gained, "gained, {context}");
        assert_eq!(record.lost, want_lost, "lost, {context}");
        assert_eq!(keys(&record.gained, key), *gained, "gained, {context}");
        assert_eq!(keys(&record.lost, key), *lost, "lost, {context}");
        expected.push(record);
    }

    // The state the walk ends in, and the journal of exactly the acknowledged records.
    assert_eq!(
        lifecycle.directory().unwrap().to_json_lines(),
        r#"{"groups":[],"id":"sam","role":"DBA","status":"inactive"}"#.to_string() + "\n"
    );
    let inventory = lifecycle.inventory().unwrap();
    assert_eq!(
        inventory.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        ["db-1", "ops-1", "vault-1"]
    );
    assert_eq!(expected.len(), 28);
    assert_eq!(lifecycle.journal(0).unwrap(), expected);
    assert_eq!(lifecycle.journal(20).unwrap(), expected[20..]);
    assert_eq!(lifecycle.journal(28).unwrap(), []);
    let names: BTreeSet<&str> = expected.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "join",
            "leave",
            "move",
            "policy",
            "purge",
            "resource_add",
            "resource_change",
            "resource_remove"
        ])
    );

    // Reopened, the store holds the same.
    let before = model(&mut lifecycle);
    drop(lifecycle);
    let mut reopened = open(&address, &clock);
    assert_eq!(model(&mut reopened), before);
}

// ---------------------------------------------------------------------------------------
// 2. Refused input changes nothing
// ---------------------------------------------------------------------------------------

type Refusal = Box<dyn Fn(&mut Lifecycle) -> Result<(), LifecycleError>>;

fn event_refusal(event: Event) -> Refusal {
    Box::new(move |l: &mut Lifecycle| l.apply(event.clone(), "cli").map(drop))
}

fn scim_refusal(request: ScimRequest) -> Refusal {
    Box::new(move |l: &mut Lifecycle| l.scim(&request, "scim").map(drop))
}

#[test]
fn refused_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "refusals.db");
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&address, &clock);
    for event in inventory_events() {
        apply(&mut lifecycle, event);
    }
    let pamela = identity(
        json!({"id": "pamela", "role": "CloudEngineer", "title": "SRE", "status": "active"}),
    );
    apply(&mut lifecycle, Event::Join { identity: pamela });
    let (user, _) = okta_user(&mut lifecycle, "ada");
    let group = okta_group(&mut lifecycle);
    clock.tick(3600);

    let before = state(&mut lifecycle);
    assert_eq!(before.model.journal.len(), 9);
    let user_path = format!("/scim/v2/Users/{user}");
    let group_path = format!("/scim/v2/Groups/{group}");
    let refusals: Vec<(&str, Refusal, &str)> = vec![
        (
            "move of an unknown id",
            event_refusal(moved("nobody", vec![set("role", "DBA")])),
            "tenure::lifecycle::unknown_identity",
        ),
        (
            "leave of an unknown id",
            event_refusal(Event::Leave { id: "nobody".into() }),
            "tenure::lifecycle::unknown_identity",
        ),
        (
            "purge of an unknown id",
            event_refusal(Event::Purge { id: "nobody".into() }),
            "tenure::lifecycle::unknown_identity",
        ),
        (
            "change of an unknown resource",
            event_refusal(changed("nothing", vec![set("type", "ssh")])),
            "tenure::lifecycle::unknown_resource",
        ),
        (
            "removal of an unknown resource",
            event_refusal(Event::RemoveResource {
                id: "nothing".into(),
            }),
            "tenure::lifecycle::unknown_resource",
        ),
        (
            "join of an existing id",
            event_refusal(Event::Join {
                identity: person("pamela", "DBA"),
            }),
            "tenure::lifecycle::duplicate_id",
        ),
        (
            "join of a SCIM user's id",
            event_refusal(Event::Join {
                identity: person(&user, "DBA"),
            }),
            "tenure::lifecycle::duplicate_id",
        ),
        (
            "add of an existing resource",
            event_refusal(inventory_events().remove(0)),
            "tenure::lifecycle::duplicate_id",
        ),
        (
            "a bad change after a valid one",
            event_refusal(moved(
                "pamela",
                vec![set("role", "DBA"), add_member("title", "x")],
            )),
            "tenure::lifecycle::not_a_set",
        ),
        (
            "a change of the id",
            event_refusal(moved(
                "pamela",
                vec![set("role", "DBA"), set("id", "pam")],
            )),
            "tenure::lifecycle::immutable_id",
        ),
        (
            "a bad resource change after a valid one",
            event_refusal(changed(
                "vm-1",
                vec![
                    Change::SetTag {
                        key: "env".into(),
                        value: "prod".into(),
                    },
                    add_member("type", "x"),
                ],
            )),
            "tenure::lifecycle::not_a_set",
        ),
        (
            "a batch of one bad event",
            Box::new(|l: &mut Lifecycle| {
                let mut results = l.apply_batch(
                    vec![moved("pamela", vec![set("role", "DBA"), add_member("role", "x")])],
                    "cli",
                )?;
                assert_eq!(results.len(), 1);
                results.remove(0).map(drop)
            }),
            "tenure::lifecycle::not_a_set",
        ),
        (
            "a SCIM body that is not an object",
            scim_refusal(ScimRequest::new("POST", "/scim/v2/Users").with_body(json!("ada"))),
            "tenure::scim::invalid_syntax",
        ),
        (
            "a SCIM PATCH without Operations",
            scim_refusal(
                ScimRequest::new("PATCH", user_path.clone())
                    .with_body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})),
            ),
            "tenure::scim::invalid_syntax",
        ),
        (
            "a SCIM PATCH with a bad operation after a deactivation",
            scim_refusal(ScimRequest::new("PATCH", user_path.clone()).with_body(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "replace", "value": {"active": false}},
                    {"op": "frobnicate", "path": "title", "value": "x"}
                ]
            }))),
            "tenure::scim::invalid_syntax",
        ),
        (
            "a SCIM PATCH of an unknown user (Okta's deactivation)",
            scim_refusal(request("scim/okta/07-patch-deactivate.json", &[])),
            "tenure::scim::not_found",
        ),
        (
            "a SCIM PUT of an unknown user",
            scim_refusal(request("scim/okta/05-put-user-profile-update.json", &[])),
            "tenure::scim::not_found",
        ),
        (
            "a SCIM DELETE of an unknown user",
            scim_refusal(ScimRequest::new("DELETE", "/scim/v2/Users/nobody")),
            "tenure::scim::not_found",
        ),
        (
            "a SCIM POST of a taken userName",
            scim_refusal(request(
                "scim/okta/02-create-user.json",
                &[("test.user@okta.local", "ADA@okta.local")],
            )),
            "tenure::scim::uniqueness",
        ),
        (
            "a SCIM group PATCH adding a known and an unknown member",
            scim_refusal(request(
                "lifecycle/scim/patch-group-add-two-members.json",
                &[("{group}", &group), ("{user1}", &user), ("{user2}", "nobody")],
            )),
            "tenure::scim::invalid_value",
        ),
        (
            "a SCIM PUT with a stale If-Match",
            scim_refusal(
                request(
                    "scim/okta/05-put-user-profile-update.json",
                    &[
                        (OKTA_USER, &user),
                        ("test.user@okta.local", "ada@okta.local"),
                    ],
                )
                .with_if_match("W/\"7\""),
            ),
            "tenure::scim::precondition_failed",
        ),
        (
            "a SCIM group PATCH adding a member, then a filtered path naming a non-user",
            scim_refusal(ScimRequest::new("PATCH", group_path.clone()).with_body(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": user}]},
                    {"op": "replace", "path": "members[value eq \"nobody\"].display", "value": "x"}
                ]
            }))),
            "tenure::scim::invalid_value",
        ),
    ];
    for (what, refusal, want) in &refusals {
        let error = match refusal(&mut lifecycle) {
            Ok(()) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        assert_eq!(code(&error), *want, "{what}: {error:?}");
        assert_eq!(state(&mut lifecycle), before, "{what} changed the store");
    }

    // A request file with a duplicate JSON key never becomes a request.
    let duplicate = r#"{"method": "PATCH", "path": "/scim/v2/Users/ID", "body":
        {"Operations": [{"op": "replace", "value": {"active": false, "active": true}}]}}"#
        .replace("ID", &user);
    let error = ScimRequest::from_json(&duplicate).unwrap_err();
    assert_eq!((error.status, error.code()), (400, "tenure::scim::invalid_syntax"));
    assert_eq!(state(&mut lifecycle), before);

    // In a batch, the events before and after a refused one still apply, each whole.
    let results = lifecycle
        .apply_batch(
            vec![
                moved("pamela", vec![set("title", "Lead")]),
                moved("pamela", vec![set("role", "DBA"), add_member("title", "x")]),
                moved("nobody", vec![]),
                moved("pamela", vec![set("badge", 7)]),
            ],
            "cli",
        )
        .unwrap();
    let seqs: Vec<Option<u64>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|r| r.seq))
        .collect();
    assert_eq!(seqs, [Some(10), None, None, Some(11)]);
    let after = lifecycle.directory().unwrap().get("pamela").unwrap().clone();
    assert_eq!(after.get("role"), Some(&Value::from("CloudEngineer")));
    assert_eq!(after.get("title"), Some(&Value::from("Lead")));
    assert_eq!(lifecycle.journal(0).unwrap().len(), 11);

    // Reopened: the refusals left nothing behind either.
    drop(lifecycle);
    let mut reopened = open(&address, &clock);
    let journal = reopened.journal(0).unwrap();
    assert_eq!(journal[..9], before.model.journal[..]);
    assert_gap_free(&journal);
    let mut undo = reopened
        .apply_batch(
            vec![moved(
                "pamela",
                vec![
                    set("title", "SRE"),
                    Change::Remove {
                        attribute: "badge".into(),
                    },
                ],
            )],
            "cli",
        )
        .unwrap();
    assert_eq!(undo.remove(0).unwrap().seq, 12);
    let now = state(&mut reopened);
    assert_eq!(now.model.directory, before.model.directory);
    assert_eq!(now.model.inventory, before.model.inventory);
    assert_eq!((now.users, now.groups), (before.users, before.groups));
}
