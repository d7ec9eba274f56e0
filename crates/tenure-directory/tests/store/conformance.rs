//! The store conformance suite: written once, run against every backend.
//!
//! [`run`] takes a function that returns the address of a new, empty store; each case
//! gets its own store and an `open` function that opens a new handle on it (so cases
//! can reopen the store or use several handles at once).

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use tenure::{Identity, Resource};
use tenure_directory::store::{
    self, truncate_to_micros, JournalRecord, PolicyStamp, ScheduledRecord, ScimKind, ScimRecord,
    Store,
};

/// Opens a new handle on the case's store.
pub type Open<'a> = &'a dyn Fn() -> Box<dyn Store>;

type Case = fn(Open<'_>);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("empty_store", empty_store),
    ("identities", identities),
    ("resources", resources),
    ("ids_sort_bytewise", ids_sort_bytewise),
    ("scim_records", scim_records),
    ("journal_numbers_and_paging", journal_numbers_and_paging),
    ("journal_round_trip", journal_round_trip),
    ("journal_refuses_bad_records", journal_refuses_bad_records),
    ("timestamps_at_microseconds", timestamps_at_microseconds),
    ("rollback_on_drop", rollback_on_drop),
    ("uncommitted_is_invisible", uncommitted_is_invisible),
    ("schedule", schedule),
    ("policy_versions", policy_versions),
    ("meta", meta),
    ("reopen", reopen),
    (
        "concurrent_writers_and_reader",
        concurrent_writers_and_reader,
    ),
];

/// Runs every case, each on a new store from `fresh` (an address), and reports all the
/// cases that failed, not only the first.
pub fn run(fresh: &dyn Fn() -> String) {
    let mut failed = Vec::new();
    for (name, case) in CASES {
        let address = fresh();
        let open = || -> Box<dyn Store> {
            store::open(&address).unwrap_or_else(|e| panic!("open {address}: {e:?}"))
        };
        eprintln!("conformance: {name}");
        if catch_unwind(AssertUnwindSafe(|| case(&open))).is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "conformance cases failed: {failed:?}");
}

// ---- fixtures ----

fn at(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap()
}

fn person(id: &str, role: &str) -> Identity {
    Identity::new()
        .with("id", id)
        .with("role", role)
        .with("clearance", 3)
        .with("active", true)
        .with_set("groups", ["okta-cloud", "everyone"])
        .with_tag("team", "sre")
}

fn host(id: &str) -> Resource {
    Resource::new()
        .with("id", id)
        .with("type", "postgres")
        .with("port", 5432)
        .with_tag("env", "prod")
}

fn journal(n: u64) -> JournalRecord {
    JournalRecord {
        seq: 999_999,
        at: at(1_700_000_000_000_000 + n as i64),
        source: "cli".into(),
        event: "join".into(),
        identity: Some(format!("user-{n}")),
        resource: None,
        change: json!({"join": {"id": format!("user-{n}")}, "n": n}),
        gained: json!([format!("db-{n}")]),
        lost: json!([]),
        policy: None,
        mapping_hash: None,
    }
}

fn scheduled(at_micros: i64, what: &str) -> ScheduledRecord {
    ScheduledRecord {
        id: 0,
        at: at(at_micros),
        source: "schedule".into(),
        event: json!({"purge": what}),
        created: at(1_600_000_000_000_000),
    }
}

fn seqs(records: &[JournalRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

// ---- cases ----

fn empty_store(open: Open<'_>) {
    let mut store = open();
    assert!(
        store.describe().starts_with("sqlite store at ")
            || store.describe().starts_with("postgres store at "),
        "{}",
        store.describe()
    );
    assert_eq!(store.journal_since(0, 100).unwrap(), vec![]);
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.head().unwrap(), 0);
    assert!(tx.identities().unwrap().is_empty());
    assert!(tx.resources().unwrap().is_empty());
    assert!(tx.scim_list(ScimKind::User).unwrap().is_empty());
    assert!(tx.schedule_list().unwrap().is_empty());
    assert_eq!(tx.identity("nobody").unwrap(), None);
    assert_eq!(tx.resource("nothing").unwrap(), None);
    assert_eq!(tx.scim_get(ScimKind::Group, "g").unwrap(), None);
    assert_eq!(tx.meta_get("k").unwrap(), None);
    assert!(!tx.delete_identity("nobody").unwrap());
    assert!(!tx.delete_resource("nothing").unwrap());
    assert!(!tx.scim_delete(ScimKind::User, "u").unwrap());
    assert!(!tx.schedule_remove(1).unwrap());
    assert!(!tx.schedule_remove(u64::MAX).unwrap());
    tx.commit().unwrap();
}

fn identities(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    for id in ["carol", "alice", "bob"] {
        tx.put_identity(id, &person(id, "Engineer")).unwrap();
    }
    // Reads see the transaction's own writes.
    assert_eq!(
        tx.identity("alice").unwrap(),
        Some(person("alice", "Engineer"))
    );
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let ids: Vec<String> = tx
        .identities()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["alice", "bob", "carol"]);
    assert_eq!(
        tx.identities().unwrap()[1],
        ("bob".to_string(), person("bob", "Engineer"))
    );
    // Put replaces.
    tx.put_identity("bob", &person("bob", "Manager")).unwrap();
    assert_eq!(tx.identity("bob").unwrap(), Some(person("bob", "Manager")));
    assert!(tx.delete_identity("alice").unwrap());
    assert!(!tx.delete_identity("alice").unwrap());
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.identity("alice").unwrap(), None);
    assert_eq!(
        tx.identities().unwrap(),
        vec![
            ("bob".to_string(), person("bob", "Manager")),
            ("carol".to_string(), person("carol", "Engineer")),
        ]
    );
    // Identities and resources are separate namespaces.
    assert_eq!(tx.resource("bob").unwrap(), None);
}

fn resources(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    for id in ["db-2", "db-10", "db-1"] {
        tx.put_resource(id, &host(id)).unwrap();
    }
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let ids: Vec<String> = tx
        .resources()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["db-1", "db-10", "db-2"]);
    assert_eq!(tx.resource("db-10").unwrap(), Some(host("db-10")));
    let replaced = host("db-10").with_tag("env", "dev");
    tx.put_resource("db-10", &replaced).unwrap();
    assert_eq!(tx.resource("db-10").unwrap(), Some(replaced));
    assert!(tx.delete_resource("db-1").unwrap());
    assert!(!tx.delete_resource("db-1").unwrap());
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.resources().unwrap().len(), 2);
    assert_eq!(tx.resource("db-1").unwrap(), None);
    assert_eq!(tx.identity("db-2").unwrap(), None);
}

fn ids_sort_bytewise(open: Open<'_>) {
    // Locale collations would put `a` before `B`, ignore `-`, or fold accents; the store
    // sorts as Rust's `str` does.
    let mut ids = vec![
        "b", "a", "B", "a-b", "ab", "a b", "é", "e", "Z", "_", "10", "9", "ü",
    ];
    let mut store = open();
    let mut tx = store.begin().unwrap();
    for id in &ids {
        tx.put_identity(id, &Identity::new().with("id", *id))
            .unwrap();
        tx.put_resource(id, &Resource::new().with("id", *id))
            .unwrap();
        tx.scim_put(&ScimRecord {
            kind: ScimKind::Group,
            id: id.to_string(),
            body: json!({"displayName": id}),
            version: 1,
            created: at(0),
            modified: at(0),
        })
        .unwrap();
    }
    ids.sort();
    let listed: Vec<String> = tx
        .identities()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, ids);
    let listed: Vec<String> = tx
        .resources()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, ids);
    let listed: Vec<String> = tx
        .scim_list(ScimKind::Group)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ids);
}

fn scim_user(id: &str, version: u64) -> ScimRecord {
    ScimRecord {
        kind: ScimKind::User,
        id: id.to_string(),
        body: json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:okta:custom"
            ],
            "userName": format!("{id}@example.com"),
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "primary": true, "type": "work"}],
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Tour Operations",
                "manager": {"value": "26118915", "$ref": "../Users/26118915"}
            },
            "urn:okta:custom": {
                "costCenter": 4711,
                "ratio": 0.25,
                "big": u64::MAX,
                "negative": -3,
                "nothing": null,
                "text": "ünïcode ✓ \u{0} \"quoted\" \\ \n tab\t",
                "deep": [[[{"a": [1, [2, {"b": []}]]}]]]
            }
        }),
        version,
        created: at(1_700_000_000_123_456),
        modified: at(1_700_000_100_654_321),
    }
}

fn scim_records(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    let user = scim_user("2819c223", 1);
    tx.scim_put(&user).unwrap();
    let group = ScimRecord {
        kind: ScimKind::Group,
        id: "2819c223".into(), // the same id as the user: kinds are separate
        body: json!({"displayName": "Tour Guides", "members": [{"value": "2819c223"}]}),
        version: 7,
        created: at(-1_000_000),
        modified: at(0),
    };
    tx.scim_put(&group).unwrap();
    tx.scim_put(&scim_user("0001", 3)).unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let got = tx.scim_get(ScimKind::User, "2819c223").unwrap().unwrap();
    assert_eq!(got, user);
    assert_eq!(
        got.body.to_string(),
        user.body.to_string(),
        "key order and text preserved"
    );
    assert_eq!(
        tx.scim_get(ScimKind::Group, "2819c223").unwrap(),
        Some(group.clone())
    );
    let users = tx.scim_list(ScimKind::User).unwrap();
    assert_eq!(users, vec![scim_user("0001", 3), user.clone()]);
    assert_eq!(tx.scim_list(ScimKind::Group).unwrap(), vec![group]);

    // Put replaces every field.
    let mut patched = scim_user("2819c223", 2);
    patched.body["active"] = json!(false);
    patched.modified = at(1_800_000_000_000_001);
    tx.scim_put(&patched).unwrap();
    assert_eq!(
        tx.scim_get(ScimKind::User, "2819c223").unwrap(),
        Some(patched)
    );

    assert!(tx.scim_delete(ScimKind::User, "2819c223").unwrap());
    assert!(!tx.scim_delete(ScimKind::User, "2819c223").unwrap());
    assert!(tx.scim_get(ScimKind::Group, "2819c223").unwrap().is_some());
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.scim_get(ScimKind::User, "2819c223").unwrap(), None);
    assert_eq!(tx.scim_list(ScimKind::User).unwrap().len(), 1);

    // Versions above i64::MAX cannot be stored, and saying so changes nothing.
    let error = tx.scim_put(&scim_user("huge", u64::MAX)).unwrap_err();
    assert_eq!(error.code(), "tenure::store::invalid_record");
    assert_eq!(tx.scim_get(ScimKind::User, "huge").unwrap(), None);
}

fn journal_numbers_and_paging(open: Open<'_>) {
    let mut store = open();
    for batch in 0..5u64 {
        let mut tx = store.begin().unwrap();
        for i in 0..5 {
            let n = batch * 5 + i + 1;
            assert_eq!(
                tx.append(&journal(n)).unwrap(),
                n,
                "the passed-in seq is ignored"
            );
            assert_eq!(tx.head().unwrap(), n);
        }
        tx.commit().unwrap();
    }
    assert_eq!(
        seqs(&store.journal_since(0, 10).unwrap()),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&store.journal_since(10, 10).unwrap()),
        (11..=20).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&store.journal_since(20, 10).unwrap()),
        (21..=25).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&store.journal_since(24, usize::MAX).unwrap()),
        vec![25]
    );
    assert!(store.journal_since(25, 10).unwrap().is_empty());
    assert!(store.journal_since(0, 0).unwrap().is_empty());
    assert!(store.journal_since(u64::MAX, 10).unwrap().is_empty());
    let all = store.journal_since(0, 1000).unwrap();
    assert_eq!(seqs(&all), (1..=25).collect::<Vec<_>>());
    for record in &all {
        assert_eq!(
            record,
            &JournalRecord {
                seq: record.seq,
                ..journal(record.seq)
            }
        );
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.head().unwrap(), 25);
}

fn journal_round_trip(open: Open<'_>) {
    let mut store = open();
    let full = JournalRecord {
        seq: 0,
        at: at(1_712_345_678_901_234),
        source: "scim".into(),
        event: "move".into(),
        identity: Some("pamela".into()),
        resource: Some("db-17".into()),
        change: json!({"move": {"id": "pamela", "set": {"role": "Manager", "clearance": 4}},
                       "note": "ünïcode ✓ \u{0}", "ratio": 0.5, "big": u64::MAX}),
        gained: json!(["db-17", {"resource": "k8s", "via": ["rule-3"]}]),
        lost: json!([{"resource": "ssh-bastion"}]),
        policy: Some(PolicyStamp {
            version: 2,
            hash: "sha256:9f86d081".into(),
        }),
        mapping_hash: Some("sha256:e3b0c442".into()),
    };
    let bare = JournalRecord {
        seq: 0,
        at: at(-86_400_000_000), // before the epoch
        source: "schedule".into(),
        event: "purge".into(),
        identity: None,
        resource: None,
        change: json!(null),
        gained: json!([]),
        lost: json!([]),
        policy: None,
        mapping_hash: None,
    };
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.append(&full).unwrap(), 1);
    assert_eq!(tx.append(&bare).unwrap(), 2);
    tx.commit().unwrap();
    let got = store.journal_since(0, 10).unwrap();
    assert_eq!(
        got,
        vec![
            JournalRecord { seq: 1, ..full },
            JournalRecord { seq: 2, ..bare }
        ]
    );
    for record in &got {
        assert_eq!(
            &JournalRecord::from_json_line(&record.to_json_line()).unwrap(),
            record
        );
    }
}

fn journal_refuses_bad_records(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    let bad = JournalRecord {
        gained: json!({"not": "an array"}),
        ..journal(1)
    };
    let error = tx.append(&bad).unwrap_err();
    assert_eq!(error.code(), "tenure::store::invalid_record");
    let bad = JournalRecord {
        lost: json!("db-1"),
        ..journal(1)
    };
    assert!(tx.append(&bad).is_err());
    let bad = JournalRecord {
        policy: Some(PolicyStamp {
            version: u64::MAX,
            hash: "h".into(),
        }),
        ..journal(1)
    };
    assert!(tx.append(&bad).is_err());
    // Refused records consume no number, and the transaction goes on.
    assert_eq!(tx.head().unwrap(), 0);
    assert_eq!(tx.append(&journal(1)).unwrap(), 1);
    tx.commit().unwrap();
    assert_eq!(seqs(&store.journal_since(0, 10).unwrap()), vec![1]);
}

fn timestamps_at_microseconds(open: Open<'_>) {
    let mut store = open();
    let fine = Timestamp::new(1_700_000_000, 123_456_789).unwrap();
    let before_epoch = Timestamp::new(-1_000, -999_999_999).unwrap();
    let mut tx = store.begin().unwrap();
    tx.append(&JournalRecord {
        at: fine,
        ..journal(1)
    })
    .unwrap();
    tx.append(&JournalRecord {
        at: before_epoch,
        ..journal(2)
    })
    .unwrap();
    let id = tx
        .schedule_add(&ScheduledRecord {
            at: fine,
            created: before_epoch,
            ..scheduled(0, "x")
        })
        .unwrap();
    tx.scim_put(&ScimRecord {
        created: before_epoch,
        modified: fine,
        ..scim_user("u", 1)
    })
    .unwrap();
    tx.commit().unwrap();

    let journal = store.journal_since(0, 10).unwrap();
    assert_eq!(journal[0].at, truncate_to_micros(fine));
    assert_eq!(
        journal[0].at,
        Timestamp::new(1_700_000_000, 123_456_000).unwrap()
    );
    assert_eq!(journal[1].at, truncate_to_micros(before_epoch));
    let mut tx = store.begin().unwrap();
    let schedule = tx.schedule_list().unwrap();
    assert_eq!(schedule[0].id, id);
    assert_eq!(schedule[0].at, truncate_to_micros(fine));
    assert_eq!(schedule[0].created, truncate_to_micros(before_epoch));
    let scim = tx.scim_get(ScimKind::User, "u").unwrap().unwrap();
    assert_eq!(scim.created, truncate_to_micros(before_epoch));
    assert_eq!(scim.modified, truncate_to_micros(fine));
}

fn rollback_on_drop(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    tx.put_identity("kept", &person("kept", "Engineer"))
        .unwrap();
    assert_eq!(tx.append(&journal(1)).unwrap(), 1);
    assert_eq!(tx.schedule_add(&scheduled(5, "kept")).unwrap(), 1);
    assert_eq!(tx.policy_version("kept").unwrap(), 1);
    tx.commit().unwrap();

    {
        let mut tx = store.begin().unwrap();
        tx.put_identity("ghost", &person("ghost", "Engineer"))
            .unwrap();
        tx.put_identity("kept", &person("kept", "Changed")).unwrap();
        assert!(tx.delete_identity("kept").unwrap());
        tx.put_resource("ghost-db", &host("ghost-db")).unwrap();
        tx.scim_put(&scim_user("ghost", 1)).unwrap();
        assert_eq!(tx.append(&journal(2)).unwrap(), 2);
        assert_eq!(tx.append(&journal(3)).unwrap(), 3);
        let ghost = tx.schedule_add(&scheduled(1, "ghost")).unwrap();
        assert!(ghost > 1);
        assert!(tx.schedule_remove(1).unwrap());
        assert_eq!(tx.policy_version("ghost").unwrap(), 2);
        tx.meta_put("ghost", "boo").unwrap();
        // dropped without commit
    }
    assert_eq!(seqs(&store.journal_since(0, 10).unwrap()), vec![1]);

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.identity("ghost").unwrap(), None);
    assert_eq!(
        tx.identity("kept").unwrap(),
        Some(person("kept", "Engineer"))
    );
    assert_eq!(tx.resource("ghost-db").unwrap(), None);
    assert_eq!(tx.scim_get(ScimKind::User, "ghost").unwrap(), None);
    assert_eq!(tx.meta_get("ghost").unwrap(), None);
    let schedule = tx.schedule_list().unwrap();
    assert_eq!(schedule.len(), 1);
    assert_eq!(schedule[0].id, 1);
    assert_eq!(tx.head().unwrap(), 1);
    // The rolled-back numbers were not consumed.
    assert_eq!(tx.append(&journal(2)).unwrap(), 2);
    assert_eq!(tx.policy_version("new").unwrap(), 2);
    tx.commit().unwrap();
    assert_eq!(seqs(&store.journal_since(0, 10).unwrap()), vec![1, 2]);
}

fn uncommitted_is_invisible(open: Open<'_>) {
    let mut writer = open();
    let mut reader = open();
    let mut tx = writer.begin().unwrap();
    tx.append(&journal(1)).unwrap();
    assert!(reader.journal_since(0, 10).unwrap().is_empty());
    tx.commit().unwrap();
    assert_eq!(seqs(&reader.journal_since(0, 10).unwrap()), vec![1]);
}

fn schedule(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    let late = tx.schedule_add(&scheduled(300, "late")).unwrap();
    let early = tx.schedule_add(&scheduled(100, "early")).unwrap();
    let middle = tx.schedule_add(&scheduled(200, "middle")).unwrap();
    let early_too = tx.schedule_add(&scheduled(100, "early too")).unwrap();
    let ids = [late, early, middle, early_too];
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let listed = tx.schedule_list().unwrap();
    let order: Vec<u64> = listed.iter().map(|r| r.id).collect();
    assert_eq!(
        order,
        [early, early_too, middle, late],
        "ordered by (at, id)"
    );
    assert_eq!(
        listed[0],
        ScheduledRecord {
            id: early,
            ..scheduled(100, "early")
        }
    );

    assert!(tx.schedule_remove(middle).unwrap());
    assert!(!tx.schedule_remove(middle).unwrap());
    assert!(tx.schedule_remove(early_too).unwrap()); // the highest id so far
    let next = tx.schedule_add(&scheduled(50, "next")).unwrap();
    assert!(
        next > early_too,
        "ids are never reused ({next} after {early_too})"
    );
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let order: Vec<u64> = tx.schedule_list().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(order, [next, early, late]);
    assert!(tx.schedule_remove(next).unwrap());
    tx.commit().unwrap();
    drop(store);

    // Not even after reopening.
    let mut store = open();
    let mut tx = store.begin().unwrap();
    let after = tx.schedule_add(&scheduled(1, "after")).unwrap();
    assert!(after > next, "ids are never reused ({after} after {next})");
    let seen: HashSet<u64> = [late, early, middle, early_too, next, after].into();
    assert_eq!(seen.len(), 6);
}

fn policy_versions(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.policy_version("sha256:aaaa").unwrap(), 1);
    assert_eq!(tx.policy_version("sha256:bbbb").unwrap(), 2);
    assert_eq!(tx.policy_version("sha256:aaaa").unwrap(), 1);
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.policy_version("sha256:bbbb").unwrap(), 2);
    assert_eq!(tx.policy_version("sha256:cccc").unwrap(), 3);
    assert_eq!(tx.policy_version("sha256:aaaa").unwrap(), 1);
}

fn meta(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.meta_get("mapping").unwrap(), None);
    tx.meta_put("mapping", "sha256:1").unwrap();
    tx.meta_put("cursor", "").unwrap();
    assert_eq!(tx.meta_get("mapping").unwrap().as_deref(), Some("sha256:1"));
    tx.meta_put("mapping", "sha256:2 ✓").unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(
        tx.meta_get("mapping").unwrap().as_deref(),
        Some("sha256:2 ✓")
    );
    assert_eq!(tx.meta_get("cursor").unwrap().as_deref(), Some(""));
}

fn reopen(open: Open<'_>) {
    let mut store = open();
    let mut tx = store.begin().unwrap();
    tx.put_identity("pamela", &person("pamela", "Engineer"))
        .unwrap();
    tx.put_resource("db-17", &host("db-17")).unwrap();
    tx.scim_put(&scim_user("2819c223", 4)).unwrap();
    tx.append(&journal(1)).unwrap();
    tx.append(&journal(2)).unwrap();
    let due = tx.schedule_add(&scheduled(10, "pamela")).unwrap();
    tx.policy_version("sha256:p").unwrap();
    tx.meta_put("k", "v").unwrap();
    tx.commit().unwrap();
    drop(store);

    let mut store = open();
    assert_eq!(seqs(&store.journal_since(0, 10).unwrap()), vec![1, 2]);
    let mut tx = store.begin().unwrap();
    assert_eq!(
        tx.identity("pamela").unwrap(),
        Some(person("pamela", "Engineer"))
    );
    assert_eq!(tx.resource("db-17").unwrap(), Some(host("db-17")));
    assert_eq!(
        tx.scim_get(ScimKind::User, "2819c223").unwrap(),
        Some(scim_user("2819c223", 4))
    );
    assert_eq!(
        tx.schedule_list().unwrap(),
        vec![ScheduledRecord {
            id: due,
            ..scheduled(10, "pamela")
        }]
    );
    assert_eq!(tx.policy_version("sha256:p").unwrap(), 1);
    assert_eq!(tx.meta_get("k").unwrap().as_deref(), Some("v"));
    assert_eq!(tx.head().unwrap(), 2);
    assert_eq!(tx.append(&journal(3)).unwrap(), 3);
    tx.commit().unwrap();
}

/// Two writers append 200 records each, one transaction per record, while a reader
/// polls: the journal ends as exactly 1..=400, each writer's records in its own order,
/// and the reader never sees a number before all the numbers below it.
fn concurrent_writers_and_reader(open: Open<'_>) {
    const PER_WRITER: u64 = 200;
    const TOTAL: u64 = 2 * PER_WRITER;
    let writers: Vec<Box<dyn Store>> = vec![open(), open()];
    let mut reader = open();
    let done = Arc::new(AtomicBool::new(false));

    let handles: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, mut store)| {
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for n in 0..PER_WRITER {
                    let mut tx = store.begin().unwrap();
                    let record = JournalRecord {
                        source: format!("writer-{w}"),
                        change: json!({"writer": w, "n": n}),
                        ..journal(n)
                    };
                    mine.push(tx.append(&record).unwrap());
                    tx.commit().unwrap();
                }
                mine
            })
        })
        .collect();

    let poller = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut last = 0u64;
            let mut polls = 0u64;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = reader.journal_since(last, 64).unwrap();
                for record in &batch {
                    assert_eq!(record.seq, last + 1, "the reader saw a gap after {last}");
                    last = record.seq;
                }
                polls += 1;
                if finished && batch.is_empty() {
                    return (last, polls);
                }
                if batch.is_empty() {
                    std::thread::yield_now();
                }
            }
        })
    };

    let mut assigned = Vec::new();
    for handle in handles {
        let mine = handle.join().unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "a writer's numbers increase"
        );
        assigned.extend(mine);
    }
    done.store(true, Ordering::SeqCst);
    let (last, polls) = poller.join().unwrap();
    assert_eq!(last, TOTAL, "the reader read everything ({polls} polls)");

    assigned.sort_unstable();
    assert_eq!(
        assigned,
        (1..=TOTAL).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );

    let mut store = open();
    let all = store.journal_since(0, usize::MAX).unwrap();
    assert_eq!(seqs(&all), (1..=TOTAL).collect::<Vec<_>>());
    for w in 0..2 {
        let ns: Vec<u64> = all
            .iter()
            .filter(|r| r.source == format!("writer-{w}"))
            .map(|r| r.change["n"].as_u64().unwrap())
            .collect();
        assert_eq!(
            ns,
            (0..PER_WRITER).collect::<Vec<_>>(),
            "writer {w} in commit order"
        );
    }
    assert_eq!(store.begin().unwrap().head().unwrap(), TOTAL);
}
