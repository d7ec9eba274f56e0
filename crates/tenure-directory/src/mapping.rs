//! Which SCIM attributes become which identity attributes.
//!
//! A [`Mapping`] turns a SCIM User (and the groups she is a member of) into a
//! [`tenure::Identity`]. The identity's `id` is always the SCIM `id`.
//!
//! # The default mapping
//!
//! | identity attribute | SCIM attribute path |
//! |---|---|
//! | `id` | `id` (always) |
//! | `username` | `userName` |
//! | `external_id` | `externalId` |
//! | `display_name` | `displayName` |
//! | `title` | `title` |
//! | `user_type` | `userType` |
//! | `email` | `emails`: the `work` email (the primary one among several), else the primary, else the first |
//! | `status` | `active`, translated `true` → `active`, `false` → `inactive`; an absent `active` reads as `true` (RFC 7643 leaves it to the server) |
//! | `department`, `division`, `organization`, `cost_center`, `employee_number` | the enterprise extension's `department`, `division`, `organization`, `costCenter`, `employeeNumber` |
//! | `manager` | the enterprise `manager.value` (or a bare-string `manager`) |
//! | `groups` | the set of the `displayName`s of her groups — the empty set when she is in none |
//!
//! # The TOML form
//!
//! ```toml
//! [attributes]          # identity attribute = SCIM path; "" removes a default
//! role = "title"
//! cost_center = ""
//! badge = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'
//! phone = 'phoneNumbers[type eq "work"].value'
//!
//! [values.role]         # translate values; a value not listed leaves the attribute absent
//! "Cloud Engineer" = "CloudEngineer"
//!
//! [groups]
//! attribute = "groups"  # the identity attribute holding memberships ("" for none)
//! from = "displayName"  # or "externalId" or "id"
//! ```
//!
//! Paths use RFC 7644 syntax: sub-attributes (`name.givenName`), URN-prefixed extension
//! attributes, value filters. A path that reaches a multi-valued attribute without a
//! filter picks its preferred element (type `work`, else primary, else first); a filtered
//! path picks the first primary match, else the first match. Values: strings (blank ones
//! are absent — template-driven IdPs send `""` for unset fields), booleans, integers, and
//! arrays of strings (or of `{value}` objects) as sets; a complex value stands for its
//! `value`; anything else leaves the attribute absent. `[values.NAME]` keys are strings:
//! `"true"`/`"false"` for booleans, digits for integers; for a set, each element is
//! translated and unlisted ones dropped. A `[values.NAME]` table replaces the default one
//! (`status` has one), and the translation of `status` stays in force when its path is
//! overridden.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::scim::{lookup_path, parse_path, Path, ENTERPRISE_USER};

/// A malformed mapping file: what is wrong, where (line and column) when known, and a
/// stable code.
///
/// ```
/// use tenure_directory::mapping::Mapping;
///
/// let error = Mapping::from_toml("[atributes]\nrole = \"title\"\n").unwrap_err();
/// assert_eq!(error.code(), "tenure::mapping::invalid_toml");
/// assert_eq!(error.line(), Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", match .line { Some(l) => format!(" at line {l}, column {}", .column.unwrap_or(1)), None => String::new() })]
pub struct MappingError {
    code: &'static str,
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl MappingError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        MappingError {
            code,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// The stable code: `tenure::mapping::invalid_toml`, `…::invalid_path`,
    /// `…::reserved_name`, `…::unmapped_values` or `…::invalid_groups`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the problem in the TOML text, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

impl miette::Diagnostic for MappingError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
}

/// Which group attribute fills the memberships attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupFrom {
    DisplayName,
    ExternalId,
    Id,
}

impl GroupFrom {
    fn name(self) -> &'static str {
        match self {
            GroupFrom::DisplayName => "displayName",
            GroupFrom::ExternalId => "externalId",
            GroupFrom::Id => "id",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Mapped {
    text: String,
    path: Path,
}

/// How SCIM attributes become identity attributes; see the module docs for the default
/// and the TOML form.
///
/// ```
/// use serde_json::json;
/// use tenure::Value;
/// use tenure_directory::mapping::Mapping;
///
/// let mapping = Mapping::from_toml(r#"
///     [attributes]
///     role = "title"
///     [values.role]
///     "Cloud Engineer" = "CloudEngineer"
/// "#)?;
/// let user = json!({"userName": "pam", "title": "Cloud Engineer", "active": false});
/// let group = json!({"id": "g1", "displayName": "okta-cloud"});
/// let pam = mapping.identity("u1", &user, &[&group]);
/// assert_eq!(pam.get("id"), Some(&Value::from("u1")));
/// assert_eq!(pam.get("role"), Some(&Value::from("CloudEngineer")));
/// assert_eq!(pam.get("status"), Some(&Value::from("inactive")));
/// assert_eq!(pam.get("groups"), Some(&Value::set(["okta-cloud"])));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    attributes: BTreeMap<String, Mapped>,
    values: BTreeMap<String, BTreeMap<String, String>>,
    /// The memberships attribute and its source; `None` maps no memberships.
    groups: Option<(String, GroupFrom)>,
}

const DEFAULTS: &[(&str, &str)] = &[
    ("username", "userName"),
    ("external_id", "externalId"),
    ("display_name", "displayName"),
    ("title", "title"),
    ("user_type", "userType"),
    ("email", "emails"),
    ("status", "active"),
    ("department", "department"),
    ("division", "division"),
    ("organization", "organization"),
    ("cost_center", "costCenter"),
    ("employee_number", "employeeNumber"),
    ("manager", "manager.value"),
];

fn enterprise(name: &str) -> bool {
    matches!(
        name,
        "department"
            | "division"
            | "organization"
            | "costCenter"
            | "employeeNumber"
            | "manager.value"
    )
}

impl Default for Mapping {
    fn default() -> Self {
        let mut attributes = BTreeMap::new();
        for (identity, scim) in DEFAULTS {
            let text = if enterprise(scim) {
                format!("{ENTERPRISE_USER}:{scim}")
            } else {
                (*scim).to_string()
            };
            if let Ok(path) = parse_path(&text) {
                attributes.insert((*identity).to_string(), Mapped { text, path });
            }
        }
        let mut values = BTreeMap::new();
        values.insert(
            "status".to_string(),
            BTreeMap::from([
                ("true".to_string(), "active".to_string()),
                ("false".to_string(), "inactive".to_string()),
            ]),
        );
        Mapping {
            attributes,
            values,
            groups: Some(("groups".to_string(), GroupFrom::DisplayName)),
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
    groups: Option<GroupsFile>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupsFile {
    attribute: Option<String>,
    from: Option<toml::Spanned<String>>,
}

#[derive(serde::Serialize)]
struct Canonical<'a> {
    attributes: BTreeMap<&'a str, &'a str>,
    values: &'a BTreeMap<String, BTreeMap<String, String>>,
    groups: Option<(&'a str, &'static str)>,
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn located(mut error: MappingError, text: &str, span: std::ops::Range<usize>) -> MappingError {
    let (line, column) = line_column(text, span.start);
    error.line = Some(line);
    error.column = Some(column);
    error
}

/// Reads a JSON value as an identity value: see the module docs.
fn convert(value: &Value) -> Option<tenure::Value> {
    match value {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(tenure::Value::Str(s.clone())),
        Value::Bool(b) => Some(tenure::Value::Bool(*b)),
        Value::Number(n) => n.as_i64().map(tenure::Value::Int),
        Value::Array(items) => {
            let mut set = Vec::with_capacity(items.len());
            for item in items {
                let text = match item {
                    Value::String(s) => s.as_str(),
                    Value::Object(o) => o.get("value").and_then(Value::as_str)?,
                    _ => return None,
                };
                if !text.trim().is_empty() {
                    set.push(text.to_string());
                }
            }
            Some(tenure::Value::set(set))
        }
        Value::Object(o) => match o.get("value") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(tenure::Value::Str(s.clone())),
            _ => None,
        },
        Value::Null => None,
    }
}

impl Mapping {
    /// Reads a mapping from TOML; what the file does not say keeps its default.
    ///
    /// ```
    /// use tenure_directory::mapping::Mapping;
    ///
    /// let mapping = Mapping::from_toml("[attributes]\ncost_center = \"\"\n")?;
    /// assert!(!mapping.scim_attributes_written().any(|a| a == "cost_center"));
    ///
    /// let error = Mapping::from_toml("[attributes]\nrole = \"title[\"\n").unwrap_err();
    /// assert_eq!(error.code(), "tenure::mapping::invalid_path");
    /// assert_eq!(error.line(), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Malformed TOML, unknown keys or tables, a path that does not parse, an attribute
    /// named `id` (always the SCIM id) or `tags`, a `[values.NAME]` for an attribute
    /// nothing maps, a `[groups] from` other than `displayName`, `externalId` or `id`;
    /// each with its line and column.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let file: File = toml::from_str(text).map_err(|e| {
            let error = MappingError::new("tenure::mapping::invalid_toml", e.message().to_string());
            match e.span() {
                Some(span) => located(error, text, span),
                None => error,
            }
        })?;
        let mut mapping = Mapping::default();
        for (name, spanned) in file.attributes {
            let span = spanned.span();
            let path_text = spanned.into_inner();
            if name == "id" || name == "tags" || name.is_empty() {
                return Err(located(
                    MappingError::new(
                        "tenure::mapping::reserved_name",
                        format!("the identity attribute `{name}` cannot be mapped: `id` is always the SCIM id and `tags` is reserved"),
                    ),
                    text,
                    span,
                ));
            }
            if path_text.trim().is_empty() {
                mapping.attributes.remove(&name);
                continue;
            }
            let path = parse_path(path_text.trim()).map_err(|e| {
                located(
                    MappingError::new("tenure::mapping::invalid_path", format!("`{name}`: {e}")),
                    text,
                    span.clone(),
                )
            })?;
            mapping.attributes.insert(
                name,
                Mapped {
                    text: path_text.trim().to_string(),
                    path,
                },
            );
        }
        if let Some(groups) = file.groups {
            let attribute = groups
                .attribute
                .or_else(|| mapping.groups.as_ref().map(|(a, _)| a.clone()))
                .unwrap_or_else(|| "groups".to_string());
            let from = match groups.from {
                None => GroupFrom::DisplayName,
                Some(spanned) => {
                    let span = spanned.span();
                    match spanned.into_inner().to_ascii_lowercase().as_str() {
                        "displayname" => GroupFrom::DisplayName,
                        "externalid" => GroupFrom::ExternalId,
                        "id" => GroupFrom::Id,
                        other => {
                            return Err(located(
                                MappingError::new(
                                    "tenure::mapping::invalid_groups",
                                    format!("`[groups] from` must be `displayName`, `externalId` or `id`, not `{other}`"),
                                ),
                                text,
                                span,
                            ))
                        }
                    }
                }
            };
            if attribute == "id" || attribute == "tags" {
                return Err(MappingError::new(
                    "tenure::mapping::reserved_name",
                    format!("`[groups] attribute` cannot be `{attribute}`"),
                ));
            }
            if mapping.attributes.contains_key(&attribute) {
                return Err(MappingError::new(
                    "tenure::mapping::invalid_groups",
                    format!(
                        "`{attribute}` is both `[groups] attribute` and mapped in `[attributes]`"
                    ),
                ));
            }
            mapping.groups = (!attribute.is_empty()).then_some((attribute, from));
        }
        if let Some((groups, _)) = &mapping.groups {
            if mapping.attributes.contains_key(groups) {
                return Err(MappingError::new(
                    "tenure::mapping::invalid_groups",
                    format!("`{groups}` is both the memberships attribute and mapped in `[attributes]`; set `[groups] attribute`"),
                ));
            }
        }
        for (name, table) in file.values {
            let known = mapping.attributes.contains_key(&name)
                || mapping.groups.as_ref().is_some_and(|(g, _)| *g == name);
            if !known {
                return Err(MappingError::new(
                    "tenure::mapping::unmapped_values",
                    format!("`[values.{name}]` translates an attribute that nothing maps"),
                ));
            }
            mapping.values.insert(name, table);
        }
        Ok(mapping)
    }

    /// The identity of the user with SCIM id `scim_id`, stored body `user_body`, who is a
    /// member of the groups `groups` (their bodies, with their `id`).
    pub fn identity(
        &self,
        scim_id: &str,
        user_body: &Value,
        groups: &[&Value],
    ) -> tenure::Identity {
        let mut identity = tenure::Identity::new();
        let _ = identity.set("id", scim_id);
        let empty = serde_json::Map::new();
        let body = user_body.as_object().unwrap_or(&empty);
        for (name, mapped) in &self.attributes {
            let path = &mapped.path;
            let found = lookup_path(body, path, true);
            let is_active = path.urn.is_none()
                && path.filter.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("active");
            let value = match (found, is_active) {
                (None, true) => Some(tenure::Value::Bool(true)),
                (Some(Value::String(s)), true) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" => Some(tenure::Value::Bool(true)),
                    "false" => Some(tenure::Value::Bool(false)),
                    _ => None,
                },
                (found, _) => found.and_then(convert),
            };
            if let Some(value) = value.and_then(|v| self.translate(name, v)) {
                let _ = identity.set(name.clone(), value);
            }
        }
        if let Some((attribute, from)) = &self.groups {
            let names: Vec<String> = groups
                .iter()
                .filter_map(|g| g.as_object())
                .filter_map(|g| {
                    g.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(from.name()))
                        .and_then(|(_, v)| v.as_str())
                })
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .collect();
            if let Some(value) = self.translate(attribute, tenure::Value::set(names)) {
                let _ = identity.set(attribute.clone(), value);
            }
        }
        identity
    }

    fn translate(&self, name: &str, value: tenure::Value) -> Option<tenure::Value> {
        let Some(table) = self.values.get(name) else {
            return Some(value);
        };
        let one = |key: &str| table.get(key).cloned();
        match value {
            tenure::Value::Str(s) => one(&s).map(tenure::Value::Str),
            tenure::Value::Bool(b) => one(if b { "true" } else { "false" }).map(tenure::Value::Str),
            tenure::Value::Int(i) => one(&i.to_string()).map(tenure::Value::Str),
            tenure::Value::Set(set) => Some(tenure::Value::set(set.iter().filter_map(one))),
            _ => None,
        }
    }

    /// A hex SHA-256 of this mapping's canonical form: equal mappings hash equally,
    /// however their TOML was written.
    ///
    /// ```
    /// use tenure_directory::mapping::Mapping;
    ///
    /// let a = Mapping::from_toml("[attributes]\nrole = \"title\"\nx = \"nickName\"\n")?;
    /// let b = Mapping::from_toml("[attributes]\nx = 'nickName'\nrole = 'title'\n")?;
    /// assert_eq!(a.content_hash(), b.content_hash());
    /// assert_ne!(a.content_hash(), Mapping::default().content_hash());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn content_hash(&self) -> String {
        let canonical = Canonical {
            attributes: self
                .attributes
                .iter()
                .map(|(k, m)| (k.as_str(), m.text.as_str()))
                .collect(),
            values: &self.values,
            groups: self.groups.as_ref().map(|(a, f)| (a.as_str(), f.name())),
        };
        let text = serde_json::to_string(&canonical).unwrap_or_default();
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The identity attribute names this mapping can write: `id`, every mapped
    /// attribute, and the memberships attribute.
    pub fn scim_attributes_written(&self) -> impl Iterator<Item = &str> + '_ {
        std::iter::once("id")
            .chain(self.attributes.keys().map(String::as_str))
            .chain(self.groups.iter().map(|(a, _)| a.as_str()))
    }

    /// The value a SCIM attribute path selects in a User body, as the mapping reads it
    /// (case-insensitive names; bare enterprise names reach into the extension; a
    /// multi-valued attribute gives its preferred element). `None` for an invalid path.
    ///
    /// ```
    /// use serde_json::json;
    /// use tenure_directory::mapping::Mapping;
    ///
    /// let user = json!({"emails": [{"type": "home", "value": "a@home"}, {"type": "work", "value": "a@work"}]});
    /// assert_eq!(Mapping::lookup("emails.value", &user), Some(&json!("a@work")));
    /// assert_eq!(Mapping::lookup(r#"Emails[type eq "home"].Value"#, &user), Some(&json!("a@home")));
    /// ```
    pub fn lookup<'a>(path: &str, value: &'a Value) -> Option<&'a Value> {
        let path = parse_path(path).ok()?;
        lookup_path(value.as_object()?, &path, true)
    }
}
