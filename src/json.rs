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

/// The lines of a JSON Lines text worth reading, each with its number from 1: blank lines
/// are skipped, and so is a byte-order mark before the first line. Every JSON Lines
/// reader (directory and inventory files, the journal, data validated against a schema)
/// walks its text through this, so they agree on what a line and its number are.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| (n + 1, line))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_numbered_from_one_skipping_blanks_and_the_bom() {
        let found: Vec<_> = super::lines("\u{feff}{\"a\":1}\n\n  \n{\"b\":2}\r\n").collect();
        assert_eq!(found, [(1, "{\"a\":1}"), (4, "{\"b\":2}")]);
    }
}
