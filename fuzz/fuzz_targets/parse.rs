//! Fuzz target `parse`: see `fuzz/README.md` and `tenure_fuzz::check_parse`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if tenure_fuzz::check_parse(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
