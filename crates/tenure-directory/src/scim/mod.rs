//! SCIM 2.0 requests, as Okta and Microsoft Entra ID send them, translated into identity
//! changes.
//!
//! There is no HTTP server and no database here: [`handle`] reads resources through the
//! [`ScimData`] trait and returns a [`ScimOutcome`] — the HTTP status and body to answer,
//! the [`ScimWrite`]s to commit (all or nothing, in one transaction), and an
//! [`IdentityUpdate`] for every user whose identity (the [`Mapping`] of her record plus
//! her group memberships) changed.
//!
//! ```
//! use tenure_directory::mapping::Mapping;
//! use tenure_directory::scim::{handle, Context, MemoryData, ScimRequest};
//!
//! let mapping = Mapping::default();
//! let ctx = Context { mapping: &mapping, now: jiff::Timestamp::UNIX_EPOCH, base_url: "/scim/v2" };
//! let mut data = MemoryData::new();
//!
//! let joiner = ScimRequest::from_json(r#"{
//!     "method": "POST", "path": "/scim/v2/Users",
//!     "body": {"userName": "ada@example.com", "title": "Engineer", "active": true}
//! }"#)?;
//! let outcome = handle(&joiner, &mut data, &ctx)?;
//! assert_eq!(outcome.status, 201);
//! data.apply(&outcome.writes);
//!
//! let update = &outcome.updates[0];
//! assert!(update.before.is_none()); // a joiner
//! let ada = update.after.as_ref().ok_or("no identity")?;
//! assert_eq!(ada.get("title"), Some(&tenure::Value::from("Engineer")));
//! assert_eq!(ada.get("status"), Some(&tenure::Value::from("active")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Endpoints
//!
//! `GET`/`POST /Users`, `GET`/`PUT`/`PATCH`/`DELETE /Users/{id}`, `POST /Users/.search`,
//! and the same for `/Groups`. Everything up to and including the SCIM base is stripped
//! from the path (`/scim/v2`, `/v2`, `/scim`, a full URL, `~`). Other paths answer 404,
//! other methods 405.
//!
//! # What is stored
//!
//! Every attribute received — core, enterprise, custom extensions, unknown ones — in a
//! canonical form (see the `normalize` notes below): attribute names in RFC 7643's
//! spelling (names are case-insensitive), explicit `null`s dropped, `active` as a boolean,
//! a User's stray top-level enterprise attributes moved into the enterprise extension.
//! Read-only attributes a client sends are ignored: `id`, `meta`, and a User's `groups`
//! (Okta's full PUT carries `"groups": []`, which does not touch memberships).
//! `password` is never stored nor returned. A User's `groups` is computed from the
//! groups' `members`; a member must be a known user (else 400 `invalidValue`, nothing
//! applied).
//!
//! # Semantics worth knowing
//!
//! * POST with a `userName` another user has (case-insensitively) is 409 `uniqueness`;
//!   so is a PUT or PATCH that renames a user to one.
//! * A write that changes nothing (Okta's unchanged-name re-send before every membership
//!   PATCH, an unchanged PUT) writes nothing, bumps no version and updates no identity.
//! * Each write bumps `version`; `meta.version` and the ETag are `W/"{version}"`.
//!   `If-Match` (`*`, or a list of tags, weak or strong) that does not name the current
//!   version is 412 `preconditionFailed`.
//! * DELETE of a user removes her from every group (group writes) and purges her
//!   identity; DELETE of a group updates every member.
//! * PATCH answers 200 with the resource.
//!
//! # Filters
//!
//! RFC 7644 §3.4.2.2 (`eq ne co sw ew pr gt ge lt le`, `and or not`, parentheses, value
//! paths, sub-attributes, URN-prefixed paths), attribute names and operators in any
//! case; strings compare case-insensitively except `id`, `externalId` and ids held in
//! `members`/`groups`/`manager` `value`s. An unquoted comparison value (Entra's
//! `externalId eq jyoung`) is read leniently as a string; a bare word with no operator
//! is 400 `invalidFilter`. `ne` is "not `eq`" (an absent attribute is `ne` anything).
//! Limits: filters of at most 4096 bytes and 16 levels of nesting; bodies of at most 32
//! levels of JSON nesting; 1000 PATCH operations; pages of at most 1000 resources.

mod attrs;
mod data;
mod error;
mod filter;
mod handlers;
mod normalize;
mod patch;
mod query;
mod record;
mod render;
mod route;

use serde_json::Value;

use crate::mapping::Mapping;

pub use attrs::{CORE_GROUP, CORE_USER, ENTERPRISE_USER, LIST_RESPONSE};
pub(crate) use data::{user_name_of, user_named_by_scan};
pub use data::{MemoryData, ScimData};
pub use error::{ScimError, ERROR_SCHEMA};
pub use filter::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
pub use normalize::MAX_BODY_DEPTH;
pub use patch::MAX_OPERATIONS;
pub use query::MAX_PAGE;
pub use record::{ScimKind, ScimRecord};
pub use route::MAX_PATH_LEN;

pub(crate) use filter::{lookup as lookup_path, parse_path, Path};

/// The largest request file [`ScimRequest::from_json`] reads, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// One SCIM request: method, path (with its query string), body and `If-Match`.
///
/// ```
/// use tenure_directory::scim::ScimRequest;
///
/// let request = ScimRequest::new("GET", "/scim/v2/Users?filter=userName%20eq%20%22ada%22");
/// assert_eq!(request.method, "GET");
/// let patch = ScimRequest::new("PATCH", "/Users/42")
///     .with_body(serde_json::json!({"Operations": [{"op": "replace", "value": {"active": false}}]}))
///     .with_if_match("W/\"3\"");
/// assert!(patch.body.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (any case).
    pub method: String,
    /// The request path, possibly a full URL, with an optional query string.
    pub path: String,
    /// The JSON body, read with [`tenure::json::parse`] by whoever built the request.
    pub body: Option<Value>,
    /// The `If-Match` header.
    pub if_match: Option<String>,
}

impl ScimRequest {
    /// A request without body or `If-Match`.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        ScimRequest {
            method: method.into(),
            path: path.into(),
            body: None,
            if_match: None,
        }
    }

    /// With `body`.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// With an `If-Match` header.
    pub fn with_if_match(mut self, tag: impl Into<String>) -> Self {
        self.if_match = Some(tag.into());
        self
    }

    /// The request file form [`Self::from_json`] reads back:
    /// `{"method", "path", "body", "if_match"}` (`if_match` only when set).
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::json!({
            "method": self.method,
            "path": self.path,
            "body": self.body.clone().unwrap_or(Value::Null),
        });
        if let (Some(tag), Some(map)) = (&self.if_match, out.as_object_mut()) {
            map.insert("if_match".into(), Value::String(tag.clone()));
        }
        out
    }

    /// Reads a request file: `{"method", "path", "body"?}`, optionally with `if_match`,
    /// and `headers` (whose `If-Match`, in any case, is used when `if_match` is absent),
    /// `source` and `note`, which are ignored. A `null` or absent body is no body.
    ///
    /// ```
    /// use tenure_directory::scim::ScimRequest;
    ///
    /// let request = ScimRequest::from_json(r#"{"method": "DELETE", "path": "/Users/42", "body": null}"#)?;
    /// assert!(request.body.is_none());
    ///
    /// let duplicate = ScimRequest::from_json(
    ///     r#"{"method": "POST", "path": "/Users", "body": {"emails": [{"type": "a", "type": "b"}]}}"#,
    /// ).unwrap_err();
    /// assert_eq!(duplicate.status, 400);
    /// assert!(duplicate.detail.contains("body.emails[0].type"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// 400 `invalidSyntax` for malformed JSON, a duplicate key (named by its path), a
    /// missing or mistyped field or an unknown one; 413 for text over
    /// [`MAX_REQUEST_BYTES`].
    pub fn from_json(text: &str) -> Result<ScimRequest, ScimError> {
        if text.len() > MAX_REQUEST_BYTES {
            return Err(ScimError::new(
                413,
                None,
                format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
            ));
        }
        let value = tenure::json::parse(text)
            .map_err(|e| ScimError::invalid_syntax(format!("{} at `{}`", e.message(), e.path())))?;
        let Value::Object(mut fields) = value else {
            return Err(ScimError::invalid_syntax("a request must be a JSON object"));
        };
        for key in fields.keys() {
            if !matches!(
                key.as_str(),
                "method" | "path" | "body" | "if_match" | "headers" | "source" | "note"
            ) {
                return Err(ScimError::invalid_syntax(format!(
                    "unknown request field `{key}`; expected `method`, `path`, `body`, `if_match` or `headers`"
                )));
            }
        }
        let string = |fields: &serde_json::Map<String, Value>, key: &str| match fields.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(ScimError::invalid_syntax(format!(
                "`{key}` must be a string"
            ))),
        };
        let method = string(&fields, "method")?
            .ok_or_else(|| ScimError::invalid_syntax("a request needs a `method`"))?;
        let path = string(&fields, "path")?
            .ok_or_else(|| ScimError::invalid_syntax("a request needs a `path`"))?;
        let mut if_match = string(&fields, "if_match")?;
        match fields.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(headers)) => {
                if if_match.is_none() {
                    if let Some(v) = attrs::get_ci(headers, "If-Match") {
                        if_match = match v {
                            Value::String(s) => Some(s.clone()),
                            Value::Array(items) => {
                                items.first().and_then(Value::as_str).map(str::to_string)
                            }
                            _ => None,
                        };
                    }
                }
            }
            Some(_) => return Err(ScimError::invalid_syntax("`headers` must be an object")),
        }
        let body = match fields.remove("body") {
            None | Some(Value::Null) => None,
            Some(body) => Some(body),
        };
        Ok(ScimRequest {
            method,
            path,
            body,
            if_match,
        })
    }
}

/// What [`handle`] needs besides the request and the data.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// How SCIM attributes become identity attributes.
    pub mapping: &'a Mapping,
    /// The time of this request (`meta.created`, `meta.lastModified`).
    pub now: jiff::Timestamp,
    /// The SCIM base as clients see it, such as `/scim/v2`, for `meta.location` and
    /// `Location`.
    pub base_url: &'a str,
}

/// What a handled request amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimOutcome {
    /// 200, 201 or 204.
    pub status: u16,
    /// The resource or `ListResponse`; `None` for 204.
    pub response: Option<Value>,
    /// The `Location` header (201, and the resource's own for 200 on one resource).
    pub location: Option<String>,
    /// The `ETag` header, for one resource.
    pub etag: Option<String>,
    /// What to persist, in order, all or nothing.
    pub writes: Vec<ScimWrite>,
    /// The identity of each affected user before and after, ordered by user id; only
    /// users whose identity changed (or appeared, or went).
    pub updates: Vec<IdentityUpdate>,
}

/// One record to store or remove.
#[derive(Debug, Clone, PartialEq)]
pub enum ScimWrite {
    /// Insert or replace the record.
    Put(ScimRecord),
    /// Remove the record of this kind and id.
    Delete(ScimKind, String),
}

/// A user's identity before and after a request.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityUpdate {
    /// The SCIM id of the user (her identity's `id`).
    pub id: String,
    /// `None` for a joiner.
    pub before: Option<tenure::Identity>,
    /// `None` when the user was deleted (a purge).
    pub after: Option<tenure::Identity>,
}

/// Handles one SCIM request.
///
/// Reads through `data` only; the returned writes are for the caller to commit, in order
/// and in one transaction.
///
/// # Errors
/// A [`ScimError`] with the status to answer (400, 404, 405, 409, 412, 413, 414, 500);
/// a failed request has no writes and no updates.
pub fn handle(
    request: &ScimRequest,
    data: &mut dyn ScimData,
    ctx: &Context<'_>,
) -> Result<ScimOutcome, ScimError> {
    handlers::handle(request, data, ctx)
}
