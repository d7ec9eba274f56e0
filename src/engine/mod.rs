//! [`Engine`]: the serving policy of a long-running proxy, replaced while it serves, and
//! optionally a snapshot of the directory kept current from `tenure serve`'s journal.
//!
//! Readers never lock: each decision loads the serving snapshot once (an
//! [`arc_swap::ArcSwap`]) and decides on it, so a reload in the middle of a decision
//! cannot mix two policies. Every [`Decision`] made through an engine names the
//! [`version`](Decision::policy_version) of the policy that made it: 1 for the engine's
//! first policy, +1 for each successful reload, unchanged by a failed one.
//!
//! ```
//! use tenure::{Engine, Identity, Policy, Resource};
//!
//! let engine = Engine::new(Policy::compile("role = DBA grants type = postgres;")?);
//! let dba = Identity::new().with("role", "DBA");
//! let db = Resource::new().with("type", "postgres");
//! assert_eq!(engine.authorize(&dba, &db).policy_version(), Some(1));
//!
//! // A policy that does not compile changes nothing: the old one keeps serving.
//! assert!(engine.reload([("p.tenure", "role = DBA grants")]).is_err());
//! assert!(engine.is_allowed(&dba, &db));
//! assert_eq!(engine.version(), 1);
//!
//! assert_eq!(engine.reload([("p.tenure", "role = DBA grants type = mysql;")])?, 2);
//! let decision = engine.authorize(&dba, &db);
//! assert!(!decision.is_allowed());
//! assert_eq!(decision.policy_version(), Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod directory;
#[cfg(feature = "watch")]
mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::decide::decision::Decision;
use crate::entity::{Identity, Resource};
use crate::error::{Error, InputError};
use crate::limits::Limits;
use crate::policy::Policy;

pub use directory::{DirectorySnapshot, JournalApplied, Subject};
#[cfg(feature = "watch")]
pub use watch::{WatchOptions, Watcher};

/// A compiled policy and the engine version it serves under.
#[derive(Debug, Clone)]
pub struct ServingPolicy {
    policy: Policy,
    version: u64,
}

impl ServingPolicy {
    /// The compiled policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Its version in the engine: 1 for the first policy, +1 for each successful reload.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Decides with this policy, naming its version in the decision.
    pub fn authorize(&self, identity: &Identity, resource: &Resource) -> Decision {
        let mut decision = self.policy.authorize(identity, resource);
        decision.policy_version = Some(self.version);
        decision
    }
}

/// Why a reload or a directory update did not happen. Whatever the error, the engine
/// keeps serving what it served before.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A policy file could not be read (`tenure::engine::read_failed`).
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The policy did not compile: every diagnostic, with its location.
    #[error(transparent)]
    Policy(#[from] Error),
    /// Directory lines or journal records that are malformed or do not apply, with the
    /// line and JSON path.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A policy file's directory cannot be watched (`tenure::engine::watch`).
    #[error("cannot watch {}: {reason}", .path.display())]
    Watch {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl EngineError {
    /// The stable code: `tenure::engine::read_failed`, or the code of the policy's first
    /// diagnostic, or the input error's code.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Read { .. } => "tenure::engine::read_failed",
            EngineError::Policy(e) => e.first().code().as_str(),
            EngineError::Input(e) => e.code().as_str(),
            EngineError::Watch { .. } => "tenure::engine::watch",
        }
    }
}

impl miette::Diagnostic for EngineError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(EngineError::code(self)))
    }
}

/// The serving policy of a long-running proxy, hot-swappable; optionally a directory
/// snapshot for [`Engine::authorize_subject`]. See the [module docs](self).
///
/// `Engine` is `Send + Sync`: share it (in an `Arc`) between every thread that decides
/// and the one that reloads. Decisions are lock-free; reloads and directory updates are
/// serialised among themselves and never block a decision.
#[derive(Debug)]
pub struct Engine {
    serving: ArcSwap<ServingPolicy>,
    directory: ArcSwapOption<DirectorySnapshot>,
    /// Serialises writers (reload, swap, directory updates), so versions and journal
    /// sequence numbers advance one at a time.
    writer: Mutex<()>,
    limits: Limits,
}

impl Engine {
    /// An engine serving `policy` as version 1, with no directory.
    pub fn new(policy: Policy) -> Engine {
        Engine::with_limits(policy, Limits::default())
    }

    /// As [`Engine::new`]; later reloads compile under `limits`.
    pub fn with_limits(policy: Policy, limits: Limits) -> Engine {
        Engine {
            serving: ArcSwap::from_pointee(ServingPolicy { policy, version: 1 }),
            directory: ArcSwapOption::empty(),
            writer: Mutex::new(()),
            limits,
        }
    }

    /// Compiles named sources (as [`Policy::compile_sources`]) into a new engine.
    ///
    /// # Errors
    /// Every diagnostic of the policy.
    pub fn from_sources<I, N, T>(sources: I) -> Result<Engine, Error>
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        Policy::compile_sources(sources).map(Engine::new)
    }

    /// Reads and compiles policy files (each named by its path in diagnostics) into a
    /// new engine.
    ///
    /// # Errors
    /// A file cannot be read or the policy does not compile.
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<Engine, EngineError> {
        let sources = read_files(paths)?;
        Ok(Engine::new(Policy::compile_sources(sources)?))
    }

    /// The serving policy and its version (one snapshot: it stays valid, and the same,
    /// however often the engine reloads while you hold it).
    pub fn current(&self) -> Arc<ServingPolicy> {
        self.serving.load_full()
    }

    /// The serving policy's version.
    pub fn version(&self) -> u64 {
        self.serving.load().version
    }

    /// Decides on the serving policy; the decision names its version.
    pub fn authorize(&self, identity: &Identity, resource: &Resource) -> Decision {
        self.serving.load().authorize(identity, resource)
    }

    /// As [`Engine::authorize`], without reasons or allocation.
    pub fn is_allowed(&self, identity: &Identity, resource: &Resource) -> bool {
        self.serving.load().policy.is_allowed(identity, resource)
    }

    /// Compiles `sources` and, only when they compile, serves them as the next version,
    /// which is returned. On error the serving policy stays in place and the version is
    /// unchanged.
    ///
    /// When the sources have the serving policy's names, in the same order, only those
    /// whose text changed are parsed and checked again ([`Policy::with_source`]): a
    /// reload of many files after one changed (as [`Engine::reload_files`] and the file
    /// watch do) costs about what the changed file costs.
    ///
    /// # Errors
    /// Every diagnostic of the new policy.
    pub fn reload<I, N, T>(&self, sources: I) -> Result<u64, Error>
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let sources: Vec<(String, String)> = sources
            .into_iter()
            .map(|(n, t)| (n.as_ref().to_string(), t.as_ref().to_string()))
            .collect();
        self.edit(|serving| serving.with_sources(&sources, &self.limits))
    }

    /// Reads the files and reloads them as one policy set, as [`Engine::reload`].
    ///
    /// # Errors
    /// A file cannot be read or the policy does not compile: the serving policy stays.
    pub fn reload_files<P: AsRef<Path>>(&self, paths: &[P]) -> Result<u64, EngineError> {
        let sources = read_files(paths)?;
        Ok(self.reload(sources)?)
    }

    /// Serves an already compiled policy as the next version, which is returned.
    pub fn swap(&self, policy: Policy) -> u64 {
        match self.edit(|_| Ok::<_, std::convert::Infallible>(policy)) {
            Ok(version) => version,
            Err(never) => match never {},
        }
    }

    /// Replaces the serving policy's source named `name` with `text` (or adds it), parsing
    /// and checking only that source ([`Policy::with_source`]), and serves the result as
    /// the next version, which is returned. On error nothing changes.
    ///
    /// ```
    /// let engine = tenure::Engine::from_sources([("a", "role = DBA grants *;"), ("b", "* denies type = rdp;")])?;
    /// let version = engine.reload_source("b", "* denies type in [rdp, vnc];")?;
    /// assert_eq!(version, 2);
    /// assert!(engine.reload_source("b", "* denies").is_err());
    /// assert_eq!(engine.version(), 2);
    /// # Ok::<(), tenure::Error>(())
    /// ```
    ///
    /// # Errors
    /// Every diagnostic of the new source list, as a full reload would report them.
    pub fn reload_source(&self, name: &str, text: &str) -> Result<u64, Error> {
        self.edit(|policy| policy.with_source(name, text))
    }

    /// Stops serving the source named `name` ([`Policy::without_source`]); the next
    /// version is returned (a new version even when there was no such source).
    ///
    /// # Errors
    /// As [`Policy::without_source`]; nothing changes.
    pub fn remove_source(&self, name: &str) -> Result<u64, Error> {
        self.edit(|policy| policy.without_source(name))
    }

    /// Serves `change(serving policy)` as the next version when it succeeds. Writers are
    /// serialised, so that two edits made at once both land.
    fn edit<E>(&self, change: impl FnOnce(&Policy) -> Result<Policy, E>) -> Result<u64, E> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let serving = self.serving.load_full();
        let policy = change(&serving.policy)?;
        let version = serving.version + 1;
        self.serving
            .store(Arc::new(ServingPolicy { policy, version }));
        Ok(version)
    }
}

fn read_files<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<(String, String)>, EngineError> {
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            std::fs::read_to_string(path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|source| EngineError::Read {
                    path: path.to_path_buf(),
                    source,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
        check::<ServingPolicy>();
    }

    #[test]
    fn a_missing_file_keeps_the_serving_policy() {
        let engine = Engine::new(Policy::compile("* grants *;").unwrap());
        let err = engine
            .reload_files(&["/nonexistent/tenure/policy.tenure"])
            .unwrap_err();
        assert_eq!(err.code(), "tenure::engine::read_failed");
        assert_eq!(engine.version(), 1);
        assert!(engine.is_allowed(&Identity::new(), &Resource::new()));
    }
}
