//! Strict JSON for everything Tenure reads besides identities and resources: SCIM bodies,
//! directory and inventory lines, journal records.
//!
//! `serde_json` resolves a duplicate object key by keeping the last value; a policy
//! engine must not (two `active` keys in one SCIM body are an attack or a bug, and either
//! way the answer is a refusal). [`parse`] refuses a duplicate key at any depth and names
//! its path.

use crate::error::InputError;

/// Parses `text` as one JSON value, refusing duplicate object keys at every depth.
///
/// Errors carry a stable code (`tenure::input::duplicate_key`,
/// `tenure::input::malformed_json`) and the path of the problem.
///
/// ```
/// let value = tenure::json::parse(r#"{"emails": [{"type": "work"}]}"#)?;
/// assert_eq!(value["emails"][0]["type"], "work");
///
/// let error = tenure::json::parse(r#"{"emails": [{"type": "work", "type": "home"}]}"#)
///     .unwrap_err();
/// assert_eq!(error.path(), "emails[0].type");
/// assert_eq!(error.code().as_str(), "tenure::input::duplicate_key");
/// # Ok::<(), tenure::InputError>(())
/// ```
pub fn parse(text: &str) -> Result<serde_json::Value, InputError> {
    crate::entity::strict_value(text, "")
}
