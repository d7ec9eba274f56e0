//! Access changes: what an event, or a new policy, does to who reaches what.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Directory, Entry, Inventory};
use super::event::Applied;
use super::reverse::{Entitlement, Granted, Holder};
use crate::compile::{side_options, IDENTITY, RESOURCE};
use crate::decide::eval;
use crate::entity::{Identity, Resource};
use crate::ir;
use crate::policy::Policy;
use crate::vocabulary::Effect;

/// What an event or a policy change gained and lost: [`Entitlement`]s for an identity
/// event, [`Holder`]s for a resource event, [`PairAccess`] for a policy change.
///
/// Each list is in id order. An item is *gained* when it is allowed after and was not
/// before (reasons: the grants that allow it now), *lost* when it was allowed before and
/// is not after (reasons: the grants that allowed it). Access that stays, even by other
/// grants, is neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessChange<T> {
    /// Newly allowed.
    pub gained: Vec<T>,
    /// No longer allowed.
    pub lost: Vec<T>,
}

impl<T> Default for AccessChange<T> {
    fn default() -> Self {
        AccessChange {
            gained: Vec::new(),
            lost: Vec::new(),
        }
    }
}

impl<T> AccessChange<T> {
    /// Whether nothing was gained or lost.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty()
    }
}

/// An (identity, resource) pair whose access a policy change gains or loses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairAccess {
    /// The identity's id.
    pub identity: String,
    /// The resource's id.
    pub resource: String,
    /// The grants that allow the pair (in the new policy when gained, the old when lost).
    pub reasons: Vec<String>,
}

/// `after` minus `before` as gained, `before` minus `after` as lost: both lists of
/// `(slot, grants)` ascending by slot, compared by slot without building the items that
/// stay.
fn diff_slots(before: Granted, after: Granted) -> (Granted, Granted) {
    let (mut gained, mut lost) = (Vec::new(), Vec::new());
    let mut b = before.into_iter().peekable();
    let mut a = after.into_iter().peekable();
    loop {
        match (b.peek(), a.peek()) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                b.next();
                a.next();
            }
            (Some(x), Some(y)) if x.0 < y.0 => lost.extend(b.next()),
            (Some(_), Some(_)) => gained.extend(a.next()),
            (Some(_), None) => lost.extend(b.next()),
            (None, Some(_)) => gained.extend(a.next()),
            (None, None) => return (gained, lost),
        }
    }
}

impl Policy {
    /// The resources of `inventory` an identity event gained and lost: the identity's
    /// entitlements before and after, compared. A `Join` gains everything she reaches, a
    /// `Purge` loses everything she reached.
    ///
    /// ```
    /// use tenure::lifecycle::{Directory, Event, Inventory};
    /// use tenure::{Identity, Policy};
    ///
    /// let policy = Policy::compile(r#"
    ///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
    ///     @id("leavers") status != active denies *;
    /// "#)?;
    /// let inventory = Inventory::from_json_lines(r#"{"id": "vm-1", "tags": {"env": "cloud"}}"#)?;
    /// let mut directory = Directory::new();
    /// let pamela = Identity::new().with("id", "pamela").with("role", "CloudEngineer").with("status", "active");
    /// let joined = directory.apply(&Event::Join { identity: pamela })?;
    /// assert_eq!(policy.identity_access_change(&joined, &inventory).gained.len(), 1);
    /// let left = directory.apply(&Event::Leave { id: "pamela".into() })?;
    /// assert_eq!(policy.identity_access_change(&left, &inventory).lost[0].resource, "vm-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn identity_access_change(
        &self,
        applied: &Applied<Identity>,
        inventory: &Inventory,
    ) -> AccessChange<Entitlement> {
        let (gained, lost) = match (&applied.before, &applied.after) {
            (Some(before), Some(after)) => self
                .moved_reach(before, after, inventory)
                .unwrap_or_else(|| {
                    diff_slots(self.reach(before, inventory), self.reach(after, inventory))
                }),
            (before, after) => {
                let reach = |i: &Option<Identity>| {
                    i.as_ref()
                        .map(|i| self.reach(i, inventory))
                        .unwrap_or_default()
                };
                diff_slots(reach(before), reach(after))
            }
        };
        let make = |resource, reasons| Entitlement { resource, reasons };
        AccessChange {
            gained: self.in_id_order(inventory, &gained, make),
            lost: self.in_id_order(inventory, &lost, make),
        }
    }

    /// The gained and lost `(slot, grants)` of a move, looking only at the resources of
    /// the grants whose `WHO` changed — when no deny's `WHO` changed (then every pair's
    /// deny verdict is the same before and after, and only a change of grants can change
    /// a decision). `None` when a deny's `WHO` changed: the caller compares full reaches.
    fn moved_reach(
        &self,
        before: &Identity,
        after: &Identity,
        inventory: &Inventory,
    ) -> Option<(Granted, Granted)> {
        let rules = self.ir_rules();
        let (b, a) = (before.entity(), after.entity());
        let deny_changed = self.reverse().denies.iter().any(|&r| {
            eval::expr(&rules[r as usize].who, b) != eval::expr(&rules[r as usize].who, a)
        });
        if deny_changed {
            return None;
        }
        let (was, is) = (
            self.grants_true_for(b, IDENTITY),
            self.grants_true_for(a, IDENTITY),
        );
        let changed: Vec<u32> = {
            let mut all: Vec<u32> = was.iter().chain(&is).copied().collect();
            all.sort_unstable();
            all.dedup();
            all.into_iter()
                .filter(|r| was.binary_search(r).is_ok() != is.binary_search(r).is_ok())
                .collect()
        };
        // The candidates: every resource a changed grant is true for.
        let mut candidate = vec![false; inventory.slot_count()];
        let mut candidates = Vec::new();
        for &g in &changed {
            self.grant_matches(g, RESOURCE, inventory, &mut |s| {
                if !std::mem::replace(&mut candidate[s as usize], true) {
                    candidates.push(s);
                }
            });
        }
        candidates.sort_unstable();
        // Each candidate's grants before and after (every grant true for it, in order).
        let mut position = vec![u32::MAX; inventory.slot_count()];
        for (n, &s) in candidates.iter().enumerate() {
            position[s as usize] = n as u32;
        }
        let mut grants_of: Vec<[Vec<u32>; 2]> = vec![[Vec::new(), Vec::new()]; candidates.len()];
        let mut all: Vec<u32> = was.iter().chain(&is).copied().collect();
        all.sort_unstable();
        all.dedup();
        for g in all {
            let (in_was, in_is) = (was.binary_search(&g).is_ok(), is.binary_search(&g).is_ok());
            self.grant_matches(g, RESOURCE, inventory, &mut |s| {
                if let Some(&p) = position.get(s as usize).filter(|&&p| p != u32::MAX) {
                    let lists = &mut grants_of[p as usize];
                    for (on, list) in [(in_was, 0), (in_is, 1)] {
                        if on && lists[list].last() != Some(&g) {
                            lists[list].push(g);
                        }
                    }
                }
            });
        }
        let prepared = self.for_identity(before);
        let (mut gained, mut lost) = (Vec::new(), Vec::new());
        for (slot, [had, has]) in candidates.into_iter().zip(grants_of) {
            if had.is_empty() == has.is_empty() {
                continue;
            }
            let denied = inventory
                .slot(slot)
                .is_none_or(|(_, r)| prepared.denied(r.entity()));
            if denied {
                continue;
            }
            if has.is_empty() {
                lost.push((slot, had));
            } else {
                gained.push((slot, has));
            }
        }
        Some((gained, lost))
    }

    /// The identities of `directory` a resource event gained and lost: who could reach
    /// the resource before and after, compared.
    pub fn resource_access_change(
        &self,
        applied: &Applied<Resource>,
        directory: &Directory,
    ) -> AccessChange<Holder> {
        let reach = |r: &Option<Resource>| {
            r.as_ref()
                .map(|r| self.holders(r, directory))
                .unwrap_or_default()
        };
        let (gained, lost) = diff_slots(reach(&applied.before), reach(&applied.after));
        let make = |identity, reasons| Holder { identity, reasons };
        AccessChange {
            gained: self.in_id_order(directory, &gained, make),
            lost: self.in_id_order(directory, &lost, make),
        }
    }
}

/// The (identity, resource) pairs of `directory` × `inventory` that gain and lose access
/// when `new` replaces `old`.
///
/// Only the rules that differ are looked at: a rule of one policy whose effect and
/// conditions appear in no rule of the other (matched by content, so a rule moved or
/// renamed is not a difference). A pair's decision can change only if such a rule
/// applies to it under one of the two policies; so the pairs enumerated are those a
/// differing grant is *true* for and those a differing deny is *true or unknown* for, and
/// each is decided under both policies. Equal to comparing every pair
/// (`tests/lifecycle.rs`); the cost grows with the pairs the differing rules can match,
/// so a changed `* denies *` visits every pair.
///
/// ```
/// use tenure::lifecycle::{impact, Directory, Inventory};
/// use tenure::Policy;
///
/// let old = Policy::compile("@id(\"cloud\") role = CloudEngineer grants tag:env = cloud;")?;
/// let new = Policy::compile(r#"
///     @id("cloud") role = CloudEngineer grants tag:env = cloud;
///     @id("prod") role = CloudEngineer grants tag:env = prod;
/// "#)?;
/// let directory = Directory::from_json_lines(r#"{"id": "pamela", "role": "CloudEngineer"}"#)?;
/// let inventory = Inventory::from_json_lines(concat!(
///     r#"{"id": "vm-1", "tags": {"env": "cloud"}}"#, "\n",
///     r#"{"id": "db-1", "tags": {"env": "prod"}}"#, "\n",
/// ))?;
/// let change = impact(&old, &new, &directory, &inventory);
/// assert_eq!(change.gained.len(), 1);
/// assert_eq!((change.gained[0].identity.as_str(), change.gained[0].resource.as_str()), ("pamela", "db-1"));
/// assert!(change.lost.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn impact(
    old: &Policy,
    new: &Policy,
    directory: &Directory,
    inventory: &Inventory,
) -> AccessChange<PairAccess> {
    let content = |r: &ir::Rule| format!("{:?}|{:?}|{:?}", r.effect, r.who, r.what);
    let old_contents: FxHashSet<String> = old.ir_rules().iter().map(content).collect();
    let new_contents: FxHashSet<String> = new.ir_rules().iter().map(content).collect();
    let differing = old
        .ir_rules()
        .iter()
        .filter(|r| !new_contents.contains(&content(r)))
        .chain(
            new.ir_rules()
                .iter()
                .filter(|r| !old_contents.contains(&content(r))),
        );

    // Identity (by id rank) → resource slots that a differing rule can apply to.
    let identity_rank = directory.id_ranks();
    let resource_rank = inventory.id_ranks();
    let mut pairs: BTreeMap<u32, (u32, Vec<u32>)> = BTreeMap::new();
    for rule in differing {
        let identities = matching(directory, rule, IDENTITY);
        if identities.is_empty() {
            continue;
        }
        let resources = matching(inventory, rule, RESOURCE);
        if resources.is_empty() {
            continue;
        }
        for i in identities {
            pairs
                .entry(identity_rank[i as usize])
                .or_insert_with(|| (i, Vec::new()))
                .1
                .extend_from_slice(&resources);
        }
    }

    // Identities in id order, each one's resources in id order: the lists come out
    // sorted without sorting the items. Each pair is decided from the grants whose `WHO`
    // is true (once per identity) and each grant's matching resources (once per grant,
    // as a bit set), plus the deny check: no condition is evaluated per pair twice.
    let mut old_matches = GrantMatches::new(old, inventory);
    let mut new_matches = GrantMatches::new(new, inventory);
    let mut change = AccessChange::default();
    for (_, (i, mut resources)) in pairs {
        let Some((identity_id, identity)) = directory.slot(i) else {
            continue;
        };
        resources.sort_unstable_by_key(|&r| resource_rank[r as usize]);
        resources.dedup();
        let sides = [
            (
                old.for_identity(identity),
                old.grants_true_for(identity.entity(), IDENTITY),
            ),
            (
                new.for_identity(identity),
                new.grants_true_for(identity.entity(), IDENTITY),
            ),
        ];
        for (n, (_, grants)) in sides.iter().enumerate() {
            let matches = if n == 0 {
                &mut old_matches
            } else {
                &mut new_matches
            };
            grants.iter().for_each(|&g| matches.prepare(g));
        }
        for r in resources {
            let Some((resource_id, resource)) = inventory.slot(r) else {
                continue;
            };
            let allowed = |(prepared, grants): &(crate::PreparedIdentity<'_>, Vec<u32>),
                           matches: &GrantMatches<'_>| {
                grants.iter().any(|&g| matches.holds(g, r)) && !prepared.denied(resource.entity())
            };
            let (was, is) = (
                allowed(&sides[0], &old_matches),
                allowed(&sides[1], &new_matches),
            );
            if was == is {
                continue;
            }
            let (list, (_, grants), matches, policy) = if is {
                (&mut change.gained, &sides[1], &new_matches, new)
            } else {
                (&mut change.lost, &sides[0], &old_matches, old)
            };
            let rules = policy.ir_rules();
            list.push(PairAccess {
                identity: identity_id.to_string(),
                resource: resource_id.to_string(),
                reasons: grants
                    .iter()
                    .filter(|&&g| matches.holds(g, r))
                    .map(|&g| rules[g as usize].id(g as usize).to_string())
                    .collect(),
            });
        }
    }
    change
}

/// For the grants of one policy: the inventory slots each one's `WHAT` is true for, as a
/// bit set, computed once per grant.
struct GrantMatches<'a> {
    policy: &'a Policy,
    inventory: &'a Inventory,
    sets: rustc_hash::FxHashMap<u32, Vec<u64>>,
}

impl<'a> GrantMatches<'a> {
    fn new(policy: &'a Policy, inventory: &'a Inventory) -> Self {
        GrantMatches {
            policy,
            inventory,
            sets: rustc_hash::FxHashMap::default(),
        }
    }

    fn prepare(&mut self, grant: u32) {
        let (policy, inventory) = (self.policy, self.inventory);
        self.sets.entry(grant).or_insert_with(|| {
            let mut bits = vec![0u64; inventory.slot_count().div_ceil(64)];
            policy.grant_matches(grant, RESOURCE, inventory, &mut |s| {
                bits[s as usize / 64] |= 1 << (s % 64);
            });
            bits
        });
    }

    /// Whether grant `grant` (prepared) is true for slot `slot`.
    fn holds(&self, grant: u32, slot: u32) -> bool {
        self.sets
            .get(&grant)
            .is_some_and(|bits| bits[slot as usize / 64] & (1 << (slot % 64)) != 0)
    }
}

/// The slots of `catalog` that `side` of `rule` can apply to: *true* for a grant
/// (enumerated through the postings of its anchor), not *false* for a deny (every entry
/// is looked at: an absent or mistyped attribute makes a deny's side unknown, and no
/// posting lists what an entry lacks).
fn matching<E: Entry>(catalog: &Catalog<E>, rule: &ir::Rule, side: usize) -> Vec<u32> {
    let condition = if side == IDENTITY {
        &rule.who
    } else {
        &rule.what
    };
    let admits = |slot: u32| {
        catalog.slot(slot).is_some_and(|(_, e)| {
            eval::who_admits(rule.effect, eval::expr(condition, e.entity_of()))
        })
    };
    if rule.effect == Effect::Deny {
        return catalog.all_slots().filter(|&s| admits(s)).collect();
    }
    let options = side_options(condition, side);
    let best = options
        .iter()
        .min_by_key(|o| o.iter().map(|k| catalog.postings(k).len()).sum::<usize>());
    let mut found: Vec<u32> = match best {
        Some(option) => option
            .iter()
            .flat_map(|k| catalog.postings(k).iter().copied())
            .filter(|&s| admits(s))
            .collect(),
        None => catalog.all_slots().filter(|&s| admits(s)).collect(),
    };
    found.sort_unstable();
    found.dedup();
    found
}
