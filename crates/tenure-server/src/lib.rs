//! `tenure serve`: a SCIM 2.0 service provider over Tenure's lifecycle store.
//!
//! Identity providers (Okta, Microsoft Entra ID) provision into `/scim/v2`; every joiner,
//! mover and leaver becomes a lifecycle event committed with its journal record and the
//! exact access it changed before the request is answered. Tenure's own endpoints serve
//! entitlements, who can reach a resource, the journal feed (`/v1/journal?since=SEQ`),
//! inventory changes and policy reload. Scheduled events are applied when due, exactly
//! once across replicas sharing a PostgreSQL store.
//!
//! The binary is `tenure serve` (`crates/tenure-cli`, feature `server`); this crate is the
//! server as a library: [`Config`], [`run`] (blocking, with signal handling) and [`serve`]
//! (async, on a listener you bind, until a shutdown future resolves; any multi-thread or
//! current-thread tokio runtime). See `docs/SERVE.md`.
//!
//! Layout: [`tokens`] (bearer tokens and scopes), `worker` (the store thread that owns
//! the [`tenure_directory::Lifecycle`]: the store clients are synchronous), `http`
//! (routes, authentication, SCIM errors, the request log), `discovery` (the SCIM
//! discovery documents).
#![forbid(unsafe_code)]

mod discovery;
mod http;
pub mod tokens;
mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::json;
use tenure::lifecycle::Inventory;
use tenure_directory::{Lifecycle, LifecycleError};

pub use worker::Serving;

/// How the server runs: the command line of `tenure serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The policy files, loaded in order as one policy set (and again on reload).
    pub policy_files: Vec<PathBuf>,
    /// The store address: `sqlite:PATH` or `postgres://…`.
    pub store: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The token file (read at start and on reload).
    pub token_file: PathBuf,
    /// An attribute mapping (TOML) to put in force at start.
    pub mapping: Option<PathBuf>,
    /// Resources (JSON Lines, or a JSON array) added or changed at start; resources not in
    /// the file stay on record.
    pub inventory: Option<PathBuf>,
    /// How often due scheduled events are looked for.
    pub schedule_interval: Duration,
}

/// Why the server could not start (or stopped with an error).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ServeError {
    /// The token file is missing, empty or malformed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tokens(#[from] tokens::TokenError),
    /// A policy file cannot be read or does not compile.
    #[error("the policy does not load:\n{0}")]
    #[diagnostic(code(tenure::serve::policy))]
    Policy(String),
    /// The mapping or inventory file cannot be read or is malformed.
    #[error("{0}")]
    #[diagnostic(code(tenure::serve::input))]
    Input(String),
    /// The store cannot be opened or written.
    #[error("the store: {0}")]
    #[diagnostic(code(tenure::serve::store))]
    Lifecycle(#[from] LifecycleError),
    /// The address cannot be bound, or the runtime failed.
    #[error("{0}")]
    #[diagnostic(code(tenure::serve::io))]
    Io(#[from] std::io::Error),
}

fn read(path: &PathBuf) -> Result<String, ServeError> {
    std::fs::read_to_string(path)
        .map_err(|e| ServeError::Input(format!("cannot read `{}`: {e}", path.display())))
}

/// Opens the store and puts policy, mapping and inventory in force.
fn prepare(config: &Config) -> Result<(Lifecycle, Serving), ServeError> {
    let mut lifecycle = Lifecycle::open(&config.store)?;
    let (policy, hash) = worker::load_policy(&config.policy_files).map_err(ServeError::Policy)?;
    let stamp = lifecycle.set_policy_from(policy.clone(), &hash, "api")?;
    if let Some(path) = &config.mapping {
        let text = read(path)?;
        if let Err(e) = tenure_directory::mapping::Mapping::from_toml(&text) {
            return Err(ServeError::Input(format!("{}: {e}", path.display())));
        }
        lifecycle.set_mapping_toml(&text, "api")?;
    }
    if let Some(path) = &config.inventory {
        let text = read(path)?;
        let incoming = read_inventory(&text)
            .map_err(|e| ServeError::Input(format!("{}: {e}", path.display())))?;
        let events = lifecycle.inventory()?.import_events(&incoming);
        for result in lifecycle.apply_batch(events, "api")? {
            result?;
        }
    }
    let serving = Serving {
        policy,
        version: stamp.version,
        hash: stamp.hash,
    };
    Ok((lifecycle, serving))
}

/// Resources as JSON Lines, or as one JSON array of resources.
fn read_inventory(text: &str) -> Result<Inventory, String> {
    if text.trim_start().starts_with('[') {
        let items =
            tenure::json::parse(text).map_err(|e| format!("{}: {}", e.path(), e.message()))?;
        let mut lines = String::new();
        for item in items.as_array().into_iter().flatten() {
            lines.push_str(&item.to_string());
            lines.push('\n');
        }
        Inventory::from_json_lines(&lines)
            .map_err(|e| format!("item {}: {}", e.path(), e.message()))
    } else {
        Inventory::from_json_lines(text).map_err(|e| format!("{}: {}", e.path(), e.message()))
    }
}

/// Serves on `listener` until `shutdown` resolves, then stops accepting, finishes the
/// requests in flight and the jobs queued on the store thread, and returns. A connection
/// that has not delivered a whole request by then (idle, or stalled halfway) is closed.
/// Scheduled events are applied at start (those that fell due while no server ran) and
/// every [`Config::schedule_interval`].
///
/// # Errors
/// Start-up problems (tokens, policy, store, mapping, inventory) before serving.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tokens = tokens::Tokens::read(&config.token_file)?;
    let prepared = config.clone();
    let (worker, started, store_thread) = worker::start(
        move || prepare(&prepared),
        config.policy_files.clone(),
        config.store.clone(),
    )?;
    let serving = match started.await {
        Ok(Ok(serving)) => serving,
        Ok(Err(e)) => {
            let _ = store_thread.join();
            return Err(e);
        }
        Err(_) => {
            return Err(std::io::Error::other("the store thread stopped while starting").into())
        }
    };
    let state = http::AppState {
        worker: worker.clone(),
        tokens: Arc::new(ArcSwap::from_pointee(tokens)),
        token_file: config.token_file.clone(),
        serving,
        in_flight: Arc::new(tokio::sync::watch::channel(0).0),
    };
    let in_flight = Arc::clone(&state.in_flight);

    // Scheduled events: now, then every interval.
    let scheduler = {
        let worker = worker.clone();
        let interval = config.schedule_interval;
        tokio::spawn(async move {
            loop {
                match worker.ask(worker::Job::Advance).await {
                    Ok(Ok(results)) => {
                        for result in results {
                            match result {
                                Ok(record) => eprintln!(
                                    "{}",
                                    json!({"event": "scheduled", "applied": record.event, "identity": record.identity, "seq": record.seq})
                                ),
                                Err(e) => eprintln!(
                                    "{}",
                                    json!({"event": "scheduled", "dropped": e.to_string()})
                                ),
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        eprintln!("{}", json!({"event": "scheduled", "error": e.to_string()}))
                    }
                    Err(worker::Gone) => return,
                }
                tokio::time::sleep(interval).await;
            }
        })
    };

    #[cfg(unix)]
    let hangups = {
        let state = state.clone();
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let _ = http::reload_now(&state).await;
            }
        })
    };

    eprintln!(
        "{}",
        json!({"event": "listening", "address": listener.local_addr()?.to_string(), "policy_version": state.serving.load().version})
    );
    let app = http::router(state);
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping.send(());
    });
    // INVARIANT: after the shutdown signal, the server waits for every request inside a
    // handler (each ends within `REQUEST_TIMEOUT`), never for a connection that has not
    // delivered a whole request: hyper has no header timer here, so a client that sent
    // half a request (or stalls) would otherwise hold the process up for ever.
    let drained = {
        let in_flight = Arc::clone(&in_flight);
        async move {
            if stopped.await.is_err() {
                return std::future::pending().await;
            }
            wait_idle(&in_flight).await;
        }
    };
    let clean = tokio::select! {
        result = std::future::IntoFuture::into_future(server) => {
            result?;
            true
        }
        () = drained => false,
    };

    // Stop the background tasks, then let the store thread finish what was queued.
    scheduler.abort();
    #[cfg(unix)]
    hangups.abort();
    let _ = scheduler.await;
    #[cfg(unix)]
    let _ = hangups.await;
    if !clean {
        // Connections that never delivered a request still hold handles to the store
        // thread: end it after the jobs already queued (later ones are refused).
        worker.stop();
    }
    drop(worker);
    tokio::task::spawn_blocking(move || store_thread.join())
        .await
        .map_err(std::io::Error::other)?
        .map_err(|_| std::io::Error::other("the store thread panicked"))?;
    if !clean {
        // A request that raced in before the store thread stopped gets its answer out.
        wait_idle(&in_flight).await;
        eprintln!(
            "{}",
            json!({"event": "stopped", "unfinished_connections_closed": true})
        );
        return Ok(());
    }
    eprintln!("{}", json!({"event": "stopped"}));
    Ok(())
}

/// How long the last answers get to be written once no request is inside a handler.
const ANSWER_GRACE: Duration = Duration::from_millis(500);

/// Resolves once no request has been inside a handler for [`ANSWER_GRACE`].
async fn wait_idle(in_flight: &tokio::sync::watch::Sender<usize>) {
    let mut count = in_flight.subscribe();
    loop {
        if count.wait_for(|n| *n == 0).await.is_err() {
            return;
        }
        tokio::time::sleep(ANSWER_GRACE).await;
        if !count.has_changed().unwrap_or(false) {
            return;
        }
    }
}

/// Runs the server until SIGTERM or Ctrl-C (SIGINT): binds [`Config::listen`], serves,
/// then shuts down gracefully. SIGHUP reloads the token file and the policy.
///
/// # Errors
/// As [`serve`], and an address that cannot be bound.
pub fn run(config: Config) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        serve(config, listener, stop_signal()).await
    })
}

/// Resolves on SIGTERM or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
