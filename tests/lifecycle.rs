//! The lifecycle model (`tenure::lifecycle`): events apply whole or not at all; the
//! reverse queries and `impact` equal the all-pairs loop of `authorize`; a leaver keeps
//! nothing under a policy that denies non-active identities.

use proptest::prelude::*;
use tenure::lifecycle::{
    impact, Change, Directory, Entitlement, Event, Holder, Inventory, PairAccess,
};
use tenure::{Identity, Policy, Resource, Value};

use crate::reference::{entity, policy_text, rule_text};

fn cases(default: u32) -> u32 {
    std::env::var("TENURE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(default, |n: u32| n.min(default * 10))
}

/// Random identities (or resources), each with a distinct `id`.
fn catalog_entities(max: usize) -> impl Strategy<Value = Vec<Identity>> {
    prop::collection::vec(entity(), 0..max).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(n, e)| e.with("id", format!("e{n}")))
            .collect()
    })
}

fn directory_of(entities: &[Identity]) -> Directory {
    let mut d = Directory::new();
    for e in entities {
        d.insert(e.clone()).expect("distinct ids");
    }
    d
}

fn inventory_of(entities: &[Identity]) -> Inventory {
    let mut inv = Inventory::new();
    for e in entities {
        inv.insert(Resource::from_json_value(&e.to_json()).expect("same shape"))
            .expect("distinct ids");
    }
    inv
}

fn reasons(policy: &Policy, i: &Identity, r: &Resource) -> Option<Vec<String>> {
    let d = policy.authorize(i, r);
    d.is_allowed()
        .then(|| d.reason_ids().map(str::to_string).collect())
}

/// The all-pairs answer of `impact`.
fn impact_by_loop(
    old: &Policy,
    new: &Policy,
    directory: &Directory,
    inventory: &Inventory,
) -> (Vec<PairAccess>, Vec<PairAccess>) {
    let (mut gained, mut lost) = (Vec::new(), Vec::new());
    for (iid, i) in directory.iter() {
        for (rid, r) in inventory.iter() {
            match (reasons(old, i, r), reasons(new, i, r)) {
                (None, Some(reasons)) => gained.push(PairAccess {
                    identity: iid.into(),
                    resource: rid.into(),
                    reasons,
                }),
                (Some(reasons), None) => lost.push(PairAccess {
                    identity: iid.into(),
                    resource: rid.into(),
                    reasons,
                }),
                _ => {}
            }
        }
    }
    (gained, lost)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2500), failure_persistence: None, ..ProptestConfig::default() })]

    /// `entitlements` and `who_can` go through the index and give exactly the pairs, and
    /// reasons, that `authorize` over every pair gives.
    #[test]
    fn reverse_queries_equal_all_pairs(
        text in policy_text(),
        identities in catalog_entities(10),
        resources in catalog_entities(10),
    ) {
        let policy = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let directory = directory_of(&identities);
        let inventory = inventory_of(&resources);
        for (iid, identity) in directory.iter() {
            let want: Vec<Entitlement> = inventory
                .iter()
                .filter_map(|(rid, r)| reasons(&policy, identity, r).map(|reasons| Entitlement { resource: rid.into(), reasons }))
                .collect();
            prop_assert_eq!(policy.entitlements(identity, &inventory), want, "identity {}\n{}", iid, text);
        }
        for (rid, resource) in inventory.iter() {
            let want: Vec<Holder> = directory
                .iter()
                .filter_map(|(iid, i)| reasons(&policy, i, resource).map(|reasons| Holder { identity: iid.into(), reasons }))
                .collect();
            prop_assert_eq!(policy.who_can(resource, &directory), want, "resource {}\n{}", rid, text);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1000), failure_persistence: None, ..ProptestConfig::default() })]

    /// `impact` looks only at the rules that differ, and equals the all-pairs comparison.
    #[test]
    fn impact_equals_all_pairs(
        rules in prop::collection::vec(rule_text(0), 1..10),
        keep in prop::collection::vec(any::<bool>(), 10),
        added in prop::collection::vec(rule_text(1), 0..4),
        identities in catalog_entities(7),
        resources in catalog_entities(7),
    ) {
        // Ids are made unique by position: `@id("r0")` → `@id("old-N")`.
        let old_rules: Vec<String> = rules.iter().enumerate().map(|(n, r)| r.replace("@id(\"r0\")", &format!("@id(\"k{n}\")"))).collect();
        let mut new_rules: Vec<String> = old_rules.iter().zip(&keep).filter(|(_, k)| **k).map(|(r, _)| r.clone()).collect();
        new_rules.extend(added.iter().enumerate().map(|(n, r)| r.replace("@id(\"r1\")", &format!("@id(\"a{n}\")"))));
        let (old_text, new_text) = (old_rules.join("\n"), new_rules.join("\n"));
        let old = Policy::compile(&old_text).map_err(|e| TestCaseError::fail(format!("{e}\n{old_text}")))?;
        let new = Policy::compile(&new_text).map_err(|e| TestCaseError::fail(format!("{e}\n{new_text}")))?;
        let directory = directory_of(&identities);
        let inventory = inventory_of(&resources);
        let change = impact(&old, &new, &directory, &inventory);
        let (gained, lost) = impact_by_loop(&old, &new, &directory, &inventory);
        prop_assert_eq!(change.gained, gained, "old:\n{}\nnew:\n{}", old_text, new_text);
        prop_assert_eq!(change.lost, lost, "old:\n{}\nnew:\n{}", old_text, new_text);
    }

    /// After a `Leave`, nothing stays reachable under a policy that denies non-active
    /// identities, and the leave's access change lost exactly what she reached.
    #[test]
    fn a_leaver_keeps_nothing(
        text in policy_text(),
        joiner in entity(),
        active in any::<bool>(),
        resources in catalog_entities(10),
    ) {
        let text = format!("{text}\n@id(\"leavers\") status != active denies *;");
        let policy = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let inventory = inventory_of(&resources);
        let joiner = joiner.with("id", "p").with("status", if active { "active" } else { "pending" });
        let mut directory = Directory::new();
        let joined = directory.apply(&Event::Join { identity: joiner.clone() }).expect("new id");
        let join_change = policy.identity_access_change(&joined, &inventory);
        prop_assert_eq!(&join_change.gained, &policy.entitlements(&joiner, &inventory));
        prop_assert!(join_change.lost.is_empty());
        let before = policy.entitlements(directory.get("p").expect("joined"), &inventory);
        let left = directory.apply(&Event::Leave { id: "p".into() }).expect("on record");
        let change = policy.identity_access_change(&left, &inventory);
        let after = directory.get("p").expect("a leaver stays on record");
        prop_assert_eq!(after.get("status"), Some(&Value::from("inactive")));
        prop_assert!(policy.entitlements(after, &inventory).is_empty());
        prop_assert!(change.gained.is_empty());
        prop_assert_eq!(change.lost, before);
    }

    /// A move's access change is exactly the difference of the identity's entitlements
    /// before and after (computed pair by pair with `authorize`).
    #[test]
    fn move_access_change_equals_the_difference(
        text in policy_text(),
        start in entity(),
        changes in prop::collection::vec(change(), 1..4),
        resources in catalog_entities(10),
    ) {
        let policy = Policy::compile(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let inventory = inventory_of(&resources);
        let mut directory = Directory::new();
        directory.insert(start.with("id", "p")).expect("empty directory");
        let event = Event::Move { id: "p".into(), changes };
        let Ok(applied) = directory.apply(&event) else { return Ok(()) };
        let by_loop = |i: &Identity| -> Vec<Entitlement> {
            inventory
                .iter()
                .filter_map(|(rid, r)| reasons(&policy, i, r).map(|reasons| Entitlement { resource: rid.into(), reasons }))
                .collect()
        };
        let before = by_loop(applied.before.as_ref().expect("a move has a before"));
        let after = by_loop(applied.after.as_ref().expect("a move has an after"));
        let change = policy.identity_access_change(&applied, &inventory);
        let gained: Vec<Entitlement> = after.iter().filter(|e| !before.iter().any(|b| b.resource == e.resource)).cloned().collect();
        let lost: Vec<Entitlement> = before.iter().filter(|e| !after.iter().any(|a| a.resource == e.resource)).cloned().collect();
        prop_assert_eq!(change.gained, gained, "{}", text);
        prop_assert_eq!(change.lost, lost, "{}", text);
    }

    /// Directory and inventory JSON Lines are lossless.
    #[test]
    fn json_lines_round_trip(identities in catalog_entities(10)) {
        let directory = directory_of(&identities);
        let text = directory.to_json_lines();
        let again = Directory::from_json_lines(&text).expect("own output reads back");
        prop_assert_eq!(&again, &directory);
        prop_assert_eq!(again.to_json_lines(), text);
        let inventory = inventory_of(&identities);
        prop_assert_eq!(Inventory::from_json_lines(&inventory.to_json_lines()).expect("reads back"), inventory);
    }

    /// A random `Move` either applies whole, or fails and changes nothing; its JSON
    /// reads back equal.
    #[test]
    fn moves_apply_whole_or_not_at_all(
        start in entity(),
        changes in prop::collection::vec(change(), 0..6),
    ) {
        let mut directory = Directory::new();
        directory.insert(start.with("id", "p")).expect("empty directory");
        let snapshot = directory.clone();
        let event = Event::Move { id: "p".into(), changes };
        let json = event.to_json().to_string();
        prop_assert_eq!(Event::from_json(&json).expect("own JSON"), event.clone());
        match directory.apply(&event) {
            Ok(applied) => {
                prop_assert_eq!(applied.after.as_ref(), directory.get("p"));
                prop_assert_eq!(applied.changed(), directory != snapshot);
            }
            Err(_) => prop_assert_eq!(&directory, &snapshot),
        }
    }
}

fn change() -> impl Strategy<Value = Change> {
    let name = || {
        prop::sample::select(&["role", "groups", "n", "id", "tags"][..]).prop_map(str::to_string)
    };
    let word = || prop::sample::select(&["x", "y", "z"][..]).prop_map(str::to_string);
    prop_oneof![
        (name(), word()).prop_map(|(attribute, v)| Change::Set {
            attribute,
            value: v.into()
        }),
        (name(), word()).prop_map(|(attribute, v)| Change::Set {
            attribute,
            value: Value::set([v])
        }),
        name().prop_map(|attribute| Change::Remove { attribute }),
        (name(), word()).prop_map(|(attribute, value)| Change::AddMember { attribute, value }),
        (name(), word()).prop_map(|(attribute, value)| Change::RemoveMember { attribute, value }),
        (word(), word()).prop_map(|(key, value)| Change::SetTag { key, value }),
        word().prop_map(|key| Change::RemoveTag { key }),
    ]
}

fn pamela() -> Identity {
    Identity::new()
        .with("id", "pamela")
        .with("role", "CloudEngineer")
        .with("status", "active")
        .with_set("groups", ["eng"])
}

#[test]
fn every_event_kind_applies() {
    let mut directory = Directory::new();
    directory
        .apply(&Event::Join { identity: pamela() })
        .unwrap();
    let moved = directory
        .apply(&Event::Move {
            id: "pamela".into(),
            changes: vec![
                Change::Set {
                    attribute: "role".into(),
                    value: "DBA".into(),
                },
                Change::AddMember {
                    attribute: "groups".into(),
                    value: "dba".into(),
                },
                Change::RemoveMember {
                    attribute: "groups".into(),
                    value: "eng".into(),
                },
                Change::SetTag {
                    key: "site".into(),
                    value: "ber".into(),
                },
                Change::Remove {
                    attribute: "nickname".into(),
                },
            ],
        })
        .unwrap();
    assert!(moved.changed());
    let p = directory.get("pamela").unwrap();
    assert_eq!(p.get("role"), Some(&"DBA".into()));
    assert_eq!(p.get("groups"), Some(&Value::set(["dba"])));
    assert_eq!(p.tag("site"), Some("ber"));
    let left = directory
        .apply(&Event::Leave {
            id: "pamela".into(),
        })
        .unwrap();
    assert!(left.changed());
    // Leaving twice changes nothing.
    assert!(!directory
        .apply(&Event::Leave {
            id: "pamela".into()
        })
        .unwrap()
        .changed());
    let purged = directory
        .apply(&Event::Purge {
            id: "pamela".into(),
        })
        .unwrap();
    assert!(purged.after.is_none());
    assert!(directory.is_empty());

    let mut inventory = Inventory::new();
    let vm = Resource::new().with("id", "vm-1").with_tag("env", "cloud");
    inventory
        .apply(&Event::AddResource { resource: vm })
        .unwrap();
    inventory
        .apply(&Event::ChangeResource {
            id: "vm-1".into(),
            changes: vec![Change::SetTag {
                key: "env".into(),
                value: "prod".into(),
            }],
        })
        .unwrap();
    assert_eq!(inventory.get("vm-1").unwrap().tag("env"), Some("prod"));
    inventory
        .apply(&Event::RemoveResource { id: "vm-1".into() })
        .unwrap();
    assert!(inventory.is_empty());
}

#[test]
fn bad_events_change_nothing() {
    let mut directory = Directory::new();
    directory
        .apply(&Event::Join { identity: pamela() })
        .unwrap();
    let snapshot = directory.clone();
    let errors = [
        Event::Join { identity: pamela() },
        Event::Join {
            identity: Identity::new().with("role", "x"),
        },
        Event::Join {
            identity: Identity::new().with("id", 7),
        },
        Event::Move {
            id: "nobody".into(),
            changes: vec![],
        },
        Event::Leave {
            id: "nobody".into(),
        },
        Event::Purge {
            id: "nobody".into(),
        },
        Event::Move {
            id: "pamela".into(),
            changes: vec![
                Change::Set {
                    attribute: "role".into(),
                    value: "DBA".into(),
                },
                Change::AddMember {
                    attribute: "role".into(),
                    value: "x".into(),
                },
            ],
        },
        Event::Move {
            id: "pamela".into(),
            changes: vec![Change::Set {
                attribute: "id".into(),
                value: "eve".into(),
            }],
        },
        Event::Move {
            id: "pamela".into(),
            changes: vec![Change::Set {
                attribute: "tags".into(),
                value: "x".into(),
            }],
        },
        Event::AddResource {
            resource: Resource::new().with("id", "r"),
        },
    ];
    let codes: Vec<&str> = errors
        .iter()
        .map(|e| directory.apply(e).unwrap_err().code().as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "tenure::lifecycle::duplicate_id",
            "tenure::lifecycle::missing_id",
            "tenure::lifecycle::missing_id",
            "tenure::lifecycle::unknown_identity",
            "tenure::lifecycle::unknown_identity",
            "tenure::lifecycle::unknown_identity",
            "tenure::lifecycle::not_a_set",
            "tenure::lifecycle::immutable_id",
            "tenure::input::reserved_name",
            "tenure::lifecycle::malformed_event",
        ]
    );
    assert_eq!(directory, snapshot);
}

#[test]
fn json_lines_errors_name_the_line() {
    let e = Directory::from_json_lines("{\"id\": \"a\"}\n\n{\"id\": \"a\"}\n").unwrap_err();
    assert_eq!(e.code().as_str(), "tenure::lifecycle::duplicate_id");
    assert!(e.path().starts_with("line 3"), "{}", e.path());
    let e = Directory::from_json_lines("{\"id\": \"a\", \"role\": 1, \"role\": 2}").unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.path()),
        ("tenure::input::duplicate_key", "line 1: identity.role")
    );
    let e = Inventory::from_json_lines("{\"name\": \"a\"}").unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.path()),
        ("tenure::lifecycle::missing_id", "line 1: resource.id")
    );
}

#[test]
fn events_read_strictly() {
    let e = Event::from_json(r#"{"event": "leave", "id": "a", "id": "b"}"#).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.path()),
        ("tenure::input::duplicate_key", "id")
    );
    assert!(Event::from_json(r#"{"event": "vanish", "id": "a"}"#).is_err());
    assert!(Event::from_json(r#"{"event": "move", "id": "a", "changes": [{"op": "set", "attribute": "x", "value": 1.5}]}"#).is_err());
    let e = Event::from_json(r#"{"event": "join", "identity": {"id": "a", "groups": ["x", "y"]}}"#)
        .unwrap();
    assert_eq!(e.name(), "join");
}

#[test]
fn resource_events_report_who_gains_and_loses() {
    let policy = Policy::compile(
        "@id(\"cloud\") role = CloudEngineer grants tag:env = cloud;\n@id(\"leavers\") status != active denies *;",
    )
    .unwrap();
    let directory = Directory::from_json_lines(concat!(
        "{\"id\": \"pamela\", \"role\": \"CloudEngineer\", \"status\": \"active\"}\n",
        "{\"id\": \"sam\", \"role\": \"CloudEngineer\", \"status\": \"inactive\"}\n",
    ))
    .unwrap();
    let mut inventory = Inventory::new();
    let added = inventory
        .apply(&Event::AddResource {
            resource: Resource::new().with("id", "vm").with_tag("env", "cloud"),
        })
        .unwrap();
    let change = policy.resource_access_change(&added, &directory);
    assert_eq!(
        change.gained,
        [Holder {
            identity: "pamela".into(),
            reasons: vec!["cloud".into()]
        }]
    );
    let moved = inventory
        .apply(&Event::ChangeResource {
            id: "vm".into(),
            changes: vec![Change::SetTag {
                key: "env".into(),
                value: "prod".into(),
            }],
        })
        .unwrap();
    let change = policy.resource_access_change(&moved, &directory);
    assert_eq!(change.lost.len(), 1);
    assert!(change.gained.is_empty());
}

#[test]
fn between_turns_record_changes_into_events() {
    let before = pamela();
    let mut after = pamela();
    after.set("status", "inactive").unwrap();
    after.set("title", "Ex-engineer").unwrap();
    let events = Event::between("pamela", Some(&before), Some(&after));
    assert_eq!(
        events.iter().map(Event::name).collect::<Vec<_>>(),
        ["move", "leave"]
    );
    assert_eq!(
        Event::between("pamela", None, Some(&after))[0].name(),
        "join"
    );
    assert_eq!(
        Event::between("pamela", Some(&after), None)[0].name(),
        "purge"
    );
    // Applying the events to `before` gives `after`.
    let mut directory = Directory::new();
    directory.insert(before).unwrap();
    for e in &events {
        directory.apply(e).unwrap();
    }
    assert_eq!(directory.get("pamela"), Some(&after));
}
