//! [`Policy`]: compiled rules, their index, and the decision entry points.

use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;

use crate::check;
use crate::compile::layers::{Layer, Layers};
use crate::compile::layout::SideValues;
use crate::compile::{Candidates, IndexStats, IDENTITY, RESOURCE};
use crate::decide::decision::Decision;
use crate::decide::explain::{self, Explanation, Scope};
use crate::decide::{self, Applying, Linear, Sink};
use crate::diagnostics::Code;
use crate::entity::{Entity, Identity, Resource};
use crate::error::{Error, PolicyDiagnostic};
use crate::ir::{self, RuleList};
use crate::lifecycle::reverse::ReverseIndex;
use crate::limits::Limits;
use crate::request::Request;
use crate::rules::RuleView;
use crate::source::{Location, Source, Span};
use crate::syntax;
use crate::vocabulary::Effect;

/// A compiled policy: checked rules plus their indexed decision structure.
///
/// `Policy` is immutable, `Send + Sync`, and cheap to clone (an `Arc` inside), so one
/// compiled policy serves every thread of a proxy.
///
/// ```
/// use tenure::{Identity, Policy, Resource};
///
/// let policy = Policy::compile("role = DBA grants type in [postgres, mysql] and not (tag:env = prod);")?;
/// let dba = Identity::new().with("role", "DBA");
/// let staging_db = Resource::new().with("type", "postgres").with_tag("env", "staging");
/// assert!(policy.is_allowed(&dba, &staging_db));
/// assert!(!policy.is_allowed(&dba, &Resource::new().with("type", "postgres").with_tag("env", "prod")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The sources, by position in the compile call: names for rule views, texts for the
    /// diagnostics of later analyses (schema checks, lints) with snippets.
    sources: Vec<Source>,
    /// The checked rules, one chunk per source (shared with the policies an incremental
    /// recompile made this one from, or makes from it).
    rules: RuleList,
    /// Written rule id (`@id`) → position in `rules`. A positional `rule-N` id is found
    /// by its number instead (see [`Policy::rule`]), so it costs nothing here and an
    /// edit that renumbers such rules leaves this map as it is.
    by_id: FxHashMap<Arc<str>, u32>,
    /// The decision structure: the index, and the delta of incremental recompiles.
    layers: Layers,
    /// The limits of the compile, kept for incremental recompiles.
    limits: Limits,
    /// The grants indexed side by side, for reverse queries: built on first use.
    reverse: OnceLock<ReverseIndex>,
    /// Positional ids as text for [`RuleView::id`], written on first use.
    positional_ids: ir::PositionalIds,
}

impl Policy {
    /// Compiles one policy text (named `<policy>` in errors).
    ///
    /// # Errors
    /// Every syntax, value, id and limit problem found, with locations.
    pub fn compile(text: &str) -> Result<Policy, Error> {
        Policy::compile_sources([("<policy>", text)])
    }

    /// Compiles several named sources as one policy set, in order. Names appear in
    /// errors; rules without `@id` are numbered across all sources.
    ///
    /// ```
    /// let policy = tenure::Policy::compile_sources([
    ///     ("base.tenure", "@id(\"a\") * grants tag:public = yes;"),
    ///     ("extra.tenure", "role = x grants *;"),
    /// ])?;
    /// assert_eq!(policy.rule("rule-2").map(|r| r.source_name()), Some("extra.tenure"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Policy::compile`]; duplicate ids are reported across sources.
    pub fn compile_sources<I, N, T>(sources: I) -> Result<Policy, Error>
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        Policy::compile_with_limits(sources, &Limits::default())
    }

    /// Compiles named sources under explicit [`Limits`].
    ///
    /// # Errors
    /// As [`Policy::compile`], plus [`ErrorKind::Limit`](crate::ErrorKind::Limit) when a
    /// limit is exceeded.
    pub fn compile_with_limits<I, N, T>(sources: I, limits: &Limits) -> Result<Policy, Error>
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let sources: Vec<Source> = sources
            .into_iter()
            .map(|(n, t)| Source::new(n.as_ref(), t.as_ref()))
            .collect();
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        if total > limits.max_policy_bytes {
            let first = sources
                .iter()
                .find(|s| !s.text.is_empty())
                .unwrap_or(&sources[0]);
            return Err(Error::from_diagnostics(vec![PolicyDiagnostic::new(
                Code::PolicyTooLarge,
                first,
                Span::new(0, 0),
                format!(
                    "policy text is {total} bytes, more than the limit of {}",
                    limits.max_policy_bytes
                ),
            )]));
        }
        match Policy::compile_in_pieces(&sources, limits) {
            Some(policy) => Ok(policy),
            None => Policy::compile_whole(sources, limits),
        }
    }

    /// The compile that reports problems: parses every source whole (in chunks on
    /// several threads for large ones), then checks all of them, so that one run reports
    /// every syntax error, duplicate id and limit, in order.
    fn compile_whole(sources: Vec<Source>, limits: &Limits) -> Result<Policy, Error> {
        let mut parsed = syntax::parse_sources(&sources, limits);
        let mut errors: Vec<PolicyDiagnostic> = Vec::new();
        for p in &mut parsed {
            errors.append(&mut p.errors);
        }
        let mut count = 0usize;
        'outer: for (source, p) in sources.iter().zip(&parsed) {
            for (_, rule) in &p.rules {
                count += 1;
                if count > limits.max_rules {
                    errors.push(PolicyDiagnostic::new(
                        Code::TooManyRules,
                        source,
                        rule.span,
                        format!("policy has more than {} rules", limits.max_rules),
                    ));
                    break 'outer;
                }
            }
        }
        // Check what parsed even when something failed, so that one run reports
        // duplicate ids and syntax errors together.
        let rules = match check::check(&sources, &parsed) {
            Ok(rules) if errors.is_empty() => rules,
            Ok(_) => return Err(Error::from_diagnostics(errors)),
            Err(mut check_errors) => {
                errors.append(&mut check_errors);
                return Err(Error::from_diagnostics(errors));
            }
        };
        // The syntax trees are not needed any more: free them before the index is built.
        drop(parsed);
        let rules = RuleList::by_source(rules, sources.len());
        Policy::assemble(sources, rules, limits.clone())
            .map_err(|duplicate| Error::from_diagnostics(vec![*duplicate]))
    }

    /// The fast path of a compile, for policies without problems: each piece of source
    /// is parsed and checked on one worker, its syntax trees freed at once, and the
    /// positional `rule-N` ids given afterwards. `None` when anything is wrong (a
    /// problem, a duplicate id, a limit): the caller compiles the usual way, which finds
    /// and reports every problem.
    fn compile_in_pieces(sources: &[Source], limits: &Limits) -> Option<Policy> {
        let pieces = syntax::parse_pieces(sources, limits, |interner, k, parsed| {
            check::check_piece(sources, k, &parsed, interner).ok()
        })?;
        let count: usize = pieces.iter().map(Vec::len).sum();
        if count > limits.max_rules {
            return None;
        }
        // One chunk per source, the pieces of a source concatenated.
        let mut chunks: Vec<Vec<ir::Rule>> = sources.iter().map(|_| Vec::new()).collect();
        for rule in pieces.into_iter().flatten() {
            chunks.get_mut(rule.source())?.push(rule);
        }
        let rules = RuleList::from_chunks(chunks.into_iter().map(Arc::from).collect());
        Policy::assemble(sources.to_vec(), rules, limits.clone()).ok()
    }

    /// Builds the compiled structures over checked `rules`; `Err` when two rules share
    /// an id (which [`check::check`] has already reported, with both places, for a full
    /// compile; an incremental recompile falls back to a full one to report it so).
    pub(crate) fn assemble(
        sources: Vec<Source>,
        rules: RuleList,
        limits: Limits,
    ) -> Result<Policy, Box<PolicyDiagnostic>> {
        let duplicate = |r: &ir::Rule, id: &str| {
            Box::new(PolicyDiagnostic::new(
                Code::DuplicateId,
                &sources[r.source()],
                r.span(),
                format!("duplicate rule id `{id}`"),
            ))
        };
        let mut by_id: FxHashMap<Arc<str>, u32> = FxHashMap::default();
        for (i, r) in rules.iter().enumerate() {
            if let Some(id) = &r.written_id {
                // INVARIANT: rule indices fit in u32 (the rule-count limit is far below).
                if by_id.insert(id.clone(), i as u32).is_some() {
                    return Err(duplicate(r, id));
                }
            }
        }
        // A written `rule-N` id that a positional id takes too.
        for (id, &i) in &by_id {
            if rules.positional_taken(id) {
                if let Some(r) = rules.get(i as usize) {
                    return Err(duplicate(r, id));
                }
            }
        }
        let layers = Layers::full(&rules);
        Ok(Policy::from_parts(sources, rules, by_id, layers, limits))
    }

    /// A policy of checked parts, whose ids the caller has checked for duplicates.
    pub(crate) fn from_parts(
        sources: Vec<Source>,
        rules: RuleList,
        by_id: FxHashMap<Arc<str>, u32>,
        layers: Layers,
        limits: Limits,
    ) -> Policy {
        let rules_len = rules.len();
        Policy {
            inner: Arc::new(Inner {
                sources,
                rules,
                by_id,
                layers,
                limits,
                reverse: OnceLock::new(),
                positional_ids: ir::PositionalIds::new(rules_len),
            }),
        }
    }

    /// The parts an incremental recompile starts from.
    pub(crate) fn parts(&self) -> (&RuleList, &FxHashMap<Arc<str>, u32>, &Layers) {
        (&self.inner.rules, &self.inner.by_id, &self.inner.layers)
    }

    /// The limits the policy was compiled under (an incremental recompile keeps them).
    pub(crate) fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The rules, in load order.
    ///
    /// ```
    /// let policy = tenure::Policy::compile("@id(\"a\") * grants *; * denies *;")?;
    /// let ids: Vec<&str> = policy.rules().map(|r| r.id()).collect();
    /// assert_eq!(ids, ["a", "rule-2"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rules(&self) -> impl ExactSizeIterator<Item = RuleView<'_>> + '_ {
        let rules = &self.inner.rules;
        (0..rules.len()).map(move |i| self.view_of(&rules[i], i))
    }

    /// The rule with this id, found in constant time.
    pub fn rule(&self, id: &str) -> Option<RuleView<'_>> {
        if let Some(position) = ir::auto_position(id) {
            let rule = self.inner.rules.get(position).filter(|r| r.positional());
            if let Some(rule) = rule {
                return Some(self.view_of(rule, position));
            }
        }
        let &i = self.inner.by_id.get(id)?;
        let rule = self.inner.rules.get(i as usize)?;
        Some(self.view_of(rule, i as usize))
    }

    fn view_of<'a>(&'a self, rule: &'a ir::Rule, i: usize) -> RuleView<'a> {
        let id = match &rule.written_id {
            Some(id) => id,
            // `i` is a position of this policy's rules, which the table covers.
            None => self.inner.positional_ids.get(i).unwrap_or_default(),
        };
        RuleView::new(
            rule,
            i,
            id,
            self.source_name_of(rule.source()),
            self.location_of_rule(rule),
        )
    }

    /// How many rules the policy has.
    pub fn len(&self) -> usize {
        self.inner.rules.len()
    }

    /// True when the policy has no rules (it denies everything).
    pub fn is_empty(&self) -> bool {
        self.inner.rules.is_empty()
    }

    /// The checked rules (for the exporter and the fast path).
    pub(crate) fn ir_rules(&self) -> &RuleList {
        &self.inner.rules
    }

    pub(crate) fn source_name_of(&self, source: usize) -> &str {
        self.inner
            .sources
            .get(source)
            .map_or("", |s| s.name.as_ref())
    }

    /// The sources, by position in the compile call.
    pub(crate) fn sources(&self) -> &[Source] {
        &self.inner.sources
    }

    /// Where the rule at this position starts.
    pub(crate) fn location_of(&self, rule: usize) -> Location {
        self.inner
            .rules
            .get(rule)
            .map_or(Location { line: 0, column: 0 }, |r| {
                self.location_of_rule(r)
            })
    }

    /// Where this rule starts (line and column, from its source's line index).
    fn location_of_rule(&self, rule: &ir::Rule) -> Location {
        match self.inner.sources.get(rule.source()) {
            Some(source) => source.location(rule.span().start),
            None => Location { line: 0, column: 0 },
        }
    }

    /// Whether some rule has an `@id` (when none has, every id is `rule-N`).
    pub(crate) fn has_written_ids(&self) -> bool {
        !self.inner.by_id.is_empty()
    }

    /// Where the `atom`-th atom of the rule at position `rule` ([`ir::Rule::sided_atoms`]
    /// order) was written, for diagnostics: the rule is parsed again, as checked rules
    /// keep no per-atom spans. The rule's own span when it cannot be found.
    pub(crate) fn atom_span(&self, rule: usize, atom: usize) -> Span {
        let Some(r) = self.inner.rules.get(rule) else {
            return Span::new(0, 0);
        };
        self.inner
            .sources
            .get(r.source())
            .and_then(|source| syntax::parse_rule_at(source, &self.inner.limits, r.span()))
            .and_then(|parsed| check::atom_spans(&parsed).get(atom).copied())
            .unwrap_or_else(|| r.span())
    }

    /// Whether a deny applies to the pair (reverse queries).
    pub(crate) fn denied(&self, identity: &Entity, resource: &Entity) -> bool {
        decide::deny_applies(&Indexed::new(self, identity, resource))
    }

    /// The rules of `effect` that apply to the pair (sorted, each once), through the index.
    pub(crate) fn applying(
        &self,
        effect: Effect,
        identity: &Entity,
        resource: &Entity,
    ) -> Vec<u32> {
        let mut found = Vec::new();
        let _ = Indexed::new(self, identity, resource).for_each_applying_of(effect, &mut |r, _| {
            found.push(r);
            ControlFlow::Continue(())
        });
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The reverse-query index, built on first use.
    pub(crate) fn reverse(&self) -> &ReverseIndex {
        self.inner
            .reverse
            .get_or_init(|| ReverseIndex::build(&self.inner.rules))
    }

    /// The decision structure (for the per-identity fast path).
    pub(crate) fn layers(&self) -> &Layers {
        &self.inner.layers
    }

    /// Sizes of the compiled index. After incremental recompiles
    /// ([`Policy::with_source`]) the figures are those of the index the last full
    /// compile built plus those of the small index over the sources edited since: the
    /// base's still count the old rules of edited sources (unread) until the next full
    /// build; `rules` is the policy's rule count.
    pub fn index_stats(&self) -> IndexStats {
        let layers = &self.inner.layers;
        let mut stats = layers.base().index().stats();
        if let Some(delta) = layers.delta().map(|d| d.index().stats()) {
            stats.anchored_on_value += delta.anchored_on_value;
            stats.anchored_on_presence += delta.anchored_on_presence;
            stats.unanchored_grants += delta.unanchored_grants;
            stats.unanchored_denies += delta.unanchored_denies;
            stats.keys += delta.keys;
        }
        stats.rules = self.len();
        stats
    }

    /// Decides a request and explains it: every applying deny (deny overrides), else
    /// every applying grant, else default deny; reasons in load order.
    pub fn decide(&self, request: &Request) -> Decision {
        self.authorize(request.identity(), request.resource())
    }

    /// Decides a request without building reasons (see [`Policy::is_allowed`]).
    pub fn allows(&self, request: &Request) -> bool {
        self.is_allowed(request.identity(), request.resource())
    }

    /// [`Policy::decide`] on borrowed parts: may `identity` reach `resource`, and why.
    pub fn authorize(&self, identity: &Identity, resource: &Resource) -> Decision {
        decide::authorize(&self.indexed(identity.entity(), resource.entity()))
    }

    /// Decides a request without building reasons: stops at the first applying deny, then
    /// at the first applying grant. Does not allocate.
    pub fn is_allowed(&self, identity: &Identity, resource: &Resource) -> bool {
        decide::is_allowed(&self.indexed(identity.entity(), resource.entity()))
    }

    fn indexed<'a>(&'a self, identity: &'a Entity, resource: &'a Entity) -> Indexed<'a> {
        Indexed::new(self, identity, resource)
    }

    /// How many rule evaluations the index makes for this request (duplicates included),
    /// for tests and tuning; independent of the number of rules that cannot match.
    pub fn candidates(&self, identity: &Identity, resource: &Resource) -> Candidates {
        let mut counts = Candidates::default();
        for layer in self.inner.layers.all() {
            let index = layer.index();
            let identity = index.normalize(IDENTITY, identity.entity());
            let resource = index.normalize(RESOURCE, resource.entity());
            let (identity, resource) = (&identity, &resource);
            let _ = layer.for_each_candidate(Effect::Deny, identity, resource, &mut |_| {
                counts.denies += 1;
                ControlFlow::Continue(())
            });
            let _ = layer.for_each_candidate(Effect::Grant, identity, resource, &mut |_| {
                counts.grants += 1;
                ControlFlow::Continue(())
            });
        }
        counts
    }

    /// Explains the decision for a request: the index's candidate rules, in load order,
    /// each evaluated atom by atom, and the deny-overrides step. Its decision is exactly
    /// [`Policy::authorize`]'s. Every rule that applies is a candidate, so the applying
    /// rules and the verdict are the same as [`Policy::explain_all`]'s; only the rules
    /// that cannot apply are left out. Costs a decision plus one evaluation of each
    /// candidate; meant for people and tools, not for the hot path.
    ///
    /// ```
    /// use tenure::{Identity, Policy, Resource};
    ///
    /// let policy = Policy::compile(r#"
    ///     @id("dba") role = DBA grants type in [postgres, mysql];
    ///     @id("sre") role = SRE grants *;
    /// "#)?;
    /// let who = Identity::new().with("role", "DBA");
    /// let what = Resource::new().with("type", "postgres");
    /// let explanation = policy.explain(&who, &what);
    /// assert!(explanation.decision().is_allowed());
    /// // `sre` cannot apply to a DBA: the index does not even look at it.
    /// let examined: Vec<&str> = explanation.rules().iter().map(|r| r.id.as_str()).collect();
    /// assert_eq!(examined, ["dba"]);
    /// assert_eq!(policy.explain_all(&who, &what).rules().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self, identity: &Identity, resource: &Resource) -> Explanation {
        self.explain_in(identity, resource, Scope::Candidates)
    }

    /// As [`Policy::explain`], examining every rule of the policy, candidate or not.
    pub fn explain_all(&self, identity: &Identity, resource: &Resource) -> Explanation {
        self.explain_in(identity, resource, Scope::AllRules)
    }

    fn explain_in(&self, identity: &Identity, resource: &Resource, scope: Scope) -> Explanation {
        let decision = self.authorize(identity, resource);
        let (identity, resource) = (identity.entity(), resource.entity());
        let mut candidates = vec![false; self.inner.rules.len()];
        for layer in self.inner.layers.all() {
            let index = layer.index();
            let (identity_values, resource_values) = (
                index.normalize(IDENTITY, identity),
                index.normalize(RESOURCE, resource),
            );
            for effect in [Effect::Deny, Effect::Grant] {
                let _ = layer.for_each_candidate(
                    effect,
                    &identity_values,
                    &resource_values,
                    &mut |position| {
                        if let Some(candidate) = candidates.get_mut(position as usize) {
                            *candidate = true;
                        }
                        ControlFlow::Continue(())
                    },
                );
            }
        }
        let request = explain::Request {
            identity,
            resource,
            candidates: &candidates,
            decision,
        };
        explain::explain(&self.inner.rules, request, scope, |rule| explain::Written {
            source_name: self.source_name_of(self.inner.rules[rule].source()),
            location: self.location_of(rule),
        })
    }

    /// Decides by evaluating every rule in order, without the index. Same answer as
    /// [`Policy::authorize`]; kept as a baseline for benchmarks and cross-checks.
    pub fn authorize_linear(&self, identity: &Identity, resource: &Resource) -> Decision {
        decide::authorize(&Linear {
            rules: &self.inner.rules,
            identity: identity.entity(),
            resource: resource.entity(),
        })
    }
}

/// The indexed decision path: the request normalised once for the index, the index's
/// candidates found by slot and symbol, and each evaluated as a flat program.
struct Indexed<'a> {
    rules: &'a RuleList,
    identity: &'a Entity,
    resource: &'a Entity,
    base: &'a Layer,
    identity_values: SideValues<'a>,
    resource_values: SideValues<'a>,
    /// The delta layer of incremental recompiles, when there is one (the request is
    /// normalised for its index when it is probed: most policies have none, and a
    /// decision should not carry a second pair of values it does not need).
    delta: Option<&'a Layer>,
    /// Whether some rule has an `@id` (see [`Applying::written_ids`]).
    written_ids: bool,
}

impl<'a> Indexed<'a> {
    /// The delta layer's part of [`Applying::for_each_applying`], out of line.
    #[inline(never)]
    fn delta_applying(&self, delta: &Layer, sink: &mut impl Sink) -> ControlFlow<()> {
        let index = delta.index();
        let identity = index.normalize(IDENTITY, self.identity);
        let resource = index.normalize(RESOURCE, self.resource);
        delta.for_each_applying(&identity, &resource, sink)
    }

    #[inline]
    fn new(policy: &'a Policy, identity: &'a Entity, resource: &'a Entity) -> Self {
        // One decision on a request the caller just handed over: start its misses
        // together (not on the prepared path, whose reverse-query scans check many
        // resources and read few of their values).
        identity.touch();
        resource.touch();
        let layers = &policy.inner.layers;
        let index = layers.base().index();
        Indexed {
            rules: &policy.inner.rules,
            identity,
            resource,
            base: layers.base(),
            identity_values: index.normalize(IDENTITY, identity),
            resource_values: index.normalize(RESOURCE, resource),
            delta: layers.delta(),
            written_ids: policy.has_written_ids(),
        }
    }
}

impl Applying for Indexed<'_> {
    #[inline]
    fn for_each_applying(&self, sink: &mut impl Sink) -> ControlFlow<()> {
        let (identity, resource) = (&self.identity_values, &self.resource_values);
        self.base.for_each_applying(identity, resource, sink)?;
        match self.delta {
            Some(delta) => self.delta_applying(delta, sink),
            None => ControlFlow::Continue(()),
        }
    }

    fn rules(&self) -> &RuleList {
        self.rules
    }

    fn written_ids(&self) -> bool {
        self.written_ids
    }

    fn entities(&self) -> (&Entity, &Entity) {
        (self.identity, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn policy_is_send_sync() {
        assert_send_sync::<Policy>();
    }

    #[test]
    fn rule_locations_are_line_and_column() {
        let p = Policy::compile_sources([
            ("a", "* grants *;\n  has é grants *; * grants *;"),
            ("b", "\n\n   * denies *;"),
        ])
        .unwrap();
        let locations: Vec<(usize, usize)> = p
            .rules()
            .map(|r| {
                let l = r.location();
                (l.line, l.column)
            })
            .collect();
        assert_eq!(locations, [(1, 1), (2, 3), (2, 19), (3, 4)]);
    }
}

#[cfg(test)]
mod piece_tests {
    use super::*;
    use crate::{Identity, Resource};

    /// Three sources, one of them large enough to be parsed in several pieces, mixing
    /// written and positional ids.
    fn sources(duplicate: bool) -> Vec<Source> {
        let mut big = String::new();
        for i in 0..12_000 {
            if i % 7 == 1 {
                big.push_str(&format!("@id(\"big-{i}\") "));
            }
            big.push_str(&format!(
                "role = r{} and level >= {} grants tag:env = e{} or type ~ \"t{}*\";\n",
                i % 50,
                i % 5,
                i % 4,
                i % 9
            ));
        }
        let mut tail = String::from("status != active denies *;\n");
        if duplicate {
            big.push_str("@id(\"small-1\") * denies type = rdp;\n");
            tail.push_str("@id(\"rule-3\") * grants *;\n");
        }
        vec![
            Source::new(
                "small",
                "@id(\"small-1\") * denies type = rdp;\n* grants type = wiki;",
            ),
            Source::new("big", big),
            Source::new("tail", tail),
        ]
    }

    fn rows(policy: &Policy) -> Vec<(String, usize, String, usize, usize)> {
        policy
            .rules()
            .map(|r| {
                let l = r.location();
                (
                    r.id().to_string(),
                    r.index(),
                    r.source_name().to_string(),
                    l.line,
                    l.column,
                )
            })
            .collect()
    }

    #[test]
    fn pieces_compile_like_the_whole() {
        let sources = sources(false);
        assert!(sources[1].text.len() > 4 * syntax::PIECE_BYTES);
        let limits = Limits::default();
        let pieces = Policy::compile_in_pieces(&sources, &limits).expect("the fast path compiles");
        let whole = Policy::compile_whole(sources, &limits).expect("compiles");
        assert_eq!(rows(&pieces), rows(&whole));
        assert_eq!(rows(&pieces)[2].0, "rule-3");
        for k in 0..200i64 {
            let identity = Identity::new()
                .with("role", format!("r{}", k % 60))
                .with("level", k % 6)
                .with("status", if k % 11 == 0 { "gone" } else { "active" });
            let resource = Resource::new()
                .with_tag("env", format!("e{}", k % 5))
                .with("type", format!("t{}x", k % 10));
            assert_eq!(
                pieces.authorize(&identity, &resource),
                whole.authorize(&identity, &resource)
            );
        }
    }

    /// Checked rules keep no atom spans: `atom_span` parses the rule again. It finds
    /// every atom where the parse of the whole source put it, in every source shape
    /// (pieces, a BOM, CRLF, comments, groups, negations, lists, globs, annotations).
    #[test]
    fn atom_spans_are_found_again_where_the_whole_parse_put_them() {
        let mut sources = sources(false);
        sources.push(Source::new(
            "shapes",
            "\u{feff}// lead\r\n@id(\"s\") @owner(\"x\")\r\n  not (role = a or team in [b, \"c d\"])\r\n\
             and level != 3 // mid\r\n  grants name ~ \"db-*\" and not has tag:\"k 1\";\r\n\
             * denies *;\n",
        ));
        let limits = Limits::default();
        let policy = Policy::compile_whole(sources.clone(), &limits).expect("compiles");
        let parsed = syntax::parse_sources(&sources, &limits);
        let expected: Vec<Vec<Span>> = parsed
            .iter()
            .flat_map(|p| p.rules.iter().map(|(_, rule)| check::atom_spans(rule)))
            .collect();
        assert_eq!(expected.len(), policy.len());
        for (r, spans) in expected.iter().enumerate() {
            assert_eq!(
                spans.len(),
                policy.ir_rules()[r].sided_atoms().len(),
                "rule {r}"
            );
            for (k, span) in spans.iter().enumerate() {
                assert_eq!(policy.atom_span(r, k), *span, "rule {r}, atom {k}");
            }
        }
        let shapes = policy.len() - 2;
        let text = &sources[3].text;
        let atoms: Vec<&str> = (0..5)
            .map(|k| {
                let span = policy.atom_span(shapes, k);
                &text[span.start..span.end]
            })
            .collect();
        assert_eq!(
            atoms,
            [
                "role = a",
                "team in [b, \"c d\"]",
                "level != 3",
                "name ~ \"db-*\"",
                "has tag:\"k 1\""
            ]
        );
        // Past the atoms, or past the rules: the rule's span, or nothing.
        assert_eq!(
            policy.atom_span(shapes, 5),
            policy.ir_rules()[shapes].span()
        );
        assert_eq!(policy.atom_span(policy.len(), 0), Span::new(0, 0));
    }

    /// A written id used in two pieces, and a written `rule-N` that a positional id takes
    /// too: the fast path gives up and the whole compile reports them.
    #[test]
    fn duplicates_across_pieces_are_reported_by_the_whole_compile() {
        let limits = Limits::default();
        assert!(Policy::compile_in_pieces(&sources(true), &limits).is_none());
        let err = Policy::compile_with_limits(
            sources(true)
                .iter()
                .map(|s| (s.name.clone(), s.text.clone())),
            &limits,
        )
        .expect_err("duplicate ids");
        let text = err.to_string();
        assert!(text.contains("duplicate rule id `small-1`"), "{text}");
        assert!(text.contains("duplicate rule id `rule-3`"), "{text}");
    }
}
