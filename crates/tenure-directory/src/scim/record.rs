//! What the store keeps of a SCIM resource: its kind, id, body and versioning.
//!
//! These two types belong to the store (`crate::store`); they live here until the store
//! lands, and [`crate::scim`] re-exports them.

/// Which SCIM resource type a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScimKind {
    /// A `User` (core schema plus extensions).
    User,
    /// A `Group`.
    Group,
}

/// One stored SCIM resource.
///
/// `body` is the canonical form of what the identity provider sent: attribute names in
/// their RFC 7643 spelling, explicit nulls dropped, and without the read-only `id`, `meta`,
/// `password` and (for users) `groups`, which are computed when the resource is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRecord {
    /// The resource type.
    pub kind: ScimKind,
    /// The server-assigned id.
    pub id: String,
    /// The stored attributes.
    pub body: serde_json::Value,
    /// Starts at 1; each write adds one (`meta.version` is `W/"{version}"`).
    pub version: u64,
    /// When the resource was created.
    pub created: jiff::Timestamp,
    /// When the resource was last written.
    pub modified: jiff::Timestamp,
}
