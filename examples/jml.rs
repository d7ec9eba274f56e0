//! The Happy Place Company: one employee's joiner–mover–leaver lifecycle.
//!
//! Pamela joins in October 2022 as a DevOps Engineer, moves to Cloud Engineer in
//! September 2023 and leaves in January 2025. At each stage the proxy rebuilds her
//! identity from what Okta and HR say about her (her Okta groups decide her role), asks
//! the policy in `happy_place.tenure` about every resource in `inventory.json`, and
//! prints what she can reach, the rule that decided each answer, and what changed since
//! the previous stage.
//!
//! Run it with `cargo run --example jml` (the policy and inventory are compiled into the
//! binary, so it works from any directory).

use std::collections::BTreeSet;
use std::error::Error;

use tenure::{DecidedBy, Decision, Identity, Policy, Resource, UnknownCause};

/// The policy, as a proxy would load it from disk.
const POLICY: &str = include_str!("happy_place.tenure");
/// The resources the proxy fronts: databases, SSH hosts, clusters, desktops, consoles.
const INVENTORY: &str = include_str!("inventory.json");

/// What the identity provider (Okta) and HR say about a person at one moment.
struct Profile {
    login: &'static str,
    /// Okta's account status: `ACTIVE`, `DEPROVISIONED`, ...
    okta_status: &'static str,
    okta_groups: &'static [&'static str],
    /// From the HR system.
    department: &'static str,
    /// Security clearance from HR; `None` while vetting is still pending.
    clearance: Option<i64>,
    mfa_enrolled: bool,
}

/// Attribute derivation: the Okta group that makes someone a member of a role.
const GROUP_ROLES: &[(&str, &str)] = &[
    ("okta-devops", "DevOpsEngineer"),
    ("okta-cloud", "CloudEngineer"),
    ("okta-dba", "DBA"),
    ("okta-sre", "SRE"),
];

/// The role an Okta group list maps to, if any (the first mapped group wins).
fn role_of(groups: &[&str]) -> Option<(&'static str, &'static str)> {
    GROUP_ROLES
        .iter()
        .find(|(group, _)| groups.contains(group))
        .copied()
}

/// Builds the identity the policy sees from the upstream profile.
fn derive_identity(p: &Profile) -> Identity {
    let mut identity = Identity::new()
        .with("id", p.login)
        .with("status", p.okta_status.to_ascii_lowercase())
        .with_set("groups", p.okta_groups.iter().copied())
        .with("department", p.department)
        .with("mfa_enrolled", p.mfa_enrolled);
    if let Some((_, role)) = role_of(p.okta_groups) {
        identity = identity.with("role", role);
    }
    if let Some(level) = p.clearance {
        identity = identity.with("clearance", level);
    }
    identity
}

/// One step of the lifecycle.
struct Stage {
    date: &'static str,
    event: &'static str,
    story: &'static str,
    profile: Profile,
}

fn stages() -> [Stage; 3] {
    [
        Stage {
            date: "3 October 2022",
            event: "JOINER",
            story: "Pamela joins the Platform department as a DevOps Engineer. Okta puts her \
                    in okta-devops; her security vetting is still pending, so HR has no \
                    clearance on file.",
            profile: Profile {
                login: "pamela",
                okta_status: "ACTIVE",
                okta_groups: &["everyone", "okta-devops"],
                department: "Platform",
                clearance: None,
                mfa_enrolled: true,
            },
        },
        Stage {
            date: "1 September 2023",
            event: "MOVER",
            story: "Pamela moves to the Cloud department as a Cloud Engineer. Okta swaps \
                    okta-devops for okta-cloud; her vetting has come through at level 3.",
            profile: Profile {
                login: "pamela",
                okta_status: "ACTIVE",
                okta_groups: &["everyone", "okta-cloud"],
                department: "Cloud",
                clearance: Some(3),
                mfa_enrolled: true,
            },
        },
        Stage {
            date: "17 January 2025",
            event: "LEAVER",
            story: "Pamela leaves the company. Okta deprovisions her account; her group \
                    memberships linger until the nightly clean-up, but the `leavers` deny \
                    overrides every grant they would give.",
            profile: Profile {
                login: "pamela",
                okta_status: "DEPROVISIONED",
                okta_groups: &["everyone", "okta-cloud"],
                department: "Cloud",
                clearance: Some(3),
                mfa_enrolled: true,
            },
        },
    ]
}

/// Reads the inventory: a JSON array of resources.
fn load_inventory() -> Result<Vec<(String, Resource)>, Box<dyn Error>> {
    let json: serde_json::Value = serde_json::from_str(INVENTORY)
        .map_err(|e| format!("examples/inventory.json is not valid JSON: {e}"))?;
    let items = json
        .as_array()
        .ok_or("examples/inventory.json must be a JSON array of resources")?;
    let mut resources = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let resource =
            Resource::from_json_value(item).map_err(|e| e.located(&format!("inventory[{i}]")))?;
        let id = match resource.get("id") {
            Some(v) => v.to_string(),
            None => format!("resource #{i}"),
        };
        resources.push((id, resource));
    }
    Ok(resources)
}

/// The rule(s) that decided, in words.
fn explain(decision: &Decision) -> String {
    let mut parts = Vec::new();
    for reason in decision.reasons() {
        let mut part = reason.rule_id().to_string();
        if !reason.is_certain() {
            let unknowns: Vec<String> = reason
                .unknowns()
                .iter()
                .map(|u| {
                    let cause = match u.cause {
                        UnknownCause::Missing => "is missing",
                        UnknownCause::TypeMismatch => "has another type",
                        _ => "is unknown",
                    };
                    format!("{}.{} {cause}", u.side, u.attribute)
                })
                .collect();
            part.push_str(&format!(" (unknown: {})", unknowns.join(", ")));
        }
        parts.push(part);
    }
    match decision.decided_by() {
        DecidedBy::Grant => format!("granted by {}", parts.join(", ")),
        DecidedBy::Deny => format!("denied by {}", parts.join(", ")),
        DecidedBy::Default => "no rule grants it (default deny)".to_string(),
    }
}

fn attribute_or_dash(resource: &Resource, name: &str) -> String {
    resource
        .get(name)
        .map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn main() -> Result<(), Box<dyn Error>> {
    let policy = Policy::compile_sources([("examples/happy_place.tenure", POLICY)])
        .map_err(|e| format!("the example policy does not compile:\n{e}"))?;
    let inventory = load_inventory()?;
    let width = inventory.iter().map(|(id, _)| id.len()).max().unwrap_or(0);

    println!("The Happy Place Company");
    println!(
        "policy: {} rules from examples/happy_place.tenure; inventory: {} resources",
        policy.rules().len(),
        inventory.len()
    );

    // Ids of the resources reachable at the previous stage (nothing before she joins).
    let mut previous: BTreeSet<String> = BTreeSet::new();
    for stage in stages() {
        let identity = derive_identity(&stage.profile);
        println!();
        println!("{}", "=".repeat(78));
        println!("{} — {}", stage.date, stage.event);
        println!("{}", "=".repeat(78));
        println!("{}", wrap(stage.story, 78));
        println!();
        match role_of(stage.profile.okta_groups) {
            Some((group, role)) => println!("Okta group {group} → role {role} (derived)"),
            None => println!("no Okta group maps to a role"),
        }
        println!("Attributes the policy sees:");
        for (name, value) in identity.attributes() {
            println!("  {name:<13} {value}");
        }
        if identity.get("clearance").is_none() {
            println!("  {:<13} (absent)", "clearance");
        }

        let mut allowed = BTreeSet::new();
        let mut lines = Vec::new();
        let mut explanations = Vec::new();
        let mut by_unknown = false;
        for (id, resource) in &inventory {
            let decision = policy.authorize(&identity, resource);
            let verdict = if decision.is_allowed() {
                allowed.insert(id.clone());
                "yes"
            } else {
                "no "
            };
            lines.push(format!(
                "  {verdict}  {id:<width$}  {:<8}  {:<7}  {}",
                attribute_or_dash(resource, "type"),
                resource.tag("env").unwrap_or("-"),
                explain(&decision),
            ));
            explanations.push(explain(&decision));
            by_unknown |= decision.reasons().iter().any(|r| !r.is_certain());
        }
        println!();
        println!(
            "Can she reach it? ({} of {} resources)",
            allowed.len(),
            inventory.len()
        );
        println!(
            "  {:<3}  {:<width$}  {:<8}  {:<7}  why",
            "", "resource", "type", "env"
        );
        for line in lines {
            println!("{line}");
        }
        if by_unknown {
            println!("  (unknown: the deny tests an attribute that is missing or of another");
            println!("  type; a deny applies on unknown, a grant never does: fail closed)");
        }

        println!();
        println!("What changed since the previous stage (+ granted, - revoked):");
        let mut changes = 0;
        for ((id, _), why) in inventory.iter().zip(&explanations) {
            let (now, before) = (allowed.contains(id), previous.contains(id));
            if now != before {
                changes += 1;
                let sign = if now { '+' } else { '-' };
                println!("  {sign}  {id:<width$}  {why}");
            }
        }
        if changes == 0 {
            println!("  nothing");
        }
        previous = allowed;
    }
    Ok(())
}

/// Wraps `text` at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.chars().count() > width {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.chars().count();
    }
    out
}
