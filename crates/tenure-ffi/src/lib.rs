//! The C API of Tenure: `include/tenure.h`, `libtenure_ffi.a`, `libtenure_ffi.so`.
//!
//! Modelled on rustls-ffi and regex-capi:
//!
//! * Every name starts with `tenure_`. Handles (`tenure_engine`, `tenure_entity`,
//!   `tenure_decision`) are opaque; each has a `_free` function, and `_free(NULL)` is a
//!   no-op.
//! * Strings go in as pointer + length (no NUL needed) and are checked to be UTF-8.
//! * Every pointer argument is NULL-checked. Output pointers are written only on success.
//! * Every export catches panics: a panic never crosses into C, it becomes
//!   `TENURE_ERROR_PANIC`.
//! * **Every error path denies**: `tenure_is_allowed` returns `false` on any error, and no
//!   decision handle is produced by a failed call.
//! * `tenure_last_error` copies the calling thread's last error message; every other call
//!   sets it (on error) or clears it (on success).
//!
//! `docs/EMBEDDING.md` has the ownership rules per function, thread safety and a complete
//! C example.
#![allow(non_camel_case_types)]
// Every export takes raw pointers from C and checks them; marking each `unsafe fn` would
// only move the checks' documentation into the header.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use tenure::claims::ClaimsMapping;
use tenure::engine::{DirectorySnapshot, Subject};
use tenure::{DecidedBy, Decision, Engine, EngineError, Identity, Policy, Resource, Value};

/// A result code: `TENURE_OK` (0) or one of the `TENURE_ERROR_*` codes. Codes are
/// stable numbers, never reused; `tenure_last_error` says more.
pub type tenure_result = u32;

/// Success.
pub const TENURE_OK: tenure_result = 0;
/// A required pointer argument was NULL.
pub const TENURE_ERROR_NULL_ARGUMENT: tenure_result = 1;
/// A string argument was not UTF-8 (or its length exceeds `PTRDIFF_MAX`).
pub const TENURE_ERROR_INVALID_UTF8: tenure_result = 2;
/// The policy did not compile; `tenure_last_error` lists every diagnostic with its
/// source name, line and column. The engine (on reload) keeps its serving policy.
pub const TENURE_ERROR_POLICY: tenure_result = 3;
/// Malformed JSON, a duplicate key, or a value of a type an attribute cannot hold
/// (floats, nested objects), with the JSON path.
pub const TENURE_ERROR_INVALID_JSON: tenure_result = 4;
/// An argument is not acceptable: the attribute name `tags` (reserved for tags), an empty
/// name, an unknown subject kind, a source count that overflows.
pub const TENURE_ERROR_INVALID_ARGUMENT: tenure_result = 5;
/// An index past the end (`tenure_decision_reason_id`).
pub const TENURE_ERROR_OUT_OF_RANGE: tenure_result = 6;
/// `tenure_entity_add_to_set` on an attribute that holds something other than a set.
pub const TENURE_ERROR_NOT_A_SET: tenure_result = 7;
/// Directory lines (JSON Lines of identities) are malformed: a bad line, a missing or
/// duplicate `id`.
pub const TENURE_ERROR_DIRECTORY: tenure_result = 8;
/// A journal record is malformed or does not apply to the engine's directory; nothing of
/// the batch was applied.
pub const TENURE_ERROR_JOURNAL: tenure_result = 9;
/// Journal records are missing between the engine's directory and the records given
/// (poll `since` `tenure_engine_journal_seq`); nothing was applied.
pub const TENURE_ERROR_JOURNAL_GAP: tenure_result = 10;
/// Claims could not become an identity, or the claims mapping (TOML) is malformed.
pub const TENURE_ERROR_CLAIMS: tenure_result = 11;
/// A policy file could not be read.
pub const TENURE_ERROR_IO: tenure_result = 12;
/// A panic inside the library was caught (a bug: please report it). Nothing was produced.
pub const TENURE_ERROR_PANIC: tenure_result = 99;

/// The version of this C interface: it changes whenever a signature or the meaning of a
/// result code changes.
pub const TENURE_ABI_VERSION: u32 = 1;

/// How a decision was reached (`tenure_decision_decided_by`).
pub type tenure_decided_by = u32;
/// One or more deny rules applied.
pub const TENURE_DECIDED_BY_DENY: tenure_decided_by = 1;
/// No deny applied and one or more grants did: the only allowing outcome.
pub const TENURE_DECIDED_BY_GRANT: tenure_decided_by = 2;
/// Nothing applied: default deny.
pub const TENURE_DECIDED_BY_DEFAULT: tenure_decided_by = 3;
/// The subject is not (or not uniquely) in the engine's directory: denied.
pub const TENURE_DECIDED_BY_UNKNOWN_SUBJECT: tenure_decided_by = 4;

/// How `tenure_authorize_subject` finds the subject in the engine's directory.
pub type tenure_subject_kind = u32;
/// By directory id (the SCIM `id`).
pub const TENURE_SUBJECT_ID: tenure_subject_kind = 1;
/// By `external_id` (the IdP's user id, a token's `sub`).
pub const TENURE_SUBJECT_EXTERNAL_ID: tenure_subject_kind = 2;
/// By `email`, compared case-insensitively.
pub const TENURE_SUBJECT_EMAIL: tenure_subject_kind = 3;

/// A hot-swappable compiled policy, and optionally a directory snapshot.
///
/// Thread safety: an engine may be shared by any number of threads; decisions are
/// lock-free and may run while another thread reloads it or applies journal records.
/// Free it once, after every other use has finished.
pub struct tenure_engine {
    engine: Engine,
}

/// An identity or a resource: attributes (string, integer, boolean, set of strings) and
/// tags.
///
/// Thread safety: an entity may be read by several threads at once (passed to decisions);
/// it must not be changed (`tenure_entity_set_*`, `_add_to_set`) while any other thread
/// uses it.
pub struct tenure_entity {
    identity: Identity,
}

/// A decision: allowed or not, how, the policy version that made it, and the ids of the
/// rules that decided.
///
/// Thread safety: immutable; may be shared across threads. Strings it lends stay valid
/// until it is freed.
pub struct tenure_decision {
    decision: Decision,
}

/// One named policy source, for `tenure_engine_new_from_sources` and
/// `tenure_engine_reload_sources`. The name appears in diagnostics.
#[repr(C)]
pub struct tenure_source {
    /// The source's name, such as a file name (UTF-8, `name_len` bytes).
    pub name: *const c_char,
    /// Bytes in `name`.
    pub name_len: usize,
    /// The policy text (UTF-8, `text_len` bytes).
    pub text: *const c_char,
    /// Bytes in `text`.
    pub text_len: usize,
}

// Identity and Resource are `#[repr(transparent)]` over the same type (guaranteed by the
// library), so a `&Identity` may be used as a `&Resource`: checked here as far as the
// compiler can.
const _: () = {
    assert!(std::mem::size_of::<Identity>() == std::mem::size_of::<Resource>());
    assert!(std::mem::align_of::<Identity>() == std::mem::align_of::<Resource>());
};

impl tenure_entity {
    fn as_resource(&self) -> &Resource {
        // SAFETY: `Identity` and `Resource` are both `#[repr(transparent)]` wrappers of the
        // same private entity type (a documented guarantee of the `tenure` crate), so
        // they have the same layout and validity invariants.
        unsafe { &*(&self.identity as *const Identity as *const Resource) }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn set_last_error(message: Option<String>) {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// A failed call: its code and message.
struct Failure {
    code: tenure_result,
    message: String,
}

impl Failure {
    fn new(code: tenure_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    fn null(what: &str) -> Failure {
        Failure::new(TENURE_ERROR_NULL_ARGUMENT, format!("`{what}` is NULL"))
    }
}

impl From<tenure::Error> for Failure {
    fn from(error: tenure::Error) -> Failure {
        let text = error
            .diagnostics()
            .iter()
            .map(|d| format!("{d} [{}]", d.code().as_str()))
            .collect::<Vec<_>>()
            .join("\n");
        Failure::new(TENURE_ERROR_POLICY, text)
    }
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Failure {
        let code = match error.code() {
            "tenure::engine::read_failed" => TENURE_ERROR_IO,
            "tenure::engine::journal_gap" => TENURE_ERROR_JOURNAL_GAP,
            "tenure::engine::journal_record" => TENURE_ERROR_JOURNAL,
            _ => match error {
                EngineError::Policy(e) => return Failure::from(e),
                EngineError::Input(_) => TENURE_ERROR_JOURNAL,
                _ => TENURE_ERROR_IO,
            },
        };
        Failure::new(code, format!("{error} [{}]", error.code()))
    }
}

fn input_failure(code: tenure_result, error: &tenure::InputError) -> Failure {
    Failure::new(code, format!("{error} [{}]", error.code().as_str()))
}

/// Runs `body`, catching panics, recording the thread's last error; returns the code.
fn guard(body: impl FnOnce() -> Result<(), Failure>) -> tenure_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error(None);
            TENURE_OK
        }
        Ok(Err(failure)) => {
            set_last_error(Some(failure.message));
            failure.code
        }
        Err(_) => {
            set_last_error(Some("internal error: a panic was caught".into()));
            TENURE_ERROR_PANIC
        }
    }
}

/// As [`guard`], for exports that return a value: `fallback` on any failure.
fn guard_value<T>(fallback: T, body: impl FnOnce() -> Result<T, Failure>) -> T {
    let mut out = None;
    guard(|| {
        out = Some(body()?);
        Ok(())
    });
    out.unwrap_or(fallback)
}

/// A borrowed UTF-8 string from pointer + length.
fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            TENURE_ERROR_INVALID_UTF8,
            format!("`{what}`: length {len} exceeds PTRDIFF_MAX"),
        ));
    }
    // SAFETY: the caller promises `len` readable bytes at `ptr` (the header says so);
    // `ptr` is not NULL and `len` fits an isize.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            TENURE_ERROR_INVALID_UTF8,
            format!("`{what}` is not UTF-8: {e}"),
        )
    })
}

fn borrow<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: a non-NULL handle pointer comes from this library (`Box::into_raw`) and has
    // not been freed: the header's ownership rules.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

fn borrow_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: as `borrow`; the header forbids concurrent use while it changes.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// Writes a new handle to `out`.
fn emit<T>(out: *mut *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL by the caller of `emit` before any work.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// The calls that decide: checks `decision_out` first, then writes the decision `decide`
/// makes (nothing on error: the caller denies).
fn decide(
    decision_out: *mut *mut tenure_decision,
    decide: impl FnOnce() -> Result<Decision, Failure>,
) -> tenure_result {
    guard(|| {
        check_out(decision_out, "decision_out")?;
        let decision = decide()?;
        emit(decision_out, tenure_decision { decision });
        Ok(())
    })
}

fn check_out<T>(out: *mut *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(())
    }
}

/// Frees a handle made by `Box::into_raw`; NULL is a no-op. Like every call that
/// succeeds, it clears the thread's last error.
fn free<T>(ptr: *mut T) {
    guard(|| {
        if !ptr.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in this library and the
            // caller frees it once (the header's ownership rule).
            drop(unsafe { Box::from_raw(ptr) });
        }
        Ok(())
    });
}

fn read_sources<'a>(
    sources: *const tenure_source,
    count: usize,
) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    if sources.is_null() {
        return Err(Failure::null("sources"));
    }
    if count > isize::MAX as usize / std::mem::size_of::<tenure_source>() {
        return Err(Failure::new(
            TENURE_ERROR_INVALID_ARGUMENT,
            format!("`count` {count} is too large"),
        ));
    }
    // SAFETY: the caller promises `count` readable `tenure_source`s at `sources`.
    let slice = unsafe { std::slice::from_raw_parts(sources, count) };
    slice
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok((
                text(s.name, s.name_len, &format!("sources[{i}].name"))?,
                text(s.text, s.text_len, &format!("sources[{i}].text"))?,
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------

/// Compiles `policy` (`policy_len` bytes of UTF-8, named `<policy>` in diagnostics) into a
/// new engine serving it as version 1, written to `*engine_out` (free it with
/// `tenure_engine_free`). On error `*engine_out` is untouched.
#[no_mangle]
pub extern "C" fn tenure_engine_new(
    policy: *const c_char,
    policy_len: usize,
    engine_out: *mut *mut tenure_engine,
) -> tenure_result {
    guard(|| {
        check_out(engine_out, "engine_out")?;
        let policy = text(policy, policy_len, "policy")?;
        let engine = Engine::new(Policy::compile(policy)?);
        emit(engine_out, tenure_engine { engine });
        Ok(())
    })
}

/// Compiles `count` named sources as one policy set (rules without `@id` are numbered
/// across them) into a new engine, written to `*engine_out`.
#[no_mangle]
pub extern "C" fn tenure_engine_new_from_sources(
    sources: *const tenure_source,
    count: usize,
    engine_out: *mut *mut tenure_engine,
) -> tenure_result {
    guard(|| {
        check_out(engine_out, "engine_out")?;
        let engine = Engine::from_sources(read_sources(sources, count)?)?;
        emit(engine_out, tenure_engine { engine });
        Ok(())
    })
}

/// Compiles `policy` and, only if it compiles, serves it as the engine's next version.
/// On error the serving policy and its version stay as they were.
#[no_mangle]
pub extern "C" fn tenure_engine_reload(
    engine: *mut tenure_engine,
    policy: *const c_char,
    policy_len: usize,
) -> tenure_result {
    guard(|| {
        let engine = borrow(engine.cast_const(), "engine")?;
        let policy = text(policy, policy_len, "policy")?;
        engine.engine.reload([("<policy>", policy)])?;
        Ok(())
    })
}

/// As `tenure_engine_reload`, with several named sources.
#[no_mangle]
pub extern "C" fn tenure_engine_reload_sources(
    engine: *mut tenure_engine,
    sources: *const tenure_source,
    count: usize,
) -> tenure_result {
    guard(|| {
        let engine = borrow(engine.cast_const(), "engine")?;
        engine.engine.reload(read_sources(sources, count)?)?;
        Ok(())
    })
}

/// The serving policy's version: 1 for the first policy, +1 for each successful reload.
/// 0 when `engine` is NULL.
#[no_mangle]
pub extern "C" fn tenure_engine_version(engine: *const tenure_engine) -> u64 {
    guard_value(0, || Ok(borrow(engine, "engine")?.engine.version()))
}

/// Frees an engine. NULL is a no-op. No other thread may use it any more.
#[no_mangle]
pub extern "C" fn tenure_engine_free(engine: *mut tenure_engine) {
    free(engine);
}

// ---------------------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------------------

/// Reads an identity or a resource from the core JSON shape (`{"id": "db-1", "type":
/// "postgres", "tags": {"env": "prod"}, "groups": ["a"], "port": 5432}`) into a new entity
/// written to `*entity_out` (free it with `tenure_entity_free`).
#[no_mangle]
pub extern "C" fn tenure_entity_from_json(
    json: *const c_char,
    json_len: usize,
    entity_out: *mut *mut tenure_entity,
) -> tenure_result {
    guard(|| {
        check_out(entity_out, "entity_out")?;
        let json = text(json, json_len, "json")?;
        let identity =
            Identity::from_json(json).map_err(|e| input_failure(TENURE_ERROR_INVALID_JSON, &e))?;
        emit(entity_out, tenure_entity { identity });
        Ok(())
    })
}

/// Reads a request in the core JSON shape, `{"identity": {...}, "resource": {...}}`,
/// into two new entities written to `*identity_out` and `*resource_out` (free each with
/// `tenure_entity_free`). On error neither is written.
#[no_mangle]
pub extern "C" fn tenure_request_from_json(
    json: *const c_char,
    json_len: usize,
    identity_out: *mut *mut tenure_entity,
    resource_out: *mut *mut tenure_entity,
) -> tenure_result {
    guard(|| {
        check_out(identity_out, "identity_out")?;
        check_out(resource_out, "resource_out")?;
        let json = text(json, json_len, "json")?;
        let request = tenure::Request::from_json(json)
            .map_err(|e| input_failure(TENURE_ERROR_INVALID_JSON, &e))?;
        let (identity, resource) = request.into_parts();
        // SAFETY: `Resource` and `Identity` are `#[repr(transparent)]` over the same type
        // (a documented guarantee of the `tenure` crate): same layout and invariants.
        let resource = unsafe { std::mem::transmute::<Resource, Identity>(resource) };
        emit(identity_out, tenure_entity { identity });
        emit(resource_out, tenure_entity { identity: resource });
        Ok(())
    })
}

/// Builds an identity from a verified token's claims (JSON text of the payload) under
/// the claims mapping `mapping_toml` (TOML; NULL means the default mapping:
/// `sub` → `external_id`, `email`, `groups`, …). Verifying the token is the caller's job.
#[no_mangle]
pub extern "C" fn tenure_entity_from_claims(
    claims: *const c_char,
    claims_len: usize,
    mapping_toml: *const c_char,
    mapping_len: usize,
    entity_out: *mut *mut tenure_entity,
) -> tenure_result {
    guard(|| {
        check_out(entity_out, "entity_out")?;
        let claims = text(claims, claims_len, "claims")?;
        let mapping = if mapping_toml.is_null() {
            ClaimsMapping::default()
        } else {
            ClaimsMapping::from_toml(text(mapping_toml, mapping_len, "mapping_toml")?)
                .map_err(|e| input_failure(TENURE_ERROR_CLAIMS, &e))?
        };
        let identity = Identity::from_claims(claims, &mapping)
            .map_err(|e| input_failure(TENURE_ERROR_CLAIMS, &e))?;
        emit(entity_out, tenure_entity { identity });
        Ok(())
    })
}

/// A new entity without attributes or tags (free it with `tenure_entity_free`); NULL
/// only if memory is exhausted or a panic was caught.
#[no_mangle]
pub extern "C" fn tenure_entity_new() -> *mut tenure_entity {
    guard_value(std::ptr::null_mut(), || {
        Ok(Box::into_raw(Box::new(tenure_entity {
            identity: Identity::new(),
        })))
    })
}

fn set(
    e: *mut tenure_entity,
    name: *const c_char,
    name_len: usize,
    value: impl FnOnce(Option<&Value>) -> Result<Value, Failure>,
) -> tenure_result {
    guard(|| {
        let entity = borrow_mut(e, "e")?;
        let name = text(name, name_len, "name")?;
        if name.is_empty() {
            return Err(Failure::new(
                TENURE_ERROR_INVALID_ARGUMENT,
                "an attribute name cannot be empty",
            ));
        }
        let value = value(entity.identity.get(name))?;
        entity
            .identity
            .set(name, value)
            .map_err(|e| input_failure(TENURE_ERROR_INVALID_ARGUMENT, &e))
    })
}

/// Sets string attribute `name` (replacing any value).
#[no_mangle]
pub extern "C" fn tenure_entity_set_string(
    e: *mut tenure_entity,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> tenure_result {
    set(e, name, name_len, |_| {
        Ok(Value::from(text(value, value_len, "value")?))
    })
}

/// Sets integer attribute `name` (replacing any value).
#[no_mangle]
pub extern "C" fn tenure_entity_set_int(
    e: *mut tenure_entity,
    name: *const c_char,
    name_len: usize,
    value: i64,
) -> tenure_result {
    set(e, name, name_len, |_| Ok(Value::Int(value)))
}

/// Sets boolean attribute `name` (replacing any value).
#[no_mangle]
pub extern "C" fn tenure_entity_set_bool(
    e: *mut tenure_entity,
    name: *const c_char,
    name_len: usize,
    value: bool,
) -> tenure_result {
    set(e, name, name_len, |_| Ok(Value::Bool(value)))
}

/// Adds `value` to the set attribute `name`, creating the set when the attribute is
/// absent; `TENURE_ERROR_NOT_A_SET` when it holds something else.
#[no_mangle]
pub extern "C" fn tenure_entity_add_to_set(
    e: *mut tenure_entity,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> tenure_result {
    set(e, name, name_len, |current| {
        let item = text(value, value_len, "value")?;
        match current {
            None => Ok(Value::set([item])),
            Some(Value::Set(set)) => {
                let mut set = set.clone();
                set.insert(item);
                Ok(Value::Set(set))
            }
            Some(other) => Err(Failure::new(
                TENURE_ERROR_NOT_A_SET,
                format!("the attribute holds a {}, not a set", other.type_name()),
            )),
        }
    })
}

/// Sets tag `key` (a string, `tag:KEY` in policies).
#[no_mangle]
pub extern "C" fn tenure_entity_set_tag(
    e: *mut tenure_entity,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> tenure_result {
    guard(|| {
        let entity = borrow_mut(e, "e")?;
        let key = text(key, key_len, "key")?;
        let value = text(value, value_len, "value")?;
        entity.identity.set_tag(key, value);
        Ok(())
    })
}

/// Frees an entity. NULL is a no-op.
#[no_mangle]
pub extern "C" fn tenure_entity_free(e: *mut tenure_entity) {
    free(e);
}

// ---------------------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------------------

/// Whether `identity` may reach `resource` under the engine's serving policy. `false` on
/// any error (NULL arguments included): errors deny. Allocates nothing.
#[no_mangle]
pub extern "C" fn tenure_is_allowed(
    engine: *const tenure_engine,
    identity: *const tenure_entity,
    resource: *const tenure_entity,
) -> bool {
    guard_value(false, || {
        let engine = borrow(engine, "engine")?;
        let identity = borrow(identity, "identity")?;
        let resource = borrow(resource, "resource")?;
        Ok(engine
            .engine
            .is_allowed(&identity.identity, resource.as_resource()))
    })
}

/// Decides with reasons: a new decision written to `*decision_out` (free it with
/// `tenure_decision_free`). On error no decision is written: treat it as a deny.
#[no_mangle]
pub extern "C" fn tenure_authorize(
    engine: *const tenure_engine,
    identity: *const tenure_entity,
    resource: *const tenure_entity,
    decision_out: *mut *mut tenure_decision,
) -> tenure_result {
    decide(decision_out, || {
        let engine = borrow(engine, "engine")?;
        let identity = borrow(identity, "identity")?;
        let resource = borrow(resource, "resource")?;
        Ok(engine
            .engine
            .authorize(&identity.identity, resource.as_resource()))
    })
}

/// Whether the decision allows. `false` when `decision` is NULL.
#[no_mangle]
pub extern "C" fn tenure_decision_is_allowed(decision: *const tenure_decision) -> bool {
    guard_value(false, || {
        Ok(borrow(decision, "decision")?.decision.is_allowed())
    })
}

/// How the decision was reached: a `TENURE_DECIDED_BY_*` code; 0 when `decision` is NULL.
#[no_mangle]
pub extern "C" fn tenure_decision_decided_by(
    decision: *const tenure_decision,
) -> tenure_decided_by {
    guard_value(0, || {
        Ok(match borrow(decision, "decision")?.decision.decided_by() {
            DecidedBy::Deny => TENURE_DECIDED_BY_DENY,
            DecidedBy::Grant => TENURE_DECIDED_BY_GRANT,
            DecidedBy::Default => TENURE_DECIDED_BY_DEFAULT,
            DecidedBy::UnknownSubject => TENURE_DECIDED_BY_UNKNOWN_SUBJECT,
        })
    })
}

/// The version of the engine's policy that made the decision; 0 when `decision` is NULL.
#[no_mangle]
pub extern "C" fn tenure_decision_policy_version(decision: *const tenure_decision) -> u64 {
    guard_value(0, || {
        Ok(borrow(decision, "decision")?
            .decision
            .policy_version()
            .unwrap_or(0))
    })
}

/// How many rules decided: every applying deny, else every applying grant, else 0.
/// 0 when `decision` is NULL.
#[no_mangle]
pub extern "C" fn tenure_decision_reason_count(decision: *const tenure_decision) -> usize {
    guard_value(0, || {
        Ok(borrow(decision, "decision")?.decision.reasons().len())
    })
}

/// Lends the id of reason `index` (in load order): `*id_out` points at `*id_len_out`
/// bytes of UTF-8, **not** NUL-terminated, valid until the decision is freed.
/// `TENURE_ERROR_OUT_OF_RANGE` when `index` ≥ the reason count; outputs untouched on error.
#[no_mangle]
pub extern "C" fn tenure_decision_reason_id(
    decision: *const tenure_decision,
    index: usize,
    id_out: *mut *const c_char,
    id_len_out: *mut usize,
) -> tenure_result {
    guard(|| {
        let decision = borrow(decision, "decision")?;
        if id_out.is_null() {
            return Err(Failure::null("id_out"));
        }
        if id_len_out.is_null() {
            return Err(Failure::null("id_len_out"));
        }
        let reasons = decision.decision.reasons();
        let reason = reasons.get(index).ok_or_else(|| {
            Failure::new(
                TENURE_ERROR_OUT_OF_RANGE,
                format!("reason {index} of a decision with {}", reasons.len()),
            )
        })?;
        let id = reason.rule_id();
        // SAFETY: both output pointers were checked non-NULL above.
        unsafe {
            *id_out = id.as_ptr().cast();
            *id_len_out = id.len();
        }
        Ok(())
    })
}

/// Frees a decision (and the strings it lent). NULL is a no-op.
#[no_mangle]
pub extern "C" fn tenure_decision_free(decision: *mut tenure_decision) {
    free(decision);
}

// ---------------------------------------------------------------------------------------
// The directory at the proxy
// ---------------------------------------------------------------------------------------

/// Serves a directory snapshot read from JSON Lines of identities (`tenure directory
/// export`), reflecting the journal up to and including `seq` (0 for "from the start").
/// On error the served directory is unchanged.
#[no_mangle]
pub extern "C" fn tenure_engine_load_directory(
    engine: *mut tenure_engine,
    jsonl: *const c_char,
    jsonl_len: usize,
    seq: u64,
) -> tenure_result {
    guard(|| {
        let engine = borrow(engine.cast_const(), "engine")?;
        let jsonl = text(jsonl, jsonl_len, "jsonl")?;
        let snapshot = DirectorySnapshot::from_json_lines(jsonl, seq)
            .map_err(|e| input_failure(TENURE_ERROR_DIRECTORY, &e))?;
        engine.engine.set_directory(snapshot);
        Ok(())
    })
}

/// Applies journal records — the JSON Lines body of `tenure serve`'s
/// `GET /v1/journal?since=SEQ` — to the engine's directory (an empty one at sequence 0
/// when none was loaded), whole or not at all. On success writes the sequence number the
/// directory now reflects to `*seq_out` when `seq_out` is not NULL.
#[no_mangle]
pub extern "C" fn tenure_engine_apply_journal(
    engine: *mut tenure_engine,
    records: *const c_char,
    records_len: usize,
    seq_out: *mut u64,
) -> tenure_result {
    guard(|| {
        let engine = borrow(engine.cast_const(), "engine")?;
        let records = text(records, records_len, "records")?;
        let applied = engine.engine.apply_journal(records)?;
        if !seq_out.is_null() {
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { *seq_out = applied.seq };
        }
        Ok(())
    })
}

/// The journal sequence number the engine's directory reflects (poll `since` it); 0 when
/// it holds no directory or `engine` is NULL.
#[no_mangle]
pub extern "C" fn tenure_engine_journal_seq(engine: *const tenure_engine) -> u64 {
    guard_value(0, || {
        Ok(borrow(engine, "engine")?.engine.journal_seq().unwrap_or(0))
    })
}

/// Decides for the subject found in the engine's directory by `kind`
/// (`TENURE_SUBJECT_ID`, `_EXTERNAL_ID`, `_EMAIL`) and `subject`, on the directory's
/// record. A subject the directory does not hold (or holds twice), or an engine without a
/// directory, yields a deny decision (`TENURE_DECIDED_BY_UNKNOWN_SUBJECT`), not an error.
#[no_mangle]
pub extern "C" fn tenure_authorize_subject(
    engine: *const tenure_engine,
    kind: tenure_subject_kind,
    subject: *const c_char,
    subject_len: usize,
    resource: *const tenure_entity,
    decision_out: *mut *mut tenure_decision,
) -> tenure_result {
    decide(decision_out, || {
        let engine = borrow(engine, "engine")?;
        let key = text(subject, subject_len, "subject")?;
        let resource = borrow(resource, "resource")?;
        let subject = match kind {
            TENURE_SUBJECT_ID => Subject::Id(key),
            TENURE_SUBJECT_EXTERNAL_ID => Subject::ExternalId(key),
            TENURE_SUBJECT_EMAIL => Subject::Email(key),
            other => {
                return Err(Failure::new(
                    TENURE_ERROR_INVALID_ARGUMENT,
                    format!("unknown subject kind {other}"),
                ))
            }
        };
        Ok(engine
            .engine
            .authorize_subject(subject, resource.as_resource()))
    })
}

/// Decides for the identity built from claims (`tenure_entity_from_claims`): found in
/// the directory by its `id`, else `external_id`, else `email`; the directory's record
/// wins on every attribute it has (`status` included), the claims may add others. An
/// unknown subject yields a deny decision.
#[no_mangle]
pub extern "C" fn tenure_authorize_claims(
    engine: *const tenure_engine,
    claims: *const tenure_entity,
    resource: *const tenure_entity,
    decision_out: *mut *mut tenure_decision,
) -> tenure_result {
    decide(decision_out, || {
        let engine = borrow(engine, "engine")?;
        let claims = borrow(claims, "claims")?;
        let resource = borrow(resource, "resource")?;
        Ok(engine
            .engine
            .authorize_subject(Subject::Claims(&claims.identity), resource.as_resource()))
    })
}

// ---------------------------------------------------------------------------------------
// Version and errors
// ---------------------------------------------------------------------------------------

/// `TENURE_ABI_VERSION` of the library actually linked: compare it with the header's.
#[no_mangle]
pub extern "C" fn tenure_abi_version() -> u32 {
    TENURE_ABI_VERSION
}

/// Copies the calling thread's last error message into `buf` (at most `buf_len` bytes,
/// NUL included: truncated to fit, always NUL-terminated when `buf_len` > 0) and returns
/// its full length without the NUL, like `snprintf`: `tenure_last_error(NULL, 0)` only
/// returns the length. 0 when the thread's last call succeeded. Does not change the
/// stored error. For a policy, the message lists every diagnostic as
/// `name:line:column: message [code]`, one per line.
#[no_mangle]
pub extern "C" fn tenure_last_error(buf: *mut c_char, buf_len: usize) -> usize {
    catch_unwind(AssertUnwindSafe(|| {
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            let message = e.as_deref().unwrap_or("");
            if !buf.is_null() && buf_len > 0 {
                let mut n = message.len().min(buf_len - 1);
                while !message.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: the caller promises `buf_len` writable bytes at `buf`; we write
                // `n + 1 <= buf_len`.
                unsafe {
                    std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            message.len()
        })
    }))
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let len = tenure_last_error(std::ptr::null_mut(), 0);
        let mut buf = vec![0u8; len + 1];
        assert_eq!(tenure_last_error(buf.as_mut_ptr().cast(), buf.len()), len);
        buf.pop();
        String::from_utf8(buf).expect("UTF-8")
    }

    #[test]
    fn a_panic_becomes_an_error_code_and_never_an_allow() {
        assert_eq!(guard(|| panic!("boom")), TENURE_ERROR_PANIC);
        assert!(last_error().contains("panic"));
        assert!(!guard_value(false, || -> Result<bool, Failure> {
            panic!("boom")
        }));
        assert_eq!(guard(|| Ok(())), TENURE_OK);
        assert_eq!(tenure_last_error(std::ptr::null_mut(), 0), 0);
    }

    #[test]
    fn last_error_truncates_on_a_character_boundary() {
        set_last_error(Some("é".repeat(10)));
        let mut buf = [0x55u8; 4];
        assert_eq!(tenure_last_error(buf.as_mut_ptr().cast(), buf.len()), 20);
        // 3 bytes fit before the NUL; "é" is 2 bytes, so one "é" and the NUL.
        assert_eq!(&buf[..3], &[0xc3, 0xa9, 0]);
    }

    #[test]
    fn a_resource_entity_reads_as_the_identity_it_was_built_as() {
        let mut e = tenure_entity {
            identity: Identity::new(),
        };
        e.identity.set("type", "postgres").expect("not reserved");
        e.identity.set_tag("env", "prod");
        let resource = e.as_resource();
        assert_eq!(resource.get("type"), Some(&Value::from("postgres")));
        assert_eq!(resource.tag("env"), Some("prod"));
    }
}
