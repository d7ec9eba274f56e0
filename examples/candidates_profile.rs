//! Prints the average candidate rules per request of the benchmark workload
//! (`benches/common`), denies and grants, with the index's figures:
//! `cargo run --release --example candidates_profile -- 10 100 1000`.

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    for n in common::sizes_from_args(&[10, 100]) {
        let policy = common::tenure_compile(n);
        let requests = common::tenure_requests(n);
        let (mut denies, mut grants) = (0, 0);
        for (identity, resource) in &requests {
            let c = policy.candidates(identity, resource);
            denies += c.denies;
            grants += c.grants;
        }
        let per = |x: usize| x as f64 / requests.len() as f64;
        println!(
            "{n} rules: {:.2} denies + {:.2} grants evaluated per request; {:?}",
            per(denies),
            per(grants),
            policy.index_stats()
        );
    }
}
