//! Attribute names: the schema URNs, RFC 7643's spelling of every standard attribute, and
//! case-insensitive lookup (RFC 7643 §2.1: attribute names are case-insensitive).
//!
//! One home for "which stored key does this name mean": the normaliser, the PATCH engine,
//! the filter evaluator, projections and the mapping all call [`get_ci`] and [`canonical`].

use serde_json::{Map, Value};

/// The core User schema.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// A ListResponse envelope.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The enterprise extension's attributes; on a User, these names at the top level (an
/// Entra legacy shape) and as bare PATCH or filter paths mean the extension's attribute.
pub(crate) const ENTERPRISE_ATTRIBUTES: &[&str] = &[
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

/// Multi-valued attributes of the core schemas.
pub(crate) const MULTI_VALUED: &[&str] = &[
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
    "schemas",
];

/// Every attribute and sub-attribute name RFC 7643 defines, in its spelling.
const KNOWN: &[&str] = &[
    "id",
    "externalId",
    "meta",
    "resourceType",
    "created",
    "lastModified",
    "location",
    "version",
    "schemas",
    "userName",
    "name",
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
    "value",
    "display",
    "type",
    "primary",
    "$ref",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

/// The stored spelling of attribute `name`: RFC 7643's for a standard name or a known
/// schema URN, else `name` as given.
pub(crate) fn canonical(name: &str) -> String {
    for known in KNOWN
        .iter()
        .chain([ENTERPRISE_USER, CORE_USER, CORE_GROUP].iter())
    {
        if known.eq_ignore_ascii_case(name) {
            return (*known).to_string();
        }
    }
    name.to_string()
}

/// The key of `map` that names `name`, ignoring ASCII case.
pub(crate) fn key_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    if map.contains_key(name) {
        return map.get_key_value(name).map(|(k, _)| k);
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

/// The value of attribute `name` in `map`, ignoring ASCII case.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    key_ci(map, name).and_then(|k| map.get(k))
}

/// Whether `name` is one of [`ENTERPRISE_ATTRIBUTES`], ignoring case.
pub(crate) fn is_enterprise_attribute(name: &str) -> bool {
    ENTERPRISE_ATTRIBUTES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether `name` is a multi-valued core attribute, ignoring case.
pub(crate) fn is_multi_valued(name: &str) -> bool {
    MULTI_VALUED.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether a string attribute compares case-exactly in filters (RFC 7643: `id` and
/// `externalId`; and `value` where it holds a resource id: `members`, `groups`, `manager`).
pub(crate) fn is_case_exact(parent: Option<&str>, name: &str, sub: Option<&str>) -> bool {
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let id_holder = |n: &str| is(n, "members") || is(n, "groups") || is(n, "manager");
    match sub {
        None => {
            is(name, "id")
                || is(name, "externalId")
                || (is(name, "value") && parent.is_some_and(id_holder))
        }
        Some(sub) => is(sub, "value") && id_holder(name),
    }
}
