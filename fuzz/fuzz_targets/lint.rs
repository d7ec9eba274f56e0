//! Fuzz target `lint`: see `fuzz/README.md` and `tenure_fuzz::check_lint`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if tenure_fuzz::check_lint(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
