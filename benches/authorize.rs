//! Decision cost per request, Tenure against cedar-policy, as the rule count grows
//! (issues 2 and 3). Each timed iteration decides one request, cycling through the
//! 10 000 seeded requests of the workload in `common/mod.rs`, so a median is the cost of
//! one decision and the throughput reads as decisions per second.
//!
//! Groups `authorize/N` for N = 10, 100, 1 000, 10 000 (Tenure and Cedar), 100 000 and
//! 1 000 000 (Tenure alone). Functions:
//!
//! * `tenure_is_allowed` — [`Policy::is_allowed`], the no-allocation fast path;
//! * `tenure_is_allowed_hot64` — the same, cycling through only 64 requests (cache-hot);
//! * `tenure_authorize` — [`Policy::authorize`], with reasons;
//! * `tenure_prepared_is_allowed` / `tenure_prepared_authorize` — the same through
//!   [`Policy::for_identity`] handles prepared beforehand (one per request);
//! * `tenure_for_identity` — the cost of preparing one such handle;
//! * `cedar` — `Authorizer::is_authorized` on the same requests.
//!
//! Before timing, every checked request must get the same decision from all Tenure paths
//! and from Cedar (the bench panics otherwise). Cedar is checked on all 10 000 requests up
//! to N = 1 000; at N = 10 000 (about 25 ms per Cedar decision) on the first 1 000, which
//! are the only ones Cedar is then timed on; set `TENURE_BENCH_FULL_CHECK=1` to check all.
//! `TENURE_BENCH_SIZES=10,1000` limits the sizes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tenure::{Identity, Policy, PreparedIdentity, Resource};

mod common;

const ALL_SIZES: [usize; 6] = [10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// The sizes to run: all, or those listed in `TENURE_BENCH_SIZES`.
fn sizes() -> Vec<usize> {
    match std::env::var("TENURE_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().replace('_', "").parse().ok())
            .collect(),
        Err(_) => ALL_SIZES.to_vec(),
    }
}

fn full_check() -> bool {
    std::env::var("TENURE_BENCH_FULL_CHECK").is_ok_and(|v| v == "1")
}

/// Cycles through `items`, one per call.
struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Cycle { items, next: 0 }
    }

    #[inline]
    fn next(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next += 1;
        if self.next == self.items.len() {
            self.next = 0;
        }
        item
    }
}

/// Mean and largest number of candidate rules the index evaluates per request.
fn candidate_stats(policy: &Policy, requests: &[(Identity, Resource)]) -> (f64, usize) {
    let mut total = 0usize;
    let mut max = 0usize;
    for (i, r) in requests {
        let c = policy.candidates(i, r);
        total += c.denies + c.grants;
        max = max.max(c.denies + c.grants);
    }
    (total as f64 / requests.len() as f64, max)
}

fn bench(c: &mut Criterion) {
    for n in sizes() {
        let started = Instant::now();
        let policy = common::tenure_compile(n);
        let compiled = started.elapsed();
        let tenure = common::tenure_requests(n);
        let with_cedar = n <= 10_000;
        let cedar = with_cedar.then(|| (common::cedar_compile(n), common::cedar_requests(n)));
        let cedar_checked = if n <= 1_000 || full_check() {
            common::REQUESTS
        } else {
            1_000
        };
        let checked = Instant::now();
        let allowed = common::assert_agreement(
            &policy,
            &tenure,
            cedar.as_ref().map(|(set, reqs)| (set, reqs.as_slice())),
            if with_cedar {
                cedar_checked
            } else {
                common::REQUESTS
            },
        );
        if !with_cedar {
            // Without Cedar, check the index against the linear scan on a sample.
            for (k, (i, r)) in tenure.iter().enumerate().step_by(100) {
                assert_eq!(
                    policy.authorize(i, r),
                    policy.authorize_linear(i, r),
                    "index and linear scan differ on request {k}"
                );
            }
        }
        let (mean, max) = candidate_stats(&policy, &tenure);
        eprintln!(
            "authorize/{n}: compiled in {compiled:.2?}; {} requests checked{} in {:.2?}; \
             allowed {:.1}%; candidates per request mean {mean:.2}, max {max}; {:?}",
            if with_cedar {
                cedar_checked
            } else {
                common::REQUESTS
            },
            if with_cedar {
                " against Cedar"
            } else {
                " (Cedar not run)"
            },
            checked.elapsed(),
            allowed * 100.0,
            policy.index_stats(),
        );

        let prepared: Vec<PreparedIdentity<'_>> =
            tenure.iter().map(|(i, _)| policy.for_identity(i)).collect();

        let mut group = c.benchmark_group(format!("authorize/{n}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(30);
        group.warm_up_time(Duration::from_millis(800));
        group.measurement_time(Duration::from_secs(2));

        let mut cycle = Cycle::new(&tenure);
        group.bench_function("tenure_is_allowed", |b| {
            b.iter(|| {
                let (i, r) = cycle.next();
                black_box(policy.is_allowed(black_box(i), black_box(r)))
            })
        });
        // The same on only 64 requests, whose entities stay in cache: the engine's own
        // cost, without the memory misses of reading 10 000 requests' entities.
        let mut cycle = Cycle::new(&tenure[..64]);
        group.bench_function("tenure_is_allowed_hot64", |b| {
            b.iter(|| {
                let (i, r) = cycle.next();
                black_box(policy.is_allowed(black_box(i), black_box(r)))
            })
        });
        let mut cycle = Cycle::new(&tenure);
        group.bench_function("tenure_authorize", |b| {
            b.iter(|| {
                let (i, r) = cycle.next();
                black_box(policy.authorize(black_box(i), black_box(r)))
            })
        });
        let mut cycle = Cycle::new(&tenure);
        group.bench_function("tenure_for_identity", |b| {
            b.iter(|| {
                let (i, _) = cycle.next();
                black_box(policy.for_identity(black_box(i)))
            })
        });
        let pairs: Vec<(&PreparedIdentity<'_>, &Resource)> =
            prepared.iter().zip(tenure.iter().map(|(_, r)| r)).collect();
        let mut cycle = Cycle::new(&pairs);
        group.bench_function("tenure_prepared_is_allowed", |b| {
            b.iter(|| {
                let (p, r) = cycle.next();
                black_box(p.is_allowed(black_box(r)))
            })
        });
        let mut cycle = Cycle::new(&pairs);
        group.bench_function("tenure_prepared_authorize", |b| {
            b.iter(|| {
                let (p, r) = cycle.next();
                black_box(p.authorize(black_box(r)))
            })
        });

        if let Some((set, requests)) = &cedar {
            let authorizer = cedar_policy::Authorizer::new();
            // Cedar is timed only on requests checked against Tenure.
            let mut cycle = Cycle::new(&requests[..cedar_checked]);
            if n >= 10_000 {
                group.sample_size(10);
                group.warm_up_time(Duration::from_millis(500));
                group.measurement_time(Duration::from_secs(3));
            } else if n >= 1_000 {
                group.sample_size(20);
                group.measurement_time(Duration::from_secs(3));
            }
            group.bench_function("cedar", |b| {
                b.iter(|| {
                    let q = cycle.next();
                    black_box(common::cedar_allows(&authorizer, set, black_box(q)))
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
