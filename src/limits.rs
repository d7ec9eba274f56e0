//! Input limits: how large a policy or a request may be before Tenure refuses it.
//!
//! Policies and requests are untrusted input. Each limit below is enforced with a clear
//! error ([`crate::ErrorKind::Limit`] for policies, [`crate::InputError`] for requests)
//! rather than a panic, a stack overflow or unbounded work.

/// Limits applied while parsing and compiling policies.
///
/// Built from [`Limits::default`] with the `with_*` methods (the struct will gain fields,
/// so it cannot be written as a literal outside this crate):
///
/// ```
/// let limits = tenure::Limits::default().with_max_rules(2);
/// let err = tenure::Policy::compile_with_limits(
///     [("p.tenure", "* grants *; * grants *; * grants *;")],
///     &limits,
/// )
/// .unwrap_err();
/// assert!(err.to_string().contains("more than 2 rules"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Total bytes of policy text over all sources (default 256 MiB).
    pub max_policy_bytes: usize,
    /// Rules over all sources (default 2 000 000).
    pub max_rules: usize,
    /// Nesting depth of a condition: parentheses plus `not`s (default 64). Values above
    /// [`MAX_NESTING_CEILING`] are treated as the ceiling.
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
/// Most attributes on one identity or resource, its tags counted among them.
pub const MAX_ENTITY_ATTRIBUTES: usize = 4096;
/// Most elements in one set-valued attribute.
pub const MAX_SET_ELEMENTS: usize = 4096;

/// The deepest nesting any [`Limits`] allows, whatever `max_nesting` says.
///
/// Parsing, checking, evaluating and printing a condition each recurse once per level;
/// 256 levels stay well inside a 2 MiB thread stack (Rust's default for spawned
/// threads) in debug builds, on every target, including those without stack probes
/// (musl, 32-bit ARM, wasm). The test `ceiling_nesting_fits_a_small_stack` checks it.
pub const MAX_NESTING_CEILING: usize = 256;

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident => $field:ident,)*) => {
        impl Limits {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: usize) -> Limits {
                    self.$field = value;
                    self
                }
            )*

            /// The nesting limit in force: `max_nesting`, at most [`MAX_NESTING_CEILING`].
            pub fn effective_max_nesting(&self) -> usize {
                self.max_nesting.min(MAX_NESTING_CEILING)
            }
        }
    };
}

setters! {
    /// With [`Limits::max_policy_bytes`] set.
    with_max_policy_bytes => max_policy_bytes,
    /// With [`Limits::max_rules`] set.
    with_max_rules => max_rules,
    /// With [`Limits::max_nesting`] set (clamped to [`MAX_NESTING_CEILING`] when used).
    with_max_nesting => max_nesting,
    /// With [`Limits::max_list_len`] set.
    with_max_list_len => max_list_len,
    /// With [`Limits::max_string_bytes`] set.
    with_max_string_bytes => max_string_bytes,
    /// With [`Limits::max_glob_len`] set.
    with_max_glob_len => max_glob_len,
    /// With [`Limits::max_annotations`] set.
    with_max_annotations => max_annotations,
}
