//! Prints the average candidate rules per request of the benchmark workload
//! (`benches/common`), denies and grants, with the index's figures:
//! `cargo run --release --example candidates_profile -- 10 100 1000`.

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    for n in if sizes.is_empty() {
        vec![10, 100]
    } else {
        sizes
    } {
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
