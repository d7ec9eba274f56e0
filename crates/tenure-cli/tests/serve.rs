#![cfg(feature = "server")]
//! Process-level tests of `tenure serve`: the binary is started on a free port of
//! 127.0.0.1, spoken to with a real HTTP client (ureq), signalled (SIGTERM, SIGHUP,
//! SIGKILL) and restarted on the same store.
//!
//! Every wait is bounded (a number of tries); no assertion depends on timing. Fixtures are
//! in `tests/data/serve/` (see its README). The replica test runs on a throwaway
//! PostgreSQL cluster (`tenure-directory`'s harness): without PostgreSQL it prints
//! `skipped: …` and passes, except under `CI=true`, where it fails.

#[path = "../../tenure-directory/tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};

const BIN: &str = env!("CARGO_BIN_EXE_tenure");

/// The SCIM token (an identity provider's).
const SCIM_TOKEN: &str = "scim-t0ken-never-logged";
/// A token with the `read` scope (the journal feed).
const READ_TOKEN: &str = "read-t0ken-never-logged";
/// A token with the `admin` scope.
const ADMIN_TOKEN: &str = "admin-t0ken-never-logged";

/// How many times a wait polls before it gives up, and how long between polls.
const TRIES: u32 = 400;
const POLL: Duration = Duration::from_millis(25);

/// The fixture directory, `tests/data/serve/`.
fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/serve")
        .join(name)
}

fn read_json(name: &str) -> Json {
    let text = std::fs::read_to_string(data(name)).expect("read a fixture");
    serde_json::from_str(&text).expect("a fixture is JSON")
}

/// The token file every test starts with.
fn write_tokens(dir: &Path) -> PathBuf {
    let path = dir.join("tokens");
    std::fs::write(
        &path,
        format!("# test tokens\n{SCIM_TOKEN}\n{READ_TOKEN} read\n{ADMIN_TOKEN} admin,read\n"),
    )
    .expect("write the token file");
    path
}

/// An Okta create-user body for `user_name`, with a password of its own.
fn okta_user(user_name: &str) -> Json {
    let mut body = read_json("okta-create-user.json");
    body["userName"] = json!(user_name);
    body["emails"][0]["value"] = json!(user_name);
    body["externalId"] = json!(format!("00u-{user_name}"));
    body["password"] = json!(format!("pw-{user_name}-secret"));
    body
}

/// A port nobody listens on right now (a server started on it may still lose a race for
/// it: [`Server::start`] retries).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// The command line of one server.
#[derive(Clone)]
struct Setup {
    policy: PathBuf,
    store: String,
    token_file: PathBuf,
    inventory: Option<PathBuf>,
    /// Where standard error goes (one JSON line per request).
    log: PathBuf,
}

impl Setup {
    /// A server on a new SQLite store in `dir`, with the fixture policy and inventory.
    fn sqlite(dir: &Path) -> Setup {
        Setup {
            policy: data("policy.tenure"),
            store: format!("sqlite:{}", dir.join("tenure.db").display()),
            token_file: write_tokens(dir),
            inventory: Some(data("inventory.jsonl")),
            log: dir.join("serve.log"),
        }
    }

    fn with_log(&self, log: PathBuf) -> Setup {
        Setup {
            log,
            ..self.clone()
        }
    }

    fn command(&self, listen: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--policy")
            .arg(&self.policy)
            .args(["--store", &self.store, "--listen", listen])
            .arg("--token-file")
            .arg(&self.token_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(inventory) = &self.inventory {
            command.arg("--inventory").arg(inventory);
        }
        command
    }
}

/// A running `tenure serve`, killed on drop.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts the server and waits until `/healthz` answers 200.
    ///
    /// # Panics
    /// The server exits or does not answer in time (its log is in the message).
    fn start(setup: &Setup) -> Server {
        for _ in 0..3 {
            let listen = format!("127.0.0.1:{}", free_port());
            let log = File::create(&setup.log).expect("create the log file");
            let child = setup
                .command(&listen)
                .stderr(log)
                .spawn()
                .expect("spawn tenure serve");
            let mut server = Server {
                child,
                base: format!("http://{listen}"),
                log: setup.log.clone(),
            };
            let agent = agent();
            for _ in 0..TRIES {
                if let Some(status) = server.child.try_wait().expect("poll the server") {
                    let log = server.log();
                    if log.contains("in use") {
                        break; // lost the port to someone else: try another
                    }
                    panic!("tenure serve exited with {status} at start:\n{log}");
                }
                if let Ok(response) = agent.get(server.url("/healthz")).call() {
                    if response.status() == 200 {
                        return server;
                    }
                }
                std::thread::sleep(POLL);
            }
            if server.child.try_wait().expect("poll the server").is_none() {
                panic!("tenure serve did not answer /healthz:\n{}", server.log());
            }
        }
        panic!("no free port for tenure serve");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends `signal` (`TERM`, `HUP`) with kill(1).
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self, tries: u32) -> Option<ExitStatus> {
        for _ in 0..tries {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return Some(status);
            }
            std::thread::sleep(POLL);
        }
        None
    }

    /// `GET /healthz`.
    fn health(&self) -> Json {
        let (status, body) = get(&agent(), &self.url("/healthz"), None).expect("GET /healthz");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("healthz is JSON")
    }

    /// The whole journal through `GET /v1/journal`, one record per line.
    fn journal(&self) -> Vec<Json> {
        let (status, body) =
            get(&agent(), &self.url("/v1/journal"), Some(READ_TOKEN)).expect("GET /v1/journal");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that returns every status as a response (not as an error), with a bound on
/// each request.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// What a request answered: status, `ETag`, body.
type Answer = (u16, Option<String>, String);

fn get(agent: &ureq::Agent, url: &str, token: Option<&str>) -> Result<(u16, String), ureq::Error> {
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call()?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}

/// Sends `body` with `method` (POST, PATCH, PUT) and the SCIM token.
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: &Json,
    if_match: Option<&str>,
) -> Result<Answer, ureq::Error> {
    let mut request = match method {
        "POST" => agent.post(url),
        "PATCH" => agent.patch(url),
        "PUT" => agent.put(url),
        other => panic!("no body with {other}"),
    }
    .header("Authorization", format!("Bearer {SCIM_TOKEN}"))
    .header("Content-Type", "application/scim+json");
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    let mut response = request.send_json(body)?;
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((status, etag, response.body_mut().read_to_string()?))
}

/// POSTs a new Okta user; `Ok(Some(id))` on 201, `Ok(None)` on any other status.
fn create_user(
    agent: &ureq::Agent,
    server: &str,
    user_name: &str,
) -> Result<Option<String>, ureq::Error> {
    let (status, _, body) = send(
        agent,
        "POST",
        &format!("{server}/scim/v2/Users"),
        &okta_user(user_name),
        None,
    )?;
    if status != 201 {
        return Ok(None);
    }
    let body: Json = serde_json::from_str(&body).expect("a 201 body is JSON");
    Ok(Some(
        body["id"].as_str().expect("a user has an id").to_string(),
    ))
}

/// Asserts that the journal is numbered 1, 2, 3, … without a gap.
#[track_caller]
fn assert_gap_free(journal: &[Json]) {
    let seqs: Vec<u64> = journal.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (1..=journal.len() as u64).collect();
    assert_eq!(seqs, expected, "journal sequence numbers");
}

/// The identities of the journal's records of `event` (with `source`, when given).
fn identities_of(journal: &[Json], event: &str, source: Option<&str>) -> Vec<String> {
    journal
        .iter()
        .filter(|r| r["event"] == event && source.is_none_or(|s| r["source"] == s))
        .map(|r| r["identity"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The request lines of a server log (those with a `method`), every line checked to be
/// JSON.
fn request_lines(log: &str) -> Vec<Json> {
    log.lines()
        .map(|line| {
            serde_json::from_str::<Json>(line)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
        })
        .filter(|line| line.get("method").is_some())
        .collect()
}

// --- 1. Start-up errors ---------------------------------------------------------------

/// Runs `tenure serve` to its exit (a start-up error is expected), on a free port.
fn serve_fails(setup: &Setup) -> (i32, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let log = File::create(&setup.log).expect("create the log file");
    let mut server = Server {
        child: setup.command(&listen).stderr(log).spawn().expect("spawn"),
        base: format!("http://{listen}"),
        log: setup.log.clone(),
    };
    let status = server
        .wait_exit(TRIES)
        .unwrap_or_else(|| panic!("tenure serve kept running:\n{}", server.log()));
    (status.code().expect("exited normally"), server.log())
}

#[test]
fn start_up_errors_exit_with_the_documented_status_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let good = Setup::sqlite(dir.path());

    let missing = Setup {
        token_file: dir.path().join("no-such-tokens"),
        ..good.clone()
    };
    let (code, log) = serve_fails(&missing);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("cannot read the token file"), "{log}");
    assert!(log.contains("no-such-tokens"), "{log}");

    let empty = dir.path().join("empty-tokens");
    std::fs::write(&empty, "# nothing but a comment\n\n").unwrap();
    let (code, log) = serve_fails(&Setup {
        token_file: empty,
        ..good.clone()
    });
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("holds no token"), "{log}");

    let scoped = dir.path().join("scoped-tokens");
    std::fs::write(
        &scoped,
        format!("{SCIM_TOKEN}\n{READ_TOKEN} read, reed\n{ADMIN_TOKEN} admin\n"),
    )
    .unwrap();
    let (code, log) = serve_fails(&Setup {
        token_file: scoped,
        ..good.clone()
    });
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("line 2: word 2 after the token is not a scope"),
        "{log}"
    );
    assert!(
        !log.contains("reed"),
        "the word is not printed: it may be a token: {log}"
    );
    for token in [SCIM_TOKEN, READ_TOKEN, ADMIN_TOKEN, "t0ken"] {
        assert!(!log.contains(token), "a token in the message: {log}");
    }

    let (code, log) = serve_fails(&Setup {
        policy: data("broken.tenure"),
        ..good.clone()
    });
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("the policy does not load"), "{log}");
    assert!(
        log.contains("broken.tenure:4:"),
        "the diagnostic's location: {log}"
    );
    assert!(log.contains("unexpected `>`"), "the diagnostic: {log}");

    let (code, log) = serve_fails(&Setup {
        policy: dir.path().join("no-such.tenure"),
        ..good.clone()
    });
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("no-such.tenure"), "{log}");

    for store in [
        "mysql://nowhere".to_string(),
        format!("sqlite:{}", dir.path().join("no/such/dir/t.db").display()),
    ] {
        let (code, log) = serve_fails(&Setup {
            store: store.clone(),
            ..good.clone()
        });
        assert_eq!(code, 2, "--store {store}: {log}");
        assert!(log.starts_with("error: "), "{log}");
    }

    // The address is taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let output = good
        .command(&listen)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // None of these left a store behind it could not open; the good setup starts.
    let server = Server::start(&good);
    assert_eq!(server.health()["status"], "ok");
}

// --- 2. The request log ---------------------------------------------------------------

#[test]
fn every_request_is_one_json_log_line_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::sqlite(dir.path());
    let server = Server::start(&setup);
    let agent = agent();

    let user_name = "logged.user@okta.local";
    let body = okta_user(user_name);
    let password = body["password"].as_str().unwrap().to_string();
    let (status, _, created) =
        send(&agent, "POST", &server.url("/scim/v2/Users"), &body, None).unwrap();
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Json>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let filter = "/scim/v2/Users?filter=userName%20eq%20%22logged.user%40okta.local%22&startIndex=1&count=100";
    let (status, found) = get(&agent, &server.url(filter), Some(SCIM_TOKEN)).unwrap();
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        serde_json::from_str::<Json>(&found).unwrap()["totalResults"],
        1
    );

    let (status, _, patched) = send(
        &agent,
        "PATCH",
        &server.url(&format!("/scim/v2/Users/{id}")),
        &read_json("okta-patch-deactivate.json"),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{patched}");

    let (status, _) = get(&agent, &server.url(filter), None).unwrap();
    assert_eq!(status, 401);
    let (status, _) = get(&agent, &server.url(filter), Some("a-guessed-token")).unwrap();
    assert_eq!(status, 401);
    let (status, _) = get(&agent, &server.url("/v1/journal"), Some(SCIM_TOKEN)).unwrap();
    assert_eq!(status, 403);
    let journal = server.journal();
    assert_eq!(identities_of(&journal, "join", Some("scim")), [id.as_str()]);
    assert_eq!(
        identities_of(&journal, "leave", Some("scim")),
        [id.as_str()]
    );

    let log = server.log();
    let lines = request_lines(&log);
    for line in &lines {
        assert!(line["method"].is_string(), "{line}");
        assert!(line["path"].is_string(), "{line}");
        assert!(line["status"].is_u64(), "{line}");
        assert!(line["duration_ms"].is_number(), "{line}");
        assert!(line["at"].is_string(), "{line}");
    }
    let find = |method: &str, path: &str, status: u64| -> Vec<&Json> {
        lines
            .iter()
            .filter(|l| l["method"] == method && l["path"] == path && l["status"] == status)
            .collect()
    };
    let post = find("POST", "/scim/v2/Users", 201);
    assert_eq!(post.len(), 1, "{log}");
    assert_eq!(post[0]["event"], "join", "{log}");
    assert_eq!(post[0]["gained"], 1, "bastion-1: {log}");
    assert_eq!(post[0]["lost"], 0, "{log}");
    let patch = find("PATCH", &format!("/scim/v2/Users/{id}"), 200);
    assert_eq!(patch.len(), 1, "{log}");
    assert_eq!(patch[0]["event"], "leave", "{log}");
    assert_eq!(patch[0]["lost"], 1, "bastion-1: {log}");
    let reads = find("GET", "/scim/v2/Users", 200);
    assert_eq!(reads.len(), 1, "{log}");
    assert!(reads[0]["event"].is_null(), "a read has no event: {log}");
    assert_eq!(find("GET", "/scim/v2/Users", 401).len(), 2, "{log}");
    assert_eq!(find("GET", "/v1/journal", 403).len(), 1, "{log}");
    assert_eq!(find("GET", "/v1/journal", 200).len(), 1, "{log}");
    assert!(!find("GET", "/healthz", 200).is_empty(), "{log}");

    for secret in [
        SCIM_TOKEN,
        READ_TOKEN,
        "a-guessed-token",
        &password,
        user_name,
        "logged.user%40okta.local",
        "logged.user",
        "filter",
    ] {
        assert!(!log.contains(secret), "`{secret}` in the log:\n{log}");
    }
}

// --- 3. SIGKILL in the middle of a write stream --------------------------------------

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::sqlite(dir.path());
    let mut server = Server::start(&setup);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writer = {
        let acked = Arc::clone(&acked);
        let base = server.base.clone();
        std::thread::spawn(move || {
            let agent = agent();
            for n in 0..5_000 {
                match create_user(&agent, &base, &format!("killed.{n}@okta.local")) {
                    Ok(Some(id)) => acked.lock().unwrap().push(id),
                    Ok(None) => panic!("a create was refused before the kill"),
                    Err(_) => return n, // the server is gone
                }
            }
            panic!("the server was never killed");
        })
    };
    let mut waited = 0;
    while acked.lock().unwrap().len() < 100 {
        assert!(waited < 2_400, "fewer than 100 users created in a minute");
        assert!(!writer.is_finished(), "the writer stopped early");
        std::thread::sleep(POLL);
        waited += 1;
    }
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().unwrap();
    let sent = writer.join().expect("the writer thread");
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100);
    assert!(sent >= acked.len());

    let server = Server::start(&setup.with_log(dir.path().join("after.log")));
    let agent = agent();
    for id in &acked {
        let (status, body) = get(
            &agent,
            &server.url(&format!("/scim/v2/Users/{id}")),
            Some(SCIM_TOKEN),
        )
        .unwrap();
        assert_eq!(status, 200, "acknowledged user {id} lost: {body}");
    }
    let journal = server.journal();
    assert_gap_free(&journal);
    let joins: HashSet<String> = identities_of(&journal, "join", Some("scim"))
        .into_iter()
        .collect();
    for id in &acked {
        assert!(joins.contains(id), "no join for acknowledged user {id}");
    }
    // At most the request in flight at the kill was applied without its answer.
    assert!(joins.len() <= acked.len() + 1, "{} joins", joins.len());

    let id = create_user(&agent, &server.base, "after.kill@okta.local")
        .unwrap()
        .expect("the store takes new writes");
    let after = server.journal();
    assert_gap_free(&after);
    let last = after.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["identity"].as_str()),
        (Some("join"), Some(id.as_str()))
    );
}

// --- 4. Graceful shutdown ---------------------------------------------------------------

#[test]
fn sigterm_finishes_the_requests_in_flight_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::sqlite(dir.path());
    let mut server = Server::start(&setup);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let acked = Arc::clone(&acked);
            let refused = Arc::clone(&refused);
            let base = server.base.clone();
            std::thread::spawn(move || {
                let agent = agent();
                for n in 0..5_000 {
                    match create_user(&agent, &base, &format!("term.{t}.{n}@okta.local")) {
                        Ok(Some(id)) => acked.lock().unwrap().push(id),
                        Ok(None) => {
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => return, // the server stopped accepting
                    }
                }
                panic!("the server never stopped");
            })
        })
        .collect();
    let mut waited = 0;
    while acked.lock().unwrap().len() < 40 {
        assert!(waited < 2_400, "fewer than 40 users created in a minute");
        std::thread::sleep(POLL);
        waited += 1;
    }
    // Connections that never finish a request (one silent, one half a request) do not
    // hold up the exit: they are not requests in flight.
    let address = server.base.trim_start_matches("http://").to_string();
    let silent = std::net::TcpStream::connect(&address).unwrap();
    let mut half = std::net::TcpStream::connect(&address).unwrap();
    half.write_all(b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    server.signal("TERM");
    let status = server
        .wait_exit(1_200)
        .unwrap_or_else(|| panic!("tenure serve did not exit after SIGTERM:\n{}", server.log()));
    for writer in writers {
        writer.join().expect("a writer thread");
    }
    drop((silent, half));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.contains(r#""event":"stopped""#)),
        "{log}"
    );
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();

    let server = Server::start(&setup.with_log(dir.path().join("after.log")));
    let journal = server.journal();
    assert_gap_free(&journal);
    let joins: BTreeSet<String> = identities_of(&journal, "join", Some("scim"))
        .into_iter()
        .collect();
    // Every 201 was applied, and every applied request was answered 201: nothing was cut
    // off after it was applied (refused requests, if any, applied nothing).
    assert_eq!(
        joins.len(),
        acked.len(),
        "joins vs 201s ({} refused)",
        refused.load(Ordering::SeqCst)
    );
    assert_eq!(joins, acked);
}

// --- 5. SIGHUP reload -----------------------------------------------------------------------

#[test]
fn sighup_reloads_the_policy_and_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.tenure");
    std::fs::copy(data("policy.tenure"), &policy).unwrap();
    let setup = Setup {
        policy: policy.clone(),
        ..Setup::sqlite(dir.path())
    };
    let server = Server::start(&setup);
    let agent = agent();
    let before = server.health()["policy_version"].as_u64().unwrap();

    // A new policy: a new version once reloaded.
    std::fs::copy(data("policy_v2.tenure"), &policy).unwrap();
    server.signal("HUP");
    let mut version = before;
    for _ in 0..TRIES {
        version = server.health()["policy_version"].as_u64().unwrap();
        if version != before {
            break;
        }
        std::thread::sleep(POLL);
    }
    assert_eq!(version, before + 1, "{}", server.log());
    let journal = server.journal();
    let last = journal.last().unwrap();
    assert_eq!(last["event"], "policy");
    assert_eq!(last["policy"]["version"], before + 1);

    // A policy that does not compile keeps the one in force.
    std::fs::copy(data("broken.tenure"), &policy).unwrap();
    server.signal("HUP");
    let mut failed = false;
    for _ in 0..TRIES {
        if server.log().contains("policy_reload_failed") {
            failed = true;
            break;
        }
        std::thread::sleep(POLL);
    }
    assert!(failed, "{}", server.log());
    assert_eq!(server.health()["policy_version"], before + 1);

    // A new token: refused before the reload, accepted after it.
    let late = "late-t0ken-added";
    let journal_url = server.url("/v1/journal");
    assert_eq!(get(&agent, &journal_url, Some(late)).unwrap().0, 401);
    let tokens = std::fs::read_to_string(&setup.token_file).unwrap();
    std::fs::write(&setup.token_file, format!("{tokens}{late} read\n")).unwrap();
    server.signal("HUP");
    let mut status = 401;
    for _ in 0..TRIES {
        status = get(&agent, &journal_url, Some(late)).unwrap().0;
        if status != 401 {
            break;
        }
        std::thread::sleep(POLL);
    }
    assert_eq!(status, 200, "{}", server.log());
    assert_eq!(get(&agent, &journal_url, Some(READ_TOKEN)).unwrap().0, 200);
    assert!(!server.log().contains(late));
}

// --- 6. Two replicas on one PostgreSQL -----------------------------------------------------

#[test]
fn two_replicas_on_one_postgres_agree() {
    let Some(cluster) = postgres::start() else {
        return;
    };
    let url = cluster.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        store: url.clone(),
        ..Setup::sqlite(dir.path())
    };
    let a = Server::start(&setup.with_log(dir.path().join("a.log")));
    let b = Server::start(&setup.with_log(dir.path().join("b.log")));
    let agent = agent();

    // A write through A is visible through B once acknowledged: by id, by filter.
    let mut ids = Vec::new();
    for n in 0..5 {
        let user_name = format!("replica.{n}@okta.local");
        let id = create_user(&agent, &a.base, &user_name)
            .unwrap()
            .expect("201");
        let (status, body) = get(
            &agent,
            &b.url(&format!("/scim/v2/Users/{id}")),
            Some(SCIM_TOKEN),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        let filter =
            format!("/scim/v2/Users?filter=userName%20eq%20%22replica.{n}%40okta.local%22");
        let (status, body) = get(&agent, &b.url(&filter), Some(SCIM_TOKEN)).unwrap();
        assert_eq!(status, 200, "{body}");
        let list: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(list["totalResults"], 1, "{body}");
        assert_eq!(list["Resources"][0]["id"], id.as_str(), "{body}");
        ids.push(id);
    }

    // Conflicting PATCHes with the same If-Match, one to each replica at once.
    let target = &ids[0];
    let user_url = format!("/scim/v2/Users/{target}");
    let (status, body) = get(&agent, &a.url(&user_url), Some(SCIM_TOKEN)).unwrap();
    assert_eq!(status, 200);
    let mut version = serde_json::from_str::<Json>(&body).unwrap()["meta"]["version"]
        .as_str()
        .expect("meta.version")
        .to_string();
    for round in 0..6 {
        let barrier = Arc::new(Barrier::new(2));
        let answers: Vec<(String, Answer)> = [("A", a.url(&user_url)), ("B", b.url(&user_url))]
            .into_iter()
            .map(|(name, url)| {
                let barrier = Arc::clone(&barrier);
                let version = version.clone();
                let patch = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "displayName", "value": format!("{name} {round}")}]
                });
                std::thread::spawn(move || {
                    let agent = self::agent();
                    barrier.wait();
                    (name.to_string(), send(&agent, "PATCH", &url, &patch, Some(&version)).unwrap())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let mut statuses: Vec<u16> = answers.iter().map(|(_, (s, _, _))| *s).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {answers:?}");
        let (winner, (_, etag, _)) = answers.iter().find(|(_, (s, _, _))| *s == 200).unwrap();
        for server in [&a, &b] {
            let (status, body) = get(&agent, &server.url(&user_url), Some(SCIM_TOKEN)).unwrap();
            assert_eq!(status, 200);
            let user: Json = serde_json::from_str(&body).unwrap();
            assert_eq!(
                user["displayName"],
                format!("{winner} {round}"),
                "round {round}"
            );
            assert_eq!(
                Some(user["meta"]["version"].as_str().unwrap()),
                etag.as_deref()
            );
        }
        version = etag.clone().expect("a 200 PATCH has an ETag");
    }

    // A scheduled leave (and a resource, whose second application would be refused and
    // logged as dropped) applied exactly once although both replicas run schedulers.
    let leaver = ids[1].clone();
    {
        let mut lifecycle = tenure_directory::Lifecycle::open(&url).expect("open the store");
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1);
        lifecycle
            .schedule(
                at,
                tenure::lifecycle::Event::Leave { id: leaver.clone() },
                "cli",
            )
            .unwrap();
        let resource = tenure::Resource::new()
            .with("id", "bastion-2")
            .with("name", "bastion-2");
        lifecycle
            .schedule(
                at,
                tenure::lifecycle::Event::AddResource { resource },
                "cli",
            )
            .unwrap();
    }
    let scheduled = |journal: &[Json]| journal.iter().filter(|r| r["source"] == "schedule").count();
    let mut seen = 0;
    for _ in 0..TRIES {
        seen = scheduled(&a.journal());
        if seen >= 2 {
            break;
        }
        std::thread::sleep(POLL);
    }
    assert_eq!(seen, 2, "{}", a.log());
    // Give both schedulers a few more rounds to apply it again (they must not).
    let applied_everywhere = || {
        let mut logs = a.log();
        logs.push_str(&b.log());
        logs
    };
    std::thread::sleep(Duration::from_millis(2_500));
    let journal_a = a.journal();
    let journal_b = b.journal();
    assert_eq!(
        journal_a, journal_b,
        "the journal read through A and through B"
    );
    assert_gap_free(&journal_a);
    assert_eq!(
        identities_of(&journal_a, "leave", Some("schedule")),
        [leaver.as_str()]
    );
    assert_eq!(
        journal_a
            .iter()
            .filter(|r| r["event"] == "resource_add" && r["source"] == "schedule")
            .count(),
        1
    );
    assert_eq!(scheduled(&journal_a), 2);
    let logs = applied_everywhere();
    let lines: Vec<Json> = logs
        .lines()
        .map(|l| serde_json::from_str(l).expect("a log line is JSON"))
        .filter(|l: &Json| l["event"] == "scheduled")
        .collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(lines.iter().all(|l| l.get("applied").is_some()), "{logs}");
    // The leaver lost access on both replicas.
    for server in [&a, &b] {
        let (status, body) = get(
            &agent,
            &server.url(&format!("/v1/identities/{leaver}/entitlements")),
            Some(READ_TOKEN),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<Json>(&body).unwrap()["resources"],
            json!([])
        );
    }
}
