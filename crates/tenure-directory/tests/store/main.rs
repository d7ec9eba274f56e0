//! Integration tests of `tenure_directory::store`: the conformance suite on every
//! backend, plus what only one backend can show (raw rows, schema versions).

#[path = "../support/mod.rs"]
mod support;

mod conformance;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
