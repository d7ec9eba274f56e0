//! The shared backend: a PostgreSQL database, through the sync `postgres` client
//! without TLS (feature `postgres`).
//!
//! The schema and semantics are those of the SQLite backend. Writers serialise on the
//! one row of `journal_head`: every [`Transaction`] locks it first
//! (`SELECT … FOR UPDATE`), and [`Transaction::append`] takes the next number from it
//! with `UPDATE journal_head SET seq = seq + 1 RETURNING seq` — never a sequence, whose
//! numbers commit out of order — so commit order is sequence order and a reader of
//! `seq > last` cannot skip a record that commits late.
//!
//! The sync client runs its own small tokio runtime: do not call it from inside an
//! async runtime (it panics there); give the store its own thread.

use postgres::{Client, NoTls, Row};

use super::codec::{self, JournalRow, ScheduleRow, ScimRow};
use super::schema::{self, Migration, SchemaAccess};
use super::{
    redact, JournalRecord, ScheduledRecord, ScimKind, ScimRecord, Store, StoreError, Transaction,
};

const BACKEND: &str = "postgres";

/// The advisory lock that serialises migrations of one database (`"tenure"` in ASCII).
const MIGRATION_LOCK: i64 = 0x7465_6e75_7265;

fn failed(operation: impl std::fmt::Display) -> impl FnOnce(postgres::Error) -> StoreError {
    move |e| StoreError::backend(BACKEND, operation, e)
}

const JOURNAL_COLUMNS: &str = "seq, at, source, event, identity, resource, change, gained, lost, policy_version, policy_hash, mapping_hash";

fn journal_row(row: &Row) -> Result<JournalRow, postgres::Error> {
    Ok(JournalRow {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        source: row.try_get(2)?,
        event: row.try_get(3)?,
        identity: row.try_get(4)?,
        resource: row.try_get(5)?,
        change: row.try_get(6)?,
        gained: row.try_get(7)?,
        lost: row.try_get(8)?,
        policy_version: row.try_get(9)?,
        policy_hash: row.try_get(10)?,
        mapping_hash: row.try_get(11)?,
    })
}

fn scim_row(row: &Row) -> Result<ScimRow, postgres::Error> {
    Ok(ScimRow {
        kind: row.try_get(0)?,
        id: row.try_get(1)?,
        body: row.try_get(2)?,
        version: row.try_get(3)?,
        created: row.try_get(4)?,
        modified: row.try_get(5)?,
    })
}

fn schedule_row(row: &Row) -> Result<ScheduleRow, postgres::Error> {
    Ok(ScheduleRow {
        id: row.try_get(0)?,
        at: row.try_get(1)?,
        source: row.try_get(2)?,
        event: row.try_get(3)?,
        created: row.try_get(4)?,
    })
}

/// A store in one PostgreSQL database (its current schema).
pub(crate) struct PgStore {
    client: Client,
    /// The URL with its password hidden.
    address: String,
}

impl PgStore {
    /// Connects to `url`, creating and migrating the schema if needed.
    pub(crate) fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_with(url, schema::MIGRATIONS)
    }

    /// As [`PgStore::open`], with a given list of migrations.
    pub(crate) fn open_with(url: &str, migrations: &[Migration]) -> Result<PgStore, StoreError> {
        let address = redact(url);
        let mut client = Client::connect(url, NoTls).map_err(|e| StoreError::Open {
            address: address.clone(),
            source: e.into(),
        })?;
        let mut tx = client
            .transaction()
            .map_err(failed("begin the migration transaction"))?;
        // Two handles opening a new database at once: the second waits, then finds it
        // migrated.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(failed("lock the schema for migration"))?;
        schema::migrate(&mut Schema(&mut tx), &address, migrations)?;
        tx.commit().map_err(failed("commit the migration"))?;
        Ok(PgStore { client, address })
    }
}

/// The migration runner's view of a PostgreSQL transaction.
struct Schema<'a, 'b>(&'a mut postgres::Transaction<'b>);

impl SchemaAccess for Schema<'_, '_> {
    fn tables(&mut self, names: &[&str]) -> Result<Vec<String>, StoreError> {
        let rows = self
            .0
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = ANY($1)
                 ORDER BY table_name",
                &[&names],
            )
            .map_err(failed("list tables"))?;
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(failed("list tables"))
    }

    fn read_version(&mut self) -> Result<Option<i64>, StoreError> {
        let operation = "read the schema version";
        self.0
            .query_opt("SELECT version FROM schema_version WHERE id = 1", &[])
            .and_then(|row| row.map(|row| row.try_get(0)).transpose())
            .map_err(failed(operation))
    }

    fn create_version_table(&mut self) -> Result<(), StoreError> {
        self.0
            .batch_execute(
                "CREATE TABLE schema_version (
                     id      BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
                     version BIGINT NOT NULL
                 );
                 INSERT INTO schema_version (id, version) VALUES (1, 0);",
            )
            .map_err(failed("create the schema version table"))
    }

    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError> {
        let operation = format!("migrate to schema version {}", migration.version);
        self.0
            .batch_execute(migration.postgres)
            .map_err(failed(&operation))?;
        self.0
            .execute(
                "UPDATE schema_version SET version = $1 WHERE id = 1",
                &[&migration.version],
            )
            .map_err(failed(&operation))?;
        Ok(())
    }
}

impl Store for PgStore {
    fn begin(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let mut tx = self
            .client
            .transaction()
            .map_err(failed("begin a write transaction"))?;
        // INVARIANT: every writer holds the journal head row from its first statement
        // to its end, so writers are serialised and commit in sequence order.
        tx.query_one("SELECT seq FROM journal_head WHERE id = 1 FOR UPDATE", &[])
            .map_err(failed("lock the journal head"))?;
        Ok(Box::new(PgTransaction { tx, failed: false }))
    }

    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        let tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(failed("begin a read transaction"))?;
        Ok(Box::new(PgTransaction { tx, failed: false }))
    }

    fn journal_since(
        &mut self,
        since: u64,
        limit: usize,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        let Ok(since) = i64::try_from(since) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let operation = "read the journal";
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {JOURNAL_COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2"
                ),
                &[&since, &limit],
            )
            .map_err(failed(operation))?;
        rows.iter()
            .map(|row| journal_row(row).map_err(failed(operation))?.decode())
            .collect()
    }

    fn describe(&self) -> String {
        format!("postgres store at {}", self.address)
    }
}

/// One transaction holding the journal head lock.
struct PgTransaction<'client> {
    tx: postgres::Transaction<'client>,
    /// A statement failed: PostgreSQL has aborted the transaction, so it cannot commit.
    failed: bool,
}

impl PgTransaction<'_> {
    /// Runs `f`, remembering a failure (which aborts the transaction on the server).
    fn run<T>(
        &mut self,
        operation: impl std::fmt::Display,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        f(&mut self.tx).map_err(|e| {
            self.failed = true;
            StoreError::backend(BACKEND, operation, e)
        })
    }

    fn body(&mut self, table: &'static str, id: &str) -> Result<Option<String>, StoreError> {
        self.run(format_args!("read `{id}` from `{table}`"), |tx| {
            tx.query_opt(&format!("SELECT body FROM {table} WHERE id = $1"), &[&id])?
                .map(|row| row.try_get(0))
                .transpose()
        })
    }

    fn put_body(&mut self, table: &'static str, id: &str, body: &str) -> Result<(), StoreError> {
        self.run(format_args!("write `{id}` to `{table}`"), |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (id, body) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                ),
                &[&id, &body],
            )
            .map(drop)
        })
    }

    fn delete_row(&mut self, table: &'static str, id: &str) -> Result<bool, StoreError> {
        self.run(format_args!("delete `{id}` from `{table}`"), |tx| {
            tx.execute(&format!("DELETE FROM {table} WHERE id = $1"), &[&id])
                .map(|n| n > 0)
        })
    }

    fn bodies(&mut self, table: &'static str) -> Result<Vec<(String, String)>, StoreError> {
        self.run(format_args!("list `{table}`"), |tx| {
            tx.query(&format!("SELECT id, body FROM {table} ORDER BY id"), &[])?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect()
        })
    }
}

impl Transaction for PgTransaction<'_> {
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
        let row = self.run(format_args!("read SCIM {kind} `{id}`"), |tx| {
            tx.query_opt(
                "SELECT kind, id, body, version, created, modified FROM scim_records
                 WHERE kind = $1 AND id = $2",
                &[&codec::kind(kind), &id],
            )?
            .map(|row| scim_row(&row))
            .transpose()
        })?;
        row.map(ScimRow::decode).transpose()
    }

    fn scim_put(&mut self, record: &ScimRecord) -> Result<(), StoreError> {
        let row = ScimRow::encode(record)?;
        self.run(
            format_args!("write SCIM {} `{}`", record.kind, record.id),
            |tx| {
                tx.execute(
                    "INSERT INTO scim_records (kind, id, body, version, created, modified)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body,
                         version = excluded.version, created = excluded.created,
                         modified = excluded.modified",
                    &[
                        &row.kind,
                        &row.id,
                        &row.body,
                        &row.version,
                        &row.created,
                        &row.modified,
                    ],
                )
                .map(drop)
            },
        )
    }

    fn scim_delete(&mut self, kind: ScimKind, id: &str) -> Result<bool, StoreError> {
        self.run(format_args!("delete SCIM {kind} `{id}`"), |tx| {
            tx.execute(
                "DELETE FROM scim_records WHERE kind = $1 AND id = $2",
                &[&codec::kind(kind), &id],
            )
            .map(|n| n > 0)
        })
    }

    fn scim_list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, StoreError> {
        let rows = self.run(format_args!("list SCIM {kind} records"), |tx| {
            tx.query(
                "SELECT kind, id, body, version, created, modified FROM scim_records
                 WHERE kind = $1 ORDER BY id",
                &[&codec::kind(kind)],
            )?
            .iter()
            .map(scim_row)
            .collect::<Result<Vec<_>, _>>()
        })?;
        rows.into_iter().map(ScimRow::decode).collect()
    }

    fn append(&mut self, record: &JournalRecord) -> Result<u64, StoreError> {
        // Checked before anything changes: a refused record consumes no number.
        let row = JournalRow::encode(record, 0)?;
        let seq: i64 = self.run("append a journal record", |tx| {
            let seq: i64 = tx
                .query_one(
                    "UPDATE journal_head SET seq = seq + 1 WHERE id = 1 RETURNING seq",
                    &[],
                )?
                .try_get(0)?;
            tx.execute(
                &format!(
                    "INSERT INTO journal ({JOURNAL_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ),
                &[
                    &seq,
                    &row.at,
                    &row.source,
                    &row.event,
                    &row.identity,
                    &row.resource,
                    &row.change,
                    &row.gained,
                    &row.lost,
                    &row.policy_version,
                    &row.policy_hash,
                    &row.mapping_hash,
                ],
            )?;
            Ok(seq)
        })?;
        codec::unsigned(codec::JOURNAL, "journal_head", seq)
    }

    fn head(&mut self) -> Result<u64, StoreError> {
        let seq: i64 = self.run("read the journal head", |tx| {
            tx.query_one("SELECT seq FROM journal_head WHERE id = 1", &[])?
                .try_get(0)
        })?;
        codec::unsigned(codec::JOURNAL, "journal_head", seq)
    }

    fn schedule_add(&mut self, record: &ScheduledRecord) -> Result<u64, StoreError> {
        let id: i64 = self.run("schedule an event", |tx| {
            let id: i64 = tx
                .query_one(
                    "UPDATE schedule_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id",
                    &[],
                )?
                .try_get(0)?;
            let row = ScheduleRow::encode(record, id);
            tx.execute(
                "INSERT INTO schedule (id, at, source, event, created) VALUES ($1, $2, $3, $4, $5)",
                &[&row.id, &row.at, &row.source, &row.event, &row.created],
            )?;
            Ok(id)
        })?;
        codec::unsigned(codec::SCHEDULE, "schedule_head", id)
    }

    fn schedule_remove(&mut self, id: u64) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.run(format_args!("remove scheduled event {id}"), |tx| {
            tx.execute("DELETE FROM schedule WHERE id = $1", &[&id])
                .map(|n| n > 0)
        })
    }

    fn schedule_list(&mut self) -> Result<Vec<ScheduledRecord>, StoreError> {
        let rows = self.run("list the schedule", |tx| {
            tx.query(
                "SELECT id, at, source, event, created FROM schedule ORDER BY at, id",
                &[],
            )?
            .iter()
            .map(schedule_row)
            .collect::<Result<Vec<_>, _>>()
        })?;
        rows.into_iter().map(ScheduleRow::decode).collect()
    }

    fn policy_version(&mut self, hash: &str) -> Result<u64, StoreError> {
        let now = codec::micros(jiff::Timestamp::now());
        let version: i64 = self.run(format_args!("register policy `{hash}`"), |tx| {
            if let Some(row) =
                tx.query_opt("SELECT version FROM policies WHERE hash = $1", &[&hash])?
            {
                return row.try_get(0);
            }
            tx.query_one(
                "INSERT INTO policies (version, hash, registered)
                 SELECT COALESCE(MAX(version), 0) + 1, $1, $2 FROM policies
                 RETURNING version",
                &[&hash, &now],
            )?
            .try_get(0)
        })?;
        codec::unsigned(codec::POLICIES, hash, version)
    }

    fn meta_get(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        self.run(format_args!("read meta `{key}`"), |tx| {
            tx.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
                .map(|row| row.try_get(0))
                .transpose()
        })
    }

    fn meta_put(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(format_args!("write meta `{key}`"), |tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .map(drop)
        })
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        if self.failed {
            // Dropping the transaction rolls it back; say so rather than let COMMIT
            // turn silently into ROLLBACK.
            return Err(StoreError::backend(
                BACKEND,
                "commit",
                "an earlier statement of this transaction failed, so PostgreSQL aborted it; nothing was committed",
            ));
        }
        self.tx.commit().map_err(failed("commit"))
    }
}
