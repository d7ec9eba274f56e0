//! Queries: `GET /Users?filter=…`, `POST /Users/.search`, and the same for groups —
//! filtering, sorting, pagination and projections, answered as a `ListResponse`.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::attrs::LIST_RESPONSE;
use super::error::ScimError;
use super::filter::{self, parse_filter, Filter, Path};
use super::record::{ScimKind, ScimRecord};
use super::render;
use super::route::Route;

/// The most resources one page holds (and the page size when `count` is not given).
pub const MAX_PAGE: usize = 1000;

/// A query's parameters.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pub filter: Option<Filter>,
    pub start_index: usize,
    pub count: usize,
    pub sort_by: Option<Path>,
    pub descending: bool,
    pub attributes: Vec<Path>,
    pub excluded: Vec<Path>,
}

fn integer(value: &Value, name: &str) -> Result<i64, ScimError> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ScimError::invalid_value(format!("`{name}` must be an integer, not `{value}`")))
}

fn build(
    filter: Option<&Value>,
    start: Option<&Value>,
    count: Option<&Value>,
    sort_by: Option<&Value>,
    sort_order: Option<&Value>,
    attributes: Option<&Value>,
    excluded: Option<&Value>,
) -> Result<Query, ScimError> {
    let text = |v: Option<&Value>, name: &str| -> Result<Option<String>, ScimError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ScimError::invalid_value(format!(
                "`{name}` must be a string, not `{other}`"
            ))),
        }
    };
    let filter = match text(filter, "filter")? {
        Some(f) if f.trim().is_empty() => None,
        Some(f) => Some(parse_filter(&f)?),
        None => None,
    };
    let start_index = match start {
        None | Some(Value::Null) => 1,
        Some(v) => integer(v, "startIndex")?.max(1) as usize,
    };
    let count = match count {
        None | Some(Value::Null) => MAX_PAGE,
        Some(v) => integer(v, "count")?.clamp(0, MAX_PAGE as i64) as usize,
    };
    let sort_by = match text(sort_by, "sortBy")? {
        Some(s) if !s.trim().is_empty() => Some(
            filter::parse_path(s.trim())
                .map_err(|e| ScimError::invalid_value(format!("`sortBy`: {e}")))?,
        ),
        _ => None,
    };
    let descending = match text(sort_order, "sortOrder")? {
        None => false,
        Some(o) if o.eq_ignore_ascii_case("ascending") => false,
        Some(o) if o.eq_ignore_ascii_case("descending") => true,
        Some(o) => {
            return Err(ScimError::invalid_value(format!(
                "`sortOrder` must be `ascending` or `descending`, not `{o}`"
            )))
        }
    };
    Ok(Query {
        filter,
        start_index,
        count,
        sort_by,
        descending,
        attributes: render::attribute_list(attributes, "attributes")?,
        excluded: render::attribute_list(excluded, "excludedAttributes")?,
    })
}

impl Query {
    /// From a GET's query string.
    pub fn from_route(route: &Route) -> Result<Query, ScimError> {
        let get = |name: &str| route.param(name).map(|s| Value::String(s.to_string()));
        build(
            get("filter").as_ref(),
            get("startIndex").as_ref(),
            get("count").as_ref(),
            get("sortBy").as_ref(),
            get("sortOrder").as_ref(),
            get("attributes").as_ref(),
            get("excludedAttributes").as_ref(),
        )
    }

    /// From a `.search` body (RFC 7644 §3.4.3).
    pub fn from_body(body: &Value) -> Result<Query, ScimError> {
        let Value::Object(fields) = body else {
            return Err(ScimError::invalid_syntax(
                "a search body must be a JSON object",
            ));
        };
        let get = |name: &str| super::attrs::get_ci(fields, name);
        build(
            get("filter"),
            get("startIndex"),
            get("count"),
            get("sortBy"),
            get("sortOrder"),
            get("attributes"),
            get("excludedAttributes"),
        )
    }

    /// Only the projections (for reading one resource).
    pub fn projection(route: &Route) -> Result<Query, ScimError> {
        let get = |name: &str| route.param(name).map(|s| Value::String(s.to_string()));
        Ok(Query {
            attributes: render::attribute_list(get("attributes").as_ref(), "attributes")?,
            excluded: render::attribute_list(
                get("excludedAttributes").as_ref(),
                "excludedAttributes",
            )?,
            ..Query::default()
        })
    }
}

fn sort_key(resource: &Map<String, Value>, path: &Path, user: bool) -> Option<Value> {
    filter::lookup(resource, path, user).cloned()
}

fn compare_keys(a: &Option<Value>, b: &Option<Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// Runs `query` over `records` (every record of `kind`, ordered by id).
pub(crate) fn run(
    kind: ScimKind,
    query: &Query,
    records: &[ScimRecord],
    groups: &[ScimRecord],
    base: &str,
) -> Value {
    let user = kind == ScimKind::User;
    let mut hits: Vec<Value> = records
        .iter()
        .map(|r| render::resource(r, groups, base))
        .filter(|r| match (&query.filter, r.as_object()) {
            (Some(f), Some(o)) => filter::matches(f, o, user),
            (None, _) => true,
            (Some(_), None) => false,
        })
        .collect();
    if let Some(path) = &query.sort_by {
        let mut keyed: Vec<(Option<Value>, Value)> = hits
            .into_iter()
            .map(|r| (r.as_object().and_then(|o| sort_key(o, path, user)), r))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            let order = compare_keys(a, b);
            if query.descending && a.is_some() && b.is_some() {
                order.reverse()
            } else {
                order
            }
        });
        hits = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let total = hits.len();
    let page: Vec<Value> = hits
        .into_iter()
        .skip(query.start_index.saturating_sub(1))
        .take(query.count)
        .map(|r| render::project(r, &query.attributes, &query.excluded))
        .collect();
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": query.start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}
