//! The PostgreSQL backend against a real, throwaway server: the conformance suite,
//! schema versions, concurrent first opens and aborted transactions.
//!
//! One server for the whole test binary: a single test function starts it, runs
//! everything on databases of their own, and stops it when dropped (also on failure).

use std::panic::{catch_unwind, AssertUnwindSafe};

use postgres::{Client, NoTls};
use tenure_directory::store::{self, ScimKind, StoreError, SCHEMA_VERSION};

use super::conformance;
use super::support::postgres::{start, PgCluster};

type Check = fn(&PgCluster);

#[test]
fn postgres_backend() {
    let Some(cluster) = start() else { return };
    let checks: &[(&str, Check)] = &[
        ("conformance", |c| conformance::run(&|| c.fresh_database())),
        ("new_store", new_store),
        ("version_0_is_migrated", version_0_is_migrated),
        ("unversioned_is_refused", unversioned_is_refused),
        ("newer_is_refused", newer_is_refused),
        ("concurrent_first_open", concurrent_first_open),
        ("unreadable_rows", unreadable_rows),
        (
            "aborted_transaction_cannot_commit",
            aborted_transaction_cannot_commit,
        ),
        ("unreachable_server", unreachable_server),
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

fn client(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap()
}

fn new_store(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    let store = store::open(&url).unwrap();
    assert!(
        store
            .describe()
            .starts_with("postgres store at postgresql:///"),
        "{}",
        store.describe()
    );
    let version: i64 = client(&url)
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
}

fn version_0_is_migrated(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    client(&url)
        .batch_execute(
            "CREATE TABLE schema_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);
             INSERT INTO schema_version VALUES (1, 0);
             CREATE TABLE unrelated (x TEXT);",
        )
        .unwrap();
    let mut store = store::open(&url).unwrap();
    let mut tx = store.begin().unwrap();
    tx.meta_put("k", "v").unwrap();
    tx.commit().unwrap();
    let version: i64 = client(&url)
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
}

fn unversioned_is_refused(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    client(&url)
        .batch_execute("CREATE TABLE identities (id TEXT)")
        .unwrap();
    let error = store::open(&url).err().unwrap();
    assert!(matches!(error, StoreError::Unversioned { .. }), "{error:?}");
    assert!(error.to_string().contains("identities"), "{error}");
}

fn newer_is_refused(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    drop(store::open(&url).unwrap());
    client(&url)
        .batch_execute("UPDATE schema_version SET version = 42")
        .unwrap();
    let error = store::open(&url).err().unwrap();
    assert!(
        matches!(error, StoreError::NewerSchema { found: 42, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("created by a newer tenure"),
        "{error}"
    );
}

fn concurrent_first_open(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || store::open(&url).map(drop))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
}

fn unreadable_rows(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    let mut store = store::open(&url).unwrap();
    client(&url)
        .batch_execute(
            r#"INSERT INTO identities VALUES ('mallory', '{"id": "mallory", "id": "again"}');
               INSERT INTO scim_records VALUES ('Group', 'g1', '{not json', 1, 0, 0);"#,
        )
        .unwrap();
    let mut tx = store.begin().unwrap();
    let error = tx.identity("mallory").unwrap_err();
    assert_eq!(error.code(), "tenure::store::corrupt_row");
    assert!(
        error
            .to_string()
            .contains("`mallory` from table `identities`"),
        "{error}"
    );
    let error = tx.scim_list(ScimKind::Group).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`Group/g1` from table `scim_records`"),
        "{error}"
    );
    // A row that does not decode is not a database error: the transaction goes on.
    tx.meta_put("k", "v").unwrap();
    tx.commit().unwrap();
}

fn aborted_transaction_cannot_commit(cluster: &PgCluster) {
    let url = cluster.fresh_database();
    let mut store = store::open(&url).unwrap();
    let mut tx = store.begin().unwrap();
    tx.meta_put("before", "x").unwrap();
    // PostgreSQL refuses NUL in text: a database error, which aborts the transaction.
    let error = tx
        .put_identity("nul\0id", &tenure::Identity::new())
        .unwrap_err();
    assert_eq!(error.code(), "tenure::store::backend");
    assert!(tx.meta_get("before").is_err(), "the transaction is aborted");
    let error = tx.commit().unwrap_err();
    assert!(error.to_string().contains("cannot commit"), "{error}");
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.meta_get("before").unwrap(), None);
}

fn unreachable_server(cluster: &PgCluster) {
    let url = format!(
        "postgresql://postgres:secret@/nowhere?host={}/missing&connect_timeout=2",
        cluster.socket_dir().display()
    );
    let error = store::open(&url).err().unwrap();
    assert_eq!(error.code(), "tenure::store::open");
    assert!(!format!("{error:?}").contains("secret"), "{error:?}");
}
