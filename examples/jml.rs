//! The Happy Place Company: one employee's joiner–mover–leaver lifecycle, driven by SCIM.
//!
//! Okta provisions Pamela into Tenure the way it provisions any SCIM app: it creates her
//! account in October 2022 and pushes her group, replaces her profile when she moves to
//! Cloud Engineering in September 2023, deactivates her at the end of her last day
//! (31 January 2025, 18:00 UTC — scheduled ahead, applied when the clock passes it) and
//! deletes her account in March 2025. The requests are the files in `examples/scim/`,
//! shaped as Okta sends them; `examples/scim/mapping.toml` derives her `role` from her
//! title.
//!
//! Every request goes through [`tenure_directory::Lifecycle`] on an embedded SQLite store
//! in a temporary directory: it becomes lifecycle events (join, move, leave, purge), each
//! committed with its journal record and the exact access it changed under the policy in
//! `happy_place.tenure` over the resources in `inventory.json`. At the end: her
//! entitlements (none) and the journal.
//!
//! Run it with `cargo run --example jml` (policy, inventory and requests are compiled into
//! the binary, so it works from any directory).

use std::error::Error;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use tenure::lifecycle::{Event, Timestamp};
use tenure::{Policy, Resource};
use tenure_directory::scim::ScimRequest;
use tenure_directory::{policy_hash, Lifecycle, Recorded};

/// The policy, as a proxy would load it from disk.
const POLICY: &str = include_str!("happy_place.tenure");
/// The resources behind the proxy: databases, SSH hosts, clusters, desktops, consoles.
const INVENTORY: &str = include_str!("inventory.json");
/// Okta's attribute mapping for the Happy Place app.
const MAPPING: &str = include_str!("scim/mapping.toml");

const CREATE_USER: &str = include_str!("scim/01-create-user.json");
const CREATE_GROUP_DEVOPS: &str = include_str!("scim/02-create-group-devops.json");
const PUT_USER_MOVER: &str = include_str!("scim/03-put-user-mover.json");
const REMOVE_FROM_DEVOPS: &str = include_str!("scim/04-patch-group-devops-remove.json");
const CREATE_GROUP_CLOUD: &str = include_str!("scim/05-create-group-cloud.json");
const DEACTIVATE_USER: &str = include_str!("scim/06-patch-user-deactivate.json");
const DELETE_USER: &str = include_str!("scim/07-delete-user.json");

/// The ids the service assigned so far, substituted for `{{name}}` in later requests
/// (Okta reads them from the responses the same way).
#[derive(Default)]
struct Ids(Vec<(&'static str, String)>);

impl Ids {
    fn request(&self, template: &str) -> Result<ScimRequest, Box<dyn Error>> {
        let mut text = template.to_string();
        for (name, id) in &self.0 {
            text = text.replace(&format!("{{{{{name}}}}}"), id);
        }
        Ok(ScimRequest::from_json(&text)?)
    }

    fn remember(
        &mut self,
        name: &'static str,
        response: Option<&Json>,
    ) -> Result<String, Box<dyn Error>> {
        let id = response
            .and_then(|r| r.get("id"))
            .and_then(Json::as_str)
            .ok_or("the response carries no id")?
            .to_string();
        self.0.push((name, id.clone()));
        Ok(id)
    }
}

/// A simulated clock the example moves forward (the service stamps records with it).
#[derive(Clone)]
struct Clock(Arc<Mutex<Timestamp>>);

impl Clock {
    fn set(&self, at: &str) -> Result<(), Box<dyn Error>> {
        let at: Timestamp = at.parse()?;
        *self.0.lock().map_err(|_| "clock poisoned")? = at;
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.0.lock().map(|t| *t).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

fn heading(date: &str, what: &str) {
    println!();
    println!("{}", "=".repeat(78));
    println!("{date} — {what}");
    println!("{}", "=".repeat(78));
}

/// `db-orders-dev [devops-staging]` for each item of a `gained` or `lost` list.
fn access_list(list: &Json) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let resource = item.get("resource").and_then(Json::as_str).unwrap_or("?");
                    let reasons: Vec<&str> = item
                        .get("reasons")
                        .and_then(Json::as_array)
                        .map(|r| r.iter().filter_map(Json::as_str).collect())
                        .unwrap_or_default();
                    format!("{resource} [{}]", reasons.join(", "))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Prints one journal record with the access it changed.
fn print_record(record: &Recorded) {
    let stamp = record
        .policy
        .as_ref()
        .map(|p| format!("policy v{}", p.version))
        .unwrap_or_default();
    println!(
        "  journal #{:<3} {:<6} source {:<9} at {}  {stamp}",
        record.seq, record.event, record.source, record.at
    );
    if let Some(changes) = record.change.get("changes").and_then(Json::as_array) {
        for change in changes {
            println!("      change  {change}");
        }
    }
    for (sign, list) in [("+", &record.gained), ("-", &record.lost)] {
        for line in access_list(list) {
            println!("      {sign} {line}");
        }
    }
}

/// Applies one SCIM request and prints what it did.
fn apply(lifecycle: &mut Lifecycle, request: &ScimRequest) -> Result<Option<Json>, Box<dyn Error>> {
    let applied = lifecycle.scim(request, "scim")?;
    println!("{} {} → {}", request.method, request.path, applied.status);
    if applied.records.is_empty() {
        println!("  (no identity changed)");
    }
    for record in &applied.records {
        print_record(record);
    }
    Ok(applied.response)
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let address = format!("sqlite:{}", dir.path().join("tenure.db").display());
    let mut lifecycle = Lifecycle::open(&address)?;
    let clock = Clock(Arc::new(Mutex::new("2022-09-30T09:00:00Z".parse()?)));
    let reading = clock.clone();
    lifecycle.set_clock(move || reading.now());

    println!("The Happy Place Company — Pamela's lifecycle, as Okta provisions it");
    println!("store: {address}");
    let policy = Policy::compile_sources([("happy_place.tenure", POLICY)])?;
    let stamp = lifecycle.set_policy(policy, &policy_hash(&[("happy_place.tenure", POLICY)]))?;
    println!(
        "policy: happy_place.tenure, version {} ({})",
        stamp.version, stamp.hash
    );
    lifecycle.set_mapping_toml(MAPPING, "cli")?;
    let resources: Vec<Json> = serde_json::from_str(INVENTORY)?;
    let events = resources
        .iter()
        .map(|r| {
            Ok(Event::AddResource {
                resource: Resource::from_json_value(r)?,
            })
        })
        .collect::<Result<Vec<_>, tenure::InputError>>()?;
    let added = lifecycle.apply_batch(events, "cli")?;
    println!(
        "inventory: {} resources imported",
        added.iter().filter(|r| r.is_ok()).count()
    );

    let mut ids = Ids::default();

    heading(
        "2022-10-03",
        "Joiner: Okta creates Pamela's account and pushes her group",
    );
    clock.set("2022-10-03T08:30:00Z")?;
    let created = apply(&mut lifecycle, &ids.request(CREATE_USER)?)?;
    let pamela = ids.remember("pamela", created.as_ref())?;
    let group = apply(&mut lifecycle, &ids.request(CREATE_GROUP_DEVOPS)?)?;
    ids.remember("okta-devops", group.as_ref())?;

    heading(
        "2023-09-01",
        "Mover: DevOps → Cloud Engineering (full PUT, then group pushes)",
    );
    clock.set("2023-09-01T07:00:00Z")?;
    apply(&mut lifecycle, &ids.request(PUT_USER_MOVER)?)?;
    apply(&mut lifecycle, &ids.request(REMOVE_FROM_DEVOPS)?)?;
    let group = apply(&mut lifecycle, &ids.request(CREATE_GROUP_CLOUD)?)?;
    ids.remember("okta-cloud", group.as_ref())?;

    heading(
        "2025-01-20",
        "Leaver, scheduled: deactivation effective 2025-01-31 18:00 UTC",
    );
    clock.set("2025-01-20T10:00:00Z")?;
    let last_day: Timestamp = "2025-01-31T18:00:00Z".parse()?;
    let id = lifecycle.schedule_scim(last_day, &ids.request(DEACTIVATE_USER)?)?;
    println!("scheduled #{id}: PATCH active=false at {last_day}");
    let morning: Timestamp = "2025-01-31T09:00:00Z".parse()?;
    clock.set("2025-01-31T09:00:00Z")?;
    println!(
        "{morning}: {} due — she still works today",
        lifecycle.advance(morning)?.len()
    );
    let evening: Timestamp = "2025-01-31T18:00:05Z".parse()?;
    clock.set("2025-01-31T18:00:05Z")?;
    println!("{evening}: the clock passed 18:00");
    for result in lifecycle.advance(evening)? {
        print_record(&result?);
    }
    let inventory = lifecycle.inventory()?.clone();
    let record = lifecycle.directory()?.get(&pamela).cloned();
    let reach = match (lifecycle.policy(), &record) {
        (Some(policy), Some(p)) => policy.entitlements(p, &inventory).len(),
        _ => 0,
    };
    let status = match record.as_ref().and_then(|p| p.get("status")) {
        Some(tenure::Value::Str(s)) => s.clone(),
        _ => "(none)".to_string(),
    };
    println!("still on record, status {status}; reachable resources: {reach}");

    heading("2025-03-03", "Purge: Okta deletes the deactivated account");
    clock.set("2025-03-03T12:00:00Z")?;
    apply(&mut lifecycle, &ids.request(DELETE_USER)?)?;

    println!();
    let on_record = lifecycle.directory()?.get(&pamela).is_some();
    println!("Pamela's entitlements now: none (on record: {on_record})");
    println!();
    println!("The journal ({address}):");
    let journal = lifecycle.journal(0)?;
    let imported = journal.iter().filter(|r| r.event == "resource_add").count();
    println!("  (and {imported} resource_add records: the inventory import)");
    for record in journal.iter().filter(|r| r.event != "resource_add") {
        let gained = record.gained.as_array().map_or(0, Vec::len);
        let lost = record.lost.as_array().map_or(0, Vec::len);
        println!(
            "  #{:<3} {}  {:<8} {:<15} {:<38} +{gained} -{lost}",
            record.seq,
            record.at,
            record.source,
            record.event,
            record
                .identity
                .as_deref()
                .or(record.resource.as_deref())
                .unwrap_or("-"),
        );
    }
    Ok(())
}
