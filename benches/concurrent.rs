//! Decisions per second with 1 and 2 threads sharing one compiled [`tenure::Policy`]
//! (issue 3). One timed iteration makes every thread decide one request, so the
//! throughput (`Throughput::Elements(threads)`) reads as decisions per second across
//! threads. Threads start once per sample, not per decision.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

mod common;

fn bench(c: &mut Criterion) {
    let threads_available = std::thread::available_parallelism().map_or(1, |n| n.get());
    for n in [1_000, 100_000] {
        let policy = common::tenure_compile(n);
        let requests = common::tenure_requests(n);
        let mut group = c.benchmark_group(format!("concurrent/{n}"));
        group.sample_size(20);
        group.warm_up_time(Duration::from_millis(800));
        group.measurement_time(Duration::from_secs(3));
        for threads in [1usize, 2] {
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_with_input(
                BenchmarkId::new("is_allowed_threads", threads),
                &threads,
                |b, &threads| {
                    b.iter_custom(|iters| {
                        let started = Instant::now();
                        std::thread::scope(|s| {
                            for t in 0..threads {
                                let policy = policy.clone();
                                let requests = &requests;
                                s.spawn(move || {
                                    let mut k = t * requests.len() / threads;
                                    for _ in 0..iters {
                                        let (i, r) = &requests[k];
                                        black_box(policy.is_allowed(black_box(i), black_box(r)));
                                        k += 1;
                                        if k == requests.len() {
                                            k = 0;
                                        }
                                    }
                                });
                            }
                        });
                        started.elapsed()
                    })
                },
            );
        }
        group.finish();
    }
    eprintln!("concurrent: {threads_available} hardware threads available");
}

criterion_group!(benches, bench);
criterion_main!(benches);
