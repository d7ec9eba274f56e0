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
    assert!(
        applied.records.is_empty(),
        "a group without members moves nobody"
    );
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
type Step = (
    Event,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

fn event_walk() -> Vec<Step> {
    let resources: BTreeMap<String, Event> = inventory_events()
        .into_iter()
        .map(|e| match &e {
            Event::AddResource { resource } => (
                tenure::lifecycle::id_of(resource)
                    .unwrap_or_default()
                    .to_string(),
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
        (
            moved("pamela", vec![badge(None)]),
            "move",
            &[],
            &["vault-1"],
        ),
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
            assert_eq!(
                (record.seq, record.event.as_str()),
                (0, "none"),
                "{context}"
            );
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
    assert_eq!(
        (error.status, error.code()),
        (400, "tenure::scim::invalid_syntax")
    );
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
    let after = lifecycle
        .directory()
        .unwrap()
        .get("pamela")
        .unwrap()
        .clone();
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

// ---------------------------------------------------------------------------------------
// 3. Journal replay
// ---------------------------------------------------------------------------------------

/// A small deterministic generator (SplitMix64), so a seed names one event stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

const ROLES: [&str; 3] = ["CloudEngineer", "DBA", "Janitor"];
const TITLES: [&str; 3] = ["Cloud Engineer", "Database Administrator", "Janitor"];

/// Drives a lifecycle through a seeded mix of events (single and batched) and SCIM
/// requests; every one must be accepted. The ids it picks come from its own lists (in
/// creation order), so the stream does not depend on the server-assigned SCIM ids.
struct Stream {
    rng: Rng,
    n: usize,
    people: Vec<String>,
    resources: Vec<String>,
    users: Vec<(String, String)>,
    groups: Vec<(String, &'static str)>,
}

impl Stream {
    fn new(seed: u64) -> Stream {
        Stream {
            rng: Rng(seed),
            n: 0,
            people: Vec::new(),
            resources: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    fn identity_event(&mut self) -> Event {
        self.n += 1;
        let Some(id) = self.rng.pick(&self.people).cloned() else {
            return self.join();
        };
        match self.rng.below(8) {
            0 => self.join(),
            1 => Event::Leave { id },
            2 if self.people.len() > 4 => {
                self.people.retain(|p| *p != id);
                Event::Purge { id }
            }
            2 => self.join(),
            3 => moved(&id, vec![set("role", ROLES[self.rng.below(3)])]),
            4 => moved(
                &id,
                vec![Change::Remove {
                    attribute: "role".into(),
                }],
            ),
            5 => moved(&id, vec![add_member("groups", "ops")]),
            6 => moved(
                &id,
                vec![Change::RemoveMember {
                    attribute: "groups".into(),
                    value: "ops".into(),
                }],
            ),
            _ => moved(
                &id,
                vec![if self.rng.below(2) == 0 {
                    Change::SetTag {
                        key: "badge".into(),
                        value: "gold".into(),
                    }
                } else {
                    Change::RemoveTag {
                        key: "badge".into(),
                    }
                }],
            ),
        }
    }

    fn join(&mut self) -> Event {
        let id = format!("p{}", self.n);
        self.people.push(id.clone());
        Event::Join {
            identity: person(&id, ROLES[self.rng.below(3)]),
        }
    }

    fn resource_event(&mut self) -> Event {
        self.n += 1;
        let choice = self.rng.below(4);
        match self.rng.pick(&self.resources).cloned() {
            Some(id) if choice == 1 => changed(
                &id,
                vec![Change::SetTag {
                    key: "env".into(),
                    value: ["cloud", "prod"][self.rng.below(2)].into(),
                }],
            ),
            Some(id) if choice == 2 => {
                self.resources.retain(|r| *r != id);
                Event::RemoveResource { id }
            }
            _ => {
                let id = format!("r{}", self.n);
                self.resources.push(id.clone());
                let kind = ["ssh", "postgres"][self.rng.below(2)];
                Event::AddResource {
                    resource: resource(json!({
                        "id": id,
                        "type": kind,
                        "tags": {"env": "cloud", "team": "ops", "public": "yes"},
                    })),
                }
            }
        }
    }

    fn user_body(&mut self, name: &str, active: bool) -> Json {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("{name}@example.com"),
            "title": TITLES[self.rng.below(3)],
            "active": active,
        })
    }

    fn scim_request(&mut self) -> ScimRequest {
        self.n += 1;
        let choice = self.rng.below(6);
        let user = self.rng.pick(&self.users).cloned();
        match (choice, user) {
            (1, Some((id, name))) => ScimRequest::new("PUT", format!("/scim/v2/Users/{id}"))
                .with_body(self.user_body(&name, true)),
            (2, Some((id, _))) => {
                request("scim/okta/07-patch-deactivate.json", &[(OKTA_USER, &id)])
            }
            (3, Some((id, _))) if self.groups.len() < 2 => {
                let name = ["ops", SCIM_GROUP][self.groups.len()];
                ScimRequest::new("POST", "/scim/v2/Groups").with_body(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": [{"value": id}],
                }))
            }
            (3 | 4, Some((id, _))) if !self.groups.is_empty() => {
                let (group, _) = self.rng.pick(&self.groups).cloned().unwrap();
                let op = if choice == 3 {
                    json!({"op": "add", "path": "members", "value": [{"value": id}]})
                } else {
                    json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")})
                };
                ScimRequest::new("PATCH", format!("/scim/v2/Groups/{group}")).with_body(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [op],
                }))
            }
            (5, Some((id, _))) => {
                self.users.retain(|(u, _)| *u != id);
                ScimRequest::new("DELETE", format!("/scim/v2/Users/{id}"))
            }
            _ => {
                let name = format!("s{}", self.n);
                let body = self.user_body(&name, true);
                ScimRequest::new("POST", "/scim/v2/Users").with_body(body)
            }
        }
    }

    /// Runs `steps` steps on `lifecycle`, ticking `clock` a minute each.
    fn run(&mut self, lifecycle: &mut Lifecycle, clock: &Clock, steps: usize) {
        for _ in 0..steps {
            clock.tick(60);
            match self.rng.below(10) {
                0..=3 => {
                    let event = self.identity_event();
                    apply(lifecycle, event);
                }
                4 => {
                    let events = vec![self.identity_event(), self.identity_event()];
                    for result in lifecycle.apply_batch(events, "cli").unwrap() {
                        result.unwrap();
                    }
                }
                5 | 6 => {
                    let event = self.resource_event();
                    apply(lifecycle, event);
                }
                _ => {
                    let request = self.scim_request();
                    let applied = scim(lifecycle, &request);
                    if request.method == "POST" && request.path.ends_with("/Users") {
                        let name = request.body.as_ref().unwrap()["userName"]
                            .as_str()
                            .unwrap()
                            .trim_end_matches("@example.com")
                            .to_string();
                        self.users.push((created(&applied), name));
                    } else if request.method == "POST" {
                        let name = request.body.as_ref().unwrap()["displayName"]
                            .as_str()
                            .unwrap();
                        let name = if name == "ops" { "ops" } else { SCIM_GROUP };
                        self.groups.push((created(&applied), name));
                    }
                }
            }
        }
    }
}

/// Exports the journal as `tenure journal` does (one JSON line per record) and reads it
/// back.
fn export(journal: &[JournalRecord], file: &Path) -> Vec<JournalRecord> {
    let mut text = String::new();
    for record in journal {
        text.push_str(&record.to_json_line());
        text.push('\n');
    }
    std::fs::write(file, text).unwrap();
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| JournalRecord::from_json_line(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

#[test]
fn an_exported_journal_rebuilds_the_store() {
    for seed in [7, 2026] {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::at("2026-11-25T10:00:00Z");
        let mut original = open(&sqlite_address(dir.path(), "original.db"), &clock);
        let mut stream = Stream::new(seed);
        stream.run(&mut original, &clock, 80);
        let before = model(&mut original);
        let journal = before.journal.clone();
        assert_gap_free(&journal);
        let names: BTreeSet<(&str, &str)> = journal
            .iter()
            .map(|r| (r.event.as_str(), r.source.as_str()))
            .collect();
        for kind in [
            ("join", "cli"),
            ("move", "cli"),
            ("leave", "cli"),
            ("purge", "cli"),
            ("resource_add", "cli"),
            ("join", "scim"),
            ("move", "scim"),
        ] {
            assert!(
                names.contains(&kind),
                "seed {seed}: no {kind:?} in {names:?}"
            );
        }
        assert!(journal.len() > 40, "seed {seed}: {} records", journal.len());
        let counts = (
            before.directory.lines().count(),
            before.inventory.lines().count(),
        );
        assert!(counts.0 > 2 && counts.1 > 1, "seed {seed}: {counts:?}");

        let records = export(&journal, &dir.path().join("journal.jsonl"));
        assert_eq!(records, journal);

        // Refused: a non-empty store, and records out of sequence; nothing is written.
        let error = original.import_journal(&records).unwrap_err();
        assert_eq!(code(&error), "tenure::lifecycle::corrupt_event", "{error}");
        assert_eq!(model(&mut original), before);

        let copy_address = sqlite_address(dir.path(), "copy.db");
        let mut copy = Lifecycle::open(&copy_address).unwrap();
        let empty = model(&mut copy);
        assert_eq!(empty.journal, []);
        let mut gap = records.clone();
        gap.remove(5);
        let mut swapped = records.clone();
        swapped.swap(3, 4);
        let mut edited = records.clone();
        let last_move = edited.iter().rposition(|r| r.event == "move").unwrap();
        edited[last_move].change["id"] = json!("ghost");
        let mut renumbered = records.clone();
        renumbered[10].seq = 12;
        for (what, bad) in [
            ("a gap", gap),
            ("two records swapped", swapped),
            ("starting at 2", records[1..].to_vec()),
            ("a record renumbered", renumbered),
            ("an event that does not apply", edited),
        ] {
            let error = copy.import_journal(&bad).unwrap_err();
            assert_eq!(model(&mut copy), empty, "{what}: {error}");
        }

        assert_eq!(copy.import_journal(&records).unwrap(), records.len());
        assert_eq!(model(&mut copy), before, "seed {seed}");
        drop(copy);
        let mut reopened = Lifecycle::open(&copy_address).unwrap();
        assert_eq!(model(&mut reopened), before, "seed {seed}, reopened");
        // And the imported store goes on from the head.
        clock.install(&mut reopened);
        reopened.set_policy(policy(), POLICY).unwrap();
        let next = apply(
            &mut reopened,
            Event::Join {
                identity: person("newcomer", "DBA"),
            },
        );
        assert_eq!(next.seq, records.len() as u64 + 1);
    }
}

// ---------------------------------------------------------------------------------------
// 4. Crash safety: SIGKILL while writing
// ---------------------------------------------------------------------------------------

/// Names the store the crash child writes to; without it the child test does nothing.
const CRASH_STORE: &str = "TENURE_LIFECYCLE_CRASH_STORE";
/// Which run of the parent the child belongs to (its ids are `c{run}-{n}`).
const CRASH_RUN: &str = "TENURE_LIFECYCLE_CRASH_RUN";

/// The writer the crash test kills: applies a long stream of joins, moves and leaves,
/// alternating `apply` and `apply_batch`, and prints `ack SEQ EVENT ID` (flushed) for
/// every record once the call that wrote it has returned.
#[test]
#[ignore = "the child process of sigkill_loses_no_acknowledged_event"]
fn crash_child() {
    let Ok(address) = std::env::var(CRASH_STORE) else {
        return;
    };
    let run: u64 = std::env::var(CRASH_RUN).unwrap().parse().unwrap();
    let clock = Clock::at("2026-11-25T10:00:00Z");
    clock.tick(run as i64 * 86_400);
    let mut lifecycle = open(&address, &clock);
    if lifecycle.inventory().unwrap().is_empty() {
        for event in inventory_events() {
            apply(&mut lifecycle, event);
        }
    }
    let mut out = std::io::stdout().lock();
    let mut ack = |record: &Recorded| {
        if record.seq != 0 {
            let id = record.identity.as_deref().unwrap_or("-");
            writeln!(out, "ack {} {} {id}", record.seq, record.event).unwrap();
            out.flush().unwrap();
        }
    };
    // Bounded, so that a parent that stops reading cannot leave it running for long.
    for n in 0..20_000u64 {
        clock.tick(1);
        let id = format!("c{run}-{n}");
        let join = Event::Join {
            identity: person(&id, ROLES[(n % 3) as usize]),
        };
        if n % 2 == 0 {
            ack(&apply(&mut lifecycle, join));
        } else {
            let previous = format!("c{run}-{}", n - 1);
            let events = vec![
                moved(
                    &previous,
                    vec![set("role", "DBA"), add_member("groups", "ops")],
                ),
                join,
                Event::Leave { id: previous },
            ];
            for result in lifecycle.apply_batch(events, "cli").unwrap() {
                ack(&result.unwrap());
            }
        }
    }
}

#[test]
fn sigkill_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "crash.db");
    let clock = Clock::at("2026-12-01T00:00:00Z");
    let mut acked: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for (run, kill_after) in [(0u64, 200usize), (1, 137), (2, 251)] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--ignored", "--nocapture"])
            .env(CRASH_STORE, &address)
            .env(CRASH_RUN, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the crash child");
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            // libtest may print `test crash_child ... ` on the same line.
            let Some(at) = line.find("ack ") else {
                continue;
            };
            let fields: Vec<&str> = line[at + 4..].split(' ').collect();
            let [seq, event, id] = fields[..] else {
                panic!("bad ack line {line:?}")
            };
            let seq: u64 = seq.parse().unwrap();
            acked.insert(seq, (event.to_string(), id.to_string()));
            seen += 1;
            if seen == kill_after {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            seen,
            kill_after,
            "run {run}: the child stopped early: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        let mut lifecycle = open(&address, &clock);
        let journal = lifecycle.journal(0).unwrap();
        let head = assert_gap_free(&journal);
        for (seq, (event, id)) in &acked {
            let record = journal.get(*seq as usize - 1).unwrap_or_else(|| {
                panic!("run {run}: acknowledged seq {seq} is lost (head {head})")
            });
            assert_eq!(
                (
                    record.event.as_str(),
                    record.identity.as_deref().unwrap_or("-")
                ),
                (event.as_str(), id.as_str()),
                "run {run}: seq {seq}"
            );
        }

        // No event is half-applied: the state is exactly the journal's.
        let replay_address = sqlite_address(dir.path(), &format!("replay-{run}.db"));
        let mut replay = Lifecycle::open(&replay_address).unwrap();
        replay.import_journal(&journal).unwrap();
        assert_eq!(model(&mut replay), model(&mut lifecycle), "run {run}");

        // The store goes on.
        clock.tick(60);
        let after = apply(
            &mut lifecycle,
            Event::Join {
                identity: person(&format!("after-{run}"), "DBA"),
            },
        );
        assert_eq!(after.seq, head + 1);
        assert_eq!(
            after.gained,
            json!([{"resource": "db-1", "reasons": ["dba"]}, {"resource": "wiki", "reasons": ["staff"]}])
        );
        acked.insert(after.seq, ("join".into(), format!("after-{run}")));
    }
    assert!(acked.len() >= 200 + 137 + 251);
}

// ---------------------------------------------------------------------------------------
// 5. Scheduled leavers
// ---------------------------------------------------------------------------------------

#[test]
fn scheduled_leavers_apply_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "schedule.db");
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&address, &clock);
    for event in inventory_events() {
        apply(&mut lifecycle, event);
    }
    let policy = policy();
    let (user, joined) = okta_user(&mut lifecycle, "leaver");
    assert_eq!(joined.records.len(), 1);
    assert_eq!(
        joined.records[0].gained,
        json!([{"resource": "wiki", "reasons": ["staff"]}])
    );
    apply(
        &mut lifecycle,
        Event::Join {
            identity: person("pamela", "CloudEngineer"),
        },
    );

    // Okta's deactivation (a path-less replace), effective at the end of the last day,
    // and a leave the day after.
    let last_day = ts("2026-11-30T17:00:00Z");
    let next_day = ts("2026-12-01T09:00:00Z");
    let deactivate = request("scim/okta/07-patch-deactivate.json", &[(OKTA_USER, &user)]);
    let leave = Event::Leave {
        id: "pamela".into(),
    };
    let later = lifecycle.schedule(next_day, leave.clone(), "hr").unwrap();
    let first = lifecycle.schedule_scim(last_day, &deactivate).unwrap();
    let scheduled = lifecycle.scheduled().unwrap();
    let listed: Vec<(u64, Timestamp, &str, &Json)> = scheduled
        .iter()
        .map(|s| (s.id, s.at, s.source.as_str(), &s.event))
        .collect();
    assert_eq!(
        listed,
        [
            (
                first,
                last_day,
                "scim",
                &json!({"scim": deactivate.to_json()})
            ),
            (later, next_day, "hr", &leave.to_json()),
        ]
    );
    assert!(scheduled.iter().all(|s| s.created == clock.now()));

    // Not yet due: nothing applies.
    let head = lifecycle.journal(0).unwrap().len() as u64;
    let before = model(&mut lifecycle);
    clock.tick(3600);
    let results = lifecycle
        .advance(ts("2026-11-30T16:59:59.999999Z"))
        .unwrap();
    assert!(results.is_empty(), "{results:?}");
    assert_eq!(model(&mut lifecycle), before);
    assert_eq!(lifecycle.scheduled().unwrap().len(), 2);

    // Due: the deactivation is a leave at the effective time, with source `schedule`.
    let results = lifecycle.advance(last_day).unwrap();
    let records: Vec<Recorded> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let left = &records[0];
    assert_eq!(left.seq, head + 1);
    assert_eq!(left.event, "leave");
    assert_eq!(left.identity.as_deref(), Some(user.as_str()));
    assert_eq!(left.source, "schedule");
    assert_eq!(left.at, last_day);
    assert_eq!(left.gained, json!([]));
    assert_eq!(
        left.lost,
        json!([{"resource": "wiki", "reasons": ["staff"]}])
    );
    assert_journaled(&lifecycle.journal(0).unwrap(), left);
    let on_record = lifecycle.directory().unwrap().get(&user).unwrap().clone();
    assert_eq!(on_record.get("status"), Some(&Value::from("inactive")));
    let inventory = lifecycle.inventory().unwrap().clone();
    assert_eq!(policy.entitlements(&on_record, &inventory), []);
    let user_now = scim(
        &mut lifecycle,
        &ScimRequest::new("GET", format!("/scim/v2/Users/{user}")),
    );
    assert_eq!(user_now.response.unwrap()["active"], json!(false));
    let remaining: Vec<u64> = lifecycle
        .scheduled()
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(remaining, [later]);

    // Cancelled entries never apply; an unknown id is an error.
    let cancelled_at = ts("2026-12-01T08:00:00Z");
    let cancelled = lifecycle
        .schedule(
            cancelled_at,
            Event::Purge {
                id: "pamela".into(),
            },
            "hr",
        )
        .unwrap();
    let record = lifecycle.cancel(cancelled).unwrap();
    assert_eq!((record.id, record.at), (cancelled, cancelled_at));
    for id in [cancelled, 9_999] {
        let error = lifecycle.cancel(id).unwrap_err();
        assert_eq!(code(&error), "tenure::lifecycle::unknown_scheduled", "{id}");
    }
    let results = lifecycle.advance(next_day).unwrap();
    let records: Vec<Recorded> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (records[0].event.as_str(), records[0].identity.as_deref()),
        ("leave", Some("pamela"))
    );
    assert_eq!(
        (records[0].at, records[0].source.as_str()),
        (next_day, "schedule")
    );
    assert_eq!(keys(&records[0].lost, "resource"), ["vm-1", "wiki"]);
    assert!(lifecycle.directory().unwrap().contains("pamela"));
    assert!(lifecycle.scheduled().unwrap().is_empty());

    // A due entry whose identity was purged is an error and is dropped; a later one
    // still applies.
    apply(
        &mut lifecycle,
        Event::Join {
            identity: person("sam", "DBA"),
        },
    );
    apply(
        &mut lifecycle,
        Event::Join {
            identity: person("tom", "DBA"),
        },
    );
    let t1 = ts("2026-12-05T17:00:00Z");
    let t2 = ts("2026-12-06T17:00:00Z");
    let gone = lifecycle
        .schedule(t1, Event::Leave { id: "sam".into() }, "hr")
        .unwrap();
    lifecycle
        .schedule(t2, Event::Leave { id: "tom".into() }, "hr")
        .unwrap();
    apply(&mut lifecycle, Event::Purge { id: "sam".into() });
    let head = lifecycle.journal(0).unwrap().len() as u64;
    let results = lifecycle.advance(ts("2026-12-31T00:00:00Z")).unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    let error = results[0].as_ref().unwrap_err();
    assert_eq!(
        code(error),
        "tenure::lifecycle::unknown_identity",
        "{error}"
    );
    let tom = results[1].as_ref().unwrap();
    assert_eq!(
        (tom.seq, tom.event.as_str(), tom.at),
        (head + 1, "leave", t2)
    );
    assert_eq!(tom.identity.as_deref(), Some("tom"));
    assert!(lifecycle.scheduled().unwrap().is_empty());
    assert_eq!(lifecycle.journal(0).unwrap().len() as u64, head + 1);
    assert!(lifecycle.cancel(gone).is_err());
}

// ---------------------------------------------------------------------------------------
// 6. A mapping change is a mass move
// ---------------------------------------------------------------------------------------

/// Creates the three users of `tests/data/lifecycle/scim/` (by file stem).
fn titled_users(lifecycle: &mut Lifecycle) -> BTreeMap<&'static str, String> {
    ["cloud", "dba", "janitor"]
        .into_iter()
        .map(|name| {
            let file = format!("lifecycle/scim/create-{name}.json");
            let applied = scim(lifecycle, &request(&file, &[]));
            assert_eq!(applied.records.len(), 1);
            assert_eq!(applied.records[0].event, "join");
            (name, created(&applied))
        })
        .collect()
}

/// The records by identity id (SCIM ids are random, so their order is too).
fn by_identity(records: &[Recorded]) -> BTreeMap<String, &Recorded> {
    records
        .iter()
        .map(|r| (r.identity.clone().expect("an identity record"), r))
        .collect()
}

#[test]
fn a_mapping_change_moves_every_affected_identity() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "mapping.db");
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&address, &clock);
    for event in inventory_events() {
        apply(&mut lifecycle, event);
    }
    let users = titled_users(&mut lifecycle);
    let policy = policy();
    for id in users.values() {
        let identity = lifecycle.directory().unwrap().get(id).unwrap().clone();
        assert_eq!(identity.get("role"), None);
        let inventory = lifecycle.inventory().unwrap();
        let reach = policy.entitlements(&identity, inventory);
        assert_eq!(
            reach
                .iter()
                .map(|e| e.resource.as_str())
                .collect::<Vec<_>>(),
            ["wiki"]
        );
    }

    let mapping = Mapping::from_toml(MAPPING_ROLE).unwrap();
    let hash = mapping.content_hash();
    assert_ne!(hash, Mapping::default().content_hash());
    let head = lifecycle.journal(0).unwrap().len() as u64;
    clock.tick(60);
    let records = lifecycle.set_mapping(mapping.clone(), "cli").unwrap();
    let moves = by_identity(&records);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        moves.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&users["cloud"], &users["dba"]])
    );
    for (name, role, resource) in [("cloud", "CloudEngineer", "vm-1"), ("dba", "DBA", "db-1")] {
        let record = moves[&users[name]];
        assert_eq!(record.event, "move");
        assert_eq!(record.source, "cli");
        assert_eq!(record.at, clock.now());
        assert_eq!(
            record.change,
            json!({"event": "move", "id": users[name], "changes": [{"op": "set", "attribute": "role", "value": role}]})
        );
        let reason = if name == "dba" { "dba" } else { "cloud" };
        assert_eq!(
            record.gained,
            json!([{"resource": resource, "reasons": [reason]}])
        );
        assert_eq!(record.lost, json!([]));
        assert_eq!(record.mapping_hash.as_deref(), Some(hash.as_str()));
        let identity = lifecycle
            .directory()
            .unwrap()
            .get(&users[name])
            .unwrap()
            .clone();
        assert_eq!(identity.get("role"), Some(&Value::from(role)));
    }
    let mut seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    seqs.sort();
    assert_eq!(seqs, [head + 1, head + 2]);
    let journal = lifecycle.journal(head).unwrap();
    assert_eq!(journal, records);
    assert_eq!(lifecycle.mapping(), &mapping);

    // The same mapping again: nothing to move.
    let before = model(&mut lifecycle);
    assert_eq!(lifecycle.set_mapping(mapping.clone(), "cli").unwrap(), []);
    assert_eq!(model(&mut lifecycle), before);

    // SCIM goes through the new mapping: the janitor's new title is a role.
    let janitor = &users["janitor"];
    let put = ScimRequest::new("PUT", format!("/scim/v2/Users/{janitor}")).with_body(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "janitor@example.com",
        "title": "Cloud Engineer",
        "active": true,
    }));
    let applied = scim(&mut lifecycle, &put);
    assert_eq!(applied.records.len(), 1);
    let record = &applied.records[0];
    assert_eq!(
        (record.event.as_str(), record.identity.as_ref()),
        ("move", Some(janitor))
    );
    assert_eq!(
        record.gained,
        json!([{"resource": "vm-1", "reasons": ["cloud"]}])
    );
    assert_eq!(record.mapping_hash.as_deref(), Some(hash.as_str()));

    // Back to the default mapping: every role goes, with its access.
    let records = lifecycle.set_mapping(Mapping::default(), "cli").unwrap();
    let moves = by_identity(&records);
    assert_eq!(moves.len(), 3, "{records:?}");
    for (name, lost) in [("cloud", "vm-1"), ("dba", "db-1"), ("janitor", "vm-1")] {
        let record = moves[&users[name]];
        assert_eq!(record.event, "move");
        assert_eq!(keys(&record.lost, "resource"), [lost]);
        assert_eq!(record.gained, json!([]));
        assert_eq!(
            record.change["changes"],
            json!([{"op": "remove", "attribute": "role"}])
        );
    }
    assert_gap_free(&lifecycle.journal(0).unwrap());
}

// ---------------------------------------------------------------------------------------
// 7. SCIM group membership
// ---------------------------------------------------------------------------------------

/// Okta's group flow: create, add two members, re-send the unchanged name, swap members
/// (Okta's remove-and-add PATCH), delete a user. Returns the records journaled, in order.
fn scim_group_flow(lifecycle: &mut Lifecycle) -> Vec<Recorded> {
    let mut all = Vec::new();
    let (first, _) = okta_user(lifecycle, "first");
    let (second, _) = okta_user(lifecycle, "second");
    let (third, _) = okta_user(lifecycle, "third");
    let group = okta_group(lifecycle);
    let start = lifecycle.journal(0).unwrap().len() as u64;

    let add = request(
        "lifecycle/scim/patch-group-add-two-members.json",
        &[
            ("{group}", &group),
            ("{user1}", &first),
            ("{user2}", &second),
        ],
    );
    let applied = scim(lifecycle, &add);
    assert_eq!(applied.status, 200);
    let moves = by_identity(&applied.records);
    assert_eq!(applied.records.len(), 2, "{:?}", applied.records);
    assert_eq!(
        moves.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&first, &second])
    );
    for (id, record) in &moves {
        assert_eq!(record.event, "move");
        assert_eq!(record.source, "scim");
        assert_eq!(
            record.change,
            json!({"event": "move", "id": id, "changes": [{"op": "add_member", "attribute": "groups", "value": SCIM_GROUP}]})
        );
        assert_eq!(
            record.gained,
            json!([{"resource": "scim-app", "reasons": ["scim-group"]}])
        );
        assert_eq!(record.lost, json!([]));
        let identity = lifecycle.directory().unwrap().get(id).unwrap().clone();
        assert_eq!(identity.get("groups"), Some(&Value::set([SCIM_GROUP])));
    }
    let mut seqs: Vec<u64> = applied.records.iter().map(|r| r.seq).collect();
    seqs.sort();
    assert_eq!(seqs, [start + 1, start + 2]);
    assert_eq!(lifecycle.journal(start).unwrap(), applied.records);
    all.extend(applied.records);

    // Okta re-sends the unchanged name before every membership change: nothing moves.
    let before = model(lifecycle);
    let rename = request(
        "scim/okta/11-patch-group-rename-pathless.json",
        &[(OKTA_GROUP, &group)],
    );
    let applied = scim(lifecycle, &rename);
    assert_eq!(applied.status, 200);
    assert_eq!(applied.records, []);
    assert_eq!(model(lifecycle), before);

    // Okta's remove-and-add: the first member leaves the group, the third joins it.
    let swap = request(
        "scim/okta/12-patch-group-remove-and-add-members.json",
        &[
            (OKTA_GROUP, &group),
            (OKTA_OTHER_USER, &first),
            (OKTA_USER, &third),
        ],
    );
    let applied = scim(lifecycle, &swap);
    let moves = by_identity(&applied.records);
    assert_eq!(applied.records.len(), 2, "{:?}", applied.records);
    assert_eq!(
        moves[&first].lost,
        json!([{"resource": "scim-app", "reasons": ["scim-group"]}])
    );
    assert_eq!(moves[&first].gained, json!([]));
    assert_eq!(
        moves[&third].gained,
        json!([{"resource": "scim-app", "reasons": ["scim-group"]}])
    );
    all.extend(applied.records);

    // DELETE /Users/{id}: one purge (the group write moves nobody else).
    let head = lifecycle.journal(0).unwrap().len() as u64;
    let applied = scim(
        lifecycle,
        &ScimRequest::new("DELETE", format!("/scim/v2/Users/{second}")),
    );
    assert_eq!(applied.status, 204);
    assert_eq!(applied.records.len(), 1, "{:?}", applied.records);
    let purge = &applied.records[0];
    assert_eq!(
        (purge.seq, purge.event.as_str(), purge.identity.as_ref()),
        (head + 1, "purge", Some(&second))
    );
    assert_eq!(purge.gained, json!([]));
    assert_eq!(
        purge.lost,
        json!([
            {"resource": "scim-app", "reasons": ["scim-group"]},
            {"resource": "wiki", "reasons": ["staff"]}
        ])
    );
    assert_eq!(lifecycle.journal(head).unwrap(), applied.records);
    assert!(!lifecycle.directory().unwrap().contains(&second));
    let group_now = scim(
        lifecycle,
        &ScimRequest::new("GET", format!("/scim/v2/Groups/{group}")),
    );
    let members = keys(&group_now.response.unwrap()["members"], "value");
    assert_eq!(members, [third]);
    all.extend(applied.records);
    all
}

#[test]
fn scim_group_membership_moves_each_member() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&sqlite_address(dir.path(), "groups.db"), &clock);
    for event in inventory_events() {
        apply(&mut lifecycle, event);
    }
    let records = scim_group_flow(&mut lifecycle);
    assert_eq!(records.len(), 5);
    assert_gap_free(&lifecycle.journal(0).unwrap());
}

// ---------------------------------------------------------------------------------------
// 8. Both backends: the compact scenario and two writers on one database
// ---------------------------------------------------------------------------------------

/// Events with their access changes, the SCIM group flow, then the journal exported and
/// imported into the empty store at `replay_address`.
fn compact_scenario(address: &str, replay_address: &str) {
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(address, &clock);
    for event in inventory_events() {
        apply(&mut lifecycle, event);
    }
    let joined = apply(
        &mut lifecycle,
        Event::Join {
            identity: person("pamela", "CloudEngineer"),
        },
    );
    assert_eq!((joined.seq, joined.event.as_str()), (8, "join"));
    assert_eq!(
        joined.gained,
        json!([{"resource": "vm-1", "reasons": ["cloud"]}, {"resource": "wiki", "reasons": ["staff"]}])
    );
    let mover = apply(&mut lifecycle, moved("pamela", vec![set("role", "DBA")]));
    assert_eq!(mover.seq, 9);
    assert_eq!(keys(&mover.gained, "resource"), ["db-1"]);
    assert_eq!(keys(&mover.lost, "resource"), ["vm-1"]);
    let unchanged = apply(&mut lifecycle, moved("pamela", vec![set("role", "DBA")]));
    assert_eq!((unchanged.seq, unchanged.event.as_str()), (0, "none"));
    let retagged = apply(
        &mut lifecycle,
        changed(
            "db-1",
            vec![Change::SetTag {
                key: "team".into(),
                value: "ops".into(),
            }],
        ),
    );
    assert_eq!((retagged.seq, retagged.gained.clone()), (10, json!([])));
    let leaver = apply(
        &mut lifecycle,
        Event::Leave {
            id: "pamela".into(),
        },
    );
    assert_eq!(keys(&leaver.lost, "resource"), ["db-1", "wiki"]);
    let again = apply(
        &mut lifecycle,
        Event::Leave {
            id: "pamela".into(),
        },
    );
    assert_eq!((again.seq, again.event.as_str()), (0, "none"));
    let removed = apply(&mut lifecycle, Event::RemoveResource { id: "vm-1".into() });
    assert_eq!(removed.seq, 12);
    let error = lifecycle
        .apply(
            moved("pamela", vec![set("role", "DBA"), add_member("role", "x")]),
            "cli",
        )
        .unwrap_err();
    assert_eq!(code(&error), "tenure::lifecycle::not_a_set");

    scim_group_flow(&mut lifecycle);
    let before = model(&mut lifecycle);
    assert_gap_free(&before.journal);
    drop(lifecycle);
    let mut reopened = open(address, &clock);
    assert_eq!(model(&mut reopened), before);

    let mut replay = Lifecycle::open(replay_address).unwrap();
    let mut records = before.journal.clone();
    records.swap(1, 2);
    assert!(replay.import_journal(&records).is_err());
    assert_eq!(replay.journal(0).unwrap(), []);
    assert_eq!(
        replay.import_journal(&before.journal).unwrap(),
        before.journal.len()
    );
    assert_eq!(model(&mut replay), before);
    assert!(reopened.import_journal(&before.journal).is_err());
}

/// Two handles on one database, writing alternately: each sees the other's changes.
fn two_writers(address: &str) {
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut a = open(address, &clock);
    let mut b = open(address, &clock);
    assert_eq!(a.journal(0).unwrap().len(), 1, "one policy record");
    for event in inventory_events() {
        apply(&mut a, event);
    }
    assert_eq!(b.inventory().unwrap().len(), 6);
    for n in 0..6 {
        let id = format!("p{n}");
        let (first, second) = if n % 2 == 0 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        let joined = apply(
            first,
            Event::Join {
                identity: person(&id, "CloudEngineer"),
            },
        );
        // The other handle's model reloads: it knows the joiner and moves her.
        let mover = apply(second, moved(&id, vec![set("role", "DBA")]));
        assert_eq!(mover.seq, joined.seq + 1);
        assert_eq!(keys(&mover.gained, "resource"), ["db-1"]);
        assert_eq!(keys(&mover.lost, "resource"), ["vm-1"]);
        let seen = first.directory().unwrap().get(&id).unwrap().clone();
        assert_eq!(seen.get("role"), Some(&Value::from("DBA")));
        // A join of the same id through the other handle is refused.
        let error = second
            .apply(
                Event::Join {
                    identity: person(&id, "DBA"),
                },
                "cli",
            )
            .unwrap_err();
        assert_eq!(code(&error), "tenure::lifecycle::duplicate_id");
    }
    let batch = b
        .apply_batch(
            vec![
                Event::Leave { id: "p0".into() },
                Event::Purge { id: "p1".into() },
            ],
            "cli",
        )
        .unwrap();
    assert!(batch.iter().all(Result::is_ok));
    assert!(a.apply(Event::Leave { id: "p1".into() }, "cli").is_err());
    let left = a.directory().unwrap().get("p0").unwrap().clone();
    assert_eq!(left.get("status"), Some(&Value::from("inactive")));

    let journal = a.journal(0).unwrap();
    assert_eq!(assert_gap_free(&journal), 1 + 6 + 12 + 2);
    assert_eq!(b.journal(0).unwrap(), journal);
    assert_eq!(model(&mut a), model(&mut b));
}

#[test]
fn compact_scenario_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    compact_scenario(
        &sqlite_address(dir.path(), "compact.db"),
        &sqlite_address(dir.path(), "replay.db"),
    );
}

#[test]
fn two_writers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    two_writers(&sqlite_address(dir.path(), "shared.db"));
}

/// The same on a real PostgreSQL: one throwaway server for the binary, a database per
/// check. Without PostgreSQL this prints the skip message and passes, except under
/// `CI=true`, where it fails.
#[cfg(feature = "postgres")]
#[test]
fn postgres_backend() {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use support::postgres::{start, PgCluster};

    type Check = fn(&PgCluster);
    let Some(cluster) = start() else { return };
    let checks: &[(&str, Check)] = &[
        ("compact_scenario", |c| {
            compact_scenario(&c.fresh_database(), &c.fresh_database())
        }),
        ("two_writers", |c| two_writers(&c.fresh_database())),
    ];
    let mut failed = Vec::new();
    for (name, check) in checks {
        eprintln!("postgres: {name}");
        if catch_unwind(AssertUnwindSafe(|| check(&cluster))).is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "postgres checks failed: {failed:?}");
}

/// A mapping put in force with its text is kept in the store: the next `open` (another
/// process, the next CLI command) derives identities with it, so a SCIM request sent
/// without naming the mapping does not silently undo it.
#[test]
fn a_mapping_given_as_text_is_kept_for_later_opens() {
    let dir = tempfile::tempdir().unwrap();
    let address = sqlite_address(dir.path(), "kept.db");
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let mut lifecycle = open(&address, &clock);
    let users = titled_users(&mut lifecycle);
    lifecycle.set_mapping_toml(MAPPING_ROLE, "cli").unwrap();
    let hash = Mapping::from_toml(MAPPING_ROLE).unwrap().content_hash();
    drop(lifecycle);

    let mut reopened = open(&address, &clock);
    assert_eq!(reopened.mapping().content_hash(), hash);
    let role = |l: &mut Lifecycle| {
        l.directory()
            .unwrap()
            .get(&users["cloud"])
            .unwrap()
            .get("role")
            .cloned()
    };
    assert_eq!(role(&mut reopened), Some(Value::from("CloudEngineer")));
    // A SCIM re-send of the user through the reopened handle keeps the mapped role.
    let get = ScimRequest::new("GET", format!("/scim/v2/Users/{}", users["cloud"]));
    let body = scim(&mut reopened, &get).response.unwrap();
    let mut put_body = body.clone();
    put_body.as_object_mut().unwrap().remove("meta");
    let put =
        ScimRequest::new("PUT", format!("/scim/v2/Users/{}", users["cloud"])).with_body(put_body);
    let applied = scim(&mut reopened, &put);
    assert!(
        applied.records.is_empty(),
        "an unchanged re-send changes nothing: {:?}",
        applied.records
    );
    assert_eq!(role(&mut reopened), Some(Value::from("CloudEngineer")));

    // Back to the default mapping: kept as well.
    reopened.set_mapping(Mapping::default(), "cli").unwrap();
    drop(reopened);
    let mut again = open(&address, &clock);
    assert_eq!(
        again.mapping().content_hash(),
        Mapping::default().content_hash()
    );
    assert_eq!(role(&mut again), None);
}

/// Group commit of SCIM requests: one transaction, in order, each seeing the ones
/// before it; a request the translation refuses fails alone; the journal stays gap-free
/// and equal to applying them one by one.
#[test]
fn scim_batches_commit_together_and_refusals_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::at("2026-11-25T10:00:00Z");
    let create = |name: &str| {
        request(
            "scim/okta/02-create-user.json",
            &[
                ("test.user@okta.local", &format!("{name}@okta.local")),
                ("00ujl29u0le5T6Aj10h7", &format!("00u-{name}")),
            ],
        )
    };
    let batch = vec![
        create("ann"),
        create("bob"),
        // The same userName again: refused (409), nothing of it written.
        create("ann"),
        ScimRequest::new("PATCH", "/scim/v2/Users/nobody")
            .with_body(json!({"Operations": [{"op": "replace", "value": {"active": false}}]})),
        create("cyd"),
    ];

    let mut batched = open(&sqlite_address(dir.path(), "batched.db"), &clock);
    let results = batched.scim_batch(&batch, "scim").unwrap();
    let statuses: Vec<u16> = results
        .iter()
        .map(|r| match r {
            Ok(applied) => applied.status,
            Err(LifecycleError::Scim(e)) => e.status,
            Err(other) => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, [201, 201, 409, 404, 201]);

    let mut one_by_one = open(&sqlite_address(dir.path(), "single.db"), &clock);
    for request in &batch {
        let _ = one_by_one.scim(request, "scim");
    }
    let events = |l: &mut Lifecycle| -> Vec<(u64, String)> {
        l.journal(0)
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, r.event))
            .collect()
    };
    let journal = events(&mut batched);
    assert_eq!(journal, events(&mut one_by_one));
    assert_eq!(
        journal.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>(),
        ["policy", "join", "join", "join"]
    );
    assert_gap_free(&batched.journal(0).unwrap());
    assert_eq!(batched.directory().unwrap().len(), 3);
    // Reads through a read-only transaction see the batch.
    let list = batched
        .scim_read(&ScimRequest::new("GET", "/scim/v2/Users"), "scim")
        .unwrap();
    assert_eq!(list.response.unwrap()["totalResults"], 3);
}
