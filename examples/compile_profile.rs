//! Times `Policy::compile` on the benchmark workload (`benches/common`), for profiling:
//! `cargo run --release --example compile_profile -- 100000`.

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let text = common::tenure_policy(n);
    let mut best = std::time::Duration::MAX;
    for _ in 0..7 {
        let started = std::time::Instant::now();
        let policy = tenure::Policy::compile(&text).expect("the workload compiles");
        best = best.min(started.elapsed());
        drop(policy);
    }
    println!("compile {n} rules: best of 7 {best:?}");
}
