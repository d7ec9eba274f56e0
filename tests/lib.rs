//! Integration tests, in one binary to keep link time down.

mod data_driven;
mod differential;
mod engine;
mod explain;
mod format;
mod foundation;
mod fuzz_regressions;
mod incremental;
mod lifecycle;
mod limits;
mod lint;
mod reference;
mod schema;
mod semantics;
