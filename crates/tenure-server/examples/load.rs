//! A load generator for `tenure serve` (issue 9): a pool of users, then N clients that each
//! loop for a fixed time over a mix of SCIM requests shaped like Okta's, and the
//! throughput and latency percentiles per kind of request.
//!
//! ```text
//! cargo run --release -p tenure-server --example load -- BASE_URL TOKEN [SECONDS] [CLIENTS]
//! cargo run --release -p tenure-server --example load -- http://127.0.0.1:8089 "$(cat token)" 60 16
//! ```
//!
//! Defaults: 60 seconds, 16 clients. Environment: `LOAD_POOL` (users created before the
//! clock starts, default 1 000), `LOAD_MIX` (weights `create,patch,get`, default `1,3,6`).
//!
//! * **create**: `POST /scim/v2/Users`, Okta's documented create with a unique `userName`.
//! * **patch**: `PATCH /scim/v2/Users/{id}`, Okta's path-less `replace` on a random user of
//!   the pool: half of them deactivate or reactivate (`{"active": …}`, always the opposite
//!   of the user's state, so every PATCH is a lifecycle event and a durable commit), half
//!   change the `title` (always to another value).
//! * **get**: `GET /scim/v2/Users/{id}` of a random user of the pool.
//!
//! Each client owns the pool users whose index is its own modulo the number of clients
//! (so it knows their state); it uses one keep-alive connection. A request that fails
//! (transport error, or a status other than 2xx) counts as an error; its latency is not
//! recorded. Only loopback addresses are accepted: this is a measurement tool, not a
//! test, and it never runs in CI.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

const SCIM_JSON: &str = "application/scim+json";
const TITLES: [&str; 4] = [
    "Cloud Engineer",
    "Database Administrator",
    "Engineer",
    "Analyst",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Create,
    Patch,
    Get,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Create, Kind::Patch, Kind::Get];
    fn name(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Patch => "patch",
            Kind::Get => "get",
        }
    }
}

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A pool user as its owning client knows it.
struct PoolUser {
    id: String,
    active: bool,
    title: usize,
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    /// Latencies in microseconds, per kind.
    latencies: BTreeMap<Kind, Vec<u32>>,
    /// Failed requests per kind, and a few of the failures.
    errors: BTreeMap<Kind, u64>,
    samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, kind: Kind, what: String) {
        *self.errors.entry(kind).or_default() += 1;
        if self.samples.len() < 5 {
            self.samples.push(format!("{}: {what}", kind.name()));
        }
    }
}

struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Client {
    fn new(base: &str, token: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .max_idle_connections_per_host(1)
            .build()
            .new_agent();
        Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("Bearer {token}"),
        }
    }

    /// Sends one request; `Ok((status, body))` for any status, `Err` on a transport error.
    fn send(&self, method: &str, path: &str, body: Option<&Json>) -> Result<(u16, String), String> {
        let url = format!("{}{path}", self.base);
        let result = match (method, body) {
            ("GET", _) => self
                .agent
                .get(&url)
                .header("Authorization", &self.auth)
                .header("Accept", SCIM_JSON)
                .call(),
            ("POST", Some(body)) => self
                .agent
                .post(&url)
                .header("Authorization", &self.auth)
                .header("Accept", SCIM_JSON)
                .content_type(SCIM_JSON)
                .send(body.to_string()),
            ("PATCH", Some(body)) => self
                .agent
                .patch(&url)
                .header("Authorization", &self.auth)
                .header("Accept", SCIM_JSON)
                .content_type(SCIM_JSON)
                .send(body.to_string()),
            _ => unreachable!("{method} {path}"),
        };
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok((status, text))
    }

    /// Creates a user; her id.
    fn create(&self, user_name: &str, title: &str) -> Result<String, String> {
        let (status, text) =
            self.send("POST", "/scim/v2/Users", Some(&okta_user(user_name, title)))?;
        if status != 201 {
            return Err(format!(
                "POST /Users answered {status}: {}",
                first_line(&text)
            ));
        }
        let body: Json = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        body["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "POST /Users answered no id".to_string())
    }
}

/// Okta's documented create (`POST /Users`), with a title.
fn okta_user(user_name: &str, title: &str) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Load", "familyName": "Test"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Load Test",
        "locale": "en-US",
        "externalId": format!("00u{}", user_name.split('@').next().unwrap_or(user_name)),
        "groups": [],
        "password": "1mz050nq",
        "active": true,
        "title": title,
    })
}

/// Okta's path-less replace (`PATCH /Users/{id}`).
fn okta_replace(value: Json) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": value}],
    })
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// Refuses anything but a loopback `http://` address.
fn check_loopback(base: &str) -> Result<(), String> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{base}`: only http:// on loopback is accepted"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!(
            "`{host}` is not a loopback address: this tool only loads a local server"
        ))
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    f64::from(sorted[rank.min(sorted.len()) - 1]) / 1000.0
}

fn usage() -> ! {
    eprintln!("usage: load BASE_URL TOKEN [SECONDS (60)] [CLIENTS (16)]   (env: LOAD_POOL=1000, LOAD_MIX=create,patch,get weights, default 1,3,6)");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 4 || args.iter().any(|a| a == "-h" || a == "--help") {
        usage();
    }
    let base = args[0].trim_end_matches('/').to_string();
    let token = args[1].clone();
    let seconds: f64 = args
        .get(2)
        .map_or(Ok(60.0), |s| s.parse())
        .unwrap_or_else(|_| usage());
    let clients: usize = args
        .get(3)
        .map_or(Ok(16), |s| s.parse())
        .unwrap_or_else(|_| usage());
    let pool_size: usize = std::env::var("LOAD_POOL")
        .ok()
        .map_or(Ok(1000), |s| s.parse())
        .unwrap_or_else(|_| usage());
    let mix: Vec<u64> = std::env::var("LOAD_MIX")
        .unwrap_or_else(|_| "1,3,6".into())
        .split(',')
        .map(|w| w.trim().parse().unwrap_or_else(|_| usage()))
        .collect();
    if mix.len() != 3 || mix.iter().sum::<u64>() == 0 || clients == 0 || pool_size < clients {
        usage();
    }
    if let Err(e) = check_loopback(&base) {
        eprintln!("load: {e}");
        std::process::exit(2);
    }
    let run_id = jiff::Timestamp::now().as_millisecond();

    // The pool, created by all clients at once (not timed).
    let started = Instant::now();
    let pools: Vec<Vec<PoolUser>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (base, token) = (&base, &token);
                scope.spawn(move || {
                    let client = Client::new(base, token);
                    (c..pool_size)
                        .step_by(clients)
                        .map(|i| {
                            let title = i % TITLES.len();
                            let name = format!("pool{i}.{run_id}@load.local");
                            let id = client
                                .create(&name, TITLES[title])
                                .unwrap_or_else(|e| panic!("creating the pool: {e}"));
                            PoolUser {
                                id,
                                active: true,
                                title,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("pool client"))
            .collect()
    });
    eprintln!(
        "load: pool of {pool_size} users created in {:.1} s; {clients} clients for {seconds} s, mix create:patch:get = {}:{}:{}",
        started.elapsed().as_secs_f64(),
        mix[0],
        mix[1],
        mix[2]
    );

    // The run.
    let duration = Duration::from_secs_f64(seconds);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let created = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = pools
        .into_iter()
        .enumerate()
        .map(|(c, mut pool)| {
            let (base, token, barrier, created, mix) = (
                base.clone(),
                token.clone(),
                Arc::clone(&barrier),
                Arc::clone(&created),
                mix.clone(),
            );
            std::thread::spawn(move || {
                let client = Client::new(&base, &token);
                let mut rng = Rng(0x5EED ^ (c as u64).wrapping_mul(0x1000_0001));
                let mut tally = Tally::default();
                let total: u64 = mix.iter().sum();
                let everyone: Vec<String> = pool.iter().map(|u| u.id.clone()).collect();
                barrier.wait();
                let start = Instant::now();
                while start.elapsed() < duration {
                    let roll = rng.next() % total;
                    let kind = if roll < mix[0] {
                        Kind::Create
                    } else if roll < mix[0] + mix[1] {
                        Kind::Patch
                    } else {
                        Kind::Get
                    };
                    let t0 = Instant::now();
                    let outcome: Result<(), String> = match kind {
                        Kind::Create => {
                            let n = created.fetch_add(1, Ordering::Relaxed);
                            let name = format!("new{n}.{run_id}@load.local");
                            client
                                .create(&name, TITLES[rng.below(TITLES.len())])
                                .map(|_| ())
                        }
                        Kind::Patch => {
                            let i = rng.below(pool.len());
                            let user = &mut pool[i];
                            let value = if rng.next().is_multiple_of(2) {
                                json!({"active": !user.active})
                            } else {
                                let next =
                                    (user.title + 1 + rng.below(TITLES.len() - 1)) % TITLES.len();
                                json!({"title": TITLES[next]})
                            };
                            let path = format!("/scim/v2/Users/{}", user.id);
                            match client.send("PATCH", &path, Some(&okta_replace(value.clone()))) {
                                Ok((200 | 204, _)) => {
                                    if let Some(active) = value["active"].as_bool() {
                                        user.active = active;
                                    }
                                    if let Some(title) = value["title"].as_str() {
                                        user.title =
                                            TITLES.iter().position(|t| *t == title).unwrap_or(0);
                                    }
                                    Ok(())
                                }
                                Ok((status, text)) => {
                                    Err(format!("PATCH answered {status}: {}", first_line(&text)))
                                }
                                Err(e) => Err(e),
                            }
                        }
                        Kind::Get => {
                            let id = &everyone[rng.below(everyone.len())];
                            match client.send("GET", &format!("/scim/v2/Users/{id}"), None) {
                                Ok((200, _)) => Ok(()),
                                Ok((status, text)) => {
                                    Err(format!("GET answered {status}: {}", first_line(&text)))
                                }
                                Err(e) => Err(e),
                            }
                        }
                    };
                    let micros = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                    match outcome {
                        Ok(()) => tally.latencies.entry(kind).or_default().push(micros),
                        Err(e) => tally.error(kind, e),
                    }
                }
                (tally, start.elapsed())
            })
        })
        .collect();
    barrier.wait();
    let mut latencies: BTreeMap<Kind, Vec<u32>> = BTreeMap::new();
    let mut errors: BTreeMap<Kind, u64> = BTreeMap::new();
    let mut samples = Vec::new();
    let mut elapsed = Duration::ZERO;
    for handle in handles {
        let (tally, took) = handle.join().expect("client thread");
        elapsed = elapsed.max(took);
        for (kind, mut v) in tally.latencies {
            latencies.entry(kind).or_default().append(&mut v);
        }
        for (kind, n) in tally.errors {
            *errors.entry(kind).or_default() += n;
        }
        samples.extend(tally.samples);
    }
    let secs = elapsed.as_secs_f64();
    let ok_total: usize = latencies.values().map(Vec::len).sum();
    let error_total: u64 = errors.values().sum();
    println!(
        "{clients} clients, {secs:.1} s, pool {pool_size}: {ok_total} requests ok, {:.0} requests/s, {error_total} errors",
        ok_total as f64 / secs
    );
    println!(
        "{:<7} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "kind", "requests", "per s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for kind in Kind::ALL {
        let mut v = latencies.remove(&kind).unwrap_or_default();
        v.sort_unstable();
        println!(
            "{:<7} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            kind.name(),
            v.len(),
            v.len() as f64 / secs,
            percentile(&v, 50.0),
            percentile(&v, 99.0),
            v.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0),
            errors.get(&kind).copied().unwrap_or(0)
        );
    }
    for sample in &samples {
        println!("error: {sample}");
    }
    if error_total > 0 {
        std::process::exit(1);
    }
}
