//! How records become columns and columns become records, for both backends.
//!
//! Both schemas store the same column types: integers as 64-bit signed integers,
//! timestamps as integer microseconds since the Unix epoch (so `ORDER BY` sorts them),
//! JSON and entities as text. Reading a row back never panics: a value that does not
//! decode is a [`StoreError::CorruptRow`] naming the table and the row's key.

use jiff::Timestamp;
use serde_json::Value;

use super::{JournalRecord, PolicyStamp, ScheduledRecord, ScimKind, ScimRecord, StoreError};

/// `at` truncated to the store's precision (whole microseconds, toward zero), which is
/// what a store gives back for any timestamp it was handed.
///
/// ```
/// use tenure_directory::store::truncate_to_micros;
///
/// let at = jiff::Timestamp::new(1_700_000_000, 123_456_789)?;
/// assert_eq!(truncate_to_micros(at), jiff::Timestamp::new(1_700_000_000, 123_456_000)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn truncate_to_micros(at: Timestamp) -> Timestamp {
    // INVARIANT: a timestamp's microsecond count is always a valid timestamp again, as
    // truncation moves toward the epoch, inside jiff's range.
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

pub(crate) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub(crate) fn timestamp(
    table: &'static str,
    id: &str,
    micros: i64,
) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|e| StoreError::corrupt(table, id, format!("timestamp {micros} µs: {e}")))
}

/// A `u64` for an `i64` column; values above `i64::MAX` cannot be stored.
pub(crate) fn signed(what: &'static str, field: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidRecord {
        what,
        reason: format!("`{field}` {value} is larger than {}", i64::MAX),
    })
}

pub(crate) fn unsigned(table: &'static str, id: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::corrupt(table, id, format!("negative number {value}")))
}

pub(crate) fn json_text(value: &Value) -> String {
    value.to_string()
}

pub(crate) fn json_value(table: &'static str, id: &str, text: &str) -> Result<Value, StoreError> {
    tenure::json::parse(text).map_err(|e| StoreError::corrupt(table, id, e))
}

pub(crate) fn identity(id: &str, text: &str) -> Result<tenure::Identity, StoreError> {
    tenure::Identity::from_json(text).map_err(|e| StoreError::corrupt(IDENTITIES, id, e))
}

pub(crate) fn resource(id: &str, text: &str) -> Result<tenure::Resource, StoreError> {
    tenure::Resource::from_json(text).map_err(|e| StoreError::corrupt(RESOURCES, id, e))
}

pub(crate) const IDENTITIES: &str = "identities";
pub(crate) const RESOURCES: &str = "resources";
pub(crate) const SCIM: &str = "scim_records";
pub(crate) const JOURNAL: &str = "journal";
pub(crate) const SCHEDULE: &str = "schedule";
pub(crate) const POLICIES: &str = "policies";
pub(crate) const JOURNAL_RECORD: &str = "journal record";
pub(crate) const SCIM_RECORD: &str = "SCIM record";

/// A `scim_records` row.
pub(crate) struct ScimRow {
    pub kind: String,
    pub id: String,
    pub body: String,
    pub version: i64,
    pub created: i64,
    pub modified: i64,
}

impl ScimRow {
    pub(crate) fn encode(record: &ScimRecord) -> Result<ScimRow, StoreError> {
        Ok(ScimRow {
            kind: record.kind.as_str().to_string(),
            id: record.id.clone(),
            body: json_text(&record.body),
            version: signed(SCIM_RECORD, "version", record.version)?,
            created: micros(record.created),
            modified: micros(record.modified),
        })
    }

    pub(crate) fn decode(self) -> Result<ScimRecord, StoreError> {
        let key = format!("{}/{}", self.kind, self.id);
        Ok(ScimRecord {
            kind: self
                .kind
                .parse()
                .map_err(|e| StoreError::corrupt(SCIM, &key, e))?,
            body: json_value(SCIM, &key, &self.body)?,
            version: unsigned(SCIM, &key, self.version)?,
            created: timestamp(SCIM, &key, self.created)?,
            modified: timestamp(SCIM, &key, self.modified)?,
            id: self.id,
        })
    }
}

/// A `journal` row.
pub(crate) struct JournalRow {
    pub seq: i64,
    pub at: i64,
    pub source: String,
    pub event: String,
    pub identity: Option<String>,
    pub resource: Option<String>,
    pub change: String,
    pub gained: String,
    pub lost: String,
    pub policy_version: Option<i64>,
    pub policy_hash: Option<String>,
    pub mapping_hash: Option<String>,
}

impl JournalRow {
    /// The row for `record` under sequence number `seq` (the record's own `seq` is
    /// ignored).
    pub(crate) fn encode(record: &JournalRecord, seq: i64) -> Result<JournalRow, StoreError> {
        record.check().map_err(|reason| StoreError::InvalidRecord {
            what: JOURNAL_RECORD,
            reason,
        })?;
        let (policy_version, policy_hash) = match &record.policy {
            Some(stamp) => (
                Some(signed(JOURNAL_RECORD, "policy.version", stamp.version)?),
                Some(stamp.hash.clone()),
            ),
            None => (None, None),
        };
        Ok(JournalRow {
            seq,
            at: micros(record.at),
            source: record.source.clone(),
            event: record.event.clone(),
            identity: record.identity.clone(),
            resource: record.resource.clone(),
            change: json_text(&record.change),
            gained: json_text(&record.gained),
            lost: json_text(&record.lost),
            policy_version,
            policy_hash,
            mapping_hash: record.mapping_hash.clone(),
        })
    }

    pub(crate) fn decode(self) -> Result<JournalRecord, StoreError> {
        let key = self.seq.to_string();
        let policy = match (self.policy_version, self.policy_hash) {
            (Some(version), Some(hash)) => Some(PolicyStamp {
                version: unsigned(JOURNAL, &key, version)?,
                hash,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::corrupt(
                    JOURNAL,
                    &key,
                    "`policy_version` and `policy_hash` must both be set or both be null",
                ))
            }
        };
        Ok(JournalRecord {
            seq: unsigned(JOURNAL, &key, self.seq)?,
            at: timestamp(JOURNAL, &key, self.at)?,
            source: self.source,
            event: self.event,
            identity: self.identity,
            resource: self.resource,
            change: json_value(JOURNAL, &key, &self.change)?,
            gained: json_value(JOURNAL, &key, &self.gained)?,
            lost: json_value(JOURNAL, &key, &self.lost)?,
            policy,
            mapping_hash: self.mapping_hash,
        })
    }
}

/// A `schedule` row.
pub(crate) struct ScheduleRow {
    pub id: i64,
    pub at: i64,
    pub source: String,
    pub event: String,
    pub created: i64,
}

impl ScheduleRow {
    pub(crate) fn encode(record: &ScheduledRecord, id: i64) -> ScheduleRow {
        ScheduleRow {
            id,
            at: micros(record.at),
            source: record.source.clone(),
            event: json_text(&record.event),
            created: micros(record.created),
        }
    }

    pub(crate) fn decode(self) -> Result<ScheduledRecord, StoreError> {
        let key = self.id.to_string();
        Ok(ScheduledRecord {
            id: unsigned(SCHEDULE, &key, self.id)?,
            at: timestamp(SCHEDULE, &key, self.at)?,
            source: self.source,
            event: json_value(SCHEDULE, &key, &self.event)?,
            created: timestamp(SCHEDULE, &key, self.created)?,
        })
    }
}

/// The `ScimKind` column value.
pub(crate) fn kind(kind: ScimKind) -> &'static str {
    kind.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_toward_zero_on_both_sides_of_the_epoch() {
        let after = Timestamp::new(5, 999_999_999).unwrap();
        assert_eq!(
            truncate_to_micros(after),
            Timestamp::new(5, 999_999_000).unwrap()
        );
        let before = Timestamp::new(-5, -999_999_999).unwrap();
        assert_eq!(
            truncate_to_micros(before),
            Timestamp::new(-5, -999_999_000).unwrap()
        );
        assert_eq!(
            timestamp("t", "k", micros(before)).unwrap(),
            truncate_to_micros(before)
        );
    }

    #[test]
    fn bad_columns_are_errors_naming_table_and_key() {
        let error = identity("alice", "{not json").unwrap_err();
        assert_eq!(error.code(), "tenure::store::corrupt_row");
        assert!(
            error
                .to_string()
                .contains("`alice` from table `identities`"),
            "{error}"
        );
        assert!(timestamp(JOURNAL, "9", i64::MAX).is_err());
        assert!(unsigned(JOURNAL, "9", -1).is_err());
        assert!(signed(JOURNAL_RECORD, "seq", u64::MAX).is_err());
        let row = JournalRow {
            seq: 1,
            at: 0,
            source: "cli".into(),
            event: "join".into(),
            identity: None,
            resource: None,
            change: "{}".into(),
            gained: "[]".into(),
            lost: "[]".into(),
            policy_version: Some(1),
            policy_hash: None,
            mapping_hash: None,
        };
        assert_eq!(
            row.decode().unwrap_err().code(),
            "tenure::store::corrupt_row"
        );
    }
}
