//! Lifecycle events: what happens to identities (joiners, movers, leavers) and resources,
//! as changes of attributes, and how a [`Directory`] or [`Inventory`] applies them.
//!
//! Every event applies whole or not at all: it is checked completely before anything
//! changes.

use serde::{Deserialize, Serialize};

use super::catalog::{id_of, unknown, Catalog, Directory, Entry, Inventory, ID_ATTRIBUTE};
use crate::diagnostics::Code;
use crate::entity::{Identity, Resource};
use crate::error::InputError;
use crate::value::{Set, Value};

/// The attribute a leaver's status is written to.
pub const STATUS_ATTRIBUTE: &str = "status";
/// The status of an identity in post.
pub const ACTIVE: &str = "active";
/// The status a [`Event::Leave`] writes.
pub const INACTIVE: &str = "inactive";

/// One change of an identity's or a resource's attributes, inside a [`Event::Move`] or
/// [`Event::ChangeResource`].
///
/// JSON: `{"op": "set", "attribute": "role", "value": "DBA"}`, `{"op": "remove",
/// "attribute": "role"}`, `{"op": "add_member", "attribute": "groups", "value": "ops"}`,
/// `{"op": "remove_member", …}`, `{"op": "set_tag", "key": "env", "value": "prod"}`,
/// `{"op": "remove_tag", "key": "env"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Change {
    /// Sets an attribute, replacing any value.
    Set {
        /// The attribute.
        attribute: String,
        /// Its new value.
        value: Value,
    },
    /// Removes an attribute (nothing when absent).
    Remove {
        /// The attribute.
        attribute: String,
    },
    /// Adds a member to a set attribute (creating the set when absent).
    AddMember {
        /// The set attribute.
        attribute: String,
        /// The member.
        value: String,
    },
    /// Removes a member from a set attribute (nothing when absent).
    RemoveMember {
        /// The set attribute.
        attribute: String,
        /// The member.
        value: String,
    },
    /// Sets a tag.
    SetTag {
        /// The tag key.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Removes a tag (nothing when absent).
    RemoveTag {
        /// The tag key.
        key: String,
    },
}

/// Something that happens to an identity or a resource.
///
/// JSON: `{"event": "join", "identity": {…}}`, `{"event": "move", "id": "…", "changes":
/// […]}`, `{"event": "leave", "id": "…"}`, `{"event": "purge", "id": "…"}`, and for
/// resources `{"event": "resource_add", "resource": {…}}`, `{"event": "resource_change",
/// "id": "…", "changes": […]}`, `{"event": "resource_remove", "id": "…"}`.
///
/// ```
/// use tenure::lifecycle::{Change, Directory, Event};
/// use tenure::Identity;
///
/// let mut directory = Directory::new();
/// let pamela = Identity::new().with("id", "pamela").with("role", "DevOpsEngineer").with("status", "active");
/// directory.apply(&Event::Join { identity: pamela })?;
/// directory.apply(&Event::Move {
///     id: "pamela".into(),
///     changes: vec![Change::Set { attribute: "role".into(), value: "CloudEngineer".into() }],
/// })?;
/// directory.apply(&Event::Leave { id: "pamela".into() })?;
/// assert_eq!(directory.get("pamela").unwrap().get("status"), Some(&"inactive".into()));
/// # Ok::<(), tenure::InputError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Event {
    /// A joiner: a new identity (its `id` attribute names it).
    Join {
        /// The new identity.
        identity: Identity,
    },
    /// A mover: changes of an identity's attributes.
    Move {
        /// Which identity.
        id: String,
        /// The changes, applied in order.
        changes: Vec<Change>,
    },
    /// A leaver: `status` becomes `inactive`; the identity stays on record.
    Leave {
        /// Which identity.
        id: String,
    },
    /// The identity's record is removed.
    Purge {
        /// Which identity.
        id: String,
    },
    /// A new resource (its `id` attribute names it).
    #[serde(rename = "resource_add")]
    AddResource {
        /// The new resource.
        resource: Resource,
    },
    /// Changes of a resource's attributes or tags.
    #[serde(rename = "resource_change")]
    ChangeResource {
        /// Which resource.
        id: String,
        /// The changes, applied in order.
        changes: Vec<Change>,
    },
    /// A resource is removed.
    #[serde(rename = "resource_remove")]
    RemoveResource {
        /// Which resource.
        id: String,
    },
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// An identity, by id.
    Identity(&'a str),
    /// A resource, by id.
    Resource(&'a str),
}

impl Event {
    /// The event's name in JSON and in the journal: `join`, `move`, `leave`, `purge`,
    /// `resource_add`, `resource_change`, `resource_remove`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Join { .. } => "join",
            Event::Move { .. } => "move",
            Event::Leave { .. } => "leave",
            Event::Purge { .. } => "purge",
            Event::AddResource { .. } => "resource_add",
            Event::ChangeResource { .. } => "resource_change",
            Event::RemoveResource { .. } => "resource_remove",
        }
    }

    /// The identity or resource the event is about (`None` for a join or resource add
    /// whose entity carries no string `id`: such an event cannot apply).
    pub fn subject(&self) -> Option<Subject<'_>> {
        match self {
            Event::Join { identity } => id_of(identity).map(Subject::Identity),
            Event::Move { id, .. } | Event::Leave { id } | Event::Purge { id } => {
                Some(Subject::Identity(id))
            }
            Event::AddResource { resource } => id_of(resource).map(Subject::Resource),
            Event::ChangeResource { id, .. } | Event::RemoveResource { id } => {
                Some(Subject::Resource(id))
            }
        }
    }

    /// Reads an event from JSON text, strictly (duplicate keys refused).
    ///
    /// # Errors
    /// Malformed JSON, a duplicate key, an unknown event or change, a malformed entity.
    pub fn from_json(text: &str) -> Result<Event, InputError> {
        let value = crate::json::parse(text)?;
        serde_json::from_value(value)
            .map_err(|e| InputError::new(Code::MalformedEvent, "event", e.to_string()))
    }

    /// The event as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        // INVARIANT: every field serialises to JSON (strings, values, entities).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The events that turn `before` into `after` for identity `id`: a `Join` when there
    /// was no record, a `Purge` when there is none after, otherwise a `Move` of the
    /// attributes that differ — and a `Leave` when `status` goes from `active` to
    /// `inactive` (after the `Move` of any other change). No event when nothing differs.
    ///
    /// ```
    /// use tenure::lifecycle::Event;
    /// use tenure::Identity;
    ///
    /// let before = Identity::new().with("id", "p").with("status", "active").with("title", "SRE");
    /// let after = Identity::new().with("id", "p").with("status", "inactive").with("title", "SRE");
    /// let events = Event::between("p", Some(&before), Some(&after));
    /// assert_eq!(events, [Event::Leave { id: "p".into() }]);
    /// assert!(Event::between("p", Some(&before), Some(&before)).is_empty());
    /// ```
    pub fn between(id: &str, before: Option<&Identity>, after: Option<&Identity>) -> Vec<Event> {
        match (before, after) {
            (None, None) => Vec::new(),
            (None, Some(after)) => vec![Event::Join {
                identity: after.clone(),
            }],
            (Some(_), None) => vec![Event::Purge { id: id.to_string() }],
            (Some(before), Some(after)) => {
                let mut changes = Change::between(before, after);
                let status = |i: &Identity| i.get(STATUS_ATTRIBUTE).cloned();
                let leaves = status(before) == Some(Value::from(ACTIVE))
                    && status(after) == Some(Value::from(INACTIVE));
                let mut events = Vec::new();
                if leaves {
                    changes.retain(|c| !matches!(c, Change::Set { attribute, .. } if attribute == STATUS_ATTRIBUTE));
                }
                if !changes.is_empty() {
                    events.push(Event::Move {
                        id: id.to_string(),
                        changes,
                    });
                }
                if leaves {
                    events.push(Event::Leave { id: id.to_string() });
                }
                events
            }
        }
    }
}

impl Change {
    /// The changes that turn `before`'s attributes and tags into `after`'s: set members
    /// added and removed one by one when both values are sets, otherwise `set`/`remove`.
    pub fn between<E: Entry>(before: &E, after: &E) -> Vec<Change> {
        let (b, a) = (before.entity_of(), after.entity_of());
        let mut changes = Vec::new();
        for (name, old) in b.attribute_map() {
            match a.get(name.as_str()) {
                None => changes.push(Change::Remove {
                    attribute: name.to_string(),
                }),
                Some(new) if new == old => {}
                Some(Value::Set(new)) if matches!(old, Value::Set(_)) => {
                    let Value::Set(old) = old else { continue };
                    for item in old.iter().filter(|i| !new.contains(i)) {
                        changes.push(Change::RemoveMember {
                            attribute: name.to_string(),
                            value: item.to_string(),
                        });
                    }
                    for item in new.iter().filter(|i| !old.contains(i)) {
                        changes.push(Change::AddMember {
                            attribute: name.to_string(),
                            value: item.to_string(),
                        });
                    }
                }
                Some(new) => changes.push(Change::Set {
                    attribute: name.to_string(),
                    value: new.clone(),
                }),
            }
        }
        for (name, new) in a.attribute_map() {
            if b.get(name.as_str()).is_none() {
                changes.push(Change::Set {
                    attribute: name.to_string(),
                    value: new.clone(),
                });
            }
        }
        for (key, old) in b.tag_map() {
            match a.tag(key.as_str()) {
                None => changes.push(Change::RemoveTag {
                    key: key.to_string(),
                }),
                Some(new) if new == old => {}
                Some(new) => changes.push(Change::SetTag {
                    key: key.to_string(),
                    value: new.to_string(),
                }),
            }
        }
        for (key, new) in a.tag_map() {
            if b.tag(key.as_str()).is_none() {
                changes.push(Change::SetTag {
                    key: key.to_string(),
                    value: new.clone(),
                });
            }
        }
        changes
    }
}

/// What applying an event did to the record it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied<E> {
    /// The record before (`None` for a join or resource add).
    pub before: Option<E>,
    /// The record after (`None` for a purge or resource removal).
    pub after: Option<E>,
}

impl<E: PartialEq> Applied<E> {
    /// Whether the record changed at all (a `Move` whose changes leave every attribute
    /// equal, or the `Leave` of an inactive identity, changes nothing).
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

impl Directory {
    /// Applies an identity event (`Join`, `Move`, `Leave`, `Purge`), whole or not at all.
    ///
    /// # Errors
    /// A resource event; an unknown identity; a `Join` of an id already on record or
    /// without a string `id`; a change of `id`; a member change on an attribute that is
    /// not a set; the reserved name `tags`. Nothing changes on error.
    pub fn apply(&mut self, event: &Event) -> Result<Applied<Identity>, InputError> {
        match event {
            Event::Join { identity } => {
                self.insert(identity.clone())?;
                Ok(Applied {
                    before: None,
                    after: Some(identity.clone()),
                })
            }
            Event::Move { id, changes } => change_entry(self, id, changes),
            Event::Leave { id } => change_entry(
                self,
                id,
                &[Change::Set {
                    attribute: STATUS_ATTRIBUTE.into(),
                    value: INACTIVE.into(),
                }],
            ),
            Event::Purge { id } => {
                let before = self.remove(id).ok_or_else(|| unknown::<Identity>(id))?;
                Ok(Applied {
                    before: Some(before),
                    after: None,
                })
            }
            other => Err(wrong_catalog(other, "directory")),
        }
    }
}

impl Directory {
    /// The events that import `incoming` into this directory: a `Join` for each id not on
    /// record, the `Move` (and `Leave`) that turns each known identity into the incoming
    /// one ([`Event::between`]), nothing for identities that are equal or absent from
    /// `incoming` (an import never purges). In id order.
    ///
    /// ```
    /// use tenure::lifecycle::Directory;
    ///
    /// let on_record = Directory::from_json_lines(r#"{"id": "p", "role": "DBA", "status": "active"}"#)?;
    /// let incoming = Directory::from_json_lines(concat!(
    ///     r#"{"id": "p", "role": "SRE", "status": "active"}"#, "\n",
    ///     r#"{"id": "q", "status": "active"}"#, "\n",
    /// ))?;
    /// let names: Vec<&str> = on_record.import_events(&incoming).iter().map(|e| e.name()).collect();
    /// assert_eq!(names, ["move", "join"]);
    /// # Ok::<(), tenure::InputError>(())
    /// ```
    pub fn import_events(&self, incoming: &Directory) -> Vec<Event> {
        incoming
            .iter()
            .flat_map(|(id, identity)| Event::between(id, self.get(id), Some(identity)))
            .collect()
    }
}

impl Inventory {
    /// The events that import `incoming` into this inventory: an `AddResource` for each
    /// id not on record, a `ChangeResource` to the incoming record for each that differs,
    /// nothing else (an import never removes). In id order.
    pub fn import_events(&self, incoming: &Inventory) -> Vec<Event> {
        incoming
            .iter()
            .filter_map(|(id, resource)| match self.get(id) {
                None => Some(Event::AddResource {
                    resource: resource.clone(),
                }),
                Some(old) if old == resource => None,
                Some(old) => Some(Event::ChangeResource {
                    id: id.to_string(),
                    changes: Change::between(old, resource),
                }),
            })
            .collect()
    }

    /// Applies a resource event (`AddResource`, `ChangeResource`, `RemoveResource`),
    /// whole or not at all.
    ///
    /// # Errors
    /// An identity event; an unknown resource; an add of an id already on record or
    /// without a string `id`; a change of `id`; a member change on a non-set attribute.
    /// Nothing changes on error.
    pub fn apply(&mut self, event: &Event) -> Result<Applied<Resource>, InputError> {
        match event {
            Event::AddResource { resource } => {
                self.insert(resource.clone())?;
                Ok(Applied {
                    before: None,
                    after: Some(resource.clone()),
                })
            }
            Event::ChangeResource { id, changes } => change_entry(self, id, changes),
            Event::RemoveResource { id } => {
                let before = self.remove(id).ok_or_else(|| unknown::<Resource>(id))?;
                Ok(Applied {
                    before: Some(before),
                    after: None,
                })
            }
            other => Err(wrong_catalog(other, "inventory")),
        }
    }
}

fn wrong_catalog(event: &Event, catalog: &str) -> InputError {
    InputError::new(
        Code::MalformedEvent,
        "event",
        format!("a `{}` event does not apply to a {catalog}", event.name()),
    )
}

/// Applies `changes` to a copy of entry `id`, then replaces it: all or nothing.
fn change_entry<E: Entry + Changeable>(
    catalog: &mut Catalog<E>,
    id: &str,
    changes: &[Change],
) -> Result<Applied<E>, InputError> {
    let before = catalog.get(id).ok_or_else(|| unknown::<E>(id))?.clone();
    let mut after = before.clone();
    for (i, change) in changes.iter().enumerate() {
        after
            .change(change)
            .map_err(|e| e.located(&format!("changes[{i}]")))?;
    }
    if after != before {
        catalog.replace(id, after.clone())?;
    }
    Ok(Applied {
        before: Some(before),
        after: Some(after),
    })
}

/// Entities a [`Change`] applies to.
trait Changeable {
    fn change(&mut self, change: &Change) -> Result<(), InputError>;
}

macro_rules! changeable {
    ($name:ty) => {
        impl Changeable for $name {
            fn change(&mut self, change: &Change) -> Result<(), InputError> {
                let attribute = match change {
                    Change::Set { attribute, .. }
                    | Change::Remove { attribute }
                    | Change::AddMember { attribute, .. }
                    | Change::RemoveMember { attribute, .. } => Some(attribute),
                    Change::SetTag { .. } | Change::RemoveTag { .. } => None,
                };
                if attribute.is_some_and(|a| a == ID_ATTRIBUTE) {
                    return Err(InputError::new(
                        Code::ImmutableId,
                        "attribute",
                        "the `id` attribute names the record and cannot change",
                    ));
                }
                match change {
                    Change::Set { attribute, value } => self.set(attribute.clone(), value.clone()),
                    Change::Remove { attribute } => {
                        self.remove(attribute);
                        Ok(())
                    }
                    Change::AddMember { attribute, value } => {
                        let mut set = member_set(self.get(attribute), attribute)?;
                        set.insert(value.clone());
                        self.set(attribute.clone(), Value::Set(set))
                    }
                    Change::RemoveMember { attribute, value } => {
                        if self.get(attribute).is_none() {
                            return Ok(());
                        }
                        let mut set = member_set(self.get(attribute), attribute)?;
                        set.remove(value);
                        self.set(attribute.clone(), Value::Set(set))
                    }
                    Change::SetTag { key, value } => {
                        self.set_tag(key.clone(), value.clone());
                        Ok(())
                    }
                    Change::RemoveTag { key } => {
                        self.remove_tag(key);
                        Ok(())
                    }
                }
            }
        }
    };
}

changeable!(Identity);
changeable!(Resource);

fn member_set(value: Option<&Value>, attribute: &str) -> Result<Set, InputError> {
    match value {
        None => Ok(Set::default()),
        Some(Value::Set(set)) => Ok(set.clone()),
        Some(other) => Err(InputError::new(
            Code::NotASet,
            "attribute",
            format!("`{attribute}` holds {}, not a set", other.type_name()),
        )),
    }
}
