//! SCIM discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`,
//! describing exactly what this server supports.

use serde_json::{json, Value as Json};
use tenure_directory::scim::{CORE_GROUP, CORE_USER, ENTERPRISE_USER};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The largest page a query returns (the translation's cap).
pub(crate) const MAX_RESULTS: usize = 1000;

/// `/ServiceProviderConfig`.
pub(crate) fn service_provider_config(base: &str) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/tenure/tenure/blob/main/docs/SERVE.md",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token from the server's token file",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

fn resource_type(base: &str, name: &str, endpoint: &str, schema: &str, extensions: Json) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": format!("{name} accounts"),
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")}
    })
}

/// Every resource type.
pub(crate) fn resource_types(base: &str) -> Vec<Json> {
    vec![
        resource_type(
            base,
            "User",
            "/Users",
            CORE_USER,
            json!([{"schema": ENTERPRISE_USER, "required": false}]),
        ),
        resource_type(base, "Group", "/Groups", CORE_GROUP, json!([])),
    ]
}

fn attribute(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    case_exact: bool,
    mutability: &str,
    uniqueness: &str,
) -> Json {
    json!({
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness
    })
}

fn complex(name: &str, multi: bool, mutability: &str, sub: Vec<Json>) -> Json {
    json!({
        "name": name,
        "type": "complex",
        "multiValued": multi,
        "description": name,
        "required": false,
        "mutability": mutability,
        "returned": "default",
        "subAttributes": sub
    })
}

fn string(name: &str) -> Json {
    attribute(name, "string", false, false, false, "readWrite", "none")
}

fn multi_valued(name: &str) -> Json {
    complex(
        name,
        true,
        "readWrite",
        vec![
            string("value"),
            string("display"),
            string("type"),
            attribute(
                "primary",
                "boolean",
                false,
                false,
                false,
                "readWrite",
                "none",
            ),
        ],
    )
}

fn schema(base: &str, id: &str, name: &str, attributes: Vec<Json>) -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": format!("{name} schema"),
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

/// Every schema: core User, Group, enterprise User.
pub(crate) fn schemas(base: &str) -> Vec<Json> {
    let user = schema(
        base,
        CORE_USER,
        "User",
        vec![
            attribute(
                "userName",
                "string",
                false,
                true,
                false,
                "readWrite",
                "server",
            ),
            complex(
                "name",
                false,
                "readWrite",
                [
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                ]
                .into_iter()
                .map(string)
                .collect(),
            ),
            string("displayName"),
            string("nickName"),
            attribute(
                "profileUrl",
                "reference",
                false,
                false,
                false,
                "readWrite",
                "none",
            ),
            string("title"),
            string("userType"),
            string("preferredLanguage"),
            string("locale"),
            string("timezone"),
            attribute(
                "active",
                "boolean",
                false,
                false,
                false,
                "readWrite",
                "none",
            ),
            multi_valued("emails"),
            multi_valued("phoneNumbers"),
            multi_valued("ims"),
            multi_valued("photos"),
            complex(
                "addresses",
                true,
                "readWrite",
                [
                    "formatted",
                    "streetAddress",
                    "locality",
                    "region",
                    "postalCode",
                    "country",
                    "type",
                ]
                .into_iter()
                .map(string)
                .collect(),
            ),
            complex(
                "groups",
                true,
                "readOnly",
                vec![
                    string("value"),
                    attribute("$ref", "reference", false, false, false, "readOnly", "none"),
                    string("display"),
                    string("type"),
                ],
            ),
            multi_valued("entitlements"),
            multi_valued("roles"),
            multi_valued("x509Certificates"),
        ],
    );
    let group = schema(
        base,
        CORE_GROUP,
        "Group",
        vec![
            attribute(
                "displayName",
                "string",
                false,
                true,
                false,
                "readWrite",
                "none",
            ),
            complex(
                "members",
                true,
                "readWrite",
                vec![
                    string("value"),
                    attribute(
                        "$ref",
                        "reference",
                        false,
                        false,
                        false,
                        "immutable",
                        "none",
                    ),
                    string("display"),
                    string("type"),
                ],
            ),
        ],
    );
    let enterprise = schema(
        base,
        ENTERPRISE_USER,
        "EnterpriseUser",
        vec![
            string("employeeNumber"),
            string("costCenter"),
            string("organization"),
            string("division"),
            string("department"),
            complex(
                "manager",
                false,
                "readWrite",
                vec![
                    string("value"),
                    attribute(
                        "$ref",
                        "reference",
                        false,
                        false,
                        false,
                        "readWrite",
                        "none",
                    ),
                    attribute(
                        "displayName",
                        "string",
                        false,
                        false,
                        false,
                        "readOnly",
                        "none",
                    ),
                ],
            ),
        ],
    );
    vec![user, group, enterprise]
}

/// A `ListResponse` of every item.
pub(crate) fn list(items: Vec<Json>) -> Json {
    json!({
        "schemas": [LIST],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items
    })
}
