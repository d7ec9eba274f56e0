//! [`Lifecycle`]: a store with a policy — every event applied durably, with the exact
//! access it changed, in one transaction with its journal record.
//!
//! The directory and inventory are kept in memory (the model of `tenure::lifecycle`,
//! whose reverse queries compute access changes) and in the store (the truth). Every
//! write runs in one store transaction: it first checks that the journal head is the one
//! the memory copy was built at (another process — a `tenure serve` replica on the same
//! PostgreSQL — may have written since) and reloads when it is not; then it validates the
//! event against the model, computes the access change, writes the new state and the
//! journal record, and commits. Only then is the event acknowledged (returned). A failed
//! event writes nothing; a failed commit leaves the memory copy marked stale.
//!
//! ```
//! use tenure_directory::Lifecycle;
//! use tenure::lifecycle::Event;
//! use tenure::{Identity, Policy, Resource};
//!
//! let dir = tempfile::tempdir()?;
//! let mut lifecycle = Lifecycle::open(&format!("sqlite:{}", dir.path().join("t.db").display()))?;
//! lifecycle.set_policy(Policy::compile(r#"
//!     @id("cloud") role = CloudEngineer grants tag:env = cloud;
//!     @id("leavers") status != active denies *;
//! "#)?, "example")?;
//! lifecycle.apply(Event::AddResource { resource: Resource::new().with("id", "vm-1").with_tag("env", "cloud") }, "cli")?;
//! let pamela = Identity::new().with("id", "pamela").with("role", "CloudEngineer").with("status", "active");
//! let joined = lifecycle.apply(Event::Join { identity: pamela }, "cli")?;
//! assert_eq!(joined.seq, 3); // 1: the policy, 2: the resource
//! assert_eq!(joined.gained, serde_json::json!([{"resource": "vm-1", "reasons": ["cloud"]}]));
//! let left = lifecycle.apply(Event::Leave { id: "pamela".into() }, "cli")?;
//! assert_eq!(left.lost[0]["resource"], "vm-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod scim;

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};
use tenure::lifecycle::{Directory, Event, Inventory, Scheduled, Subject};
use tenure::{InputError, Policy};

pub use self::scim::ScimApplied;
use crate::mapping::Mapping;
use crate::scim::ScimRequest;
use crate::store::{
    self, JournalRecord, PolicyStamp, ScheduledRecord, Store, StoreError, Transaction,
};

/// Why a lifecycle operation failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The store failed (open, read, write, commit).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event does not apply: unknown id, a join of an existing id, a bad change.
    #[error(transparent)]
    Event(#[from] InputError),
    /// A SCIM request was refused (status, `scimType`, detail).
    #[error("{0}")]
    Scim(#[from] crate::scim::ScimError),
    /// `cancel` of an id that is not (or no longer) scheduled.
    #[error("no event {0} is scheduled")]
    NotScheduled(u64),
    /// A journal or schedule entry in the store does not read back as an event.
    #[error("stored event does not read back: {0}")]
    CorruptEvent(String),
}

impl miette::Diagnostic for LifecycleError {
    /// The inner error's stable code, or `tenure::lifecycle::unknown_scheduled` /
    /// `tenure::lifecycle::corrupt_event`.
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            LifecycleError::Store(e) => miette::Diagnostic::code(e),
            LifecycleError::Event(e) => miette::Diagnostic::code(e),
            LifecycleError::Scim(e) => Some(Box::new(e.code())),
            LifecycleError::NotScheduled(_) => {
                Some(Box::new("tenure::lifecycle::unknown_scheduled"))
            }
            LifecycleError::CorruptEvent(_) => Some(Box::new("tenure::lifecycle::corrupt_event")),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            LifecycleError::Store(e) => miette::Diagnostic::help(e),
            LifecycleError::Event(e) => miette::Diagnostic::help(e),
            _ => None,
        }
    }
}

/// The meta key of the mapping text in force (empty: the default mapping).
const MAPPING_TOML: &str = "mapping_toml";

/// An acknowledged event: its journal record (sequence number, access change).
pub type Recorded = JournalRecord;

/// The policy in force and its stamp in the store.
#[derive(Debug, Clone)]
struct InForce {
    policy: Policy,
    stamp: PolicyStamp,
}

/// The in-memory model, valid for one journal head.
#[derive(Debug, Default)]
struct Model {
    directory: Directory,
    inventory: Inventory,
    /// The journal head this copy reflects; `None` when it must be reloaded.
    head: Option<u64>,
    /// SCIM users by lower-cased `userName`, built on first use (the uniqueness check of
    /// every create) and kept current by the writes of this handle.
    user_names: Option<scim::UserNames>,
}

/// A durable lifecycle: a [`Store`], the policy that computes access changes, and the
/// attribute mapping SCIM requests go through.
pub struct Lifecycle {
    store: Box<dyn Store>,
    policy: Option<InForce>,
    mapping: Arc<Mapping>,
    mapping_hash: String,
    model: Model,
    clock: Box<dyn Fn() -> Timestamp + Send>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("store", &self.store.describe())
            .field("policy", &self.policy.as_ref().map(|p| &p.stamp))
            .field("mapping_hash", &self.mapping_hash)
            .finish_non_exhaustive()
    }
}

/// The content hash of policy sources: the texts in order (not their names or paths, so
/// `./p.tenure` and `p.tenure` are the same policy), as `sha256:HEX`.
///
/// ```
/// use tenure_directory::policy_hash;
///
/// let a = policy_hash(&[("./p.tenure", "* grants *;")]);
/// assert_eq!(a, policy_hash(&[("p.tenure", "* grants *;")]));
/// assert_ne!(a, policy_hash(&[("p.tenure", "* denies *;")]));
/// assert!(a.starts_with("sha256:"));
/// ```
pub fn policy_hash<N: AsRef<str>, T: AsRef<str>>(sources: &[(N, T)]) -> String {
    let mut hasher = Sha256::new();
    for (_, text) in sources {
        let text = text.as_ref();
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Lifecycle {
    /// Opens (creating and migrating on first use) the store at `address` —
    /// `sqlite:PATH` or `postgres://…` — with the default mapping and no policy.
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn open(address: &str) -> Result<Lifecycle, LifecycleError> {
        Lifecycle::with_store(store::open(address)?)
    }

    /// A lifecycle over an open store.
    ///
    /// The mapping in force is the one last put in force on this store
    /// ([`Lifecycle::set_mapping_toml`]), else the default mapping.
    ///
    /// # Errors
    /// The store fails, or the stored mapping no longer reads.
    pub fn with_store(mut store: Box<dyn Store>) -> Result<Lifecycle, LifecycleError> {
        let stored = {
            let mut tx = store.begin()?;
            tx.meta_get(MAPPING_TOML)?
        };
        let mapping = match stored.as_deref() {
            Some(text) if !text.is_empty() => Mapping::from_toml(text)
                .map_err(|e| LifecycleError::CorruptEvent(format!("the stored mapping: {e}")))?,
            _ => Mapping::default(),
        };
        Ok(Lifecycle {
            store,
            policy: None,
            mapping_hash: mapping.content_hash(),
            mapping: Arc::new(mapping),
            model: Model::default(),
            clock: Box::new(Timestamp::now),
        })
    }

    /// Replaces the clock that stamps journal records and decides what is due (tests and
    /// simulations; the default is the system clock).
    pub fn set_clock(&mut self, clock: impl Fn() -> Timestamp + Send + 'static) {
        self.clock = Box::new(clock);
    }

    /// What the clock says now, to the microsecond (the store's precision, so that
    /// what a response shows is what a later read returns).
    pub fn now(&self) -> Timestamp {
        store::truncate_to_micros((self.clock)())
    }

    /// Puts `policy` in force for access changes, registering its content hash (from
    /// `hash_input`, such as [`policy_hash`] of its sources) with a version in the store.
    /// A policy not seen before is journaled as a `policy` record.
    ///
    /// # Errors
    /// The store fails; the previous policy stays in force.
    pub fn set_policy(
        &mut self,
        policy: Policy,
        hash_input: &str,
    ) -> Result<PolicyStamp, LifecycleError> {
        self.set_policy_from(policy, hash_input, "cli")
    }

    /// As [`Lifecycle::set_policy`], journaling the `policy` record with `source`. When
    /// another policy was in force on this handle, the record's `gained` and `lost` are
    /// the policy change's impact (`tenure::lifecycle::impact`: every identity and
    /// resource pair that gains or loses access); its `change` holds the version, hash
    /// and rule count, and the previous version.
    ///
    /// # Errors
    /// The store fails; the previous policy stays in force and nothing is written.
    pub fn set_policy_from(
        &mut self,
        policy: Policy,
        hash_input: &str,
        source: &str,
    ) -> Result<PolicyStamp, LifecycleError> {
        let hash = if hash_input.starts_with("sha256:") {
            hash_input.to_string()
        } else {
            policy_hash(&[("policy", hash_input)])
        };
        let at = self.now();
        let Lifecycle {
            store,
            model,
            policy: in_force,
            ..
        } = self;
        let mut tx = store.begin()?;
        refresh(model, &mut *tx)?;
        let known = tx.meta_get(&format!("policy:{hash}"))?.is_some();
        // Journal a policy only when it changes what the store serves: replicas
        // reloading the same files after one another record it once.
        let current = tx.meta_get("policy:current")?;
        let version = tx.policy_version(&hash)?;
        let stamp = PolicyStamp {
            version,
            hash: hash.clone(),
        };
        let previous = in_force.as_ref().filter(|p| p.stamp.hash != hash);
        if !known || current.as_deref() != Some(hash.as_str()) {
            let change = previous.map(|p| {
                tenure::lifecycle::impact(&p.policy, &policy, &model.directory, &model.inventory)
            });
            tx.meta_put(&format!("policy:{hash}"), &version.to_string())?;
            tx.meta_put("policy:current", &hash)?;
            tx.append(&JournalRecord {
                seq: 0,
                at,
                source: source.into(),
                event: "policy".into(),
                identity: None,
                resource: None,
                change: {
                    let mut change =
                        json!({"version": version, "hash": hash, "rules": policy.len()});
                    if let (Some(p), Some(map)) = (previous, change.as_object_mut()) {
                        map.insert("previous".into(), json!(p.stamp.version));
                    }
                    change
                },
                gained: json!(change.as_ref().map_or(&Vec::new(), |c| &c.gained)),
                lost: json!(change.as_ref().map_or(&Vec::new(), |c| &c.lost)),
                policy: Some(stamp.clone()),
                mapping_hash: None,
            })?;
        }
        tx.commit()?;
        model.head = None;
        *in_force = Some(InForce {
            policy,
            stamp: stamp.clone(),
        });
        Ok(stamp)
    }

    /// The stamp (version and hash) of the policy in force, if any.
    pub fn policy_stamp(&self) -> Option<&PolicyStamp> {
        self.policy.as_ref().map(|p| &p.stamp)
    }

    /// The policy in force, if any.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.as_ref().map(|p| &p.policy)
    }

    /// The mapping SCIM requests go through.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Puts `mapping` in force for this handle (to keep a mapping in the store for every
    /// later open, give its text to [`Lifecycle::set_mapping_toml`]). When its content hash differs from the one the store's
    /// identities were derived with, every SCIM user is derived again and each identity
    /// that changes is a `move` (or `leave`) in the journal, with its access change, all
    /// in one transaction.
    ///
    /// # Errors
    /// The store fails; the previous mapping stays in force and nothing is written.
    pub fn set_mapping(
        &mut self,
        mapping: Mapping,
        source: &str,
    ) -> Result<Vec<Recorded>, LifecycleError> {
        self.put_mapping(mapping, None, source)
    }

    /// Puts the mapping written in `toml` in force, as [`Lifecycle::set_mapping`] does,
    /// and keeps its text in the store, so that every later [`Lifecycle::open`] of the
    /// store (another process, the next CLI command) uses it too.
    ///
    /// # Errors
    /// The text is not a mapping (nothing changes), or the store fails.
    pub fn set_mapping_toml(
        &mut self,
        toml: &str,
        source: &str,
    ) -> Result<Vec<Recorded>, LifecycleError> {
        let mapping = Mapping::from_toml(toml)
            .map_err(|e| LifecycleError::CorruptEvent(format!("the mapping: {e}")))?;
        self.put_mapping(mapping, Some(toml), source)
    }

    fn put_mapping(
        &mut self,
        mapping: Mapping,
        toml: Option<&str>,
        source: &str,
    ) -> Result<Vec<Recorded>, LifecycleError> {
        let hash = mapping.content_hash();
        let mapping = Arc::new(mapping);
        let at = self.now();
        let mut recorded = Vec::new();
        {
            let Lifecycle {
                store,
                model,
                policy,
                ..
            } = self;
            let mut tx = store.begin()?;
            refresh(model, &mut *tx)?;
            model.head = None;
            let stored = tx.meta_get("mapping_hash")?;
            if stored.as_deref() != Some(hash.as_str()) {
                if stored.is_some() || !model.directory.is_empty() {
                    let targets = scim::derive_all(&mut *tx, &mapping)?;
                    for (id, after) in targets {
                        let before = model.directory.get(&id).cloned();
                        for event in Event::between(&id, before.as_ref(), after.as_ref()) {
                            recorded.push(apply_in(
                                &mut *tx,
                                model,
                                policy.as_ref(),
                                &event,
                                source,
                                at,
                                Some(&hash),
                            )?);
                        }
                    }
                }
                tx.meta_put("mapping_hash", &hash)?;
            }
            match toml {
                Some(text) => tx.meta_put(MAPPING_TOML, text)?,
                None if hash == Mapping::default().content_hash() => {
                    tx.meta_put(MAPPING_TOML, "")?
                }
                // A mapping built in code has no text to keep: it is in force for this
                // handle only (`set_mapping_toml` keeps it for later opens).
                None => {}
            }
            let head = tx.head()?;
            tx.commit()?;
            model.head = Some(head);
        }
        self.mapping = mapping;
        self.mapping_hash = hash;
        Ok(recorded)
    }

    /// Applies one event durably and returns its journal record (its sequence number
    /// and the access it changed). An event that changes nothing (a `Move` leaving every
    /// attribute equal, the `Leave` of an inactive identity) is not journaled: the record
    /// returned then has `seq` 0 and event `none`.
    ///
    /// # Errors
    /// The event does not apply (nothing is written) or the store fails.
    pub fn apply(&mut self, event: Event, source: &str) -> Result<Recorded, LifecycleError> {
        let mut results = self.apply_batch(vec![event], source)?;
        results
            .pop()
            .unwrap_or_else(|| Err(LifecycleError::CorruptEvent("no result".into())))
    }

    /// Applies several events in one transaction (group commit: one durable write for
    /// all), in order. Each event applies whole or not at all and has its own result; the
    /// records of those that applied are acknowledged together when the transaction
    /// commits.
    ///
    /// # Errors
    /// The store fails: nothing of the batch is written.
    pub fn apply_batch(
        &mut self,
        events: Vec<Event>,
        source: &str,
    ) -> Result<Vec<Result<Recorded, LifecycleError>>, LifecycleError> {
        let at = self.now();
        let Lifecycle {
            store,
            model,
            policy,
            mapping_hash,
            ..
        } = self;
        let mut tx = store.begin()?;
        refresh(model, &mut *tx)?;
        model.head = None;
        let mut results = Vec::with_capacity(events.len());
        for event in &events {
            let result = apply_in(
                &mut *tx,
                model,
                policy.as_ref(),
                event,
                source,
                at,
                Some(mapping_hash.as_str()),
            );
            // A store failure aborts the whole batch (the transaction rolls back when
            // dropped, the model stays marked stale); a refused event only itself.
            if let Err(LifecycleError::Store(e)) = result {
                return Err(LifecycleError::Store(e));
            }
            results.push(result);
        }
        let head = tx.head()?;
        tx.commit()?;
        model.head = Some(head);
        Ok(results)
    }

    /// Schedules `event` to apply at `at` (see [`Lifecycle::advance`]); returns its id.
    ///
    /// # Errors
    /// The store fails.
    pub fn schedule(
        &mut self,
        at: Timestamp,
        event: Event,
        source: &str,
    ) -> Result<u64, LifecycleError> {
        let created = self.now();
        let mut tx = self.store.begin()?;
        let id = tx.schedule_add(&ScheduledRecord {
            id: 0,
            at,
            source: source.to_string(),
            event: event.to_json(),
            created,
        })?;
        tx.commit()?;
        Ok(id)
    }

    /// Every scheduled entry (events and SCIM requests), in time order.
    ///
    /// # Errors
    /// The store fails.
    pub fn scheduled(&mut self) -> Result<Vec<ScheduledRecord>, LifecycleError> {
        let mut tx = self.store.begin()?;
        Ok(tx.schedule_list()?)
    }

    /// Cancels a scheduled event.
    ///
    /// # Errors
    /// No event with this id is scheduled (`tenure::lifecycle::unknown_scheduled`), or
    /// the store fails.
    pub fn cancel(&mut self, id: u64) -> Result<ScheduledRecord, LifecycleError> {
        let mut tx = self.store.begin()?;
        let found = tx.schedule_list()?.into_iter().find(|r| r.id == id);
        let Some(record) = found else {
            return Err(LifecycleError::NotScheduled(id));
        };
        tx.schedule_remove(id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Schedules a SCIM request to apply at `at` (an IdP's deactivation effective at
    /// the end of someone's last day); returns its id. When due it applies exactly as
    /// [`Lifecycle::scim`] would, journaled with source `schedule`.
    ///
    /// # Errors
    /// The store fails.
    pub fn schedule_scim(
        &mut self,
        at: Timestamp,
        request: &ScimRequest,
    ) -> Result<u64, LifecycleError> {
        let created = self.now();
        let mut tx = self.store.begin()?;
        let id = tx.schedule_add(&ScheduledRecord {
            id: 0,
            at,
            source: "scim".into(),
            event: json!({"scim": request.to_json()}),
            created,
        })?;
        tx.commit()?;
        Ok(id)
    }

    /// Applies every scheduled entry due at `now` (at or before it), in time order, each
    /// in its own transaction with its journal records (source `schedule`, stamped with
    /// the entry's effective time). An entry that no longer applies (its identity was
    /// purged, its SCIM request is refused) is removed from the schedule and reported as
    /// an error in its place; the others still apply.
    ///
    /// # Errors
    /// The store fails: the entries applied before stay applied.
    pub fn advance(
        &mut self,
        now: Timestamp,
    ) -> Result<Vec<Result<Recorded, LifecycleError>>, LifecycleError> {
        let mapping = Arc::clone(&self.mapping);
        let mapping_hash = self.mapping_hash.clone();
        let mut results = Vec::new();
        loop {
            let Lifecycle {
                store,
                model,
                policy,
                ..
            } = self;
            let mut tx = store.begin()?;
            let Some(entry) = tx
                .schedule_list()?
                .into_iter()
                .next()
                .filter(|e| e.at <= now)
            else {
                break;
            };
            refresh(model, &mut *tx)?;
            model.head = None;
            tx.schedule_remove(entry.id)?;
            let applied = match planned(&entry) {
                Ok(Planned::Event(event)) => apply_in(
                    &mut *tx,
                    model,
                    policy.as_ref(),
                    &event,
                    "schedule",
                    entry.at,
                    Some(&mapping_hash),
                )
                .map(|r| vec![r]),
                Ok(Planned::Scim(request)) => scim::scim_in(
                    &mut *tx,
                    model,
                    policy.as_ref(),
                    &mapping,
                    &mapping_hash,
                    &request,
                    "schedule",
                    entry.at,
                )
                .map(|a| a.result.records),
                Err(e) => Err(e),
            };
            match applied {
                Ok(records) => {
                    let head = tx.head()?;
                    tx.commit()?;
                    model.head = Some(head);
                    results.extend(records.into_iter().filter(|r| r.seq != 0).map(Ok));
                }
                Err(LifecycleError::Store(e)) => return Err(LifecycleError::Store(e)),
                Err(e) => {
                    drop(tx);
                    let mut tx = store.begin()?;
                    tx.schedule_remove(entry.id)?;
                    tx.commit()?;
                    results.push(Err(e));
                }
            }
        }
        Ok(results)
    }

    /// Rebuilds an empty store from an exported journal (`tenure journal` output read
    /// back with [`JournalRecord::from_json_line`]): every record is appended as it was
    /// (sequence numbers, times, sources, access changes and policy stamps kept) and its
    /// event applied to the directory and inventory, in one transaction. Records of other
    /// kinds (`policy`) are kept without a state change.
    ///
    /// # Errors
    /// The store is not empty; the records are not numbered 1, 2, 3, …; an event does not
    /// apply (a journal that was edited); the store fails. Nothing is written on error.
    pub fn import_journal(&mut self, records: &[JournalRecord]) -> Result<usize, LifecycleError> {
        let Lifecycle { store, model, .. } = self;
        let mut tx = store.begin()?;
        if tx.head()? != 0 {
            return Err(LifecycleError::CorruptEvent(
                "a journal is imported into an empty store only".into(),
            ));
        }
        *model = Model {
            head: None,
            ..Model::default()
        };
        for (n, record) in records.iter().enumerate() {
            if record.seq != n as u64 + 1 {
                return Err(LifecycleError::CorruptEvent(format!(
                    "record {} has sequence number {}; an exported journal is numbered 1, 2, 3, …",
                    n + 1,
                    record.seq
                )));
            }
            if let Some(stamp) = &record.policy {
                tx.policy_version(&stamp.hash)?;
                tx.meta_put(
                    &format!("policy:{}", stamp.hash),
                    &stamp.version.to_string(),
                )?;
                if record.event == "policy" {
                    tx.meta_put("policy:current", &stamp.hash)?;
                }
            }
            if let Ok(event) = serde_json::from_value::<Event>(record.change.clone()) {
                replay_one(&mut *tx, model, &event)?;
            }
            tx.append(record)?;
        }
        let head = tx.head()?;
        tx.commit()?;
        model.head = Some(head);
        Ok(records.len())
    }

    /// The journal's last sequence number (0 when empty).
    ///
    /// # Errors
    /// The store fails.
    pub fn head(&mut self) -> Result<u64, LifecycleError> {
        let mut tx = self.store.begin()?;
        Ok(tx.head()?)
    }

    /// Journal records after `since` (all with 0), in order.
    ///
    /// # Errors
    /// The store fails.
    pub fn journal(&mut self, since: u64) -> Result<Vec<JournalRecord>, LifecycleError> {
        let mut out = Vec::new();
        let mut after = since;
        loop {
            let page = self.store.journal_since(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            out.extend(page);
        }
        Ok(out)
    }

    /// The directory (reloaded from the store when another writer changed it).
    ///
    /// # Errors
    /// The store fails.
    pub fn directory(&mut self) -> Result<&Directory, LifecycleError> {
        self.fresh()?;
        Ok(&self.model.directory)
    }

    /// The inventory (reloaded from the store when another writer changed it).
    ///
    /// # Errors
    /// The store fails.
    pub fn inventory(&mut self) -> Result<&Inventory, LifecycleError> {
        self.fresh()?;
        Ok(&self.model.inventory)
    }

    /// Every resource identity `id` can reach under the policy in force (empty without
    /// one), with the deciding grants; `None` when no such identity is on record.
    ///
    /// # Errors
    /// The store fails.
    pub fn entitlements(
        &mut self,
        id: &str,
    ) -> Result<Option<Vec<tenure::lifecycle::Entitlement>>, LifecycleError> {
        self.fresh()?;
        let Some(identity) = self.model.directory.get(id) else {
            return Ok(None);
        };
        Ok(Some(self.policy.as_ref().map_or_else(Vec::new, |p| {
            p.policy.entitlements(identity, &self.model.inventory)
        })))
    }

    /// Every identity that can reach resource `id` under the policy in force, with the
    /// deciding grants; `None` when no such resource is on record.
    ///
    /// # Errors
    /// The store fails.
    pub fn who_can(
        &mut self,
        id: &str,
    ) -> Result<Option<Vec<tenure::lifecycle::Holder>>, LifecycleError> {
        self.fresh()?;
        let Some(resource) = self.model.inventory.get(id) else {
            return Ok(None);
        };
        Ok(Some(self.policy.as_ref().map_or_else(Vec::new, |p| {
            p.policy.who_can(resource, &self.model.directory)
        })))
    }

    fn fresh(&mut self) -> Result<(), LifecycleError> {
        let mut tx = self.store.begin()?;
        refresh(&mut self.model, &mut *tx)?;
        Ok(())
    }
}

/// Puts in force the mapping the store names, when another process put one in force
/// since this handle's (its text is kept by `set_mapping_toml`). A stored text that does
/// not read, or whose hash is not the stored one, leaves this handle's mapping.
fn follow_stored_mapping(
    tx: &mut dyn Transaction,
    mapping: &mut Arc<Mapping>,
    mapping_hash: &mut String,
) -> Result<(), LifecycleError> {
    let Some(stored) = tx.meta_get("mapping_hash")? else {
        return Ok(());
    };
    if stored == *mapping_hash {
        return Ok(());
    }
    let text = tx.meta_get(MAPPING_TOML)?.unwrap_or_default();
    let found = if text.is_empty() {
        Some(Mapping::default())
    } else {
        Mapping::from_toml(&text).ok()
    };
    if let Some(found) = found.filter(|m| m.content_hash() == stored) {
        *mapping = Arc::new(found);
        *mapping_hash = stored;
    }
    Ok(())
}

/// Reloads the model from the transaction when it is stale or the journal moved on.
fn refresh(model: &mut Model, tx: &mut dyn Transaction) -> Result<(), LifecycleError> {
    let head = tx.head()?;
    if model.head == Some(head) {
        return Ok(());
    }
    let mut directory = Directory::new();
    for (_, identity) in tx.identities()? {
        directory.insert(identity)?;
    }
    let mut inventory = Inventory::new();
    for (_, resource) in tx.resources()? {
        inventory.insert(resource)?;
    }
    *model = Model {
        directory,
        inventory,
        head: Some(head),
        user_names: None,
    };
    Ok(())
}

/// What a schedule entry holds: a lifecycle event, or a SCIM request (`{"scim": …}`).
enum Planned {
    Event(Event),
    Scim(ScimRequest),
}

fn planned(record: &ScheduledRecord) -> Result<Planned, LifecycleError> {
    match record.event.get("scim") {
        Some(request) => ScimRequest::from_json(&request.to_string())
            .map(Planned::Scim)
            .map_err(|e| {
                LifecycleError::CorruptEvent(format!("scheduled request {}: {e}", record.id))
            }),
        None => scheduled_of(record.clone()).map(|s| Planned::Event(s.event)),
    }
}

fn scheduled_of(record: ScheduledRecord) -> Result<Scheduled, LifecycleError> {
    let event = serde_json::from_value(record.event.clone())
        .map_err(|e| LifecycleError::CorruptEvent(format!("scheduled event {}: {e}", record.id)))?;
    Ok(Scheduled {
        id: record.id,
        at: record.at,
        event,
    })
}

/// Applies one event inside `tx`: validates it against the model (which it changes),
/// computes the access change under `policy`, writes the new state and the journal
/// record. On error nothing of this event counts: the transaction is not committed by a
/// caller that sees a store error, and the model is marked stale (reloaded before its
/// next use).
fn apply_in(
    tx: &mut dyn Transaction,
    model: &mut Model,
    policy: Option<&InForce>,
    event: &Event,
    source: &str,
    at: Timestamp,
    mapping_hash: Option<&str>,
) -> Result<Recorded, LifecycleError> {
    let state = apply_state(tx, model, policy.map(|p| &p.policy), event)?;
    let mut record = JournalRecord {
        seq: 0,
        at,
        source: source.to_string(),
        event: event.name().to_string(),
        identity: state.identity,
        resource: state.resource,
        change: event.to_json(),
        gained: state.gained,
        lost: state.lost,
        policy: policy.map(|p| p.stamp.clone()),
        mapping_hash: mapping_hash.map(str::to_string),
    };
    if !state.changed {
        record.event = "none".into();
        return Ok(record);
    }
    match tx.append(&record) {
        Ok(seq) => record.seq = seq,
        Err(e) => {
            model.head = None;
            return Err(e.into());
        }
    }
    Ok(record)
}

/// Applies a journaled event's state change inside `tx` (no journal record, no access
/// change: the record being replayed carries them).
fn replay_one(
    tx: &mut dyn Transaction,
    model: &mut Model,
    event: &Event,
) -> Result<(), LifecycleError> {
    apply_state(tx, model, None, event).map(|_| ())
}

/// What applying one event did to the state.
struct StateChange {
    identity: Option<String>,
    resource: Option<String>,
    changed: bool,
    /// The access gained and lost (empty arrays without a policy).
    gained: serde_json::Value,
    lost: serde_json::Value,
}

/// Applies `event` to the model and writes the record it changes in `tx`, with its
/// access change under `policy`. On error the model is marked stale.
fn apply_state(
    tx: &mut dyn Transaction,
    model: &mut Model,
    policy: Option<&Policy>,
    event: &Event,
) -> Result<StateChange, LifecycleError> {
    let result = apply_state_unchecked(tx, model, policy, event);
    if result.is_err() {
        model.head = None;
    }
    result
}

fn apply_state_unchecked(
    tx: &mut dyn Transaction,
    model: &mut Model,
    policy: Option<&Policy>,
    event: &Event,
) -> Result<StateChange, LifecycleError> {
    // An event that applied names its record (a join's or add's entity carries its id).
    let id = match event.subject() {
        Some(Subject::Identity(id) | Subject::Resource(id)) => id.to_string(),
        None => String::new(),
    };
    let on_resource = matches!(
        event,
        Event::AddResource { .. } | Event::ChangeResource { .. } | Event::RemoveResource { .. }
    );
    if on_resource {
        let applied = model.inventory.apply(event)?;
        match &applied.after {
            Some(r) if applied.changed() => tx.put_resource(&id, r)?,
            Some(_) => {}
            None => {
                tx.delete_resource(&id)?;
            }
        }
        let change = policy
            .map(|p| p.resource_access_change(&applied, &model.directory))
            .unwrap_or_default();
        Ok(StateChange {
            identity: None,
            resource: Some(id),
            changed: applied.changed(),
            gained: json!(change.gained),
            lost: json!(change.lost),
        })
    } else {
        let applied = model.directory.apply(event)?;
        match &applied.after {
            Some(i) if applied.changed() => tx.put_identity(&id, i)?,
            Some(_) => {}
            None => {
                tx.delete_identity(&id)?;
            }
        }
        let change = policy
            .map(|p| p.identity_access_change(&applied, &model.inventory))
            .unwrap_or_default();
        Ok(StateChange {
            identity: Some(id),
            resource: None,
            changed: applied.changed(),
            gained: json!(change.gained),
            lost: json!(change.lost),
        })
    }
}
