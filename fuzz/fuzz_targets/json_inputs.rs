//! Fuzz target `json_inputs`: see `fuzz/README.md` and `tenure_fuzz::check_json_inputs`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if tenure_fuzz::check_json_inputs(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
