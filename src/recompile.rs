//! Incremental recompiles: a [`Policy`] with one source replaced, added or removed,
//! parsing and checking only that source.
//!
//! The other sources' checked rules are reused as they are. Unnamed rules are `rule-N`
//! by global position, so when the edited source's rule count changes every later
//! unnamed rule is renamed; rules keep only written ids (`rule-N` is written when asked,
//! see `ir::RuleId`), so the renaming touches none of them. The decision structures are
//! then updated (`Layers::edited`). The result
//! equals a full compile of the new source list, rule ids, locations, decisions and
//! reasons included; whenever the edit does not compile (a syntax error, a duplicate id,
//! a limit), the full compile is run instead, so that the error is exactly the one a
//! full compile reports, and the policy the method was called on is unchanged.

use std::sync::Arc;

use crate::check;
use crate::compile::layers::Layers;
use crate::error::Error;
use crate::ir::{self, RuleList};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::source::Source;
use crate::syntax;

/// One edit of a policy's source list.
enum Edit<'a> {
    /// Replace the source named so, or add it at the end when there is none.
    Put { name: &'a str, text: &'a str },
    /// Remove the source named so.
    Remove { name: &'a str },
}

impl Policy {
    /// This policy with the source named `name` replaced by `text` (the first source of
    /// that name), or with a source `name` added after the others when it has none.
    /// Parses and checks that source only; the same policy as a full
    /// [`Policy::compile_sources`] of the new source list, under the limits this one was
    /// compiled with.
    ///
    /// ```
    /// use tenure::{Identity, Policy, Resource};
    ///
    /// let policy = Policy::compile_sources([
    ///     ("base.tenure", "role = DBA grants type = postgres;"),
    ///     ("leavers.tenure", "status != active denies *;"),
    /// ])?;
    /// let policy = policy.with_source("base.tenure", "role = DBA grants type in [postgres, mysql];")?;
    /// let dba = Identity::new().with("role", "DBA").with("status", "active");
    /// assert!(policy.is_allowed(&dba, &Resource::new().with("type", "mysql")));
    /// assert_eq!(policy.rules().map(|r| r.id()).collect::<Vec<_>>(), ["rule-1", "rule-2"]);
    /// # Ok::<(), tenure::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Policy::compile_sources`] for the new source list; `self` is unchanged.
    pub fn with_source(&self, name: &str, text: &str) -> Result<Policy, Error> {
        self.edit(Edit::Put { name, text })
    }

    /// This policy without the source named `name` (the first of that name); the policy
    /// itself when it has none. Checks nothing again; the same policy as a full compile
    /// of the remaining sources.
    ///
    /// # Errors
    /// As [`Policy::compile_sources`] for the remaining sources (only the size limits can
    /// fail here).
    pub fn without_source(&self, name: &str) -> Result<Policy, Error> {
        self.edit(Edit::Remove { name })
    }

    /// The policy of `sources` under `limits`: the same as
    /// [`Policy::compile_with_limits`]. When the names are this policy's, in the same
    /// order and each once, and the limits are this policy's, only the sources whose text
    /// changed are parsed and checked, each as [`Policy::with_source`] would; otherwise,
    /// or when an edit does not compile, it is the full compile (so an error is exactly
    /// the full compile's, every changed source's problems included).
    pub(crate) fn with_sources(
        &self,
        sources: &[(String, String)],
        limits: &Limits,
    ) -> Result<Policy, Error> {
        let full = || Policy::compile_with_limits(sources.iter().cloned(), limits);
        let old = self.sources();
        let same_names = old.len() == sources.len()
            && old
                .iter()
                .zip(sources)
                .all(|(o, (name, _))| *o.name == **name)
            && {
                let mut names: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
                names.sort_unstable();
                names.windows(2).all(|w| w[0] != w[1])
            };
        if !same_names || self.limits() != limits {
            return full();
        }
        let mut policy = self.clone();
        for (old, (name, text)) in old.iter().zip(sources) {
            if *old.text != **text {
                policy = match policy.with_source(name, text) {
                    Ok(policy) => policy,
                    Err(_) => return full(),
                };
            }
        }
        Ok(policy)
    }

    fn edit(&self, edit: Edit<'_>) -> Result<Policy, Error> {
        let old_sources = self.sources();
        let name = match edit {
            Edit::Put { name, .. } | Edit::Remove { name } => name,
        };
        let position = old_sources.iter().position(|s| &*s.name == name);
        let mut sources = old_sources.to_vec();
        let k = match (&edit, position) {
            (Edit::Put { text, .. }, Some(k)) => {
                sources[k] = Source::new(name, *text);
                k
            }
            (Edit::Put { text, .. }, None) => {
                sources.push(Source::new(name, *text));
                sources.len() - 1
            }
            (Edit::Remove { .. }, Some(k)) => {
                sources.remove(k);
                k
            }
            (Edit::Remove { .. }, None) => return Ok(self.clone()),
        };
        let limits = self.limits().clone();
        let full = |sources: &[Source]| {
            Policy::compile_with_limits(
                sources.iter().map(|s| (s.name.clone(), s.text.clone())),
                &limits,
            )
        };
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        if total > limits.max_policy_bytes || sources.is_empty() {
            return full(&sources);
        }
        let (old_rules, old_by_id, old_layers) = self.parts();
        // The edited source's rules: `start..end` in the old policy.
        let start = old_rules.chunk_start(k);
        let end = start + position.map_or(0, |_| old_rules.chunks()[k].len());
        let new_rules = match edit {
            Edit::Remove { .. } => Vec::new(),
            Edit::Put { .. } => {
                let mut parsed = syntax::parse_sources(std::slice::from_ref(&sources[k]), &limits);
                let Some(parsed) = parsed.pop().filter(|p| p.errors.is_empty()) else {
                    return full(&sources);
                };
                match check::check_source(&sources, k, &parsed, start) {
                    Ok(rules) => rules,
                    Err(_) => return full(&sources),
                }
            }
        };
        let count = old_rules.len() - (end - start) + new_rules.len();
        if count > limits.max_rules {
            return full(&sources);
        }
        let removed = matches!(edit, Edit::Remove { .. });
        let renumber = new_rules.len() != end - start;

        // Written ids: the old source's out, later positions moved, the new source's in.
        let mut by_id = old_by_id.clone();
        for rule in old_rules
            .chunks()
            .get(k)
            .filter(|_| position.is_some())
            .into_iter()
            .flat_map(|c| c.iter())
        {
            if let Some(id) = &rule.written_id {
                by_id.remove(id);
            }
        }
        if renumber {
            // INVARIANT: rule positions fit in u32 (the rule-count limit is far below).
            let (end, shift) = (end as u32, new_rules.len() as i64 - (end - start) as i64);
            for at in by_id.values_mut() {
                if *at >= end {
                    *at = (i64::from(*at) + shift) as u32;
                }
            }
        }
        for (j, rule) in new_rules.iter().enumerate() {
            let taken = match &rule.written_id {
                None => by_id.contains_key(ir::RuleId::positional(start + j).as_str()),
                Some(id) => by_id.insert(id.clone(), (start + j) as u32).is_some(),
            };
            if taken {
                // A duplicate id: the full compile reports it with both places.
                return full(&sources);
            }
        }

        // The chunks: the edited source's replaced; after a removal, later ones moved to
        // the previous source index.
        let mut chunks = old_rules.chunks().to_vec();
        let new_chunk: Arc<[ir::Rule]> = Arc::from(new_rules);
        let later = match (&edit, position) {
            (Edit::Remove { .. }, _) => {
                chunks.remove(k);
                k
            }
            (Edit::Put { .. }, Some(_)) => {
                chunks[k] = new_chunk.clone();
                k + 1
            }
            (Edit::Put { .. }, None) => {
                chunks.push(new_chunk.clone());
                k + 1
            }
        };
        if removed {
            for chunk in chunks.iter_mut().skip(later) {
                *chunk = chunk
                    .iter()
                    .map(|rule| {
                        let mut rule = rule.clone();
                        rule.source -= 1;
                        rule
                    })
                    .collect();
            }
        }
        let rules = RuleList::from_chunks(chunks);
        // A written `rule-N` id that a positional id now takes: every written id when
        // positions moved, else the edited source's.
        let taken = if renumber {
            by_id.keys().any(|id| rules.positional_taken(id))
        } else {
            new_chunk
                .iter()
                .filter_map(|r| r.written_id.as_deref())
                .any(|id| rules.positional_taken(id))
        };
        if taken {
            return full(&sources);
        }
        let layers = old_layers
            .edited(&rules, k, removed)
            .unwrap_or_else(|| Layers::full(&rules));
        Ok(Policy::from_parts(sources, rules, by_id, layers, limits))
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::layers::Layers;
    use crate::{Identity, Policy, Resource};

    const RULES_PER_SOURCE: usize = 600;

    fn text(variant: usize) -> String {
        (0..RULES_PER_SOURCE)
            .map(|i| {
                let effect = if i % 9 == 4 { "denies" } else { "grants" };
                format!(
                    "role = r{} {effect} type = t{};\n",
                    i % 40,
                    (i + variant) % 7
                )
            })
            .collect()
    }

    /// Edits of different sources accumulate in the delta until it holds more than
    /// [`Layers::DELTA_LIMIT`] rules; that recompile builds a new base, and the next one
    /// starts a new delta. Decisions equal a full compile's throughout.
    #[test]
    fn the_delta_grows_until_a_new_base_is_built() -> Result<(), crate::Error> {
        let mut sources: Vec<(String, String)> =
            (0..20).map(|k| (format!("s{k}"), text(0))).collect();
        let mut policy = Policy::compile_sources(sources.clone())?;
        assert!(policy.layers().delta().is_none());
        let per_delta = Layers::DELTA_LIMIT / RULES_PER_SOURCE + 1;
        for edit in 0..per_delta + 2 {
            sources[edit].1 = text(edit + 1);
            policy = policy.with_source(&sources[edit].0, &sources[edit].1)?;
            let in_delta = match (edit + 1) % per_delta {
                0 => 0,
                edited => edited * RULES_PER_SOURCE,
            };
            assert_eq!(
                policy.layers().delta().map(|d| d.index().stats().rules),
                (in_delta > 0).then_some(in_delta),
                "after edit {edit}"
            );
            let full = Policy::compile_sources(sources.clone())?;
            for k in 0..80 {
                let identity = Identity::new().with("role", format!("r{}", k % 41));
                let resource = Resource::new().with("type", format!("t{}", k % 8));
                assert_eq!(
                    policy.authorize(&identity, &resource),
                    full.authorize(&identity, &resource),
                    "after edit {edit}"
                );
            }
        }
        Ok(())
    }
}
