//! [`StoreError`]: everything that can go wrong opening, reading or writing a store.

use std::error::Error as StdError;
use std::fmt;

/// The boxed cause of a backend failure (a SQLite or PostgreSQL error, an I/O error).
pub(crate) type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// A failure of the store: a bad address, a database that cannot be opened or migrated,
/// a row that cannot be read back, or a backend error.
///
/// Every variant has a stable code (`tenure::store::...`, see [`StoreError::code`]) that
/// [`miette::Diagnostic`] reports, and a `help` line where there is something to do.
///
/// ```
/// let error = "mysql://db/tenure".parse::<tenure_directory::store::Address>().unwrap_err();
/// assert_eq!(error.code(), "tenure::store::address");
/// assert!(error.to_string().contains("sqlite:PATH"));
/// ```
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum StoreError {
    /// The store address is not one of the accepted forms.
    #[error("invalid store address `{input}`: {reason}")]
    #[diagnostic(
        code(tenure::store::address),
        help("use `sqlite:PATH` (or a bare PATH), `postgres://…` or `postgresql://…`")
    )]
    Address {
        /// The address as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `postgres://` address, but this build has no PostgreSQL backend.
    #[error("cannot open `{address}`: built without PostgreSQL support")]
    #[diagnostic(
        code(tenure::store::postgres_unsupported),
        help("rebuild tenure-directory with the cargo feature `postgres`, or use a `sqlite:PATH` store")
    )]
    PostgresUnsupported {
        /// The address (password hidden).
        address: String,
    },

    /// The database could not be opened or connected to.
    #[error("cannot open store `{address}`")]
    #[diagnostic(code(tenure::store::open))]
    Open {
        /// The address (password hidden).
        address: String,
        /// Why.
        #[source]
        source: Cause,
    },

    /// The database was created by a newer tenure: its schema version is unknown here.
    #[error(
        "store `{address}` was created by a newer tenure (schema version {found}; this build knows up to {known})"
    )]
    #[diagnostic(
        code(tenure::store::newer_schema),
        help("upgrade tenure; an older build must not write to this store")
    )]
    NewerSchema {
        /// The address (password hidden).
        address: String,
        /// The version found in the store.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },

    /// The database has tenure's tables but no schema version: it was not created by
    /// tenure, or its version row was removed.
    #[error("store `{address}` has tenure tables ({tables}) but no schema version")]
    #[diagnostic(
        code(tenure::store::unversioned),
        help("point tenure at an empty database, or restore the store from a backup")
    )]
    Unversioned {
        /// The address (password hidden).
        address: String,
        /// The tenure tables found, comma-separated.
        tables: String,
    },

    /// A stored row could not be read back (bad JSON, an entity that no longer parses, a
    /// value out of range).
    #[error("cannot read `{id}` from table `{table}`: {reason}")]
    #[diagnostic(
        code(tenure::store::corrupt_row),
        help("the row was changed outside tenure or by an incompatible version; fix or delete it")
    )]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The row's key.
        id: String,
        /// What is wrong.
        reason: String,
    },

    /// A record handed to the store cannot be stored as it is.
    #[error("cannot store {what}: {reason}")]
    #[diagnostic(code(tenure::store::invalid_record))]
    InvalidRecord {
        /// Which record (`journal record`, `scheduled event`, …).
        what: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A journal line (JSON Lines export) could not be read.
    #[error("invalid journal line: {reason}")]
    #[diagnostic(code(tenure::store::journal_line))]
    JournalLine {
        /// What is wrong, with the JSON path where known.
        reason: String,
    },

    /// The database refused an operation.
    #[error("{backend} store: cannot {operation}")]
    #[diagnostic(code(tenure::store::backend))]
    Backend {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// What was being done (`append a journal record`, `migrate to schema version 1`, …).
        operation: String,
        /// The backend's error.
        #[source]
        source: Cause,
    },
}

impl StoreError {
    /// The stable code of this error, such as `tenure::store::corrupt_row`.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Address { .. } => "tenure::store::address",
            StoreError::PostgresUnsupported { .. } => "tenure::store::postgres_unsupported",
            StoreError::Open { .. } => "tenure::store::open",
            StoreError::NewerSchema { .. } => "tenure::store::newer_schema",
            StoreError::Unversioned { .. } => "tenure::store::unversioned",
            StoreError::CorruptRow { .. } => "tenure::store::corrupt_row",
            StoreError::InvalidRecord { .. } => "tenure::store::invalid_record",
            StoreError::JournalLine { .. } => "tenure::store::journal_line",
            StoreError::Backend { .. } => "tenure::store::backend",
        }
    }

    pub(crate) fn backend(
        backend: &'static str,
        operation: impl fmt::Display,
        source: impl Into<Cause>,
    ) -> StoreError {
        StoreError::Backend {
            backend,
            operation: operation.to_string(),
            source: source.into(),
        }
    }

    pub(crate) fn corrupt(
        table: &'static str,
        id: impl fmt::Display,
        reason: impl fmt::Display,
    ) -> StoreError {
        StoreError::CorruptRow {
            table,
            id: id.to_string(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::Diagnostic;

    #[test]
    fn code_agrees_with_the_diagnostic_code() {
        let errors = [
            StoreError::Address {
                input: "x".into(),
                reason: "y".into(),
            },
            StoreError::PostgresUnsupported {
                address: "postgres://h".into(),
            },
            StoreError::Open {
                address: "a".into(),
                source: "b".into(),
            },
            StoreError::NewerSchema {
                address: "a".into(),
                found: 9,
                known: 1,
            },
            StoreError::Unversioned {
                address: "a".into(),
                tables: "journal".into(),
            },
            StoreError::corrupt("identities", "alice", "bad"),
            StoreError::InvalidRecord {
                what: "journal record",
                reason: "r".into(),
            },
            StoreError::JournalLine { reason: "r".into() },
            StoreError::backend("sqlite", "do it", "cause"),
        ];
        for error in errors {
            assert_eq!(
                Diagnostic::code(&error).map(|c| c.to_string()),
                Some(error.code().to_string())
            );
        }
    }
}
