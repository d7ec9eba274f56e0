//! The shared benchmark workload (issue 3), generated deterministically: N rules in
//! Tenure and the same rules as Cedar policies, and 10 000 seeded requests.
//!
//! * R = max(8, N/4) roles, 16 departments, 8 env values, 8 resource types.
//! * Rule i grants `role = role_{i mod R}` (every 3rd rule: `and department =
//!   dept_{i mod 16}`) → `tag:env = env_{i mod 8}` (every 2nd rule: `and type =
//!   type_{i mod 8}`).
//! * 5% of the rules (i mod 20 = 9) are denies: half of them `role = role_{i mod R} and
//!   status = suspended denies tag:env = env_{i mod 8}`, the other half
//!   `role = role_{i mod R} denies tag:env = env_{i mod 8} and type = type_{(i+3) mod 8}`.
//! * Requests: identities with role, department and status (2% suspended); resources
//!   with type and the tags env, team and region. Every attribute a rule mentions is
//!   present on every request, so Tenure's fail-closed denies (which apply on an unknown
//!   side) and Cedar's forbids (skipped when they error) cannot differ.
//!
//! Not every bench uses every item.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::str::FromStr;

use tenure::{Identity, Policy, Resource};

/// The resource types of the workload.
pub const TYPES: [&str; 8] = [
    "postgres", "mysql", "ssh", "k8s", "rdp", "http", "redis", "mongo",
];

/// How many requests a workload has.
pub const REQUESTS: usize = 10_000;

/// The fraction of requests (per mille) aimed at one rule's keys; the rest are uniform.
/// Tuned so that about 30% of the requests are allowed.
const AIMED_PER_MILLE: u64 = 170;

/// A small deterministic generator (splitmix64): no extra dependency, same stream on
/// every machine.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The number of roles for `n` rules.
/// The rule counts given on the command line (`1_000_000` allowed), or `default`: for
/// the profiling examples.
pub fn sizes_from_args(default: &[usize]) -> Vec<usize> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    if sizes.is_empty() {
        default.to_vec()
    } else {
        sizes
    }
}

pub fn roles(n: usize) -> usize {
    (n / 4).max(8)
}

/// What rule `i` of `n` says, independent of the syntax.
#[derive(Debug, Clone, Copy)]
pub struct RuleShape {
    pub deny: bool,
    pub role: usize,
    pub department: Option<usize>,
    pub suspended: bool,
    pub env: usize,
    pub type_: Option<usize>,
}

/// The shape of rule `i` of `n`.
pub fn rule_shape(i: usize, n: usize) -> RuleShape {
    let role = i % roles(n);
    let env = i % 8;
    if i % 20 == 9 {
        let status_form = (i / 20).is_multiple_of(2);
        RuleShape {
            deny: true,
            role,
            department: None,
            suspended: status_form,
            env,
            type_: (!status_form).then_some((i + 3) % 8),
        }
    } else {
        RuleShape {
            deny: false,
            role,
            department: i.is_multiple_of(3).then_some(i % 16),
            suspended: false,
            env,
            type_: i.is_multiple_of(2).then_some(i % 8),
        }
    }
}

/// The Tenure text of `n` rules.
pub fn tenure_policy(n: usize) -> String {
    let mut out = String::with_capacity(n * 80);
    for i in 0..n {
        let s = rule_shape(i, n);
        let _ = write!(out, "role = role_{}", s.role);
        if let Some(d) = s.department {
            let _ = write!(out, " and department = dept_{d}");
        }
        if s.suspended {
            out.push_str(" and status = suspended");
        }
        out.push_str(if s.deny { " denies " } else { " grants " });
        let _ = write!(out, "tag:env = env_{}", s.env);
        if let Some(t) = s.type_ {
            let _ = write!(out, " and type = {}", TYPES[t]);
        }
        out.push_str(";\n");
    }
    out
}

/// The same `n` rules as Cedar policies (`permit` / `forbid`).
pub fn cedar_policy(n: usize) -> String {
    let mut out = String::with_capacity(n * 200);
    for i in 0..n {
        let s = rule_shape(i, n);
        out.push_str(if s.deny { "forbid" } else { "permit" });
        let _ = write!(
            out,
            "(principal, action, resource) when {{ principal.role == \"role_{}\"",
            s.role
        );
        if let Some(d) = s.department {
            let _ = write!(out, " && principal.department == \"dept_{d}\"");
        }
        if s.suspended {
            out.push_str(" && principal.status == \"suspended\"");
        }
        let _ = write!(
            out,
            " && resource.hasTag(\"env\") && resource.getTag(\"env\") == \"env_{}\"",
            s.env
        );
        if let Some(t) = s.type_ {
            let _ = write!(out, " && resource.type == \"{}\"", TYPES[t]);
        }
        out.push_str(" };\n");
    }
    out
}

/// One request, in the shape both engines are fed.
#[derive(Debug, Clone)]
pub struct Request {
    pub role: usize,
    pub department: usize,
    pub suspended: bool,
    pub env: usize,
    pub type_: usize,
    pub team: usize,
    pub region: usize,
}

/// The 10 000 seeded requests for a policy of `n` rules: 17% aimed at a random rule's
/// keys, the rest uniform over roles, departments, envs and types.
pub fn requests(n: usize) -> Vec<Request> {
    let mut rng = SplitMix64::new(0x7E4E_0000 ^ n as u64);
    let r = roles(n);
    (0..REQUESTS)
        .map(|_| {
            let mut q = Request {
                role: rng.below(r),
                department: rng.below(16),
                suspended: rng.below(100) < 2,
                env: rng.below(8),
                type_: rng.below(8),
                team: rng.below(8),
                region: rng.below(4),
            };
            if (rng.next_u64() % 1000) < AIMED_PER_MILLE {
                let s = rule_shape(rng.below(n), n);
                q.role = s.role;
                q.env = s.env;
                if let Some(d) = s.department {
                    q.department = d;
                }
                if let Some(t) = s.type_ {
                    q.type_ = t;
                }
            }
            q
        })
        .collect()
}

/// A request as Tenure entities.
pub fn tenure_request(q: &Request) -> (Identity, Resource) {
    let identity = Identity::new()
        .with("role", format!("role_{}", q.role))
        .with("department", format!("dept_{}", q.department))
        .with("status", if q.suspended { "suspended" } else { "active" });
    let resource = Resource::new()
        .with("type", TYPES[q.type_])
        .with_tag("env", format!("env_{}", q.env))
        .with_tag("team", format!("team_{}", q.team))
        .with_tag("region", format!("region_{}", q.region));
    (identity, resource)
}

/// All requests as Tenure entities.
pub fn tenure_requests(n: usize) -> Vec<(Identity, Resource)> {
    requests(n).iter().map(tenure_request).collect()
}

/// Compiles the Tenure policy of `n` rules.
pub fn tenure_compile(n: usize) -> Policy {
    match Policy::compile(&tenure_policy(n)) {
        Ok(p) => p,
        Err(e) => panic!("the generated Tenure policy does not compile: {e}"),
    }
}

/// A request ready for Cedar's authorizer: the request and its two entities.
pub struct CedarRequest {
    pub request: cedar_policy::Request,
    pub entities: cedar_policy::Entities,
}

fn euid(ty: &str, id: &str) -> cedar_policy::EntityUid {
    cedar_policy::EntityUid::from_type_name_and_id(
        cedar_policy::EntityTypeName::from_str(ty).expect("a valid type name"),
        cedar_policy::EntityId::new(id),
    )
}

fn string(s: String) -> cedar_policy::RestrictedExpression {
    cedar_policy::RestrictedExpression::new_string(s)
}

/// A request as Cedar entities: `User` with attributes, `Resource` with a `type`
/// attribute and entity tags for the resource tags.
pub fn cedar_request(k: usize, q: &Request) -> CedarRequest {
    let principal = euid("User", &format!("u{k}"));
    let resource = euid("Resource", &format!("r{k}"));
    let user = cedar_policy::Entity::new(
        principal.clone(),
        [
            ("role".to_string(), string(format!("role_{}", q.role))),
            (
                "department".to_string(),
                string(format!("dept_{}", q.department)),
            ),
            (
                "status".to_string(),
                string(if q.suspended { "suspended" } else { "active" }.to_string()),
            ),
        ]
        .into_iter()
        .collect(),
        Default::default(),
    )
    .expect("a valid principal");
    let res = cedar_policy::Entity::new_with_tags(
        resource.clone(),
        [("type".to_string(), string(TYPES[q.type_].to_string()))],
        [],
        [
            ("env".to_string(), string(format!("env_{}", q.env))),
            ("team".to_string(), string(format!("team_{}", q.team))),
            ("region".to_string(), string(format!("region_{}", q.region))),
        ],
    )
    .expect("a valid resource");
    let entities =
        cedar_policy::Entities::from_entities([user, res], None).expect("valid entities");
    let request = cedar_policy::Request::new(
        principal,
        euid("Action", "access"),
        resource,
        cedar_policy::Context::empty(),
        None,
    )
    .expect("a valid request");
    CedarRequest { request, entities }
}

/// All requests for Cedar.
pub fn cedar_requests(n: usize) -> Vec<CedarRequest> {
    requests(n)
        .iter()
        .enumerate()
        .map(|(k, q)| cedar_request(k, q))
        .collect()
}

/// Parses the Cedar policy set of `n` policies.
pub fn cedar_compile(n: usize) -> cedar_policy::PolicySet {
    match cedar_policy::PolicySet::from_str(&cedar_policy(n)) {
        Ok(p) => p,
        Err(e) => panic!("the generated Cedar policies do not parse: {e}"),
    }
}

/// Cedar's decision on one request.
pub fn cedar_allows(
    authorizer: &cedar_policy::Authorizer,
    set: &cedar_policy::PolicySet,
    q: &CedarRequest,
) -> bool {
    authorizer
        .is_authorized(&q.request, set, &q.entities)
        .decision()
        == cedar_policy::Decision::Allow
}

/// Asserts that Tenure (`authorize`, `is_allowed` and the per-identity fast path) gives
/// one decision on every one of the first `check` requests, and when Cedar is given,
/// that Cedar agrees on each of them. Runs on two threads. Returns the allowed fraction.
pub fn assert_agreement(
    policy: &Policy,
    tenure: &[(Identity, Resource)],
    cedar: Option<(&cedar_policy::PolicySet, &[CedarRequest])>,
    check: usize,
) -> f64 {
    let check = check.min(tenure.len());
    let half = check / 2;
    let run = |range: std::ops::Range<usize>| -> usize {
        let authorizer = cedar_policy::Authorizer::new();
        let mut allowed = 0;
        for k in range {
            let (identity, resource) = &tenure[k];
            let decision = policy.authorize(identity, resource);
            let fast = policy.is_allowed(identity, resource);
            let prepared = policy.for_identity(identity);
            assert_eq!(
                decision.is_allowed(),
                fast,
                "is_allowed differs, request {k}"
            );
            assert_eq!(
                prepared.authorize(resource),
                decision,
                "for_identity differs, request {k}"
            );
            assert_eq!(prepared.is_allowed(resource), fast);
            if let Some((set, cedar)) = cedar {
                let c = cedar_allows(&authorizer, set, &cedar[k]);
                assert_eq!(
                    fast, c,
                    "Tenure and Cedar disagree on request {k}: tenure {decision}, cedar allow = {c}\n\
                     identity {identity:?}\nresource {resource:?}"
                );
            }
            allowed += usize::from(fast);
        }
        allowed
    };
    let allowed = std::thread::scope(|s| {
        let a = s.spawn(|| run(0..half));
        let b = run(half..check);
        a.join().expect("the checking thread panicked") + b
    });
    allowed as f64 / check.max(1) as f64
}
