//! PATCH (RFC 7644 §3.5.2) over a stored body, as Okta and Entra send it.
//!
//! Operations apply in order to a working copy; the caller re-normalises the result and
//! keeps it only when every operation succeeded. Accepted beyond the letter of the RFC:
//!
//! * `op` in any case (`Replace`, `Add`, `Remove`);
//! * a path-less `add`/`replace` whose `value` keys are paths themselves: dotted
//!   (`name.givenName`), URN-qualified (`urn:…:enterprise:2.0:User:employeeNumber`), or a
//!   whole extension (`urn:…:enterprise:2.0:User` with an object); read-only keys in it
//!   (`id`, `meta`, `schemas`, a User's `groups`) and `password` are skipped;
//! * bare enterprise names as paths on a User (`manager`, `department`);
//! * `remove` with path `members` (or any multi-valued attribute) and a `value` array
//!   removes only the listed elements (Entra); without a `value` it removes them all;
//! * `replace`/`add` through a value filter that matches nothing creates the element when
//!   the filter only pins attributes with `eq` (`emails[type eq "work"].value`), else
//!   answers `noTarget`; a `remove` that matches nothing is a no-op.

use serde_json::{Map, Value};

use super::attrs::{self, canonical, get_ci, key_ci, ENTERPRISE_USER};
use super::error::ScimError;
use super::filter::{self, matches_in, parse_path, Path};

/// The most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

/// Applies the PATCH request `patch` to `body`, a User's when `user`.
///
/// # Errors
/// 400 `invalidSyntax` (shape, unknown op), `invalidPath`, `invalidValue`, `noTarget`,
/// `mutability` (`id`, a User's `groups`).
pub(crate) fn apply(
    body: &mut Map<String, Value>,
    patch: &Value,
    user: bool,
) -> Result<(), ScimError> {
    let patch = patch
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body must be a JSON object"))?;
    let operations = match get_ci(patch, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => {
            return Err(ScimError::invalid_syntax("`Operations` is empty"));
        }
        _ => {
            return Err(ScimError::invalid_syntax(
                "a PATCH body needs an `Operations` array",
            ))
        }
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            Some("tooMany"),
            format!("more than {MAX_OPERATIONS} operations"),
        ));
    }
    for (i, operation) in operations.iter().enumerate() {
        let operation = operation.as_object().ok_or_else(|| {
            ScimError::invalid_syntax(format!("`Operations[{i}]` must be an object"))
        })?;
        let kind = match get_ci(operation, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Kind::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Kind::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Kind::Remove,
            Some(op) => {
                return Err(ScimError::invalid_syntax(format!(
                    "unknown PATCH op `{op}` in `Operations[{i}]`; expected `add`, `replace` or `remove`"
                )))
            }
            None => {
                return Err(ScimError::invalid_syntax(format!(
                    "`Operations[{i}]` needs an `op` string"
                )))
            }
        };
        let path = match get_ci(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                return Err(ScimError::invalid_path(format!(
                    "`Operations[{i}].path` must be a string, not `{other}`"
                )))
            }
        };
        let value = get_ci(operation, "value").filter(|v| !v.is_null());
        match path {
            Some(text) => {
                let path = parse_path(text).map_err(ScimError::invalid_path)?;
                if is_read_only(&path, user) {
                    if path.name.eq_ignore_ascii_case("password") {
                        continue;
                    }
                    return Err(ScimError::mutability(format!("`{text}` is read-only")));
                }
                one(body, kind, &path, value, user)?;
            }
            None => {
                if kind == Kind::Remove {
                    return Err(ScimError::no_target(format!(
                        "`Operations[{i}]`: a `remove` needs a `path`"
                    )));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::invalid_syntax(format!(
                        "`Operations[{i}]`: an `{}` without `path` needs an object `value`",
                        if kind == Kind::Add { "add" } else { "replace" }
                    )));
                };
                for (key, v) in values {
                    let path = if key.len() > 4
                        && key[..4].eq_ignore_ascii_case("urn:")
                        && v.is_object()
                    {
                        Path {
                            urn: None,
                            name: key.clone(),
                            filter: None,
                            sub: None,
                        }
                    } else {
                        parse_path(key).map_err(ScimError::invalid_path)?
                    };
                    if is_read_only(&path, user) || path.name.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let v = Some(v).filter(|v| !v.is_null());
                    if v.is_none() && kind == Kind::Replace {
                        one(body, Kind::Remove, &path, None, user)?;
                    } else {
                        one(body, kind, &path, v, user)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn is_read_only(path: &Path, user: bool) -> bool {
    path.urn.is_none()
        && (["id", "meta", "password"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&path.name))
            || (user && path.name.eq_ignore_ascii_case("groups")))
}

/// The object holding `path`'s attribute, created when `create`.
fn container_mut<'a>(
    body: &'a mut Map<String, Value>,
    path: &Path,
    user: bool,
    create: bool,
) -> Result<Option<&'a mut Map<String, Value>>, ScimError> {
    let extension = match &path.urn {
        Some(urn) => Some(urn.clone()),
        None if user
            && key_ci(body, &path.name).is_none()
            && attrs::is_enterprise_attribute(&path.name) =>
        {
            Some(ENTERPRISE_USER.to_string())
        }
        None => None,
    };
    let Some(urn) = extension else {
        return Ok(Some(body));
    };
    let key = match key_ci(body, &urn) {
        Some(k) => k.clone(),
        None if create => {
            let k = canonical(&urn);
            body.insert(k.clone(), Value::Object(Map::new()));
            k
        }
        None => return Ok(None),
    };
    match body.get_mut(&key) {
        Some(Value::Object(o)) => Ok(Some(o)),
        _ => Err(ScimError::invalid_value(format!(
            "`{urn}` is not an object"
        ))),
    }
}

/// Incoming values in stored form: canonical keys, no nulls.
fn clean(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().filter(|v| !v.is_null()).map(clean).collect())
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if !v.is_null() {
                    out.insert(canonical(k), clean(v));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Sets `name` in `object` (reusing the key's existing spelling); `None` removes it.
fn set(object: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    let key = key_ci(object, name)
        .cloned()
        .unwrap_or_else(|| canonical(name));
    match value {
        Some(v) => {
            object.insert(key, v);
        }
        None => {
            object.remove(&key);
        }
    }
}

fn merge(target: &mut Map<String, Value>, source: &Map<String, Value>) {
    for (k, v) in source {
        set(target, k, Some(v.clone()));
    }
}

/// Whether two elements of a multi-valued attribute are the same (same `value`, else equal).
fn same_element(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn one(
    body: &mut Map<String, Value>,
    kind: Kind,
    path: &Path,
    value: Option<&Value>,
    user: bool,
) -> Result<(), ScimError> {
    let text = filter::path_text(path);
    let value = value.map(clean);
    if kind != Kind::Remove && value.is_none() {
        return match kind {
            Kind::Replace => one(body, Kind::Remove, path, None, user),
            _ => Err(ScimError::invalid_value(format!(
                "`add` to `{text}` needs a `value`"
            ))),
        };
    }
    let create = kind != Kind::Remove;
    let Some(container) = container_mut(body, path, user, create)? else {
        return Ok(()); // removing from an extension that is not there
    };
    let key = key_ci(container, &path.name)
        .cloned()
        .unwrap_or_else(|| canonical(&path.name));
    match (&path.filter, &path.sub) {
        (None, None) => {
            let multi = attrs::is_multi_valued(&path.name)
                || container.get(&key).is_some_and(Value::is_array);
            match (kind, value) {
                (Kind::Remove, Some(listed))
                    if container.get(&key).is_some_and(Value::is_array) =>
                {
                    let listed: Vec<Value> = match listed {
                        Value::Array(items) => items,
                        single => vec![single],
                    };
                    if let Some(Value::Array(items)) = container.get_mut(&key) {
                        items.retain(|item| !listed.iter().any(|l| same_element(item, l)));
                    }
                }
                (Kind::Remove, _) => {
                    container.remove(&key);
                }
                (kind, Some(value)) if multi => {
                    let incoming: Vec<Value> = match value {
                        Value::Array(items) => items,
                        single => vec![single],
                    };
                    if kind == Kind::Replace {
                        container.insert(key, Value::Array(incoming));
                    } else {
                        let entry = container
                            .entry(key)
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if !entry.is_array() {
                            *entry = Value::Array(Vec::new());
                        }
                        if let Value::Array(items) = entry {
                            for new in incoming {
                                if !items.iter().any(|i| same_element(i, &new)) {
                                    items.push(new);
                                }
                            }
                        }
                    }
                }
                (_, Some(Value::Object(source)))
                    if container.get(&key).is_some_and(Value::is_object) =>
                {
                    if let Some(Value::Object(target)) = container.get_mut(&key) {
                        merge(target, &source);
                    }
                }
                (_, value) => {
                    container.insert(key, value.unwrap_or(Value::Null));
                }
            }
        }
        (None, Some(sub)) => {
            let entry = container.get_mut(&key);
            match (entry, kind) {
                (None, Kind::Remove) => {}
                (None, _) => {
                    let mut object = Map::new();
                    set(&mut object, sub, value);
                    container.insert(key, Value::Object(object));
                }
                (Some(Value::Object(object)), _) => set(object, sub, value),
                (Some(Value::Array(items)), _) => {
                    if items.is_empty() && kind != Kind::Remove {
                        return Err(ScimError::no_target(format!("`{text}` has no elements")));
                    }
                    for item in items.iter_mut() {
                        if let Value::Object(object) = item {
                            set(object, sub, value.clone());
                        }
                    }
                }
                (Some(_), Kind::Remove) => {}
                (Some(_), _) => {
                    return Err(ScimError::no_target(format!(
                        "`{}` has no sub-attributes",
                        path.name
                    )))
                }
            }
        }
        (Some(filter), sub) => {
            let parent = path.name.as_str();
            let entry = container.get_mut(&key);
            let hits: Vec<usize> = match &entry {
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| {
                        v.as_object()
                            .is_some_and(|o| matches_in(filter, o, Some(parent)))
                    })
                    .map(|(i, _)| i)
                    .collect(),
                Some(Value::Object(o)) if matches_in(filter, o, Some(parent)) => vec![0],
                _ => Vec::new(),
            };
            if kind == Kind::Remove {
                if let Some(Value::Array(items)) = container.get_mut(&key) {
                    match sub {
                        None => {
                            let mut i = 0;
                            items.retain(|_| {
                                let keep = !hits.contains(&i);
                                i += 1;
                                keep
                            });
                        }
                        Some(sub) => {
                            for &i in &hits {
                                if let Some(Value::Object(o)) = items.get_mut(i) {
                                    set(o, sub, None);
                                }
                            }
                        }
                    }
                }
                return Ok(());
            }
            if hits.is_empty() {
                let Some(pairs) = filter::equalities(filter) else {
                    return Err(ScimError::no_target(format!(
                        "no element of `{text}` matches"
                    )));
                };
                let mut element = Map::new();
                for (k, v) in pairs {
                    element.insert(k, v);
                }
                let entry = container
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !entry.is_array() {
                    let single = entry.take();
                    *entry = Value::Array(vec![single]);
                }
                if let Value::Array(items) = entry {
                    items.push(Value::Object(element));
                }
            }
            let Some(Value::Array(items)) = container.get_mut(&key) else {
                return Err(ScimError::no_target(format!(
                    "`{}` is not multi-valued",
                    path.name
                )));
            };
            let hits: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, v)| {
                    v.as_object()
                        .is_some_and(|o| matches_in(filter, o, Some(parent)))
                })
                .map(|(i, _)| i)
                .collect();
            let primary = sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("primary"))
                && value == Some(Value::Bool(true));
            for (i, item) in items.iter_mut().enumerate() {
                let Value::Object(object) = item else {
                    continue;
                };
                if hits.contains(&i) {
                    match (sub, &value) {
                        (Some(sub), v) => set(object, sub, v.clone()),
                        (None, Some(Value::Object(source))) => merge(object, source),
                        (None, _) => {
                            return Err(ScimError::invalid_value(format!(
                                "`{text}` needs an object `value`"
                            )))
                        }
                    }
                } else if primary {
                    set(object, "primary", Some(Value::Bool(false)));
                }
            }
        }
    }
    Ok(())
}
