//! The records a store keeps besides identities and resources: SCIM resources as
//! received, journal records, scheduled events and policy stamps.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;

/// Which kind of SCIM resource a [`ScimRecord`] holds.
///
/// Serialized as `"User"` or `"Group"`, the SCIM resource type names.
///
/// ```
/// use tenure_directory::store::ScimKind;
///
/// assert_eq!(ScimKind::User.as_str(), "User");
/// assert_eq!("Group".parse::<ScimKind>(), Ok(ScimKind::Group));
/// assert_eq!(serde_json::to_string(&ScimKind::Group)?, r#""Group""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScimKind {
    /// A SCIM `User`.
    User,
    /// A SCIM `Group`.
    Group,
}

impl ScimKind {
    /// The SCIM resource type name: `User` or `Group`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimKind::User => "User",
            ScimKind::Group => "Group",
        }
    }
}

impl fmt::Display for ScimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither `User` nor `Group`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("unknown SCIM resource type `{0}`; expected `User` or `Group`")]
#[diagnostic(code(tenure::store::scim_kind))]
pub struct UnknownScimKind(pub String);

impl FromStr for ScimKind {
    type Err = UnknownScimKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "User" => Ok(ScimKind::User),
            "Group" => Ok(ScimKind::Group),
            other => Err(UnknownScimKind(other.to_string())),
        }
    }
}

/// A SCIM resource as the identity provider sent it, with the server's bookkeeping.
///
/// `body` is kept exactly (extension attributes included); `version` is the record's
/// version for ETags; `created` and `modified` are stored at microsecond precision.
///
/// ```
/// use tenure_directory::store::{ScimKind, ScimRecord};
///
/// let now = jiff::Timestamp::from_second(1_700_000_000)?;
/// let record = ScimRecord {
///     kind: ScimKind::User,
///     id: "2819c223".into(),
///     body: serde_json::json!({"userName": "bjensen", "active": true}),
///     version: 1,
///     created: now,
///     modified: now,
/// };
/// let json = serde_json::to_value(&record)?;
/// assert_eq!(json["created"], "2023-11-14T22:13:20Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimRecord {
    /// `User` or `Group`.
    pub kind: ScimKind,
    /// The server-assigned SCIM id (unique per kind).
    pub id: String,
    /// The resource as JSON, exactly as received or last patched.
    pub body: Value,
    /// The version, for weak ETags (`W/"3"`).
    pub version: u64,
    /// When it was created (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub created: Timestamp,
    /// When it was last changed (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub modified: Timestamp,
}

/// Which policy decided an event: its registered version and its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyStamp {
    /// The version [`Transaction::policy_version`](super::Transaction::policy_version)
    /// registered for `hash`.
    pub version: u64,
    /// The policy's content hash.
    pub hash: String,
}

/// One entry of the journal: an event, what it changed and which access it granted or
/// revoked.
///
/// `seq` is assigned by [`Transaction::append`](super::Transaction::append): the first
/// record is 1 and numbers are gap-free in commit order. As a JSON line (see
/// [`JournalRecord::to_json_line`]) it reads
/// `{"seq","at","source","event","identity","resource","change","gained","lost","policy","mapping_hash"}`
/// with `at` in RFC 3339 and `policy` either `{"version","hash"}` or `null`.
///
/// ```
/// use tenure_directory::store::{JournalRecord, PolicyStamp};
/// use serde_json::json;
///
/// let record = JournalRecord {
///     seq: 7,
///     at: "2025-03-01T09:30:00.25Z".parse()?,
///     source: "scim".into(),
///     event: "join".into(),
///     identity: Some("pamela".into()),
///     resource: None,
///     change: json!({"join": "pamela"}),
///     gained: json!(["db-17"]),
///     lost: json!([]),
///     policy: Some(PolicyStamp { version: 2, hash: "sha256:ab12".into() }),
///     mapping_hash: None,
/// };
/// let line = record.to_json_line();
/// assert!(line.starts_with(r#"{"seq":7,"at":"2025-03-01T09:30:00.25Z","source":"scim""#));
/// assert_eq!(JournalRecord::from_json_line(&line)?, record);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalRecord {
    /// The sequence number, assigned by `append` (the value passed in is ignored).
    pub seq: u64,
    /// When the event happened (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// Where it came from: `scim`, `cli`, `api`, `schedule`, …
    pub source: String,
    /// What happened: `join`, `move`, `leave`, `purge`, `resource_add`, …
    pub event: String,
    /// The identity concerned, if any.
    pub identity: Option<String>,
    /// The resource concerned, if any.
    pub resource: Option<String>,
    /// The event itself, as JSON.
    pub change: Value,
    /// Access gained, a JSON array.
    pub gained: Value,
    /// Access lost, a JSON array.
    pub lost: Value,
    /// The policy that decided it, if any.
    pub policy: Option<PolicyStamp>,
    /// The content hash of the attribute mapping in force, if any.
    pub mapping_hash: Option<String>,
}

impl JournalRecord {
    /// This record as one line of JSON (no trailing newline), keys in the documented
    /// order.
    pub fn to_json_line(&self) -> String {
        let text = |s: &str| Value::String(s.to_string());
        let optional = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
        let policy = match &self.policy {
            Some(stamp) => format!(
                r#"{{"version":{},"hash":{}}}"#,
                stamp.version,
                text(&stamp.hash)
            ),
            None => "null".to_string(),
        };
        // Value's Display is compact JSON and cannot fail, unlike serde_json::to_string.
        format!(
            r#"{{"seq":{},"at":{},"source":{},"event":{},"identity":{},"resource":{},"change":{},"gained":{},"lost":{},"policy":{},"mapping_hash":{}}}"#,
            self.seq,
            text(&self.at.to_string()),
            text(&self.source),
            text(&self.event),
            optional(&self.identity),
            optional(&self.resource),
            self.change,
            self.gained,
            self.lost,
            policy,
            optional(&self.mapping_hash),
        )
    }

    /// Reads a record from one line of JSON, as [`Self::to_json_line`] writes it.
    ///
    /// Strict: duplicate keys (at any depth) and unknown keys are refused, `gained` and
    /// `lost` must be arrays; `identity`, `resource`, `policy` and `mapping_hash` may be
    /// absent or `null`.
    ///
    /// # Errors
    /// [`StoreError::JournalLine`] (`tenure::store::journal_line`) naming the problem.
    pub fn from_json_line(line: &str) -> Result<JournalRecord, StoreError> {
        let value = tenure::json::parse(line).map_err(|e| StoreError::JournalLine {
            reason: e.to_string(),
        })?;
        let record: JournalRecord =
            serde_json::from_value(value).map_err(|e| StoreError::JournalLine {
                reason: e.to_string(),
            })?;
        record
            .check()
            .map_err(|reason| StoreError::JournalLine { reason })?;
        Ok(record)
    }

    /// What must hold of a record before it is stored.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (name, value) in [("gained", &self.gained), ("lost", &self.lost)] {
            if !value.is_array() {
                return Err(format!("`{name}` must be a JSON array, not `{value}`"));
            }
        }
        Ok(())
    }
}

/// An event to apply later (a leaver's purge after 30 days, a temporary grant's end).
///
/// `id` is assigned by [`Transaction::schedule_add`](super::Transaction::schedule_add)
/// (the value passed in is ignored) and never reused, even after the record is removed.
///
/// ```
/// use tenure_directory::store::ScheduledRecord;
///
/// let record = ScheduledRecord {
///     id: 0,
///     at: "2025-04-01T00:00:00Z".parse()?,
///     source: "schedule".into(),
///     event: serde_json::json!({"purge": "pamela"}),
///     created: "2025-03-01T00:00:00Z".parse()?,
/// };
/// assert_eq!(serde_json::to_value(&record)?["at"], "2025-04-01T00:00:00Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRecord {
    /// The id, assigned by `schedule_add`.
    pub id: u64,
    /// When the event is due (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// Who scheduled it: `schedule`, `cli`, `api`, …
    pub source: String,
    /// The event to apply, as JSON.
    pub event: Value,
    /// When it was scheduled (RFC 3339 in JSON).
    #[serde(with = "rfc3339")]
    pub created: Timestamp,
}

/// Serde for timestamps as RFC 3339 text (jiff's `Display` and `FromStr`).
mod rfc3339 {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        at: &Timestamp,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(at)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse::<Timestamp>().map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> JournalRecord {
        JournalRecord {
            seq: 3,
            at: Timestamp::from_microsecond(1_700_000_000_123_456).unwrap(),
            source: "cli".into(),
            event: "leave".into(),
            identity: Some("p\"am\nela".into()),
            resource: Some("db-17".into()),
            change: json!({"leave": {"id": "pamela", "ünïcode": "✓"}}),
            gained: json!([]),
            lost: json!(["db-17", {"grant": "ssh"}]),
            policy: Some(PolicyStamp {
                version: 4,
                hash: "sha256:00ff".into(),
            }),
            mapping_hash: Some("sha256:aa".into()),
        }
    }

    #[test]
    fn json_line_agrees_with_serde() {
        for record in [
            record(),
            JournalRecord {
                identity: None,
                resource: None,
                policy: None,
                mapping_hash: None,
                ..record()
            },
        ] {
            let line = record.to_json_line();
            assert_eq!(line, serde_json::to_string(&record).unwrap());
            assert!(!line.contains('\n'));
            assert_eq!(JournalRecord::from_json_line(&line).unwrap(), record);
        }
    }

    #[test]
    fn json_line_keys_in_documented_order() {
        let line = record().to_json_line();
        let keys = [
            "seq",
            "at",
            "source",
            "event",
            "identity",
            "resource",
            "change",
            "gained",
            "lost",
            "policy",
            "mapping_hash",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| line.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
        assert!(
            line.contains(r#""at":"2023-11-14T22:13:20.123456Z""#),
            "{line}"
        );
    }

    #[test]
    fn json_line_is_strict() {
        let line = record().to_json_line();
        let duplicate = line.replacen(r#""seq":3,"#, r#""seq":3,"seq":4,"#, 1);
        let error = JournalRecord::from_json_line(&duplicate).unwrap_err();
        assert_eq!(error.code(), "tenure::store::journal_line");
        assert!(error.to_string().contains("seq"), "{error}");

        let nested = line.replacen(r#""id":"pamela","#, r#""id":"pamela","id":"x","#, 1);
        assert!(JournalRecord::from_json_line(&nested).is_err());

        let unknown = line.replacen(r#""seq":3,"#, r#""seq":3,"extra":1,"#, 1);
        assert!(JournalRecord::from_json_line(&unknown).is_err());

        let not_array = line.replacen(r#""gained":[]"#, r#""gained":{}"#, 1);
        let error = JournalRecord::from_json_line(&not_array).unwrap_err();
        assert!(
            error.to_string().contains("`gained` must be a JSON array"),
            "{error}"
        );

        let bad_time = line.replacen("2023-11-14T22:13:20.123456Z", "yesterday", 1);
        assert!(JournalRecord::from_json_line(&bad_time).is_err());

        assert!(JournalRecord::from_json_line("").is_err());
        assert!(JournalRecord::from_json_line("[]").is_err());
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let line = r#"{"seq":1,"at":"2025-01-01T00:00:00Z","source":"cli","event":"join","change":{},"gained":[],"lost":[]}"#;
        let record = JournalRecord::from_json_line(line).unwrap();
        assert_eq!(record.identity, None);
        assert_eq!(record.policy, None);
    }

    #[test]
    fn scim_kind_round_trips() {
        for kind in [ScimKind::User, ScimKind::Group] {
            assert_eq!(kind.as_str().parse::<ScimKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert!("user".parse::<ScimKind>().is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json_leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                // serde_json (without its `float_roundtrip` feature) may read a float back
                // one ulp off; floats with short decimal forms come back exactly.
                any::<i32>().prop_map(|i| Value::from(f64::from(i) / 64.0)),
                any::<String>().prop_map(Value::from),
            ]
        }

        fn json() -> impl Strategy<Value = Value> {
            json_leaf().prop_recursive(4, 32, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map(any::<String>(), inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn array() -> impl Strategy<Value = Value> {
            prop::collection::vec(json(), 0..4).prop_map(Value::from)
        }

        fn record() -> impl Strategy<Value = JournalRecord> {
            (
                any::<u64>(),
                // jiff's range, in microseconds.
                -377_705_116_800_000_000i64..=253_402_207_200_000_000,
                (any::<String>(), any::<String>()),
                (any::<Option<String>>(), any::<Option<String>>()),
                (json(), array(), array()),
                any::<Option<(u64, String)>>(),
                any::<Option<String>>(),
            )
                .prop_map(
                    |(
                        seq,
                        micros,
                        (source, event),
                        (identity, resource),
                        (change, gained, lost),
                        policy,
                        mapping_hash,
                    )| {
                        JournalRecord {
                            seq,
                            at: Timestamp::from_microsecond(micros).unwrap(),
                            source,
                            event,
                            identity,
                            resource,
                            change,
                            gained,
                            lost,
                            policy: policy.map(|(version, hash)| PolicyStamp { version, hash }),
                            mapping_hash,
                        }
                    },
                )
        }

        proptest! {
            #[test]
            fn json_lines_round_trip(record in record()) {
                let line = record.to_json_line();
                prop_assert!(!line.contains('\n'));
                prop_assert_eq!(&line, &serde_json::to_string(&record).unwrap());
                prop_assert_eq!(JournalRecord::from_json_line(&line).unwrap(), record);
            }
        }
    }
}
