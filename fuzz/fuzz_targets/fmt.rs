//! Fuzz target `fmt`: see `fuzz/README.md` and `tenure_fuzz::check_fmt`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if tenure_fuzz::check_fmt(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
