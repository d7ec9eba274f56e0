//! Identities and resources: flat attribute maps plus string tags.
//!
//! Both are [`Entity`]s underneath — a map from attribute names to [`Value`]s and a map of
//! tags — so `tag:KEY` and plain attributes work on either side of a rule. They are built
//! in Rust with chained methods or read from JSON:
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

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde_json::Value as Json;

use crate::error::InputError;
use crate::limits::{MAX_ENTITY_ATTRIBUTES, MAX_ENTITY_JSON_BYTES, MAX_SET_ELEMENTS};
use crate::syntax::ast::Attribute;

/// An attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A string; compared exactly and case-sensitively.
    Str(String),
    /// A 64-bit signed integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A set of strings, such as `groups`. Kept sorted and without duplicates.
    Set(Vec<String>),
}

impl Value {
    /// A set value from any strings (sorted, duplicates dropped).
    pub fn set<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        Value::Set(v)
    }

    /// The name of this value's type, as errors and explanations print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Bool(_) => "boolean",
            Value::Set(_) => "set",
        }
    }

    pub(crate) fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Str(s) => ValueRef::Str(s),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Set(s) => ValueRef::Set(s),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Set(s) => write!(f, "[{}]", s.join(", ")),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::set(v)
    }
}
impl From<Vec<&str>> for Value {
    fn from(v: Vec<&str>) -> Value {
        Value::set(v)
    }
}

/// A borrowed view of a value, as the evaluator sees it (tags are strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueRef<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    Set(&'a [String]),
}

/// A flat map of attributes plus a map of string tags: what identities and resources are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entity {
    attributes: BTreeMap<String, Value>,
    tags: BTreeMap<String, String>,
}

impl Entity {
    /// The attribute `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }

    /// The tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// All attributes, sorted by name.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.attributes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// All tags, sorted by key.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets attribute `name`, replacing any previous value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.attributes.insert(name.into(), value.into());
    }

    /// Removes attribute `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.attributes.remove(name)
    }

    /// Sets tag `key`.
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.tags.insert(key.into(), value.into());
    }

    /// Removes tag `key`, returning its value.
    pub fn remove_tag(&mut self, key: &str) -> Option<String> {
        self.tags.remove(key)
    }

    /// The value an [`Attribute`] reference resolves to on this entity.
    pub fn lookup(&self, attribute: &Attribute) -> Option<Value> {
        self.value_of(attribute).map(|v| match v {
            ValueRef::Str(s) => Value::Str(s.to_string()),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Set(s) => Value::Set(s.to_vec()),
        })
    }

    #[inline]
    pub(crate) fn value_of(&self, attribute: &Attribute) -> Option<ValueRef<'_>> {
        match attribute {
            Attribute::Name(n) => self.attributes.get(&**n).map(Value::as_ref),
            Attribute::Tag(k) => self.tags.get(&**k).map(|s| ValueRef::Str(s)),
        }
    }

    pub(crate) fn attribute_map(&self) -> &BTreeMap<String, Value> {
        &self.attributes
    }

    pub(crate) fn tag_map(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    /// Reads an entity from a JSON value; `what` (`identity`, `resource`) prefixes error paths.
    pub(crate) fn from_json_value(json: &Json, what: &str) -> Result<Entity, InputError> {
        let Json::Object(map) = json else {
            return Err(InputError::new(
                what,
                format!("expected a JSON object, found {}", json_kind(json)),
            ));
        };
        if map.len() > MAX_ENTITY_ATTRIBUTES {
            return Err(InputError::new(
                what,
                format!("more than {MAX_ENTITY_ATTRIBUTES} attributes"),
            ));
        }
        let mut entity = Entity::default();
        for (key, value) in map {
            let path = child_path(what, key);
            if key == "tags" {
                entity.tags = read_tags(value, &path)?;
                continue;
            }
            if let Some(v) = read_value(value, &path)? {
                entity.attributes.insert(key.clone(), v);
            }
        }
        Ok(entity)
    }

    pub(crate) fn from_json_str(text: &str, what: &str) -> Result<Entity, InputError> {
        if text.len() > MAX_ENTITY_JSON_BYTES {
            return Err(InputError::new(
                what,
                format!("JSON text is larger than {MAX_ENTITY_JSON_BYTES} bytes"),
            ));
        }
        let json: Json = serde_json::from_str(text)
            .map_err(|e| InputError::new(what, format!("malformed JSON: {e}")))?;
        Entity::from_json_value(&json, what)
    }

    /// This entity as a JSON object (`tags` included when there are any).
    pub fn to_json(&self) -> Json {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.attributes {
            map.insert(k.clone(), value_to_json(v));
        }
        if !self.tags.is_empty() {
            let tags = self
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect();
            map.insert("tags".to_string(), Json::Object(tags));
        }
        Json::Object(map)
    }
}

fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Str(s) => Json::String(s.clone()),
        Value::Int(i) => Json::from(*i),
        Value::Bool(b) => Json::Bool(*b),
        Value::Set(s) => Json::Array(s.iter().cloned().map(Json::String).collect()),
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a floating-point number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn child_path(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'));
    if simple {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Json::String(key.to_string()))
    }
}

fn read_tags(value: &Json, path: &str) -> Result<BTreeMap<String, String>, InputError> {
    match value {
        Json::Null => Ok(BTreeMap::new()),
        Json::Object(map) => {
            let mut tags = BTreeMap::new();
            for (k, v) in map {
                match v {
                    Json::String(s) => {
                        tags.insert(k.clone(), s.clone());
                    }
                    Json::Null => {}
                    other => {
                        return Err(InputError::new(
                            child_path(path, k),
                            format!("tag values must be strings, found {}", json_kind(other)),
                        ))
                    }
                }
            }
            Ok(tags)
        }
        other => Err(InputError::new(
            path,
            format!(
                "`tags` must be an object of string values, found {}",
                json_kind(other)
            ),
        )),
    }
}

fn read_value(value: &Json, path: &str) -> Result<Option<Value>, InputError> {
    Ok(Some(match value {
        Json::Null => return Ok(None),
        Json::String(s) => Value::Str(s.clone()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // serde_json reads integers beyond u64 as floats: name them for what they are.
            None if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() >= 9.2e18) => {
                return Err(InputError::new(
                    path,
                    format!("integer `{n}` does not fit in 64 bits"),
                ))
            }
            None if n.is_f64() => {
                return Err(InputError::new(
                    path,
                    "floating-point numbers are not supported; use an integer or a string",
                ))
            }
            None => {
                return Err(InputError::new(
                    path,
                    format!("integer `{n}` does not fit in 64 bits"),
                ))
            }
        },
        Json::Array(items) => {
            if items.len() > MAX_SET_ELEMENTS {
                return Err(InputError::new(
                    path,
                    format!("set has more than {MAX_SET_ELEMENTS} elements"),
                ));
            }
            let mut set = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::String(s) => set.push(s.clone()),
                    other => {
                        return Err(InputError::new(
                            format!("{path}[{i}]"),
                            format!("set elements must be strings, found {}", json_kind(other)),
                        ))
                    }
                }
            }
            Value::set(set)
        }
        Json::Object(_) => {
            return Err(InputError::new(
                path,
                "nested objects are not supported; an attribute is a string, integer, boolean or array of strings",
            ))
        }
    }))
}

macro_rules! entity_newtype {
    ($name:ident, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            entity: Entity,
        }

        impl $name {
            /// An empty one, with no attributes and no tags.
            pub fn new() -> Self {
                Self::default()
            }

            /// Reads one from JSON text: a flat object of attributes plus an optional
            /// `tags` object of strings; `null` means absent.
            ///
            /// # Errors
            /// Malformed JSON, floats, nested objects, arrays of non-strings, a `tags`
            /// that is not an object of strings, or input over the size limits; the
            #[doc = concat!("error names the path, such as `", $what, ".groups[2]`.")]
            pub fn from_json(text: &str) -> Result<Self, InputError> {
                Entity::from_json_str(text, $what).map(|entity| Self { entity })
            }

            /// Reads one from an already-parsed JSON value (see [`Self::from_json`]).
            ///
            /// # Errors
            /// As [`Self::from_json`].
            pub fn from_json_value(json: &serde_json::Value) -> Result<Self, InputError> {
                Entity::from_json_value(json, $what).map(|entity| Self { entity })
            }

            /// Reads one from a JSON value, naming errors under `path` (such as `line 3: identity`).
            ///
            /// # Errors
            /// As [`Self::from_json`].
            pub fn from_json_value_at(
                json: &serde_json::Value,
                path: &str,
            ) -> Result<Self, InputError> {
                Entity::from_json_value(json, path).map(|entity| Self { entity })
            }

            /// With attribute `name` set to `value`.
            pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
                self.entity.set(name, value);
                self
            }

            /// With attribute `name` set to the set of `items`.
            pub fn with_set<I, S>(mut self, name: impl Into<String>, items: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.entity.set(name, Value::set(items));
                self
            }

            /// With tag `key` set to `value`.
            pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                self.entity.set_tag(key, value);
                self
            }

            /// The underlying entity.
            pub fn entity(&self) -> &Entity {
                &self.entity
            }

            /// The underlying entity, mutably (to apply attribute changes in place).
            pub fn entity_mut(&mut self) -> &mut Entity {
                &mut self.entity
            }
        }

        impl std::ops::Deref for $name {
            type Target = Entity;
            fn deref(&self) -> &Entity {
                &self.entity
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Entity {
                &mut self.entity
            }
        }

        impl From<Entity> for $name {
            fn from(entity: Entity) -> Self {
                Self { entity }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let json = self.entity.to_json();
                let serde_json::Value::Object(map) = json else {
                    return serializer.serialize_map(Some(0))?.end();
                };
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in &map {
                    out.serialize_entry(k, v)?;
                }
                out.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let json = serde_json::Value::deserialize(deserializer)?;
                Self::from_json_value(&json).map_err(D::Error::custom)
            }
        }
    };
}

entity_newtype!(
    Identity,
    "identity",
    "Who asks: a person or workload, as a flat map of attributes plus tags."
);
entity_newtype!(
    Resource,
    "resource",
    "What is asked for: a host, database or cluster, as attributes plus tags (`tag:KEY`)."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_path() {
        let e = Identity::from_json(r#"{"groups": ["a", "b", 3]}"#).unwrap_err();
        assert_eq!(e.path(), "identity.groups[2]");
        let e = Resource::from_json(r#"{"tags": {"env": 1}}"#).unwrap_err();
        assert_eq!(e.path(), "resource.tags.env");
        let e = Resource::from_json(r#"{"tags": [1]}"#).unwrap_err();
        assert_eq!(e.path(), "resource.tags");
        let e = Identity::from_json(r#"{"x": 1.5}"#).unwrap_err();
        assert_eq!(e.path(), "identity.x");
        let e = Identity::from_json(r#"{"x": {"y": 1}}"#).unwrap_err();
        assert_eq!(e.path(), "identity.x");
        let e = Identity::from_json(r#"{"x": 18446744073709551615}"#).unwrap_err();
        assert_eq!(e.path(), "identity.x");
        let e = Identity::from_json(r#"{"x": 99999999999999999999}"#).unwrap_err();
        assert!(e.message().contains("64 bits"), "{e}");
        assert!(Identity::from_json("[1]").is_err());
        assert!(Identity::from_json("{").is_err());
    }

    #[test]
    fn null_means_absent() {
        let i = Identity::from_json(r#"{"role": null, "tags": {"a": null, "b": "x"}}"#).unwrap();
        assert_eq!(i.get("role"), None);
        assert_eq!(i.tag("a"), None);
        assert_eq!(i.tag("b"), Some("x"));
    }

    #[test]
    fn serde_round_trip() {
        let r = Resource::new()
            .with("port", 5432)
            .with_set("g", ["b", "a", "a"])
            .with_tag("env", "prod");
        let text = serde_json::to_string(&r).unwrap();
        let back: Resource = serde_json::from_str(&text).unwrap();
        assert_eq!(r, back);
        assert_eq!(
            back.get("g"),
            Some(&Value::Set(vec!["a".into(), "b".into()]))
        );
    }
}
