//! Shared helpers for the integration test binaries (include with
//! `#[path = "../support/mod.rs"] mod support;` from `tests/NAME/main.rs`).

#![allow(dead_code)]

pub mod postgres;
