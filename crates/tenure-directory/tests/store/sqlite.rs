//! The SQLite backend: the conformance suite, schema versions and unreadable rows.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;
use tenure_directory::store::{self, Address, ScimKind, StoreError, SCHEMA_VERSION};

use super::conformance;

#[test]
fn conformance() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    conformance::run(&|| {
        let n = n.fetch_add(1, Ordering::SeqCst);
        let path = dir.path().join(format!("store-{n}.db"));
        // Both spellings of an address.
        if n.is_multiple_of(2) {
            format!("sqlite:{}", path.display())
        } else {
            path.display().to_string()
        }
    });
}

fn version_of(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_store_is_at_the_current_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = Address::Sqlite(path.clone()).open().unwrap();
    assert_eq!(
        store.describe(),
        format!("sqlite store at {}", path.display())
    );
    drop(store);
    assert_eq!(version_of(&path), SCHEMA_VERSION);
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_version_0_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v0.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1, 0);
             CREATE TABLE unrelated (x TEXT);",
        )
        .unwrap();
    }
    let mut store = store::open(&format!("sqlite:{}", path.display())).unwrap();
    let mut tx = store.begin().unwrap();
    tx.meta_put("k", "v").unwrap();
    assert_eq!(tx.head().unwrap(), 0);
    tx.commit().unwrap();
    drop(store);
    assert_eq!(version_of(&path), SCHEMA_VERSION);
    // Opening again migrates nothing and keeps the data.
    let mut store = store::open(&path.display().to_string()).unwrap();
    assert_eq!(
        store.begin().unwrap().meta_get("k").unwrap().as_deref(),
        Some("v")
    );
}

#[test]
fn a_database_with_other_tables_gets_tenure_tables_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE unrelated (x TEXT); INSERT INTO unrelated VALUES ('kept');")
        .unwrap();
    drop(store::open(&path.display().to_string()).unwrap());
    let conn = Connection::open(&path).unwrap();
    let kept: String = conn
        .query_row("SELECT x FROM unrelated", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "kept");
}

#[test]
fn tenure_tables_without_a_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unversioned.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE journal (seq INTEGER PRIMARY KEY); CREATE TABLE meta (key TEXT);",
        )
        .unwrap();
    let error = store::open(&path.display().to_string()).err().unwrap();
    assert!(matches!(error, StoreError::Unversioned { .. }), "{error:?}");
    assert_eq!(error.code(), "tenure::store::unversioned");
    assert!(error.to_string().contains("journal, meta"), "{error}");

    // An emptied version table is no better.
    let path = dir.path().join("no-row.db");
    drop(store::open(&path.display().to_string()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch("DELETE FROM schema_version")
        .unwrap();
    let error = store::open(&path.display().to_string()).err().unwrap();
    assert_eq!(error.code(), "tenure::store::unversioned");
}

#[test]
fn a_store_from_a_newer_tenure_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    drop(store::open(&path.display().to_string()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE schema_version SET version = 99")
        .unwrap();
    let error = store::open(&path.display().to_string()).err().unwrap();
    assert!(
        matches!(error, StoreError::NewerSchema { found: 99, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "tenure::store::newer_schema");
    assert!(
        error.to_string().contains("created by a newer tenure"),
        "{error}"
    );
    // Nothing was changed by the refusal.
    assert_eq!(version_of(&path), 99);
}

#[test]
fn a_missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/t.db");
    let error = store::open(&path.display().to_string()).err().unwrap();
    assert_eq!(error.code(), "tenure::store::open");
    assert!(error.to_string().contains("no/such/dir"), "{error}");
}

#[test]
fn unreadable_rows_are_errors_naming_table_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let mut store = store::open(&path.display().to_string()).unwrap();
    let mut tx = store.begin().unwrap();
    tx.append(&tenure_directory::store::JournalRecord::from_json_line(
        r#"{"seq":0,"at":"2025-01-01T00:00:00Z","source":"cli","event":"join","change":{},"gained":[],"lost":[]}"#,
    ).unwrap())
    .unwrap();
    tx.commit().unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            r#"INSERT INTO identities VALUES ('mallory', '{"id": "mallory", "id": "again"}');
               INSERT INTO resources VALUES ('db-x', '{"nested": {"no": 1}}');
               INSERT INTO scim_records VALUES ('User', 'u1', '{not json', 1, 0, 0);
               UPDATE journal SET change = '[1,' WHERE seq = 1;"#,
        )
        .unwrap();
    }
    let error = store.journal_since(0, 10).unwrap_err();
    assert_eq!(error.code(), "tenure::store::corrupt_row");
    assert!(
        error.to_string().contains("`1` from table `journal`"),
        "{error}"
    );

    let mut tx = store.begin().unwrap();
    for error in [
        tx.identity("mallory").unwrap_err(),
        tx.identities().unwrap_err(),
    ] {
        assert_eq!(error.code(), "tenure::store::corrupt_row");
        assert!(
            error
                .to_string()
                .contains("`mallory` from table `identities`"),
            "{error}"
        );
    }
    let error = tx.resource("db-x").unwrap_err();
    assert!(
        error.to_string().contains("`db-x` from table `resources`"),
        "{error}"
    );
    let error = tx.scim_get(ScimKind::User, "u1").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`User/u1` from table `scim_records`"),
        "{error}"
    );
    // Other rows still read.
    assert_eq!(tx.identity("nobody").unwrap(), None);
}

#[test]
fn concurrent_first_opens_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("sqlite:{}", dir.path().join("race.db").display());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let address = address.clone();
            std::thread::spawn(move || {
                let mut store = store::open(&address)?;
                let mut tx = store.begin()?;
                let seq = tx.append(&tenure_directory::store::JournalRecord::from_json_line(
                    r#"{"seq":0,"at":"2025-01-01T00:00:00Z","source":"cli","event":"join","change":{},"gained":[],"lost":[]}"#,
                )?)?;
                tx.commit()?;
                Ok::<u64, StoreError>(seq)
            })
        })
        .collect();
    let mut seqs: Vec<u64> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [1, 2, 3, 4]);
}
