//! The embedded backend: one SQLite file per store (rusqlite, SQLite compiled in).
//!
//! Each handle is one connection in WAL mode with `synchronous=FULL` (durable across
//! power loss), `foreign_keys=ON` and a busy timeout; each [`Transaction`] is one
//! `BEGIN IMMEDIATE`, so writers queue on the database's write lock. Multi-statement
//! writes (append, schedule, policy registration) run inside a savepoint, so a failure
//! changes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::codec::{self, JournalRow, ScheduleRow, ScimRow};
use super::schema::{self, Migration, SchemaAccess};
use super::{JournalRecord, ScheduledRecord, ScimKind, ScimRecord, Store, StoreError, Transaction};

const BACKEND: &str = "sqlite";

/// How long a writer waits for another's transaction before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn failed(operation: impl std::fmt::Display) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::backend(BACKEND, operation, e)
}

/// A store in one SQLite file.
pub(crate) struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, schema::MIGRATIONS)
    }

    /// As [`SqliteStore::open`], with a given list of migrations (tests of the runner).
    pub(crate) fn open_with(
        path: &Path,
        migrations: &[Migration],
    ) -> Result<SqliteStore, StoreError> {
        let address = format!("sqlite:{}", path.display());
        let open_error = |source: rusqlite::Error| StoreError::Open {
            address: address.clone(),
            source: source.into(),
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let mode = wal_mode(&conn).map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") && path != Path::new(":memory:") {
            return Err(StoreError::Open {
                address,
                source: format!("journal_mode is `{mode}`, not `wal`").into(),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;

        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed("begin the migration transaction"))?;
        schema::migrate(&mut Schema(&tx), &address, migrations)?;
        tx.commit().map_err(failed("commit the migration"))?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
        })
    }
}

/// Switches `conn` to WAL mode and returns the journal mode now in force.
///
/// SQLite answers `SQLITE_BUSY` to the switch without consulting the busy handler when
/// another connection is creating the same new file at that moment, so this retries
/// for up to [`BUSY_TIMEOUT`] itself.
fn wal_mode(conn: &Connection) -> Result<String, rusqlite::Error> {
    let start = std::time::Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// The migration runner's view of a SQLite transaction.
struct Schema<'a>(&'a rusqlite::Transaction<'a>);

impl SchemaAccess for Schema<'_> {
    fn tables(&mut self, names: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        for name in names {
            let exists: bool = self
                .0
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
                    [name],
                    |row| row.get(0),
                )
                .map_err(failed("list tables"))?;
            if exists {
                found.push((*name).to_string());
            }
        }
        Ok(found)
    }

    fn read_version(&mut self) -> Result<Option<i64>, StoreError> {
        self.0
            .query_row(
                "SELECT version FROM schema_version WHERE id = 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(failed("read the schema version"))
    }

    fn create_version_table(&mut self) -> Result<(), StoreError> {
        self.0
            .execute_batch(
                "CREATE TABLE schema_version (
                     id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                     version INTEGER NOT NULL
                 ) STRICT;
                 INSERT INTO schema_version (id, version) VALUES (1, 0);",
            )
            .map_err(failed("create the schema version table"))
    }

    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError> {
        let operation = format!("migrate to schema version {}", migration.version);
        self.0
            .execute_batch(migration.sqlite)
            .map_err(failed(&operation))?;
        self.0
            .execute(
                "UPDATE schema_version SET version = ?1 WHERE id = 1",
                [migration.version],
            )
            .map_err(failed(&operation))?;
        Ok(())
    }
}

impl Store for SqliteStore {
    fn begin(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed("begin a write transaction"))?;
        Ok(Box::new(SqliteTransaction { tx }))
    }

    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(failed("begin a read transaction"))?;
        Ok(Box::new(SqliteTransaction { tx }))
    }

    fn journal_since(
        &mut self,
        since: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        // Past i64::MAX there is nothing: no sequence number can be stored there.
        let Ok(since) = i64::try_from(since) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read_journal(&self.conn, since, limit)
    }

    fn describe(&self) -> String {
        format!("sqlite store at {}", self.path.display())
    }
}

fn read_journal(
    conn: &Connection,
    since: i64,
    limit: i64,
) -> Result<Vec<JournalRecord>, StoreError> {
    let operation = "read the journal";
    let mut statement = conn
        .prepare_cached(
            "SELECT seq, at, source, event, identity, resource, change, gained, lost,
                    policy_version, policy_hash, mapping_hash
             FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(failed(operation))?;
    let rows = statement
        .query_map(params![since, limit], |row| {
            Ok(JournalRow {
                seq: row.get(0)?,
                at: row.get(1)?,
                source: row.get(2)?,
                event: row.get(3)?,
                identity: row.get(4)?,
                resource: row.get(5)?,
                change: row.get(6)?,
                gained: row.get(7)?,
                lost: row.get(8)?,
                policy_version: row.get(9)?,
                policy_hash: row.get(10)?,
                mapping_hash: row.get(11)?,
            })
        })
        .map_err(failed(operation))?;
    let mut records = Vec::new();
    for row in rows {
        records.push(row.map_err(failed(operation))?.decode()?);
    }
    Ok(records)
}

/// One `BEGIN IMMEDIATE` transaction.
struct SqliteTransaction<'conn> {
    tx: rusqlite::Transaction<'conn>,
}

impl SqliteTransaction<'_> {
    fn body(&self, table: &'static str, id: &str) -> Result<Option<String>, StoreError> {
        self.tx
            .prepare_cached(&format!("SELECT body FROM {table} WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], |row| row.get(0)).optional())
            .map_err(failed(format_args!("read `{id}` from `{table}`")))
    }

    fn put_body(&self, table: &'static str, id: &str, body: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO {table} (id, body) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body"
            ))
            .and_then(|mut s| s.execute([id, body]))
            .map(drop)
            .map_err(failed(format_args!("write `{id}` to `{table}`")))
    }

    fn delete_row(&self, table: &'static str, id: &str) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))
            .and_then(|mut s| s.execute([id]))
            .map(|n| n > 0)
            .map_err(failed(format_args!("delete `{id}` from `{table}`")))
    }

    fn bodies(&self, table: &'static str) -> Result<Vec<(String, String)>, StoreError> {
        let operation = format!("list `{table}`");
        let mut statement = self
            .tx
            .prepare_cached(&format!("SELECT id, body FROM {table} ORDER BY id"))
            .map_err(failed(&operation))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(failed(&operation))?;
        rows.collect::<Result<_, _>>().map_err(failed(&operation))
    }

    fn scim_rows(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<ScimRecord>, StoreError> {
        let operation = "read SCIM records";
        let mut statement = self.tx.prepare_cached(sql).map_err(failed(operation))?;
        let rows = statement
            .query_map(params, |row| {
                Ok(ScimRow {
                    kind: row.get(0)?,
                    id: row.get(1)?,
                    body: row.get(2)?,
                    version: row.get(3)?,
                    created: row.get(4)?,
                    modified: row.get(5)?,
                })
            })
            .map_err(failed(operation))?;
        let mut records = Vec::new();
        for row in rows {
            records.push(row.map_err(failed(operation))?.decode()?);
        }
        Ok(records)
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn identity(&mut self, id: &str) -> Result<Option<tenure::Identity>, StoreError> {
        self.body(codec::IDENTITIES, id)?
            .map(|text| codec::identity(id, &text))
            .transpose()
    }

    fn put_identity(&mut self, id: &str, identity: &tenure::Identity) -> Result<(), StoreError> {
        self.put_body(codec::IDENTITIES, id, &identity.to_json().to_string())
    }

    fn delete_identity(&mut self, id: &str) -> Result<bool, StoreError> {
        self.delete_row(codec::IDENTITIES, id)
    }

    fn identities(&mut self) -> Result<Vec<(String, tenure::Identity)>, StoreError> {
        self.bodies(codec::IDENTITIES)?
            .into_iter()
            .map(|(id, text)| codec::identity(&id, &text).map(|identity| (id, identity)))
            .collect()
    }

    fn resource(&mut self, id: &str) -> Result<Option<tenure::Resource>, StoreError> {
        self.body(codec::RESOURCES, id)?
            .map(|text| codec::resource(id, &text))
            .transpose()
    }

    fn put_resource(&mut self, id: &str, resource: &tenure::Resource) -> Result<(), StoreError> {
        self.put_body(codec::RESOURCES, id, &resource.to_json().to_string())
    }

    fn delete_resource(&mut self, id: &str) -> Result<bool, StoreError> {
        self.delete_row(codec::RESOURCES, id)
    }

    fn resources(&mut self) -> Result<Vec<(String, tenure::Resource)>, StoreError> {
        self.bodies(codec::RESOURCES)?
            .into_iter()
            .map(|(id, text)| codec::resource(&id, &text).map(|resource| (id, resource)))
            .collect()
    }

    fn scim_get(&mut self, kind: ScimKind, id: &str) -> Result<Option<ScimRecord>, StoreError> {
        let mut records = self.scim_rows(
            "SELECT kind, id, body, version, created, modified FROM scim_records
             WHERE kind = ?1 AND id = ?2",
            [codec::kind(kind), id],
        )?;
        Ok(records.pop())
    }

    fn scim_put(&mut self, record: &ScimRecord) -> Result<(), StoreError> {
        let row = ScimRow::encode(record)?;
        self.tx
            .prepare_cached(
                "INSERT INTO scim_records (kind, id, body, version, created, modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body,
                     version = excluded.version, created = excluded.created,
                     modified = excluded.modified",
            )
            .and_then(|mut s| {
                s.execute(params![
                    row.kind,
                    row.id,
                    row.body,
                    row.version,
                    row.created,
                    row.modified
                ])
            })
            .map(drop)
            .map_err(failed(format_args!(
                "write SCIM {} `{}`",
                record.kind, record.id
            )))
    }

    fn scim_delete(&mut self, kind: ScimKind, id: &str) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached("DELETE FROM scim_records WHERE kind = ?1 AND id = ?2")
            .and_then(|mut s| s.execute([codec::kind(kind), id]))
            .map(|n| n > 0)
            .map_err(failed(format_args!("delete SCIM {kind} `{id}`")))
    }

    fn scim_list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, StoreError> {
        self.scim_rows(
            "SELECT kind, id, body, version, created, modified FROM scim_records
             WHERE kind = ?1 ORDER BY id",
            [codec::kind(kind)],
        )
    }

    fn append(&mut self, record: &JournalRecord) -> Result<u64, StoreError> {
        let operation = "append a journal record";
        // Checked before anything changes: a refused record consumes no number.
        let row = JournalRow::encode(record, 0)?;
        let savepoint = self.tx.savepoint().map_err(failed(operation))?;
        let seq: i64 = savepoint
            .query_row(
                "UPDATE journal_head SET seq = seq + 1 WHERE id = 1 RETURNING seq",
                [],
                |r| r.get(0),
            )
            .map_err(failed(operation))?;
        savepoint
            .prepare_cached(
                "INSERT INTO journal (seq, at, source, event, identity, resource, change,
                     gained, lost, policy_version, policy_hash, mapping_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    seq,
                    row.at,
                    row.source,
                    row.event,
                    row.identity,
                    row.resource,
                    row.change,
                    row.gained,
                    row.lost,
                    row.policy_version,
                    row.policy_hash,
                    row.mapping_hash
                ])
            })
            .map_err(failed(operation))?;
        savepoint.commit().map_err(failed(operation))?;
        codec::unsigned(codec::JOURNAL, "journal_head", seq)
    }

    fn head(&mut self) -> Result<u64, StoreError> {
        let seq: i64 = self
            .tx
            .query_row("SELECT seq FROM journal_head WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(failed("read the journal head"))?;
        codec::unsigned(codec::JOURNAL, "journal_head", seq)
    }

    fn schedule_add(&mut self, record: &ScheduledRecord) -> Result<u64, StoreError> {
        let operation = "schedule an event";
        let savepoint = self.tx.savepoint().map_err(failed(operation))?;
        let id: i64 = savepoint
            .query_row(
                "UPDATE schedule_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id",
                [],
                |r| r.get(0),
            )
            .map_err(failed(operation))?;
        let row = ScheduleRow::encode(record, id);
        savepoint
            .prepare_cached(
                "INSERT INTO schedule (id, at, source, event, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![row.id, row.at, row.source, row.event, row.created])
            })
            .map_err(failed(operation))?;
        savepoint.commit().map_err(failed(operation))?;
        codec::unsigned(codec::SCHEDULE, "schedule_head", id)
    }

    fn schedule_remove(&mut self, id: u64) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.tx
            .prepare_cached("DELETE FROM schedule WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map(|n| n > 0)
            .map_err(failed(format_args!("remove scheduled event {id}")))
    }

    fn schedule_list(&mut self) -> Result<Vec<ScheduledRecord>, StoreError> {
        let operation = "list the schedule";
        let mut statement = self
            .tx
            .prepare_cached("SELECT id, at, source, event, created FROM schedule ORDER BY at, id")
            .map_err(failed(operation))?;
        let rows = statement
            .query_map([], |row| {
                Ok(ScheduleRow {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    source: row.get(2)?,
                    event: row.get(3)?,
                    created: row.get(4)?,
                })
            })
            .map_err(failed(operation))?;
        let mut records = Vec::new();
        for row in rows {
            records.push(row.map_err(failed(operation))?.decode()?);
        }
        Ok(records)
    }

    fn policy_version(&mut self, hash: &str) -> Result<u64, StoreError> {
        let operation = format!("register policy `{hash}`");
        let savepoint = self.tx.savepoint().map_err(failed(&operation))?;
        let known: Option<i64> = savepoint
            .query_row(
                "SELECT version FROM policies WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(failed(&operation))?;
        let version = match known {
            Some(version) => version,
            None => {
                let version: i64 = savepoint
                    .query_row(
                        "INSERT INTO policies (version, hash, registered)
                         SELECT COALESCE(MAX(version), 0) + 1, ?1, ?2 FROM policies
                         RETURNING version",
                        params![hash, codec::micros(jiff::Timestamp::now())],
                        |r| r.get(0),
                    )
                    .map_err(failed(&operation))?;
                savepoint.commit().map_err(failed(&operation))?;
                version
            }
        };
        codec::unsigned(codec::POLICIES, hash, version)
    }

    fn meta_get(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(failed(format_args!("read meta `{key}`")))
    }

    fn meta_put(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute([key, value]))
            .map(drop)
            .map_err(failed(format_args!("write meta `{key}`")))
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().map_err(failed("commit"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 1 as released, then a version 2 that this build does not have: the runner
    /// must apply exactly the missing steps, in order, atomically.
    fn with_v2(v2_sql: &'static str) -> Vec<Migration> {
        let mut migrations = schema::MIGRATIONS.to_vec();
        migrations.push(Migration {
            version: 2,
            sqlite: v2_sql,
            postgres: "",
        });
        migrations
    }

    fn version(path: &Path) -> i64 {
        Connection::open(path)
            .and_then(|c| c.query_row("SELECT version FROM schema_version", [], |r| r.get(0)))
            .unwrap()
    }

    #[test]
    fn an_older_store_gets_the_missing_steps_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = SqliteStore::open(&path).unwrap();
        let mut tx = store.begin().unwrap();
        tx.meta_put("k", "v").unwrap();
        tx.commit().unwrap();
        drop(store);
        assert_eq!(version(&path), 1);

        // Version 2 runs on the version 1 store (version 1's CREATE TABLEs would fail if
        // they ran again).
        let migrations = with_v2(
            "ALTER TABLE meta ADD COLUMN note TEXT;
             CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT;",
        );
        let mut store = SqliteStore::open_with(&path, &migrations).unwrap();
        assert_eq!(
            store.begin().unwrap().meta_get("k").unwrap().as_deref(),
            Some("v")
        );
        drop(store);
        assert_eq!(version(&path), 2);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("INSERT INTO extra VALUES (1); UPDATE meta SET note = 'n';")
            .unwrap();

        // Opening again with the same list changes nothing; this build (version 1 only)
        // refuses the store.
        SqliteStore::open_with(&path, &migrations).unwrap();
        let error = SqliteStore::open(&path).err().unwrap();
        assert!(
            matches!(
                error,
                StoreError::NewerSchema {
                    found: 2,
                    known: 1,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_new_store_runs_every_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let migrations = with_v2("CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT;");
        SqliteStore::open_with(&path, &migrations).unwrap();
        assert_eq!(version(&path), 2);
    }

    #[test]
    fn a_failing_step_leaves_the_store_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        let migrations = with_v2(
            "CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT;
             THIS IS NOT SQL;",
        );
        let error = SqliteStore::open_with(&path, &migrations).err().unwrap();
        assert_eq!(error.code(), "tenure::store::backend");
        assert!(
            error.to_string().contains("migrate to schema version 2"),
            "{error}"
        );
        assert_eq!(version(&path), 1);
        let conn = Connection::open(&path).unwrap();
        let extra: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'extra')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!extra, "the failed step's first statement was rolled back");
        // And the store still opens at version 1.
        SqliteStore::open(&path).unwrap();
    }

    #[test]
    fn every_table_of_a_new_store_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let mut statement = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        let mut tables: Vec<String> = statement
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        tables.retain(|t| t != schema::VERSION_TABLE);
        let mut known: Vec<&str> = schema::TABLES.to_vec();
        known.sort_unstable();
        assert_eq!(tables, known);
    }
}
