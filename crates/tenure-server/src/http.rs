//! The HTTP surface: routes, authentication, SCIM errors, one log line per request.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use tenure::Resource;
use tenure_directory::scim::{ScimError, ScimRequest};
use tenure_directory::{answers, LifecycleError, Recorded, ScimApplied};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::discovery;
use crate::tokens::{Scope, Tokens};
use crate::worker::{record_json, Gone, Job, Serving, Worker};

/// The largest request body accepted (the SCIM translation's own cap).
pub(crate) const MAX_BODY_BYTES: usize = tenure_directory::scim::MAX_REQUEST_BYTES;

/// The SCIM base path.
pub(crate) const SCIM_BASE: &str = "/scim/v2";

const SCIM_JSON: &str = "application/scim+json";

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) worker: Worker,
    pub(crate) tokens: Arc<ArcSwap<Tokens>>,
    pub(crate) token_file: PathBuf,
    pub(crate) serving: Arc<ArcSwap<Serving>>,
    /// How many requests are inside a handler (received whole, not yet answered): what
    /// a graceful shutdown waits for.
    pub(crate) in_flight: Arc<tokio::sync::watch::Sender<usize>>,
}

/// Counts a request as in flight for as long as it lives (a handler dropped because
/// its client hung up counts out too).
struct InFlight(Arc<tokio::sync::watch::Sender<usize>>);

impl InFlight {
    fn enter(counter: &Arc<tokio::sync::watch::Sender<usize>>) -> InFlight {
        counter.send_modify(|n| *n += 1);
        InFlight(Arc::clone(counter))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// What a handler tells the request log besides status and timing.
#[derive(Clone, Debug, Default)]
struct Logged {
    event: Option<String>,
    gained: usize,
    lost: usize,
}

/// The application: every route, authentication inside each handler, the request log
/// around them, and outermost the count of requests in flight (for shutdown).
pub(crate) fn router(state: AppState) -> Router {
    let in_flight = Arc::clone(&state.in_flight);
    Router::new()
        .route("/healthz", get(healthz))
        .route(SCIM_BASE, any(scim))
        .route(&format!("{SCIM_BASE}/{{*rest}}"), any(scim))
        .route("/v1/identities/{id}/entitlements", get(entitlements))
        .route("/v1/resources/{id}/access", get(access))
        .route(
            "/v1/resources/{id}",
            put(put_resource).delete(delete_resource),
        )
        .route("/v1/journal", get(journal))
        .route("/admin/reload", post(reload))
        .fallback(not_found)
        .with_state(state)
        // A panic in a handler answers 500 (a SCIM error) instead of dropping the
        // connection; the store thread is not affected (it catches nothing: a panic
        // there stops the server, see `serve`).
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| scim_error(&ScimError::internal("internal error")),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let guard = InFlight::enter(&in_flight);
            async move {
                let response = next.run(request).await;
                drop(guard);
                response
            }
        }))
}

/// How long one request may take before it is answered 408.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One JSON line per request on standard error: method, path (never the query, which
/// may carry a user name), status, duration, and for SCIM writes the event and access
/// change counts. Never a token, never a body.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let logged = response
        .extensions()
        .get::<Logged>()
        .cloned()
        .unwrap_or_default();
    let line = json!({
        "at": jiff::Timestamp::now().to_string(),
        "method": method.as_str(),
        "path": path,
        "status": response.status().as_u16(),
        "duration_ms": (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        "event": logged.event,
        "gained": logged.gained,
        "lost": logged.lost,
    });
    eprintln!("{line}");
    response
}

/// A SCIM error response (RFC 7644 §3.12).
fn scim_error(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, SCIM_JSON)],
        e.to_json().to_string(),
    )
        .into_response();
    if e.status == 401 {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if matches!(e.status, 401 | 403 | 413) {
        // Answered before the body was read: say the connection ends, so a client that
        // reuses connections opens a new one instead of failing its next request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn unavailable() -> ScimError {
    ScimError::new(503, None, "the store is unavailable; retry")
}

/// A lifecycle failure as a SCIM error: refusals keep their status; store failures are
/// 503 (nothing was written, the client may retry).
fn lifecycle_error(e: LifecycleError) -> ScimError {
    match e {
        LifecycleError::Scim(e) => e,
        LifecycleError::Store(e) => {
            eprintln!("{}", json!({"error": "store", "detail": e.to_string()}));
            unavailable()
        }
        other => ScimError::invalid_value(other.to_string()),
    }
}

/// Checks the bearer token for `scope`: 401 without a known token, 403 without the scope.
fn authorize(state: &AppState, headers: &HeaderMap, scope: Scope) -> Result<(), Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("Bearer "))
                .map(|_| &v[7..])
        })
        .map(str::trim);
    let tokens = state.tokens.load();
    match token.and_then(|t| tokens.scopes(t)) {
        None => Err(Box::new(scim_error(&ScimError::new(
            401,
            None,
            "a valid bearer token is required",
        )))),
        Some(scopes) if !scopes.contains(&scope) => Err(Box::new(scim_error(&ScimError::new(
            403,
            None,
            format!(
                "this token is not allowed here (needs the `{}` scope)",
                scope_name(scope)
            ),
        )))),
        Some(_) => Ok(()),
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Scim => "scim",
        Scope::Read => "read",
        Scope::Admin => "admin",
    }
}

/// Reads the body, at most [`MAX_BODY_BYTES`]: 413 beyond, 400 when it is not UTF-8 JSON
/// (duplicate keys refused with their path). `None` for an empty body.
async fn read_json(body: Body) -> Result<Option<Json>, ScimError> {
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ScimError::new(
            413,
            Some("tooMany"),
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ScimError::invalid_syntax("the request body is not UTF-8"))?;
    tenure::json::parse(text).map(Some).map_err(|e| {
        ScimError::invalid_syntax(format!("body: {}{}", path_prefix(e.path()), e.message()))
    })
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    let serving = state.serving.load();
    match state.worker.ask(Job::Head).await {
        Ok(Ok(seq)) => (
            StatusCode::OK,
            axum::Json(
                json!({"status": "ok", "policy_version": serving.version, "journal_seq": seq}),
            ),
        )
            .into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable", "policy_version": serving.version})),
        )
            .into_response(),
    }
}

/// Everything under `/scim/v2`: discovery here, the rest through the SCIM translation on
/// the store thread.
async fn scim(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Scim) {
        return *response;
    }
    let rest = uri
        .path()
        .strip_prefix(SCIM_BASE)
        .unwrap_or("")
        .trim_end_matches('/');
    if let Some(what) = unsupported(rest) {
        // RFC 7644 §3.11 (/Me) and §3.7 (/Bulk): not implemented is 501.
        return scim_error(&ScimError::new(
            501,
            None,
            format!("{what} is not supported by this server"),
        ));
    }
    if let Some(found) = discover(rest) {
        if method != Method::GET {
            return scim_error(&ScimError::method_not_allowed(format!(
                "{method} is not supported on {rest}"
            )));
        }
        return match found {
            Some(json) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, SCIM_JSON)],
                json.to_string(),
            )
                .into_response(),
            None => scim_error(&ScimError::not_found(format!("no such resource: {rest}"))),
        };
    }
    let body = match read_json(body).await {
        Ok(body) => body,
        Err(e) => return scim_error(&e),
    };
    let request = ScimRequest {
        method: method.as_str().to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string()),
        body,
        if_match: headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let reads_only = method == Method::GET
        || (method == Method::POST && uri.path().trim_end_matches('/').ends_with("/.search"));
    let answer = if reads_only {
        state
            .worker
            .ask_reader(|reply| Job::ScimRead(request, reply))
            .await
    } else {
        state.worker.ask(|reply| Job::Scim(request, reply)).await
    };
    match answer {
        Ok(Ok(applied)) => scim_response(applied),
        Ok(Err(e)) => scim_error(&lifecycle_error(e)),
        Err(Gone) => scim_error(&unavailable()),
    }
}

/// The SCIM endpoints this server does not implement, by name: `/Me`, `/Bulk`, and a
/// search at the root (`/.search` across resource types).
fn unsupported(rest: &str) -> Option<&'static str> {
    let first = rest.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "Me" => Some("/Me"),
        "Bulk" => Some("/Bulk"),
        ".search" => Some("a search across resource types (/.search)"),
        _ => None,
    }
}

/// The discovery document for `rest` (under the SCIM base): `None` when `rest` is not a
/// discovery path, `Some(None)` for an unknown schema or resource type.
fn discover(rest: &str) -> Option<Option<Json>> {
    let base = SCIM_BASE;
    match rest {
        "/ServiceProviderConfig" => Some(Some(discovery::service_provider_config(base))),
        "/ResourceTypes" => Some(Some(discovery::list(discovery::resource_types(base)))),
        "/Schemas" => Some(Some(discovery::list(discovery::schemas(base)))),
        _ => {
            let (all, id) = if let Some(id) = rest.strip_prefix("/ResourceTypes/") {
                (discovery::resource_types(base), id)
            } else if let Some(id) = rest.strip_prefix("/Schemas/") {
                (discovery::schemas(base), id)
            } else {
                return None;
            };
            Some(all.into_iter().find(|item| item["id"] == id))
        }
    }
}

fn scim_response(applied: ScimApplied) -> Response {
    let status = StatusCode::from_u16(applied.status).unwrap_or(StatusCode::OK);
    let mut response = match &applied.response {
        Some(body) => (
            status,
            [(header::CONTENT_TYPE, SCIM_JSON)],
            body.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::LOCATION, &applied.location),
        (header::ETAG, &applied.etag),
    ] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    response
        .extensions_mut()
        .insert(Logged::of(&applied.records));
    response
}

impl Logged {
    /// The events and access change counts of `records`, for the request log.
    fn of(records: &[Recorded]) -> Logged {
        let count = |v: &Json| v.as_array().map_or(0, Vec::len);
        Logged {
            event: (!records.is_empty()).then(|| {
                records
                    .iter()
                    .map(|r| r.event.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            gained: records.iter().map(|r| count(&r.gained)).sum(),
            lost: records.iter().map(|r| count(&r.lost)).sum(),
        }
    }
}

/// A resource endpoint's answer: the journal record as JSON, logged with its event.
fn record_response(status: StatusCode, record: &Recorded) -> Response {
    let mut response = (status, axum::Json(record_json(record))).into_response();
    response
        .extensions_mut()
        .insert(Logged::of(std::slice::from_ref(record)));
    response
}

/// A JSON error of Tenure's own endpoints.
fn api_error(status: StatusCode, detail: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": detail.into()}))).into_response()
}

fn api_failure(e: LifecycleError) -> Response {
    match e {
        LifecycleError::Store(e) => {
            eprintln!("{}", json!({"error": "store", "detail": e.to_string()}));
            api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; retry",
            )
        }
        other => api_error(StatusCode::BAD_REQUEST, other.to_string()),
    }
}

async fn entitlements(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Read) {
        return *response;
    }
    let key = id.clone();
    match state
        .worker
        .ask(|reply| Job::Entitlements(key, reply))
        .await
    {
        Ok(Ok(Some(found))) => axum::Json(answers::entitlements(&id, &found)).into_response(),
        Ok(Ok(None)) => api_error(
            StatusCode::NOT_FOUND,
            format!("no identity `{id}` on record"),
        ),
        Ok(Err(e)) => api_failure(e),
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

async fn access(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Read) {
        return *response;
    }
    let key = id.clone();
    match state.worker.ask(|reply| Job::Access(key, reply)).await {
        Ok(Ok(Some(found))) => axum::Json(answers::holders(&id, &found)).into_response(),
        Ok(Ok(None)) => api_error(
            StatusCode::NOT_FOUND,
            format!("no resource `{id}` on record"),
        ),
        Ok(Err(e)) => api_failure(e),
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn journal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(since): Query<Since>,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Read) {
        return *response;
    }
    let after = since.since.unwrap_or(0);
    match state
        .worker
        .ask_reader(|reply| Job::Journal(after, reply))
        .await
    {
        Ok(Ok(records)) => {
            let mut text = String::new();
            for record in &records {
                text.push_str(&record.to_json_line());
                text.push('\n');
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-ndjson")],
                text,
            )
                .into_response()
        }
        Ok(Err(e)) => api_failure(e),
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

async fn put_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Admin) {
        return *response;
    }
    let json = match read_json(body).await {
        Ok(Some(json)) => json,
        Ok(None) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "a resource JSON object is required",
            )
        }
        Err(e) => {
            return api_error(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                e.detail,
            )
        }
    };
    let mut json = json;
    match json.as_object_mut() {
        Some(object) => match object.get("id") {
            None => {
                object.insert("id".into(), Json::String(id.clone()));
            }
            Some(Json::String(given)) if *given == id => {}
            Some(_) => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    format!("the body's `id` must be `{id}`, as in the path"),
                )
            }
        },
        None => return api_error(StatusCode::BAD_REQUEST, "a resource is a JSON object"),
    }
    let resource = match Resource::from_json_value(&json) {
        Ok(resource) => resource,
        Err(e) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                format!("{}{}", path_prefix(e.path()), e.message()),
            )
        }
    };
    match state
        .worker
        .ask(|reply| Job::PutResource(id, resource, reply))
        .await
    {
        Ok(Ok((created, record))) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            record_response(status, &record)
        }
        Ok(Err(e)) => api_failure(e),
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

async fn delete_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Admin) {
        return *response;
    }
    let key = id.clone();
    match state
        .worker
        .ask(|reply| Job::DeleteResource(key, reply))
        .await
    {
        Ok(Ok(Some(record))) => record_response(StatusCode::OK, &record),
        Ok(Ok(None)) => api_error(
            StatusCode::NOT_FOUND,
            format!("no resource `{id}` on record"),
        ),
        Ok(Err(e)) => api_failure(e),
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize(&state, &headers, Scope::Admin) {
        return *response;
    }
    reload_now(&state).await
}

/// Reloads the token file and the policy: what `POST /admin/reload` and SIGHUP do.
pub(crate) async fn reload_now(state: &AppState) -> Response {
    let tokens = match Tokens::read(&state.token_file) {
        Ok(tokens) => {
            state.tokens.store(Arc::new(tokens));
            json!({"reloaded": true})
        }
        Err(e) => json!({"reloaded": false, "error": e.to_string()}),
    };
    match state.worker.ask(Job::Reload).await {
        Ok(Ok(serving)) => {
            eprintln!(
                "{}",
                json!({"event": "policy_reloaded", "policy_version": serving.version, "hash": serving.hash})
            );
            axum::Json(json!({
                "reloaded": true,
                "policy_version": serving.version,
                "hash": serving.hash,
                "rules": serving.policy.len(),
                "tokens": tokens,
            }))
            .into_response()
        }
        Ok(Err(diagnostics)) => {
            let serving = state.serving.load();
            eprintln!(
                "{}",
                json!({"event": "policy_reload_failed", "policy_version": serving.version, "diagnostics": diagnostics})
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({
                    "reloaded": false,
                    "policy_version": serving.version,
                    "diagnostics": diagnostics,
                    "tokens": tokens,
                })),
            )
                .into_response()
        }
        Err(Gone) => api_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

async fn not_found(uri: Uri) -> Response {
    api_error(StatusCode::NOT_FOUND, format!("no route {}", uri.path()))
}
