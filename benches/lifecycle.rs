//! The lifecycle at scale (issue 8): 50 000 identities, 100 000 resources, 10 000 rules
//! of the shared workload shape (`benches/common`).
//!
//! * `lifecycle/entitlements` — every resource one identity reaches (through the index);
//! * `lifecycle/who_can` — every identity that reaches one resource;
//! * `lifecycle/move_with_diff` — one `Move` (a role change) applied to the directory with
//!   its exact access change;
//! * `lifecycle/impact_10_rules` — the pairs that gain and lose access when 10 rules change;
//! * `lifecycle_naive/…` — the indexed query against the all-resources loop of
//!   `authorize`, side by side, on a size the loop finishes (1 000 rules, 20 000
//!   resources);
//! * `lifecycle_store/…` — durable events per second on SQLite (WAL, synchronous=FULL):
//!   one transaction per event, and group commit of 64 events per transaction. The
//!   machine's fsync latency is printed beside it.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tenure::lifecycle::{impact, Change, Directory, Event, Inventory};
use tenure::{Identity, Policy, Resource};
use tenure_directory::Lifecycle;

mod common;

use common::{roles, SplitMix64, TYPES};

const RULES: usize = 10_000;
const IDENTITIES: usize = 50_000;
const RESOURCES: usize = 100_000;

fn identity(n: usize, rules: usize, rng: &mut SplitMix64) -> Identity {
    Identity::new()
        .with("id", format!("u{n}"))
        .with("role", format!("role_{}", rng.below(roles(rules))))
        .with("department", format!("dept_{}", rng.below(16)))
        .with(
            "status",
            if rng.below(100) < 2 {
                "suspended"
            } else {
                "active"
            },
        )
}

fn resource(n: usize, rng: &mut SplitMix64) -> Resource {
    Resource::new()
        .with("id", format!("r{n}"))
        .with("type", TYPES[rng.below(8)])
        .with_tag("env", format!("env_{}", rng.below(8)))
        .with_tag("team", format!("team_{}", rng.below(8)))
        .with_tag("region", format!("region_{}", rng.below(4)))
}

fn directory(n: usize, rules: usize) -> Directory {
    let mut rng = SplitMix64::new(0xD1EC_7000);
    let mut d = Directory::new();
    for i in 0..n {
        d.insert(identity(i, rules, &mut rng))
            .expect("distinct ids");
    }
    d
}

fn inventory(n: usize) -> Inventory {
    let mut rng = SplitMix64::new(0x1E7E_7000);
    let mut inv = Inventory::new();
    for i in 0..n {
        inv.insert(resource(i, &mut rng)).expect("distinct ids");
    }
    inv
}

/// The workload policy with rules `0..10` changed (another environment each).
fn changed_policy(n: usize) -> Policy {
    let text = common::tenure_policy(n);
    let changed: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i < 10 {
                format!(
                    "{}\n",
                    line.replace("tag:env = env_", "tag:env = other_env_")
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    Policy::compile(&changed).expect("the workload compiles")
}

fn bench_queries(c: &mut Criterion) {
    let policy = common::tenure_compile(RULES);
    let directory = directory(IDENTITIES, RULES);
    let inventory = inventory(RESOURCES);
    let ids: Vec<String> = directory.iter().map(|(id, _)| id.to_string()).collect();
    let rids: Vec<String> = inventory.iter().map(|(id, _)| id.to_string()).collect();
    // Warm the reverse index (built on first use, kept with the policy).
    black_box(policy.entitlements(directory.get(&ids[0]).expect("on record"), &inventory));

    let mut group = c.benchmark_group("lifecycle");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    let mut k = 0usize;
    group.bench_function("entitlements", |b| {
        b.iter(|| {
            k = (k + 7919) % ids.len();
            let i = directory.get(&ids[k]).expect("on record");
            black_box(policy.entitlements(i, &inventory).len())
        })
    });
    let mut k = 0usize;
    group.bench_function("who_can", |b| {
        b.iter(|| {
            k = (k + 7919) % rids.len();
            let r = inventory.get(&rids[k]).expect("on record");
            black_box(policy.who_can(r, &directory).len())
        })
    });
    // One move of each kind, with the size of its access change (printed once).
    for (attribute, values) in [("role", roles(RULES)), ("department", 16)] {
        let mut dir = directory.clone();
        let mut k = 0usize;
        let mut rng = SplitMix64::new(42);
        let event = |k: usize, rng: &mut SplitMix64| Event::Move {
            id: ids[k].clone(),
            changes: vec![Change::Set {
                attribute: attribute.into(),
                value: format!(
                    "{}_{}",
                    if attribute == "role" { "role" } else { "dept" },
                    rng.below(values)
                )
                .into(),
            }],
        };
        let mut changed = 0usize;
        for n in 0..100 {
            let applied = dir
                .apply(&event(n * 7919 % ids.len(), &mut rng))
                .expect("on record");
            let change = policy.identity_access_change(&applied, &inventory);
            changed += change.gained.len() + change.lost.len();
        }
        eprintln!(
            "move of {attribute}: {} pairs gained or lost on average",
            changed / 100
        );
        group.bench_function(format!("move_{attribute}_with_diff"), |b| {
            b.iter(|| {
                k = (k + 7919) % ids.len();
                let applied = dir.apply(&event(k, &mut rng)).expect("on record");
                black_box(policy.identity_access_change(&applied, &inventory))
            })
        });
    }
    let reach: usize = ids
        .iter()
        .take(100)
        .map(|id| {
            policy
                .entitlements(directory.get(id).expect("on record"), &inventory)
                .len()
        })
        .sum();
    eprintln!(
        "entitlements: {} resources per identity on average",
        reach / 100
    );
    let new = changed_policy(RULES);
    group.sample_size(10);
    let change = impact(&policy, &new, &directory, &inventory);
    eprintln!(
        "impact of 10 rules: {} gained, {} lost",
        change.gained.len(),
        change.lost.len()
    );
    group.bench_function("impact_10_rules", |b| {
        b.iter(|| black_box(impact(&policy, &new, &directory, &inventory)))
    });
    group.finish();
}

fn bench_naive(c: &mut Criterion) {
    let rules = 1_000;
    let policy = common::tenure_compile(rules);
    let directory = directory(2_000, rules);
    let inventory = inventory(20_000);
    let ids: Vec<String> = directory.iter().map(|(id, _)| id.to_string()).collect();
    black_box(policy.entitlements(directory.get(&ids[0]).expect("on record"), &inventory));
    let mut group = c.benchmark_group("lifecycle_naive");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    let mut k = 0usize;
    group.bench_function("entitlements_indexed", |b| {
        b.iter(|| {
            k = (k + 7919) % ids.len();
            let i = directory.get(&ids[k]).expect("on record");
            black_box(policy.entitlements(i, &inventory).len())
        })
    });
    let mut k = 0usize;
    group.bench_function("entitlements_all_pairs_loop", |b| {
        b.iter(|| {
            k = (k + 7919) % ids.len();
            let i = directory.get(&ids[k]).expect("on record");
            black_box(
                inventory
                    .iter()
                    .filter(|(_, r)| policy.authorize(i, r).is_allowed())
                    .count(),
            )
        })
    });
    group.finish();
}

/// The latency of one `write` + `fsync` of a small file in `dir`, median of 50.
fn fsync_latency(dir: &std::path::Path) -> Duration {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("temp file");
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            file.write_all(b"x").expect("write");
            file.sync_all().expect("fsync");
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn bench_store(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    eprintln!(
        "fsync latency (median of 50, {}): {:?}",
        dir.path().display(),
        fsync_latency(dir.path())
    );
    let address = format!("sqlite:{}", dir.path().join("bench.db").display());
    let mut lifecycle = Lifecycle::open(&address).expect("store opens");
    let policy = common::tenure_compile(1_000);
    lifecycle
        .set_policy(policy, "bench")
        .expect("policy registers");
    let mut rng = SplitMix64::new(7);
    let resources: Vec<Event> = (0..2_000)
        .map(|n| Event::AddResource {
            resource: resource(n, &mut rng),
        })
        .collect();
    lifecycle.apply_batch(resources, "cli").expect("inventory");
    let mut next = 0usize;
    let mut join = move |rng: &mut SplitMix64| {
        next += 1;
        Event::Join {
            identity: identity(next, 1_000, rng),
        }
    };

    let mut group = c.benchmark_group("lifecycle_store");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    group.bench_function("durable_event", |b| {
        b.iter_batched(
            || join(&mut rng),
            |event| black_box(lifecycle.apply(event, "api").expect("applies").seq),
            BatchSize::SmallInput,
        )
    });
    const BATCH: usize = 64;
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("durable_group_commit_64", |b| {
        b.iter_batched(
            || (0..BATCH).map(|_| join(&mut rng)).collect::<Vec<_>>(),
            |events| black_box(lifecycle.apply_batch(events, "api").expect("applies").len()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_queries, bench_naive, bench_store);
criterion_main!(benches);
