//! Tenure's lifecycle store: the durable side of joiners, movers and leavers.
//!
//! The library `tenure` holds the model (directories, events, access changes, reverse
//! queries) and does no I/O. This crate makes it durable and feeds it:
//!
//! * [`store`]: the [`store::Store`] trait, with SQLite (embedded default) and PostgreSQL
//!   (feature `postgres`) backends — the state, the journal and the schedule change in one
//!   transaction per event;
//! * [`scim`]: SCIM 2.0 requests, as Okta and Microsoft Entra ID send them, translated
//!   into identity changes;
//! * [`mapping`]: which SCIM attributes become which identity attributes;
//! * [`Lifecycle`]: all of it together — events, SCIM requests and scheduled events
//!   applied durably, each with its access change and journal record.

pub mod answers;
pub mod mapping;
pub mod scim;
pub mod store;

mod service;

pub use service::{policy_hash, Lifecycle, LifecycleError, Recorded, ScimApplied};
