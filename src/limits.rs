//! Input limits: how large a policy or a request may be before Tenure refuses it.
//!
//! Policies and requests are untrusted input. Each limit below is enforced with a clear
//! error ([`crate::ErrorKind::Limit`] for policies, [`crate::InputError`] for requests)
//! rather than a panic, a stack overflow or unbounded work.

/// Limits applied while parsing and compiling policies.
///
/// ```
/// let limits = tenure::Limits { max_rules: 2, ..tenure::Limits::default() };
/// let err = tenure::Policy::compile_with_limits(
///     [("p.tenure", "* grants *; * grants *; * grants *;")],
///     &limits,
/// )
/// .unwrap_err();
/// assert!(err.to_string().contains("more than 2 rules"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of policy text over all sources (default 256 MiB).
    pub max_policy_bytes: usize,
    /// Rules over all sources (default 2 000 000).
    pub max_rules: usize,
    /// Nesting depth of a condition: parentheses plus `not`s (default 64).
    pub max_nesting: usize,
    /// Values in one `in [...]` list (default 10 000).
    pub max_list_len: usize,
    /// Bytes in one string, bare word, tag key or attribute name (default 65 536).
    pub max_string_bytes: usize,
    /// Characters and wildcards in one glob (default 1 024).
    pub max_glob_len: usize,
    /// Annotations on one rule (default 65 536).
    pub max_annotations: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_policy_bytes: 256 * 1024 * 1024,
            max_rules: 2_000_000,
            max_nesting: 64,
            max_list_len: 10_000,
            max_string_bytes: 64 * 1024,
            max_glob_len: 1024,
            max_annotations: 65_536,
        }
    }
}

/// Largest identity or resource JSON text accepted (1 MiB).
pub const MAX_ENTITY_JSON_BYTES: usize = 1024 * 1024;
/// Most attributes (tags included) on one identity or resource.
pub const MAX_ENTITY_ATTRIBUTES: usize = 4096;
/// Most elements in one set-valued attribute.
pub const MAX_SET_ELEMENTS: usize = 4096;
