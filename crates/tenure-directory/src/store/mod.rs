//! The durable store: identities, resources, SCIM records, the journal, the schedule and
//! the policy registry, on SQLite (embedded) or PostgreSQL (shared, feature `postgres`).
//!
//! Persistence only: what an event means is decided elsewhere; a store keeps the result.
//! Everything one event changes — state, journal record, scheduled follow-ups — is
//! written in one [`Transaction`], so a crash leaves either all of it or none of it.
//!
//! # Example
//!
//! ```
//! use tenure_directory::store::{self, JournalRecord};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir()?;
//! let address = format!("sqlite:{}", dir.path().join("tenure.db").display());
//! let mut store = store::open(&address)?;
//!
//! let mut tx = store.begin()?;
//! let pamela = tenure::Identity::new().with("id", "pamela").with("role", "CloudEngineer");
//! tx.put_identity("pamela", &pamela)?;
//! let seq = tx.append(&JournalRecord {
//!     seq: 0,
//!     at: jiff::Timestamp::now(),
//!     source: "cli".into(),
//!     event: "join".into(),
//!     identity: Some("pamela".into()),
//!     resource: None,
//!     change: json!({"join": pamela.to_json()}),
//!     gained: json!(["db-17"]),
//!     lost: json!([]),
//!     policy: None,
//!     mapping_hash: None,
//! })?;
//! tx.commit()?;
//! assert_eq!(seq, 1);
//!
//! let journal = store.journal_since(0, 100)?;
//! assert_eq!(journal.len(), 1);
//! assert_eq!(journal[0].identity.as_deref(), Some("pamela"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! * **Atomic, serialised writes.** [`Store::begin`] starts a write transaction (SQLite:
//!   `BEGIN IMMEDIATE`; PostgreSQL: a transaction that first locks the journal head row),
//!   so writers queue one behind the other, across processes too. Dropping a transaction
//!   without [`Transaction::commit`] rolls it back.
//! * **A gap-free journal.** Sequence numbers are handed out inside the writing
//!   transaction from a one-row `journal_head` table (never a database sequence), so they
//!   start at 1, have no gaps, a rolled-back transaction consumes none, and commit order
//!   is sequence order: a reader polling [`Store::journal_since`] never sees `n + 1`
//!   before `n`.
//! * **Durability.** SQLite runs in WAL mode with `synchronous=FULL`, `foreign_keys=ON`
//!   and a 5 s busy timeout.
//! * **Exact round trips.** Entities are stored as their JSON text and read back with
//!   `from_json`; SCIM bodies and journal JSON are stored as text, so unknown extension
//!   attributes survive (one caveat: `serde_json`, built without its `float_roundtrip`
//!   feature, may read a float with a long decimal form back one ulp off). Timestamps are stored as integer microseconds since the Unix
//!   epoch: finer digits are truncated (toward zero, see [`truncate_to_micros`]), on both
//!   backends alike. Keys (ids) sort bytewise, as Rust's `str` does, on both backends.
//! * **Honest failure.** A row that no longer reads is a [`StoreError::CorruptRow`]
//!   naming the table and key, never a panic. A method that fails changes nothing; on
//!   PostgreSQL a database error aborts the whole transaction, and `commit` then reports
//!   it instead of silently rolling back.
//! * **Versioned schema.** A new store is created at [`SCHEMA_VERSION`]; an older one is
//!   migrated when opened; a newer one is refused (see [`StoreError::NewerSchema`]).
//!
//! PostgreSQL refuses the character NUL (`\0`) in text, so ids containing it can only be
//! stored on SQLite.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod schema;
mod sqlite;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use codec::truncate_to_micros;
pub use error::StoreError;
pub use record::{
    JournalRecord, PolicyStamp, ScheduledRecord, ScimKind, ScimRecord, UnknownScimKind,
};
pub use schema::SCHEMA_VERSION;

/// Where a store lives: a SQLite file or a PostgreSQL database.
///
/// Parsed from `sqlite:PATH`, a bare `PATH` (SQLite too), `postgres://…` or
/// `postgresql://…` (any connection URL the `postgres` crate accepts; for a Unix socket,
/// `postgresql:///DB?host=/run/postgresql`). A bare path must not start with a URL
/// scheme (`name:`); write `sqlite:name:…` or `./name:…` for such a file.
///
/// ```
/// use std::path::PathBuf;
/// use tenure_directory::store::Address;
///
/// assert_eq!("sqlite:/var/lib/tenure.db".parse::<Address>()?, Address::Sqlite(PathBuf::from("/var/lib/tenure.db")));
/// assert_eq!("tenure.db".parse::<Address>()?, Address::Sqlite(PathBuf::from("tenure.db")));
/// assert!(matches!("postgresql://tenure@db/tenure".parse::<Address>()?, Address::Postgres(_)));
/// assert!("mysql://db/tenure".parse::<Address>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A SQLite database file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…` or `postgresql://…`).
    Postgres(String),
}

impl FromStr for Address {
    type Err = StoreError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = |reason: String| StoreError::Address {
            input: redact(input),
            reason,
        };
        if let Some(path) = input.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(refuse(format!("`sqlite:` needs a path; {ACCEPTED}")));
            }
            return Ok(Address::Sqlite(PathBuf::from(path)));
        }
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            return Ok(Address::Postgres(input.to_string()));
        }
        if input.is_empty() {
            return Err(refuse(format!("it is empty; {ACCEPTED}")));
        }
        if let Some(scheme) = scheme(input) {
            return Err(refuse(format!("unknown scheme `{scheme}:`; {ACCEPTED}")));
        }
        Ok(Address::Sqlite(PathBuf::from(input)))
    }
}

/// The accepted forms of a store address, for messages.
const ACCEPTED: &str = "expected `sqlite:PATH`, a bare PATH, `postgres://…` or `postgresql://…`";

/// The URL scheme `input` starts with, if any: letters, digits, `+`, `-` and `.` after a
/// letter, then `:`. A single letter is a Windows drive, not a scheme.
fn scheme(input: &str) -> Option<&str> {
    let (scheme, _) = input.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && scheme.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// The address with any password replaced by `***`, for messages.
pub(crate) fn redact(address: &str) -> String {
    let Some((scheme, rest)) = address.split_once("://") else {
        return address.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl fmt::Display for Address {
    /// `sqlite:PATH`, or the PostgreSQL URL with its password hidden (`***`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Address::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl Address {
    /// Opens the store, creating it and its schema on first use and migrating an older
    /// schema.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let address: tenure_directory::store::Address =
    ///     format!("sqlite:{}", dir.path().join("t.db").display()).parse()?;
    /// let store = address.open()?;
    /// assert!(store.describe().starts_with("sqlite store at "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The database cannot be opened or connected to ([`StoreError::Open`]); it was
    /// created by a newer tenure ([`StoreError::NewerSchema`]); it holds tenure's tables
    /// without a version ([`StoreError::Unversioned`]); a PostgreSQL address in a build
    /// without the `postgres` feature ([`StoreError::PostgresUnsupported`], "built
    /// without PostgreSQL support").
    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        match self {
            Address::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path)?)),
            #[cfg(feature = "postgres")]
            Address::Postgres(url) => Ok(Box::new(postgres::PgStore::open(url)?)),
            #[cfg(not(feature = "postgres"))]
            Address::Postgres(url) => Err(StoreError::PostgresUnsupported {
                address: redact(url),
            }),
        }
    }
}

/// Parses `address` (see [`Address`]) and opens the store there.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let mut store = tenure_directory::store::open(&dir.path().join("t.db").display().to_string())?;
/// assert_eq!(store.journal_since(0, 10)?, vec![]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`str::parse::<Address>`] and [`Address::open`].
pub fn open(address: &str) -> Result<Box<dyn Store>, StoreError> {
    address.parse::<Address>()?.open()
}

/// A durable store: one handle (one database connection) per `Box<dyn Store>`.
///
/// Open as many handles on one address as there are threads or processes that write;
/// their transactions are serialised by the database.
pub trait Store: Send {
    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction
    /// that first locks the journal head row, so writers are serialised and commit order
    /// is sequence order). Dropping it without commit rolls back.
    ///
    /// # Errors
    /// The database is busy past the timeout, or unreachable.
    fn begin(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError>;

    /// Starts a read-only transaction: a consistent snapshot that does not take the write
    /// lock, so readers never queue behind writers (SQLite: a deferred transaction on a
    /// WAL database; PostgreSQL: a `READ ONLY` `REPEATABLE READ` transaction). Writing
    /// through it fails. The default is [`Store::begin`].
    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        self.begin()
    }

    /// Journal records with `seq > since`, ascending, at most `limit` of them (read
    /// outside any write transaction: only committed records).
    ///
    /// # Errors
    /// A database error, or a record that no longer reads.
    fn journal_since(&mut self, since: u64, limit: usize)
        -> Result<Vec<JournalRecord>, StoreError>;

    /// Which backend (`sqlite` / `postgres`) and its address (password hidden), for
    /// messages: `sqlite store at /var/lib/tenure.db`.
    fn describe(&self) -> String;
}

/// One write transaction on a [`Store`]: reads see its own writes; nothing is visible
/// to others until [`Transaction::commit`]; dropping it rolls everything back.
///
/// A method that returns an error has changed nothing. On PostgreSQL a database error
/// aborts the transaction: later calls fail and `commit` reports the failure.
pub trait Transaction {
    /// The identity stored under `id`.
    ///
    /// # Errors
    /// A database error, or a stored identity that no longer reads.
    fn identity(&mut self, id: &str) -> Result<Option<tenure::Identity>, StoreError>;
    /// Stores `identity` under `id`, replacing any previous one.
    ///
    /// # Errors
    /// A database error.
    fn put_identity(&mut self, id: &str, identity: &tenure::Identity) -> Result<(), StoreError>;
    /// Deletes the identity under `id`; whether there was one.
    ///
    /// # Errors
    /// A database error.
    fn delete_identity(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Every identity, ordered by id.
    ///
    /// # Errors
    /// A database error, or a stored identity that no longer reads.
    fn identities(&mut self) -> Result<Vec<(String, tenure::Identity)>, StoreError>;

    /// The resource stored under `id`.
    ///
    /// # Errors
    /// A database error, or a stored resource that no longer reads.
    fn resource(&mut self, id: &str) -> Result<Option<tenure::Resource>, StoreError>;
    /// Stores `resource` under `id`, replacing any previous one.
    ///
    /// # Errors
    /// A database error.
    fn put_resource(&mut self, id: &str, resource: &tenure::Resource) -> Result<(), StoreError>;
    /// Deletes the resource under `id`; whether there was one.
    ///
    /// # Errors
    /// A database error.
    fn delete_resource(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Every resource, ordered by id.
    ///
    /// # Errors
    /// A database error, or a stored resource that no longer reads.
    fn resources(&mut self) -> Result<Vec<(String, tenure::Resource)>, StoreError>;

    /// The SCIM record of `kind` with `id`.
    ///
    /// # Errors
    /// A database error, or a stored record that no longer reads.
    fn scim_get(&mut self, kind: ScimKind, id: &str) -> Result<Option<ScimRecord>, StoreError>;
    /// Stores `record` under its kind and id, replacing any previous one (timestamps at
    /// microsecond precision).
    ///
    /// # Errors
    /// A version above `i64::MAX`, or a database error.
    fn scim_put(&mut self, record: &ScimRecord) -> Result<(), StoreError>;
    /// Deletes the SCIM record of `kind` with `id`; whether there was one.
    ///
    /// # Errors
    /// A database error.
    fn scim_delete(&mut self, kind: ScimKind, id: &str) -> Result<bool, StoreError>;
    /// Every SCIM record of `kind`, ordered by id.
    ///
    /// # Errors
    /// A database error, or a stored record that no longer reads.
    fn scim_list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, StoreError>;

    /// Appends `record` to the journal under the next sequence number (1 for the first;
    /// `record.seq` is ignored) and returns that number.
    ///
    /// # Errors
    /// `gained` or `lost` not a JSON array, a policy version above `i64::MAX`
    /// ([`StoreError::InvalidRecord`]), or a database error.
    fn append(&mut self, record: &JournalRecord) -> Result<u64, StoreError>;
    /// The last sequence number (0 for an empty journal), as seen in this transaction.
    ///
    /// # Errors
    /// A database error.
    fn head(&mut self) -> Result<u64, StoreError>;

    /// Schedules `record` under a new id (`record.id` is ignored) and returns that id;
    /// ids are never reused, even after removal.
    ///
    /// # Errors
    /// A database error.
    fn schedule_add(&mut self, record: &ScheduledRecord) -> Result<u64, StoreError>;
    /// Removes the scheduled event `id`; whether there was one.
    ///
    /// # Errors
    /// A database error.
    fn schedule_remove(&mut self, id: u64) -> Result<bool, StoreError>;
    /// Every scheduled event, ordered by due time, then id.
    ///
    /// # Errors
    /// A database error, or a stored event that no longer reads.
    fn schedule_list(&mut self) -> Result<Vec<ScheduledRecord>, StoreError>;

    /// The version registered for the policy with content hash `hash`; a new hash is
    /// registered under the next version (1, 2, …).
    ///
    /// # Errors
    /// A database error.
    fn policy_version(&mut self, hash: &str) -> Result<u64, StoreError>;

    /// The value stored under `key`.
    ///
    /// # Errors
    /// A database error.
    fn meta_get(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key`, replacing any previous one.
    ///
    /// # Errors
    /// A database error.
    fn meta_put(&mut self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Makes every change of this transaction durable and visible.
    ///
    /// # Errors
    /// A database error (nothing was committed), or on PostgreSQL an earlier database
    /// error in this transaction (everything was rolled back).
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let sqlite = |p: &str| Some(Address::Sqlite(PathBuf::from(p)));
        let parse = |s: &str| s.parse::<Address>().ok();
        assert_eq!(parse("sqlite:a.db"), sqlite("a.db"));
        assert_eq!(parse("sqlite:/x/a:b.db"), sqlite("/x/a:b.db"));
        assert_eq!(parse("/x/a.db"), sqlite("/x/a.db"));
        assert_eq!(parse("./name:x"), sqlite("./name:x"));
        assert_eq!(parse(r"C:\data\t.db"), sqlite(r"C:\data\t.db"));
        for url in ["postgres://u@h/db", "postgresql:///db?host=/tmp"] {
            assert_eq!(parse(url), Some(Address::Postgres(url.into())));
        }
        for bad in ["mysql://x", "sqlite:", "", "postgres:db", "file:x.db"] {
            let error = bad.parse::<Address>().unwrap_err();
            assert_eq!(error.code(), "tenure::store::address", "{bad}");
            let text = error.to_string();
            assert!(
                text.contains("sqlite:PATH") || text.contains("needs a path"),
                "{text}"
            );
        }
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://u@h/db?password=secret&sslmode=disable"),
            "postgres://u@h/db?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("postgresql:///db?host=/tmp"),
            "postgresql:///db?host=/tmp"
        );
        let address: Address = "postgres://u:secret@h/db".parse().unwrap();
        assert_eq!(address.to_string(), "postgres://u:***@h/db");
        let error = "mysql://u:secret@h/db".parse::<Address>().unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn postgres_needs_the_feature() {
        let error = open("postgres://u:secret@h/db").err().unwrap();
        assert_eq!(error.code(), "tenure::store::postgres_unsupported");
        assert!(error
            .to_string()
            .contains("built without PostgreSQL support"));
        assert!(!error.to_string().contains("secret"));
    }
}
