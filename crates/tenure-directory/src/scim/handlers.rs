//! The endpoints: routing a request to its operation, and each operation's writes and
//! identity updates.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::attrs::get_ci;
use super::error::ScimError;
use super::normalize::{self, member_ids};
use super::query::Query;
use super::record::{ScimKind, ScimRecord};
use super::render::{self, etag, location};
use super::route::{self, Route, Target};
use super::{patch, Context, IdentityUpdate, ScimData, ScimOutcome, ScimRequest, ScimWrite};

pub(crate) fn handle(
    request: &ScimRequest,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let route = route::route(&request.path)?;
    let method = request.method.trim().to_ascii_uppercase();
    let body = || {
        request
            .body
            .as_ref()
            .ok_or_else(|| ScimError::invalid_syntax(format!("a {method} needs a JSON body")))
    };
    if let Some(body) = &request.body {
        normalize::check_depth(body, normalize::MAX_BODY_DEPTH)?;
    }
    match (&route.target, method.as_str()) {
        (Target::Collection, "GET") => list(&route, Query::from_route(&route)?, data, ctx),
        (Target::Search, "POST") => list(&route, Query::from_body(body()?)?, data, ctx),
        (Target::Collection, "POST") => match route.kind {
            ScimKind::User => create_user(body()?, data, ctx),
            ScimKind::Group => create_group(body()?, data, ctx),
        },
        (Target::Resource(id), "GET") => get(&route, id, data, ctx),
        (Target::Resource(id), "PUT") => {
            let current = existing(data, route.kind, id)?;
            check_if_match(request, &current)?;
            let new_body = match route.kind {
                ScimKind::User => normalize::user(body()?)?,
                ScimKind::Group => normalize::group(body()?)?,
            };
            write(current, new_body, data, ctx)
        }
        (Target::Resource(id), "PATCH") => {
            let current = existing(data, route.kind, id)?;
            check_if_match(request, &current)?;
            let mut working = current.body.as_object().cloned().unwrap_or_default();
            let user = route.kind == ScimKind::User;
            patch::apply(&mut working, body()?, user)?;
            let working = Value::Object(working);
            let new_body = if user {
                normalize::user(&working)?
            } else {
                normalize::group(&working)?
            };
            write(current, new_body, data, ctx)
        }
        (Target::Resource(id), "DELETE") => {
            let current = existing(data, route.kind, id)?;
            check_if_match(request, &current)?;
            match route.kind {
                ScimKind::User => delete_user(current, data, ctx),
                ScimKind::Group => delete_group(current, data, ctx),
            }
        }
        (target, _) => {
            let allowed = match target {
                Target::Collection => "GET, POST",
                Target::Search => "POST",
                Target::Resource(_) => "GET, PUT, PATCH, DELETE",
            };
            Err(ScimError::method_not_allowed(format!(
                "method `{}` is not allowed here; allowed: {allowed}",
                request.method
            )))
        }
    }
}

fn existing(data: &mut dyn ScimData, kind: ScimKind, id: &str) -> Result<ScimRecord, ScimError> {
    data.get(kind, id)?.ok_or_else(|| {
        ScimError::not_found(format!(
            "no {} with id `{id}`",
            match kind {
                ScimKind::User => "User",
                ScimKind::Group => "Group",
            }
        ))
    })
}

fn strip_weak(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/")
        .or_else(|| tag.strip_prefix("w/"))
        .unwrap_or(tag)
}

fn check_if_match(request: &ScimRequest, current: &ScimRecord) -> Result<(), ScimError> {
    let Some(header) = &request.if_match else {
        return Ok(());
    };
    let now = etag(current.version);
    let ok = header
        .split(',')
        .any(|tag| tag.trim() == "*" || strip_weak(tag) == strip_weak(&now));
    if ok {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(format!(
            "`If-Match: {header}` does not match the current version `{now}`"
        )))
    }
}

fn user_name(body: &Map<String, Value>) -> Option<&str> {
    get_ci(body, "userName").and_then(Value::as_str)
}

fn check_unique_user_name(
    data: &mut dyn ScimData,
    body: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(), ScimError> {
    let Some(name) = user_name(body) else {
        return Ok(());
    };
    match data.user_named(name)? {
        Some(id) if Some(id.as_str()) != except => Err(ScimError::uniqueness(format!(
            "`userName` `{name}` is already taken by another user"
        ))),
        _ => Ok(()),
    }
}

fn check_members_known(
    data: &mut dyn ScimData,
    body: &Map<String, Value>,
    already: &[String],
) -> Result<(), ScimError> {
    for id in member_ids(&Value::Object(body.clone())) {
        if already.contains(&id) {
            continue;
        }
        if data.get(ScimKind::User, &id)?.is_none() {
            return Err(ScimError::invalid_value(format!(
                "member `{id}` is not a known user; provision the user before adding her to a group"
            )));
        }
    }
    Ok(())
}

fn new_id(data: &mut dyn ScimData, kind: ScimKind) -> Result<String, ScimError> {
    for _ in 0..8 {
        let id = uuid::Uuid::new_v4().to_string();
        if data.get(kind, &id)?.is_none() {
            return Ok(id);
        }
    }
    Err(ScimError::internal("could not find a free id"))
}

/// The identity of user `id` with `body`, among `groups`.
fn identity(
    ctx: &Context<'_>,
    id: &str,
    body: Option<&Value>,
    groups: &[ScimRecord],
) -> Option<tenure::Identity> {
    let body = body?;
    let bodies: Vec<Value> = groups
        .iter()
        .filter(|g| member_ids(&g.body).iter().any(|m| m == id))
        .map(|g| {
            let mut b = g.body.as_object().cloned().unwrap_or_default();
            b.insert("id".into(), Value::String(g.id.clone()));
            Value::Object(b)
        })
        .collect();
    let refs: Vec<&Value> = bodies.iter().collect();
    Some(ctx.mapping.identity(id, body, &refs))
}

/// The updates for `users`: each one's identity with `groups_before` and with
/// `groups_after`; `changed` overrides one user's body (before, after).
fn updates(
    ctx: &Context<'_>,
    data: &mut dyn ScimData,
    users: &BTreeSet<String>,
    groups_before: &[ScimRecord],
    groups_after: &[ScimRecord],
    changed: Option<(&str, Option<&Value>, Option<&Value>)>,
) -> Result<Vec<IdentityUpdate>, ScimError> {
    let mut out = Vec::new();
    for id in users {
        let (before_body, after_body) = match changed {
            Some((changed_id, before, after)) if changed_id == id => {
                (before.cloned(), after.cloned())
            }
            _ => {
                let body = data.get(ScimKind::User, id)?.map(|r| r.body);
                (body.clone(), body)
            }
        };
        let before = identity(ctx, id, before_body.as_ref(), groups_before);
        let after = identity(ctx, id, after_body.as_ref(), groups_after);
        if before != after {
            out.push(IdentityUpdate {
                id: id.clone(),
                before,
                after,
            });
        }
    }
    Ok(out)
}

fn one_resource(
    status: u16,
    record: &ScimRecord,
    groups: &[ScimRecord],
    ctx: &Context<'_>,
    writes: Vec<ScimWrite>,
    updates: Vec<IdentityUpdate>,
) -> ScimOutcome {
    ScimOutcome {
        status,
        response: Some(render::resource(record, groups, ctx.base_url)),
        location: Some(location(ctx.base_url, record.kind, &record.id)),
        etag: Some(etag(record.version)),
        writes,
        updates,
    }
}

fn list(
    route: &Route,
    query: Query,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let groups = data.list(ScimKind::Group)?;
    let records = match route.kind {
        ScimKind::User => data.list(ScimKind::User)?,
        ScimKind::Group => groups.clone(),
    };
    Ok(ScimOutcome {
        status: 200,
        response: Some(super::query::run(
            route.kind,
            &query,
            &records,
            &groups,
            ctx.base_url,
        )),
        location: None,
        etag: None,
        writes: Vec::new(),
        updates: Vec::new(),
    })
}

fn get(
    route: &Route,
    id: &str,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let projection = Query::projection(route)?;
    let record = existing(data, route.kind, id)?;
    let groups = match route.kind {
        ScimKind::User => data.list(ScimKind::Group)?,
        ScimKind::Group => Vec::new(),
    };
    let mut outcome = one_resource(200, &record, &groups, ctx, Vec::new(), Vec::new());
    outcome.response = outcome
        .response
        .map(|r| render::project(r, &projection.attributes, &projection.excluded));
    Ok(outcome)
}

fn create_user(
    body: &Value,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let body = normalize::user(body)?;
    check_unique_user_name(data, &body, None)?;
    let id = new_id(data, ScimKind::User)?;
    let record = ScimRecord {
        kind: ScimKind::User,
        id: id.clone(),
        body: Value::Object(body),
        version: 1,
        created: ctx.now,
        modified: ctx.now,
    };
    let groups = data.list(ScimKind::Group)?;
    let after = identity(ctx, &id, Some(&record.body), &groups);
    let update = IdentityUpdate {
        id,
        before: None,
        after,
    };
    Ok(one_resource(
        201,
        &record,
        &groups,
        ctx,
        vec![ScimWrite::Put(record.clone())],
        vec![update],
    ))
}

fn create_group(
    body: &Value,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let body = normalize::group(body)?;
    check_members_known(data, &body, &[])?;
    let id = new_id(data, ScimKind::Group)?;
    let record = ScimRecord {
        kind: ScimKind::Group,
        id,
        body: Value::Object(body),
        version: 1,
        created: ctx.now,
        modified: ctx.now,
    };
    let before = data.list(ScimKind::Group)?;
    let mut after = before.clone();
    after.push(record.clone());
    let users: BTreeSet<String> = member_ids(&record.body).into_iter().collect();
    let updates = updates(ctx, data, &users, &before, &after, None)?;
    Ok(one_resource(
        201,
        &record,
        &[],
        ctx,
        vec![ScimWrite::Put(record.clone())],
        updates,
    ))
}

/// PUT and PATCH: store `new_body` as the next version of `current`, unless nothing
/// changed.
fn write(
    current: ScimRecord,
    new_body: Map<String, Value>,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let groups = data.list(ScimKind::Group)?;
    let shown_groups = |kind| {
        if kind == ScimKind::User {
            groups.as_slice()
        } else {
            &[]
        }
    };
    let new_body = Value::Object(new_body);
    if new_body == current.body {
        return Ok(one_resource(
            200,
            &current,
            shown_groups(current.kind),
            ctx,
            Vec::new(),
            Vec::new(),
        ));
    }
    let record = ScimRecord {
        body: new_body,
        version: current.version.saturating_add(1),
        modified: ctx.now,
        ..current.clone()
    };
    let updates = match current.kind {
        ScimKind::User => {
            let renamed = current
                .body
                .as_object()
                .and_then(user_name)
                .map(str::to_lowercase)
                != record
                    .body
                    .as_object()
                    .and_then(user_name)
                    .map(str::to_lowercase);
            if renamed {
                if let Some(body) = record.body.as_object() {
                    check_unique_user_name(data, body, Some(&record.id))?;
                }
            }
            let users = BTreeSet::from([record.id.clone()]);
            updates(
                ctx,
                data,
                &users,
                &groups,
                &groups,
                Some((&record.id, Some(&current.body), Some(&record.body))),
            )?
        }
        ScimKind::Group => {
            let old_members = member_ids(&current.body);
            if let Some(body) = record.body.as_object() {
                check_members_known(data, body, &old_members)?;
            }
            let users: BTreeSet<String> = old_members
                .into_iter()
                .chain(member_ids(&record.body))
                .collect();
            let after: Vec<ScimRecord> = groups
                .iter()
                .map(|g| {
                    if g.id == record.id {
                        record.clone()
                    } else {
                        g.clone()
                    }
                })
                .collect();
            updates(ctx, data, &users, &groups, &after, None)?
        }
    };
    Ok(one_resource(
        200,
        &record,
        shown_groups(record.kind),
        ctx,
        vec![ScimWrite::Put(record.clone())],
        updates,
    ))
}

fn delete_user(
    current: ScimRecord,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let groups = data.list(ScimKind::Group)?;
    let mut writes = Vec::new();
    for group in &groups {
        if !member_ids(&group.body).contains(&current.id) {
            continue;
        }
        let mut body = group.body.clone();
        if let Some(Value::Array(members)) = body.get_mut("members") {
            members.retain(|m| m.get("value").and_then(Value::as_str) != Some(current.id.as_str()));
        }
        writes.push(ScimWrite::Put(ScimRecord {
            body,
            version: group.version.saturating_add(1),
            modified: ctx.now,
            ..group.clone()
        }));
    }
    writes.push(ScimWrite::Delete(ScimKind::User, current.id.clone()));
    let update = IdentityUpdate {
        id: current.id.clone(),
        before: identity(ctx, &current.id, Some(&current.body), &groups),
        after: None,
    };
    Ok(ScimOutcome {
        status: 204,
        response: None,
        location: None,
        etag: None,
        writes,
        updates: vec![update],
    })
}

fn delete_group(
    current: ScimRecord,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    let before = data.list(ScimKind::Group)?;
    let after: Vec<ScimRecord> = before
        .iter()
        .filter(|g| g.id != current.id)
        .cloned()
        .collect();
    let users: BTreeSet<String> = member_ids(&current.body).into_iter().collect();
    let updates = updates(ctx, data, &users, &before, &after, None)?;
    Ok(ScimOutcome {
        status: 204,
        response: None,
        location: None,
        etag: None,
        writes: vec![ScimWrite::Delete(ScimKind::Group, current.id.clone())],
        updates,
    })
}
