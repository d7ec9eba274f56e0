//! `tenure serve` end to end, over real HTTP: a server on `127.0.0.1:0` in this process
//! (its own multi-thread runtime on a background thread, a SQLite store in a temporary
//! directory), driven by a blocking HTTP client as an identity provider, an operator and
//! a feed reader would drive it.
//!
//! The SCIM sequences replay Okta's and Microsoft Entra ID's documented requests
//! (`tests/data/scim/`, see the README there) and check after every write what Tenure
//! adds to them: the access each identity gained or lost, in `/v1/identities/{id}/
//! entitlements` and in the journal feed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use tenure_directory::scim::{
    CORE_GROUP, CORE_USER, ENTERPRISE_USER, ERROR_SCHEMA, LIST_RESPONSE, MAX_FILTER_DEPTH,
    MAX_FILTER_LEN, MAX_REQUEST_BYTES,
};
use tenure_server::{Config, ServeError};

/// An identity provider's token.
const SCIM: &str = "scim-token";
/// A feed reader's token.
const READ: &str = "read-token";
/// An operator's token.
const ADMIN: &str = "admin-token";
/// A token with two scopes.
const OPS: &str = "ops-token";

const TOKENS: &str = "# tokens of the HTTP tests\n\
    scim-token scim\n\
    read-token read\n\
    admin-token admin\n\
    ops-token read, admin\n";

const SCIM_JSON: &str = "application/scim+json";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// The harness: a site (files and store) and servers started on it.
// ---------------------------------------------------------------------------------------

/// A temporary directory holding what a server runs on: policy, tokens, mapping,
/// inventory and the SQLite store. Servers started one after another on the same site
/// share the store.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for name in ["policy.tenure", "mapping.toml", "inventory.json"] {
            std::fs::copy(data(name), dir.path().join(name)).expect("copy a fixture");
        }
        std::fs::write(dir.path().join("tokens"), TOKENS).expect("write the token file");
        Site { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> String {
        format!("sqlite:{}", self.path("store.db").display())
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write a site file");
    }

    /// Opens the store directly (no server may be running on it).
    fn lifecycle(&self) -> tenure_directory::Lifecycle {
        tenure_directory::Lifecycle::open(&self.store()).expect("open the store")
    }

    /// Starts a server and waits until it answers `/healthz`.
    fn start(&self) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the bound address");
        let config = Config {
            policy_files: vec![self.path("policy.tenure")],
            store: self.store(),
            listen: address,
            token_file: self.path("tokens"),
            mapping: Some(self.path("mapping.toml")),
            inventory: Some(self.path("inventory.json")),
            // Due events are looked for at start; no test waits for the next round.
            schedule_interval: Duration::from_secs(3600),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<(), ServeError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                tenure_server::serve(config, listener, async move {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let mut server = Server {
            base: format!("http://{address}"),
            agent: agent(),
            stop: Some(stop),
            thread: Some(thread),
        };
        // The listener is bound already: the first request waits in the backlog until
        // the server accepts; a server that fails to start drops the listener.
        if let Err(e) = server.try_send("GET", "/healthz", None, &[], None) {
            let outcome = server.thread.take().map(JoinHandle::join);
            panic!("the server did not start ({e}): {outcome:?}");
        }
        server
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A running server; stopped (gracefully) and joined on drop.
struct Server {
    base: String,
    agent: ureq::Agent,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// An HTTP answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// A request body: content type and bytes.
type Body<'a> = Option<(&'a str, Vec<u8>)>;

impl Server {
    /// Stops the server, waits for it, and returns how `serve` ended.
    fn shutdown(&mut self) -> Result<(), ServeError> {
        // Close the client's idle connections first.
        self.agent = agent();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("the server thread panicked"),
            None => Ok(()),
        }
    }

    fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Body<'_>,
    ) -> Result<Reply, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = match body {
            Some((content_type, bytes)) => self.agent.run(
                request
                    .header("content-type", content_type)
                    .body(bytes)
                    .expect("a request"),
            )?,
            None => self.agent.run(request.body(()).expect("a request"))?,
        };
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()?;
        Ok(Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        })
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Body<'_>,
    ) -> Reply {
        self.try_send(method, path, token, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), &[], None)
    }

    /// A SCIM request with the identity provider's token, a JSON body sent as
    /// `application/scim+json`.
    fn scim(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let body = body.map(|b| (SCIM_JSON, b.to_string().into_bytes()));
        self.send(method, path, Some(SCIM), &[], body)
    }

    /// A request file of `tests/data/scim/` (see [`fixture`]).
    fn replay(&self, request: &Fixture) -> Reply {
        self.scim(&request.method, &request.path, request.body.as_ref())
    }

    fn health(&self) -> Value {
        let reply = self.send("GET", "/healthz", None, &[], None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// The journal's last sequence number, as `/healthz` reports it.
    fn head(&self) -> u64 {
        self.health()["journal_seq"]
            .as_u64()
            .expect("journal_seq is a number")
    }

    fn policy_version(&self) -> u64 {
        self.health()["policy_version"]
            .as_u64()
            .expect("policy_version is a number")
    }

    /// The journal records after `since`.
    fn journal(&self, since: u64) -> Vec<Value> {
        let reply = self.get(&format!("/v1/journal?since={since}"), READ);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.content_type(), "application/x-ndjson");
        reply
            .body
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    /// The resource ids identity `id` can reach.
    fn entitlements(&self, id: &str) -> Vec<String> {
        let reply = self.get(&format!("/v1/identities/{id}/entitlements"), READ);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["identity"], id);
        ids(&body["resources"], "id")
    }

    /// Everything a failed request must leave as it was: the journal head, the users and
    /// the groups.
    fn state(&self) -> (u64, Value, Value) {
        let users = self.scim("GET", "/scim/v2/Users?sortBy=userName", None);
        let groups = self.scim("GET", "/scim/v2/Groups?sortBy=displayName", None);
        assert_eq!(users.status, 200, "{}", users.body);
        assert_eq!(groups.status, 200, "{}", groups.body);
        (self.head(), users.json(), groups.json())
    }

    /// Waits until the journal has a record that `found` accepts, and returns every
    /// record then. Panics when none comes (after many rounds; not a timing assertion:
    /// the record is due at start and nothing else is pending).
    fn wait_for_record(&self, found: impl Fn(&Value) -> bool) -> Vec<Value> {
        for _ in 0..2000 {
            let records = self.journal(0);
            if records.iter().any(&found) {
                return records;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!(
            "the expected journal record never came: {:#?}",
            self.journal(0)
        );
    }
}

/// The `key` of every item of a JSON array, sorted.
fn ids(items: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|item| item[key].as_str().expect("a string id").to_string())
        .collect();
    out.sort();
    out
}

/// Percent-encodes a query parameter value.
fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A request file of `tests/data/scim/`, its sources' ids replaced.
struct Fixture {
    method: String,
    path: String,
    body: Option<Value>,
}

/// Reads `tests/data/scim/{name}`, replacing each `(from, to)` in its text (the sources'
/// ids by this server's), with its path moved under `/scim/v2` (the sources print `/Users`,
/// `/v2/Groups`, `/scim/v2/Users`).
fn fixture(name: &str, ids: &[(&str, &str)]) -> Fixture {
    let mut text = read(&data(&format!("scim/{name}")));
    for (from, to) in ids {
        text = text.replace(from, to);
    }
    let file: Value = serde_json::from_str(&text).expect("a request file");
    let path = file["path"].as_str().expect("a path");
    let at = path
        .find("/Users")
        .or_else(|| path.find("/Groups"))
        .expect("a Users or Groups path");
    assert!(!path.contains('{'), "a placeholder left in {path}");
    Fixture {
        method: file["method"].as_str().expect("a method").to_string(),
        path: format!("/scim/v2{}", &path[at..]),
        body: Some(file["body"].clone()).filter(|b| !b.is_null()),
    }
}

/// Checks a SCIM resource answer: the status, `Content-Type`, the `ETag` equal to the
/// body's `meta.version`, the `Location` equal to `meta.location`; returns the body.
fn resource(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON);
    let body = reply.json();
    let version = body["meta"]["version"].as_str().expect("meta.version");
    assert!(version.starts_with("W/\""), "{version}");
    assert_eq!(reply.header("etag"), Some(version));
    let location = body["meta"]["location"].as_str().expect("meta.location");
    let id = body["id"].as_str().expect("an id");
    assert!(location.ends_with(&format!("/{id}")), "{location}");
    // The `Location` of a created resource, and of the one resource a 200 is about.
    assert_eq!(reply.header("location"), Some(location));
    body
}

/// Checks a SCIM error answer: status, `Content-Type`, RFC 7644 §3.12 body (`status` a
/// string) and `scimType`; returns the detail.
fn scim_error(reply: &Reply, status: u16, scim_type: Option<&str>) -> String {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{body}");
    assert_eq!(body["status"], json!(status.to_string()), "{body}");
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    let detail = body["detail"].as_str().expect("a detail");
    assert!(!detail.is_empty());
    detail.to_string()
}

/// One journal record of an identity event: its event name, and the resources gained
/// and lost with their reasons.
fn check_record(record: &Value, event: &str, identity: &str, gained: &[&str], lost: &[&str]) {
    assert_eq!(record["event"], event, "{record}");
    assert_eq!(record["identity"], identity, "{record}");
    assert_eq!(record["source"], "scim", "{record}");
    assert_eq!(
        ids(&record["gained"], "resource"),
        gained,
        "gained: {record}"
    );
    assert_eq!(ids(&record["lost"], "resource"), lost, "lost: {record}");
    for item in record["gained"]
        .as_array()
        .into_iter()
        .chain(record["lost"].as_array())
        .flatten()
    {
        assert!(
            !item["reasons"].as_array().expect("reasons").is_empty(),
            "{item}"
        );
    }
}

/// The reasons given for `resource` in a list of `{"resource", "reasons"}`.
fn reasons(items: &Value, resource: &str) -> Value {
    items
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["resource"] == resource)
        .map_or(Value::Null, |item| item["reasons"].clone())
}

/// Creates a user from a minimal body; returns her id.
fn create_user(server: &Server, body: Value) -> String {
    let reply = server.scim("POST", "/scim/v2/Users", Some(&body));
    resource(&reply, 201)["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// The identity providers' sequences.
// ---------------------------------------------------------------------------------------

#[test]
fn okta_sequence() {
    let site = Site::new();
    let server = site.start();
    let mut seq = server.head();

    // JOINER: the documented create, with its `password` and `groups: []`.
    let reply = server.replay(&fixture("okta/02-create-user.json", &[]));
    let user = resource(&reply, 201);
    let id = user["id"].as_str().expect("an id").to_string();
    assert_eq!(
        reply.header("location"),
        Some(format!("/scim/v2/Users/{id}").as_str())
    );
    assert_eq!(user["userName"], "test.user@okta.local");
    assert!(user.get("password").is_none(), "{user}");
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "join", &id, &["wiki"], &[]);
    assert_eq!(reasons(&records[0]["gained"], "wiki"), json!(["everyone"]));
    assert_eq!(server.entitlements(&id), ["wiki"]);
    seq = server.head();

    // Okta looks her up by userName first (the filter percent-encoded).
    let filter = enc("userName eq \"test.user@okta.local\"");
    let reply = server.scim("GET", &format!("/scim/v2/Users?filter={filter}"), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON);
    let list = reply.json();
    assert_eq!(list["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], id.as_str());
    let reply = server.scim("GET", &format!("/scim/v2/Users/{id}"), None);
    let fetched = resource(&reply, 200);
    assert_eq!(fetched["meta"]["version"], user["meta"]["version"]);

    // MOVER: the full PUT of the profile. Edited here: the title `Engineer` added (an
    // app-profile attribute mapped to `title`, hence `role`) so that the move changes
    // access; the rest of the documented body stays, so `displayName` is cleared.
    let mut put = fixture(
        "okta/05-put-user-profile-update.json",
        &[("23a35c27-23d3-4c03-b4c5-6443c09e7173", &id)],
    );
    put.body.as_mut().expect("a body")["title"] = json!("Engineer");
    let reply = server.replay(&put);
    let moved = resource(&reply, 200);
    assert_eq!(moved["name"]["givenName"], "Another");
    assert_eq!(moved["title"], "Engineer");
    assert!(moved.get("displayName").is_none(), "{moved}");
    assert_ne!(moved["meta"]["version"], user["meta"]["version"]);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &["db-1"], &[]);
    assert_eq!(reasons(&records[0]["gained"], "db-1"), json!(["engineers"]));
    assert_eq!(server.entitlements(&id), ["db-1", "wiki"]);

    // Two more users, then Okta's group created with them as members.
    let steve = create_user(&server, json!({"userName": "steve@ad.oktatest.com"}));
    let bob = create_user(&server, json!({"userName": "bob@ad.oktatest.com"}));
    seq = server.head();
    let reply = server.replay(&fixture(
        "okta/10-create-group-with-members.json",
        &[
            ("85467bb36e1c4f8991750501bf491962", &steve),
            ("2fabb15c24a2440c93a0214599603bcb", &bob),
        ],
    ));
    let group = resource(&reply, 201);
    let gid = group["id"].as_str().expect("an id").to_string();
    assert_eq!(
        reply.header("location"),
        Some(format!("/scim/v2/Groups/{gid}").as_str())
    );
    let mut members = ids(&group["members"], "value");
    let mut expected = vec![steve.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);
    let records = server.journal(seq);
    assert_eq!(records.len(), 2, "{records:#?}");
    let by_identity: BTreeMap<&str, &Value> = records
        .iter()
        .map(|r| (r["identity"].as_str().expect("an identity"), r))
        .collect();
    for member in [&steve, &bob] {
        check_record(
            by_identity[member.as_str()],
            "move",
            member,
            &["app-prod"],
            &[],
        );
    }
    let steve_user = resource(
        &server.scim("GET", &format!("/scim/v2/Users/{steve}"), None),
        200,
    );
    assert_eq!(steve_user["groups"][0]["value"], gid.as_str());
    assert_eq!(steve_user["groups"][0]["display"], "Example Group");
    assert_eq!(server.entitlements(&steve), ["app-prod", "wiki"]);
    seq = server.head();

    // GROUP CHANGE: one PATCH removes Steve (value-filter path) and adds the user.
    let reply = server.replay(&fixture(
        "okta/12-patch-group-remove-and-add-members.json",
        &[
            ("abf4dd94-a4c0-4f67-89c9-76b03340cb9b", &gid),
            ("89bb1940-b905-4575-9e7f-6f887cfb368e", &steve),
            ("23a35c27-23d3-4c03-b4c5-6443c09e7173", &id),
        ],
    ));
    let group = resource(&reply, 200);
    members = ids(&group["members"], "value");
    expected = vec![id.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);
    let records = server.journal(seq);
    assert_eq!(records.len(), 2, "{records:#?}");
    let by_identity: BTreeMap<&str, &Value> = records
        .iter()
        .map(|r| (r["identity"].as_str().expect("an identity"), r))
        .collect();
    check_record(
        by_identity[steve.as_str()],
        "move",
        &steve,
        &[],
        &["app-prod"],
    );
    check_record(by_identity[id.as_str()], "move", &id, &["app-prod"], &[]);
    assert_eq!(server.entitlements(&steve), ["wiki"]);
    assert_eq!(server.entitlements(&id), ["app-prod", "db-1", "wiki"]);
    seq = server.head();

    // LEAVER: the path-less replace of `active`.
    let reply = server.replay(&fixture(
        "okta/07-patch-deactivate.json",
        &[("23a35c27-23d3-4c03-b4c5-6443c09e7173", &id)],
    ));
    let left = resource(&reply, 200);
    assert_eq!(left["active"], false);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(
        &records[0],
        "leave",
        &id,
        &[],
        &["app-prod", "db-1", "wiki"],
    );
    assert!(server.entitlements(&id).is_empty());
    seq = server.head();

    // DELETE: 204 without a body, then 404; her record is purged, the group loses her.
    let reply = server.scim("DELETE", &format!("/scim/v2/Users/{id}"), None);
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert!(reply.body.is_empty());
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "purge", &id, &[], &[]);
    let reply = server.scim("GET", &format!("/scim/v2/Users/{id}"), None);
    scim_error(&reply, 404, None);
    let reply = server.scim("DELETE", &format!("/scim/v2/Users/{id}"), None);
    scim_error(&reply, 404, None);
    let reply = server.get(&format!("/v1/identities/{id}/entitlements"), READ);
    assert_eq!(reply.status, 404, "{}", reply.body);
    let group = resource(
        &server.scim("GET", &format!("/scim/v2/Groups/{gid}"), None),
        200,
    );
    assert_eq!(ids(&group["members"], "value"), [bob.as_str()]);
}

#[test]
fn entra_sequence() {
    let site = Site::new();
    let server = site.start();
    let mut seq = server.head();

    // JOINER: with the enterprise URN in `schemas` and no enterprise object.
    let reply = server.replay(&fixture("entra/03-create-user.json", &[]));
    let user = resource(&reply, 201);
    let id = user["id"].as_str().expect("an id").to_string();
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "join", &id, &["wiki"], &[]);
    seq = server.head();

    // MOVER without an access change: `Replace`, a value-filter path, a sub-attribute.
    let reply = server.replay(&fixture(
        "entra/06-patch-user-multivalued-replace.json",
        &[("6764549bef60420686bc", &id)],
    ));
    let moved = resource(&reply, 200);
    assert_eq!(moved["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(moved["emails"][0]["type"], "work");
    assert_eq!(moved["name"]["familyName"], "updatedFamilyName");
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &[], &[]);
    seq = server.head();

    // MOVER: the department by its enterprise URN path grants ssh.
    let reply = server.replay(&fixture(
        "entra/17-patch-user-2020-add-enterprise-department.json",
        &[("ac56b4e5-e079-46d0-810e-85ddbd223b09", &id)],
    ));
    let moved = resource(&reply, 200);
    assert_eq!(moved[ENTERPRISE_USER]["department"], "Tech Infrastructure");
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &["ssh-1"], &[]);
    assert_eq!(
        reasons(&records[0]["gained"], "ssh-1"),
        json!(["infrastructure"])
    );
    assert_eq!(server.entitlements(&id), ["ssh-1", "wiki"]);
    seq = server.head();

    // Many attributes in one request, one of them by the enterprise URN path.
    let reply = server.replay(&fixture(
        "entra/13-patch-user-replace-multiple-default.json",
        &[("{id}", &id)],
    ));
    let moved = resource(&reply, 200);
    assert_eq!(moved["displayName"], "Pvlo");
    assert_eq!(moved["externalId"], "Eqpj");
    assert_eq!(moved[ENTERPRISE_USER]["employeeNumber"], "Eqpj");
    assert_eq!(moved[ENTERPRISE_USER]["department"], "Tech Infrastructure");
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &[], &[]);
    seq = server.head();

    // A group without members changes no identity.
    let reply = server.replay(&fixture("entra/19-create-group.json", &[]));
    let group = resource(&reply, 201);
    let gid = group["id"].as_str().expect("an id").to_string();
    assert!(server.journal(seq).is_empty());

    // Her membership: `Add` with `"$ref": null`.
    let reply = server.replay(&fixture(
        "entra/23-patch-group-add-members.json",
        &[
            ("a99962b9f99d4c4fac67", &gid),
            ("f648f8d5ea4e4cd38e9c", &id),
        ],
    ));
    let group = resource(&reply, 200);
    assert_eq!(ids(&group["members"], "value"), [id.as_str()]);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &["k8s-1"], &[]);
    assert_eq!(server.entitlements(&id), ["k8s-1", "ssh-1", "wiki"]);
    seq = server.head();

    // Entra reads groups without their members.
    let reply = server.replay(&fixture(
        "entra/20-get-group-excluding-members.json",
        &[("40734ae655284ad3abcc", &gid)],
    ));
    let read = resource(&reply, 200);
    assert_eq!(read["displayName"], "displayName");
    assert!(read.get("members").is_none(), "{read}");
    assert!(server.journal(seq).is_empty(), "a read writes nothing");

    // Removal by `path: members` and a value array removes her only.
    let other = create_user(&server, json!({"userName": "other@example.com"}));
    let add = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": other}]}
    ]});
    resource(
        &server.scim("PATCH", &format!("/scim/v2/Groups/{gid}"), Some(&add)),
        200,
    );
    seq = server.head();
    let reply = server.replay(&fixture(
        "entra/24-patch-group-remove-members-value-array.json",
        &[
            ("a99962b9f99d4c4fac67", &gid),
            ("f648f8d5ea4e4cd38e9c", &id),
        ],
    ));
    let group = resource(&reply, 200);
    assert_eq!(ids(&group["members"], "value"), [other.as_str()]);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &id, &[], &["k8s-1"]);
    let seq = server.head();

    // LEAVER: `active` as the string "False".
    let reply = server.replay(&fixture(
        "entra/09-patch-user-disable-string-False.json",
        &[("{id}", &id)],
    ));
    let left = resource(&reply, 200);
    assert_eq!(left["active"], false);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "leave", &id, &[], &["ssh-1", "wiki"]);
    assert!(server.entitlements(&id).is_empty());
    assert_eq!(server.entitlements(&other), ["k8s-1", "wiki"]);
}

// ---------------------------------------------------------------------------------------
// Errors: each answered as RFC 7644 says, none of them writing anything.
// ---------------------------------------------------------------------------------------

#[test]
fn errors_leave_the_store_unchanged() {
    let site = Site::new();
    let server = site.start();
    let ada = create_user(
        &server,
        json!({"userName": "ada@example.com", "title": "Engineer"}),
    );
    let group = json!({"displayName": "Example Group", "members": [{"value": ada}]});
    let reply = server.scim("POST", "/scim/v2/Groups", Some(&group));
    let gid = resource(&reply, 201)["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let before = server.state();
    let unchanged = |what: &str| assert_eq!(server.state(), before, "after {what}");
    let user_path = format!("/scim/v2/Users/{ada}");
    let joiner = |name: &str| Some((SCIM_JSON, format!(r#"{{"userName": "{name}"}}"#).into()));

    // 401: no token, a wrong token, a token of another scheme; with the challenge.
    for authorization in [None, Some("Bearer wrong-token"), Some("Basic c2NpbTpzY2lt")] {
        // A request refused before its body is read leaves the body unread: hyper then
        // closes the connection after the answer (without `Connection: close`), and a
        // pooled client's next request on it would fail. Such requests ask for the close.
        let mut headers = vec![("connection", "close")];
        headers.extend(authorization.iter().map(|v| ("authorization", *v)));
        for (method, path, body) in [
            ("GET", "/scim/v2/Users", None),
            ("POST", "/scim/v2/Users", joiner("eve@example.com")),
            ("DELETE", user_path.as_str(), None),
            ("GET", "/v1/journal", None),
            ("POST", "/admin/reload", None),
        ] {
            let reply = server.send(method, path, None, &headers, body);
            scim_error(&reply, 401, None);
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
            unchanged(&format!("{method} {path} with {authorization:?}"));
        }
    }

    // 403: a token without the scope the endpoint needs.
    for (method, path, token, body) in [
        ("POST", "/admin/reload", SCIM, None),
        ("GET", "/v1/journal", SCIM, None),
        ("GET", "/v1/identities/x/entitlements", SCIM, None),
        ("GET", "/scim/v2/Users", READ, None),
        ("POST", "/scim/v2/Users", READ, joiner("eve@example.com")),
        ("DELETE", user_path.as_str(), ADMIN, None),
        ("POST", "/admin/reload", READ, None),
        (
            "PUT",
            "/v1/resources/db-9",
            READ,
            Some((SCIM_JSON, br#"{"type": "postgres"}"#.to_vec())),
        ),
    ] {
        let reply = server.send(method, path, Some(token), &[("connection", "close")], body);
        let detail = scim_error(&reply, 403, None);
        assert!(detail.contains("scope"), "{detail}");
        unchanged(&format!("{method} {path} with {token}"));
    }

    // 400 invalidSyntax: malformed JSON, and duplicate keys named by their path.
    for (text, names) in [
        (r#"{"userName": "eve@example.com""#, None),
        (r#"{"userName": "eve@example.com",}"#, None),
        (
            r#"{"userName": "eve@example.com", "userName": "mallory@example.com"}"#,
            Some("userName"),
        ),
        (
            r#"{"userName": "eve@example.com", "emails": [{"type": "work", "type": "home"}]}"#,
            Some("emails[0].type"),
        ),
    ] {
        let reply = server.send(
            "POST",
            "/scim/v2/Users",
            Some(SCIM),
            &[],
            Some((SCIM_JSON, text.into())),
        );
        let detail = scim_error(&reply, 400, Some("invalidSyntax"));
        if let Some(path) = names {
            assert!(detail.contains(path), "{detail} should name {path}");
        }
        unchanged(text);
    }

    // 400 invalidFilter: unknown operator, a bare word, beyond the depth and length limits.
    let deep = format!(
        "{}userName eq \"ada@example.com\"{}",
        "(".repeat(MAX_FILTER_DEPTH + 1),
        ")".repeat(MAX_FILTER_DEPTH + 1)
    );
    let long = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN));
    for filter in [
        "userName zz \"ada@example.com\"",
        "userName",
        "userName eq \"ada",
        deep.as_str(),
        long.as_str(),
    ] {
        let reply = server.scim(
            "GET",
            &format!("/scim/v2/Users?filter={}", enc(filter)),
            None,
        );
        scim_error(&reply, 400, Some("invalidFilter"));
        let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        let reply = server.scim("POST", "/scim/v2/Users/.search", Some(&search));
        scim_error(&reply, 400, Some("invalidFilter"));
        unchanged(&format!("filter {:.40}", filter));
    }
    // Just within the limits is fine.
    let within = format!(
        "{}userName eq \"ada@example.com\"{}",
        "(".repeat(MAX_FILTER_DEPTH - 1),
        ")".repeat(MAX_FILTER_DEPTH - 1)
    );
    let reply = server.scim(
        "GET",
        &format!("/scim/v2/Users?filter={}", enc(&within)),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["totalResults"], 1);

    // 400 invalidPath: a PATCH path that does not parse; nothing of the request applies.
    let patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "title", "value": "Manager"},
        {"op": "replace", "path": "emails[type eq", "value": "x"}
    ]});
    let reply = server.scim("PATCH", &user_path, Some(&patch));
    scim_error(&reply, 400, Some("invalidPath"));
    unchanged("a bad PATCH path");

    // 409 uniqueness: userName compared case-insensitively.
    let reply = server.send(
        "POST",
        "/scim/v2/Users",
        Some(SCIM),
        &[],
        joiner("ADA@example.com"),
    );
    scim_error(&reply, 409, Some("uniqueness"));
    unchanged("a duplicate userName");

    // 404: unknown ids, unknown SCIM endpoints.
    for (method, path) in [
        ("GET", "/scim/v2/Users/no-such-user"),
        ("PUT", "/scim/v2/Users/no-such-user"),
        ("PATCH", "/scim/v2/Users/no-such-user"),
        ("DELETE", "/scim/v2/Users/no-such-user"),
        ("GET", "/scim/v2/Groups/no-such-group"),
        ("DELETE", "/scim/v2/Groups/no-such-group"),
        ("GET", "/scim/v2/Things"),
        ("GET", "/scim/v2/Schemas/urn:no:such:schema"),
    ] {
        let body = match method {
            "PUT" => Some(json!({"userName": "nobody@example.com"})),
            "PATCH" => Some(patch.clone()),
            _ => None,
        };
        let reply = server.scim(method, path, body.as_ref());
        scim_error(&reply, 404, None);
        unchanged(&format!("{method} {path}"));
    }

    // 413: a body over 1 MiB.
    let mut big = br#"{"userName": "big@example.com", "nickName": ""#.to_vec();
    big.resize(MAX_REQUEST_BYTES + 16, b'a');
    big.extend_from_slice(br#""}"#);
    let reply = server.send(
        "POST",
        "/scim/v2/Users",
        Some(SCIM),
        &[("connection", "close")],
        Some((SCIM_JSON, big)),
    );
    scim_error(&reply, 413, Some("tooMany"));
    unchanged("a body over 1 MiB");

    // 405: methods the endpoints do not have.
    for (method, path) in [
        ("PATCH", "/scim/v2/Users"),
        ("DELETE", "/scim/v2/Users"),
        ("PUT", "/scim/v2/Groups"),
        ("POST", "/scim/v2/ServiceProviderConfig"),
        ("DELETE", "/scim/v2/Schemas"),
        ("POST", "/scim/v2/Users/.search/x"),
    ] {
        let body = (method != "DELETE").then(|| json!({"userName": "eve@example.com"}));
        let reply = server.scim(method, path, body.as_ref());
        if path.ends_with("/x") {
            // Not an endpoint at all.
            assert_eq!(reply.status, 404, "{}", reply.body);
        } else {
            scim_error(&reply, 405, None);
        }
        unchanged(&format!("{method} {path}"));
    }
    let reply = server.send("GET", "/admin/reload", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 405, "{}", reply.body);
    unchanged("GET /admin/reload");

    // 412: a stale If-Match; the current one applies.
    let stale = resource(&server.scim("GET", &user_path, None), 200)["meta"]["version"]
        .as_str()
        .expect("a version")
        .to_string();
    let rename = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Ada"}
    ]});
    let current = resource(&server.scim("PATCH", &user_path, Some(&rename)), 200)["meta"]
        ["version"]
        .as_str()
        .expect("a version")
        .to_string();
    assert_ne!(stale, current);
    let before = server.state();
    let retitle = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "title", "value": "Manager"}
    ]});
    let body = Some((SCIM_JSON, retitle.to_string().into_bytes()));
    let reply = server.send(
        "PATCH",
        &user_path,
        Some(SCIM),
        &[("if-match", &stale)],
        body.clone(),
    );
    scim_error(&reply, 412, Some("preconditionFailed"));
    assert_eq!(server.state(), before, "after a stale If-Match");
    let reply = server.send(
        "PATCH",
        &user_path,
        Some(SCIM),
        &[("if-match", &current)],
        body,
    );
    let retitled = resource(&reply, 200);
    assert_eq!(retitled["title"], "Manager");
    let records = server.journal(before.0);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_record(&records[0], "move", &ada, &[], &["db-1"]);
    assert_eq!(server.head(), before.0 + 1);

    // The group is still there, untouched by all of the above.
    let group = resource(
        &server.scim("GET", &format!("/scim/v2/Groups/{gid}"), None),
        200,
    );
    assert_eq!(ids(&group["members"], "value"), [ada]);
}

#[test]
fn json_bodies_in_either_media_type() {
    let site = Site::new();
    let server = site.start();
    for (n, content_type) in [
        SCIM_JSON,
        "application/json",
        "application/scim+json; charset=utf-8",
        "application/json; charset=utf-8",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"userName": format!("user{n}@example.com")});
        let reply = server.send(
            "POST",
            "/scim/v2/Users",
            Some(SCIM),
            &[],
            Some((content_type, body.to_string().into_bytes())),
        );
        let user = resource(&reply, 201);
        assert_eq!(user["userName"], format!("user{n}@example.com"));
        let patch = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "title", "value": "Engineer"}
        ]});
        let id = user["id"].as_str().expect("an id");
        let reply = server.send(
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            Some(SCIM),
            &[],
            Some((content_type, patch.to_string().into_bytes())),
        );
        assert_eq!(resource(&reply, 200)["title"], "Engineer");
    }
    let list = server.scim("GET", "/scim/v2/Users", None).json();
    assert_eq!(list["totalResults"], 4);
}

// ---------------------------------------------------------------------------------------
// Discovery and queries.
// ---------------------------------------------------------------------------------------

#[test]
fn discovery() {
    let site = Site::new();
    let server = site.start();

    let reply = server.scim("GET", "/scim/v2/ServiceProviderConfig", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON);
    let config = reply.json();
    assert_eq!(
        config["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(
        config["filter"]["maxResults"],
        json!(tenure_directory::scim::MAX_PAGE)
    );
    assert_eq!(config["changePassword"]["supported"], false);
    assert_eq!(config["sort"]["supported"], true);
    assert_eq!(config["etag"]["supported"], true);
    let schemes = config["authenticationSchemes"]
        .as_array()
        .expect("authenticationSchemes");
    assert_eq!(schemes.len(), 1);
    assert_eq!(schemes[0]["type"], "oauthbearertoken");
    assert!(schemes[0]["name"].is_string() && schemes[0]["description"].is_string());

    // ResourceTypes and Schemas are ListResponses (RFC 7644 §4).
    let reply = server.scim("GET", "/scim/v2/ResourceTypes", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON);
    let types = reply.json();
    assert_eq!(types["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(types["totalResults"], 2);
    let resources = types["Resources"].as_array().expect("Resources");
    let user = resources
        .iter()
        .find(|t| t["id"] == "User")
        .expect("the User type");
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], CORE_USER);
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": ENTERPRISE_USER, "required": false}])
    );
    let group = resources
        .iter()
        .find(|t| t["id"] == "Group")
        .expect("the Group type");
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schema"], CORE_GROUP);
    for name in ["User", "Group"] {
        let reply = server.scim("GET", &format!("/scim/v2/ResourceTypes/{name}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["name"], name);
    }

    let reply = server.scim("GET", "/scim/v2/Schemas", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let schemas = reply.json();
    assert_eq!(schemas["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(schemas["totalResults"], 3);
    assert_eq!(ids(&schemas["Resources"], "id"), {
        let mut all = vec![CORE_GROUP, CORE_USER, ENTERPRISE_USER];
        all.sort();
        all
    });
    for urn in [CORE_USER, CORE_GROUP, ENTERPRISE_USER] {
        let reply = server.scim("GET", &format!("/scim/v2/Schemas/{urn}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.content_type(), SCIM_JSON);
        let schema = reply.json();
        assert_eq!(schema["id"], urn);
        assert_eq!(
            schema["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
        );
        assert!(!schema["attributes"]
            .as_array()
            .expect("attributes")
            .is_empty());
    }
    let core = server
        .scim("GET", &format!("/scim/v2/Schemas/{CORE_USER}"), None)
        .json();
    let user_name = core["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "userName")
        .expect("userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let enterprise = server
        .scim("GET", &format!("/scim/v2/Schemas/{ENTERPRISE_USER}"), None)
        .json();
    assert!(enterprise["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .any(|a| a["name"] == "department"));
}

#[test]
fn queries() {
    let site = Site::new();
    let server = site.start();
    for (name, display) in [
        ("carol", "Carol"),
        ("alice", "Alice"),
        ("eve", "Eve"),
        ("bob", "Bob"),
        ("dave", "Dave"),
    ] {
        create_user(
            &server,
            json!({"userName": name, "displayName": display, "title": "Engineer"}),
        );
    }
    let names = |list: &Value| -> Vec<String> {
        list["Resources"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|u| u["userName"].as_str().expect("a userName").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let list = |query: &str| -> Value {
        let reply = server.scim("GET", &format!("/scim/v2/Users?{query}"), None);
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(reply.content_type(), SCIM_JSON);
        let body = reply.json();
        assert_eq!(body["schemas"], json!([LIST_RESPONSE]));
        body
    };

    let page = list("sortBy=userName&startIndex=2&count=2");
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(names(&page), ["bob", "carol"]);
    let page = list("sortBy=userName&sortOrder=descending&startIndex=2&count=2");
    assert_eq!(names(&page), ["dave", "carol"]);
    let page = list("sortBy=displayName&startIndex=5&count=10");
    assert_eq!(names(&page), ["eve"]);
    let page = list("count=0");
    assert_eq!(page["totalResults"], 5);
    assert!(names(&page).is_empty());
    let page = list(&format!(
        "filter={}&sortBy=userName",
        enc("userName eq \"alice\" or displayName sw \"D\"")
    ));
    assert_eq!(names(&page), ["alice", "dave"]);

    // attributes / excludedAttributes: `id` is always returned.
    let page = list("sortBy=userName&count=1&attributes=userName");
    let first = &page["Resources"][0];
    assert_eq!(first["userName"], "alice");
    assert!(first["id"].is_string());
    assert!(first.get("displayName").is_none(), "{first}");
    assert!(first.get("title").is_none(), "{first}");
    let page = list("sortBy=userName&count=1&excludedAttributes=displayName,title");
    let first = &page["Resources"][0];
    assert_eq!(first["userName"], "alice");
    assert!(first.get("displayName").is_none(), "{first}");
    assert!(first.get("title").is_none(), "{first}");

    // POST /.search: the same query in a body; it writes nothing.
    let head = server.head();
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "title eq \"Engineer\" and not (userName eq \"eve\")",
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 1,
        "count": 3,
        "attributes": ["userName"]
    });
    let reply = server.scim("POST", "/scim/v2/Users/.search", Some(&search));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type(), SCIM_JSON);
    let found = reply.json();
    assert_eq!(found["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(found["totalResults"], 4);
    assert_eq!(names(&found), ["dave", "carol", "bob"]);
    assert!(found["Resources"][0].get("title").is_none());
    assert_eq!(server.head(), head);
}

// ---------------------------------------------------------------------------------------
// Tenure's own endpoints.
// ---------------------------------------------------------------------------------------

#[test]
fn healthz() {
    let site = Site::new();
    let server = site.start();
    let reply = server.send("GET", "/healthz", None, &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type().starts_with("application/json"));
    let health = reply.json();
    let head = server
        .journal(0)
        .last()
        .map_or(0, |r| r["seq"].as_u64().expect("seq"));
    assert!(
        head > 0,
        "the policy and the inventory are journaled at start"
    );
    assert_eq!(
        health,
        json!({"status": "ok", "policy_version": 1, "journal_seq": head})
    );
    create_user(&server, json!({"userName": "ada@example.com"}));
    assert_eq!(server.head(), head + 1);
    // A token is not needed, and a wrong one does not hurt.
    let reply = server.send(
        "GET",
        "/healthz",
        None,
        &[("authorization", "Bearer wrong")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn entitlements_access_and_resources() {
    let site = Site::new();
    let server = site.start();
    let ada = create_user(
        &server,
        json!({"userName": "ada@example.com", "title": "Engineer"}),
    );

    let reply = server.get(&format!("/v1/identities/{ada}/entitlements"), READ);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type().starts_with("application/json"));
    assert_eq!(
        reply.json(),
        json!({"identity": ada, "resources": [
            {"id": "db-1", "reasons": ["engineers"]},
            {"id": "wiki", "reasons": ["everyone"]},
        ]})
    );
    let reply = server.get("/v1/resources/wiki/access", OPS);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"resource": "wiki", "identities": [{"id": ada, "reasons": ["everyone"]}]})
    );
    let reply = server.get("/v1/resources/ssh-1/access", READ);
    assert_eq!(reply.json(), json!({"resource": "ssh-1", "identities": []}));
    for path in [
        "/v1/identities/nobody/entitlements",
        "/v1/resources/nothing/access",
    ] {
        let reply = server.get(path, READ);
        assert_eq!(reply.status, 404, "{}", reply.body);
        assert!(reply.json()["error"].is_string());
    }
    for (token, status) in [(SCIM, 403), (ADMIN, 403), ("wrong", 401)] {
        let reply = server.get(&format!("/v1/identities/{ada}/entitlements"), token);
        assert_eq!(reply.status, status, "{}", reply.body);
        let reply = server.get("/v1/resources/wiki/access", token);
        assert_eq!(reply.status, status, "{}", reply.body);
    }

    // PUT a new resource: 201, `resource_add` with who gained it.
    let seq = server.head();
    let db = json!({"type": "postgres", "tags": {"env": "staging"}});
    let put = |body: &Value, token: &str| {
        server.send(
            "PUT",
            "/v1/resources/db-2",
            Some(token),
            &[],
            Some(("application/json", body.to_string().into_bytes())),
        )
    };
    let reply = put(&db, ADMIN);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let record = reply.json();
    assert_eq!(record["event"], "resource_add");
    assert_eq!(record["resource"], "db-2");
    assert_eq!(record["source"], "api");
    assert_eq!(
        record["gained"],
        json!([{"identity": ada, "reasons": ["engineers"]}])
    );
    assert_eq!(record["lost"], json!([]));
    let records = server.journal(seq);
    assert_eq!(records, std::slice::from_ref(&record));
    assert_eq!(server.entitlements(&ada), ["db-1", "db-2", "wiki"]);

    // PUT a change: 200, `resource_change` with who lost it.
    let ssh = json!({"id": "db-2", "type": "ssh", "tags": {"env": "staging"}});
    let reply = put(&ssh, OPS);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let record = reply.json();
    assert_eq!(record["event"], "resource_change");
    assert_eq!(record["gained"], json!([]));
    assert_eq!(
        record["lost"],
        json!([{"identity": ada, "reasons": ["engineers"]}])
    );
    assert_eq!(server.journal(seq)[1], record);
    let reply = server.get("/v1/resources/db-2/access", READ);
    assert_eq!(reply.json()["identities"], json!([]));

    // Refused: another id in the body, not an object, not JSON, no scope.
    let head = server.head();
    for (body, token, status) in [
        (json!({"id": "db-3", "type": "ssh"}), ADMIN, 400),
        (json!(["db-2"]), ADMIN, 400),
        (json!({"type": "ssh"}), READ, 403),
        (json!({"type": "ssh"}), SCIM, 403),
    ] {
        let reply = put(&body, token);
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    let reply = server.send(
        "PUT",
        "/v1/resources/db-2",
        Some(ADMIN),
        &[],
        Some((
            "application/json",
            br#"{"type": "ssh", "type": "rdp"}"#.to_vec(),
        )),
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.json()["error"]
        .as_str()
        .expect("an error")
        .contains("type"));
    assert_eq!(server.head(), head);

    // DELETE: 200 with the record, then 404.
    let reply = server.send("DELETE", "/v1/resources/wiki", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let record = reply.json();
    assert_eq!(record["event"], "resource_remove");
    assert_eq!(record["resource"], "wiki");
    assert_eq!(
        record["lost"],
        json!([{"identity": ada, "reasons": ["everyone"]}])
    );
    assert_eq!(server.journal(head), [record]);
    let reply = server.send("DELETE", "/v1/resources/wiki", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = server.get("/v1/resources/wiki/access", READ);
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(server.entitlements(&ada), ["db-1"]);
}

// ---------------------------------------------------------------------------------------
// Reload.
// ---------------------------------------------------------------------------------------

#[test]
fn reload_policy_and_tokens() {
    let site = Site::new();
    let server = site.start();
    let ada = create_user(
        &server,
        json!({"userName": "ada@example.com", "title": "Engineer"}),
    );
    let version = server.policy_version();
    let policy = read(&site.path("policy.tenure"));

    // Only the admin scope reloads.
    for token in [SCIM, READ] {
        let reply = server.send("POST", "/admin/reload", Some(token), &[], None);
        scim_error(&reply, 403, None);
    }

    // A new rule: a new version, journaled with its impact.
    let seq = server.head();
    site.write(
        "policy.tenure",
        &format!("{policy}\n@id(\"engineers-prod\")\nrole = Engineer grants tag:env = prod;\n"),
    );
    let reply = server.send("POST", "/admin/reload", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reloaded = reply.json();
    assert_eq!(reloaded["reloaded"], true);
    let new_version = reloaded["policy_version"].as_u64().expect("a version");
    assert!(new_version > version, "{reloaded}");
    assert_eq!(reloaded["rules"], 7);
    assert_eq!(server.policy_version(), new_version);
    let records = server.journal(seq);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["event"], "policy");
    assert_eq!(records[0]["policy"]["version"], new_version);
    assert_eq!(
        records[0]["gained"],
        json!([{"identity": ada, "resource": "app-prod", "reasons": ["engineers-prod"]}])
    );
    assert_eq!(records[0]["lost"], json!([]));
    assert_eq!(server.entitlements(&ada), ["app-prod", "db-1", "wiki"]);

    // A broken policy: 422 with diagnostics; the old policy keeps serving.
    let seq = server.head();
    site.write("policy.tenure", "role = Engineer grants;\n");
    let reply = server.send("POST", "/admin/reload", Some(OPS), &[], None);
    assert_eq!(reply.status, 422, "{}", reply.body);
    let refused = reply.json();
    assert_eq!(refused["reloaded"], false);
    assert_eq!(refused["policy_version"], new_version);
    assert!(
        refused["diagnostics"]
            .as_str()
            .is_some_and(|d| d.contains("policy.tenure")),
        "{refused}"
    );
    assert_eq!(server.policy_version(), new_version);
    assert_eq!(server.head(), seq);
    assert_eq!(server.entitlements(&ada), ["app-prod", "db-1", "wiki"]);
    let reply = server.get("/v1/resources/app-prod/access", READ);
    assert_eq!(
        reply.json()["identities"],
        json!([{"id": ada, "reasons": ["engineers-prod"]}])
    );

    // The token file is read again: a token added works, a token removed does not. The
    // policy, back as it was, keeps its version and journals nothing.
    site.write(
        "policy.tenure",
        &format!("{policy}\n@id(\"engineers-prod\")\nrole = Engineer grants tag:env = prod;\n"),
    );
    site.write(
        "tokens",
        "scim-token scim\nadmin-token admin\nfresh-token read\n",
    );
    assert_eq!(server.get("/v1/journal", "fresh-token").status, 401);
    let reply = server.send("POST", "/admin/reload", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["policy_version"], new_version);
    assert_eq!(reply.json()["tokens"]["reloaded"], true);
    assert_eq!(server.head(), seq);
    assert_eq!(server.get("/v1/journal", "fresh-token").status, 200);
    let reply = server.get("/v1/journal", READ);
    scim_error(&reply, 401, None);
    assert_eq!(server.get("/v1/journal", OPS).status, 401);

    // A token file that no longer reads keeps the tokens in force.
    site.write("tokens", "fresh-token superuser\n");
    let reply = server.send("POST", "/admin/reload", Some(ADMIN), &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["tokens"]["reloaded"], false);
    assert_eq!(server.get("/v1/journal", "fresh-token").status, 200);
    assert_eq!(server.scim("GET", "/scim/v2/Users", None).status, 200);
}

// ---------------------------------------------------------------------------------------
// Restart.
// ---------------------------------------------------------------------------------------

#[test]
fn restart_from_the_store() {
    let site = Site::new();
    let mut first = site.start();
    let ada = create_user(
        &first,
        json!({"userName": "ada@example.com", "title": "Engineer"}),
    );
    let bob = create_user(&first, json!({"userName": "bob@example.com"}));
    let group = json!({"displayName": "Example Group", "members": [{"value": ada}]});
    resource(&first.scim("POST", "/scim/v2/Groups", Some(&group)), 201);
    let (head, users, groups) = first.state();
    let journal = first.journal(0);
    let version = first.policy_version();
    first.shutdown().expect("a clean stop");
    drop(first);

    // Bob leaves as of an hour ago, scheduled while no server ran.
    let an_hour_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(3600))
        .expect("a time");
    let mut lifecycle = site.lifecycle();
    lifecycle
        .schedule(
            an_hour_ago,
            tenure::lifecycle::Event::Leave { id: bob.clone() },
            "hr",
        )
        .expect("schedule");
    drop(lifecycle);

    let mut second = site.start();
    let scheduled = |r: &Value| r["source"] == "schedule";
    let records = second.wait_for_record(scheduled);
    assert_eq!(
        &records[..journal.len()],
        &journal[..],
        "the journal is back"
    );
    assert_eq!(records.len(), journal.len() + 1, "{records:#?}");
    let leave = &records[journal.len()];
    assert_eq!(leave["event"], "leave");
    assert_eq!(leave["identity"], bob.as_str());
    assert_eq!(leave["seq"], head + 1);
    assert_eq!(ids(&leave["lost"], "resource"), ["wiki"]);
    assert_eq!(second.policy_version(), version);
    assert_eq!(second.state(), (head + 1, users.clone(), groups.clone()));
    assert_eq!(second.entitlements(&ada), ["app-prod", "db-1", "wiki"]);
    assert!(second.entitlements(&bob).is_empty());
    // It serves writes as before.
    let carol = create_user(&second, json!({"userName": "carol@example.com"}));
    assert_eq!(second.entitlements(&carol), ["wiki"]);
    second.shutdown().expect("a clean stop");
    drop(second);

    // Once applied, never again: a third start applies only what is newly due (Ada's
    // leave), and Bob's leave stays the only one of his. Ada's is Okta's deactivation
    // scheduled as a SCIM request, as docs/LIFECYCLE.md advises for SCIM-fed identities
    // (a scheduled event changes the identity, not her SCIM record).
    let mut lifecycle = site.lifecycle();
    assert!(lifecycle.scheduled().expect("the schedule").is_empty());
    let deactivate = fixture(
        "okta/07-patch-deactivate.json",
        &[("23a35c27-23d3-4c03-b4c5-6443c09e7173", &ada)],
    );
    let request = tenure_directory::scim::ScimRequest::new(deactivate.method, deactivate.path)
        .with_body(deactivate.body.expect("a body"));
    lifecycle
        .schedule_scim(an_hour_ago, &request)
        .expect("schedule");
    drop(lifecycle);
    let third = site.start();
    let records = third.wait_for_record(|r| scheduled(r) && r["identity"] == ada.as_str());
    let leaves: Vec<&Value> = records.iter().filter(|r| scheduled(r)).collect();
    assert_eq!(leaves.len(), 2, "{leaves:#?}");
    assert_eq!(leaves[0]["identity"], bob.as_str());
    assert_eq!(leaves[1]["event"], "leave");
    assert_eq!(
        ids(&leaves[1]["lost"], "resource"),
        ["app-prod", "db-1", "wiki"]
    );
    let user = resource(
        &third.scim("GET", &format!("/scim/v2/Users/{ada}"), None),
        200,
    );
    assert_eq!(user["active"], false);
    assert!(third.entitlements(&ada).is_empty());
    let reply = third.scim("GET", "/scim/v2/Users?sortBy=userName", None);
    assert_eq!(reply.json()["totalResults"], 3);
}

// ---------------------------------------------------------------------------------------
// Authentication details and concurrent writers.
// ---------------------------------------------------------------------------------------

#[test]
fn bearer_scheme_is_case_insensitive() {
    // RFC 9110 §11.1: the authentication scheme is case-insensitive.
    let site = Site::new();
    let server = site.start();
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        let authorization = format!("{scheme} {SCIM}");
        let reply = server.send(
            "GET",
            "/scim/v2/Users",
            None,
            &[("authorization", &authorization)],
            None,
        );
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.body);
    }
    for authorization in [
        SCIM,
        "Bearer",
        "Bearer ",
        "Bearerscim-token",
        "Basic scim-token",
    ] {
        let reply = server.send(
            "GET",
            "/scim/v2/Users",
            None,
            &[("authorization", authorization)],
            None,
        );
        scim_error(&reply, 401, None);
    }
}

#[test]
fn journal_feed_parameters() {
    let site = Site::new();
    let server = site.start();
    let all = server.journal(0);
    let head = server.head();
    assert_eq!(all.last().map(|r| r["seq"].clone()), Some(json!(head)));
    let seqs: Vec<u64> = all
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>());
    assert_eq!(server.journal(head - 1).len(), 1);
    assert!(server.journal(head).is_empty());
    assert!(server.journal(head + 100).is_empty());
    let reply = server.get("/v1/journal", READ);
    assert_eq!(reply.body.lines().count() as u64, head);
    let reply = server.get("/v1/journal?since=soon", READ);
    assert_eq!(reply.status, 400, "{}", reply.body);
}

#[test]
fn concurrent_writers_are_serialised() {
    let site = Site::new();
    let server = site.start();
    let head = server.head();
    // Eight clients at once, two of them creating the same user (names differ in case).
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let server = &server;
        let handles: Vec<_> = (0..8)
            .map(|n| {
                scope.spawn(move || {
                    let name = match n {
                        0 => "twin@example.com".to_string(),
                        1 => "TWIN@example.com".to_string(),
                        n => format!("user{n}@example.com"),
                    };
                    server.scim("POST", "/scim/v2/Users", Some(&json!({"userName": name})))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect()
    });
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 7, "{replies:#?}");
    let conflicts: Vec<&Reply> = replies.iter().filter(|r| r.status != 201).collect();
    assert_eq!(conflicts.len(), 1);
    scim_error(conflicts[0], 409, Some("uniqueness"));
    // One join each, numbered one after another.
    let records = server.journal(head);
    assert_eq!(records.len(), 7, "{records:#?}");
    for (n, record) in records.iter().enumerate() {
        assert_eq!(record["event"], "join");
        assert_eq!(record["seq"], head + 1 + n as u64);
    }
    let list = server.scim("GET", "/scim/v2/Users", None).json();
    assert_eq!(list["totalResults"], 7);
}

/// A request refused before its body is read (401, 403) is answered with `Connection:
/// close`, so a client that pools connections opens a new one: its next request works.
#[test]
fn refusals_before_the_body_close_the_connection() {
    let site = Site::new();
    let server = site.start();
    let joiner = Some((SCIM_JSON, r#"{"userName": "eve@example.com"}"#.into()));
    for _ in 0..3 {
        let refused = server.send(
            "POST",
            "/scim/v2/Users",
            Some("wrong-token"),
            &[],
            joiner.clone(),
        );
        scim_error(&refused, 401, None);
        assert_eq!(refused.header("connection"), Some("close"));
        let refused = server.send("POST", "/admin/reload", Some(SCIM), &[], joiner.clone());
        scim_error(&refused, 403, None);
        let next = server.send("GET", "/scim/v2/Users", Some(SCIM), &[], None);
        assert_eq!(next.status, 200, "{}", next.body);
    }
}

/// `/Me`, `/Bulk` and a search at the root are not implemented: 501, a SCIM error.
#[test]
fn unsupported_endpoints_answer_501() {
    let site = Site::new();
    let server = site.start();
    for (method, path) in [
        ("GET", "/scim/v2/Me"),
        ("POST", "/scim/v2/Bulk"),
        ("POST", "/scim/v2/.search"),
    ] {
        let reply = server.send(method, path, Some(SCIM), &[], None);
        scim_error(&reply, 501, None);
    }
}
