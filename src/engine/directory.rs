//! The directory at the proxy: identities by `id`, also found by `external_id` and
//! `email`, kept current from `tenure serve`'s journal feed.
//!
//! A token does not know that its holder left an hour ago; the directory does. A proxy
//! loads a [`DirectorySnapshot`] (the JSON Lines of `tenure directory export`, or nothing
//! and the whole journal), polls `GET /v1/journal?since=SEQ` with the snapshot's
//! [`seq`](DirectorySnapshot::seq), and feeds the lines to
//! [`Engine::apply_journal`](super::Engine::apply_journal). The library itself opens no
//! socket.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Engine, EngineError};
use crate::decide::decision::Decision;
use crate::diagnostics::Code;
use crate::entity::{Identity, Resource};
use crate::error::InputError;
use crate::lifecycle::{Directory, Event};
use crate::value::Value;

/// The identity attribute a subject's IdP user id is found by (what SCIM sends as
/// `externalId`, and what the default claims mapping fills from `sub`).
pub const EXTERNAL_ID_ATTRIBUTE: &str = "external_id";
/// The identity attribute a subject's email is found by (compared case-insensitively).
pub const EMAIL_ATTRIBUTE: &str = "email";

/// Whom [`Engine::authorize_subject`] decides for.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The directory id (the SCIM `id`).
    Id(&'a str),
    /// The `external_id` attribute (the IdP's user id, a token's `sub`).
    ExternalId(&'a str),
    /// The `email` attribute, compared case-insensitively.
    Email(&'a str),
    /// An identity built from a verified token's claims
    /// ([`Identity::from_claims`](crate::Identity::from_claims)): found by its `id`,
    /// else its `external_id`, else its `email` (the first that finds a record). The
    /// claims may add attributes; the directory's record wins on every attribute and tag
    /// it has, `status` included.
    Claims(&'a Identity),
}

/// Where a lookup key leads: one identity, or several (ambiguous: found as none).
type Lookup = FxHashMap<String, Vec<String>>;

/// Identities by `id`, `external_id` and `email`, and the journal sequence number they
/// reflect.
///
/// ```
/// use tenure::engine::{DirectorySnapshot, Subject};
///
/// let mut snapshot = DirectorySnapshot::from_json_lines(
///     r#"{"id": "u1", "external_id": "00u1", "email": "Pam@Example.com", "status": "active"}"#,
///     0,
/// )?;
/// assert!(snapshot.find(Subject::Email("pam@example.com")).is_some());
///
/// // One record of `GET /v1/journal`: pam leaves.
/// let line = r#"{"seq":1,"at":"2026-01-01T00:00:00Z","source":"scim","event":"leave","identity":"u1","resource":null,"change":{"event":"leave","id":"u1"},"gained":[],"lost":[],"policy":null,"mapping_hash":null}"#;
/// let applied = snapshot.apply_journal(line)?;
/// assert_eq!((applied.applied, applied.seq), (1, 1));
/// let pam = snapshot.find(Subject::ExternalId("00u1")).unwrap();
/// assert_eq!(pam.get("status"), Some(&"inactive".into()));
/// # Ok::<(), tenure::InputError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    identities: Directory,
    by_external_id: Lookup,
    by_email: Lookup,
    seq: u64,
}

/// What [`DirectorySnapshot::apply_journal`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalApplied {
    /// Identity events (join, move, leave, purge) applied.
    pub applied: usize,
    /// Records passed over: already reflected (sequence number at or below the
    /// snapshot's), or about something else (resources, the policy, the mapping).
    pub skipped: usize,
    /// The sequence number the directory now reflects: poll `since` it.
    pub seq: u64,
}

/// One journal line, read.
struct Record {
    seq: u64,
    at: String,
    event: Option<Event>,
}

impl DirectorySnapshot {
    /// An empty directory at journal sequence 0: applying the whole journal from the
    /// start builds the store's directory exactly.
    pub fn new() -> DirectorySnapshot {
        DirectorySnapshot::default()
    }

    /// Identities from JSON Lines (`tenure directory export`), reflecting the journal up
    /// to and including `seq`.
    ///
    /// # Errors
    /// As [`Directory::from_json_lines`], with the line.
    pub fn from_json_lines(text: &str, seq: u64) -> Result<DirectorySnapshot, InputError> {
        Ok(DirectorySnapshot::from_directory(
            Directory::from_json_lines(text)?,
            seq,
        ))
    }

    /// A snapshot of `identities`, reflecting the journal up to and including `seq`.
    pub fn from_directory(identities: Directory, seq: u64) -> DirectorySnapshot {
        let mut snapshot = DirectorySnapshot {
            identities: Directory::new(),
            by_external_id: Lookup::default(),
            by_email: Lookup::default(),
            seq,
        };
        for (id, identity) in identities.iter() {
            snapshot.index(id, identity);
        }
        snapshot.identities = identities;
        snapshot
    }

    /// The journal sequence number this snapshot reflects.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The identities.
    pub fn identities(&self) -> &Directory {
        &self.identities
    }

    /// The directory's record for `subject`, merged with the claims for
    /// [`Subject::Claims`]; `None` when no record — or more than one — matches.
    pub fn find<'s>(&'s self, subject: Subject<'_>) -> Option<Cow<'s, Identity>> {
        match subject {
            Subject::Id(id) => self.identities.get(id).map(Cow::Borrowed),
            Subject::ExternalId(key) => self.unique(&self.by_external_id, key).map(Cow::Borrowed),
            Subject::Email(key) => self
                .unique(&self.by_email, &key.to_lowercase())
                .map(Cow::Borrowed),
            Subject::Claims(claims) => {
                let text = |name: &str| match claims.get(name) {
                    Some(Value::Str(s)) => Some(s.as_str()),
                    _ => None,
                };
                let record = text(crate::lifecycle::ID_ATTRIBUTE)
                    .and_then(|id| self.identities.get(id))
                    .or_else(|| {
                        text(EXTERNAL_ID_ATTRIBUTE)
                            .and_then(|k| self.unique(&self.by_external_id, k))
                    })
                    .or_else(|| {
                        text(EMAIL_ATTRIBUTE)
                            .and_then(|k| self.unique(&self.by_email, &k.to_lowercase()))
                    })?;
                Some(Cow::Owned(merged(claims, record)))
            }
        }
    }

    fn unique(&self, lookup: &Lookup, key: &str) -> Option<&Identity> {
        match lookup.get(key).map(Vec::as_slice) {
            Some([id]) => self.identities.get(id),
            _ => None,
        }
    }

    /// Applies the records of `GET /v1/journal` (JSON Lines, blank lines ignored), in
    /// order, whole or not at all.
    ///
    /// Records at or below [`Self::seq`] are passed over (polling may overlap), as are
    /// records about anything but identities. The first new record must follow
    /// [`Self::seq`] directly, and each the one before.
    ///
    /// # Errors
    /// `tenure::engine::journal_record`: a line that is not a journal record, or whose
    /// event does not apply to this directory (a move of an identity it does not hold);
    /// `tenure::engine::journal_gap`: records are missing. Each names the line. Nothing
    /// changes on error.
    pub fn apply_journal(&mut self, records: &str) -> Result<JournalApplied, InputError> {
        let (next, applied) = self.with_journal(records)?;
        if let Some(next) = next {
            *self = next;
        }
        Ok(applied)
    }

    /// What [`Self::apply_journal`] does, leaving `self` as it is: the new snapshot
    /// (`None` when no record was new) and the count.
    fn with_journal(
        &self,
        records: &str,
    ) -> Result<(Option<DirectorySnapshot>, JournalApplied), InputError> {
        let parsed = read_records(records, self.seq)?;
        let lines = count_lines(records);
        if parsed.is_empty() {
            let applied = JournalApplied {
                applied: 0,
                skipped: lines,
                seq: self.seq,
            };
            return Ok((None, applied));
        }
        let mut next = self.clone();
        let applied = next.apply_records(&parsed, lines)?;
        Ok((Some(next), applied))
    }

    /// Applies checked, new, in-order records; may leave `self` half-changed on error
    /// (callers work on a copy).
    fn apply_records(
        &mut self,
        records: &[(usize, Record)],
        lines: usize,
    ) -> Result<JournalApplied, InputError> {
        let mut applied = 0;
        for (line, record) in records {
            if let Some(event) = &record.event {
                let done = self.identities.apply(event).map_err(|e| {
                    InputError::new(
                        Code::JournalRecord,
                        format!("line {line} (seq {}): change", record.seq),
                        format!(
                            "the {} of {} does not apply to this directory: {e}",
                            event.name(),
                            record.at
                        ),
                    )
                })?;
                if let Some(before) = &done.before {
                    self.unindex(before);
                }
                if let Some(after) = &done.after {
                    if let Some(id) = crate::lifecycle::id_of(after) {
                        let id = id.to_string();
                        self.index(&id, after);
                    }
                }
                applied += 1;
            }
            self.seq = record.seq;
        }
        Ok(JournalApplied {
            applied,
            skipped: lines - applied,
            seq: self.seq,
        })
    }

    fn index(&mut self, id: &str, identity: &Identity) {
        for (lookup, key) in self.keys(identity) {
            lookup.entry(key).or_default().push(id.to_string());
        }
    }

    fn unindex(&mut self, identity: &Identity) {
        let Some(id) = crate::lifecycle::id_of(identity).map(str::to_string) else {
            return;
        };
        for (lookup, key) in self.keys(identity) {
            if let Some(ids) = lookup.get_mut(&key) {
                ids.retain(|other| *other != id);
                if ids.is_empty() {
                    lookup.remove(&key);
                }
            }
        }
    }

    /// The lookup keys of `identity`, each with the map it goes in.
    fn keys(&mut self, identity: &Identity) -> Vec<(&mut Lookup, String)> {
        let mut keys = Vec::with_capacity(2);
        let external = match identity.get(EXTERNAL_ID_ATTRIBUTE) {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let email = match identity.get(EMAIL_ATTRIBUTE) {
            Some(Value::Str(s)) => Some(s.to_lowercase()),
            _ => None,
        };
        if let Some(k) = external {
            keys.push((&mut self.by_external_id, k));
        }
        if let Some(k) = email {
            keys.push((&mut self.by_email, k));
        }
        keys
    }
}

/// The claims' identity with every attribute and tag of the directory's record over it.
fn merged(claims: &Identity, record: &Identity) -> Identity {
    let mut identity = claims.clone();
    for (name, value) in record.attributes() {
        // INVARIANT: `record` already holds `name`, so it is not the reserved `tags`.
        let _ = identity.set(name, value.clone());
    }
    for (key, value) in record.tags() {
        identity.set_tag(key, value);
    }
    identity
}

fn count_lines(text: &str) -> usize {
    crate::json::lines(text).count()
}

/// Reads every line, keeps those after `seq` (checking that they follow one another)
/// with their 1-based line numbers.
fn read_records(text: &str, mut seq: u64) -> Result<Vec<(usize, Record)>, InputError> {
    let mut records = Vec::new();
    for (n, line) in crate::json::lines(text) {
        let at = format!("line {n}");
        let record = read_record(line).map_err(|e| e.located(&at))?;
        if record.seq <= seq && records.is_empty() {
            continue;
        }
        if record.seq != seq + 1 {
            return Err(InputError::new(
                Code::JournalGap,
                at,
                format!(
                    "record {} follows {seq}: records {} to {} are missing",
                    record.seq,
                    seq + 1,
                    record.seq.saturating_sub(1)
                ),
            ));
        }
        seq = record.seq;
        records.push((n, record));
    }
    Ok(records)
}

fn read_record(line: &str) -> Result<Record, InputError> {
    let json = crate::json::parse(line)?;
    let bad = |path: &str, message: &str| InputError::new(Code::JournalRecord, path, message);
    let object = json
        .as_object()
        .ok_or_else(|| bad("", "a journal record is a JSON object"))?;
    let seq = object
        .get("seq")
        .and_then(serde_json::Value::as_u64)
        .filter(|&s| s > 0)
        .ok_or_else(|| bad("seq", "`seq` must be a positive integer"))?;
    let name = object
        .get("event")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("event", "`event` must be a string"))?;
    let at = object
        .get("at")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("an unknown time")
        .to_string();
    let event = match name {
        "join" | "move" | "leave" | "purge" => {
            let change = object
                .get("change")
                .ok_or_else(|| bad("change", "an identity event's record carries its `change`"))?;
            let event: Event = serde_json::from_value(change.clone())
                .map_err(|e| bad("change", &format!("not an event: {e}")))?;
            if event.name() != name {
                return Err(bad(
                    "change.event",
                    &format!(
                        "the record says `{name}` but its change is a `{}`",
                        event.name()
                    ),
                ));
            }
            Some(event)
        }
        _ => None,
    };
    Ok(Record { seq, at, event })
}

impl Engine {
    /// Serves `snapshot` as the directory [`Engine::authorize_subject`] decides on.
    pub fn set_directory(&self, snapshot: DirectorySnapshot) {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.directory.store(Some(Arc::new(snapshot)));
    }

    /// The directory snapshot being served, if any.
    pub fn directory(&self) -> Option<Arc<DirectorySnapshot>> {
        self.directory.load_full()
    }

    /// The journal sequence number the served directory reflects (`None` without one):
    /// poll `GET /v1/journal?since=` it.
    pub fn journal_seq(&self) -> Option<u64> {
        self.directory.load().as_ref().map(|d| d.seq())
    }

    /// Applies journal records (the JSON Lines of `GET /v1/journal?since=SEQ`) to the
    /// served directory — starting from an empty one at sequence 0 when there is none —
    /// and swaps the result in atomically; on error the served directory is unchanged.
    ///
    /// # Errors
    /// As [`DirectorySnapshot::apply_journal`].
    pub fn apply_journal(&self, records: &str) -> Result<JournalApplied, EngineError> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.directory.load_full();
        let empty = DirectorySnapshot::new();
        let (next, applied) = current.as_deref().unwrap_or(&empty).with_journal(records)?;
        match (next, &current) {
            (Some(next), _) => self.directory.store(Some(Arc::new(next))),
            // An engine without a directory starts one at sequence 0.
            (None, None) => self.directory.store(Some(Arc::new(empty))),
            (None, Some(_)) => {}
        }
        Ok(applied)
    }

    /// Decides for `subject` on the directory's record of it (see [`Subject`]); a
    /// subject the directory does not hold — or holds twice, or an engine without a
    /// directory — is denied ([`DecidedBy::UnknownSubject`](crate::DecidedBy)).
    ///
    /// ```
    /// use tenure::engine::{DirectorySnapshot, Subject};
    /// use tenure::{Engine, Identity, Policy, Resource};
    ///
    /// let engine = Engine::new(Policy::compile(
    ///     "role = DBA grants type = postgres; status != active denies *;",
    /// )?);
    /// engine.set_directory(DirectorySnapshot::from_json_lines(
    ///     r#"{"id": "u1", "external_id": "00u1", "role": "DBA", "status": "inactive"}"#,
    ///     0,
    /// )?);
    /// let db = Resource::new().with("type", "postgres");
    /// // The token still says active; the directory knows she left.
    /// let claims = Identity::new().with("external_id", "00u1").with("status", "active").with("role", "DBA");
    /// assert!(!engine.authorize_subject(Subject::Claims(&claims), &db).is_allowed());
    /// assert!(!engine.authorize_subject(Subject::Id("nobody"), &db).is_allowed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorize_subject(&self, subject: Subject<'_>, resource: &Resource) -> Decision {
        let serving = self.serving.load();
        let directory = self.directory.load();
        match directory.as_ref().and_then(|d| d.find(subject)) {
            Some(identity) => serving.authorize(&identity, resource),
            None => Decision::unknown_subject(serving.version),
        }
    }
}
