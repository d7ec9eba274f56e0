//! Stored records → the resources clients read: `id`, `meta`, computed `groups`,
//! member references, and `attributes`/`excludedAttributes` projections.

use serde_json::{json, Map, Value};

use super::attrs::{key_ci, CORE_GROUP, CORE_USER};
use super::error::ScimError;
use super::filter::{parse_path, Path};
use super::normalize::member_ids;
use super::record::{ScimKind, ScimRecord};

/// The ETag of a version: `W/"{version}"`.
pub(crate) fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// Where a resource lives, under `base`.
pub(crate) fn location(base: &str, kind: ScimKind, id: &str) -> String {
    let segment = match kind {
        ScimKind::User => "Users",
        ScimKind::Group => "Groups",
    };
    format!("{}/{segment}/{id}", base.trim_end_matches('/'))
}

/// The resource a client reads; a User's `groups` come from `groups` (every group).
pub(crate) fn resource(record: &ScimRecord, groups: &[ScimRecord], base: &str) -> Value {
    let mut out = record.body.as_object().cloned().unwrap_or_default();
    if !out.contains_key("schemas") {
        let core = match record.kind {
            ScimKind::User => CORE_USER,
            ScimKind::Group => CORE_GROUP,
        };
        let mut schemas = vec![Value::String(core.to_string())];
        for key in out.keys() {
            if key.len() > 4 && key[..4].eq_ignore_ascii_case("urn:") {
                schemas.push(Value::String(key.clone()));
            }
        }
        out.insert("schemas".into(), Value::Array(schemas));
    }
    out.insert("id".into(), Value::String(record.id.clone()));
    match record.kind {
        ScimKind::User => {
            let memberships: Vec<Value> = groups
                .iter()
                .filter(|g| member_ids(&g.body).contains(&record.id))
                .map(|g| {
                    let mut m = Map::new();
                    m.insert("value".into(), Value::String(g.id.clone()));
                    if let Some(name) = g.body.get("displayName") {
                        m.insert("display".into(), name.clone());
                    }
                    m.insert(
                        "$ref".into(),
                        Value::String(location(base, ScimKind::Group, &g.id)),
                    );
                    m.insert("type".into(), Value::String("direct".into()));
                    Value::Object(m)
                })
                .collect();
            out.insert("groups".into(), Value::Array(memberships));
        }
        ScimKind::Group => {
            if let Some(Value::Array(members)) = out.get_mut("members") {
                for member in members.iter_mut() {
                    if let Value::Object(m) = member {
                        if let Some(Value::String(id)) = m.get("value").cloned() {
                            m.insert(
                                "$ref".into(),
                                Value::String(location(base, ScimKind::User, &id)),
                            );
                        }
                        m.entry("type")
                            .or_insert_with(|| Value::String("User".into()));
                    }
                }
            }
        }
    }
    let resource_type = match record.kind {
        ScimKind::User => "User",
        ScimKind::Group => "Group",
    };
    out.insert(
        "meta".into(),
        json!({
            "resourceType": resource_type,
            "created": record.created.to_string(),
            "lastModified": record.modified.to_string(),
            "location": location(base, record.kind, &record.id),
            "version": etag(record.version),
        }),
    );
    Value::Object(out)
}

/// A comma-separated `attributes` list, or a JSON array of strings, as paths.
pub(crate) fn attribute_list(value: Option<&Value>, name: &str) -> Result<Vec<Path>, ScimError> {
    let texts: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(|t| t.trim().to_string()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| ScimError::invalid_value(format!("`{name}` must hold strings")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ScimError::invalid_value(format!(
                "`{name}` must be a list of attributes"
            )))
        }
    };
    texts
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| parse_path(t).map_err(|e| ScimError::invalid_value(format!("`{name}`: {e}"))))
        .collect()
}

/// The object holding `path`'s attribute in `resource` (the resource or an extension),
/// as its key chain.
fn holder_key(resource: &Map<String, Value>, path: &Path) -> Option<Option<String>> {
    match &path.urn {
        Some(urn) => key_ci(resource, urn).map(|k| Some(k.clone())),
        None => Some(None),
    }
}

/// Keeps only `attributes` (plus `id` and `schemas`), or drops `excluded` (never `id`
/// or `schemas`).
pub(crate) fn project(resource: Value, attributes: &[Path], excluded: &[Path]) -> Value {
    let Value::Object(full) = resource else {
        return resource;
    };
    if !attributes.is_empty() {
        let mut out = Map::new();
        for always in ["id", "schemas"] {
            if let Some(v) = full.get(always) {
                out.insert(always.into(), v.clone());
            }
        }
        for path in attributes {
            let Some(holder) = holder_key(&full, path) else {
                continue;
            };
            let source = match &holder {
                Some(k) => full.get(k).and_then(Value::as_object),
                None => Some(&full),
            };
            let Some(source) = source else { continue };
            let Some(key) = key_ci(source, &path.name) else {
                continue;
            };
            let Some(value) = source.get(key) else {
                continue;
            };
            let picked = match &path.sub {
                None => value.clone(),
                Some(sub) => match value {
                    Value::Object(o) => match key_ci(o, sub) {
                        Some(sk) => {
                            let mut m = Map::new();
                            m.insert(sk.clone(), o[sk].clone());
                            Value::Object(m)
                        }
                        None => continue,
                    },
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .filter_map(|i| {
                                let o = i.as_object()?;
                                let sk = key_ci(o, sub)?;
                                let mut m = Map::new();
                                m.insert(sk.clone(), o[sk].clone());
                                Some(Value::Object(m))
                            })
                            .collect(),
                    ),
                    _ => continue,
                },
            };
            let target = match &holder {
                Some(k) => {
                    let entry = out
                        .entry(k.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    match entry {
                        Value::Object(o) => o,
                        _ => continue,
                    }
                }
                None => &mut out,
            };
            match (target.get_mut(key), picked) {
                (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
                (_, picked) => {
                    target.insert(key.clone(), picked);
                }
            }
        }
        return Value::Object(out);
    }
    let mut out = full;
    for path in excluded {
        if path.urn.is_none()
            && ["id", "schemas"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&path.name))
        {
            continue;
        }
        let holder = match holder_key(&out, path) {
            Some(h) => h,
            None => continue,
        };
        let source = match &holder {
            Some(k) => match out.get_mut(k) {
                Some(Value::Object(o)) => o,
                _ => continue,
            },
            None => &mut out,
        };
        let Some(key) = key_ci(source, &path.name).cloned() else {
            continue;
        };
        match &path.sub {
            None => {
                source.remove(&key);
            }
            Some(sub) => match source.get_mut(&key) {
                Some(Value::Object(o)) => {
                    if let Some(sk) = key_ci(o, sub).cloned() {
                        o.remove(&sk);
                    }
                }
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Value::Object(o) = item {
                            if let Some(sk) = key_ci(o, sub).cloned() {
                                o.remove(&sk);
                            }
                        }
                    }
                }
                _ => {}
            },
        }
    }
    Value::Object(out)
}
