//! The JSON shapes of the lifecycle's answers, written once for the CLI
//! (`tenure entitlements`, `tenure who-can`) and the server (`/v1/identities/{id}/entitlements`,
//! `/v1/resources/{id}/access`).

use serde_json::{json, Value};
use tenure::lifecycle::{Entitlement, Holder};

/// `{"identity": ID, "resources": [{"id": R, "reasons": [rule ids]}]}`.
///
/// ```
/// use tenure::lifecycle::Entitlement;
///
/// let reach = [Entitlement { resource: "vm-1".into(), reasons: vec!["cloud".into()] }];
/// let json = tenure_directory::answers::entitlements("pamela", &reach);
/// assert_eq!(json.to_string(), r#"{"identity":"pamela","resources":[{"id":"vm-1","reasons":["cloud"]}]}"#);
/// ```
pub fn entitlements(identity: &str, reach: &[Entitlement]) -> Value {
    let resources: Vec<Value> = reach
        .iter()
        .map(|e| json!({"id": e.resource, "reasons": e.reasons}))
        .collect();
    json!({"identity": identity, "resources": resources})
}

/// `{"resource": ID, "identities": [{"id": I, "reasons": [rule ids]}]}`.
pub fn holders(resource: &str, holders: &[Holder]) -> Value {
    let identities: Vec<Value> = holders
        .iter()
        .map(|h| json!({"id": h.identity, "reasons": h.reasons}))
        .collect();
    json!({"resource": resource, "identities": identities})
}
