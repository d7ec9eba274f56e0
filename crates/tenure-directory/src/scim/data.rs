//! How SCIM handling reads resources: the [`ScimData`] trait, and [`MemoryData`], an
//! in-memory implementation for tests and examples.

use std::collections::BTreeMap;

use super::error::ScimError;
use super::record::{ScimKind, ScimRecord};
use super::ScimWrite;

/// Read access to the stored SCIM resources, for the duration of one request.
///
/// The store implements it over a transaction; [`crate::scim::handle`] only reads through
/// it and returns what to write as [`ScimWrite`]s, which the caller commits in the same
/// transaction.
pub trait ScimData {
    /// The record of `kind` with `id`, if there is one.
    ///
    /// # Errors
    /// A failure of the underlying store (reported as a 500).
    fn get(&mut self, kind: ScimKind, id: &str) -> Result<Option<ScimRecord>, ScimError>;

    /// Every record of `kind`, ordered by id.
    ///
    /// # Errors
    /// A failure of the underlying store (reported as a 500).
    fn list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, ScimError>;

    /// The id of the user whose `userName` equals `name` ignoring case, if any (the
    /// uniqueness check of every create and rename). The default reads every user;
    /// implementations keep an index.
    ///
    /// # Errors
    /// A failure of the underlying store (reported as a 500).
    fn user_named(&mut self, name: &str) -> Result<Option<String>, ScimError> {
        user_named_by_scan(self, name)
    }
}

/// [`ScimData::user_named`] by reading every user.
pub(crate) fn user_named_by_scan<D: ScimData + ?Sized>(
    data: &mut D,
    name: &str,
) -> Result<Option<String>, ScimError> {
    let wanted = name.to_lowercase();
    Ok(data
        .list(ScimKind::User)?
        .into_iter()
        .find(|u| user_name_of(&u.body).is_some_and(|n| n.to_lowercase() == wanted))
        .map(|u| u.id))
}

/// The `userName` of a stored user body (attribute names are case-insensitive).
pub(crate) fn user_name_of(body: &serde_json::Value) -> Option<&str> {
    body.as_object()
        .and_then(|b| super::attrs::get_ci(b, "userName"))
        .and_then(serde_json::Value::as_str)
}

/// SCIM records in memory, ordered by id: a [`ScimData`] for tests and examples.
///
/// ```
/// use tenure_directory::mapping::Mapping;
/// use tenure_directory::scim::{handle, Context, MemoryData, ScimRequest};
///
/// let mut data = MemoryData::new();
/// let mapping = Mapping::default();
/// let ctx = Context { mapping: &mapping, now: jiff::Timestamp::UNIX_EPOCH, base_url: "/scim/v2" };
/// let request = ScimRequest::from_json(
///     r#"{"method": "POST", "path": "/scim/v2/Users", "body": {"userName": "ada"}}"#,
/// )?;
/// let outcome = handle(&request, &mut data, &ctx)?;
/// data.apply(&outcome.writes);
/// assert_eq!(data.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryData {
    users: BTreeMap<String, ScimRecord>,
    groups: BTreeMap<String, ScimRecord>,
}

impl MemoryData {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Commits the writes of one outcome, in order.
    pub fn apply(&mut self, writes: &[ScimWrite]) {
        for write in writes {
            match write {
                ScimWrite::Put(record) => {
                    self.map_mut(record.kind)
                        .insert(record.id.clone(), record.clone());
                }
                ScimWrite::Delete(kind, id) => {
                    self.map_mut(*kind).remove(id);
                }
            }
        }
    }

    /// Inserts (or replaces) one record directly.
    pub fn insert(&mut self, record: ScimRecord) {
        self.map_mut(record.kind).insert(record.id.clone(), record);
    }

    /// How many records there are, users and groups together.
    pub fn len(&self) -> usize {
        self.users.len() + self.groups.len()
    }

    /// Whether there are no records at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records of `kind`, ordered by id.
    pub fn records(&self, kind: ScimKind) -> impl Iterator<Item = &ScimRecord> {
        self.map(kind).values()
    }

    fn map(&self, kind: ScimKind) -> &BTreeMap<String, ScimRecord> {
        match kind {
            ScimKind::User => &self.users,
            ScimKind::Group => &self.groups,
        }
    }

    fn map_mut(&mut self, kind: ScimKind) -> &mut BTreeMap<String, ScimRecord> {
        match kind {
            ScimKind::User => &mut self.users,
            ScimKind::Group => &mut self.groups,
        }
    }
}

impl ScimData for MemoryData {
    fn get(&mut self, kind: ScimKind, id: &str) -> Result<Option<ScimRecord>, ScimError> {
        Ok(self.map(kind).get(id).cloned())
    }

    fn list(&mut self, kind: ScimKind) -> Result<Vec<ScimRecord>, ScimError> {
        Ok(self.map(kind).values().cloned().collect())
    }
}
