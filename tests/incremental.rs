//! Incremental recompiles equal full compiles: random sequences of edits — a source
//! replaced, added, removed, or broken — applied with [`Policy::with_source`] /
//! [`Policy::without_source`] give, after every edit, the policy a full
//! [`Policy::compile_sources`] of the same source list gives: the same error when it does
//! not compile, else the same rules (ids, positions, sources, locations) and the same
//! decisions and reasons.

use proptest::prelude::*;
use tenure::{Identity, Policy, Resource};

use crate::reference::{entity, policy_text};

const NAMES: [&str; 4] = ["a.tenure", "b.tenure", "c.tenure", "d.tenure"];

#[derive(Debug, Clone)]
enum Edit {
    Put(usize, String),
    Remove(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        6 => (0..NAMES.len(), policy_text()).prop_map(|(n, t)| Edit::Put(n, t)),
        2 => (0..NAMES.len()).prop_map(Edit::Remove),
        // A source that does not parse.
        1 => (0..NAMES.len(), policy_text()).prop_map(|(n, t)| Edit::Put(n, format!("{t}\n* grants"))),
        // Mostly unnamed rules, so that rule counts shift later `rule-N` names.
        2 => (0..NAMES.len(), 0usize..4).prop_map(|(n, k)| Edit::Put(n, "* denies type = rdp;\n".repeat(k))),
        // A written id of the positional form, which a positional id may take too.
        1 => (0..NAMES.len(), 1usize..12).prop_map(|(n, k)| Edit::Put(n, format!("@id(\"rule-{k}\") * grants type = ssh;\n* denies type = rdp;"))),
    ]
}

/// The source list after `edit` (the first source of a name is the one edited).
fn apply(sources: &[(String, String)], edit: &Edit) -> Vec<(String, String)> {
    let mut out = sources.to_vec();
    match edit {
        Edit::Put(n, text) => match out.iter_mut().find(|(name, _)| name == NAMES[*n]) {
            Some(source) => source.1 = text.clone(),
            None => out.push((NAMES[*n].to_string(), text.clone())),
        },
        Edit::Remove(n) => {
            if let Some(at) = out.iter().position(|(name, _)| name == NAMES[*n]) {
                out.remove(at);
            }
        }
    }
    out
}

type RuleRow = (String, usize, String, usize, usize, tenure::Effect);

fn rules(policy: &Policy) -> Vec<RuleRow> {
    policy
        .rules()
        .map(|r| {
            let l = r.location();
            (
                r.id().to_string(),
                r.index(),
                r.source_name().to_string(),
                l.line,
                l.column,
                r.effect(),
            )
        })
        .collect()
}

fn cases() -> u32 {
    std::env::var("TENURE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(1_000, |n: u32| (n / 10).max(50))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_full(
        initial in prop::collection::vec(policy_text(), 0..=NAMES.len()),
        edits in prop::collection::vec(edit(), 1..10),
        requests in prop::collection::vec((entity(), entity()), 4),
    ) {
        let requests: Vec<(Identity, Resource)> = requests
            .into_iter()
            .map(|(i, r)| (i, Resource::from_json_value(&r.to_json()).expect("same JSON shape")))
            .collect();
        // A full compile to start from (its index is the base the edits' delta overlays),
        // made of sources whose ids are unique across them.
        let mut sources: Vec<(String, String)> = initial
            .iter()
            .enumerate()
            .map(|(k, text)| (NAMES[k].to_string(), text.replace("@id(\"r", &format!("@id(\"{k}r"))))
            .collect();
        let mut policy = Policy::compile_sources(sources.clone()).expect("the initial sources compile");
        for edit in &edits {
            let next = apply(&sources, edit);
            let incremental = match edit {
                Edit::Put(n, text) => policy.with_source(NAMES[*n], text),
                Edit::Remove(n) => policy.without_source(NAMES[*n]),
            };
            let full = Policy::compile_sources(next.clone());
            match (incremental, full) {
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(rules(&a), rules(&b), "after {:?}", edit);
                    for row in rules(&b) {
                        prop_assert_eq!(a.rule(&row.0).map(|r| r.index()), Some(row.1), "rule({})", row.0);
                    }
                    let past_the_end = format!("rule-{}", b.len() + 1);
                    prop_assert_eq!(a.rule(&past_the_end).map(|r| r.index()), b.rule(&past_the_end).map(|r| r.index()));
                    for (identity, resource) in &requests {
                        let decision = b.authorize(identity, resource);
                        prop_assert_eq!(&a.authorize(identity, resource), &decision);
                        prop_assert_eq!(a.is_allowed(identity, resource), b.is_allowed(identity, resource));
                        // The per-identity path and explanations read the layers too.
                        let prepared = a.for_identity(identity);
                        prop_assert_eq!(&prepared.authorize(resource), &decision);
                        prop_assert_eq!(prepared.is_allowed(resource), decision.is_allowed());
                        let explained = a.explain(identity, resource);
                        prop_assert_eq!(explained.decision(), &decision);
                        let applying = |e: &tenure::explain::Explanation| -> Vec<String> {
                            e.rules().iter().filter(|r| r.applies()).map(|r| r.id.clone()).collect()
                        };
                        prop_assert_eq!(applying(&explained), applying(&b.explain(identity, resource)));
                    }
                    policy = a;
                    sources = next;
                }
                (a, b) => prop_assert!(false, "incremental {:?} but full {:?} after {:?}", a.map(|p| p.len()), b.map(|p| p.len()), edit),
            }
        }
    }
}

/// The engine serves an incremental edit as the next version, and keeps serving the old
/// policy when the edit does not compile.
#[test]
fn engine_reloads_one_source() -> Result<(), tenure::Error> {
    let engine = tenure::Engine::from_sources([
        (
            "roles",
            "@id(\"dba\") role = DBA grants type = postgres;\n* grants type = wiki;",
        ),
        ("leavers", "status != active denies *;"),
    ])?;
    let dba = Identity::new().with("role", "DBA").with("status", "active");
    let mysql = Resource::new().with("type", "mysql");
    assert!(!engine.is_allowed(&dba, &mysql));
    assert_eq!(
        engine.reload_source(
            "roles",
            "@id(\"dba\") role = DBA grants type in [postgres, mysql];"
        )?,
        2
    );
    assert!(engine.is_allowed(&dba, &mysql));
    // The leavers rule moved from rule-3 to rule-2: the wiki rule is gone.
    assert_eq!(
        engine
            .current()
            .policy()
            .rules()
            .map(|r| r.id().to_string())
            .collect::<Vec<_>>(),
        ["dba", "rule-2"]
    );
    let err = engine
        .reload_source("roles", "role = DBA grants")
        .expect_err("does not parse");
    assert!(err.to_string().contains("roles"), "{err}");
    assert_eq!(engine.version(), 2);
    assert_eq!(engine.remove_source("leavers")?, 3);
    assert!(engine.is_allowed(&Identity::new().with("role", "DBA"), &mysql));
    Ok(())
}

/// A reload of the whole source list in which some texts changed recompiles only those,
/// with the result, and on error the message, of a full compile.
#[test]
fn engine_reload_of_the_same_names_equals_a_full_compile() -> Result<(), tenure::Error> {
    let sources = |roles: &str, leavers: &str| {
        vec![
            ("roles".to_string(), roles.to_string()),
            ("wiki".to_string(), "* grants type = wiki;".to_string()),
            ("leavers".to_string(), leavers.to_string()),
        ]
    };
    let first = sources(
        "role = DBA grants type = postgres;",
        "status != active denies *;",
    );
    let engine = tenure::Engine::from_sources(first.clone())?;
    // One text changed, one rule added: later positional ids move.
    let second = sources(
        "role = DBA grants type = postgres;\nrole = DBA grants type = mysql;",
        "status != active denies *;",
    );
    assert_eq!(engine.reload(second.clone())?, 2);
    let full = Policy::compile_sources(second.clone())?;
    let ids = |p: &Policy| {
        p.rules()
            .map(|r| (r.id().to_string(), r.source_name().to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(engine.current().policy()), ids(&full));
    let dba = Identity::new().with("role", "DBA").with("status", "active");
    let mysql = Resource::new().with("type", "mysql");
    assert_eq!(engine.authorize(&dba, &mysql).reasons().len(), 1);
    assert_eq!(
        engine.current().policy().authorize(&dba, &mysql),
        full.authorize(&dba, &mysql)
    );
    // Two broken sources: the error names both, as a full compile's does.
    let broken = sources("role = DBA grants", "status != denies *;");
    let err = engine.reload(broken.clone()).expect_err("does not compile");
    let full_err = Policy::compile_sources(broken).expect_err("does not compile");
    assert_eq!(err.to_string(), full_err.to_string());
    assert_eq!(engine.version(), 2);
    Ok(())
}
