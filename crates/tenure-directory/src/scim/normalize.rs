//! The canonical stored form of a User or Group body.
//!
//! Both what a client sends (POST, PUT) and what a PATCH leaves go through here, so a
//! body is stored one way however it arrived:
//!
//! * attribute names in RFC 7643's spelling (`Department` → `department`), unknown ones as
//!   first sent; two keys that differ only in case are refused;
//! * explicit `null`s dropped, in objects and arrays (`null` means absent);
//! * read-only attributes dropped: `id`, `meta`, and a User's `groups` (computed from the
//!   groups); `password` is never stored;
//! * a User's enterprise attributes sent at the top level (Entra's legacy shape) move into
//!   the enterprise extension, a one-element `manager` array becomes its element;
//! * `active` as `"True"`/`"false"` (any case) becomes a boolean;
//! * a single object sent for a multi-valued attribute becomes a one-element array.

use serde_json::{Map, Value};

use super::attrs::{self, canonical, get_ci, key_ci, ENTERPRISE_USER};
use super::error::ScimError;

/// The deepest JSON nesting a body may have.
pub const MAX_BODY_DEPTH: usize = 32;

/// Refuses `value` when it nests deeper than `max`, without recursion.
pub(crate) fn check_depth(value: &Value, max: usize) -> Result<(), ScimError> {
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > max {
            return Err(ScimError::invalid_value(format!(
                "the body nests deeper than {max} levels"
            )));
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// Canonical keys and no nulls, at every depth (bounded by [`check_depth`]).
fn canonical_value(value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    Ok(match value {
        Value::Null => None,
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = canonical_value(item, &format!("{path}[{i}]"))? {
                    out.push(v);
                }
            }
            Some(Value::Array(out))
        }
        Value::Object(map) => Some(Value::Object(canonical_object(map, path)?)),
        other => Some(other.clone()),
    })
}

fn canonical_object(map: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in map {
        let name = canonical(key);
        let at = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        if key_ci(&out, &name).is_some() {
            return Err(ScimError::invalid_syntax(format!(
                "attribute `{at}` is given twice (attribute names are case-insensitive)"
            )));
        }
        if let Some(value) = canonical_value(value, &at)? {
            out.insert(name, value);
        }
    }
    Ok(out)
}

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ScimError> {
    value
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax(format!("the {what} must be a JSON object")))
}

/// Reads a boolean sent as `true` or as the string `"True"`/`"false"` (any case).
pub(crate) fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ScimError::invalid_value(format!(
            "`{name}` must be a boolean, not `{other}`"
        ))),
    }
}

fn common(body: &mut Map<String, Value>) {
    for read_only in ["id", "meta", "password"] {
        body.remove(read_only);
    }
    if let Some(Value::Array(schemas)) = body.get("schemas") {
        if !schemas.iter().all(Value::is_string) {
            body.remove("schemas");
        }
    } else {
        body.remove("schemas");
    }
    for name in attrs::MULTI_VALUED {
        if let Some(value) = body.get_mut(*name) {
            if value.is_object() {
                let single = value.take();
                *value = Value::Array(vec![single]);
            }
        }
    }
}

/// The canonical stored body of a User.
///
/// # Errors
/// 400 when the body is not an object, nests too deep, repeats an attribute in another
/// case, lacks a `userName` string, or has an `active` that is not a boolean.
pub(crate) fn user(input: &Value) -> Result<Map<String, Value>, ScimError> {
    check_depth(input, MAX_BODY_DEPTH)?;
    let mut body = canonical_object(as_object(input, "User body")?, "")?;
    common(&mut body);
    body.remove("groups");
    // Enterprise attributes at the top level belong to the extension.
    let stray: Vec<String> = body
        .keys()
        .filter(|k| attrs::is_enterprise_attribute(k))
        .cloned()
        .collect();
    if !stray.is_empty() {
        let extension = body
            .entry(ENTERPRISE_USER)
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(_) = extension else {
            return Err(ScimError::invalid_value(format!(
                "`{ENTERPRISE_USER}` must be an object"
            )));
        };
        for key in stray {
            if let Some(value) = body.remove(&key) {
                if let Some(Value::Object(extension)) = body.get_mut(ENTERPRISE_USER) {
                    extension.entry(key).or_insert(value);
                }
            }
        }
    }
    if let Some(extension) = body.get_mut(ENTERPRISE_USER) {
        let Value::Object(extension) = extension else {
            return Err(ScimError::invalid_value(format!(
                "`{ENTERPRISE_USER}` must be an object"
            )));
        };
        if let Some(manager) = extension.get_mut("manager") {
            if let Value::Array(items) = manager {
                match items.len() {
                    0 => {
                        extension.remove("manager");
                    }
                    1 => {
                        let only = items.remove(0);
                        *manager = only;
                    }
                    _ => {
                        return Err(ScimError::invalid_value(
                            "`manager` is single-valued but the value holds several managers",
                        ))
                    }
                }
            }
        }
    }
    if let Some(active) = body.get("active") {
        let active = boolean(active, "active")?;
        body.insert("active".into(), Value::Bool(active));
    }
    match body.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "`userName` must be a non-empty string, not `{other}`"
            )))
        }
        None => return Err(ScimError::invalid_value("a User needs a `userName`")),
    }
    Ok(body)
}

/// The canonical stored body of a Group; `members` become `{value, display?, type?}`
/// objects, each id once.
///
/// # Errors
/// 400 when the body is not an object, nests too deep, lacks a `displayName` string, or
/// has a member without a string `value`.
pub(crate) fn group(input: &Value) -> Result<Map<String, Value>, ScimError> {
    check_depth(input, MAX_BODY_DEPTH)?;
    let mut body = canonical_object(as_object(input, "Group body")?, "")?;
    common(&mut body);
    match body.get("displayName") {
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "`displayName` must be a string, not `{other}`"
            )))
        }
        None => return Err(ScimError::invalid_value("a Group needs a `displayName`")),
    }
    if let Some(members) = body.get("members") {
        let Value::Array(items) = members else {
            return Err(ScimError::invalid_value("`members` must be an array"));
        };
        let mut out: Vec<Value> = Vec::with_capacity(items.len());
        for item in items {
            let Some(object) = item.as_object() else {
                return Err(ScimError::invalid_value(format!(
                    "a member must be an object with a `value`, not `{item}`"
                )));
            };
            let value = match get_ci(object, "value") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "a member needs a string `value` (the user's id): `{item}`"
                    )))
                }
            };
            if out
                .iter()
                .any(|m| m.get("value").and_then(Value::as_str) == Some(value.as_str()))
            {
                continue;
            }
            let mut member = Map::new();
            member.insert("value".into(), Value::String(value));
            for sub in ["display", "type"] {
                if let Some(Value::String(s)) = get_ci(object, sub) {
                    member.insert(sub.into(), Value::String(s.clone()));
                }
            }
            out.push(Value::Object(member));
        }
        body.insert("members".into(), Value::Array(out));
    }
    Ok(body)
}

/// The member ids of a stored Group body, in order.
pub(crate) fn member_ids(body: &Value) -> Vec<String> {
    body.get("members")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
