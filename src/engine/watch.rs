//! [`Engine::watch`]: reload policy files when they change (feature `watch`).
//!
//! Editors save by writing a new file and renaming it over the old one, which a watch on
//! the file itself would lose after the first save; so the watch is on each file's
//! directory, and events are filtered by file name. Events are debounced: a burst of
//! writes reloads once, after the files have been quiet for [`WatchOptions::debounce`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::{Engine, EngineError};

/// How [`Engine::watch`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How long the files must be quiet after a change before the reload (default
    /// 200 ms).
    pub debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(200),
        }
    }
}

impl WatchOptions {
    /// Options with another debounce interval.
    pub fn debounce(debounce: Duration) -> WatchOptions {
        WatchOptions { debounce }
    }
}

/// A running watch; dropping it stops watching (and waits for a reload in progress).
pub struct Watcher {
    notify: Option<notify::RecommendedWatcher>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.notify.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Engine {
    /// Watches policy files and reloads them (as one policy set, as
    /// [`Engine::reload_files`]) whenever one changes. `on_reload` hears every attempt:
    /// the new version, or the error — after which the old policy keeps serving.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use tenure::engine::WatchOptions;
    /// use tenure::Engine;
    ///
    /// let engine = Arc::new(Engine::from_files(&["policy.tenure"])?);
    /// let _watch = engine.watch(&["policy.tenure"], WatchOptions::default(), |result| match result {
    ///     Ok(version) => eprintln!("serving policy version {version}"),
    ///     Err(e) => eprintln!("policy not reloaded, the old one keeps serving: {e}"),
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A file's directory cannot be watched (it does not exist, or the system's watch
    /// limit is reached): `tenure::engine::watch`.
    pub fn watch<P, F>(
        self: &Arc<Self>,
        paths: &[P],
        options: WatchOptions,
        mut on_reload: F,
    ) -> Result<Watcher, EngineError>
    where
        P: AsRef<Path>,
        F: FnMut(Result<u64, EngineError>) + Send + 'static,
    {
        let files: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
        // The absolute path each file's events carry: its directory, resolved, + its name.
        let mut watched: Vec<PathBuf> = Vec::new();
        let mut directories: Vec<PathBuf> = Vec::new();
        for file in &files {
            let name = file
                .file_name()
                .ok_or_else(|| watch_error(file, "not a file name"))?;
            let parent = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let parent = parent
                .canonicalize()
                .map_err(|e| watch_error(&parent, &e.to_string()))?;
            watched.push(parent.join(name));
            if !directories.contains(&parent) {
                directories.push(parent);
            }
        }
        let (sender, receiver) = channel::<notify::Result<notify::Event>>();
        let mut notify = notify::recommended_watcher(sender)
            .map_err(|e| watch_error(Path::new("."), &e.to_string()))?;
        for directory in &directories {
            notify
                .watch(directory, RecursiveMode::NonRecursive)
                .map_err(|e| watch_error(directory, &e.to_string()))?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let engine = Arc::clone(self);
        let stopped = Arc::clone(&stop);
        let tick = options
            .debounce
            .clamp(Duration::from_millis(1), Duration::from_millis(100));
        let thread = std::thread::Builder::new()
            .name("tenure-watch".into())
            .spawn(move || {
                let relevant = |event: &notify::Event| {
                    !event.kind.is_access() && event.paths.iter().any(|p| watched.contains(p))
                };
                // When the last relevant change was seen, while a reload is pending.
                let mut pending: Option<Instant> = None;
                while !stopped.load(Ordering::SeqCst) {
                    match receiver.recv_timeout(tick) {
                        Ok(Ok(event)) if relevant(&event) => pending = Some(Instant::now()),
                        Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    if pending.is_some_and(|at| at.elapsed() >= options.debounce) {
                        pending = None;
                        on_reload(engine.reload_files(&files));
                    }
                }
            })
            .map_err(|e| watch_error(Path::new("."), &e.to_string()))?;
        Ok(Watcher {
            notify: Some(notify),
            stop,
            thread: Some(thread),
        })
    }
}

fn watch_error(path: &Path, reason: &str) -> EngineError {
    EngineError::Watch {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}
