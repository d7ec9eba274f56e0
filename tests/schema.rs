//! Schemas: parsing and its errors, policies checked against them, data validation, and
//! the Cedar schema export read back by cedar-policy.

use tenure::schema::{AttributeType, Schema};
use tenure::{Attribute, Code, Identity, Policy, Resource, Side};

const HAPPY_PLACE_SCHEMA: &str = include_str!("../examples/happy_place.schema.tenure");
const HAPPY_PLACE: &str = include_str!("../examples/happy_place.tenure");

#[test]
fn the_example_schema_reads_and_the_example_policy_fits_it() {
    let schema = Schema::parse_named("happy_place.schema.tenure", HAPPY_PLACE_SCHEMA).unwrap();
    let status = schema
        .declared(Side::Identity, &Attribute::name("status"))
        .unwrap();
    assert_eq!(status.ty(), AttributeType::String);
    assert!(status.required());
    assert_eq!(status.values().unwrap(), ["active", "inactive"]);
    let access = schema
        .declared(Side::Resource, &Attribute::tag("k8s.io/access"))
        .unwrap();
    assert!(!access.required());
    let policy = Policy::compile(HAPPY_PLACE).unwrap();
    assert!(policy.check_against(&schema).is_empty());
}

#[test]
fn schema_errors_are_located() {
    let codes = |text: &str| -> Vec<(Code, usize)> {
        Schema::parse(text)
            .unwrap_err()
            .diagnostics()
            .iter()
            .map(|d| (d.code(), d.location().line))
            .collect()
    };
    assert_eq!(
        codes("schema identity { a: int;\n a: string; }"),
        [(Code::SchemaDuplicate, 2)]
    );
    assert_eq!(
        codes("schema resource { }\nschema resource { }"),
        [(Code::SchemaDuplicate, 2)]
    );
    assert_eq!(
        codes("schema resource {\n tag:port: int; }"),
        [(Code::SchemaTagType, 2)]
    );
    assert_eq!(
        codes("schema identity { level: enum [1, 2]; }"),
        [(Code::SchemaEnumValue, 1), (Code::SchemaEnumValue, 1)]
    );
    assert_eq!(
        codes("schema identity { a: integer; }")[0].0,
        Code::Unexpected
    );
    assert_eq!(codes("schema people { }")[0].0, Code::Unexpected);
}

#[test]
fn a_policy_against_its_schema() {
    let schema = Schema::parse(
        "schema identity { role: enum [DBA, SRE]; clearance: int; mfa: bool; groups: set enum [a, b]; }
         schema resource { type: string required; tag:env: enum [dev, prod]; }",
    )
    .unwrap();
    let problems = |text: &str| -> Vec<Code> {
        Policy::compile(text)
            .unwrap()
            .check_against(&schema)
            .iter()
            .map(|d| d.code())
            .collect()
    };
    assert_eq!(
        problems(
            "role = DBA and clearance >= 2 and mfa = true and groups = a grants tag:env = prod;"
        ),
        []
    );
    assert_eq!(problems("role = dba grants *;"), [Code::UnknownValue]);
    assert_eq!(problems("groups in [a, c] grants *;"), [Code::UnknownValue]);
    assert_eq!(
        problems("clearance = \"3\" grants *;"),
        [Code::TypeMismatch]
    );
    assert_eq!(problems("mfa = 1 grants *;"), [Code::TypeMismatch]);
    assert_eq!(problems("* grants type > 3;"), [Code::TypeMismatch]);
    assert_eq!(
        problems("clearance ~ \"3*\" grants *;"),
        [Code::TypeMismatch]
    );
    assert_eq!(
        problems("* grants tag:region = eu;"),
        [Code::UnknownAttribute]
    );
    assert_eq!(problems("has manager grants *;"), [Code::UnknownAttribute]);
    // The problem points at the comparison, in its source.
    let policy = Policy::compile_sources([(
        "a.tenure",
        "role = DBA grants *;\n* grants\n  tag:env = stage;",
    )])
    .unwrap();
    let p = &policy.check_against(&schema)[0];
    assert_eq!(
        (p.source_name(), p.location().line, p.location().column),
        ("a.tenure", 3, 3)
    );
    assert!(
        p.message().contains("did you mean `dev`?") || p.message().contains("(dev, prod)"),
        "{}",
        p.message()
    );
    // A side without a block is not checked.
    let identity_only = Schema::parse("schema identity { role: string; }").unwrap();
    assert!(Policy::compile("role = a grants anything = 1;")
        .unwrap()
        .check_against(&identity_only)
        .is_empty());
}

#[test]
fn data_against_its_schema() {
    let schema = Schema::parse(HAPPY_PLACE_SCHEMA).unwrap();
    let pam = Identity::from_json(r#"{"id": "u1", "status": "active", "department": "Cloud", "role": "CloudEngineer", "groups": ["a"]}"#).unwrap();
    assert_eq!(schema.validate_identity(&pam), []);
    let bad =
        Identity::from_json(r#"{"id": "u2", "status": "gone", "clearance": true, "groups": "a"}"#)
            .unwrap();
    let found: Vec<(String, Code)> = schema
        .validate_identity(&bad)
        .iter()
        .map(|p| (p.path().to_string(), p.code()))
        .collect();
    assert_eq!(
        found,
        [
            ("identity.clearance".to_string(), Code::WrongType),
            ("identity.department".to_string(), Code::MissingRequired),
            ("identity.groups".to_string(), Code::WrongType),
            ("identity.status".to_string(), Code::NotInEnum),
        ]
    );
    let db = Resource::from_json(
        r#"{"id": "db", "type": "postgres", "name": "db", "tags": {"env": "qa"}}"#,
    )
    .unwrap();
    let found = schema.validate_resource(&db);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path(), "resource.tags.env");
    let lines = "{\"id\": \"db\", \"type\": \"postgres\", \"name\": \"db\"}\n\n{\"id\": \"x\"}\n";
    let found = schema.validate_json_lines(Side::Resource, lines).unwrap();
    assert!(found.iter().all(|p| p.line() == Some(3)));
    assert_eq!(found.len(), 2);
    let err = schema
        .validate_json_lines(Side::Resource, "{}\n{\"a\": 1, \"a\": 2}")
        .unwrap_err();
    assert!(err.path().starts_with("line 2"), "{err}");
}

#[test]
fn the_cedar_schema_is_read_by_cedar_and_validates_the_export() {
    let schema = Schema::parse(HAPPY_PLACE_SCHEMA).unwrap();
    let text = tenure::export::to_cedar_schema(&schema);
    let (cedar_schema, _warnings) = cedar_policy::Schema::from_cedarschema_str(&text)
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    // The exportable grants of the example policy validate against it. (A deny's guards
    // read `!(E has a) || …`, as does a `not` in a grant: Cedar evaluates them safely
    // but its validator cannot prove them safe for optional attributes; left out here.)
    let policy = Policy::compile(
        r#"@id("cloud") role = CloudEngineer and department = Cloud grants tag:env = cloud;
           @id("dba") role = DBA grants type in [postgres, mysql] and tag:env = staging;
           @id("admins") groups = okta-admins grants *;"#,
    )
    .unwrap();
    let cedar = tenure::export::to_cedar(&policy).unwrap();
    let policies: cedar_policy::PolicySet =
        cedar.parse().unwrap_or_else(|e| panic!("{e:?}\n{cedar}"));
    let result = cedar_policy::Validator::new(cedar_schema)
        .validate(&policies, cedar_policy::ValidationMode::Strict);
    let errors: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{cedar}\n{text}");
}
