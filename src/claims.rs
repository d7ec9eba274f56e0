//! Identities from a verified token's claims: [`Identity::from_claims`] and the
//! [`ClaimsMapping`] that says which claim becomes which attribute.
//!
//! **Verifying the token is the host's job**: its signature, issuer, audience and
//! expiry. Tenure reads the claims of a token the host has already verified; it never sees
//! the token itself.
//!
//! # The default mapping
//!
//! | identity attribute | claim |
//! |---|---|
//! | `external_id` | `sub` (an IdP's user id: what SCIM sends as `externalId`) |
//! | `email` | `email` |
//! | `username` | `preferred_username` |
//! | `display_name` | `name` |
//! | `groups` | `groups` (an array of strings: a set) |
//! | `roles` | `roles` (an array of strings: a set) |
//! | `department` | `department` |
//! | `title` | `title` |
//!
//! # The TOML form
//!
//! The lifecycle's mapping format, with claim paths instead of SCIM paths:
//!
//! ```toml
//! [attributes]          # identity attribute = claim path; "" removes a default
//! role = "app_metadata.role"              # dotted for nested claims
//! tenant = "https://example.com/tenant"   # a claim name with dots is found as written
//! department = ""
//!
//! [values.role]         # translate values; a value not listed leaves the attribute absent
//! "Cloud Engineer" = "CloudEngineer"
//! ```
//!
//! Values are typed as in the core JSON shapes: a string (a blank one is absent), a
//! 64-bit integer, a boolean, an array of strings (a set); `null` or a missing claim is
//! absent. A mapped claim holding a float, an object or an array of non-strings is an
//! error naming the claim. Claims the mapping does not name (`iat`, `exp`, `aud`, …) are
//! ignored. `[values.NAME]` keys are strings: `"true"`/`"false"` for booleans, digits for
//! integers; for a set, each element is translated and unlisted ones dropped. Unlike the
//! SCIM mapping there is no `[groups]` table: groups are an array claim like any other.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diagnostics::Code;
use crate::entity::Identity;
use crate::error::InputError;
use crate::value::Value;

const DEFAULTS: &[(&str, &str)] = &[
    ("external_id", "sub"),
    ("email", "email"),
    ("username", "preferred_username"),
    ("display_name", "name"),
    ("groups", "groups"),
    ("roles", "roles"),
    ("department", "department"),
    ("title", "title"),
];

/// Which claim becomes which identity attribute; see the [module docs](self).
///
/// ```
/// use tenure::claims::ClaimsMapping;
/// use tenure::{Identity, Value};
///
/// let mapping = ClaimsMapping::from_toml(r#"
///     [attributes]
///     role = "app_metadata.role"
///     [values.role]
///     "Cloud Engineer" = "CloudEngineer"
/// "#)?;
/// let claims = r#"{"sub": "00u1", "email": "pam@example.com", "groups": ["okta-cloud"],
///                  "app_metadata": {"role": "Cloud Engineer"}, "exp": 1767225600}"#;
/// let pam = Identity::from_claims(claims, &mapping)?;
/// assert_eq!(pam.get("external_id"), Some(&Value::from("00u1")));
/// assert_eq!(pam.get("role"), Some(&Value::from("CloudEngineer")));
/// assert_eq!(pam.get("groups"), Some(&Value::set(["okta-cloud"])));
/// assert_eq!(pam.get("exp"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsMapping {
    /// Identity attribute → claim path (its text).
    attributes: BTreeMap<String, String>,
    values: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for ClaimsMapping {
    fn default() -> Self {
        ClaimsMapping {
            attributes: DEFAULTS
                .iter()
                .map(|(a, c)| ((*a).to_string(), (*c).to_string()))
                .collect(),
            values: BTreeMap::new(),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    attributes: BTreeMap<String, toml::Spanned<String>>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
}

impl ClaimsMapping {
    /// Reads a mapping from TOML; what the text does not say keeps its default.
    ///
    /// # Errors
    /// `tenure::claims::mapping`, located as `line L, column C`: malformed TOML, an
    /// unknown table or key (`[groups]` included), the attribute name `tags` (reserved),
    /// an empty claim path segment, a `[values.NAME]` for an attribute nothing maps.
    pub fn from_toml(text: &str) -> Result<ClaimsMapping, InputError> {
        let file: File = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or_else(String::new, |s| line_column(text, s.start));
            let mut message = e.message().to_string();
            if text.contains("[groups]") && message.contains("groups") {
                message.push_str(
                    "; a claims mapping has no `[groups]` table: map the groups claim in `[attributes]`",
                );
            }
            InputError::new(Code::ClaimsMapping, at, message)
        })?;
        let mut mapping = ClaimsMapping::default();
        for (name, path) in file.attributes {
            let at = line_column(text, path.span().start);
            let path = path.into_inner();
            let path = path.trim();
            if name == crate::entity::TAGS_KEY || name.is_empty() {
                return Err(InputError::new(
                    Code::ClaimsMapping,
                    at,
                    format!("`{name}` cannot be an identity attribute (`tags` is reserved)"),
                ));
            }
            if path.is_empty() {
                mapping.attributes.remove(&name);
                continue;
            }
            if path.split('.').any(str::is_empty) {
                return Err(InputError::new(
                    Code::ClaimsMapping,
                    at,
                    format!("`{name}`: the claim path `{path}` has an empty segment"),
                ));
            }
            mapping.attributes.insert(name, path.to_string());
        }
        for (name, table) in file.values {
            if !mapping.attributes.contains_key(&name) {
                return Err(InputError::new(
                    Code::ClaimsMapping,
                    String::new(),
                    format!("`[values.{name}]` translates an attribute that nothing maps"),
                ));
            }
            mapping.values.insert(name, table);
        }
        Ok(mapping)
    }

    /// The identity attributes this mapping writes, with their claim paths.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes
            .iter()
            .map(|(a, c)| (a.as_str(), c.as_str()))
    }

    /// The identity `claims` describe, under this mapping.
    ///
    /// # Errors
    /// As [`Identity::from_claims`].
    pub fn identity(&self, claims: &Json) -> Result<Identity, InputError> {
        let object = claims
            .as_object()
            .ok_or_else(|| InputError::new(Code::JsonType, "claims", "claims are a JSON object"))?;
        let mut identity = Identity::new();
        for (name, path) in &self.attributes {
            let segments: Vec<&str> = path.split('.').collect();
            let Some(found) = lookup(object, &segments) else {
                continue;
            };
            let at = format!("claims.{path}");
            let Some(value) = convert(found, &at)? else {
                continue;
            };
            let value = match self.values.get(name) {
                Some(table) => match translate(value, table) {
                    Some(v) => v,
                    None => continue,
                },
                None => value,
            };
            identity.set(name.as_str(), value)?;
        }
        Ok(identity)
    }
}

fn line_column(text: &str, offset: usize) -> String {
    crate::source::Location::of_offset(text, offset).to_string()
}

/// The claim at `segments`: at each level the longest run of segments that, joined by
/// dots, is a key (so `https://example.com/roles` is found as written).
fn lookup<'j>(object: &'j serde_json::Map<String, Json>, segments: &[&str]) -> Option<&'j Json> {
    for take in (1..=segments.len()).rev() {
        let key = segments[..take].join(".");
        if let Some(value) = object.get(&key) {
            if take == segments.len() {
                return Some(value);
            }
            if let Some(inner) = value.as_object() {
                if let Some(found) = lookup(inner, &segments[take..]) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// A claim as an attribute value; `None` for absent (`null`, a blank string).
fn convert(json: &Json, at: &str) -> Result<Option<Value>, InputError> {
    Ok(match json {
        Json::Null => None,
        Json::String(s) if s.trim().is_empty() => None,
        Json::String(s) => Some(Value::Str(s.clone())),
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Some(Value::Int(i)),
            None if n.is_u64() => {
                return Err(InputError::new(
                    Code::NumberRange,
                    at,
                    "an integer claim outside the 64-bit range",
                ))
            }
            None => {
                return Err(InputError::new(
                    Code::FloatNumber,
                    at,
                    "a floating-point claim cannot be an attribute",
                ))
            }
        },
        Json::Array(items) => {
            let mut set = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::String(s) => set.push(s.clone()),
                    _ => {
                        return Err(InputError::new(
                            Code::JsonType,
                            format!("{at}[{i}]"),
                            "a set claim holds strings",
                        ))
                    }
                }
            }
            Some(Value::set(set))
        }
        Json::Object(_) => {
            return Err(InputError::new(
                Code::JsonType,
                at,
                "an object claim cannot be an attribute; map one of its members with a dotted path",
            ))
        }
    })
}

fn translate(value: Value, table: &BTreeMap<String, String>) -> Option<Value> {
    let key = match &value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Set(set) => {
            let translated: Vec<String> = set
                .iter()
                .filter_map(|item| table.get(item).cloned())
                .collect();
            return Some(Value::set(translated));
        }
    };
    table.get(&key).map(|v| Value::Str(v.clone()))
}

impl Identity {
    /// The identity a verified token's claims (JSON text) describe, under `mapping`
    /// (see [`crate::claims`]). Verifying the token — signature, issuer, audience,
    /// expiry — is the host's job.
    ///
    /// ```
    /// use tenure::claims::ClaimsMapping;
    /// use tenure::Identity;
    ///
    /// let claims = r#"{"sub": "00u1", "email": "pam@example.com", "groups": ["dba"]}"#;
    /// let pam = Identity::from_claims(claims, &ClaimsMapping::default())?;
    /// assert_eq!(pam.get("external_id"), Some(&"00u1".into()));
    /// assert_eq!(pam.get("groups"), Some(&tenure::Value::set(["dba"])));
    /// # Ok::<(), tenure::InputError>(())
    /// ```
    ///
    /// # Errors
    /// Malformed JSON or a duplicate key; claims that are not an object; a mapped claim
    /// holding a float, an object, an integer outside 64 bits or an array of
    /// non-strings — each with the claim's path (`claims.groups[2]`).
    pub fn from_claims(claims: &str, mapping: &ClaimsMapping) -> Result<Identity, InputError> {
        let json = crate::json::parse(claims).map_err(|e| e.located("claims"))?;
        mapping.identity(&json)
    }
}
