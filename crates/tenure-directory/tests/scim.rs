//! SCIM ingestion, driven by the request fixtures under `tests/data/scim/` (copied from the
//! identity providers' documentation; see the README there).

use serde_json::{json, Value};
use tenure::Value as V;
use tenure_directory::mapping::Mapping;
use tenure_directory::scim::{
    handle, Context, IdentityUpdate, MemoryData, ScimError, ScimKind, ScimOutcome, ScimRecord,
    ScimRequest, ScimWrite,
};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Users and groups in memory, the mapping, and a clock.
struct Env {
    data: MemoryData,
    mapping: Mapping,
}

impl Env {
    fn new() -> Env {
        Env::with_mapping(Mapping::default())
    }

    fn with_mapping(mapping: Mapping) -> Env {
        Env {
            data: MemoryData::new(),
            mapping,
        }
    }

    /// Handles `request`; commits the writes when it succeeds.
    fn run(&mut self, request: &ScimRequest) -> Result<ScimOutcome, ScimError> {
        let now: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().expect("timestamp");
        let ctx = Context {
            mapping: &self.mapping,
            now,
            base_url: "/scim/v2",
        };
        let before = self.data.clone();
        let result = handle(request, &mut self.data, &ctx);
        // handle only reads.
        assert_eq!(before, self.data);
        if let Ok(outcome) = &result {
            self.data.apply(&outcome.writes);
        }
        result
    }

    fn ok(&mut self, request: &ScimRequest) -> ScimOutcome {
        self.run(request)
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", request.method, request.path))
    }

    /// Handles `request`, expecting an error; asserts nothing changed.
    fn err(&mut self, request: &ScimRequest) -> ScimError {
        let before = self.data.clone();
        let error = match self.run(request) {
            Ok(outcome) => panic!("{} {} succeeded: {outcome:?}", request.method, request.path),
            Err(e) => e,
        };
        assert_eq!(before, self.data, "a failed request changed the data");
        error
    }

    /// Creates a user through POST and re-keys her under `id`.
    fn user(&mut self, id: &str, body: Value) {
        self.rekey(ScimKind::User, id, "/Users", body);
    }

    /// Creates a group through POST and re-keys it under `id`.
    fn group(&mut self, id: &str, body: Value) {
        self.rekey(ScimKind::Group, id, "/Groups", body);
    }

    fn rekey(&mut self, kind: ScimKind, id: &str, path: &str, body: Value) {
        let outcome = self.ok(&ScimRequest::new("POST", path).with_body(body));
        let Some(ScimWrite::Put(record)) = outcome.writes.last() else {
            panic!("no record written")
        };
        self.data
            .apply(&[ScimWrite::Delete(kind, record.id.clone())]);
        self.data.insert(ScimRecord {
            id: id.to_string(),
            ..record.clone()
        });
    }

    fn record(&self, kind: ScimKind, id: &str) -> Option<&ScimRecord> {
        self.data.records(kind).find(|r| r.id == id)
    }

    fn get(&mut self, path: &str) -> Value {
        self.ok(&ScimRequest::new("GET", path))
            .response
            .expect("a body")
    }

    fn identity(&mut self, id: &str) -> tenure::Identity {
        let ctx_mapping = self.mapping.clone();
        let user = self.record(ScimKind::User, id).expect("user").body.clone();
        let groups: Vec<Value> = self
            .data
            .records(ScimKind::Group)
            .filter(|g| {
                g.body["members"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|m| m["value"] == id))
            })
            .map(|g| {
                let mut b = g.body.clone();
                b["id"] = json!(g.id);
                b
            })
            .collect();
        let refs: Vec<&Value> = groups.iter().collect();
        ctx_mapping.identity(id, &user, &refs)
    }
}

fn fixture(name: &str) -> ScimRequest {
    let path = format!("{}/tests/data/scim/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ScimRequest::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

/// `fixture(name)` with the last path segment (before any query) replaced by `id`.
fn fixture_at(name: &str, id: &str) -> ScimRequest {
    let mut request = fixture(name);
    let (path, query) = match request.path.split_once('?') {
        Some((p, q)) => (p.to_string(), format!("?{q}")),
        None => (request.path.clone(), String::new()),
    };
    let base = path.rsplit_once('/').map(|(b, _)| b).unwrap_or("");
    request.path = format!("{base}/{id}{query}");
    request
}

fn body_of(request: &ScimRequest) -> Value {
    request.body.clone().expect("body")
}

fn s(text: &str) -> V {
    V::from(text)
}

fn set(items: &[&str]) -> V {
    V::set(items.iter().copied())
}

/// A membership attribute before and after.
type Change = (Option<V>, Option<V>);

fn groups_of(update: &IdentityUpdate) -> Change {
    (
        update
            .before
            .as_ref()
            .and_then(|i| i.get("groups").cloned()),
        update.after.as_ref().and_then(|i| i.get("groups").cloned()),
    )
}

fn created_id(outcome: &ScimOutcome) -> String {
    outcome.response.as_ref().expect("body")["id"]
        .as_str()
        .expect("id")
        .to_string()
}

const OKTA_USER: &str = "23a35c27-23d3-4c03-b4c5-6443c09e7173";
const OKTA_OTHER: &str = "89bb1940-b905-4575-9e7f-6f887cfb368e";
const OKTA_GROUP: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";

/// Okta's documented user under her documented id, in `OKTA_GROUP` ("Test SCIMv2") with
/// `OKTA_OTHER`.
fn okta_world() -> Env {
    let mut env = Env::new();
    env.user(OKTA_USER, body_of(&fixture("okta/02-create-user.json")));
    env.user(
        OKTA_OTHER,
        json!({"userName": "other@okta.local", "displayName": "Other"}),
    );
    env.group(
        OKTA_GROUP,
        json!({"displayName": "Test SCIMv2", "members": [{"value": OKTA_USER}, {"value": OKTA_OTHER}]}),
    );
    env
}

mod joiners {
    use super::*;

    #[test]
    fn okta_create_user_is_a_joiner_with_the_default_attributes() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("okta/02-create-user.json"));
        assert_eq!(outcome.status, 201);
        let id = created_id(&outcome);
        assert_eq!(
            outcome.location.as_deref(),
            Some(format!("/scim/v2/Users/{id}").as_str())
        );
        assert_eq!(outcome.etag.as_deref(), Some("W/\"1\""));
        let resource = outcome.response.as_ref().expect("body");
        assert_eq!(resource["meta"]["resourceType"], "User");
        assert_eq!(resource["meta"]["version"], "W/\"1\"");
        assert_eq!(resource["meta"]["created"], "2026-11-25T10:00:00Z");
        assert_eq!(resource["meta"]["location"], format!("/scim/v2/Users/{id}"));
        assert_eq!(resource["groups"], json!([]));
        assert!(uuid::Uuid::parse_str(&id).is_ok());

        assert_eq!(outcome.updates.len(), 1);
        let update = &outcome.updates[0];
        assert_eq!(update.id, id);
        assert!(update.before.is_none());
        let after = update.after.as_ref().expect("identity");
        assert_eq!(after.get("id"), Some(&s(&id)));
        assert_eq!(after.get("username"), Some(&s("test.user@okta.local")));
        assert_eq!(after.get("email"), Some(&s("test.user@okta.local")));
        assert_eq!(after.get("display_name"), Some(&s("Test User")));
        assert_eq!(after.get("external_id"), Some(&s("00ujl29u0le5T6Aj10h7")));
        assert_eq!(after.get("status"), Some(&s("active")));
        // In no group: the empty set, present.
        assert_eq!(after.get("groups"), Some(&set(&[])));
        assert_eq!(after.get("department"), None);
    }

    #[test]
    fn password_is_never_stored_nor_returned() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("okta/03-create-user-wire-headers.json"));
        let id = created_id(&outcome);
        assert!(outcome
            .response
            .as_ref()
            .expect("body")
            .get("password")
            .is_none());
        let record = env.record(ScimKind::User, &id).expect("stored");
        assert!(!record.body.to_string().contains("4a9XuKkx"));
        assert!(
            record.body.get("groups").is_none(),
            "readOnly groups [] is not stored"
        );
        assert_eq!(record.body["locale"], "en_US");
        // PUT re-sends a password: still not stored.
        let put = fixture_at("okta/06-put-user-wire-headers.json", &id);
        let outcome = env.ok(&put);
        assert!(!outcome
            .response
            .expect("body")
            .to_string()
            .contains("TkdFNVdIVkxhM2c9"));
        assert!(!env
            .record(ScimKind::User, &id)
            .expect("stored")
            .body
            .to_string()
            .contains("TkdFNVdIVkxhM2c9"));
        // Nor through PATCH.
        let patch = ScimRequest::new("PATCH", format!("/Users/{id}")).with_body(json!({
            "Operations": [{"op": "replace", "path": "password", "value": "secret"},
                           {"op": "replace", "value": {"password": "secret2"}}]}));
        env.ok(&patch);
        assert!(!env
            .record(ScimKind::User, &id)
            .expect("stored")
            .body
            .to_string()
            .contains("secret"));
    }

    #[test]
    fn okta_spec_test_recreating_a_user_is_409() {
        let mut env = Env::new();
        let mut first = fixture("okta/17-spec-test-create-user.json");
        first.body = Some(
            serde_json::from_str(
                &body_of(&first)
                    .to_string()
                    .replace("{{randomUsername}}", "Runscope.User@example.com")
                    .replace("{{randomGivenName}}", "Run")
                    .replace("{{randomFamilyName}}", "Scope")
                    .replace("{{randomEmail}}", "runscope@example.com"),
            )
            .expect("json"),
        );
        assert_eq!(env.ok(&first).status, 201);
        let mut again = fixture("okta/18-spec-test-recreate-duplicate.json");
        again.body = first.body.clone();
        let error = env.err(&again);
        assert_eq!((error.status, error.scim_type), (409, Some("uniqueness")));
        assert_eq!(error.to_json()["status"], "409");
        // userName is case-insensitive.
        let shouting = ScimRequest::new("POST", "/Users")
            .with_body(json!({"userName": "RUNSCOPE.USER@EXAMPLE.COM"}));
        assert_eq!(env.err(&shouting).status, 409);
    }

    #[test]
    fn entra_create_with_enterprise_urn_but_no_extension_object() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("entra/03-create-user.json"));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(
            after.get("username"),
            Some(&s("Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"))
        );
        assert_eq!(
            after.get("external_id"),
            Some(&s("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"))
        );
        let resource = outcome.response.expect("body");
        assert_eq!(resource["meta"]["resourceType"], "User");
        assert_eq!(resource["roles"], json!([]));
        assert_eq!(resource["name"]["formatted"], "givenName familyName");
    }

    #[test]
    fn entra_legacy_nulls_invent_nothing() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("entra/04-create-user-legacy-nulls.json"));
        let id = created_id(&outcome);
        let after = outcome.updates[0].after.as_ref().expect("identity");
        for absent in ["title", "department", "manager"] {
            assert_eq!(after.get(absent), None, "{absent}");
        }
        assert_eq!(after.get("email"), Some(&s("jyoung@Contoso.com")));
        let body = &env.record(ScimKind::User, &id).expect("stored").body;
        for absent in [
            "addresses",
            "phoneNumbers",
            "preferredLanguage",
            "title",
            "department",
            "manager",
        ] {
            assert!(body.get(absent).is_none(), "{absent} stored from null");
        }
        // The malformed extension URN in `schemas` is kept as sent, not refused.
        assert_eq!(
            body["schemas"][1],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
        );
    }

    #[test]
    fn enterprise_attributes_at_the_top_level_move_into_the_extension() {
        let mut env = Env::new();
        let outcome = env.ok(&ScimRequest::new("POST", "/scim/Users").with_body(json!({
            "userName": "top@example.com", "department": "Sales", "manager": "boss-1"})));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("department"), Some(&s("Sales")));
        assert_eq!(after.get("manager"), Some(&s("boss-1")));
        let resource = outcome.response.expect("body");
        assert_eq!(resource[ENTERPRISE]["department"], "Sales");
        assert!(resource.get("department").is_none());
    }

    #[test]
    fn entra_schema_example_bare_string_manager_and_custom_extension() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture(
            "entra/31-schema-example-enterprise-and-custom-extension.json",
        ));
        let id = created_id(&outcome);
        assert_ne!(id, "48af03ac28ad4fb88478", "a client id is ignored");
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("manager"), Some(&s("123456")));
        let resource = env.get(&format!("/Users/{id}"));
        assert_eq!(
            resource["urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"]["tag"],
            "701984"
        );
        assert_eq!(
            resource["meta"]["version"], "W/\"1\"",
            "the client's meta is ignored"
        );
        assert_eq!(resource["meta"]["created"], "2026-11-25T10:00:00Z");
        // The doc's original has a trailing comma: invalid JSON, refused as such.
        let text = r#"{"method": "POST", "path": "/Users", "body": {"userName": "b", "x": {"tag": "701984",}}}"#;
        let error = ScimRequest::from_json(text).expect_err("trailing comma");
        assert_eq!(
            (error.status, error.scim_type),
            (400, Some("invalidSyntax"))
        );
    }

    #[test]
    fn onelogin_template_blank_substitutions_are_absent() {
        let mut env = Env::new();
        let template = body_of(&fixture(
            "others/01-onelogin-create-user-enterprise-template.json",
        ))
        .to_string();
        let filled = template
            .replace("{$parameters.scimusername}", "olivia@example.com")
            .replace("{$user.email}", "olivia@example.com")
            .replace("{$parameters.department}", "Finance")
            .replace("{$parameters.external_manager_id}", "")
            .replace("{$user.manager_firstname}", "")
            .replace("{$user.manager_lastname}", "");
        let filled = regex_free_blank(&filled);
        let outcome = env.ok(&ScimRequest::new("POST", "/Users")
            .with_body(serde_json::from_str(&filled).expect("json")));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("department"), Some(&s("Finance")));
        for absent in [
            "title",
            "user_type",
            "organization",
            "division",
            "manager",
            "display_name",
        ] {
            assert_eq!(after.get(absent), None, "{absent}");
        }
        // Stored as sent, blank strings included.
        let resource = outcome.response.expect("body");
        assert_eq!(resource[ENTERPRISE]["manager"]["displayName"], " ");
    }

    /// Every remaining `{$…}` placeholder substituted by the empty string.
    fn regex_free_blank(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{$") {
            out.push_str(&rest[..start]);
            match rest[start..].find('}') {
                Some(end) => rest = &rest[start + end + 1..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn onelogin_string_active_and_null_id() {
        for (active, status) in [
            ("true", "active"),
            ("false", "inactive"),
            ("FALSE", "inactive"),
        ] {
            let mut env = Env::new();
            let filled = body_of(&fixture(
                "others/02-onelogin-create-user-template-variant.json",
            ))
            .to_string()
            .replace("{$user.active}", active)
            .replace("{$parameters.scimusername}", "oscar@example.com")
            .replace("{$parameters.department}", "Ops");
            let outcome = env.ok(&ScimRequest::new("POST", "/Users")
                .with_body(serde_json::from_str(&filled).expect("json")));
            let after = outcome.updates[0].after.as_ref().expect("identity");
            assert_eq!(after.get("status"), Some(&s(status)));
            assert_eq!(
                after.get("department"),
                Some(&s("Ops")),
                "extension without its URN in schemas"
            );
            // managerId is not the RFC's manager.value: not mapped.
            assert_eq!(after.get("manager"), None);
            assert_eq!(
                outcome.response.expect("body")["active"],
                json!(active.eq_ignore_ascii_case("true"))
            );
        }
        // A template that was not substituted is refused, not read as true.
        let mut env = Env::new();
        let error = env.err(&fixture(
            "others/02-onelogin-create-user-template-variant.json",
        ));
        assert_eq!(error.scim_type, Some("invalidValue"));
    }

    #[test]
    fn attribute_names_are_case_insensitive() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture(
            "others/03-ms-reference-postman-enterprise-user.json",
        ));
        let id = created_id(&outcome);
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("department"), Some(&s("bob")));
        assert_eq!(after.get("manager"), Some(&s("SuzzyQ")));
        assert_eq!(after.get("email"), Some(&s("testing@bob2.com")));
        // One canonical stored form.
        let body = &env.record(ScimKind::User, &id).expect("stored").body;
        assert_eq!(body[ENTERPRISE]["manager"]["value"], "SuzzyQ");
        assert_eq!(body["emails"][0]["primary"], true);
        // Two spellings of one attribute are refused.
        let twice = ScimRequest::new("POST", "/Users")
            .with_body(json!({"userName": "x", "title": "a", "Title": "b"}));
        assert_eq!(env.err(&twice).scim_type, Some("invalidSyntax"));
    }

    #[test]
    fn duplicate_work_emails_pick_the_primary_one() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture(
            "others/04-ms-reference-playwright-user-enterprise.json",
        ));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("email"), Some(&s("anna33@gmail.com")));
        assert_eq!(after.get("department"), Some(&s("some department")));
        assert_eq!(after.get("title"), Some(&s("Site engineer")));
        let resource = outcome.response.expect("body");
        assert!(
            resource["addresses"][1].get("locality").is_none(),
            "null sub-attribute dropped"
        );
        assert_eq!(resource["meta"]["created"], "2026-11-25T10:00:00Z");
    }
}

mod movers {
    use super::*;

    #[test]
    fn okta_full_put_replaces_everything_but_memberships() {
        let mut env = okta_world();
        let before = env.identity(OKTA_USER);
        assert_eq!(before.get("groups"), Some(&set(&["Test SCIMv2"])));
        assert_eq!(before.get("display_name"), Some(&s("Test User")));
        let outcome = env.ok(&fixture("okta/05-put-user-profile-update.json"));
        assert_eq!(outcome.status, 200);
        assert_eq!(outcome.etag.as_deref(), Some("W/\"2\""));
        let resource = outcome.response.as_ref().expect("body");
        // Not re-sent: gone.
        for gone in ["displayName", "externalId", "locale"] {
            assert!(resource.get(gone).is_none(), "{gone}");
        }
        // Re-sent: kept, and the new attribute is there.
        assert_eq!(resource["name"]["middleName"], "Excited");
        assert_eq!(resource["emails"][0]["display"], "test.user@okta.local");
        // `groups: []` did not wipe memberships.
        assert_eq!(resource["groups"][0]["value"], OKTA_GROUP);
        assert_eq!(outcome.updates.len(), 1);
        let update = &outcome.updates[0];
        assert_eq!(update.before.as_ref(), Some(&before));
        let after = update.after.as_ref().expect("identity");
        assert_eq!(after.get("display_name"), None);
        assert_eq!(after.get("external_id"), None);
        assert_eq!(after.get("groups"), Some(&set(&["Test SCIMv2"])));
        assert!(matches!(&outcome.writes[..], [ScimWrite::Put(r)] if r.version == 2));
    }

    #[test]
    fn okta_put_echoing_non_iso_meta_is_accepted() {
        let mut env = Env::new();
        env.user(
            "u1",
            json!({"userName": "jane.doe@example.com", "displayName": "Jane"}),
        );
        let outcome = env.ok(&fixture_at("okta/06-put-user-wire-headers.json", "u1"));
        let resource = outcome.response.expect("body");
        assert_eq!(resource["meta"]["version"], "W/\"2\"");
        assert_eq!(resource["meta"]["created"], "2026-11-25T10:00:00Z");
        assert_eq!(resource["id"], "u1");
    }

    #[test]
    fn an_unchanged_put_writes_nothing_and_updates_nobody() {
        let mut env = okta_world();
        env.ok(&fixture("okta/05-put-user-profile-update.json"));
        let again = env.ok(&fixture("okta/05-put-user-profile-update.json"));
        assert_eq!(again.status, 200);
        assert!(again.writes.is_empty());
        assert!(again.updates.is_empty());
        assert_eq!(again.etag.as_deref(), Some("W/\"2\""));
    }

    #[test]
    fn entra_patch_value_filter_and_sub_attribute_paths() {
        let mut env = Env::new();
        env.user("6764549bef60420686bc", json!({"userName": "u", "name": {"givenName": "G", "familyName": "F"},
            "emails": [{"type": "home", "value": "home@x"}, {"type": "work", "value": "old@x", "primary": true}]}));
        let outcome = env.ok(&fixture("entra/06-patch-user-multivalued-replace.json"));
        let update = &outcome.updates[0];
        assert_eq!(
            update.before.as_ref().and_then(|i| i.get("email")),
            Some(&s("old@x"))
        );
        assert_eq!(
            update.after.as_ref().and_then(|i| i.get("email")),
            Some(&s("updatedEmail@microsoft.com"))
        );
        let resource = outcome.response.expect("body");
        assert_eq!(resource["name"]["familyName"], "updatedFamilyName");
        assert_eq!(resource["name"]["givenName"], "G");
        assert_eq!(resource["emails"][0]["value"], "home@x");
    }

    #[test]
    fn a_value_filter_that_matches_nothing_creates_the_element() {
        let mut env = Env::new();
        env.user("6764549bef60420686bc", json!({"userName": "u"}));
        let outcome = env.ok(&fixture("entra/06-patch-user-multivalued-replace.json"));
        assert_eq!(
            outcome.response.expect("body")["emails"],
            json!([{"type": "work", "value": "updatedEmail@microsoft.com"}])
        );
        // A filter that does not pin the element down cannot create it.
        let patch = ScimRequest::new("PATCH", "/Users/6764549bef60420686bc").with_body(json!({
            "Operations": [{"op": "replace", "path": "phoneNumbers[type co \"mob\"].value", "value": "1"}]}));
        assert_eq!(env.err(&patch).scim_type, Some("noTarget"));
    }

    #[test]
    fn entra_username_change_keeps_the_identity_id() {
        let mut env = Env::new();
        env.user(
            "5171a35d82074e068ce2",
            json!({"userName": "old@testuser.com"}),
        );
        let outcome = env.ok(&fixture("entra/07-patch-user-single-valued-username.json"));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("id"), Some(&s("5171a35d82074e068ce2")));
        assert_eq!(
            after.get("username"),
            Some(&s("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"))
        );
        // Renaming onto another user's userName is 409.
        env.user("other", json!({"userName": "taken@x"}));
        let clash = ScimRequest::new("PATCH", "/Users/5171a35d82074e068ce2").with_body(
            json!({"Operations": [{"op": "replace", "path": "userName", "value": "Taken@X"}]}),
        );
        assert_eq!(env.err(&clash).status, 409);
    }

    #[test]
    fn entra_add_of_an_unmapped_attribute_writes_without_an_update() {
        for file in [
            "entra/11-patch-user-add-attribute-default.json",
            "entra/12-patch-user-add-attribute-flag.json",
        ] {
            let mut env = Env::new();
            env.user("u1", json!({"userName": "babs"}));
            let outcome = env.ok(&fixture_at(file, "u1"));
            assert_eq!(outcome.response.expect("body")["nickName"], "Babs");
            assert_eq!(outcome.writes.len(), 1);
            assert!(outcome.updates.is_empty(), "nickName is not mapped");
        }
    }

    #[test]
    fn entra_replace_multiple_with_urn_qualified_path() {
        let mut env = Env::new();
        env.user(
            "u1",
            json!({"userName": "u", "emails": [{"type": "work", "value": "a@x"}]}),
        );
        let outcome = env.ok(&fixture_at(
            "entra/13-patch-user-replace-multiple-default.json",
            "u1",
        ));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("employee_number"), Some(&s("Eqpj")));
        assert_eq!(after.get("external_id"), Some(&s("Eqpj")));
        assert_eq!(after.get("display_name"), Some(&s("Pvlo")));
        assert_eq!(
            after.get("email"),
            Some(&s("TestBcwqnm@test.microsoft.com"))
        );
        let resource = outcome.response.expect("body");
        assert_eq!(
            resource["name"],
            json!({"givenName": "Gtfd", "familyName": "Pkqf"})
        );
    }

    #[test]
    fn entra_pathless_replace_with_dotted_and_urn_keys() {
        let mut env = Env::new();
        env.user(
            "u1",
            json!({"userName": "u", "name": {"givenName": "Old", "formatted": "Old U"}}),
        );
        let outcome = env.ok(&fixture_at(
            "entra/14-patch-user-replace-multiple-flag.json",
            "u1",
        ));
        let resource = outcome.response.expect("body");
        assert_eq!(resource["name"]["givenName"], "Kkom");
        assert_eq!(resource["name"]["familyName"], "Unua");
        assert_eq!(resource["name"]["formatted"], "Old U");
        assert!(resource.get("name.givenName").is_none());
        assert_eq!(resource[ENTERPRISE]["employeeNumber"], "Aklq");
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("employee_number"), Some(&s("Aklq")));
        assert_eq!(after.get("display_name"), Some(&s("Bjfe")));
        assert_eq!(
            after.get("email"),
            Some(&s("TestMhvaes@test.microsoft.com"))
        );
    }

    #[test]
    fn entra_bare_manager_path_with_an_array_value() {
        let mut env = Env::new();
        env.user(
            "a0a0a0a0-bbbb-cccc-dddd-e1e1e1e1e1e1",
            json!({"userName": "u"}),
        );
        let outcome = env.ok(&fixture("entra/15-patch-user-add-manager-array.json"));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(
            after.get("manager"),
            Some(&s("00aa00aa-bb11-cc22-dd33-44ee44ee44ee"))
        );
        let resource = outcome.response.expect("body");
        assert_eq!(
            resource[ENTERPRISE]["manager"]["value"],
            "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
        );
        assert!(resource.get("manager").is_none());
    }

    #[test]
    fn entra_add_on_the_enterprise_department_path() {
        let mut env = Env::new();
        env.user(
            "ac56b4e5-e079-46d0-810e-85ddbd223b09",
            json!({"userName": "u"}),
        );
        let outcome = env.ok(&fixture(
            "entra/17-patch-user-2020-add-enterprise-department.json",
        ));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("department"), Some(&s("Tech Infrastructure")));
    }

    #[test]
    fn primary_replace_through_a_value_filter_clears_the_others() {
        let mut env = Env::new();
        env.user(
            "u1",
            json!({"userName": "u", "emails": [
            {"type": "home", "value": "h@x", "primary": true}, {"type": "work", "value": "w@x"}]}),
        );
        let patch = ScimRequest::new("PATCH", "/Users/u1").with_body(json!({"Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}]}));
        let resource = env.ok(&patch).response.expect("body");
        assert_eq!(resource["emails"][0]["primary"], false);
        assert_eq!(resource["emails"][1]["primary"], true);
    }
}

mod leavers {
    use super::*;

    fn deactivates(env: &mut Env, request: &ScimRequest, id: &str) {
        let outcome = env.ok(request);
        assert_eq!(outcome.status, 200);
        assert_eq!(outcome.updates.len(), 1);
        let update = &outcome.updates[0];
        assert_eq!(update.id, id);
        assert_eq!(
            update.before.as_ref().and_then(|i| i.get("status")),
            Some(&s("active"))
        );
        assert_eq!(
            update.after.as_ref().and_then(|i| i.get("status")),
            Some(&s("inactive"))
        );
        // Still readable, inactive.
        let resource = env.get(&format!("/Users/{id}"));
        assert_eq!(resource["active"], false);
        assert_eq!(
            env.record(ScimKind::User, id).expect("kept").body["active"],
            false
        );
    }

    #[test]
    fn okta_pathless_deactivation() {
        let mut env = okta_world();
        let mut request = fixture("okta/07-patch-deactivate.json");
        deactivates(&mut env, &request, OKTA_USER);
        // The same again: nothing changes.
        let again = env.ok(&request);
        assert!(again.writes.is_empty() && again.updates.is_empty());
        let mut env = okta_world();
        request = fixture_at("okta/08-patch-deactivate-wire-headers.json", OKTA_USER);
        deactivates(&mut env, &request, OKTA_USER);
        // Okta re-reads the user before updating: GET works on an inactive user.
        let get = fixture("okta/04-get-user.json");
        assert_eq!(env.ok(&get).response.expect("body")["active"], false);
    }

    #[test]
    fn entra_disable_forms() {
        for file in [
            "entra/08-patch-user-disable.json",
            "entra/09-patch-user-disable-string-False.json",
            "entra/10-patch-user-disable-flag.json",
        ] {
            let mut env = Env::new();
            env.user(
                "5171a35d82074e068ce2",
                json!({"userName": "u", "active": true}),
            );
            deactivates(
                &mut env,
                &fixture_at(file, "5171a35d82074e068ce2"),
                "5171a35d82074e068ce2",
            );
        }
        // Neither truthiness nor a 400 for other strings: anything but true/false is refused.
        let mut env = Env::new();
        env.user("u1", json!({"userName": "u"}));
        let odd = ScimRequest::new("PATCH", "/Users/u1")
            .with_body(json!({"Operations": [{"op": "Replace", "path": "active", "value": "no"}]}));
        assert_eq!(env.err(&odd).scim_type, Some("invalidValue"));
    }

    #[test]
    fn entra_2020_pathless_active_and_username_change_together() {
        let mut env = Env::new();
        env.user(
            "ac56b4e5-e079-46d0-810e-85ddbd223b09",
            json!({"userName": "before", "emails": [
            {"type": "work", "value": "old@contoso.com"}]}),
        );
        let outcome = env.ok(&fixture(
            "entra/16-patch-user-2020-pathless-active-and-username.json",
        ));
        let after = outcome.updates[0].after.as_ref().expect("identity");
        assert_eq!(after.get("status"), Some(&s("inactive")));
        assert_eq!(after.get("username"), Some(&s("someone")));
        assert_eq!(after.get("email"), Some(&s("someone@contoso.com")));
        assert_eq!(
            outcome.response.expect("body")["emails"][0]["primary"],
            true
        );
    }

    #[test]
    fn delete_user_purges_her_and_removes_her_memberships() {
        let mut env = Env::new();
        env.user("5171a35d82074e068ce2", json!({"userName": "leaver"}));
        env.user("stays", json!({"userName": "stays"}));
        env.group("g1", json!({"displayName": "one", "members": [{"value": "5171a35d82074e068ce2"}, {"value": "stays"}]}));
        env.group(
            "g2",
            json!({"displayName": "two", "members": [{"value": "stays"}]}),
        );
        let outcome = env.ok(&fixture("entra/18-delete-user.json"));
        assert_eq!(outcome.status, 204);
        assert!(outcome.response.is_none());
        assert_eq!(outcome.updates.len(), 1);
        let update = &outcome.updates[0];
        assert_eq!(update.id, "5171a35d82074e068ce2");
        assert_eq!(groups_of(update).0, Some(set(&["one"])));
        assert!(update.after.is_none());
        // g1 rewritten (version bumped), then the user deleted.
        assert!(
            matches!(&outcome.writes[..], [ScimWrite::Put(g), ScimWrite::Delete(ScimKind::User, _)] if g.id == "g1" && g.version == 2)
        );
        assert_eq!(
            env.record(ScimKind::Group, "g1").expect("g1").body["members"],
            json!([{"value": "stays"}])
        );
        let error = env.err(&ScimRequest::new("GET", "/Users/5171a35d82074e068ce2"));
        assert_eq!(error.status, 404);
        assert_eq!(env.err(&fixture("entra/18-delete-user.json")).status, 404);
    }
}

mod groups {
    use super::*;

    #[test]
    fn okta_group_push_creates_an_empty_group() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("okta/09-create-group.json"));
        assert_eq!(outcome.status, 201);
        assert!(outcome.updates.is_empty());
        let resource = outcome.response.expect("body");
        assert_eq!(resource["meta"]["resourceType"], "Group");
        assert_eq!(resource["members"], json!([]));
    }

    #[test]
    fn okta_group_created_with_members_updates_them() {
        let mut env = Env::new();
        env.user(
            "85467bb36e1c4f8991750501bf491962",
            json!({"userName": "steve@ad.oktatest.com"}),
        );
        env.user(
            "2fabb15c24a2440c93a0214599603bcb",
            json!({"userName": "bob@ad.oktatest.com"}),
        );
        env.user("bystander", json!({"userName": "bystander"}));
        let outcome = env.ok(&fixture("okta/10-create-group-with-members.json"));
        let ids: Vec<&str> = outcome.updates.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "2fabb15c24a2440c93a0214599603bcb",
                "85467bb36e1c4f8991750501bf491962"
            ]
        );
        for update in &outcome.updates {
            assert_eq!(
                groups_of(update),
                (Some(set(&[])), Some(set(&["Example Group"])))
            );
        }
        let resource = outcome.response.expect("body");
        assert_eq!(
            resource["members"][0]["$ref"],
            "/scim/v2/Users/85467bb36e1c4f8991750501bf491962"
        );
        // Users read their groups.
        let steve = env.get("/Users/85467bb36e1c4f8991750501bf491962");
        assert_eq!(steve["groups"][0]["display"], "Example Group");
    }

    #[test]
    fn unknown_members_are_refused_and_nothing_is_applied() {
        let mut env = Env::new();
        env.user(
            "85467bb36e1c4f8991750501bf491962",
            json!({"userName": "steve"}),
        );
        let error = env.err(&fixture("okta/10-create-group-with-members.json"));
        assert_eq!((error.status, error.scim_type), (400, Some("invalidValue")));
        assert!(error.detail.contains("2fabb15c24a2440c93a0214599603bcb"));
    }

    #[test]
    fn okta_rename_resend_is_a_no_op_and_a_real_rename_updates_members() {
        let mut env = okta_world();
        let outcome = env.ok(&fixture("okta/11-patch-group-rename-pathless.json"));
        assert_eq!(outcome.status, 200);
        assert!(outcome.writes.is_empty());
        assert!(outcome.updates.is_empty());
        let mut rename = fixture("okta/11-patch-group-rename-pathless.json");
        rename.body = Some(
            serde_json::from_str(
                &body_of(&rename)
                    .to_string()
                    .replace("Test SCIMv2", "Renamed"),
            )
            .expect("json"),
        );
        let outcome = env.ok(&rename);
        assert_eq!(outcome.updates.len(), 2);
        for update in &outcome.updates {
            assert_eq!(
                groups_of(update),
                (Some(set(&["Test SCIMv2"])), Some(set(&["Renamed"])))
            );
        }
    }

    #[test]
    fn entra_rename_updates_members() {
        let mut env = Env::new();
        env.user("u1", json!({"userName": "u1"}));
        env.group(
            "fa2ce26709934589afc5",
            json!({"displayName": "old", "members": [{"value": "u1"}]}),
        );
        let outcome = env.ok(&fixture("entra/22-patch-group-rename.json"));
        assert_eq!(outcome.updates.len(), 1);
        assert_eq!(
            groups_of(&outcome.updates[0]).1,
            Some(set(&[
                "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
            ]))
        );
    }

    #[test]
    fn okta_remove_by_filter_then_add() {
        let mut env = okta_world();
        env.user("third", json!({"userName": "third"}));
        env.group(OKTA_GROUP, json!({"displayName": "Test SCIMv2", "members": [{"value": OKTA_OTHER}, {"value": "third"}]}));
        let outcome = env.ok(&fixture("okta/12-patch-group-remove-and-add-members.json"));
        let summary: Vec<(&str, Change)> = outcome
            .updates
            .iter()
            .map(|u| (u.id.as_str(), groups_of(u)))
            .collect();
        assert_eq!(
            summary,
            vec![
                (OKTA_USER, (Some(set(&[])), Some(set(&["Test SCIMv2"])))),
                (OKTA_OTHER, (Some(set(&["Test SCIMv2"])), Some(set(&[])))),
            ]
        );
        let members = &env.record(ScimKind::Group, OKTA_GROUP).expect("group").body["members"];
        assert_eq!(
            members,
            &json!([{"value": "third"}, {"value": OKTA_USER, "display": "test.user@okta.local"}])
        );
    }

    #[test]
    fn okta_multi_remove_multi_add() {
        let mut env = Env::new();
        for id in ["removeUser1", "removeUser2", "addUser1", "addUser2", "keep"] {
            env.user(id, json!({"userName": id}));
        }
        env.group("g", json!({"displayName": "G", "members": [{"value": "removeUser1"}, {"value": "removeUser2"}, {"value": "keep"}]}));
        let outcome = env.ok(&fixture_at(
            "okta/13-patch-group-multi-remove-multi-add.json",
            "g",
        ));
        let ids: Vec<&str> = outcome.updates.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["addUser1", "addUser2", "removeUser1", "removeUser2"]);
    }

    #[test]
    fn okta_replace_all_members_and_put_group() {
        let mut env = okta_world();
        env.user("dropped", json!({"userName": "dropped"}));
        env.group(OKTA_GROUP, json!({"displayName": "Test SCIMv2", "members": [{"value": "dropped"}, {"value": OKTA_USER}]}));
        let outcome = env.ok(&fixture("okta/14-patch-group-replace-all-members.json"));
        let summary: Vec<(&str, Change)> = outcome
            .updates
            .iter()
            .map(|u| (u.id.as_str(), groups_of(u)))
            .collect();
        assert_eq!(
            summary,
            vec![
                (OKTA_OTHER, (Some(set(&[])), Some(set(&["Test SCIMv2"])))),
                ("dropped", (Some(set(&["Test SCIMv2"])), Some(set(&[])))),
            ]
        );
        // PUT: members omitted are removed.
        let outcome = env.ok(&fixture("okta/15-put-group-aiw.json"));
        assert_eq!(outcome.updates.len(), 1);
        assert_eq!(outcome.updates[0].id, OKTA_OTHER);
        assert_eq!(groups_of(&outcome.updates[0]).1, Some(set(&[])));
        // The same PUT again changes nothing.
        let again = env.ok(&fixture("okta/15-put-group-aiw.json"));
        assert!(again.writes.is_empty() && again.updates.is_empty());
    }

    #[test]
    fn group_delete_updates_every_member() {
        let mut env = okta_world();
        let outcome = env.ok(&fixture("okta/16-delete-group.json"));
        assert_eq!(outcome.status, 204);
        assert_eq!(outcome.updates.len(), 2);
        for update in &outcome.updates {
            assert_eq!(
                groups_of(update),
                (Some(set(&["Test SCIMv2"])), Some(set(&[])))
            );
        }
        assert_eq!(
            outcome.writes,
            vec![ScimWrite::Delete(ScimKind::Group, OKTA_GROUP.into())]
        );
        assert_eq!(
            env.err(&ScimRequest::new("GET", format!("/Groups/{OKTA_GROUP}")))
                .status,
            404
        );
        let mut env = Env::new();
        env.user("u1", json!({"userName": "u1"}));
        env.group(
            "cdb1ce18f65944079d37",
            json!({"displayName": "x", "members": [{"value": "u1"}]}),
        );
        assert_eq!(
            env.ok(&fixture("entra/28-delete-group.json")).updates.len(),
            1
        );
    }

    #[test]
    fn entra_group_create_tolerates_extra_schema_and_meta() {
        let mut env = Env::new();
        let outcome = env.ok(&fixture("entra/19-create-group.json"));
        let resource = outcome.response.expect("body");
        assert_eq!(
            resource["externalId"],
            "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
        );
        assert_eq!(
            resource["schemas"][1],
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
        );
        assert!(resource.get("members").is_none());
    }

    #[test]
    fn entra_member_add_and_remove_forms() {
        let group = "a99962b9f99d4c4fac67";
        let mut env = Env::new();
        env.user("f648f8d5ea4e4cd38e9c", json!({"userName": "f6"}));
        env.user("other", json!({"userName": "other"}));
        env.group(
            group,
            json!({"displayName": "G", "members": [{"value": "other"}]}),
        );
        let added = env.ok(&fixture("entra/23-patch-group-add-members.json"));
        assert_eq!(added.updates.len(), 1);
        assert_eq!(
            groups_of(&added.updates[0]),
            (Some(set(&[])), Some(set(&["G"])))
        );
        // Adding again: no change.
        assert!(env
            .ok(&fixture("entra/23-patch-group-add-members.json"))
            .updates
            .is_empty());
        // Non-RFC remove: only the listed member goes.
        let removed = env.ok(&fixture(
            "entra/24-patch-group-remove-members-value-array.json",
        ));
        assert_eq!(removed.updates.len(), 1);
        assert_eq!(removed.updates[0].id, "f648f8d5ea4e4cd38e9c");
        assert_eq!(
            env.record(ScimKind::Group, group).expect("g").body["members"],
            json!([{"value": "other"}])
        );

        let mut env = Env::new();
        env.user("u1091", json!({"userName": "u1091"}));
        env.user("other", json!({"userName": "other"}));
        env.group(
            "g",
            json!({"displayName": "G", "members": [{"value": "u1091"}, {"value": "other"}]}),
        );
        let removed = env.ok(&fixture_at(
            "entra/25-patch-group-remove-member-default.json",
            "g",
        ));
        assert_eq!(
            removed
                .updates
                .iter()
                .map(|u| u.id.as_str())
                .collect::<Vec<_>>(),
            ["u1091"]
        );

        let mut env = Env::new();
        env.user(
            "7f4bc1a3-285e-48ae-8202-5accb43efb0e",
            json!({"userName": "a"}),
        );
        env.user("other", json!({"userName": "other"}));
        env.group("g", json!({"displayName": "G", "members": [{"value": "7f4bc1a3-285e-48ae-8202-5accb43efb0e"}, {"value": "other"}]}));
        let removed = env.ok(&fixture_at(
            "entra/26-patch-group-remove-member-flag.json",
            "g",
        ));
        assert_eq!(
            removed
                .updates
                .iter()
                .map(|u| u.id.as_str())
                .collect::<Vec<_>>(),
            ["7f4bc1a3-285e-48ae-8202-5accb43efb0e"]
        );
        // A remove of `members` without a value removes them all.
        let all = env.ok(&ScimRequest::new("PATCH", "/Groups/g")
            .with_body(json!({"Operations": [{"op": "remove", "path": "members"}]})));
        assert_eq!(
            all.updates
                .iter()
                .map(|u| u.id.as_str())
                .collect::<Vec<_>>(),
            ["other"]
        );

        let mut env = Env::new();
        env.user(
            "10263a6910a84ef9a581dd9b8dcc0eae",
            json!({"userName": "hex"}),
        );
        env.group(
            "ac56b4e5-e079-46d0-810e-85ddbd223b09",
            json!({"displayName": "G"}),
        );
        let added = env.ok(&fixture("entra/27-patch-group-add-member-flag-2020.json"));
        assert_eq!(added.updates[0].id, "10263a6910a84ef9a581dd9b8dcc0eae");
    }

    #[test]
    fn entra_reads_groups_without_members() {
        let mut env = Env::new();
        env.user("u1", json!({"userName": "u1"}));
        env.group(
            "40734ae655284ad3abcc",
            json!({"displayName": "displayName", "members": [{"value": "u1"}]}),
        );
        let outcome = env.ok(&fixture("entra/20-get-group-excluding-members.json"));
        let resource = outcome.response.expect("body");
        assert!(resource.get("members").is_none());
        assert_eq!(resource["displayName"], "displayName");
        assert_eq!(resource["id"], "40734ae655284ad3abcc");
        let list = env
            .ok(&fixture("entra/21-get-group-by-displayname.json"))
            .response
            .expect("body");
        assert_eq!(list["totalResults"], 1);
        assert!(list["Resources"][0].get("members").is_none());
    }
}

mod queries {
    use super::*;

    fn people() -> Env {
        let mut env = Env::new();
        env.user("id-a", json!({"userName": "alice@example.com", "externalId": "ExtA", "title": "Engineer",
            "active": true, "name": {"familyName": "Anders"},
            "emails": [{"type": "work", "value": "alice@example.com", "primary": true}, {"type": "home", "value": "a@home"}],
            ENTERPRISE: {"department": "R&D", "manager": {"value": "id-c"}}}));
        env.user("id-b", json!({"userName": "bob@example.com", "externalId": "jyoung", "title": "Manager",
            "active": false, "name": {"familyName": "Brown"},
            "emails": [{"type": "home", "value": "bob@home"}], ENTERPRISE: {"department": "Sales"}}));
        env.user("id-c", json!({"userName": "carol@example.com", "title": "Engineer", "name": {"familyName": "Clark"}}));
        env
    }

    fn ids(env: &mut Env, filter: &str) -> Vec<String> {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        let response = env
            .ok(&ScimRequest::new("POST", "/scim/v2/Users/.search").with_body(body))
            .response
            .expect("list");
        response["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    }

    #[test]
    fn every_operator() {
        let mut env = people();
        let cases: &[(&str, &[&str])] = &[
            (r#"userName eq "alice@example.com""#, &["id-a"]),
            (r#"userName ne "alice@example.com""#, &["id-b", "id-c"]),
            (r#"userName co "OB@""#, &["id-b"]),
            (r#"userName sw "car""#, &["id-c"]),
            (r#"userName ew "example.com""#, &["id-a", "id-b", "id-c"]),
            (r#"name.familyName gt "Brown""#, &["id-c"]),
            (r#"name.familyName ge "Brown""#, &["id-b", "id-c"]),
            (r#"name.familyName lt "Brown""#, &["id-a"]),
            (r#"name.familyName le "Brown""#, &["id-a", "id-b"]),
            ("externalId pr", &["id-a", "id-b"]),
            ("active eq false", &["id-b"]),
            ("active eq true", &["id-a"]),
            ("externalId eq null", &["id-c"]),
            (
                r#"meta.created ge "2026-01-01T00:00:00Z""#,
                &["id-a", "id-b", "id-c"],
            ),
            (r#"meta.resourceType eq "User""#, &["id-a", "id-b", "id-c"]),
        ];
        for (filter, expected) in cases {
            assert_eq!(ids(&mut env, filter), *expected, "{filter}");
        }
    }

    #[test]
    fn logic_parentheses_and_value_paths() {
        let mut env = people();
        let cases: &[(&str, &[&str])] = &[
            (
                r#"title eq "Engineer" and not (userName sw "carol")"#,
                &["id-a"],
            ),
            (
                r#"title eq "Manager" or userName sw "carol""#,
                &["id-b", "id-c"],
            ),
            (
                r#"(title eq "Manager" or title eq "Engineer") and active eq true"#,
                &["id-a"],
            ),
            (
                r#"title eq "Manager" or title eq "Engineer" and active eq true"#,
                &["id-a", "id-b"],
            ),
            (r#"emails[type eq "work"]"#, &["id-a"]),
            (r#"emails[type eq "work" and primary eq true]"#, &["id-a"]),
            (r#"emails[type eq "home" and value co "bob"]"#, &["id-b"]),
            (r#"emails.value eq "a@home""#, &["id-a"]),
            (r#"emails eq "bob@home""#, &["id-b"]),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#,
                &["id-b"],
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "id-c""#,
                &["id-a"],
            ),
            (r#"manager eq "id-c""#, &["id-a"]),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com""#,
                &["id-b"],
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(ids(&mut env, filter), *expected, "{filter}");
        }
    }

    #[test]
    fn case_insensitive_names_operators_and_values_but_case_exact_ids() {
        let mut env = people();
        assert_eq!(
            ids(&mut env, r#"USERNAME EQ "ALICE@EXAMPLE.COM""#),
            ["id-a"]
        );
        assert_eq!(ids(&mut env, r#"Name.FamilyName Sw "an""#), ["id-a"]);
        assert_eq!(
            ids(&mut env, r#"title eq "engineer" AND Not (Active Eq False)"#),
            ["id-a", "id-c"]
        );
        assert_eq!(ids(&mut env, r#"id eq "id-a""#), ["id-a"]);
        assert!(ids(&mut env, r#"id eq "ID-A""#).is_empty());
        assert!(ids(&mut env, r#"externalId eq "exta""#).is_empty());
        assert_eq!(ids(&mut env, r#"externalId eq "ExtA""#), ["id-a"]);
    }

    #[test]
    fn entra_unquoted_values_are_read_as_strings() {
        let mut env = people();
        let list = env
            .ok(&fixture("entra/29-query-by-externalid-unquoted.json"))
            .response
            .expect("list");
        assert_eq!(list["totalResults"], 1);
        assert_eq!(list["Resources"][0]["id"], "id-b");
        // Never match-all: another unquoted value matches nobody.
        assert!(ids(&mut env, "externalId eq nobody").is_empty());
        // Entra's manager check: `id eq … and manager eq …` with attributes=id.
        let mut env = Env::new();
        env.user(
            "54D382A4-2050-4C03-94D1-E769F1D15682",
            json!({"userName": "x",
            ENTERPRISE: {"manager": {"value": "2819c223-7f76-453a-919d-413861904646"}}}),
        );
        env.user("someone-else", json!({"userName": "y"}));
        let list = env
            .ok(&fixture("entra/30-query-manager-reference-check.json"))
            .response
            .expect("list");
        assert_eq!(list["totalResults"], 1);
        let only = list["Resources"][0].as_object().expect("resource");
        let mut keys: Vec<&str> = only.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["id", "schemas"]);
    }

    #[test]
    fn list_responses_even_for_zero_and_one_hits() {
        let mut env = Env::new();
        let zero = env.ok(&fixture("okta/01-get-user-by-username-filter.json"));
        assert_eq!(zero.status, 200);
        let list = zero.response.expect("list");
        assert_eq!(
            list["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
        );
        assert_eq!(
            (
                list["totalResults"].clone(),
                list["itemsPerPage"].clone(),
                list["startIndex"].clone()
            ),
            (json!(0), json!(0), json!(1))
        );
        assert_eq!(list["Resources"], json!([]));
        env.ok(&fixture("okta/02-create-user.json"));
        let one = env
            .ok(&fixture("okta/01-get-user-by-username-filter.json"))
            .response
            .expect("list");
        assert_eq!(one["totalResults"], 1);
        assert_eq!(one["Resources"][0]["userName"], "test.user@okta.local");

        env.ok(&fixture("entra/03-create-user.json"));
        let hit = env
            .ok(&fixture("entra/01-get-user-by-username-filter.json"))
            .response
            .expect("list");
        assert_eq!(hit["totalResults"], 1);
        let miss = env
            .ok(&fixture("entra/02-get-user-by-query-zero-results.json"))
            .response
            .expect("list");
        assert_eq!(miss["totalResults"], 0);
    }

    #[test]
    fn malformed_filters_are_400_invalid_filter() {
        let mut env = people();
        let mut bare = fixture("okta/20-spec-test-malformed-filter.json");
        bare.path = bare
            .path
            .replace("{{randomUsernameCaps}}", "ALICE@EXAMPLE.COM");
        let error = env.err(&bare);
        assert_eq!(
            (error.status, error.scim_type),
            (400, Some("invalidFilter"))
        );
        for filter in [
            "userName",
            "userName eq",
            "userName eq \"a",
            "(userName pr",
            "userName xx \"a\"",
            "userName pr and",
            "emails[type eq \"work\"",
            "not userName pr",
            "userName pr)",
            "\"alice\"",
            "userName eq \"a\" or",
        ] {
            let error = env.err(
                &ScimRequest::new("POST", "/Users/.search").with_body(json!({"filter": filter})),
            );
            assert_eq!(error.scim_type, Some("invalidFilter"), "{filter}");
        }
        let deep = format!("{}userName pr{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(
            env.err(&ScimRequest::new("POST", "/Users/.search").with_body(json!({"filter": deep})))
                .scim_type,
            Some("invalidFilter")
        );
        // At most MAX_FILTER_TERMS comparisons: 64 pass, 65 are refused.
        let terms = |n: usize| vec!["userName pr"; n].join(" or ");
        let search = |filter: String| {
            ScimRequest::new("POST", "/Users/.search").with_body(json!({"filter": filter}))
        };
        assert_eq!(env.ok(&search(terms(64))).status, 200);
        let error = env.err(&search(terms(65)));
        assert_eq!(error.scim_type, Some("invalidFilter"));
        assert!(
            error.detail.contains("more than 64 comparisons"),
            "{}",
            error.detail
        );
        let long = format!("userName eq \"{}\"", "a".repeat(5000));
        assert_eq!(
            env.err(&ScimRequest::new("POST", "/Users/.search").with_body(json!({"filter": long})))
                .scim_type,
            Some("invalidFilter")
        );
    }

    #[test]
    fn pagination_and_sorting() {
        let mut env = people();
        let paged = env
            .ok(&fixture("okta/19-spec-test-list-users-paged.json"))
            .response
            .expect("list");
        assert_eq!(paged["totalResults"], 3);
        assert_eq!(paged["itemsPerPage"], 1);
        assert_eq!(paged["startIndex"], 1);
        assert_eq!(paged["Resources"][0]["id"], "id-a");
        let page2 = env.get("/Users?startIndex=2&count=2");
        assert_eq!(page2["Resources"].as_array().map(Vec::len), Some(2));
        assert_eq!(page2["Resources"][0]["id"], "id-b");
        assert_eq!(env.get("/Users?startIndex=9")["itemsPerPage"], 0);
        assert_eq!(env.get("/Users?count=0")["totalResults"], 3);
        assert_eq!(env.get("/Users?startIndex=0&count=1")["startIndex"], 1);
        let sorted = env
            .ok(
                &ScimRequest::new("POST", "/Users/.search").with_body(json!({
            "sortBy": "name.familyName", "sortOrder": "descending", "startIndex": 1, "count": 10})),
            )
            .response
            .expect("list");
        let order: Vec<&str> = sorted["Resources"]
            .as_array()
            .expect("r")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(order, ["id-c", "id-b", "id-a"]);
        assert_eq!(
            env.err(&ScimRequest::new("GET", "/Users?count=many"))
                .scim_type,
            Some("invalidValue")
        );
    }

    #[test]
    fn projections() {
        let mut env = people();
        let list = env.get("/Users?filter=userName%20eq%20%22alice%40example.com%22&attributes=userName,name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        let alice = &list["Resources"][0];
        assert_eq!(alice["id"], "id-a");
        assert_eq!(alice["userName"], "alice@example.com");
        assert_eq!(alice["name"], json!({"familyName": "Anders"}));
        assert_eq!(alice[ENTERPRISE], json!({"department": "R&D"}));
        assert!(alice.get("emails").is_none() && alice.get("meta").is_none());
        assert!(alice.get("schemas").is_some());
        let trimmed = env.get("/Users/id-a?excludedAttributes=emails,id,name.familyName");
        assert!(trimmed.get("emails").is_none());
        assert_eq!(trimmed["id"], "id-a");
        assert!(trimmed["name"].get("familyName").is_none());
        assert_eq!(trimmed["title"], "Engineer");
    }

    #[test]
    fn group_queries() {
        let mut env = people();
        env.group("g1", json!({"displayName": "Engineers", "externalId": "E1", "members": [{"value": "id-a"}, {"value": "id-c"}]}));
        env.group("g2", json!({"displayName": "Sales"}));
        let list = env.get("/Groups?filter=members.value%20eq%20%22id-c%22");
        assert_eq!(list["totalResults"], 1);
        assert_eq!(list["Resources"][0]["id"], "g1");
        let list = env.get("/Groups?filter=displayName+eq+%22sales%22");
        assert_eq!(list["Resources"][0]["id"], "g2");
        let list = env.get("/Users?filter=groups.display%20eq%20%22Engineers%22");
        assert_eq!(list["totalResults"], 2);
    }
}

mod protocol {
    use super::*;

    #[test]
    fn if_match() {
        let mut env = Env::new();
        env.user("u1", json!({"userName": "u"}));
        let patch = |tag: &str| {
            ScimRequest::new("PATCH", "/Users/u1")
                .with_body(
                    json!({"Operations": [{"op": "replace", "path": "title", "value": tag}]}),
                )
                .with_if_match(tag)
        };
        let error = env.err(&patch("W/\"7\""));
        assert_eq!(
            (error.status, error.scim_type),
            (412, Some("preconditionFailed"))
        );
        assert_eq!(env.ok(&patch("W/\"1\"")).etag.as_deref(), Some("W/\"2\""));
        assert_eq!(env.ok(&patch("\"2\"")).etag.as_deref(), Some("W/\"3\""));
        assert_eq!(env.ok(&patch("*")).etag.as_deref(), Some("W/\"4\""));
        assert_eq!(
            env.err(&ScimRequest::new("DELETE", "/Users/u1").with_if_match("W/\"1\""))
                .status,
            412
        );
        let put = ScimRequest::new("PUT", "/Users/u1")
            .with_body(json!({"userName": "u"}))
            .with_if_match("W/\"3\"");
        assert_eq!(env.err(&put).status, 412);
        // From a request file's headers.
        let file = r#"{"method": "DELETE", "path": "/Users/u1", "headers": {"if-match": "W/\"1\""}, "body": null}"#;
        let request = ScimRequest::from_json(file).expect("request");
        assert_eq!(request.if_match.as_deref(), Some("W/\"1\""));
        assert_eq!(env.err(&request).status, 412);
    }

    #[test]
    fn errors_change_nothing() {
        let mut env = okta_world();
        let cases: Vec<(ScimRequest, u16, Option<&str>)> = vec![
            (ScimRequest::new("GET", "/scim/v2/Schemas"), 404, None),
            (ScimRequest::new("GET", "/Users/nobody"), 404, None),
            (ScimRequest::new("PATCH", "/Users/nobody").with_body(json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]})), 404, None),
            (ScimRequest::new("POST", format!("/Users/{OKTA_USER}")), 405, None),
            (ScimRequest::new("TRACE", "/Users"), 405, None),
            (ScimRequest::new("GET", "/Users/.search"), 405, None),
            (ScimRequest::new("POST", "/Users"), 400, Some("invalidSyntax")),
            (ScimRequest::new("POST", "/Users").with_body(json!([1])), 400, Some("invalidSyntax")),
            (ScimRequest::new("POST", "/Users").with_body(json!({"displayName": "no userName"})), 400, Some("invalidValue")),
            (ScimRequest::new("POST", "/Users").with_body(json!({"userName": 7})), 400, Some("invalidValue")),
            (ScimRequest::new("POST", "/Groups").with_body(json!({"members": []})), 400, Some("invalidValue")),
            (ScimRequest::new("POST", "/Groups").with_body(json!({"displayName": "x", "members": ["u"]})), 400, Some("invalidValue")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [{"op": "move", "path": "title"}]})), 400, Some("invalidSyntax")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": []})), 400, Some("invalidSyntax")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [{"op": "remove"}]})), 400, Some("noTarget")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]})), 400, Some("invalidPath")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]})), 400, Some("mutability")),
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [{"op": "add", "path": "groups", "value": [{"value": OKTA_GROUP}]}]})), 400, Some("mutability")),
            // The first operation is fine, the second is not: nothing is applied.
            (ScimRequest::new("PATCH", format!("/Users/{OKTA_USER}")).with_body(json!({"Operations": [
                {"op": "replace", "path": "title", "value": "ok"}, {"op": "replace", "path": "active", "value": 3}]})), 400, Some("invalidValue")),
            (ScimRequest::new("PATCH", format!("/Groups/{OKTA_GROUP}")).with_body(json!({"Operations": [
                {"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [{"value": "ghost"}]}]})), 400, Some("invalidValue")),
            (ScimRequest::new("PUT", format!("/Users/{OKTA_USER}")).with_body(json!({"userName": "other@okta.local"})), 409, Some("uniqueness")),
        ];
        for (request, status, scim_type) in cases {
            let error = env.err(&request);
            assert_eq!(
                (error.status, error.scim_type),
                (status, scim_type),
                "{} {}",
                request.method,
                request.path
            );
            let json = error.to_json();
            assert_eq!(
                json["schemas"],
                json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
            );
            assert_eq!(json["status"], status.to_string());
        }
    }

    #[test]
    fn request_files() {
        let duplicate = r#"{"method": "POST", "path": "/Users", "body": {"userName": "a", "emails": [{"type": "work", "type": "home"}]}}"#;
        let error = ScimRequest::from_json(duplicate).expect_err("duplicate");
        assert_eq!(
            (error.status, error.scim_type),
            (400, Some("invalidSyntax"))
        );
        assert!(
            error.detail.contains("body.emails[0].type"),
            "{}",
            error.detail
        );
        assert!(ScimRequest::from_json(r#"{"method": "GET"}"#).is_err());
        assert!(
            ScimRequest::from_json(r#"{"method": "GET", "path": "/Users", "extra": 1}"#).is_err()
        );
        assert!(ScimRequest::from_json(r#"{"method": 1, "path": "/Users"}"#).is_err());
        let request = ScimRequest::from_json(r#"{"method": "GET", "path": "/Users"}"#).expect("ok");
        assert_eq!(request.body, None);
        // Every fixture reads.
        for dir in ["okta", "entra", "others"] {
            let path = format!("{}/tests/data/scim/{dir}", env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(&path).expect("dir") {
                let file = entry.expect("entry").path();
                let text = std::fs::read_to_string(&file).expect("read");
                ScimRequest::from_json(&text)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
            }
        }
    }

    #[test]
    fn every_fixture_is_handled_without_panicking() {
        for dir in ["okta", "entra", "others"] {
            let path = format!("{}/tests/data/scim/{dir}", env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(&path).expect("dir") {
                let file = entry.expect("entry").path();
                let text = std::fs::read_to_string(&file).expect("read");
                let request = ScimRequest::from_json(&text).expect("request");
                let mut env = okta_world();
                let _ = env.run(&request);
            }
        }
    }
}

mod mapping {
    use super::*;

    fn user() -> Value {
        json!({"userName": "pam", "title": "Cloud Engineer", "active": true, "nickName": "",
            "x-clearance": 3, "x-remote": false, "x-tags": ["a", "b", ""], "x-complex": {"k": 1},
            "roles": [{"value": "admin"}, {"value": "dev"}],
            "emails": [{"type": "work", "value": "pam@work"}],
            "phoneNumbers": [{"type": "mobile", "value": "1"}, {"type": "work", "value": "2"}],
            ENTERPRISE: {"costCenter": "CC1", "employeeNumber": "E7"}})
    }

    #[test]
    fn overrides_removals_and_value_translation() {
        let mapping = Mapping::from_toml(
            r#"
            [attributes]
            role = "title"
            email = ""
            cost_center = ""
            nick = "nickName"
            clearance = "x-clearance"
            remote = "x-remote"
            tags = ""
            labels = "x-tags"
            complex = "x-complex"
            roles = "roles"
            phone = 'phoneNumbers[type eq "work"].value'
            badge = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'

            [values.role]
            "Cloud Engineer" = "CloudEngineer"
        "#,
        );
        // `tags` is reserved even to remove it.
        assert_eq!(
            mapping.expect_err("tags").code(),
            "tenure::mapping::reserved_name"
        );

        let mapping = Mapping::from_toml(
            r#"
            [attributes]
            role = "title"
            email = ""
            cost_center = ""
            nick = "nickName"
            clearance = "x-clearance"
            remote = "x-remote"
            labels = "x-tags"
            complex = "x-complex"
            roles = "roles"
            phone = 'phoneNumbers[type eq "work"].value'
            badge = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'

            [values.role]
            "Cloud Engineer" = "CloudEngineer"
        "#,
        )
        .expect("mapping");
        let identity = mapping.identity("u1", &user(), &[]);
        assert_eq!(identity.get("id"), Some(&s("u1")));
        assert_eq!(identity.get("role"), Some(&s("CloudEngineer")));
        assert_eq!(
            identity.get("title"),
            Some(&s("Cloud Engineer")),
            "defaults stay"
        );
        assert_eq!(identity.get("email"), None);
        assert_eq!(identity.get("cost_center"), None);
        assert_eq!(identity.get("nick"), None, "blank is absent");
        assert_eq!(identity.get("clearance"), Some(&V::Int(3)));
        assert_eq!(identity.get("remote"), Some(&V::Bool(false)));
        assert_eq!(identity.get("labels"), Some(&set(&["a", "b"])));
        assert_eq!(identity.get("complex"), None);
        // A multi-valued complex attribute gives its preferred element (here the first).
        assert_eq!(identity.get("roles"), Some(&s("admin")));
        assert_eq!(identity.get("phone"), Some(&s("2")));
        assert_eq!(identity.get("badge"), Some(&s("E7")));
        assert_eq!(identity.get("employee_number"), Some(&s("E7")));
        let written: Vec<&str> = mapping.scim_attributes_written().collect();
        assert!(
            written.contains(&"role") && written.contains(&"groups") && written.contains(&"id")
        );
        assert!(!written.contains(&"email") && !written.contains(&"cost_center"));

        // A value not listed leaves the attribute absent.
        let mut other = user();
        other["title"] = json!("Accountant");
        assert_eq!(mapping.identity("u1", &other, &[]).get("role"), None);
    }

    #[test]
    fn status_defaults_and_overrides() {
        let mapping = Mapping::default();
        let absent = mapping.identity("u", &json!({"userName": "x"}), &[]);
        assert_eq!(absent.get("status"), Some(&s("active")));
        let inactive = mapping.identity("u", &json!({"userName": "x", "active": "False"}), &[]);
        assert_eq!(inactive.get("status"), Some(&s("inactive")));
        let custom =
            Mapping::from_toml("[values.status]\ntrue = \"enabled\"\nfalse = \"disabled\"\n")
                .expect("mapping");
        assert_eq!(
            custom
                .identity("u", &json!({"active": false}), &[])
                .get("status"),
            Some(&s("disabled"))
        );
    }

    #[test]
    fn group_memberships_from_display_name_external_id_or_id() {
        let groups = [
            json!({"id": "g1", "displayName": "Eng", "externalId": "E"}),
            json!({"id": "g2", "displayName": "Ops"}),
        ];
        let refs: Vec<&Value> = groups.iter().collect();
        let body = json!({"userName": "x"});
        assert_eq!(
            Mapping::default().identity("u", &body, &refs).get("groups"),
            Some(&set(&["Eng", "Ops"]))
        );
        let by_external =
            Mapping::from_toml("[groups]\nattribute = \"teams\"\nfrom = \"externalId\"\n")
                .expect("mapping");
        let identity = by_external.identity("u", &body, &refs);
        assert_eq!(identity.get("teams"), Some(&set(&["E"])));
        assert_eq!(identity.get("groups"), None);
        let by_id = Mapping::from_toml("[groups]\nfrom = \"id\"\n").expect("mapping");
        assert_eq!(
            by_id.identity("u", &body, &refs).get("groups"),
            Some(&set(&["g1", "g2"]))
        );
        let none = Mapping::from_toml("[groups]\nattribute = \"\"\n").expect("mapping");
        assert_eq!(none.identity("u", &body, &refs).get("groups"), None);
        let translated =
            Mapping::from_toml("[values.groups]\nEng = \"engineering\"\n").expect("mapping");
        assert_eq!(
            translated.identity("u", &body, &refs).get("groups"),
            Some(&set(&["engineering"]))
        );
    }

    #[test]
    fn errors_name_their_location() {
        let cases = [
            ("[atributes]\n", "tenure::mapping::invalid_toml", Some(1)),
            (
                "[attributes]\nrole = \"title\"\nbogus_key = 3\n",
                "tenure::mapping::invalid_toml",
                Some(3),
            ),
            (
                "[groups]\nfrom = \"displayName\"\nextra = 1\n",
                "tenure::mapping::invalid_toml",
                Some(3),
            ),
            (
                "[attributes]\n\nid = \"userName\"\n",
                "tenure::mapping::reserved_name",
                Some(3),
            ),
            (
                "[attributes]\nrole = \"emails[type eq\"\n",
                "tenure::mapping::invalid_path",
                Some(2),
            ),
            (
                "[groups]\nfrom = \"members\"\n",
                "tenure::mapping::invalid_groups",
                Some(2),
            ),
            (
                "[values.nothing]\na = \"b\"\n",
                "tenure::mapping::unmapped_values",
                None,
            ),
            (
                "[values.role]\na = 1\n",
                "tenure::mapping::invalid_toml",
                Some(2),
            ),
        ];
        for (text, code, line) in cases {
            let error = Mapping::from_toml(text).expect_err(text);
            assert_eq!(error.code(), code, "{text}: {error}");
            assert_eq!(error.line(), line, "{text}: {error}");
        }
    }

    #[test]
    fn content_hash_is_stable() {
        let a = Mapping::from_toml(
            "[attributes]\nrole = \"title\"\n[values.role]\nA = \"a\"\nB = \"b\"\n",
        )
        .expect("a");
        let b = Mapping::from_toml(
            "[values.role]\nB = \"b\"\nA = \"a\"\n\n[attributes]\nrole = 'title'\n",
        )
        .expect("b");
        assert_eq!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash().len(), 64);
        assert!(a.content_hash().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.content_hash(), Mapping::default().content_hash());
        assert_eq!(
            Mapping::default().content_hash(),
            Mapping::from_toml("").expect("empty").content_hash()
        );
    }

    #[test]
    fn the_mapping_decides_what_counts_as_an_identity_change() {
        let mapping = Mapping::from_toml("[attributes]\nnick = \"nickName\"\n").expect("mapping");
        let mut env = Env::with_mapping(mapping);
        env.user("u1", json!({"userName": "babs"}));
        let outcome = env.ok(&fixture_at(
            "entra/11-patch-user-add-attribute-default.json",
            "u1",
        ));
        assert_eq!(outcome.updates.len(), 1);
        assert_eq!(
            outcome.updates[0]
                .after
                .as_ref()
                .and_then(|i| i.get("nick")),
            Some(&s("Babs"))
        );
    }

    #[test]
    fn lookup_reads_like_the_mapping() {
        let body = user();
        assert_eq!(
            Mapping::lookup("TITLE", &body),
            Some(&json!("Cloud Engineer"))
        );
        assert_eq!(Mapping::lookup("costCenter", &body), Some(&json!("CC1")));
        assert_eq!(
            Mapping::lookup("emails.value", &body),
            Some(&json!("pam@work"))
        );
        assert_eq!(Mapping::lookup("emails[", &body), None);
        assert_eq!(Mapping::lookup("missing", &body), None);
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-zA-Z$.:\\[\\] \"]{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("members"),
                Just("emails"),
                Just("active"),
                Just("userName"),
                Just("value"),
                Just("displayName"),
                Just("members[value eq \"u1\"]"),
                Just("emails[type eq \"work\"].value"),
                Just(ENTERPRISE),
                Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
                Just("Operations"),
                Just("op"),
                Just("path"),
                Just("add"),
                Just("Remove"),
                Just("replace"),
                Just("u1"),
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("op".to_string()),
                            Just("path".to_string()),
                            Just("value".to_string()),
                            Just("Operations".to_string()),
                            Just("userName".to_string()),
                            Just("members".to_string()),
                            Just("displayName".to_string()),
                            Just("active".to_string()),
                            Just("emails".to_string()),
                            Just(ENTERPRISE.to_string()),
                            Just("filter".to_string()),
                            Just("count".to_string()),
                            "[a-zA-Z.]{1,8}",
                        ],
                        inner,
                    ),
                    0..6
                )
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn path() -> impl Strategy<Value = String> {
        (
            prop_oneof![
                Just("/scim/v2/Users"),
                Just("/Groups"),
                Just("/Users/u1"),
                Just("/Groups/g1"),
                Just("/Users/.search"),
                Just("~/scim/Users"),
                Just(""),
                Just("/")
            ],
            "[ -~]{0,40}",
        )
            .prop_map(|(base, tail)| format!("{base}{tail}"))
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("PUT"),
            Just("PATCH"),
            Just("DELETE"),
            Just("patch"),
            Just("X")
        ]
        .prop_map(str::to_string)
    }

    fn world() -> Env {
        let mut env = Env::new();
        env.user(
            "u1",
            json!({"userName": "u1", "emails": [{"type": "work", "value": "a@b"}]}),
        );
        env.user("u2", json!({"userName": "u2"}));
        env.group(
            "g1",
            json!({"displayName": "G", "members": [{"value": "u1"}]}),
        );
        env
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn handle_never_panics(method in method(), path in path(), body in proptest::option::of(json_value()), tag in proptest::option::of("[W/\"0-9*]{0,5}")) {
            let mut env = world();
            let request = ScimRequest { method, path, body, if_match: tag };
            if let Err(error) = env.run(&request) {
                prop_assert!(error.status >= 400);
            }
        }

        #[test]
        fn patches_never_panic(ops in prop::collection::vec(json_value(), 0..4), target in prop_oneof![Just("/Users/u1"), Just("/Groups/g1")]) {
            let mut env = world();
            let request = ScimRequest::new("PATCH", target).with_body(json!({"Operations": ops}));
            let _ = env.run(&request);
        }

        #[test]
        fn filters_never_panic(filter in "[a-zA-Z ()\\[\\]\"._:0-9-]{0,60}") {
            let mut env = world();
            let _ = env.run(&ScimRequest::new("POST", "/Users/.search").with_body(json!({"filter": filter})));
            let _ = env.run(&ScimRequest::new("GET", format!("/Groups?filter={filter}&sortBy={filter}&attributes={filter}")));
        }

        #[test]
        fn request_files_never_panic(text in "[{}\\[\\]\":, a-z0-9]{0,80}") {
            let _ = ScimRequest::from_json(&text);
        }
    }
}
