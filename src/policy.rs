//! [`Policy`]: compiled rules and `authorize`.

use std::ops::ControlFlow;
use std::sync::Arc;

use crate::check;
use crate::compile::{Candidates, Index, IndexStats};
use crate::decision::{unknowns_of, Decision, Reason};
use crate::entity::{Entity, Identity, Resource};
use crate::error::{Error, ErrorKind, Location, PolicyDiagnostic, Source};
use crate::ir::{self, Outcome};
use crate::limits::Limits;
use crate::syntax::{self, ast::Effect, ast::Span};

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
    /// Source names, by position in the compile call (the texts are not kept).
    source_names: Vec<Arc<str>>,
    rules: Vec<ir::Rule>,
    /// Where each rule starts, parallel to `rules`.
    locations: Vec<Location>,
    index: Index,
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
    /// assert_eq!(policy.rules()[1].id.as_ref(), "rule-2");
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
    /// As [`Policy::compile`], plus [`ErrorKind::Limit`] when a limit is exceeded.
    pub fn compile_with_limits<I, N, T>(sources: I, limits: &Limits) -> Result<Policy, Error>
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let sources: Vec<Source> = sources
            .into_iter()
            .map(|(n, t)| Source {
                name: n.as_ref().into(),
                text: t.as_ref().into(),
            })
            .collect();
        let mut errors = Vec::new();
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        if total > limits.max_policy_bytes {
            let first = sources
                .iter()
                .find(|s| !s.text.is_empty())
                .unwrap_or(&sources[0]);
            return Err(Error::from_diagnostics(vec![PolicyDiagnostic::new(
                ErrorKind::Limit,
                first,
                Span::new(0, 0),
                format!(
                    "policy text is {total} bytes, more than the limit of {}",
                    limits.max_policy_bytes
                ),
            )]));
        }
        let mut asts = Vec::with_capacity(sources.len());
        for source in &sources {
            match syntax::parse_source(source, limits) {
                Ok(ast) => asts.push(ast),
                Err(mut e) => {
                    errors.append(&mut e);
                    asts.push(syntax::ast::Policy { rules: Vec::new() });
                }
            }
        }
        let mut count = 0usize;
        'outer: for (source, ast) in sources.iter().zip(&asts) {
            for rule in &ast.rules {
                count += 1;
                if count > limits.max_rules {
                    errors.push(PolicyDiagnostic::new(
                        ErrorKind::Limit,
                        source,
                        rule.span,
                        format!("policy has more than {} rules", limits.max_rules),
                    ));
                    break 'outer;
                }
            }
        }
        // Check what parsed even when another source failed, so that one run reports
        // duplicate ids and syntax errors together.
        let rules = match check::check(&sources, &asts) {
            Ok(rules) if errors.is_empty() => rules,
            Ok(_) => return Err(Error::from_diagnostics(errors)),
            Err(mut check_errors) => {
                errors.append(&mut check_errors);
                return Err(Error::from_diagnostics(errors));
            }
        };
        let index = Index::build(&rules);
        let locations = rule_locations(&sources, &rules);
        Ok(Policy {
            inner: Arc::new(Inner {
                source_names: sources.into_iter().map(|s| s.name).collect(),
                rules,
                locations,
                index,
            }),
        })
    }

    /// The checked rules, in load order.
    pub fn rules(&self) -> &[ir::Rule] {
        &self.inner.rules
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&ir::Rule> {
        self.inner.rules.iter().find(|r| r.id.as_ref() == id)
    }

    /// The name of the source a rule came from.
    pub fn source_name(&self, rule: &ir::Rule) -> &str {
        self.inner
            .source_names
            .get(rule.source)
            .map_or("", |name| name.as_ref())
    }

    /// The 1-based line and column where a rule starts in its source.
    pub fn rule_location(&self, rule: &ir::Rule) -> Location {
        let position = self
            .inner
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .or_else(|| self.inner.rules.iter().position(|r| r == rule));
        position
            .and_then(|i| self.inner.locations.get(i).copied())
            .unwrap_or(Location { line: 1, column: 1 })
    }

    /// The compiled index (for the per-identity fast path).
    pub(crate) fn index(&self) -> &Index {
        &self.inner.index
    }

    /// Sizes of the compiled index.
    pub fn index_stats(&self) -> IndexStats {
        self.inner.index.stats()
    }

    /// Decides a request and explains it: every applying deny (deny overrides), else
    /// every applying grant, else default deny; reasons in load order.
    pub fn authorize(&self, identity: &Identity, resource: &Resource) -> Decision {
        self.authorize_entities(identity.entity(), resource.entity())
    }

    /// [`Policy::authorize`] on plain entities.
    pub fn authorize_entities(&self, identity: &Entity, resource: &Entity) -> Decision {
        let index = &self.inner.index;
        let mut candidates: Vec<u32> = Vec::new();
        Decision::deny_overrides(|effect| {
            candidates.clear();
            let _ = index.for_each_candidate(effect, identity, resource, &mut |r| {
                candidates.push(r);
                ControlFlow::Continue(())
            });
            candidates.sort_unstable();
            candidates.dedup();
            candidates
                .iter()
                .filter_map(|&r| self.reason_if_applies(r as usize, identity, resource))
                .collect()
        })
    }

    fn reason_if_applies(&self, r: usize, identity: &Entity, resource: &Entity) -> Option<Reason> {
        let rule = &self.inner.rules[r];
        let unknowns = match rule.outcome(identity, resource) {
            Outcome::NotApplied => return None,
            Outcome::Certain => Vec::new(),
            Outcome::ByUnknown => unknowns_of(rule, identity, resource),
        };
        Some(Reason {
            rule_id: rule.id.clone(),
            rule_index: r,
            effect: rule.effect,
            unknowns,
        })
    }

    /// Decides a request without building reasons: stops at the first applying deny, then
    /// at the first applying grant. Does not allocate.
    pub fn is_allowed(&self, identity: &Identity, resource: &Resource) -> bool {
        self.is_allowed_entities(identity.entity(), resource.entity())
    }

    /// [`Policy::is_allowed`] on plain entities.
    pub fn is_allowed_entities(&self, identity: &Entity, resource: &Entity) -> bool {
        let index = &self.inner.index;
        let rules = &self.inner.rules;
        let mut applies = ir::break_if_applies(rules, identity, resource);
        if index
            .for_each_candidate(Effect::Deny, identity, resource, &mut applies)
            .is_break()
        {
            return false;
        }
        index
            .for_each_candidate(Effect::Grant, identity, resource, &mut applies)
            .is_break()
    }

    /// How many rule evaluations the index makes for this request (duplicates included),
    /// for tests and tuning; independent of the number of rules that cannot match.
    pub fn candidates(&self, identity: &Identity, resource: &Resource) -> Candidates {
        let index = &self.inner.index;
        let mut counts = Candidates::default();
        let _ = index.for_each_candidate(Effect::Deny, identity, resource, &mut |_| {
            counts.denies += 1;
            ControlFlow::Continue(())
        });
        let _ = index.for_each_candidate(Effect::Grant, identity, resource, &mut |_| {
            counts.grants += 1;
            ControlFlow::Continue(())
        });
        counts
    }

    /// Decides by evaluating every rule in order, without the index. Same answer as
    /// [`Policy::authorize`]; kept as a baseline for benchmarks and cross-checks.
    pub fn authorize_linear(&self, identity: &Identity, resource: &Resource) -> Decision {
        let (identity, resource) = (identity.entity(), resource.entity());
        Decision::deny_overrides(|effect| {
            (0..self.inner.rules.len())
                .filter(|&r| self.inner.rules[r].effect == effect)
                .filter_map(|r| self.reason_if_applies(r, identity, resource))
                .collect()
        })
    }
}

/// The start of every rule, in one pass over each source (rules are in source order).
fn rule_locations(sources: &[Source], rules: &[ir::Rule]) -> Vec<Location> {
    let mut out = Vec::with_capacity(rules.len());
    let mut cursor: Option<(usize, usize, Location)> = None; // (source, offset, location)
    for rule in rules {
        let text: &str = sources.get(rule.source).map_or("", |s| &s.text);
        let (mut offset, mut location) = match cursor {
            Some((source, offset, location))
                if source == rule.source && offset <= rule.span.start =>
            {
                (offset, location)
            }
            _ => (0, Location { line: 1, column: 1 }),
        };
        let target = rule.span.start.min(text.len());
        for c in text.get(offset..target).unwrap_or("").chars() {
            if c == '\n' {
                location.line += 1;
                location.column = 1;
            } else {
                location.column += 1;
            }
        }
        offset = target;
        cursor = Some((rule.source, offset, location));
        out.push(location);
    }
    out
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
            .iter()
            .map(|r| {
                let l = p.rule_location(r);
                (l.line, l.column)
            })
            .collect();
        assert_eq!(locations, [(1, 1), (2, 3), (2, 19), (3, 4)]);
    }
}
