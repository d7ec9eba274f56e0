//! Tests: data_driven.
