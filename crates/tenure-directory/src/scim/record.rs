//! The stored SCIM records: defined with the store, which keeps them.

pub use crate::store::{ScimKind, ScimRecord};
