//! The latency of one dependent memory read on this machine, by working-set size: a
//! pointer chase over one random cycle through a buffer of each size (no two reads can
//! overlap, so the time per step is the latency, TLB misses included). It gives the floor
//! under a cold decision over a large policy, which must read at least the index's slot
//! for the request's value and then the candidate's program, one after the other:
//! `cargo run --release --example memory_latency -- 1 16 64 512` (sizes in MiB).

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1, 16, 64, 512]
    } else {
        sizes
    };
    for mib in sizes {
        let n = (mib * 1024 * 1024 / std::mem::size_of::<usize>()).max(2);
        // Sattolo's algorithm: a single random cycle through every slot.
        let mut next: Vec<usize> = (0..n).collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = (state % i as u64) as usize;
            next.swap(i, j);
        }
        let steps = 5_000_000;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut at = 0;
            let started = Instant::now();
            for _ in 0..steps {
                at = next[at];
            }
            black_box(at);
            best = best.min(started.elapsed().as_nanos() as f64 / steps as f64);
        }
        println!("{mib} MiB: {best:.1} ns per dependent read (best of 3)");
    }
}
