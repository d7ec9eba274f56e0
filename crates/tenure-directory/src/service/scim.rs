//! SCIM requests applied to the lifecycle: the translation (`crate::scim`) gives the
//! records to write and each affected user's identity before and after; here they become
//! events, access changes and journal records, in one transaction with the SCIM records.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use tenure::lifecycle::Event;
use tenure::Identity;

use std::sync::Arc;

use jiff::Timestamp;

use super::{apply_in, refresh, InForce, Lifecycle, LifecycleError, Model, Recorded};
use crate::mapping::Mapping;
use crate::scim::{
    self, user_name_of, user_named_by_scan, Context, ScimData, ScimError, ScimRequest, ScimWrite,
};
use crate::store::{ScimKind, ScimRecord, Transaction};

/// The result of a SCIM request applied to the lifecycle.
#[derive(Debug, Clone)]
pub struct ScimApplied {
    /// The HTTP status (200, 201, 204).
    pub status: u16,
    /// The SCIM response body (`None` for 204).
    pub response: Option<Json>,
    /// The `Location` header of a created resource.
    pub location: Option<String>,
    /// The `ETag` header (the resource's `meta.version`).
    pub etag: Option<String>,
    /// The journal records of the identity events the request caused, in order (empty
    /// when no identity changed: a GET, a group without members, a re-sent name).
    pub records: Vec<Recorded>,
}

/// [`ScimData`] over a store transaction, with the handle's index of user names when
/// there is one.
struct TxData<'a> {
    tx: &'a mut dyn Transaction,
    names: Option<&'a mut Option<UserNames>>,
}

impl ScimData for TxData<'_> {
    fn get(&mut self, kind: ScimKind, id: &str) -> Result<Option<ScimRecord>, ScimError> {
        self.tx.scim_get(kind, id).map_err(store_failure)
    }

    fn list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, ScimError> {
        self.tx.scim_list(kind).map_err(store_failure)
    }

    fn user_named(&mut self, name: &str) -> Result<Option<String>, ScimError> {
        let Some(names) = self.names.as_deref_mut() else {
            return user_named_by_scan(
                &mut TxData {
                    tx: &mut *self.tx,
                    names: None,
                },
                name,
            );
        };
        if names.is_none() {
            let mut index = UserNames::default();
            for user in self.tx.scim_list(ScimKind::User).map_err(store_failure)? {
                index.put(&user);
            }
            *names = Some(index);
        }
        Ok(names
            .as_ref()
            .and_then(|index| index.by_name.get(&name.to_lowercase()).cloned()))
    }
}

/// SCIM users by lower-cased `userName` (and back), for the uniqueness check.
#[derive(Debug, Default)]
pub(super) struct UserNames {
    by_name: std::collections::HashMap<String, String>,
    by_id: std::collections::HashMap<String, String>,
}

impl UserNames {
    /// Records (or replaces) a user's name.
    fn put(&mut self, user: &ScimRecord) {
        self.remove(&user.id);
        if let Some(name) = user_name_of(&user.body) {
            let name = name.to_lowercase();
            self.by_name.insert(name.clone(), user.id.clone());
            self.by_id.insert(user.id.clone(), name);
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(name) = self.by_id.remove(id) {
            if self.by_name.get(&name).is_some_and(|owner| owner == id) {
                self.by_name.remove(&name);
            }
        }
    }

    /// Keeps the index current with a write of this handle.
    fn apply(&mut self, write: &ScimWrite) {
        match write {
            ScimWrite::Put(record) if record.kind == ScimKind::User => self.put(record),
            ScimWrite::Delete(ScimKind::User, id) => self.remove(id),
            _ => {}
        }
    }
}

fn store_failure(e: crate::store::StoreError) -> ScimError {
    ScimError::internal(format!("store failure: {e}"))
}

impl Lifecycle {
    /// Applies one SCIM request (`POST`/`PUT`/`PATCH`/`DELETE`/`GET` on `/Users` and
    /// `/Groups`), exactly as `tenure serve` does: the SCIM records it writes and the
    /// identity events it causes commit in one transaction, each event journaled (with
    /// `source`) with its access change.
    ///
    /// # Errors
    /// [`LifecycleError::Scim`] for a refused request (its status, `scimType` and
    /// detail); a store failure. Nothing is written on error.
    pub fn scim(
        &mut self,
        request: &ScimRequest,
        source: &str,
    ) -> Result<ScimApplied, LifecycleError> {
        let now = self.now();
        let Lifecycle {
            store,
            model,
            policy,
            mapping,
            mapping_hash,
            ..
        } = self;
        let mut tx = store.begin()?;
        refresh(model, &mut *tx)?;
        // Another process (a replica, a CLI run) may have put another mapping in force.
        super::follow_stored_mapping(&mut *tx, mapping, mapping_hash)?;
        let mapping = Arc::clone(mapping);
        let mapping_hash = mapping_hash.clone();
        let applied = scim_in(
            &mut *tx,
            model,
            policy.as_ref(),
            &mapping,
            &mapping_hash,
            request,
            source,
            now,
        )?;
        if applied.wrote {
            let head = tx.head()?;
            tx.commit()?;
            model.head = Some(head);
        }
        Ok(applied.result)
    }
}

impl Lifecycle {
    /// Applies several SCIM requests in one transaction (group commit: one durable write
    /// for all), in order, each seeing the ones before it. A request the translation
    /// refuses (its own SCIM error: nothing of it was written) has its error in its
    /// place and the others still apply; the records of all are acknowledged together
    /// when the transaction commits.
    ///
    /// # Errors
    /// A failure after a request started writing (the store failed, an event did not
    /// apply): nothing of the batch is written, and the caller may apply the requests
    /// one by one with [`Lifecycle::scim`] to isolate it.
    pub fn scim_batch(
        &mut self,
        requests: &[ScimRequest],
        source: &str,
    ) -> Result<Vec<Result<ScimApplied, LifecycleError>>, LifecycleError> {
        let now = self.now();
        let Lifecycle {
            store,
            model,
            policy,
            mapping,
            mapping_hash,
            ..
        } = self;
        let mut tx = store.begin()?;
        refresh(model, &mut *tx)?;
        super::follow_stored_mapping(&mut *tx, mapping, mapping_hash)?;
        let (mapping, mapping_hash) = (Arc::clone(mapping), mapping_hash.clone());
        let mut results = Vec::with_capacity(requests.len());
        let mut wrote = false;
        for request in requests {
            match scim_in(
                &mut *tx,
                model,
                policy.as_ref(),
                &mapping,
                &mapping_hash,
                request,
                source,
                now,
            ) {
                Ok(applied) => {
                    wrote |= applied.wrote;
                    results.push(Ok(applied.result));
                }
                Err(LifecycleError::Scim(e)) => results.push(Err(LifecycleError::Scim(e))),
                Err(other) => {
                    model.head = None;
                    return Err(other);
                }
            }
        }
        if wrote {
            let head = tx.head()?;
            tx.commit()?;
            model.head = Some(head);
        }
        Ok(results)
    }

    /// Answers a SCIM request that only reads (`GET`, `POST …/.search`) in a read-only
    /// transaction, which does not take the store's write lock: readers do not queue
    /// behind writers. A request that turns out to write (it was not a read) is applied
    /// with [`Lifecycle::scim`] instead.
    ///
    /// # Errors
    /// As [`Lifecycle::scim`].
    pub fn scim_read(
        &mut self,
        request: &ScimRequest,
        source: &str,
    ) -> Result<ScimApplied, LifecycleError> {
        let now = self.now();
        let outcome = {
            let Lifecycle { store, mapping, .. } = &mut *self;
            let mut tx = store.begin_read()?;
            let context = Context {
                mapping,
                now,
                base_url: "/scim/v2",
            };
            scim::handle(
                request,
                &mut TxData {
                    tx: &mut *tx,
                    names: None,
                },
                &context,
            )?
        };
        if !outcome.writes.is_empty() || !outcome.updates.is_empty() {
            return self.scim(request, source);
        }
        Ok(ScimApplied {
            status: outcome.status,
            response: outcome.response,
            location: outcome.location,
            etag: outcome.etag,
            records: Vec::new(),
        })
    }
}

/// A SCIM request applied inside a transaction, and whether it wrote anything.
pub(super) struct InTransaction {
    pub(super) result: ScimApplied,
    pub(super) wrote: bool,
}

/// Applies one SCIM request inside `tx`: the translation's record writes, then each
/// affected user's events with their journal records. On error the caller must roll
/// the transaction back (some writes may have happened); the model is then stale.
#[allow(clippy::too_many_arguments)]
pub(super) fn scim_in(
    tx: &mut dyn Transaction,
    model: &mut Model,
    policy: Option<&InForce>,
    mapping: &Mapping,
    mapping_hash: &str,
    request: &ScimRequest,
    source: &str,
    now: Timestamp,
) -> Result<InTransaction, LifecycleError> {
    let context = Context {
        mapping,
        now,
        base_url: "/scim/v2",
    };
    let outcome = scim::handle(
        request,
        &mut TxData {
            tx: &mut *tx,
            names: Some(&mut model.user_names),
        },
        &context,
    )?;
    let mut result = ScimApplied {
        status: outcome.status,
        response: outcome.response,
        location: outcome.location,
        etag: outcome.etag,
        records: Vec::new(),
    };
    if outcome.writes.is_empty() && outcome.updates.is_empty() {
        return Ok(InTransaction {
            result,
            wrote: false,
        });
    }
    model.head = None;
    for write in &outcome.writes {
        match write {
            ScimWrite::Put(record) => tx.scim_put(record)?,
            ScimWrite::Delete(kind, id) => {
                tx.scim_delete(*kind, id)?;
            }
        }
        if let Some(names) = model.user_names.as_mut() {
            names.apply(write);
        }
    }
    for update in &outcome.updates {
        let before = model.directory.get(&update.id).cloned();
        for event in Event::between(&update.id, before.as_ref(), update.after.as_ref()) {
            let record = apply_in(
                &mut *tx,
                model,
                policy,
                &event,
                source,
                now,
                Some(mapping_hash),
            )?;
            if record.seq != 0 {
                result.records.push(record);
            }
        }
    }
    Ok(InTransaction {
        result,
        wrote: true,
    })
}

/// Every SCIM user's identity derived with `mapping` (for a mapping change), by id; an
/// identity on record without a SCIM user is left as it is.
pub(super) fn derive_all(
    tx: &mut dyn Transaction,
    mapping: &Mapping,
) -> Result<Vec<(String, Option<Identity>)>, LifecycleError> {
    let users = tx.scim_list(ScimKind::User)?;
    let groups = tx.scim_list(ScimKind::Group)?;
    let mut member_of: BTreeMap<&str, Vec<&Json>> = BTreeMap::new();
    for group in &groups {
        if let Some(members) = group.body.get("members").and_then(Json::as_array) {
            for member in members {
                if let Some(id) = member.get("value").and_then(Json::as_str) {
                    member_of.entry(id).or_default().push(&group.body);
                }
            }
        }
    }
    Ok(users
        .iter()
        .map(|user| {
            let groups = member_of.get(user.id.as_str()).cloned().unwrap_or_default();
            (
                user.id.clone(),
                Some(mapping.identity(&user.id, &user.body, &groups)),
            )
        })
        .collect())
}
