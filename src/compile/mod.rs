//! Checked rules → the indexed decision structure.
//!
//! Every rule is posted under one **anchor**: a disjunction of keys
//! `(side, attribute, value)` (or `(side, attribute, present)`) of which at least one must
//! hold for the rule to have any chance of applying. At decision time the request's own
//! attributes are probed against the postings, and only the rules found there (plus a
//! small always-check list of rules without any indexable atom) are evaluated. See
//! `docs/ARCHITECTURE.md` for the diagram and the soundness argument; in short:
//!
//! * a **grant** applies only when both sides are *true*, so its anchor key must match
//!   the request exactly (type included);
//! * a **deny** applies when neither side is *false*, so it is also a candidate when the
//!   anchor attribute is **absent** or carries a value of a type that makes the comparison
//!   *unknown* (integer against string, a set against an integer). Those probes are
//!   per attribute and per value kind, so their cost does not grow with the rule count.

pub(crate) mod layers;
pub(crate) mod layout;
pub(crate) mod program;
#[cfg(test)]
mod scaling_tests;

use std::ops::ControlFlow;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::decide::eval::{comparable, Outcome};
use crate::entity::Entity;
use crate::inline_str::InlineStr;
use crate::ir::{self, Expr, Test};
use crate::value::ValueRef;
use crate::vocabulary::{Attribute, Effect, Literal, LiteralKind};
use layout::{Layout, SideValues, SlotValues, Val};
use program::Programs;

/// Which entity a key tests.
pub(crate) const IDENTITY: usize = 0;
/// Which entity a key tests.
pub(crate) const RESOURCE: usize = 1;

/// Rules posted under one key while the index is built, split by effect; indices ascend
/// (load order).
#[derive(Debug, Default, Clone)]
struct Postings {
    grants: Vec<u32>,
    denies: Vec<u32>,
}

impl Postings {
    fn push(&mut self, effect: Effect, rule: u32) {
        let list = match effect {
            Effect::Grant => &mut self.grants,
            Effect::Deny => &mut self.denies,
        };
        if list.last() != Some(&rule) {
            list.push(rule);
        }
    }

    /// Moves the lists into `pool`, returning where they are.
    fn into_pool(self, pool: &mut Vec<u32>) -> PostRange {
        // INVARIANT: pool positions fit in u32 (a few per rule).
        let start = pool.len() as u32;
        pool.extend(self.grants);
        let mid = pool.len() as u32;
        pool.extend(self.denies);
        PostRange {
            start,
            mid,
            end: pool.len() as u32,
        }
    }
}

/// Rules posted under one key in the finished index: grants at `pool[start..mid]` and
/// denies at `pool[mid..end]` of the side's pool, so that a key costs 12 bytes and its
/// rules are read from one contiguous run.
#[derive(Debug, Default, Clone, Copy)]
struct PostRange {
    start: u32,
    mid: u32,
    end: u32,
}

/// The high bit of [`PostRange::start`]: the range names programs directly (see
/// [`PostRange::emit`]) rather than positions in the pool.
const DIRECT: u32 = 1 << 31;

impl PostRange {
    /// Whether no rule is posted here.
    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.start & !DIRECT == self.end
    }

    /// Calls `f(effect, id)` with each id posted for the effects asked for (`DENY`,
    /// `GRANT`), denies first.
    ///
    /// Programs are laid out in posting order, so the rules of a key are usually one run
    /// of adjacent programs; such a range is **direct**: `start..mid` and `mid..end` are
    /// offsets in the program array, walked program by program, and the pool (one more
    /// cache miss) is not read.
    #[inline]
    fn emit<const DENY: bool, const GRANT: bool>(
        &self,
        pool: &Pool<'_>,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let direct = self.start & DIRECT != 0;
        let start = self.start & !DIRECT;
        let mut run = |effect: Effect, from: u32, to: u32| {
            if !direct {
                let ids = pool.ids.get(from as usize..to as usize).unwrap_or(&[]);
                return emit(ids, effect, f);
            }
            let mut at = from;
            while at < to {
                f(effect, at)?;
                at += pool.programs.size_at(at).max(1);
            }
            ControlFlow::Continue(())
        };
        if DENY {
            run(Effect::Deny, self.mid, self.end)?;
        }
        if GRANT {
            run(Effect::Grant, start, self.mid)?;
        }
        ControlFlow::Continue(())
    }

    /// The direct form of this range, when the ids it names in `pool` are adjacent
    /// programs.
    fn direct(&self, pool: &Pool<'_>) -> Option<PostRange> {
        let ids = pool.ids.get(self.start as usize..self.end as usize)?;
        let Some((&first, _)) = ids.split_first() else {
            return Some(PostRange {
                start: DIRECT,
                mid: 0,
                end: 0,
            });
        };
        let adjacent = ids
            .windows(2)
            .all(|w| w[1] == w[0] + pool.programs.size_at(w[0]));
        let last = *ids.last()?;
        let end = last + pool.programs.size_at(last);
        let mid = match pool.ids.get(self.mid as usize) {
            Some(&m) if self.mid < self.end => m,
            _ => end,
        };
        (adjacent && first < DIRECT && end < DIRECT && !pool.programs.is_empty()).then_some(
            PostRange {
                start: first | DIRECT,
                mid,
                end,
            },
        )
    }
}

/// What a [`PostRange`] points into: a side's pool of ids, and the programs.
struct Pool<'a> {
    ids: &'a [u32],
    programs: &'a Programs,
}

/// Everything posted under one attribute of one side: `P` is [`Postings`] while the
/// index is built and [`PostRange`] once it is finished.
#[derive(Debug, Default, Clone)]
struct AttributePostings<P> {
    /// By the string, kept inline in the table when short (found without a pointer).
    eq_str: FxHashMap<InlineStr, P>,
    eq_int: FxHashMap<i64, P>,
    eq_bool: [P; 2],
    present: P,
    /// Denies with an equality key of each [`LiteralKind`] on this attribute: candidates when the
    /// request's value makes that comparison unknown.
    deny_by_kind: [Vec<u32>; 3],
    /// Denies with any equality key on this attribute: candidates when it is absent.
    deny_any: Vec<u32>,
    /// Rules anchored on a glob's literal prefix, by prefix: a candidate when the value
    /// (or a set element) starts with it.
    prefix: FxHashMap<Arc<str>, P>,
    /// The distinct prefix lengths (bytes) in `prefix`, ascending.
    prefix_lengths: Vec<usize>,
    /// Rules anchored on an integer range: grants and denies, as intervals to stab.
    ranges: [Intervals; 2],
}

impl AttributePostings<Postings> {
    /// The finished form: postings moved into `pool`.
    fn finish(self, pool: &mut Vec<u32>) -> AttributePostings<PostRange> {
        let mut ranges = self.ranges;
        ranges.iter_mut().for_each(Intervals::finish);
        let mut prefix_lengths = self.prefix_lengths;
        prefix_lengths.sort_unstable();
        prefix_lengths.dedup();
        let [f, t] = self.eq_bool;
        AttributePostings {
            eq_str: pooled(self.eq_str, pool),
            eq_int: pooled(self.eq_int, pool),
            eq_bool: [f.into_pool(pool), t.into_pool(pool)],
            present: self.present.into_pool(pool),
            deny_by_kind: self.deny_by_kind,
            deny_any: self.deny_any,
            prefix: pooled(self.prefix, pool),
            prefix_lengths,
            ranges,
        }
    }
}

/// A map of postings with every entry's lists moved into `pool`.
fn pooled<K: std::hash::Hash + Eq>(
    map: FxHashMap<K, Postings>,
    pool: &mut Vec<u32>,
) -> FxHashMap<K, PostRange> {
    map.into_iter()
        .map(|(k, p)| (k, p.into_pool(pool)))
        .collect()
}

impl AttributePostings<PostRange> {
    fn has_strings(&self) -> bool {
        !self.eq_str.is_empty() || !self.prefix.is_empty()
    }
}

/// Posts `rule` under `key` in the index being built (`layout` gives the attribute's slot).
fn post(
    layout: &Layout,
    sides: &mut [SideIndex<Postings>; 2],
    key: &Key,
    effect: Effect,
    rule: u32,
) {
    let (side, attribute) = match key {
        Key::Eq(side, attribute, _)
        | Key::Present(side, attribute)
        | Key::Prefix(side, attribute, _)
        | Key::Range(side, attribute, _, _) => (*side, attribute),
    };
    // Every attribute of a rule has a slot: the layout was made from these rules.
    let slot = layout.slots[side].get(attribute).unwrap_or(u32::MAX);
    let side_index = &mut sides[side];
    let position = side_index.position(slot);
    let ap = &mut side_index.entries[position].1;
    match key {
        Key::Prefix(_, _, prefix) => {
            ap.prefix
                .entry(prefix.clone())
                .or_default()
                .push(effect, rule);
            ap.prefix_lengths.push(prefix.len());
            post_deny_probes(side_index, position, effect, LiteralKind::Str, rule);
        }
        Key::Range(_, _, lo, hi) => {
            ap.ranges[usize::from(effect == Effect::Deny)]
                .items
                .push((*lo, *hi, rule));
            post_deny_probes(side_index, position, effect, LiteralKind::Int, rule);
        }
        Key::Present(..) => ap.present.push(effect, rule),
        Key::Eq(_, _, literal) => {
            match literal {
                Literal::Str(s) => ap.eq_str.entry(InlineStr::from(&**s)).or_default(),
                Literal::Int(i) => ap.eq_int.entry(*i).or_default(),
                Literal::Bool(b) => &mut ap.eq_bool[usize::from(*b)],
            }
            .push(effect, rule);
            post_deny_probes(side_index, position, effect, literal.kind(), rule);
        }
    }
}

/// A deny anchored on a key of `kind` at `position` must also be found when the
/// attribute is absent or holds a value that makes a `kind` comparison unknown.
fn post_deny_probes(
    side_index: &mut SideIndex<Postings>,
    position: usize,
    effect: Effect,
    kind: LiteralKind,
    rule: u32,
) {
    if effect != Effect::Deny {
        return;
    }
    let ap = &mut side_index.entries[position].1;
    let by_kind = &mut ap.deny_by_kind[kind as usize];
    if by_kind.last() != Some(&rule) {
        by_kind.push(rule);
    }
    let first_on_attribute = ap.deny_any.is_empty();
    if ap.deny_any.last() != Some(&rule) {
        ap.deny_any.push(rule);
    }
    if first_on_attribute {
        side_index.deny_entries.push(position as u32);
    }
}

/// Integer intervals with their rules, sorted by start, with a segment tree of the
/// largest end over each run, so that stabbing with a value visits only the intervals
/// that hold it (plus O(log n) tree nodes per match).
#[derive(Debug, Default, Clone)]
struct Intervals {
    /// `(lo, hi, rule)` while the index is built; sorted by `lo` once finished.
    items: Vec<(i64, i64, u32)>,
    /// `max_hi[node]` over the items the node covers (a heap-ordered tree, root 1).
    max_hi: Vec<i64>,
}

impl Intervals {
    fn finish(&mut self) {
        self.items.sort_unstable();
        self.items.dedup();
        let n = self.items.len();
        if n == 0 {
            return;
        }
        self.max_hi = vec![i64::MIN; 4 * n];
        self.build(1, 0, n);
    }

    fn build(&mut self, node: usize, lo: usize, hi: usize) -> i64 {
        let max = if hi - lo == 1 {
            self.items[lo].1
        } else {
            let mid = (lo + hi) / 2;
            self.build(2 * node, lo, mid)
                .max(self.build(2 * node + 1, mid, hi))
        };
        self.max_hi[node] = max;
        max
    }

    /// Calls `f(effect, rule)` with the rule of every interval holding `value`.
    fn stab(
        &self,
        value: i64,
        effect: Effect,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let end = self.items.partition_point(|&(lo, _, _)| lo <= value);
        if end == 0 {
            return ControlFlow::Continue(());
        }
        self.visit(1, 0, self.items.len(), end, value, &mut |rule| {
            f(effect, rule)
        })
    }

    fn visit(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        end: usize,
        value: i64,
        f: &mut impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if lo >= end || self.max_hi[node] < value {
            return ControlFlow::Continue(());
        }
        if hi - lo == 1 {
            return f(self.items[lo].2);
        }
        let mid = (lo + hi) / 2;
        self.visit(2 * node, lo, mid, end, value, f)?;
        self.visit(2 * node + 1, mid, hi, end, value, f)
    }
}

/// The postings of one side (identity or resource).
#[derive(Debug, Default, Clone)]
struct SideIndex<P> {
    /// Every attribute with postings, by slot, in first-posted order.
    entries: Vec<(u32, AttributePostings<P>)>,
    /// Slot → position in `entries` (`u32::MAX` when the slot has no postings).
    by_slot: Vec<u32>,
    /// Positions of the attributes some deny anchors on with an equality key (probed for
    /// absence).
    deny_entries: Vec<u32>,
    /// Every key's rules, key after key (see [`PostRange`]).
    pool: Vec<u32>,
}

impl<P: Default> SideIndex<P> {
    fn position(&mut self, slot: u32) -> usize {
        let s = slot as usize;
        if self.by_slot.len() <= s {
            self.by_slot.resize(s + 1, u32::MAX);
        }
        if self.by_slot[s] == u32::MAX {
            // INVARIANT: entry counts fit in u32 (at most one per slot).
            self.by_slot[s] = self.entries.len() as u32;
            self.entries.push((slot, AttributePostings::default()));
        }
        self.by_slot[s] as usize
    }
}

impl SideIndex<Postings> {
    fn finish(self) -> SideIndex<PostRange> {
        let mut pool = Vec::new();
        let entries = self
            .entries
            .into_iter()
            .map(|(slot, ap)| (slot, ap.finish(&mut pool)))
            .collect();
        pool.shrink_to_fit();
        SideIndex {
            entries,
            by_slot: self.by_slot,
            deny_entries: self.deny_entries,
            pool,
        }
    }
}

impl SideIndex<PostRange> {
    /// Turns every range whose rules are adjacent programs into a direct one.
    fn make_direct(&mut self, programs: &Programs) {
        let pool = Pool {
            ids: &self.pool,
            programs,
        };
        for (_, ap) in &mut self.entries {
            let ranges = ap
                .eq_str
                .values_mut()
                .chain(ap.eq_int.values_mut())
                .chain(ap.eq_bool.iter_mut())
                .chain(std::iter::once(&mut ap.present))
                .chain(ap.prefix.values_mut());
            for range in ranges {
                if let Some(direct) = range.direct(&pool) {
                    *range = direct;
                }
            }
        }
    }

    fn entry_of_slot(&self, slot: u32) -> Option<&AttributePostings<PostRange>> {
        let position = *self.by_slot.get(slot as usize)?;
        self.entries.get(position as usize).map(|(_, ap)| ap)
    }

    /// Every posted id, for renumbering.
    fn ids_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        let lists = self.entries.iter_mut().flat_map(|(_, ap)| {
            let intervals = ap
                .ranges
                .iter_mut()
                .flat_map(|i| i.items.iter_mut().map(|item| &mut item.2));
            ap.deny_by_kind
                .iter_mut()
                .chain(std::iter::once(&mut ap.deny_any))
                .flatten()
                .chain(intervals)
        });
        self.pool.iter_mut().chain(lists)
    }
}

/// Sizes of the compiled structure, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexStats {
    /// Rules in the policy.
    pub rules: usize,
    /// Rules found through an equality or `in` key.
    pub anchored_on_value: usize,
    /// Rules found through a `has` key.
    pub anchored_on_presence: usize,
    /// Grants with no indexable atom: evaluated on every request.
    pub unanchored_grants: usize,
    /// Denies with no indexable atom: evaluated on every request.
    pub unanchored_denies: usize,
    /// Distinct keys posted.
    pub keys: usize,
}

/// How many rules a request makes the index evaluate (duplicates included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Candidates {
    /// Deny rules evaluated.
    pub denies: usize,
    /// Grant rules evaluated.
    pub grants: usize,
}

/// One key an anchor may be posted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Eq(usize, Attribute, Literal),
    Present(usize, Attribute),
    /// A glob's literal prefix (non-empty): the value, or a set element, starts with it.
    /// Decision index only (reverse queries anchor on `Eq` and `Present`).
    Prefix(usize, Attribute, Arc<str>),
    /// An integer range `lo..=hi` holds the value. Decision index only.
    Range(usize, Attribute, i64, i64),
}

/// The indexed decision structure.
///
/// What it posts are **ids**: for the decision index ([`Index::build`]) the start of a
/// rule's program (see [`program`]), so that a candidate is evaluated without another
/// lookup; for the reverse queries' indices, rule indices. [`Index::rule_of`] maps one to
/// the other.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    layout: Layout,
    /// Empty for the reverse queries' indices.
    programs: Programs,
    sides: [SideIndex<PostRange>; 2],
    unanchored_grants: Vec<u32>,
    unanchored_denies: Vec<u32>,
    stats: IndexStats,
}

/// From this many rules up, an index build uses a second core when there is one.
const TWO_CORE_RULES: usize = 20_000;

/// Whether an index build over `rules` rules spreads its work over two cores.
fn two_cores(rules: usize) -> bool {
    rules >= TWO_CORE_RULES && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Which keys anchor options may use: equality and presence always; glob prefixes and
/// integer ranges only in the decision index (reverse queries look keys up in catalog
/// postings, which hold equality and presence).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    EqualityAndPresence,
    WithPrefixesAndRanges,
}

/// Anchor options of one condition: each option is a disjunction of keys, one of which
/// must hold (grants: be true; denies: be true or unknown) for the condition to.
fn options(expr: &Expr, side: usize, keys: Keys, out: &mut Vec<Vec<Key>>) {
    match expr {
        Expr::Atom(a) => match &a.test {
            Test::Eq(l) => out.push(vec![Key::Eq(
                side,
                Attribute::clone(&a.attribute),
                l.clone(),
            )]),
            Test::In(ls) => {
                // Linear: a list of 10 000 values must not cost 10 000² comparisons.
                let mut seen: FxHashSet<&Literal> = FxHashSet::default();
                let keys = ls
                    .iter()
                    .filter(|l| seen.insert(l))
                    .map(|l| Key::Eq(side, Attribute::clone(&a.attribute), l.clone()))
                    .collect();
                out.push(keys);
            }
            Test::Has => out.push(vec![Key::Present(side, Attribute::clone(&a.attribute))]),
            Test::Like(glob) if keys == Keys::WithPrefixesAndRanges => {
                let prefix: String = glob
                    .pieces()
                    .iter()
                    .map_while(|p| match p {
                        crate::vocabulary::GlobPiece::Char(c) => Some(*c),
                        _ => None,
                    })
                    .collect();
                if !prefix.is_empty() {
                    out.push(vec![Key::Prefix(
                        side,
                        Attribute::clone(&a.attribute),
                        prefix.into(),
                    )]);
                }
            }
            Test::Range { lo, hi } if keys == Keys::WithPrefixesAndRanges => {
                out.push(vec![Key::Range(
                    side,
                    Attribute::clone(&a.attribute),
                    *lo,
                    *hi,
                )]);
            }
            _ => {}
        },
        Expr::And(es) => es.iter().for_each(|e| options(e, side, keys, out)),
        Expr::Or(es) => {
            // Every disjunct must be anchorable; take each one's shortest option.
            let mut found = Vec::new();
            for e in es {
                let mut sub = Vec::new();
                options(e, side, keys, &mut sub);
                match sub.into_iter().min_by_key(Vec::len) {
                    Some(best) => found.extend(best),
                    None => return,
                }
            }
            found.dedup();
            out.push(found);
        }
        Expr::Any | Expr::Not(_) => {}
    }
}

fn cost(option: &[Key], counts: &FxHashMap<&Key, usize>) -> usize {
    option
        .iter()
        .map(|k| {
            let c = counts.get(k).copied().unwrap_or(0);
            match k {
                Key::Eq(..) => c,
                // A prefix or a range may hold for many values: dearer than equality.
                Key::Prefix(..) => c.saturating_mul(2).saturating_add(2),
                Key::Range(..) => c.saturating_mul(2).saturating_add(4),
                // A presence key matches nearly every request that carries the attribute.
                Key::Present(..) => c.saturating_mul(8).saturating_add(8),
            }
        })
        .sum()
}

/// Options are all required; two single-range options on one attribute are one: their
/// intersection (`x >= 3 and x < 10` is anchored on `3..=9`, not on `3..`).
fn intersect_ranges(options: Vec<Vec<Key>>) -> Vec<Vec<Key>> {
    let mut out: Vec<Vec<Key>> = Vec::with_capacity(options.len());
    for option in options {
        if let [Key::Range(side, attribute, lo, hi)] = option.as_slice() {
            let same = out.iter_mut().find_map(|o| match o.as_mut_slice() {
                [Key::Range(s, a, l, h)] if s == side && a == attribute => Some((l, h)),
                _ => None,
            });
            if let Some((l, h)) = same {
                *l = (*l).max(*lo);
                *h = (*h).min(*hi);
                continue;
            }
        }
        out.push(option);
    }
    out
}

/// The anchor options of one side's condition: each a disjunction of keys of which one
/// must hold (be *true*, for a grant) for the condition to be true. Empty when the
/// condition has no indexable atom.
pub(crate) fn side_options(expr: &Expr, side: usize) -> Vec<Vec<Key>> {
    let mut out = Vec::new();
    options(expr, side, Keys::EqualityAndPresence, &mut out);
    out
}

impl Index {
    /// Builds the decision index over `rules` (indices are positions in `rules`), with
    /// every rule's program laid out in posting order.
    pub(crate) fn build(rules: &ir::RuleList) -> Index {
        let (mut index, options) = Index::build_from(rules, |r| {
            let mut out = Vec::new();
            options(&r.who, IDENTITY, Keys::WithPrefixesAndRanges, &mut out);
            options(&r.what, RESOURCE, Keys::WithPrefixesAndRanges, &mut out);
            Some(intersect_ranges(out))
        });
        let order = index.posting_order(rules.len());
        // The anchor options are freed on another core while the programs are written
        // (on 100 000 rules, each is about a seventh of the index build).
        index.programs = if two_cores(rules.len()) {
            std::thread::scope(|scope| {
                scope.spawn(move || drop(options));
                Programs::build(rules, &index.layout, &order)
            })
        } else {
            drop(options);
            Programs::build(rules, &index.layout, &order)
        };
        let programs = &index.programs;
        let [identity, resource] = &mut index.sides;
        identity
            .ids_mut()
            .chain(resource.ids_mut())
            .chain(&mut index.unanchored_grants)
            .chain(&mut index.unanchored_denies)
            .for_each(|r| *r = programs.start_of(*r));
        for side in &mut index.sides {
            side.make_direct(programs);
        }
        index
    }

    /// Every rule once, in the order the postings name them: rules posted under one key
    /// end up next to each other.
    fn posting_order(&self, rules: usize) -> Vec<u32> {
        let mut placed = vec![false; rules];
        let mut order = Vec::with_capacity(rules);
        let mut place = |r: u32| {
            if let Some(p) = placed.get_mut(r as usize) {
                if !*p {
                    *p = true;
                    order.push(r);
                }
            }
        };
        for side in &self.sides {
            // The pool holds every key's rules, key after key.
            side.pool.iter().for_each(|&r| place(r));
            for (_, ap) in &side.entries {
                for intervals in &ap.ranges {
                    intervals.items.iter().for_each(|&(_, _, r)| place(r));
                }
            }
        }
        self.unanchored_grants
            .iter()
            .chain(&self.unanchored_denies)
            .for_each(|&r| place(r));
        // INVARIANT: rule indices fit in u32 (the rule-count limit is far below).
        (0..rules as u32).for_each(place);
        order
    }

    /// An index of the **grants** only, each posted under an anchor of `side` alone (or
    /// unanchored when that side has no indexable atom): probed with one entity, it finds
    /// every grant whose `side` condition can be true for it, whatever the other side.
    /// The reverse queries (`src/lifecycle/`) start from it; it posts rule indices.
    pub(crate) fn build_grants_on_side(rules: &ir::RuleList, side: usize) -> Index {
        Index::build_from(rules, |r| match (r.effect, side) {
            (Effect::Deny, _) => None,
            (Effect::Grant, IDENTITY) => Some(side_options(&r.who, IDENTITY)),
            (Effect::Grant, _) => Some(side_options(&r.what, RESOURCE)),
        })
        .0
    }

    /// Builds an index posting each rule under the cheapest of the options `options_of`
    /// gives it (unanchored when it gives none); a rule it gives `None` is left out.
    /// Returns the options too, for the caller to free (beside its next step).
    fn build_from(
        rules: &ir::RuleList,
        options_of: impl Fn(&ir::Rule) -> Option<Vec<Vec<Key>>> + Sync,
    ) -> (Index, Vec<Option<Vec<Vec<Key>>>>) {
        let all_options: Vec<Option<Vec<Vec<Key>>>> = if two_cores(rules.len()) {
            // Each rule's options on their own: the two halves on two cores.
            let refs: Vec<&ir::Rule> = rules.iter().collect();
            let (first, second) = refs.split_at(refs.len() / 2);
            let options_of = &options_of;
            let (mut first, second) = std::thread::scope(|scope| {
                let later =
                    scope.spawn(move || second.iter().map(|r| options_of(r)).collect::<Vec<_>>());
                let first: Vec<_> = first.iter().map(|r| options_of(r)).collect();
                let second = later
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (first, second)
            });
            first.extend(second);
            first
        } else {
            rules.iter().map(&options_of).collect()
        };
        let mut counts: FxHashMap<&Key, usize> = FxHashMap::default();
        for opts in all_options.iter().flatten() {
            for opt in opts {
                for k in opt {
                    *counts.entry(k).or_insert(0) += 1;
                }
            }
        }
        let mut index = Index {
            layout: Layout::of(rules),
            ..Index::default()
        };
        let mut sides: [SideIndex<Postings>; 2] = Default::default();
        index.stats.rules = rules.len();
        for (i, (rule, opts)) in rules.iter().zip(&all_options).enumerate() {
            let Some(opts) = opts else { continue };
            // INVARIANT: rule indices fit in u32 (the rule-count limit is far below).
            let r = i as u32;
            match opts.iter().min_by_key(|o| cost(o, &counts)) {
                None => match rule.effect {
                    Effect::Grant => index.unanchored_grants.push(r),
                    Effect::Deny => index.unanchored_denies.push(r),
                },
                Some(option) => {
                    if option.iter().all(|k| matches!(k, Key::Eq(..))) {
                        index.stats.anchored_on_value += 1;
                    } else {
                        index.stats.anchored_on_presence += 1;
                    }
                    for key in option {
                        post(&index.layout, &mut sides, key, rule.effect, r);
                    }
                }
            }
        }
        index.sides = sides.map(SideIndex::finish);
        index.stats.unanchored_grants = index.unanchored_grants.len();
        index.stats.unanchored_denies = index.unanchored_denies.len();
        index.stats.keys = counts.len();
        drop(counts);
        (index, all_options)
    }

    pub(crate) fn stats(&self) -> IndexStats {
        self.stats
    }

    /// `entity` normalised for this index's slots of `side`.
    #[inline]
    pub(crate) fn normalize<'a>(&'a self, side: usize, entity: &'a Entity) -> SideValues<'a> {
        SideValues::normalize(&self.layout, side, entity)
    }

    /// The rule index of a posted id.
    #[inline]
    pub(crate) fn rule_of(&self, id: u32) -> u32 {
        if self.programs.is_empty() {
            id
        } else {
            self.programs.rule_at(id)
        }
    }

    /// The outcome of the rule whose program starts at `id` (decision index only), with
    /// its rule index.
    #[inline]
    pub(crate) fn outcome<'a>(
        &self,
        id: u32,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
    ) -> (u32, Outcome) {
        self.programs.outcome(id, identity, resource)
    }

    /// The programs of the decision index.
    pub(crate) fn programs(&self) -> &Programs {
        &self.programs
    }

    /// Calls `f` with the id of every candidate rule of `effect` for this request,
    /// possibly more than once and in no particular order. Stops early when `f` breaks.
    #[inline]
    pub(crate) fn for_each_candidate<'a>(
        &self,
        effect: Effect,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        f: &mut impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        self.for_each_candidate_of(Some(effect), identity, resource, &mut |_, id| f(id))
    }

    /// Calls `f(effect, id)` with every candidate rule of either effect for this
    /// request (or of `only` that effect), in one walk over the request's values (each
    /// key is looked up once for both effects; a key's denies come before its grants),
    /// possibly more than once and in no particular order. Stops early when `f` breaks.
    #[inline]
    pub(crate) fn for_each_candidate_of<'a>(
        &self,
        only: Option<Effect>,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match only {
            None => self.candidates::<true, true>(identity, resource, f),
            Some(Effect::Deny) => self.candidates::<true, false>(identity, resource, f),
            Some(Effect::Grant) => self.candidates::<false, true>(identity, resource, f),
        }
    }

    /// The candidates of the effects asked for (`DENY`, `GRANT`).
    #[inline]
    fn candidates<'a, const DENY: bool, const GRANT: bool>(
        &self,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if DENY {
            emit(&self.unanchored_denies, Effect::Deny, f)?;
        }
        if GRANT {
            emit(&self.unanchored_grants, Effect::Grant, f)?;
        }
        self.probe_side::<DENY, GRANT>(IDENTITY, identity, f)?;
        self.probe_side::<DENY, GRANT>(RESOURCE, resource, f)
    }

    /// Ids of the rules of `effect` with no indexable atom (evaluated on every request).
    pub(crate) fn unanchored(&self, effect: Effect) -> &[u32] {
        match effect {
            Effect::Grant => &self.unanchored_grants,
            Effect::Deny => &self.unanchored_denies,
        }
    }

    /// Calls `f` with the ids of the candidates of `effect` posted under keys of one side
    /// only ([`IDENTITY`] or [`RESOURCE`]), probed with that side's values; the
    /// unanchored rules are not included. Used by the reverse queries.
    pub(crate) fn for_each_candidate_on_side<'a>(
        &self,
        side: usize,
        effect: Effect,
        values: &impl SlotValues<'a>,
        f: &mut impl FnMut(u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        self.for_each_candidate_on_side_of(side, Some(effect), values, &mut |_, id| f(id))
    }

    /// As [`Index::for_each_candidate_on_side`], for both effects in one walk (or `only`
    /// one), each candidate with its effect. Used by the per-identity fast path.
    #[inline]
    pub(crate) fn for_each_candidate_on_side_of<'a>(
        &self,
        side: usize,
        only: Option<Effect>,
        values: &impl SlotValues<'a>,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match only {
            None => self.probe_side::<true, true>(side, values, f),
            Some(Effect::Deny) => self.probe_side::<true, false>(side, values, f),
            Some(Effect::Grant) => self.probe_side::<false, true>(side, values, f),
        }
    }

    /// Probes one side for the effects asked for. Walks the side's indexed attributes,
    /// reading each value by slot; when the side has more slots than a decision
    /// remembers and the entity has fewer attributes than the side indexes, walks the
    /// entity's attributes instead, so that a policy that indexes many attributes costs
    /// few lookups.
    fn probe_side<'a, const DENY: bool, const GRANT: bool>(
        &self,
        side: usize,
        values: &impl SlotValues<'a>,
        f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let index = &self.sides[side];
        let pool = Pool {
            ids: &index.pool,
            programs: &self.programs,
        };
        let entity = values.entity();
        let slots = &self.layout.slots[side];
        if slots.len() > layout::DENSE_SLOTS
            && index.entries.len() > entity.attribute_map().len() + entity.tag_map().len()
        {
            for (name, value) in entity.attribute_map() {
                if let Some(ap) = slots
                    .get_name(name.as_str())
                    .and_then(|slot| index.entry_of_slot(slot))
                {
                    let value = Val::read(value.as_ref());
                    probe_value::<DENY, GRANT>(ap, &pool, value, f)?;
                }
            }
            for (key, value) in entity.tag_map() {
                if let Some(ap) = slots
                    .get_tag(key.as_str())
                    .and_then(|slot| index.entry_of_slot(slot))
                {
                    let value = Val::read(ValueRef::Str(value));
                    probe_value::<DENY, GRANT>(ap, &pool, value, f)?;
                }
            }
            if DENY {
                for &i in &index.deny_entries {
                    let (slot, ap) = &index.entries[i as usize];
                    if values.get(*slot) == Val::Absent {
                        emit(&ap.deny_any, Effect::Deny, f)?;
                    }
                }
            }
        } else {
            for (slot, ap) in &index.entries {
                match values.get(*slot) {
                    Val::Absent if DENY => emit(&ap.deny_any, Effect::Deny, f)?,
                    Val::Absent => {}
                    value => probe_value::<DENY, GRANT>(ap, &pool, value, f)?,
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Calls `f(effect, id)` for each id of `list`.
#[inline]
fn emit(
    list: &[u32],
    effect: Effect,
    f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for &r in list {
        f(effect, r)?;
    }
    ControlFlow::Continue(())
}

/// The candidates one value of the request finds under its attribute, for the effects
/// asked for (`DENY`, `GRANT`): each key is looked up once for both.
#[inline]
fn probe_value<const DENY: bool, const GRANT: bool>(
    ap: &AttributePostings<PostRange>,
    pool: &Pool<'_>,
    value: Val<'_>,
    f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match value {
        Val::Absent => return ControlFlow::Continue(()),
        Val::Str(s) => {
            if let Some(p) = ap.eq_str.get(s.as_bytes()) {
                p.emit::<DENY, GRANT>(pool, f)?;
            }
            probe_prefixes::<DENY, GRANT>(ap, pool, s, f)?;
        }
        Val::Int(i) => {
            if let Some(p) = ap.eq_int.get(&i) {
                p.emit::<DENY, GRANT>(pool, f)?;
            }
            if DENY {
                ap.ranges[1].stab(i, Effect::Deny, f)?;
            }
            if GRANT {
                ap.ranges[0].stab(i, Effect::Grant, f)?;
            }
        }
        Val::Bool(b) => ap.eq_bool[usize::from(b)].emit::<DENY, GRANT>(pool, f)?,
        Val::Set(items) => {
            if ap.has_strings() {
                for item in items {
                    if let Some(p) = ap.eq_str.get(item.as_bytes()) {
                        p.emit::<DENY, GRANT>(pool, f)?;
                    }
                    probe_prefixes::<DENY, GRANT>(ap, pool, item, f)?;
                }
            }
        }
    }
    if !ap.present.is_empty() {
        ap.present.emit::<DENY, GRANT>(pool, f)?;
    }
    if DENY && ap.deny_by_kind.iter().any(|list| !list.is_empty()) {
        if let Some(value) = value.value() {
            for kind in LiteralKind::ALL {
                if !comparable(value, kind) {
                    emit(&ap.deny_by_kind[kind as usize], Effect::Deny, f)?;
                }
            }
        }
    }
    ControlFlow::Continue(())
}

/// The rules anchored on a prefix of `text`: one lookup per distinct prefix length.
#[inline]
fn probe_prefixes<const DENY: bool, const GRANT: bool>(
    ap: &AttributePostings<PostRange>,
    pool: &Pool<'_>,
    text: &str,
    f: &mut impl FnMut(Effect, u32) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for &len in &ap.prefix_lengths {
        if len > text.len() {
            break;
        }
        if let Some(p) = text.get(..len).and_then(|prefix| ap.prefix.get(prefix)) {
            p.emit::<DENY, GRANT>(pool, f)?;
        }
    }
    ControlFlow::Continue(())
}
