//! Compiles the benchmark workload (`benches/common`) once and keeps the policy alive to
//! the end, for heap profilers that report what is live at exit:
//! `valgrind --tool=dhat target/release/examples/memory_profile 20000`.

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let text = common::tenure_policy(n);
    let policy = tenure::Policy::compile(&text).expect("the workload compiles");
    drop(text);
    println!("compiled {} rules", policy.rules().len());
    // Kept to the end on purpose: the profiler's "at exit" figures are the policy's.
    std::mem::forget(policy);
}
