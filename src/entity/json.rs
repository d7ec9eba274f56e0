//! The JSON form of identities and resources, read strictly.
//!
//! Text is read in one pass with `serde_json`, keeping each value's raw text
//! ([`RawValue`]), so that:
//!
//! * a **duplicate key** anywhere — an attribute, `tags`, a tag key, a request's
//!   `identity` — is refused with its path, never silently last-wins;
//! * **numbers** are classified by the digits written: `-0` is the integer 0, `9.2e18`
//!   is a float (refused), and an integer too large for 64 bits is named with its digits;
//! * the **size limit** applies to the text of each entity.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;

use super::{Entity, KeyMap, TAGS_KEY};
use crate::diagnostics::Code;
use crate::error::InputError;
use crate::lexical::is_integer_text;
use crate::limits::{MAX_ENTITY_ATTRIBUTES, MAX_ENTITY_JSON_BYTES, MAX_SET_ELEMENTS};
use crate::value::{Set, Value};

use crate::inline_str::InlineStr;

/// Reads an entity from JSON text; `what` (`identity`, `resource`) prefixes error paths.
pub(super) fn entity_from_text(text: &str, what: &str) -> Result<Entity, InputError> {
    if text.len() > MAX_ENTITY_JSON_BYTES {
        return Err(InputError::new(
            Code::InputTooLarge,
            what,
            format!("JSON text is larger than {MAX_ENTITY_JSON_BYTES} bytes"),
        ));
    }
    let fields = strict_object(text, what, "a JSON object")?;
    let mut entity = Entity::default();
    // Gathered, then sorted once (the keys are unique: `strict_object` refuses repeats).
    let mut attributes = Vec::new();
    for (key, raw) in fields {
        let path = child_path(what, &key);
        if key == TAGS_KEY {
            entity.tags = read_tags(raw, &path)?;
        } else if let Some(v) = read_value(raw, &path)? {
            attributes.push((InlineStr::from(key), v));
        }
        if attributes.len() + entity.tags.len() > MAX_ENTITY_ATTRIBUTES {
            return Err(InputError::new(
                Code::InputTooLarge,
                what,
                format!("more than {MAX_ENTITY_ATTRIBUTES} attributes"),
            ));
        }
    }
    entity.attributes = KeyMap::from_entries(attributes);
    Ok(entity)
}

/// The JSON object of an entity (`tags` included when there are any).
pub(super) fn entity_to_json(entity: &Entity) -> Json {
    let mut map = serde_json::Map::new();
    for (k, v) in &entity.attributes {
        let json = match v {
            Value::Str(s) => Json::String(s.clone()),
            Value::Int(i) => Json::from(*i),
            Value::Bool(b) => Json::Bool(*b),
            Value::Set(s) => Json::Array(s.iter().map(|x| Json::String(x.to_string())).collect()),
        };
        map.insert(k.to_string(), json);
    }
    if !entity.tags.is_empty() {
        let tags = entity
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), Json::String(v.clone())))
            .collect();
        map.insert(TAGS_KEY.to_string(), Json::Object(tags));
    }
    Json::Object(map)
}

/// What kind of JSON value a raw text is, for "found …" in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    Null,
    Boolean,
    Integer,
    Float,
    String,
    Array,
    Object,
}

impl JsonKind {
    /// The kind of a raw JSON value (the text of one valid value).
    pub(crate) fn of(raw: &str) -> JsonKind {
        let raw = raw.trim_start_matches([' ', '\t', '\r', '\n']);
        match raw.as_bytes().first() {
            Some(b'n') => JsonKind::Null,
            Some(b't' | b'f') => JsonKind::Boolean,
            Some(b'"') => JsonKind::String,
            Some(b'[') => JsonKind::Array,
            Some(b'{') => JsonKind::Object,
            _ if is_integer_text(raw.trim_end()) => JsonKind::Integer,
            _ => JsonKind::Float,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "a boolean",
            JsonKind::Integer => "an integer",
            JsonKind::Float => "a floating-point number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        })
    }
}

/// Reads `text` as one JSON object, refusing duplicate keys: its fields in order, each
/// with its raw text. Errors are named under `path`; a value that is not an object is
/// reported as "expected {expected}, found …".
pub(crate) fn strict_object<'t>(
    text: &'t str,
    path: &str,
    expected: &str,
) -> Result<Vec<(String, &'t RawValue)>, InputError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = ObjectSeed(&duplicate)
        .deserialize(&mut de)
        .and_then(|fields| de.end().map(|()| fields));
    match parsed {
        Ok(fields) => Ok(fields),
        Err(e) => {
            if let Some(key) = duplicate.take() {
                return Err(InputError::new(
                    Code::DuplicateKey,
                    child_path(path, &key),
                    format!("duplicate key `{key}`"),
                ));
            }
            // Not an object at all, or malformed: say which.
            match serde_json::from_str::<&RawValue>(text) {
                Ok(raw) => Err(InputError::new(
                    Code::JsonType,
                    path,
                    format!("expected {expected}, found {}", JsonKind::of(raw.get())),
                )),
                Err(_) => Err(InputError::new(Code::MalformedJson, path, malformed(&e))),
            }
        }
    }
}

/// `malformed JSON at column 5: EOF while parsing a value` (with the line when not 1).
pub(crate) fn malformed(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    if e.line() > 1 {
        format!(
            "malformed JSON at line {} column {}: {message}",
            e.line(),
            e.column()
        )
    } else {
        format!("malformed JSON at column {}: {message}", e.column())
    }
}

/// `parent.key`, or `parent["odd key"]` when the key is not a plain word.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
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

fn read_tags(raw: &RawValue, path: &str) -> Result<KeyMap<String>, InputError> {
    match JsonKind::of(raw.get()) {
        JsonKind::Null => Ok(KeyMap::default()),
        JsonKind::Object => {
            let mut tags = Vec::new();
            for (k, v) in strict_object(raw.get(), path, "a JSON object")? {
                match JsonKind::of(v.get()) {
                    JsonKind::String => {
                        tags.push((InlineStr::from(k), string(v)));
                    }
                    JsonKind::Null => {}
                    other => {
                        return Err(InputError::new(
                            Code::JsonType,
                            child_path(path, &k),
                            format!("tag values must be strings, found {other}"),
                        ))
                    }
                }
            }
            Ok(KeyMap::from_entries(tags))
        }
        other => Err(InputError::new(
            Code::JsonType,
            path,
            format!("`tags` must be an object of string values, found {other}"),
        )),
    }
}

fn read_value(raw: &RawValue, path: &str) -> Result<Option<Value>, InputError> {
    let text = raw.get();
    Ok(Some(match JsonKind::of(text) {
        JsonKind::Null => return Ok(None),
        JsonKind::Boolean => Value::Bool(text.starts_with('t')),
        JsonKind::String => Value::Str(string(raw)),
        JsonKind::Integer => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => {
                return Err(InputError::new(
                    Code::NumberRange,
                    path,
                    format!("integer `{text}` does not fit in 64 bits"),
                ))
            }
        },
        JsonKind::Float => {
            return Err(InputError::new(
                Code::FloatNumber,
                path,
                format!(
                    "floating-point numbers are not supported (`{text}`); use an integer or a string"
                ),
            ))
        }
        JsonKind::Array => {
            let items: Vec<&RawValue> = serde_json::from_str(text)
                .map_err(|e| InputError::new(Code::MalformedJson, path, malformed(&e)))?;
            if items.len() > MAX_SET_ELEMENTS {
                return Err(InputError::new(
                    Code::InputTooLarge,
                    path,
                    format!("set has more than {MAX_SET_ELEMENTS} elements"),
                ));
            }
            let mut set = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match JsonKind::of(item.get()) {
                    JsonKind::String => set.push(string(item)),
                    other => {
                        return Err(InputError::new(
                            Code::JsonType,
                            format!("{path}[{i}]"),
                            format!("set elements must be strings, found {other}"),
                        ))
                    }
                }
            }
            Value::Set(Set::new(set))
        }
        JsonKind::Object => {
            return Err(InputError::new(
                Code::JsonType,
                path,
                "nested objects are not supported; an attribute is a string, integer, boolean or array of strings",
            ))
        }
    }))
}

/// The string a raw JSON string stands for (already validated by the parser).
fn string(raw: &RawValue) -> String {
    serde_json::from_str(raw.get()).unwrap_or_default()
}

/// Deserializes one JSON object into its fields with raw values, recording a duplicate
/// key in the cell before failing.
struct ObjectSeed<'c>(&'c RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Vec<(String, &'de RawValue)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(String, &'de RawValue)> = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                *self.0.borrow_mut() = Some(key);
                return Err(A::Error::custom("duplicate key"));
            }
            let value: &'de RawValue = map.next_value()?;
            fields.push((key, value));
        }
        Ok(fields)
    }
}

/// A JSON value read through any serde deserializer, refusing duplicate object keys at
/// every depth (for the `Deserialize` impls of identities, resources and requests).
pub(crate) struct StrictJson(pub(crate) Json);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StrictJson, D::Error> {
        let duplicate = RefCell::new(None);
        PathSeed {
            path: String::new(),
            duplicate: &duplicate,
        }
        .deserialize(d)
        .map(StrictJson)
    }
}

/// Reads any JSON text strictly: a duplicate object key at any depth is refused with its
/// path (under `path`), never resolved last-wins. For SCIM bodies, directory lines and
/// other JSON the lifecycle reads besides entities.
pub(crate) fn strict_value(text: &str, path: &str) -> Result<Json, InputError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = PathSeed {
        path: path.to_string(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    parsed.map_err(|e| match duplicate.take() {
        Some(at) => InputError::new(Code::DuplicateKey, at, "duplicate key"),
        None => InputError::new(Code::MalformedJson, path, malformed(&e)),
    })
}

/// A JSON value that knows its own path, recording the path of a duplicate key.
struct PathSeed<'c> {
    path: String,
    duplicate: &'c RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Json;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PathSeed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Json, E> {
        Ok(Json::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Json, E> {
        Ok(Json::from(u))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Json, E> {
        Ok(Json::from(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        loop {
            let seed = PathSeed {
                path: format!("{}[{}]", self.path, items.len()),
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Json::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                child_path("", &key).trim_start_matches('.').to_string()
            } else {
                child_path(&self.path, &key)
            };
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path);
                return Err(A::Error::custom(format!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(PathSeed {
                path,
                duplicate: self.duplicate,
            })?;
            out.insert(key, value);
        }
        Ok(Json::Object(out))
    }
}
