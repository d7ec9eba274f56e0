//! The store thread: the one owner of the [`Lifecycle`].
//!
//! The store clients are synchronous (rusqlite, and the `postgres` crate, which panics
//! inside a tokio runtime), so the lifecycle lives on its own OS thread and the HTTP
//! handlers send it [`Job`]s over a channel, each with a one-shot reply. One thread also
//! makes every write of this process one transaction after another, in arrival order;
//! across replicas the store's write lock does the same.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde_json::Value as Json;
use tenure::lifecycle::{Change, Entitlement, Event, Holder};
use tenure::{Policy, Resource};
use tenure_directory::scim::ScimRequest;
use tenure_directory::store::JournalRecord;
use tenure_directory::{policy_hash, Lifecycle, LifecycleError, Recorded, ScimApplied};
use tokio::sync::oneshot;

/// The policy being served, published for readers that must not queue behind writes
/// (`/healthz`). Swapped atomically on reload.
#[derive(Debug, Clone)]
pub struct Serving {
    /// The policy.
    pub policy: Policy,
    /// Its version in the store.
    pub version: u64,
    /// Its content hash.
    pub hash: String,
}

/// What the store thread is asked to do.
pub(crate) enum Job {
    Scim(
        ScimRequest,
        oneshot::Sender<Result<ScimApplied, LifecycleError>>,
    ),
    /// A SCIM request that only reads (`GET`, `POST …/.search`): for the reader threads.
    ScimRead(
        ScimRequest,
        oneshot::Sender<Result<ScimApplied, LifecycleError>>,
    ),
    Entitlements(
        String,
        oneshot::Sender<Result<Option<Vec<Entitlement>>, LifecycleError>>,
    ),
    Access(
        String,
        oneshot::Sender<Result<Option<Vec<Holder>>, LifecycleError>>,
    ),
    Journal(
        u64,
        oneshot::Sender<Result<Vec<JournalRecord>, LifecycleError>>,
    ),
    PutResource(
        String,
        Resource,
        oneshot::Sender<Result<(bool, Recorded), LifecycleError>>,
    ),
    DeleteResource(
        String,
        oneshot::Sender<Result<Option<Recorded>, LifecycleError>>,
    ),
    Reload(oneshot::Sender<Result<Serving, String>>),
    Advance(oneshot::Sender<Result<Vec<Result<Recorded, LifecycleError>>, LifecycleError>>),
    Head(oneshot::Sender<Result<u64, LifecycleError>>),
    /// Ends the store thread once the jobs sent before it are done (a shutdown that
    /// cannot wait for every [`Worker`] handle to be dropped).
    Stop,
}

/// A handle to the store thread (writes, and everything that needs the in-memory
/// model) and to the reader threads (SCIM reads and the journal feed, each in a
/// read-only transaction that does not wait for the write lock).
#[derive(Clone)]
pub(crate) struct Worker {
    jobs: mpsc::Sender<Job>,
    reads: mpsc::Sender<Job>,
}

/// How many reader threads answer SCIM reads and the journal feed.
const READERS: usize = 2;

/// The most SCIM writes committed in one transaction (group commit).
const MAX_BATCH: usize = 64;

/// Why a job got no answer: the store thread is gone (it panicked, or is shutting down).
#[derive(Debug)]
pub(crate) struct Gone;

impl Worker {
    /// Sends a job built around a fresh reply channel and waits for the answer.
    pub(crate) async fn ask<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<T>) -> Job,
    ) -> Result<T, Gone> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(job(reply)).map_err(|_| Gone)?;
        answer.await.map_err(|_| Gone)
    }

    /// As [`Worker::ask`], for a job a reader thread can answer (a SCIM read, the journal
    /// feed); the store thread answers it when no reader runs.
    pub(crate) async fn ask_reader<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<T>) -> Job,
    ) -> Result<T, Gone> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::SendError(job)) = self.reads.send(job(reply)) {
            self.jobs.send(job).map_err(|_| Gone)?;
        }
        answer.await.map_err(|_| Gone)
    }

    /// Asks the store thread to end after the jobs already sent; later jobs get [`Gone`].
    pub(crate) fn stop(&self) {
        let _ = self.jobs.send(Job::Stop);
    }
}

/// Reads and compiles the policy files: the policy and its content hash.
pub(crate) fn load_policy(files: &[PathBuf]) -> Result<(Policy, String), String> {
    let mut sources = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read policy file `{}`: {e}", path.display()))?;
        sources.push((path.display().to_string(), text));
    }
    let hash = policy_hash(&sources);
    let policy = Policy::compile_sources(sources).map_err(|e| {
        let mut out = String::new();
        for d in e
            .diagnostics()
            .iter()
            .take(tenure::MAX_DISPLAYED_DIAGNOSTICS)
        {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        let n = e.diagnostics().len();
        out.push_str(&format!(
            "{n} {} found",
            if n == 1 { "problem" } else { "problems" }
        ));
        out
    })?;
    Ok((policy, hash))
}

/// The store thread's answer to start-up: the published serving policy, or why not.
pub(crate) type Started<E> = oneshot::Receiver<Result<Arc<ArcSwap<Serving>>, E>>;

/// Starts the store thread: it first runs `prepare` (opening the store and putting the
/// policy, mapping and inventory in force — on this thread, outside any async runtime,
/// since the `postgres` client must not run inside one), answers with its outcome on the
/// returned channel, then serves jobs until every [`Worker`] handle is dropped, finishing
/// the jobs already sent.
pub(crate) fn start<E: Send + 'static>(
    prepare: impl FnOnce() -> Result<(Lifecycle, Serving), E> + Send + 'static,
    policy_files: Vec<PathBuf>,
    store: String,
) -> std::io::Result<(Worker, Started<E>, std::thread::JoinHandle<()>)> {
    let (jobs, inbox) = mpsc::channel::<Job>();
    let (reads, read_inbox) = mpsc::channel::<Job>();
    let (ready, started) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("tenure-store".into())
        .spawn(move || {
            let (mut lifecycle, serving) = match prepare() {
                Ok(prepared) => prepared,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            start_readers(&store, read_inbox);
            let serving = Arc::new(ArcSwap::from_pointee(serving));
            if ready.send(Ok(Arc::clone(&serving))).is_err() {
                return;
            }
            let mut pending: VecDeque<Job> = VecDeque::new();
            loop {
                let job = match pending.pop_front() {
                    Some(job) => job,
                    None => match inbox.recv() {
                        Ok(job) => job,
                        Err(_) => break,
                    },
                };
                match job {
                    Job::Stop => break,
                    Job::Scim(request, reply) => {
                        // Group commit: the SCIM writes already waiting go in the same
                        // transaction; the first other job waits its turn.
                        let mut batch = vec![(request, reply)];
                        while batch.len() < MAX_BATCH {
                            match inbox.try_recv() {
                                Ok(Job::Scim(request, reply)) => batch.push((request, reply)),
                                Ok(other) => {
                                    pending.push_back(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        write_batch(&mut lifecycle, batch);
                    }
                    job => run(&mut lifecycle, &policy_files, &serving, job),
                }
            }
        })?;
    Ok((Worker { jobs, reads }, started, thread))
}

/// Applies SCIM writes in one transaction and answers each after the commit; when the
/// batch fails as a whole, applies them one by one, so one bad request fails alone.
fn write_batch(
    lifecycle: &mut Lifecycle,
    batch: Vec<(
        ScimRequest,
        oneshot::Sender<Result<ScimApplied, LifecycleError>>,
    )>,
) {
    if batch.len() == 1 {
        for (request, reply) in batch {
            let _ = reply.send(lifecycle.scim(&request, "scim"));
        }
        return;
    }
    let requests: Vec<ScimRequest> = batch.iter().map(|(r, _)| r.clone()).collect();
    match lifecycle.scim_batch(&requests, "scim") {
        Ok(results) => {
            for ((_, reply), result) in batch.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(_) => {
            for (request, reply) in batch {
                let _ = reply.send(lifecycle.scim(&request, "scim"));
            }
        }
    }
}

/// Starts the reader threads, each with its own store connection; a reader that cannot
/// open the store logs it and ends (its jobs go to the others, or to the store thread).
fn start_readers(store: &str, inbox: mpsc::Receiver<Job>) {
    let inbox = Arc::new(Mutex::new(inbox));
    for n in 0..READERS {
        let (inbox, store) = (Arc::clone(&inbox), store.to_string());
        let spawned = std::thread::Builder::new()
            .name(format!("tenure-reader-{n}"))
            .spawn(move || {
                let mut lifecycle = match Lifecycle::open(&store) {
                    Ok(lifecycle) => lifecycle,
                    Err(e) => {
                        eprintln!(
                            "{}",
                            serde_json::json!({"event": "reader_failed", "error": e.to_string()})
                        );
                        return;
                    }
                };
                loop {
                    let job = match inbox.lock() {
                        Ok(inbox) => inbox.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(Job::ScimRead(request, reply)) => {
                            let _ = reply.send(lifecycle.scim_read(&request, "scim"));
                        }
                        Ok(Job::Journal(since, reply)) => {
                            let _ = reply.send(lifecycle.journal(since));
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!(
                "{}",
                serde_json::json!({"event": "reader_failed", "error": e.to_string()})
            );
        }
    }
}

fn run(lifecycle: &mut Lifecycle, policy_files: &[PathBuf], serving: &ArcSwap<Serving>, job: Job) {
    // A reply whose requester has gone (a client hung up) is not an error: the work is
    // done and committed either way.
    match job {
        Job::Scim(request, reply) => {
            let _ = reply.send(lifecycle.scim(&request, "scim"));
        }
        Job::ScimRead(request, reply) => {
            let _ = reply.send(lifecycle.scim_read(&request, "scim"));
        }
        Job::Entitlements(id, reply) => {
            let _ = reply.send(lifecycle.entitlements(&id));
        }
        Job::Access(id, reply) => {
            let _ = reply.send(lifecycle.who_can(&id));
        }
        Job::Journal(since, reply) => {
            let _ = reply.send(lifecycle.journal(since));
        }
        Job::PutResource(id, resource, reply) => {
            let _ = reply.send(put_resource(lifecycle, &id, resource));
        }
        Job::DeleteResource(id, reply) => {
            let result = match lifecycle.inventory() {
                Ok(inventory) if !inventory.contains(&id) => Ok(None),
                Ok(_) => lifecycle
                    .apply(Event::RemoveResource { id }, "api")
                    .map(Some),
                Err(e) => Err(e),
            };
            let _ = reply.send(result);
        }
        Job::Reload(reply) => {
            let _ = reply.send(reload(lifecycle, policy_files, serving));
        }
        Job::Advance(reply) => {
            let now = lifecycle.now();
            let _ = reply.send(lifecycle.advance(now));
        }
        Job::Head(reply) => {
            let _ = reply.send(lifecycle.head());
        }
        Job::Stop => {}
    }
}

/// Adds the resource, or changes it into the one given: `(created, record)`.
fn put_resource(
    lifecycle: &mut Lifecycle,
    id: &str,
    resource: Resource,
) -> Result<(bool, Recorded), LifecycleError> {
    let current = lifecycle.inventory()?.get(id).cloned();
    let created = current.is_none();
    let event = match current {
        None => Event::AddResource { resource },
        Some(old) => Event::ChangeResource {
            id: id.to_string(),
            changes: Change::between(&old, &resource),
        },
    };
    lifecycle.apply(event, "api").map(|r| (created, r))
}

/// Recompiles the policy files; on success puts the policy in force (journaled with its
/// impact) and publishes it; on failure the serving policy stays.
fn reload(
    lifecycle: &mut Lifecycle,
    policy_files: &[PathBuf],
    serving: &ArcSwap<Serving>,
) -> Result<Serving, String> {
    let (policy, hash) = load_policy(policy_files)?;
    let stamp = lifecycle
        .set_policy_from(policy.clone(), &hash, "api")
        .map_err(|e| format!("the store failed: {e}"))?;
    let now = Serving {
        policy,
        version: stamp.version,
        hash: stamp.hash,
    };
    serving.store(Arc::new(now.clone()));
    Ok(now)
}

/// The JSON of a journal record, as `/v1/journal` and the resource endpoints answer it.
pub(crate) fn record_json(record: &Recorded) -> Json {
    serde_json::to_value(record).unwrap_or(Json::Null)
}
