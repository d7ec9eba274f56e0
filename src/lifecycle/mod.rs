//! The lifecycle as attribute changes: joiners, movers and leavers, what each one does
//! to access, and who reaches what.
//!
//! * [`Directory`] and [`Inventory`]: identities and resources by id (JSON Lines in and
//!   out, each line carrying its `id`, which stays an ordinary attribute rules can test).
//! * [`Event`]: `Join`, `Move` (a list of [`Change`]s), `Leave` (`status` becomes
//!   `inactive`; the record stays, so `status != active denies *;` revokes everything at
//!   once), `Purge`, and the resource events. Events apply whole or not at all.
//! * Access: [`Policy::entitlements`] and [`Policy::who_can`] answer through the index;
//!   [`Policy::identity_access_change`] and [`Policy::resource_access_change`] give an
//!   event's exact [`AccessChange`]; [`impact`] gives a policy change's.
//! * [`Schedule`]: events with an effective time, applied in time order when due.
//!
//! No I/O happens here: `tenure-directory` makes all of it durable (SQLite or
//! PostgreSQL), with a journal, and feeds it from SCIM. See `docs/LIFECYCLE.md`.
//!
//! ```
//! use tenure::lifecycle::{Directory, Event, Inventory};
//! use tenure::{Identity, Policy};
//!
//! let policy = Policy::compile(r#"
//!     @id("cloud") role = CloudEngineer grants tag:env = cloud;
//!     @id("dba") role = DBA grants type = postgres;
//!     @id("leavers") status != active denies *;
//! "#)?;
//! let inventory = Inventory::from_json_lines(concat!(
//!     r#"{"id": "vm-1", "type": "ssh", "tags": {"env": "cloud"}}"#, "\n",
//!     r#"{"id": "db-1", "type": "postgres", "tags": {"env": "prod"}}"#, "\n",
//! ))?;
//! let mut directory = Directory::new();
//!
//! // Joiner.
//! let pamela = Identity::new().with("id", "pamela").with("role", "CloudEngineer").with("status", "active");
//! let applied = directory.apply(&Event::Join { identity: pamela })?;
//! let change = policy.identity_access_change(&applied, &inventory);
//! assert_eq!(change.gained.iter().map(|e| e.resource.as_str()).collect::<Vec<_>>(), ["vm-1"]);
//!
//! // Mover: the old access goes, the new comes.
//! let applied = directory.apply(&Event::Move {
//!     id: "pamela".into(),
//!     changes: vec![tenure::lifecycle::Change::Set { attribute: "role".into(), value: "DBA".into() }],
//! })?;
//! let change = policy.identity_access_change(&applied, &inventory);
//! assert_eq!((change.gained[0].resource.as_str(), change.lost[0].resource.as_str()), ("db-1", "vm-1"));
//!
//! // Leaver: everything goes, the record stays.
//! let applied = directory.apply(&Event::Leave { id: "pamela".into() })?;
//! assert_eq!(policy.identity_access_change(&applied, &inventory).lost.len(), 1);
//! assert!(policy.entitlements(directory.get("pamela").unwrap(), &inventory).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod catalog;
mod event;
pub(crate) mod reverse;
mod schedule;

pub use access::{impact, AccessChange, PairAccess};
pub use catalog::{id_of, Catalog, Directory, Entry, Inventory, ID_ATTRIBUTE};
pub use event::{Applied, Change, Event, Subject, ACTIVE, INACTIVE, STATUS_ATTRIBUTE};
pub use reverse::{Entitlement, Holder};
pub use schedule::{Schedule, Scheduled, Timestamp};

#[cfg(doc)]
use crate::Policy;
