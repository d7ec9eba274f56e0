//! Incremental recompiles: a [`Policy`] with one source replaced, added or removed,
//! parsing and checking only that source.
//!
//! The other sources' checked rules are reused. Unnamed rules are `rule-N` by global
//! position, so when the edited source's rule count changes, every later unnamed rule is
//! renamed (rules remember whether their id was written or given by position). The
//! decision structures (index, programs) are then rebuilt over all rules. The result
//! equals a full compile of the new source list, rule ids, locations, decisions and
//! reasons included; whenever the edit does not compile (a syntax error, a duplicate id,
//! a limit), the full compile is run instead, so that the error is exactly the one a
//! full compile reports, and the policy the method was called on is unchanged.

use crate::check;
use crate::error::Error;
use crate::ir;
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
        let old_rules = self.ir_rules();
        // The rules of each source are contiguous, in source order.
        let start = old_rules.partition_point(|r| r.source < k);
        let end = match position {
            Some(_) => old_rules.partition_point(|r| r.source <= k),
            None => start,
        };
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
        let renumber = new_rules.len() != end - start;
        let removed = matches!(edit, Edit::Remove { .. });
        let mut rules: Vec<ir::Rule> = Vec::with_capacity(count);
        rules.extend_from_slice(&old_rules[..start]);
        rules.extend(new_rules);
        for rule in &old_rules[end..] {
            let mut rule = rule.clone();
            if removed {
                rule.source -= 1;
            }
            if renumber && rule.auto_id {
                rule.id = format!("rule-{}", rules.len() + 1).into();
            }
            rules.push(rule);
        }
        match Policy::assemble(sources.clone(), rules, limits.clone()) {
            Ok(policy) => Ok(policy),
            // A duplicate id across sources: the full compile reports it with both places.
            Err(_) => full(&sources),
        }
    }
}
