//! Fuzz target `builder_differential`: see `fuzz/README.md` and `tenure_fuzz::check_builder_differential`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if tenure_fuzz::check_builder_differential(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
