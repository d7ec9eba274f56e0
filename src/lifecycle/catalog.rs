//! [`Directory`] and [`Inventory`]: identities and resources by id, with the postings the
//! reverse queries walk.
//!
//! Both are one generic [`Catalog`] over their entity type. Entries live in slots (a
//! removed entry's slot is reused); postings map each `(attribute, typed value)` an entry
//! carries — every element of a set, every tag — and each attribute it has to the sorted
//! slots that carry it, so a grant's anchor finds its matching entries without a scan.
//! Postings are exact for *true* comparisons only (`INDEXING.md`): the reverse queries use
//! them to enumerate grants' matches, never to rule a deny out.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::compile::Key;
use crate::diagnostics::Code;
use crate::entity::{Entity, Identity, Resource};
use crate::error::InputError;
use crate::value::Value;
use crate::vocabulary::{Attribute, Literal};

/// The attribute that names every directory and inventory entry.
pub const ID_ATTRIBUTE: &str = "id";

/// An entity type a [`Catalog`] can hold: [`Identity`] or [`Resource`] (sealed).
pub trait Entry: Clone + PartialEq + sealed::Sealed {
    /// `identity` or `resource`, for messages.
    const WHAT: &'static str;
}

// The sealed-trait pattern: `Sealed` is nameable only inside the crate, so its methods
// may speak of the crate-private `Entity`.
#[allow(private_interfaces)]
pub(crate) mod sealed {
    use crate::entity::Entity;
    use crate::error::InputError;

    /// What the catalogs need of an entity type, inside the crate.
    pub trait Sealed: Sized {
        fn read_json(text: &str) -> Result<Self, InputError>;
        fn write_json(&self) -> serde_json::Value;
        fn entity_of(&self) -> &Entity;
    }

    macro_rules! sealed {
        ($name:ty) => {
            impl Sealed for $name {
                fn read_json(text: &str) -> Result<Self, InputError> {
                    <$name>::from_json(text)
                }
                fn write_json(&self) -> serde_json::Value {
                    self.to_json()
                }
                fn entity_of(&self) -> &Entity {
                    self.entity()
                }
            }
        };
    }
    sealed!(crate::Identity);
    sealed!(crate::Resource);
}

impl Entry for Identity {
    const WHAT: &'static str = "identity";
}

impl Entry for Resource {
    const WHAT: &'static str = "resource";
}

/// The id an entry carries in its `id` attribute, if it is a string.
pub fn id_of<E: Entry>(entry: &E) -> Option<&str> {
    match entry.entity_of().get(ID_ATTRIBUTE) {
        Some(Value::Str(id)) => Some(id),
        _ => None,
    }
}

/// Identities or resources by id, with postings for the reverse queries.
///
/// Use it through its aliases [`Directory`] and [`Inventory`].
#[derive(Debug, Clone)]
pub struct Catalog<E: Entry> {
    slots: Vec<Option<(Arc<str>, E)>>,
    by_id: FxHashMap<Arc<str>, u32>,
    free: Vec<u32>,
    /// `(attribute, typed value)` → sorted slots whose entry's comparison with it is true.
    values: FxHashMap<(Attribute, Literal), Vec<u32>>,
    /// Attribute → sorted slots whose entry carries it.
    present: FxHashMap<Attribute, Vec<u32>>,
}

/// The identities on record, by id: what the lifecycle changes.
///
/// ```
/// use tenure::lifecycle::Directory;
///
/// let directory = Directory::from_json_lines(concat!(
///     r#"{"id": "pamela", "role": "CloudEngineer", "status": "active"}"#, "\n",
///     r#"{"id": "sam", "role": "DBA", "status": "inactive"}"#, "\n",
/// ))?;
/// assert_eq!(directory.len(), 2);
/// assert_eq!(directory.get("sam").and_then(|i| i.get("role")), Some(&"DBA".into()));
/// # Ok::<(), tenure::InputError>(())
/// ```
pub type Directory = Catalog<Identity>;

/// The resources access is decided on, by id.
pub type Inventory = Catalog<Resource>;

impl<E: Entry> Default for Catalog<E> {
    fn default() -> Self {
        Catalog {
            slots: Vec::new(),
            by_id: FxHashMap::default(),
            free: Vec::new(),
            values: FxHashMap::default(),
            present: FxHashMap::default(),
        }
    }
}

impl<E: Entry> PartialEq for Catalog<E> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(id, e)| other.get(id) == Some(e))
    }
}

impl<E: Entry> Catalog<E> {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads JSON Lines: one entry per line, each carrying its string `id` attribute;
    /// blank lines are skipped, a byte-order mark on the first line is ignored.
    ///
    /// # Errors
    /// The first bad line, located as `line N: …`: malformed JSON, a duplicate key, a
    /// missing or non-string `id`, an id already given on an earlier line. Nothing is
    /// returned on error.
    pub fn from_json_lines(text: &str) -> Result<Self, InputError> {
        let mut catalog = Self::new();
        let mut first_line: FxHashMap<String, usize> = FxHashMap::default();
        for (n, line) in crate::json::lines(text) {
            let at = format!("line {n}");
            let entry = E::read_json(line).map_err(|e| e.located(&at))?;
            let id = id_of(&entry).ok_or_else(|| missing_id::<E>().located(&at))?;
            if let Some(earlier) = first_line.insert(id.to_string(), n) {
                return Err(InputError::new(
                    Code::DuplicateEntityId,
                    format!("{at}: {}.id", E::WHAT),
                    format!("id `{id}` was already given on line {earlier}"),
                ));
            }
            catalog.insert(entry)?;
        }
        Ok(catalog)
    }

    /// JSON Lines, one entry per line in id order; [`Self::from_json_lines`] reads it back
    /// to an equal catalog.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for (_, entry) in self.iter() {
            out.push_str(&entry.write_json().to_string());
            out.push('\n');
        }
        out
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&E> {
        let slot = *self.by_id.get(id)?;
        self.slots[slot as usize].as_ref().map(|(_, e)| e)
    }

    /// Whether an entry has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Every entry with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &E)> + '_ {
        let mut ids: Vec<(&str, u32)> = self.by_id.iter().map(|(id, &s)| (&**id, s)).collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|(id, s)| self.slots[s as usize].as_ref().map(|(_, e)| (id, e)))
    }

    /// Adds an entry under the id its `id` attribute carries.
    ///
    /// # Errors
    /// No string `id` attribute, or the id is already on record; nothing changes.
    pub fn insert(&mut self, entry: E) -> Result<(), InputError> {
        let id: Arc<str> = id_of(&entry).ok_or_else(missing_id::<E>)?.into();
        if self.by_id.contains_key(&id) {
            return Err(InputError::new(
                Code::DuplicateEntityId,
                format!("{}.id", E::WHAT),
                format!("{} `{id}` is already on record", E::WHAT),
            ));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                // INVARIANT: far fewer than 2^32 entries fit in memory with their postings.
                (self.slots.len() - 1) as u32
            }
        };
        self.post(slot, entry.entity_of());
        self.by_id.insert(id.clone(), slot);
        self.slots[slot as usize] = Some((id, entry));
        Ok(())
    }

    /// Replaces the entry with id `id` (whose `id` attribute must still be `id`),
    /// returning the previous one.
    ///
    /// # Errors
    /// The id is not on record, or the new entry's `id` differs; nothing changes.
    pub fn replace(&mut self, id: &str, entry: E) -> Result<E, InputError> {
        if id_of(&entry) != Some(id) {
            return Err(InputError::new(
                Code::ImmutableId,
                format!("{}.id", E::WHAT),
                format!("the entry replacing `{id}` must keep the id `{id}`"),
            ));
        }
        let slot = *self.by_id.get(id).ok_or_else(|| unknown::<E>(id))?;
        let (name, old) = self.slots[slot as usize]
            .take()
            .ok_or_else(|| unknown::<E>(id))?;
        self.unpost(slot, old.entity_of());
        self.post(slot, entry.entity_of());
        self.slots[slot as usize] = Some((name, entry));
        Ok(old)
    }

    /// Removes the entry with this id, returning it.
    pub fn remove(&mut self, id: &str) -> Option<E> {
        let slot = self.by_id.remove(id)?;
        let (_, old) = self.slots[slot as usize].take()?;
        self.unpost(slot, old.entity_of());
        self.free.push(slot);
        Some(old)
    }

    // ---- crate-internal access for the reverse queries ----

    /// One past the highest slot.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The id and entry in `slot`, if occupied.
    pub(crate) fn slot(&self, slot: u32) -> Option<(&str, &E)> {
        self.slots
            .get(slot as usize)?
            .as_ref()
            .map(|(id, e)| (&**id, e))
    }

    /// Every occupied slot.
    pub(crate) fn all_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32)
    }

    /// Slot → the rank of its id in id order (free slots rank last): for producing
    /// sorted output by sorting integers instead of strings.
    pub(crate) fn id_ranks(&self) -> Vec<u32> {
        let mut order: Vec<(&str, u32)> = self.by_id.iter().map(|(id, &s)| (&**id, s)).collect();
        order.sort_unstable();
        let mut ranks = vec![u32::MAX; self.slots.len()];
        for (rank, (_, slot)) in order.into_iter().enumerate() {
            // INVARIANT: fewer entries than slots, and slots fit in u32.
            ranks[slot as usize] = rank as u32;
        }
        ranks
    }

    /// The slots whose entry makes `key` true (sorted), empty when none.
    pub(crate) fn postings(&self, key: &Key) -> &[u32] {
        let found = match key {
            Key::Eq(_, attribute, literal) => {
                self.values.get(&(attribute.clone(), literal.clone()))
            }
            Key::Present(_, attribute) => self.present.get(attribute),
            // Reverse queries anchor on `Eq` and `Present` only (`compile::side_options`);
            // a prefix or range key never reaches a catalog.
            Key::Prefix(..) | Key::Range(..) => None,
        };
        found.map_or(&[], Vec::as_slice)
    }

    fn post(&mut self, slot: u32, entity: &Entity) {
        for_each_key(entity, |k| match k {
            Posting::Value(a, l) => insert_sorted(self.values.entry((a, l)).or_default(), slot),
            Posting::Present(a) => insert_sorted(self.present.entry(a).or_default(), slot),
        });
    }

    fn unpost(&mut self, slot: u32, entity: &Entity) {
        for_each_key(entity, |k| match k {
            Posting::Value(a, l) => {
                let key = (a, l);
                if let Some(list) = self.values.get_mut(&key) {
                    remove_sorted(list, slot);
                    if list.is_empty() {
                        self.values.remove(&key);
                    }
                }
            }
            Posting::Present(a) => {
                if let Some(list) = self.present.get_mut(&a) {
                    remove_sorted(list, slot);
                    if list.is_empty() {
                        self.present.remove(&a);
                    }
                }
            }
        });
    }
}

enum Posting {
    Value(Attribute, Literal),
    Present(Attribute),
}

/// Every posting key of an entity: each attribute's presence and typed value (each
/// element of a set), each tag's presence and value.
fn for_each_key(entity: &Entity, mut f: impl FnMut(Posting)) {
    for (name, value) in entity.attribute_map() {
        let attribute = Attribute::Name(name.as_str().into());
        match value {
            Value::Str(s) => f(Posting::Value(
                attribute.clone(),
                Literal::Str(s.as_str().into()),
            )),
            Value::Int(i) => f(Posting::Value(attribute.clone(), Literal::Int(*i))),
            Value::Bool(b) => f(Posting::Value(attribute.clone(), Literal::Bool(*b))),
            Value::Set(items) => {
                for item in items.iter() {
                    f(Posting::Value(attribute.clone(), Literal::Str(item.into())));
                }
            }
        }
        f(Posting::Present(attribute));
    }
    for (key, value) in entity.tag_map() {
        let attribute = Attribute::Tag(key.as_str().into());
        f(Posting::Value(
            attribute.clone(),
            Literal::Str(value.as_str().into()),
        ));
        f(Posting::Present(attribute));
    }
}

fn insert_sorted(list: &mut Vec<u32>, slot: u32) {
    if let Err(at) = list.binary_search(&slot) {
        list.insert(at, slot);
    }
}

fn remove_sorted(list: &mut Vec<u32>, slot: u32) {
    if let Ok(at) = list.binary_search(&slot) {
        list.remove(at);
    }
}

fn missing_id<E: Entry>() -> InputError {
    InputError::new(
        Code::MissingId,
        format!("{}.id", E::WHAT),
        format!("a {} on record needs a string `id` attribute", E::WHAT),
    )
}

pub(crate) fn unknown<E: Entry>(id: &str) -> InputError {
    let code = if E::WHAT == "identity" {
        Code::UnknownIdentity
    } else {
        Code::UnknownResource
    };
    InputError::new(code, "id", format!("no {} `{id}` on record", E::WHAT))
}

/// The entries of a catalog as a sorted map (for tests and comparisons).
impl<E: Entry> From<&Catalog<E>> for BTreeMap<String, E> {
    fn from(catalog: &Catalog<E>) -> Self {
        catalog
            .iter()
            .map(|(id, e)| (id.to_string(), e.clone()))
            .collect()
    }
}
