//! The embedding surface: `Engine` hot swaps under concurrent decisions, the directory at
//! the proxy fed by the journal, identities from token claims.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tenure::claims::ClaimsMapping;
use tenure::engine::{DirectorySnapshot, Subject};
use tenure::lifecycle::Event;
use tenure::{Code, DecidedBy, Decision, Engine, Identity, Policy, Resource};

const POLICY_A: &str = r#"
    @id("dba") role = DBA grants type in [postgres, mysql];
    @id("prod-freeze") * denies tag:env = prod and type = mysql;
"#;
const POLICY_B: &str = r#"
    @id("dba-pg") role = DBA grants type = postgres;
    @id("sre") role = SRE grants tag:env in [prod, staging];
    @id("leavers") status != active denies *;
"#;

fn requests() -> Vec<(Identity, Resource)> {
    let identities = [
        Identity::new().with("role", "DBA").with("status", "active"),
        Identity::new().with("role", "DBA"),
        Identity::new().with("role", "SRE").with("status", "active"),
        Identity::new()
            .with("role", "SRE")
            .with("status", "inactive"),
    ];
    let resources = [
        Resource::new()
            .with("type", "postgres")
            .with_tag("env", "prod"),
        Resource::new()
            .with("type", "mysql")
            .with_tag("env", "prod"),
        Resource::new()
            .with("type", "mysql")
            .with_tag("env", "staging"),
        Resource::new().with("type", "ssh"),
    ];
    let mut out = Vec::new();
    for i in &identities {
        for r in &resources {
            out.push((i.clone(), r.clone()));
        }
    }
    out
}

/// The parts of a decision a policy determines (not the engine version).
type Summary = (bool, DecidedBy, Vec<String>);

fn summary(d: &Decision) -> Summary {
    (
        d.is_allowed(),
        d.decided_by(),
        d.reason_ids().map(str::to_string).collect(),
    )
}

#[test]
fn every_decision_is_the_decision_of_the_version_it_names() {
    let a = Policy::compile(POLICY_A).unwrap();
    let b = Policy::compile(POLICY_B).unwrap();
    let requests = Arc::new(requests());
    // Version v serves A when v is odd, B when even; a failed reload changes nothing.
    let expected: Arc<Vec<[Summary; 2]>> = Arc::new(
        requests
            .iter()
            .map(|(i, r)| [summary(&a.authorize(i, r)), summary(&b.authorize(i, r))])
            .collect(),
    );
    let engine = Arc::new(Engine::new(a));
    let done = Arc::new(AtomicBool::new(false));
    let deciders: Vec<_> = (0..3)
        .map(|t| {
            let (engine, requests, expected, done) = (
                Arc::clone(&engine),
                Arc::clone(&requests),
                Arc::clone(&expected),
                Arc::clone(&done),
            );
            std::thread::spawn(move || {
                let mut checked = 0u64;
                let mut last_version = 0;
                let mut n = t;
                while !done.load(Ordering::Relaxed) || checked < 1000 {
                    let k = n % requests.len();
                    n += 1;
                    let (identity, resource) = &requests[k];
                    let decision = engine.authorize(identity, resource);
                    let version = decision
                        .policy_version()
                        .expect("engine decisions name a version");
                    assert!(
                        version >= last_version,
                        "versions went back: {version} after {last_version}"
                    );
                    last_version = version;
                    let which = usize::from(version % 2 == 0);
                    assert_eq!(
                        summary(&decision),
                        expected[k][which],
                        "request {k} under version {version}"
                    );
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    let reloads = 3000;
    for n in 0..reloads {
        if n == reloads / 2 {
            let before = engine.version();
            let err = engine
                .reload([("broken.tenure", "role = DBA grants type = ;")])
                .unwrap_err();
            assert_eq!(err.first().code(), Code::Unexpected);
            assert_eq!(
                engine.version(),
                before,
                "a failed reload keeps the version"
            );
        }
        let text = if n % 2 == 0 { POLICY_B } else { POLICY_A };
        let version = engine.reload([("p.tenure", text)]).unwrap();
        assert_eq!(version, n + 2);
    }
    done.store(true, Ordering::Relaxed);
    let checked: u64 = deciders.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(checked >= 3000);
    assert_eq!(engine.version(), reloads + 1);
}

#[test]
fn is_allowed_and_the_snapshot_agree_with_authorize() {
    let engine = Engine::from_sources([("a.tenure", POLICY_A)]).unwrap();
    let snapshot = engine.current();
    engine.reload([("b.tenure", POLICY_B)]).unwrap();
    assert_eq!(snapshot.version(), 1, "a snapshot held keeps its policy");
    for (i, r) in requests() {
        assert_eq!(
            engine.is_allowed(&i, &r),
            engine.authorize(&i, &r).is_allowed()
        );
        assert_eq!(
            summary(&snapshot.authorize(&i, &r)),
            summary(&Policy::compile(POLICY_A).unwrap().authorize(&i, &r))
        );
    }
}

#[test]
fn reload_files_reads_every_file_and_keeps_the_policy_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.tenure");
    let extra = dir.path().join("extra.tenure");
    std::fs::write(&base, "role = DBA grants type = postgres;").unwrap();
    std::fs::write(&extra, "role = SRE grants *;").unwrap();
    let engine = Engine::from_files(&[&base, &extra]).unwrap();
    let sre = Identity::new().with("role", "SRE");
    let ssh = Resource::new().with("type", "ssh");
    assert!(engine.is_allowed(&sre, &ssh));
    std::fs::write(&extra, "role = SRE grants").unwrap();
    let err = engine.reload_files(&[&base, &extra]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("extra.tenure:1:"), "{text}");
    assert_eq!(engine.version(), 1);
    assert!(engine.is_allowed(&sre, &ssh));
}

fn journal_line(seq: u64, event: &Event) -> String {
    serde_json::json!({
        "seq": seq, "at": "2026-01-01T00:00:00Z", "source": "test", "event": event.name(),
        "identity": null, "resource": null, "change": event.to_json(),
        "gained": [], "lost": [], "policy": null, "mapping_hash": null,
    })
    .to_string()
}

#[test]
fn the_journal_keeps_the_directory_current_whole_or_not_at_all() {
    let engine = Engine::new(Policy::compile(POLICY_B).unwrap());
    let db = Resource::new().with("type", "postgres");
    let claims = Identity::new()
        .with("external_id", "00u1")
        .with("role", "DBA");
    // No directory yet: every subject is unknown, denied.
    let decision = engine.authorize_subject(Subject::Claims(&claims), &db);
    assert_eq!(decision.decided_by(), DecidedBy::UnknownSubject);
    assert_eq!(decision.policy_version(), Some(1));

    let join = Event::Join {
        identity: Identity::new()
            .with("id", "u1")
            .with("external_id", "00u1")
            .with("email", "Pam@Example.com")
            .with("role", "DBA")
            .with("status", "active"),
    };
    let applied = engine.apply_journal(&journal_line(1, &join)).unwrap();
    assert_eq!((applied.applied, applied.seq), (1, 1));
    assert!(engine
        .authorize_subject(Subject::Claims(&claims), &db)
        .is_allowed());
    assert!(engine
        .authorize_subject(Subject::Email("pam@example.COM"), &db)
        .is_allowed());
    assert!(engine
        .authorize_subject(Subject::Id("u1"), &db)
        .is_allowed());

    // Overlapping polls pass over what was applied; a gap or a bad record changes nothing.
    let leave = Event::Leave { id: "u1".into() };
    let gap = engine.apply_journal(&journal_line(3, &leave)).unwrap_err();
    assert_eq!(gap.code(), "tenure::engine::journal_gap");
    let bad_move = Event::Move {
        id: "nobody".into(),
        changes: vec![],
    };
    let text = format!(
        "{}\n{}\n{}",
        journal_line(1, &join),
        journal_line(2, &leave),
        journal_line(3, &bad_move)
    );
    let err = engine.apply_journal(&text).unwrap_err();
    assert_eq!(err.code(), "tenure::engine::journal_record");
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!(engine.journal_seq(), Some(1));
    assert!(engine
        .authorize_subject(Subject::Id("u1"), &db)
        .is_allowed());

    // The directory wins over the claims, `status` included.
    let text = format!("{}\n{}", journal_line(1, &join), journal_line(2, &leave));
    let applied = engine.apply_journal(&text).unwrap();
    assert_eq!((applied.applied, applied.skipped, applied.seq), (1, 1, 2));
    let stale = claims.clone().with("status", "active");
    let decision = engine.authorize_subject(Subject::Claims(&stale), &db);
    assert!(!decision.is_allowed());
    assert_eq!(decision.reason_ids().collect::<Vec<_>>(), ["leavers"]);
}

#[test]
fn ambiguous_lookups_are_unknown_subjects() {
    let engine = Engine::new(Policy::compile("* grants *;").unwrap());
    engine.set_directory(
        DirectorySnapshot::from_json_lines(
            "{\"id\": \"a\", \"email\": \"x@example.com\"}\n{\"id\": \"b\", \"email\": \"X@example.com\"}\n",
            0,
        )
        .unwrap(),
    );
    let r = Resource::new();
    assert!(engine.authorize_subject(Subject::Id("a"), &r).is_allowed());
    assert_eq!(
        engine
            .authorize_subject(Subject::Email("x@example.com"), &r)
            .decided_by(),
        DecidedBy::UnknownSubject
    );
}

/// A proxy polling `tenure serve`'s journal: a leaver scheduled in the directory service
/// turns the proxy's allow into a deny once it is due and the proxy has polled.
#[test]
fn a_scheduled_leaver_in_the_journal_turns_an_allow_into_a_deny() {
    use tenure_directory::Lifecycle;

    let dir = tempfile::tempdir().unwrap();
    let mut service =
        Lifecycle::open(&format!("sqlite:{}", dir.path().join("t.db").display())).unwrap();
    let now = Arc::new(Mutex::new(
        "2026-03-01T09:00:00Z".parse::<jiff::Timestamp>().unwrap(),
    ));
    let clock = Arc::clone(&now);
    service.set_clock(move || *clock.lock().unwrap());
    service
        .apply(
            Event::Join {
                identity: Identity::new()
                    .with("id", "u1")
                    .with("external_id", "00u1")
                    .with("role", "DBA")
                    .with("status", "active"),
            },
            "test",
        )
        .unwrap();
    let last_day: jiff::Timestamp = "2026-03-31T17:00:00Z".parse().unwrap();
    service
        .schedule(last_day, Event::Leave { id: "u1".into() }, "test")
        .unwrap();

    let proxy = Engine::new(Policy::compile(POLICY_B).unwrap());
    let poll = |service: &mut Lifecycle, proxy: &Engine| {
        let since = proxy.journal_seq().unwrap_or(0);
        let lines: Vec<String> = service
            .journal(since)
            .unwrap()
            .iter()
            .map(|r| r.to_json_line())
            .collect();
        proxy.apply_journal(&lines.join("\n")).unwrap()
    };
    poll(&mut service, &proxy);
    // The token was issued while she worked here and is still valid after she left.
    let token = Identity::from_claims(
        r#"{"sub": "00u1", "email": "pam@example.com", "exp": 1775000000}"#,
        &ClaimsMapping::default(),
    )
    .unwrap();
    let db = Resource::new().with("id", "db-1").with("type", "postgres");
    assert!(proxy
        .authorize_subject(Subject::Claims(&token), &db)
        .is_allowed());

    *now.lock().unwrap() = "2026-04-01T00:00:00Z".parse().unwrap();
    let due = service.advance(service.now()).unwrap();
    assert_eq!(due.len(), 1);
    // Until the proxy polls it still allows; after, it denies.
    assert!(proxy
        .authorize_subject(Subject::Claims(&token), &db)
        .is_allowed());
    let applied = poll(&mut service, &proxy);
    assert_eq!(applied.applied, 1);
    let decision = proxy.authorize_subject(Subject::Claims(&token), &db);
    assert!(!decision.is_allowed());
    assert_eq!(decision.reason_ids().collect::<Vec<_>>(), ["leavers"]);
}

#[test]
fn claims_map_by_default_and_by_toml() {
    let claims = r#"{"sub": "00u1", "email": "pam@example.com", "preferred_username": "pam",
        "groups": ["okta-cloud", "everyone"], "department": "Cloud", "clearance": 3,
        "mfa": true, "app": {"meta": {"level": "L2"}}, "https://example.com/tenant": "acme",
        "iat": 1767225600, "amr": ["pwd", "otp"]}"#;
    let default = Identity::from_claims(claims, &ClaimsMapping::default()).unwrap();
    assert_eq!(default.get("external_id"), Some(&"00u1".into()));
    assert_eq!(default.get("username"), Some(&"pam".into()));
    assert_eq!(default.get("department"), Some(&"Cloud".into()));
    assert_eq!(
        default.get("groups"),
        Some(&tenure::Value::set(["everyone", "okta-cloud"]))
    );
    assert_eq!(default.get("iat"), None, "unmapped claims are ignored");

    let mapping = ClaimsMapping::from_toml(
        r#"
        [attributes]
        clearance = "clearance"
        mfa = "mfa"
        level = "app.meta.level"
        tenant = "https://example.com/tenant"
        department = ""
        [values.level]
        L2 = "senior"
        "#,
    )
    .unwrap();
    let mapped = Identity::from_claims(claims, &mapping).unwrap();
    assert_eq!(mapped.get("clearance"), Some(&tenure::Value::Int(3)));
    assert_eq!(mapped.get("mfa"), Some(&tenure::Value::Bool(true)));
    assert_eq!(mapped.get("level"), Some(&"senior".into()));
    assert_eq!(mapped.get("tenant"), Some(&"acme".into()));
    assert_eq!(mapped.get("department"), None);

    // A mapped claim of a type an attribute cannot hold is an error naming it.
    let err =
        Identity::from_claims(r#"{"groups": ["a", 3]}"#, &ClaimsMapping::default()).unwrap_err();
    assert_eq!(err.path(), "claims.groups[1]");
    let err = Identity::from_claims(r#"{"sub": "a", "sub": "b"}"#, &ClaimsMapping::default())
        .unwrap_err();
    assert_eq!(err.code(), Code::DuplicateKey);
    let err = ClaimsMapping::from_toml("[groups]\nattribute = \"g\"\n").unwrap_err();
    assert_eq!(err.code(), Code::ClaimsMapping);
    assert!(err.path().starts_with("line 1"), "{err}");
    let err = ClaimsMapping::from_toml("[attributes]\nrole = \"a..b\"\n").unwrap_err();
    assert_eq!(err.path(), "line 2, column 8");
}

#[cfg(feature = "watch")]
#[test]
fn watch_reloads_on_save_by_rename_and_reports_a_bad_edit() {
    use std::sync::mpsc;
    use std::time::Duration;
    use tenure::engine::WatchOptions;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.tenure");
    std::fs::write(&path, "role = DBA grants type = postgres;").unwrap();
    let engine = Arc::new(Engine::from_files(&[&path]).unwrap());
    let (tx, rx) = mpsc::channel();
    let _watch = engine
        .watch(
            &[&path],
            WatchOptions::debounce(Duration::from_millis(50)),
            move |r| {
                let _ = tx.send(r.map_err(|e| e.to_string()));
            },
        )
        .unwrap();
    let save = |text: &str| {
        // As editors do: write a new file, rename it over the old one.
        let tmp = dir.path().join(".policy.tenure.swp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    };
    let dba = Identity::new().with("role", "DBA");
    let mysql = Resource::new().with("type", "mysql");
    save("role = DBA grants type = mysql;");
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Ok(2));
    assert!(engine.is_allowed(&dba, &mysql));
    save("role = DBA grants type = ");
    let err = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap_err();
    assert!(err.contains("policy.tenure:1:"), "{err}");
    assert_eq!(engine.version(), 2);
    assert!(engine.is_allowed(&dba, &mysql));
    save("role = DBA grants *;");
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Ok(3));
}
