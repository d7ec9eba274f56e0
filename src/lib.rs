#![doc = include_str!("../README.md")]
//!
//! # Pipeline
//!
//! text → `syntax` (pest, an AST with spans) → `check` (ids, annotations,
//! normalisation into the IR) → `compile` (the indexed decision structure) → `decide`
//! ([`Policy::authorize`] / [`Policy::is_allowed`]). None of the stages is public API;
//! the AST is available, unstable, behind the `unstable` feature.
//!
//! # Semantics
//!
//! * Deny overrides grant; with no applying grant the decision is deny (default deny).
//! * Comparisons on an absent attribute, or between different types, are *unknown*;
//!   `not`, `and`, `or` follow Kleene logic; `has` is never unknown.
//! * A grant applies only when both sides are *true*; a deny applies when both sides are
//!   *true or unknown* — an absent attribute never grants but can deny.
//! * A decision never panics and never errors; its reasons list, in load order, every
//!   applying deny, else every applying grant, else nothing.
//!
//! The full reference is `docs/LANGUAGE.md`.
//!
//! # Input safety
//!
//! Policies and requests are untrusted. Parsing bounds nesting depth before recursing,
//! and every size is limited (see [`Limits`] and the constants in [`limits`]); globs match
//! without exponential backtracking. Errors carry source names, line and column, and a
//! stable [`Code`] from one registry; request JSON is read strictly (duplicate keys
//! refused, numbers by the digits written) through [`Identity::from_json`],
//! [`Resource::from_json`] and [`Request::from_json`].
//!
//! # Workspace
//!
//! This crate is the library alone; the `tenure` command-line tool is the
//! `tenure-cli` package in `crates/tenure-cli`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// One stage or shared concept per module; each stage imports only earlier stages and the
// shared vocabulary (`lexical`, `source`, `vocabulary`, `value`, `diagnostics`).
// docs/ARCHITECTURE.md has the table of imports.
// pest is used without its `std` feature, whose per-rule-call stack probe was about a
// tenth of compile time: the prescan's nesting limit (`Limits::max_nesting`, checked
// before pest runs) already bounds the parser's recursion on every target. The parser
// pest_derive generates then names `alloc`.
extern crate alloc;

mod check;
pub mod claims;
mod compile;
mod decide;
mod diagnostics;
pub mod engine;
mod entity;
mod error;
pub mod export;
pub mod format;
mod inline_str;
mod ir;
pub mod json;
mod lexical;
pub mod lifecycle;
pub mod limits;
pub mod lint;
mod policy;
mod prepared;
mod recompile;
mod request;
mod rules;
pub mod schema;
mod source;
mod syntax;
mod value;
mod vocabulary;

pub use compile::{Candidates, IndexStats};
pub use decide::decision::{DecidedBy, Decision, Reason, UnknownAttribute, UnknownCause};
pub use decide::explain;
pub use diagnostics::Code;
pub use engine::{Engine, EngineError};
pub use entity::{Identity, Resource};
pub use error::{
    more_than_displayed, Error, ErrorKind, InputError, PolicyDiagnostic, MAX_DISPLAYED_DIAGNOSTICS,
};
pub use limits::Limits;
pub use policy::Policy;
pub use prepared::PreparedIdentity;
pub use request::Request;
pub use rules::RuleView;
pub use source::{Location, Span};
pub use value::{Set, Value};
pub use vocabulary::{Attribute, Effect, Side};

/// The parser's syntax tree, for tools that print or transform policies (the fuzz
/// targets, the reference evaluator in the tests). **Unstable**: behind the `unstable`
/// feature, outside semantic versioning; it changes whenever the language does.
#[cfg(feature = "unstable")]
pub mod unstable {
    pub use crate::syntax::ast;
    pub use crate::syntax::parse;

    /// Each rule's checked form (id, effect, normalised conditions, annotations), one
    /// string per rule, without source positions: two policies that print the same here
    /// decide the same.
    pub fn checked_rules(policy: &crate::Policy) -> Vec<String> {
        policy
            .ir_rules()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "{} {:?} {:?} {:?} {:?}",
                    r.id(i),
                    r.effect,
                    r.who,
                    r.what,
                    r.annotations
                )
            })
            .collect()
    }
}
