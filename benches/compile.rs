//! Compile time and memory per rule (issue 3): `Policy::compile` on N generated rules
//! against Cedar's `PolicySet::from_str` on the same rules as Cedar policies; and the
//! incremental reload of one edited source among 1 000 (issue 12, group `recompile`).
//!
//! Memory is measured outside the timed loop by a counting global allocator: the bytes
//! still allocated after compiling (the compiled structure kept alive), divided by N, and
//! the peak reached while compiling. The policy text itself is built beforehand and not
//! counted. The allocator counts only inside those measurements: its counters are shared
//! atomics that both compile threads write, and counting every allocation of the timed
//! loop too made the compile of 100 000 rules about 3% slower (median of 56 compiles
//! each way, alternating: 392 ms counted, 380.5 ms not).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

mod common;

/// The system allocator, counting the bytes currently allocated and their peak.
struct Counting;

/// Bytes allocated minus bytes freed since [`measure`] started (negative when it frees
/// older blocks), and the highest it reached.
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Whether allocations are counted now (only inside [`measure`] and [`count_allocations`]).
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !COUNTING.load(Ordering::Relaxed) {
            return p;
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if !p.is_null() {
            let size = layout.size() as isize;
            let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            CURRENT.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !COUNTING.load(Ordering::Relaxed) {
            return p;
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = (new_size - layout.size()) as isize;
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` once and returns its result with the bytes it left allocated and the peak
/// above the starting point.
///
/// Only what happens while `f` runs is counted (a block `f` frees that was allocated
/// before counts against it; the compile only borrows its text).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    CURRENT.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let value = f();
    COUNTING.store(false, Ordering::SeqCst);
    let retained = CURRENT.load(Ordering::Relaxed).max(0) as usize;
    let peak = PEAK.load(Ordering::Relaxed).max(0) as usize;
    (value, retained, peak)
}

/// Runs `f` and returns the number of allocations it made.
fn count_allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes; `None` off Linux.
fn proc_status_bytes(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn memory_report(n: usize, with_cedar: bool) {
    let text = common::tenure_policy(n);
    // Process RSS too: what the allocator keeps from the system (freed pages glibc
    // retains included) and the peak (`VmHWM`, reset through `/proc/self/clear_refs`).
    let rss_before = proc_status_bytes("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let (policy, retained, peak) = measure(|| tenure::Policy::compile(&text));
    let elapsed = started.elapsed();
    let policy = policy.expect("the generated policy compiles");
    let rss_after = proc_status_bytes("VmRSS:");
    let rss_peak = proc_status_bytes("VmHWM:");
    eprintln!(
        "compile/{n}: tenure {elapsed:.2?}, retained {} bytes/rule, peak {} bytes/rule ({} rules)",
        retained / n,
        peak / n,
        policy.rules().len(),
    );
    if let (Some(before), Some(after), Some(high)) = (rss_before, rss_after, rss_peak) {
        eprintln!(
            "compile/{n}: RSS +{:.1} MiB ({} bytes/rule), peak +{:.1} MiB while compiling",
            after.saturating_sub(before) as f64 / 1_048_576.0,
            after.saturating_sub(before) / n,
            high.saturating_sub(before) as f64 / 1_048_576.0,
        );
    }
    // The decision fast path must not allocate: count allocations over every request.
    let requests = common::tenure_requests(n);
    let prepared: Vec<_> = requests
        .iter()
        .map(|(i, _)| policy.for_identity(i))
        .collect();
    let mut allowed = 0usize;
    let is_allowed_allocs = count_allocations(|| {
        for (i, r) in &requests {
            allowed += usize::from(black_box(policy.is_allowed(i, r)));
        }
    });
    let prepared_allocs = count_allocations(|| {
        for (p, (_, r)) in prepared.iter().zip(&requests) {
            allowed += usize::from(black_box(p.is_allowed(r)));
        }
    });
    eprintln!(
        "compile/{n}: {is_allowed_allocs} allocations in {} is_allowed decisions, \
         {prepared_allocs} in as many prepared is_allowed ({allowed} allowed)",
        requests.len(),
    );
    drop(prepared);
    drop(policy);
    if with_cedar {
        let text = common::cedar_policy(n);
        let started = Instant::now();
        let (set, retained, peak) = measure(|| {
            cedar_policy::PolicySet::from_str(&text).expect("the generated Cedar policies parse")
        });
        let elapsed = started.elapsed();
        eprintln!(
            "compile/{n}: cedar {elapsed:.2?}, retained {} bytes/policy, peak {} bytes/policy ({} policies)",
            retained / n,
            peak / n,
            set.policies().count(),
        );
    }
}

fn bench(c: &mut Criterion) {
    for n in [1_000, 10_000, 100_000] {
        memory_report(n, n <= 10_000);
    }

    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    for n in [1_000, 10_000, 100_000] {
        let text = common::tenure_policy(n);
        group.throughput(Throughput::Elements(n as u64));
        group.measurement_time(Duration::from_secs(if n >= 100_000 { 10 } else { 3 }));
        group.bench_with_input(BenchmarkId::new("tenure", n), &text, |b, text| {
            b.iter(|| tenure::Policy::compile(black_box(text)).expect("compiles"))
        });
        if n <= 10_000 {
            let text = common::cedar_policy(n);
            group.measurement_time(Duration::from_secs(if n >= 10_000 { 8 } else { 3 }));
            group.bench_with_input(BenchmarkId::new("cedar", n), &text, |b, text| {
                b.iter(|| cedar_policy::PolicySet::from_str(black_box(text)).expect("parses"))
            });
        }
    }
    group.finish();
    recompile(c);
}

/// Reloading after one rule changes (issue 12): 100 000 rules in 1 000 sources of 100,
/// one rule of source 500 edited back and forth, with `Policy::with_source` (incremental)
/// beside a full `Policy::compile_sources` of the same 1 000 sources.
fn recompile(c: &mut Criterion) {
    let n = 100_000;
    let per_file = 100;
    let lines: Vec<&str> = Box::leak(common::tenure_policy(n).into_boxed_str())
        .lines()
        .collect();
    let sources: Vec<(String, String)> = lines
        .chunks(per_file)
        .enumerate()
        .map(|(k, chunk)| (format!("policy-{k:04}.tenure"), chunk.join("\n")))
        .collect();
    let (name, original) = sources[500].clone();
    let edited = original.replacen("grants", "grants type = ssh and", 1);
    let policy = tenure::Policy::compile_sources(sources.clone()).expect("compiles");
    let mut group = c.benchmark_group("recompile");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(10));
    let mut flip = false;
    group.bench_function("tenure_with_source/100000_in_1000", |b| {
        b.iter(|| {
            flip = !flip;
            let text = if flip { &edited } else { &original };
            policy
                .with_source(black_box(&name), black_box(text))
                .expect("compiles")
        })
    });
    // One rule added: every later unnamed rule is renamed `rule-N`.
    let added = format!("{original}\n* denies type = rdp;");
    group.bench_function("tenure_with_source_renumbering/100000_in_1000", |b| {
        b.iter(|| {
            flip = !flip;
            let text = if flip { &added } else { &original };
            policy
                .with_source(black_box(&name), black_box(text))
                .expect("compiles")
        })
    });
    group.bench_function("tenure_full/100000_in_1000", |b| {
        b.iter(|| tenure::Policy::compile_sources(black_box(sources.clone())).expect("compiles"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
