//! Reverse queries through the index: [`Policy::entitlements`] (every resource one
//! identity reaches) and [`Policy::who_can`] (every identity that reaches one resource).
//!
//! A pair is allowed when some grant is *true* on both sides and no deny is *true or
//! unknown* on both. Grants are exact, so the candidates are enumerated from grants
//! alone: the identity's side of a grant index ([`ReverseIndex`]) gives the grants whose
//! `WHO` can be true, the catalog's postings on each grant's resource anchor give the
//! resources its `WHAT` can be true for. Every candidate pair is then decided in full by
//! the ordinary indexed decision, so every deny that could apply to it — unknown
//! included — is considered; a pair that is not a candidate has no true grant and is
//! denied by default. The result is exactly the all-pairs loop of `authorize`, without
//! the loop (`tests/lifecycle.rs` checks both against each other).

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Directory, Entry, Inventory};
use crate::compile::{side_options, Index, Key, IDENTITY, RESOURCE};
use crate::decide::eval::{self, Truth};
use crate::entity::{Identity, Resource};
use crate::ir;
use crate::policy::Policy;
use crate::vocabulary::Effect;

/// A resource an identity reaches, with the grants that allow it (load order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    /// The resource's id.
    pub resource: String,
    /// The ids of the grants that allow it.
    pub reasons: Vec<String>,
}

/// An identity that reaches a resource, with the grants that allow it (load order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The identity's id.
    pub identity: String,
    /// The ids of the grants that allow it.
    pub reasons: Vec<String>,
}

/// Entries of a catalog, by slot, each with the grants true for it (load order).
pub(crate) type Granted = Vec<(u32, Vec<u32>)>;

/// The grants of a policy indexed by one side at a time, and each grant's anchor options
/// per side: built on the first reverse query and kept with the policy.
#[derive(Debug)]
pub(crate) struct ReverseIndex {
    /// `by_side[IDENTITY]` finds the grants whose `WHO` can be true for an identity;
    /// `by_side[RESOURCE]` those whose `WHAT` can be true for a resource.
    by_side: [Index; 2],
    /// `options[side][rule]`: the anchor options of that side of each grant (empty for
    /// denies and for sides without an indexable atom).
    options: [Vec<Vec<Vec<Key>>>; 2],
    /// `exact[side][rule]`: whether that side of the grant is *exactly* the conjunction
    /// of its options (`*`, or an `and` of `=`, `in` and `has` atoms): then the entries
    /// it is true for are the intersection of the options' postings, with no evaluation.
    exact: [Vec<bool>; 2],
    /// Every deny, ascending (an identity event compares their `WHO` before and after).
    pub(crate) denies: Vec<u32>,
}

/// Whether `expr` is true exactly when every one of its anchor options holds.
fn is_exact(expr: &ir::Expr) -> bool {
    let atom = |e: &ir::Expr| {
        matches!(
            e,
            ir::Expr::Atom(ir::Atom {
                test: ir::Test::Eq(_) | ir::Test::In(_) | ir::Test::Has,
                ..
            })
        )
    };
    match expr {
        ir::Expr::Any => true,
        ir::Expr::And(es) => es.iter().all(atom),
        e => atom(e),
    }
}

impl ReverseIndex {
    pub(crate) fn build(rules: &ir::RuleList) -> ReverseIndex {
        let options_of = |side: usize| -> Vec<Vec<Vec<Key>>> {
            rules
                .iter()
                .map(|r| match (r.effect, side) {
                    (Effect::Deny, _) => Vec::new(),
                    (Effect::Grant, IDENTITY) => side_options(&r.who, IDENTITY),
                    (Effect::Grant, _) => side_options(&r.what, RESOURCE),
                })
                .collect()
        };
        ReverseIndex {
            by_side: [
                Index::build_grants_on_side(rules, IDENTITY),
                Index::build_grants_on_side(rules, RESOURCE),
            ],
            options: [options_of(IDENTITY), options_of(RESOURCE)],
            denies: (0..rules.len() as u32)
                .filter(|&r| rules[r as usize].effect == Effect::Deny)
                .collect(),
            exact: [IDENTITY, RESOURCE].map(|side| {
                rules
                    .iter()
                    .map(|r| r.effect == Effect::Grant && is_exact(side_expr(r, side)))
                    .collect()
            }),
        }
    }
}

/// The condition of `side` of a rule.
fn side_expr(rule: &ir::Rule, side: usize) -> &ir::Expr {
    if side == IDENTITY {
        &rule.who
    } else {
        &rule.what
    }
}

impl Policy {
    /// Every resource of `inventory` that `identity` can reach, with the grants that
    /// allow each, in resource id order: exactly the resources for which
    /// [`Policy::authorize`] allows, found through the index rather than by deciding
    /// every pair.
    ///
    /// ```
    /// use tenure::lifecycle::Inventory;
    /// use tenure::{Identity, Policy};
    ///
    /// let policy = Policy::compile(r#"
    ///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
    ///     @id("leavers") status != active denies *;
    /// "#)?;
    /// let inventory = Inventory::from_json_lines(concat!(
    ///     r#"{"id": "vm-1", "tags": {"env": "cloud"}}"#, "\n",
    ///     r#"{"id": "db-1", "tags": {"env": "prod"}}"#, "\n",
    /// ))?;
    /// let pamela = Identity::new().with("id", "pamela").with("role", "CloudEngineer").with("status", "active");
    /// let reach = policy.entitlements(&pamela, &inventory);
    /// assert_eq!(reach.len(), 1);
    /// assert_eq!((reach[0].resource.as_str(), reach[0].reasons.as_slice()), ("vm-1", &["cloud".to_string()][..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entitlements(&self, identity: &Identity, inventory: &Inventory) -> Vec<Entitlement> {
        let reach = self.reach(identity, inventory);
        self.in_id_order(inventory, &reach, |resource, reasons| Entitlement {
            resource,
            reasons,
        })
    }

    /// The slots of `inventory` that `identity` reaches, ascending, each with the grants
    /// that allow it (load order).
    pub(crate) fn reach(&self, identity: &Identity, inventory: &Inventory) -> Granted {
        let prepared = self.for_identity(identity);
        let mut reach = self.granted_pairs(identity.entity(), IDENTITY, inventory);
        reach.retain(|(slot, _)| {
            inventory
                .slot(*slot)
                .is_some_and(|(_, resource)| !prepared.denied(resource.entity()))
        });
        reach.sort_unstable_by_key(|(slot, _)| *slot);
        reach
    }

    /// Items built from `(slot, grants)` pairs, in the id order of their slots in
    /// `catalog` (sorting references, not the items).
    pub(crate) fn in_id_order<E: Entry, T>(
        &self,
        catalog: &Catalog<E>,
        pairs: &[(u32, Vec<u32>)],
        make: impl Fn(String, Vec<String>) -> T,
    ) -> Vec<T> {
        let rules = self.ir_rules();
        let mut order: Vec<(&str, &[u32])> = pairs
            .iter()
            .filter_map(|(slot, grants)| catalog.slot(*slot).map(|(id, _)| (id, grants.as_slice())))
            .collect();
        order.sort_unstable_by_key(|(id, _)| *id);
        order
            .into_iter()
            .map(|(id, grants)| {
                make(
                    id.to_string(),
                    grants
                        .iter()
                        .map(|&r| rules[r as usize].id(r as usize).to_string())
                        .collect(),
                )
            })
            .collect()
    }

    /// Every identity of `directory` that can reach `resource`, with the grants that
    /// allow each, in identity id order: exactly the identities for which
    /// [`Policy::authorize`] allows, found through the index.
    ///
    /// ```
    /// use tenure::lifecycle::Directory;
    /// use tenure::{Policy, Resource};
    ///
    /// let policy = Policy::compile(r#"
    ///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
    ///     @id("leavers") status != active denies *;
    /// "#)?;
    /// let directory = Directory::from_json_lines(concat!(
    ///     r#"{"id": "pamela", "role": "CloudEngineer", "status": "active"}"#, "\n",
    ///     r#"{"id": "sam", "role": "CloudEngineer", "status": "inactive"}"#, "\n",
    /// ))?;
    /// let vm = Resource::new().with("id", "vm-1").with_tag("env", "cloud");
    /// let holders = policy.who_can(&vm, &directory);
    /// assert_eq!(holders.iter().map(|h| h.identity.as_str()).collect::<Vec<_>>(), ["pamela"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn who_can(&self, resource: &Resource, directory: &Directory) -> Vec<Holder> {
        let holders = self.holders(resource, directory);
        self.in_id_order(directory, &holders, |identity, reasons| Holder {
            identity,
            reasons,
        })
    }

    /// The slots of `directory` that reach `resource`, ascending, each with the grants
    /// that allow it (load order).
    pub(crate) fn holders(&self, resource: &Resource, directory: &Directory) -> Granted {
        let mut holders = self.granted_pairs(resource.entity(), RESOURCE, directory);
        holders.retain(|(slot, _)| {
            directory
                .slot(*slot)
                .is_some_and(|(_, identity)| !self.denied(identity.entity(), resource.entity()))
        });
        holders.sort_unstable_by_key(|(slot, _)| *slot);
        holders
    }

    /// Every slot of `others` (the catalog of the other side) that some grant is *true*
    /// for together with `entity` on `side`, with exactly those grants in load order:
    /// the grants whose `side` can be true come from the reverse index, and each grant's
    /// matches among `others` from the postings of its cheapest anchor option (a
    /// necessary condition, so no match is missed). The pair is allowed exactly when no
    /// deny applies to it; its reasons are then these grants.
    fn granted_pairs<E: Entry>(
        &self,
        entity: &crate::entity::Entity,
        side: usize,
        others: &Catalog<E>,
    ) -> Granted {
        let other = 1 - side;
        // Slot → position in `found`, for the slots some grant already matched.
        let mut position = vec![u32::MAX; others.slot_count()];
        let mut found: Vec<(u32, Vec<u32>)> = Vec::new();
        for r in self.grants_true_for(entity, side) {
            self.grant_matches(r, other, others, &mut |s| {
                record(s, &mut position, &mut found, r);
            });
        }
        found
    }

    /// The grants whose `side` condition is *true* for `entity`, ascending: found
    /// through the reverse index, then evaluated.
    pub(crate) fn grants_true_for(&self, entity: &crate::entity::Entity, side: usize) -> Vec<u32> {
        let reverse = self.reverse();
        let rules = self.ir_rules();
        let index = &reverse.by_side[side];
        let mut grants = index.unanchored(Effect::Grant).to_vec();
        let values = index.normalize(side, entity);
        let _ = index.for_each_candidate_on_side(side, Effect::Grant, &values, &mut |r| {
            grants.push(r);
            ControlFlow::Continue(())
        });
        grants.sort_unstable();
        grants.dedup();
        grants.retain(|&r| eval::expr(side_expr(&rules[r as usize], side), entity) == Truth::True);
        grants
    }

    /// Calls `f` with each slot of `others` for which `side` of grant `r` is *true*
    /// (ascending for an exact side; possibly repeated otherwise): the intersection of
    /// its options' postings when the side is exactly their conjunction, else the
    /// postings of its cheapest option (or every entry) evaluated.
    pub(crate) fn grant_matches<E: Entry>(
        &self,
        r: u32,
        side: usize,
        others: &Catalog<E>,
        f: &mut impl FnMut(u32),
    ) {
        let reverse = self.reverse();
        let condition = side_expr(&self.ir_rules()[r as usize], side);
        let options = &reverse.options[side][r as usize];
        if reverse.exact[side][r as usize] {
            if options.is_empty() {
                others.all_slots().for_each(f);
            } else {
                intersection(options, others).into_iter().for_each(f);
            }
            return;
        }
        let mut check = |slot: u32| {
            if others
                .slot(slot)
                .is_some_and(|(_, e)| eval::expr(condition, e.entity_of()) == Truth::True)
            {
                f(slot);
            }
        };
        match cheapest(options, others) {
            Some(option) => {
                for key in option {
                    others.postings(key).iter().for_each(|&s| check(s));
                }
            }
            None => others.all_slots().for_each(check),
        }
    }
}

/// Notes that grant `r` is true for `slot` (grants arrive in ascending order; a slot
/// reached through several keys of one option is noted once).
#[inline]
fn record(slot: u32, position: &mut [u32], found: &mut Vec<(u32, Vec<u32>)>, r: u32) {
    match position[slot as usize] {
        u32::MAX => {
            // INVARIANT: fewer matches than slots, and slots fit in u32.
            position[slot as usize] = found.len() as u32;
            found.push((slot, vec![r]));
        }
        at => {
            let list = &mut found[at as usize].1;
            if list.last() != Some(&r) {
                list.push(r);
            }
        }
    }
}

/// The slots for which every option holds (some key of each): the intersection of each
/// option's postings union, smallest first.
fn intersection<E: Entry>(options: &[Vec<Key>], catalog: &Catalog<E>) -> Vec<u32> {
    let mut unions: Vec<std::borrow::Cow<'_, [u32]>> = options
        .iter()
        .map(|option| match option.as_slice() {
            [key] => std::borrow::Cow::Borrowed(catalog.postings(key)),
            keys => {
                let mut all: Vec<u32> = keys
                    .iter()
                    .flat_map(|k| catalog.postings(k).iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                std::borrow::Cow::Owned(all)
            }
        })
        .collect();
    unions.sort_by_key(|u| u.len());
    let Some((smallest, rest)) = unions.split_first() else {
        return Vec::new();
    };
    smallest
        .iter()
        .copied()
        .filter(|s| rest.iter().all(|u| u.binary_search(s).is_ok()))
        .collect()
}

/// The anchor option whose keys match the fewest entries of `catalog`.
fn cheapest<'o, E: Entry>(options: &'o [Vec<Key>], catalog: &Catalog<E>) -> Option<&'o [Key]> {
    options
        .iter()
        .min_by_key(|option| {
            option
                .iter()
                .map(|k| catalog.postings(k).len())
                .sum::<usize>()
        })
        .map(Vec::as_slice)
}
