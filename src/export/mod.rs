//! Exports of a compiled [`Policy`](crate::Policy) to other policy languages.
//!
//! Exports only write text; they never depend on the target language's crates. The one
//! export so far is [`cedar`]: Cedar policy text for the subset of Tenure that Cedar can
//! express.

pub mod cedar;
mod cedar_schema;

pub use cedar::{
    to_cedar, to_cedar_with, CedarOptions, ExportError, ExportProblem, ExportProblemKind,
};
pub use cedar_schema::to_cedar_schema;
