#![doc = include_str!("../README.md")]
//!
//! # Pipeline
//!
//! text → [`syntax`] (pest, [`syntax::ast`] with spans) → `check` (ids, annotations,
//! normalisation into [`ir`]) → `compile` (the indexed decision structure) →
//! [`Policy::authorize`] / [`Policy::is_allowed`].
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
//! without exponential backtracking. Errors carry source names, line and column.
//!
//! # Workspace
//!
//! This crate is the library alone; the `tenure` command-line tool is the
//! `tenure-cli` package in `crates/tenure-cli`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod compile;
mod decision;
mod entity;
mod error;
pub mod export;
pub mod ir;
pub mod limits;
mod policy;
mod prepared;
pub mod syntax;

pub use compile::{Candidates, IndexStats};
pub use decision::{DecidedBy, Decision, Reason, Side, UnknownAttribute, UnknownCause};
pub use entity::{Entity, Identity, Resource, Value};
pub use error::{Error, ErrorKind, InputError, Location, PolicyDiagnostic};
pub use limits::Limits;
pub use policy::Policy;
pub use prepared::PreparedIdentity;
pub use syntax::ast::{Attribute, Effect, Literal};
