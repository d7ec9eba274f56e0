//! Issue 10: what deciding through an [`Engine`] costs over a [`Policy`] directly (one
//! arc-swap snapshot load per decision; target ≤ 10 ns extra), and decisions per second
//! with 2 threads on one engine while another thread reloads it every 10 ms.
//!
//! `cargo bench --bench engine`

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tenure::Engine;

mod common;

fn snapshot_cost(c: &mut Criterion) {
    for n in [10, 1_000] {
        let policy = common::tenure_compile(n);
        let engine = Engine::new(policy.clone());
        let requests = common::tenure_requests(n);
        let mut group = c.benchmark_group(format!("engine/{n}"));
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        // Side by side, interleaved per function, on the same requests.
        let mut k = 0;
        group.bench_function("policy_is_allowed", |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(policy.is_allowed(black_box(i), black_box(r)))
            })
        });
        group.bench_function("engine_is_allowed", |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(engine.is_allowed(black_box(i), black_box(r)))
            })
        });
        group.bench_function("policy_authorize", |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(policy.authorize(black_box(i), black_box(r)))
            })
        });
        group.bench_function("engine_authorize", |b| {
            b.iter(|| {
                let (i, r) = &requests[k % requests.len()];
                k += 1;
                black_box(engine.authorize(black_box(i), black_box(r)))
            })
        });
        group.finish();
    }
}

/// The snapshot load alone, cache-hot: one request decided over and over, so the
/// difference between the two is the arc-swap load and not memory traffic.
fn snapshot_hot(c: &mut Criterion) {
    let policy = common::tenure_compile(10);
    let engine = Engine::new(policy.clone());
    let (identity, resource) = common::tenure_requests(10).swap_remove(0);
    let mut group = c.benchmark_group("engine_hot/10");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("policy_is_allowed", |b| {
        b.iter(|| black_box(policy.is_allowed(black_box(&identity), black_box(&resource))))
    });
    group.bench_function("engine_is_allowed", |b| {
        b.iter(|| black_box(engine.is_allowed(black_box(&identity), black_box(&resource))))
    });
    group.bench_function("engine_version_load", |b| {
        b.iter(|| black_box(engine.version()))
    });
    group.finish();
}

fn decisions_while_reloading(c: &mut Criterion) {
    let n = 1_000;
    let texts = [
        common::tenure_policy(n),
        common::tenure_policy(n).replace("grants", "grants "),
    ];
    let engine = Engine::from_sources([("p.tenure", &texts[0])]).expect("the workload compiles");
    let requests = common::tenure_requests(n);
    let mut group = c.benchmark_group(format!("engine_reloading/{n}"));
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(800));
    group.measurement_time(Duration::from_secs(3));
    let reloads = AtomicU64::new(0);
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_with_input(
            BenchmarkId::new("is_allowed_threads_reload_every_10ms", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let done = AtomicBool::new(false);
                    let mut elapsed = Duration::ZERO;
                    std::thread::scope(|s| {
                        s.spawn(|| {
                            let mut n = 0;
                            while !done.load(Ordering::Relaxed) {
                                std::thread::sleep(Duration::from_millis(10));
                                let _ = engine.reload([("p.tenure", &texts[n % 2])]);
                                reloads.fetch_add(1, Ordering::Relaxed);
                                n += 1;
                            }
                        });
                        let started = Instant::now();
                        std::thread::scope(|inner| {
                            for t in 0..threads {
                                let (engine, requests) = (&engine, &requests);
                                inner.spawn(move || {
                                    let mut k = t * requests.len() / threads;
                                    for _ in 0..iters {
                                        let (i, r) = &requests[k];
                                        black_box(engine.is_allowed(black_box(i), black_box(r)));
                                        k = (k + 1) % requests.len();
                                    }
                                });
                            }
                        });
                        elapsed = started.elapsed();
                        done.store(true, Ordering::Relaxed);
                    });
                    elapsed
                })
            },
        );
    }
    group.finish();
    eprintln!(
        "engine_reloading: {} reloads during the run, final version {}",
        reloads.load(Ordering::Relaxed),
        engine.version()
    );
}

criterion_group!(
    benches,
    snapshot_hot,
    snapshot_cost,
    decisions_while_reloading
);
criterion_main!(benches);
