//! The per-identity fast path: [`Policy::for_identity`] resolves the identity side of the
//! index once, for callers (proxies, inventory views) that check many resources for one
//! authenticated identity.
//!
//! Every rule is posted in the index under keys of one side only (see `src/compile/`), so
//! the candidates of a request split into three disjoint groups: rules anchored on the
//! identity, rules anchored on the resource, and the few unanchored rules. The first and
//! the last depend on the identity alone: [`PreparedIdentity`] finds them once, evaluates
//! their `WHO` condition once, and keeps only those that can still apply (grants whose
//! `WHO` is *true*, denies whose `WHO` is not *false*). A decision then evaluates only the
//! `WHAT` conditions of those rules, plus the resource-anchored candidates in full.

use std::ops::ControlFlow;

use crate::compile::layers::Layer;
use crate::compile::layout::{SettledValues, SideValues};
use crate::compile::{IDENTITY, RESOURCE};
use crate::decide::decision::Decision;
use crate::decide::eval::{self, Outcome, Truth};
use crate::decide::{self, Applying, Sink};
use crate::entity::{Entity, Identity, Resource};
use crate::ir;
use crate::policy::Policy;
use crate::vocabulary::Effect;

/// A [`Policy`] with the identity side of one identity resolved, from
/// [`Policy::for_identity`]. Decides exactly like [`Policy::authorize`] and
/// [`Policy::is_allowed`] for that identity.
///
/// It borrows the policy and the identity; build one per authenticated session and drop
/// it when the identity's attributes change.
///
/// ```
/// use tenure::{Identity, Policy, Resource};
///
/// let policy = Policy::compile(r#"
///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
///     @id("leavers") status != active denies *;
/// "#)?;
/// let pamela = Identity::new().with("role", "CloudEngineer").with("status", "active");
/// let prepared = policy.for_identity(&pamela);
/// assert!(prepared.is_allowed(&Resource::new().with_tag("env", "cloud")));
/// assert!(!prepared.is_allowed(&Resource::new().with_tag("env", "prod")));
/// let decision = prepared.authorize(&Resource::new().with_tag("env", "cloud"));
/// assert_eq!(decision.reason_ids().collect::<Vec<_>>(), ["cloud"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PreparedIdentity<'a> {
    policy: &'a Policy,
    identity: &'a Entity,
    /// The identity resolved in the policy's index.
    base: PreparedLayer<'a>,
    /// And in the small index of incremental recompiles, when the policy has one.
    delta: Option<Box<PreparedLayer<'a>>>,
}

/// The identity side resolved in one layer of the decision structure.
#[derive(Debug, Clone)]
struct PreparedLayer<'a> {
    layer: &'a Layer,
    /// The identity normalised for the layer's slots.
    identity_values: SettledValues<'a>,
    /// Identity-anchored and unanchored denies whose `WHO` is not false, with that truth;
    /// ascending rule number of the layer.
    denies: Vec<(u32, Truth)>,
    /// Identity-anchored and unanchored grants whose `WHO` is true; ascending rule number
    /// (no truth stored: it is always *true*, and the list can hold thousands of rules).
    grants: Vec<u32>,
}

impl Policy {
    /// Resolves the identity side of the index once for `identity`, returning a handle
    /// that decides for many resources faster than [`Policy::authorize`] would one by one.
    pub fn for_identity<'a>(&'a self, identity: &'a Identity) -> PreparedIdentity<'a> {
        let identity = identity.entity();
        let layers = self.layers();
        PreparedIdentity {
            policy: self,
            identity,
            base: PreparedLayer::new(layers.base(), identity),
            delta: layers
                .delta()
                .map(|delta| Box::new(PreparedLayer::new(delta, identity))),
        }
    }
}

impl<'a> PreparedLayer<'a> {
    fn new(layer: &'a Layer, identity: &'a Entity) -> PreparedLayer<'a> {
        let index = layer.index();
        let identity_values = index.normalize(IDENTITY, identity).settle();
        // The unanchored and identity-anchored rules of `effect` still in the policy,
        // each once, in load order.
        let candidates = |effect: Effect| {
            let mut found: Vec<u32> = index
                .unanchored(effect)
                .iter()
                .map(|&id| index.rule_of(id))
                .collect();
            let _ =
                index.for_each_candidate_on_side(IDENTITY, effect, &identity_values, &mut |id| {
                    found.push(index.rule_of(id));
                    ControlFlow::Continue(())
                });
            found.retain(|&r| layer.position(r).is_some());
            found.sort_unstable();
            found.dedup();
            found
        };
        let who = |r: u32| index.programs().who(r, &identity_values);
        let denies = candidates(Effect::Deny)
            .into_iter()
            .filter_map(|r| {
                let who = who(r);
                eval::who_admits(Effect::Deny, who).then_some((r, who))
            })
            .collect();
        let mut grants = candidates(Effect::Grant);
        grants.retain(|&r| eval::who_admits(Effect::Grant, who(r)));
        PreparedLayer {
            layer,
            identity_values,
            denies,
            grants,
        }
    }

    /// As [`Applying::for_each_applying`], for this layer's rules and a resource
    /// normalised for its index.
    #[inline]
    fn for_each_applying<'v, S: Sink>(
        &'v self,
        resource: &SideValues<'v>,
        sink: &mut S,
    ) -> ControlFlow<()> {
        let layer = self.layer;
        let index = layer.index();
        let programs = index.programs();
        let prepared = |sink: &mut S, effect: Effect, r: u32, who: Truth| {
            let what = programs.what(r, resource);
            match (eval::combine(effect, who, what), layer.position(r)) {
                (Outcome::NotApplied, _) | (_, None) => ControlFlow::Continue(()),
                (outcome, Some(position)) => sink.applies(effect, position, outcome),
            }
        };
        if sink.wants(Effect::Deny) {
            for &(r, who) in &self.denies {
                prepared(sink, Effect::Deny, r, who)?;
            }
        }
        for &r in &self.grants {
            if !sink.wants(Effect::Grant) {
                break;
            }
            prepared(sink, Effect::Grant, r, Truth::True)?;
        }
        let identity = &self.identity_values;
        index.for_each_candidate_on_side_of(RESOURCE, sink.only(), resource, &mut |effect, id| {
            layer.report(effect, id, identity, resource, sink)
        })
    }
}

impl PreparedIdentity<'_> {
    /// Decides for `resource` without building reasons; the same answer as
    /// [`Policy::is_allowed`] for the prepared identity. Does not allocate.
    pub fn is_allowed(&self, resource: &Resource) -> bool {
        decide::is_allowed(&self.with(resource.entity()))
    }

    /// Decides for `resource` and explains it; the same decision and reasons as
    /// [`Policy::authorize`] for the prepared identity.
    pub fn authorize(&self, resource: &Resource) -> Decision {
        decide::authorize(&self.with(resource.entity()))
    }

    /// Whether a deny applies to the prepared identity and `resource` (reverse queries).
    pub(crate) fn denied(&self, resource: &Entity) -> bool {
        decide::deny_applies(&self.with(resource))
    }

    fn with<'r>(&'r self, resource: &'r Entity) -> PreparedRequest<'r> {
        PreparedRequest {
            prepared: self,
            resource,
            base_values: self.base.layer.index().normalize(RESOURCE, resource),
            delta_values: self
                .delta
                .as_ref()
                .map(|d| d.layer.index().normalize(RESOURCE, resource)),
        }
    }
}

/// The prepared decision path for one resource: the identity's pre-evaluated rules
/// (only their `WHAT` side is left), plus the resource-anchored candidates in full.
struct PreparedRequest<'r> {
    prepared: &'r PreparedIdentity<'r>,
    resource: &'r Entity,
    /// The resource normalised for the base layer's index.
    base_values: SideValues<'r>,
    /// And for the delta's, when there is one.
    delta_values: Option<SideValues<'r>>,
}

impl Applying for PreparedRequest<'_> {
    #[inline]
    fn for_each_applying(&self, sink: &mut impl Sink) -> ControlFlow<()> {
        let p = self.prepared;
        p.base.for_each_applying(&self.base_values, sink)?;
        match (&p.delta, &self.delta_values) {
            (Some(delta), Some(values)) => delta.for_each_applying(values, sink),
            _ => ControlFlow::Continue(()),
        }
    }

    fn rules(&self) -> &ir::RuleList {
        self.prepared.policy.ir_rules()
    }

    fn written_ids(&self) -> bool {
        self.prepared.policy.has_written_ids()
    }

    fn entities(&self) -> (&Entity, &Entity) {
        (self.prepared.identity, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Identity, Policy, Resource};

    /// A small deterministic generator (splitmix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    const POLICY: &str = r#"
        @id("devops") role = DevOps grants tag:env in [dev, staging] and type != rdp;
        @id("cloud") role = Cloud and department = Cloud grants tag:env = cloud;
        @id("dba") role = DBA grants type in [postgres, mysql] and not (tag:env = prod);
        @id("admins") groups = admins grants *;
        @id("leavers") status != active denies *;
        @id("clearance") clearance < 3 denies tag:classification = secret;
        @id("bastion") * grants name ~ "bastion-*";
        @id("by-type") * grants type = ssh and tag:env = dev;
        @id("prod-deny") has role denies tag:env = prod and type = rdp;
        @id("unknown-team") role = DevOps denies tag:team = payments;
        @id("int") level = 3 grants port = 22;
    "#;

    #[test]
    fn prepared_decides_like_authorize() -> Result<(), Box<dyn std::error::Error>> {
        let policy = Policy::compile(POLICY)?;
        let mut rng = Rng(7);
        let (mut allowed, mut denied_by_rule) = (0, 0);
        let roles = ["DevOps", "Cloud", "DBA", "Other", "-"];
        let values = ["dev", "staging", "prod", "cloud", "-"];
        let types = ["postgres", "mysql", "ssh", "rdp", "-"];
        for _ in 0..3_000 {
            let mut identity = Identity::new();
            for (name, pool) in [
                ("role", &roles[..]),
                ("department", &["Cloud", "Ops", "-"][..]),
                ("status", &["active", "suspended", "-"][..]),
            ] {
                let v = rng.pick(pool);
                if v != "-" {
                    identity = identity.with(name, v);
                }
            }
            match rng.next() % 4 {
                0 => identity = identity.with_set("groups", ["admins", "x"]),
                1 => identity = identity.with_set("groups", Vec::<String>::new()),
                _ => {}
            }
            match rng.next() % 4 {
                0 => identity = identity.with("clearance", 2),
                1 => identity = identity.with("clearance", "high"),
                2 => identity = identity.with("clearance", 5),
                _ => {}
            }
            if rng.next().is_multiple_of(3) {
                identity = identity.with("level", 3);
            }
            let prepared = policy.for_identity(&identity);
            for _ in 0..8 {
                let mut resource = Resource::new();
                let t = rng.pick(&types);
                if t != "-" {
                    resource = resource.with("type", t);
                }
                let e = rng.pick(&values);
                if e != "-" {
                    resource = resource.with_tag("env", e);
                }
                match rng.next() % 3 {
                    0 => resource = resource.with_tag("team", "payments"),
                    1 => resource = resource.with_tag("classification", "secret"),
                    _ => {}
                }
                match rng.next() % 3 {
                    0 => resource = resource.with("name", "bastion-1"),
                    1 => resource = resource.with("port", 22),
                    _ => {}
                }
                let expected = policy.authorize(&identity, &resource);
                assert_eq!(
                    prepared.authorize(&resource),
                    expected,
                    "{identity:?} {resource:?}"
                );
                assert_eq!(prepared.is_allowed(&resource), expected.is_allowed());
                allowed += usize::from(expected.is_allowed());
                denied_by_rule += usize::from(expected.decided_by() == crate::DecidedBy::Deny);
            }
        }
        // The generator reaches all three outcomes often.
        assert!(
            allowed > 300 && denied_by_rule > 1_000,
            "{allowed} {denied_by_rule}"
        );
        Ok(())
    }
}
