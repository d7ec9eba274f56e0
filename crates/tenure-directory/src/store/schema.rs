//! Schema versions and migrations, shared by both backends.
//!
//! A store records its schema version in a one-row table `schema_version`. Opening a
//! store runs, in one write transaction, every migration newer than that version, in
//! order, and records each new version as it goes:
//!
//! * no `schema_version` table and none of tenure's tables: a new store (version 0), so
//!   every migration runs;
//! * no `schema_version` table (or no row in it) but some of tenure's tables: an error
//!   ([`StoreError::Unversioned`]) — tenure does not guess what such a database holds;
//! * a version newer than the last migration: an error ([`StoreError::NewerSchema`]),
//!   "created by a newer tenure".
//!
//! Adding a version is adding a [`Migration`] at the end of [`MIGRATIONS`] (with its SQL
//! for both backends) and its new tables to [`TABLES`]; never edit a released one.

use super::StoreError;

/// One step of the schema: the SQL that takes a store from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub sqlite: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub postgres: &'static str,
}

/// Every migration, in order; versions are 1, 2, 3, … without gaps.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: include_str!("migrations/0001.sqlite.sql"),
    postgres: include_str!("migrations/0001.postgres.sql"),
}];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Every table the migrations create (the version table aside), to recognise a database
/// that holds tenure's tables without a version.
pub(crate) const TABLES: &[&str] = &[
    "meta",
    "identities",
    "resources",
    "scim_records",
    "journal_head",
    "journal",
    "schedule_head",
    "schedule",
    "policies",
];

/// The table that holds the schema version.
pub(crate) const VERSION_TABLE: &str = "schema_version";

/// What the migration runner needs from a backend, inside one write transaction.
pub(crate) trait SchemaAccess {
    /// Which of `names` exist as tables.
    fn tables(&mut self, names: &[&str]) -> Result<Vec<String>, StoreError>;
    /// The version row of `schema_version` (which exists), if there is one.
    fn read_version(&mut self) -> Result<Option<i64>, StoreError>;
    /// Creates `schema_version` holding version 0.
    fn create_version_table(&mut self) -> Result<(), StoreError>;
    /// Runs one migration's SQL and records its version.
    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError>;
}

/// Brings the store behind `db` to the last of `migrations`; returns the version it
/// was found at.
pub(crate) fn migrate(
    db: &mut dyn SchemaAccess,
    address: &str,
    migrations: &[Migration],
) -> Result<i64, StoreError> {
    let latest = migrations.last().map_or(0, |m| m.version);
    let found = if db.tables(&[VERSION_TABLE])?.is_empty() {
        None
    } else {
        db.read_version()?
    };
    let found = match found {
        Some(version) => version,
        None => {
            let mut tables = db.tables(TABLES)?;
            tables.sort();
            if !tables.is_empty() {
                return Err(StoreError::Unversioned {
                    address: address.to_string(),
                    tables: tables.join(", "),
                });
            }
            if db.tables(&[VERSION_TABLE])?.is_empty() {
                db.create_version_table()?;
            }
            0
        }
    };
    if found > latest {
        return Err(StoreError::NewerSchema {
            address: address.to_string(),
            found,
            known: latest,
        });
    }
    if found < 0 {
        return Err(StoreError::corrupt(
            VERSION_TABLE,
            "version",
            format!("negative schema version {found}"),
        ));
    }
    for migration in migrations.iter().filter(|m| m.version > found) {
        db.apply(migration)?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn every_table_is_known() {
        for migration in MIGRATIONS {
            for sql in [migration.sqlite, migration.postgres] {
                for statement in sql.split("CREATE TABLE ").skip(1) {
                    let name = statement.split_whitespace().next().unwrap_or_default();
                    assert!(TABLES.contains(&name), "`{name}` is missing from TABLES");
                }
            }
        }
    }
}
