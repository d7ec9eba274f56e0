//! Times `Policy::is_allowed` and `Policy::authorize` over the benchmark workload's
//! 10 000 requests (`benches/common`), cold, for profiling and quick A/B runs:
//! `cargo run --release --example decide_profile -- 10 1000000`. Prints the best of 9
//! passes per size, in nanoseconds per decision (criterion in `benches/authorize.rs`
//! gives the medians the docs report). `PASSES=N` sets the number of passes (9): under
//! `valgrind --tool=cachegrind`, the difference between `PASSES=9` and `PASSES=1`
//! divided by 160 000 is the instructions of one decision, without the setup.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9);
    for n in common::sizes_from_args(&[10]) {
        let policy = common::tenure_compile(n);
        let requests = common::tenure_requests(n);
        let per = |f: &dyn Fn() -> usize| {
            (0..passes)
                .map(|_| {
                    let started = Instant::now();
                    black_box(f());
                    started.elapsed().as_nanos() as f64 / requests.len() as f64
                })
                .fold(f64::MAX, f64::min)
        };
        let is_allowed = per(&|| {
            requests
                .iter()
                .filter(|(i, r)| policy.is_allowed(black_box(i), black_box(r)))
                .count()
        });
        let authorize = per(&|| {
            requests
                .iter()
                .filter(|(i, r)| policy.authorize(black_box(i), black_box(r)).is_allowed())
                .count()
        });
        println!("{n} rules: is_allowed {is_allowed:.0} ns, authorize {authorize:.0} ns");
    }
}
