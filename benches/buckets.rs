//! Issue 12: decisions over 10 000 rules anchored only on glob prefixes
//! (`name ~ "team-17-*"`) or integer ranges (`clearance >= 170 and clearance < 180`),
//! found through the prefix and range buckets of the index. Prints the largest number of
//! candidate rules per request.
//!
//! `cargo bench --bench buckets`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tenure::{Identity, Policy, Resource};

const N: usize = 10_000;

fn globs() -> (Policy, Vec<(Identity, Resource)>) {
    let text: String = (0..N)
        .map(|i| format!("role = r{} grants name ~ \"team-{i}-*\";\n", i % 7))
        .collect();
    let requests = (0..1024)
        .map(|k| {
            let i = (k * 7919) % N;
            (
                Identity::new().with("role", format!("r{}", i % 7)),
                Resource::new().with("name", format!("team-{i}-db-{k}")),
            )
        })
        .collect();
    (Policy::compile(&text).expect("compiles"), requests)
}

fn ranges() -> (Policy, Vec<(Identity, Resource)>) {
    let text: String = (0..N)
        .map(|i| {
            let lo = i * 10;
            format!(
                "clearance >= {lo} and clearance < {} grants tag:env = prod;\n",
                lo + 10
            )
        })
        .collect();
    let requests = (0..1024)
        .map(|k| {
            let v = ((k * 7919) % (N * 10)) as i64;
            (
                Identity::new().with("clearance", v),
                Resource::new().with_tag("env", "prod"),
            )
        })
        .collect();
    (Policy::compile(&text).expect("compiles"), requests)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("buckets/10000");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, (policy, requests)) in [("globs", globs()), ("ranges", ranges())] {
        let max = requests
            .iter()
            .map(|(i, r)| {
                let c = policy.candidates(i, r);
                c.grants + c.denies
            })
            .max()
            .unwrap_or(0);
        let allowed = requests
            .iter()
            .filter(|(i, r)| policy.is_allowed(i, r))
            .count();
        eprintln!(
            "buckets/{name}: at most {max} candidates per request; {allowed} of {} allowed",
            requests.len()
        );
        let mut k = 0;
        group.bench_function(format!("{name}_authorize"), |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(policy.authorize(black_box(i), black_box(r)))
            })
        });
        group.bench_function(format!("{name}_is_allowed"), |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(policy.is_allowed(black_box(i), black_box(r)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
