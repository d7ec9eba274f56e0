//! Identities and resources: flat attribute maps plus string tags.
//!
//! [`Identity`] and [`Resource`] share one representation — a map from attribute names
//! to [`Value`]s and a map of tags — so `tag:KEY` and plain attributes work on either side
//! of a rule. They are built in Rust with chained methods or read from JSON (see
//! `json.rs` for the codec):
//!
//! ```
//! use tenure::{Identity, Resource};
//!
//! let pamela = Identity::new()
//!     .with("id", "pamela")
//!     .with("role", "CloudEngineer")
//!     .with("clearance", 3)
//!     .with_set("groups", ["okta-cloud", "everyone"]);
//! let db = Resource::from_json(
//!     r#"{"id": "db-17", "type": "postgres", "tags": {"env": "prod"}, "port": 5432}"#,
//! )?;
//! assert_eq!(db.tag("env"), Some("prod"));
//! assert_eq!(pamela.get("clearance"), Some(&tenure::Value::Int(3)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod json;
mod map;

use crate::error::InputError;
use crate::inline_str::InlineStr;
use crate::value::{Value, ValueRef};
use crate::vocabulary::Attribute;

pub(crate) use json::{strict_object, strict_value, StrictJson};
pub(crate) use map::KeyMap;

/// The JSON key that holds tags; no attribute may carry this name.
pub(crate) const TAGS_KEY: &str = "tags";

/// How many values of each map [`Entity::touch`] loads.
const TOUCHED: usize = 4;

/// What identities and resources are: attributes plus tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entity {
    attributes: KeyMap<Value>,
    tags: KeyMap<String>,
}

impl Entity {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name.as_bytes())
    }

    pub(crate) fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key.as_bytes()).map(String::as_str)
    }

    /// Sets attribute `name`; refuses the name `tags`, which JSON reserves for tags.
    pub(crate) fn try_set(&mut self, name: String, value: Value) -> Result<(), InputError> {
        if name == TAGS_KEY {
            return Err(InputError::reserved_tags_name());
        }
        self.attributes.insert(InlineStr::from(name), value);
        Ok(())
    }

    /// Sets attribute or tag `attribute` (a tag takes only strings; other values are
    /// ignored for tags), for analyses that build entities from candidate values.
    pub(crate) fn put(&mut self, attribute: &Attribute, value: Value) {
        match (attribute, value) {
            (Attribute::Name(n), value) => {
                self.attributes.insert(InlineStr::from(&**n), value);
            }
            (Attribute::Tag(k), Value::Str(v)) => {
                self.tags.insert(InlineStr::from(&**k), v);
            }
            (Attribute::Tag(_), _) => {}
        }
    }

    /// Removes attribute or tag `attribute`.
    pub(crate) fn clear(&mut self, attribute: &Attribute) {
        match attribute {
            Attribute::Name(n) => {
                self.attributes.remove(n.as_bytes());
            }
            Attribute::Tag(k) => {
                self.tags.remove(k.as_bytes());
            }
        }
    }

    /// The value an attribute reference resolves to.
    #[inline]
    pub(crate) fn value_of(&self, attribute: &Attribute) -> Option<ValueRef<'_>> {
        match attribute {
            Attribute::Name(n) => self.attributes.get(n.as_bytes()).map(Value::as_ref),
            Attribute::Tag(k) => self.tags.get(k.as_bytes()).map(|s| ValueRef::Str(s)),
        }
    }

    /// The value of plain attribute `key`, or of tag `key` when `tag`.
    #[inline]
    pub(crate) fn value_of_key(&self, tag: bool, key: &InlineStr) -> Option<ValueRef<'_>> {
        if tag {
            self.tags.get_key(key).map(|s| ValueRef::Str(s))
        } else {
            self.attributes.get_key(key).map(Value::as_ref)
        }
    }

    /// Loads the first byte of the first few string values (and sets' first elements),
    /// so that a decision's cache misses on them start together, at once, rather than one
    /// after another as the index and the rules come to read them. Measured on the cold
    /// benchmark requests, `decide_profile`, medians of 10 alternating runs: 1 000 rules
    /// 341 → 190 ns (`is_allowed`), 369 → 220 ns (`authorize`); 100 000 rules 490 → 435
    /// and 535 → 500 ns.
    ///
    /// Only `Policy`'s own decisions do this (`Policy::authorize`, `is_allowed`, and the
    /// engine's, which call them), for at most [`TOUCHED`] values of each map: a value the
    /// decision does not read is a miss paid for nothing, and the reverse queries, which
    /// check many resources through the prepared path and read few of their values, ran
    /// 70% slower when every check touched eight.
    #[inline]
    pub(crate) fn touch(&self) {
        let mut first = 0u8;
        for (_, value) in self.attributes.iter().take(TOUCHED) {
            let text = match value {
                Value::Str(s) => s.as_str(),
                Value::Set(items) => items.iter().next().unwrap_or_default(),
                Value::Int(_) | Value::Bool(_) => "",
            };
            first ^= text.as_bytes().first().copied().unwrap_or(0);
        }
        for (_, value) in self.tags.iter().take(TOUCHED) {
            first ^= value.as_bytes().first().copied().unwrap_or(0);
        }
        std::hint::black_box(first);
    }

    pub(crate) fn attribute_map(&self) -> &KeyMap<Value> {
        &self.attributes
    }

    pub(crate) fn tag_map(&self) -> &KeyMap<String> {
        &self.tags
    }
}

/// An entity as compact JSON text (`{"role":"DBA","tags":{"env":"prod"}}`), for messages.
pub(crate) fn entity_json_text(entity: &Entity) -> String {
    json::entity_to_json(entity).to_string()
}

/// The builder, accessor and JSON methods shared by [`Identity`] and [`Resource`].
macro_rules! entity_methods {
    ($name:ident, $what:literal) => {
        impl $name {
            /// An empty one, with no attributes and no tags.
            pub fn new() -> Self {
                Self::default()
            }

            /// With attribute `name` set to `value`.
            ///
            /// # Panics
            /// When `name` is `tags`, which the JSON form reserves for tags; use
            /// [`Self::try_with`] for names that come from input.
            pub fn with(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
                match self.try_with(name, value) {
                    Ok(this) => this,
                    Err(e) => panic!("{e}"),
                }
            }

            /// With attribute `name` set to `value`, or an error when `name` is `tags`.
            ///
            /// # Errors
            /// The name `tags` (reserved for tags in the JSON form).
            pub fn try_with(
                mut self,
                name: impl Into<String>,
                value: impl Into<Value>,
            ) -> Result<Self, InputError> {
                self.entity.try_set(name.into(), value.into())?;
                Ok(self)
            }

            /// With attribute `name` set to the set of `items` (sorted, duplicates
            /// dropped).
            ///
            /// # Panics
            /// As [`Self::with`].
            pub fn with_set<I, S>(self, name: impl Into<String>, items: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.with(name, Value::set(items))
            }

            /// With tag `key` set to `value`.
            pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                self.entity
                    .tags
                    .insert(InlineStr::from(key.into()), value.into());
                self
            }

            /// The attribute `name`, if present.
            pub fn get(&self, name: &str) -> Option<&Value> {
                self.entity.get(name)
            }

            /// The tag `key`, if present.
            pub fn tag(&self, key: &str) -> Option<&str> {
                self.entity.tag(key)
            }

            /// The value an [`Attribute`] reference (`role`, `tag:env`) resolves to.
            pub fn lookup(&self, attribute: &Attribute) -> Option<Value> {
                match attribute {
                    Attribute::Name(name) => self.entity.get(name).cloned(),
                    Attribute::Tag(key) => self.entity.tag(key).map(Value::from),
                }
            }

            /// All attributes, sorted by name.
            pub fn attributes(&self) -> impl Iterator<Item = (&str, &Value)> {
                self.entity.attributes.iter().map(|(k, v)| (k.as_str(), v))
            }

            /// All tags, sorted by key.
            pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> {
                self.entity
                    .tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
            }

            /// Sets attribute `name`, replacing any previous value.
            ///
            /// # Errors
            /// The name `tags` (reserved for tags in the JSON form); nothing changes.
            pub fn set(
                &mut self,
                name: impl Into<String>,
                value: impl Into<Value>,
            ) -> Result<(), InputError> {
                self.entity.try_set(name.into(), value.into())
            }

            /// Removes attribute `name`, returning its value.
            pub fn remove(&mut self, name: &str) -> Option<Value> {
                self.entity.attributes.remove(name.as_bytes())
            }

            /// Sets tag `key`.
            pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
                self.entity
                    .tags
                    .insert(InlineStr::from(key.into()), value.into());
            }

            /// Removes tag `key`, returning its value.
            pub fn remove_tag(&mut self, key: &str) -> Option<String> {
                self.entity.tags.remove(key.as_bytes())
            }

            /// Reads one from JSON text: a flat object of attributes plus an optional
            /// `tags` object of strings; `null` means absent.
            ///
            /// # Errors
            /// Malformed JSON, a duplicate key, floats, nested objects, arrays of
            /// non-strings, a `tags` that is not an object of strings, or input over the
            /// size limits; the
            #[doc = concat!("error names the path, such as `", $what, ".groups[2]`.")]
            pub fn from_json(text: &str) -> Result<Self, InputError> {
                json::entity_from_text(text, $what).map(|entity| Self { entity })
            }

            /// Reads one from an already-parsed JSON value, as [`Self::from_json`] reads
            /// its text. A `serde_json::Value` has already dropped duplicate keys; read
            /// text with [`Self::from_json`] to have them refused.
            ///
            /// # Errors
            /// As [`Self::from_json`].
            pub fn from_json_value(json: &serde_json::Value) -> Result<Self, InputError> {
                Self::from_json(&json.to_string())
            }

            /// This one as a JSON object (`tags` included when there are any).
            pub fn to_json(&self) -> serde_json::Value {
                json::entity_to_json(&self.entity)
            }

            pub(crate) fn entity(&self) -> &Entity {
                &self.entity
            }

            pub(crate) fn from_entity(entity: Entity) -> Self {
                Self { entity }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            /// Reads the JSON form through any serde deserializer; duplicate keys are
            /// refused, as in [`Self::from_json`].
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let json = json::StrictJson::deserialize(deserializer)?;
                Self::from_json_value(&json.0).map_err(D::Error::custom)
            }
        }
    };
}

/// Who asks: a person or workload, as a flat map of attributes plus tags.
///
/// `Identity` and [`Resource`] are `#[repr(transparent)]` wrappers of one and the same
/// private type, and this is guaranteed: the C API (`crates/tenure-ffi`, the one crate
/// allowed `unsafe`) relies on it to use one role-less C entity in either role without a
/// copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Identity {
    entity: Entity,
}

/// What is asked for: a host, database or cluster, as attributes plus tags (`tag:KEY`).
///
/// Same representation as [`Identity`] (`#[repr(transparent)]`, guaranteed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Resource {
    entity: Entity,
}

entity_methods!(Identity, "identity");
entity_methods!(Resource, "resource");
