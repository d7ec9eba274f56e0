//! Times `Policy::compile` on the benchmark workload (`benches/common`), for profiling:
//! `cargo run --release --example compile_profile -- 100000 [FILES]`. With `FILES`, the
//! same rules are compiled as that many sources (`Policy::compile_sources`), as the
//! `recompile/tenure_full` bench does with 1 000.

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let files: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let text = common::tenure_policy(n);
    let lines: Vec<&str> = text.lines().collect();
    let sources: Vec<(String, String)> = lines
        .chunks(n.div_ceil(files).max(1))
        .enumerate()
        .map(|(k, chunk)| (format!("policy-{k:04}.tenure"), chunk.join("\n")))
        .collect();
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = std::time::Instant::now();
        let policy = if files == 1 {
            tenure::Policy::compile(&text)
        } else {
            tenure::Policy::compile_sources(sources.iter().map(|(n, t)| (n, t)))
        }
        .expect("the workload compiles");
        let compiled = started.elapsed();
        drop(policy);
        times.push((compiled, started.elapsed() - compiled));
    }
    let best = times.iter().map(|t| t.0).min().unwrap_or_default();
    let all: Vec<String> = times
        .iter()
        .map(|(c, d)| format!("{:.0}+{:.0}", c.as_secs_f64() * 1e3, d.as_secs_f64() * 1e3))
        .collect();
    println!(
        "compile {n} rules in {files} source(s): best of 7 {best:?} (each compile+drop, ms: {})",
        all.join(" ")
    );
}
