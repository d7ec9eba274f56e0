//! `include/tenure.h` is what the pinned cbindgen generates from `src/lib.rs`.
//!
//! After changing the API, regenerate it with
//! `TENURE_BLESS=1 cargo test -p tenure-ffi --test header`.

use std::path::Path;

#[test]
fn the_checked_in_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml reads");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");
    let path = crate_dir.join("include/tenure.h");
    if std::env::var_os("TENURE_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("include/tenure.h is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/tenure.h is out of date: run `TENURE_BLESS=1 cargo test -p tenure-ffi --test header` and commit it"
    );
}
