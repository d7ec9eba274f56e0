//! Issue 10: a decision through the C API against native Rust on the same engine.
//!
//! * `builder`: build the identity and the resource attribute by attribute, decide
//!   (`is_allowed`), free — `tenure_entity_new` / `_set_string` / `_set_tag` /
//!   `tenure_is_allowed` / `_free` against `Identity::new().with(..)` + `Engine::is_allowed`
//!   (target: C ≤ 1.5 × native).
//! * `prebuilt`: the decision alone on entities built once.
//! * `json`: a request read from JSON and decided with reasons
//!   (`tenure_request_from_json` + `tenure_authorize`) against `Request::from_json` +
//!   `Engine::authorize`.
//!
//! The exported functions are called from Rust through the `rlib`: the same machine code
//! a C caller reaches, minus the C compiler's call overhead (one indirect-free call).
//!
//! `cargo bench -p tenure-ffi --bench ffi`

use std::ffi::c_char;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tenure::{Engine, Identity, Request, Resource};
use tenure_ffi::*;

const RULES: usize = 1_000;

fn policy() -> String {
    let mut out = String::new();
    for i in 0..RULES {
        let _ = writeln!(
            out,
            "role = role_{} and department = dept_{} {} tag:env = env_{} and type = {};",
            i % 97,
            i % 13,
            if i % 10 == 0 { "denies" } else { "grants" },
            i % 7,
            ["postgres", "mysql", "ssh"][i % 3]
        );
    }
    out
}

struct Case {
    role: String,
    department: String,
    env: String,
    type_: &'static str,
    json: String,
}

fn cases() -> Vec<Case> {
    (0..256)
        .map(|k| {
            let role = format!("role_{}", (k * 31) % 97);
            let department = format!("dept_{}", (k * 7) % 13);
            let env = format!("env_{}", k % 7);
            let type_ = ["postgres", "mysql", "ssh"][k % 3];
            let json = format!(
                r#"{{"identity": {{"role": "{role}", "department": "{department}", "status": "active"}}, "resource": {{"type": "{type_}", "tags": {{"env": "{env}"}}}}}}"#
            );
            Case { role, department, env, type_, json }
        })
        .collect()
}

fn s(text: &str) -> (*const c_char, usize) {
    (text.as_ptr().cast(), text.len())
}

fn c_entity(pairs: &[(&str, &str)], tag: (&str, &str)) -> *mut tenure_entity {
    let e = tenure_entity_new();
    for (name, value) in pairs {
        let (n, nl) = s(name);
        let (v, vl) = s(value);
        tenure_entity_set_string(e, n, nl, v, vl);
    }
    let (k, kl) = s(tag.0);
    let (v, vl) = s(tag.1);
    if !tag.0.is_empty() {
        tenure_entity_set_tag(e, k, kl, v, vl);
    }
    e
}

fn bench(c: &mut Criterion) {
    let text = policy();
    let engine = Engine::from_sources([("p.tenure", &text)]).expect("the workload compiles");
    let mut c_engine: *mut tenure_engine = std::ptr::null_mut();
    let (p, pl) = s(&text);
    assert_eq!(tenure_engine_new(p, pl, &mut c_engine), TENURE_OK);
    let cases = cases();
    // Both paths agree on every case (and some are allowed).
    let mut allowed = 0;
    for case in &cases {
        let request = Request::from_json(&case.json).expect("the case reads");
        let native = engine.is_allowed(request.identity(), request.resource());
        let i = c_entity(
            &[
                ("role", &case.role),
                ("department", &case.department),
                ("status", "active"),
            ],
            ("", ""),
        );
        let r = c_entity(&[("type", case.type_)], ("env", &case.env));
        assert_eq!(tenure_is_allowed(c_engine, i, r), native);
        allowed += usize::from(native);
        tenure_entity_free(i);
        tenure_entity_free(r);
    }
    assert!(allowed > 0, "the workload allows something");

    let mut group = c.benchmark_group("ffi/1000");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let mut k = 0;
    group.bench_function("builder_native", |b| {
        b.iter(|| {
            let case = &cases[k % cases.len()];
            k += 1;
            let identity = Identity::new()
                .with("role", case.role.as_str())
                .with("department", case.department.as_str())
                .with("status", "active");
            let resource = Resource::new()
                .with("type", case.type_)
                .with_tag("env", case.env.as_str());
            black_box(engine.is_allowed(&identity, &resource))
        })
    });
    group.bench_function("builder_c_api", |b| {
        b.iter(|| {
            let case = &cases[k % cases.len()];
            k += 1;
            let i = c_entity(
                &[
                    ("role", &case.role),
                    ("department", &case.department),
                    ("status", "active"),
                ],
                ("", ""),
            );
            let r = c_entity(&[("type", case.type_)], ("env", &case.env));
            let allowed = tenure_is_allowed(c_engine, i, r);
            tenure_entity_free(i);
            tenure_entity_free(r);
            black_box(allowed)
        })
    });

    let native_built: Vec<(Identity, Resource)> = cases
        .iter()
        .map(|case| {
            let request = Request::from_json(&case.json).expect("the case reads");
            request.into_parts()
        })
        .collect();
    let c_built: Vec<(*mut tenure_entity, *mut tenure_entity)> = cases
        .iter()
        .map(|case| {
            (
                c_entity(
                    &[
                        ("role", &case.role),
                        ("department", &case.department),
                        ("status", "active"),
                    ],
                    ("", ""),
                ),
                c_entity(&[("type", case.type_)], ("env", &case.env)),
            )
        })
        .collect();
    group.bench_function("prebuilt_native", |b| {
        b.iter(|| {
            let (i, r) = &native_built[k % native_built.len()];
            k += 1;
            black_box(engine.is_allowed(i, r))
        })
    });
    group.bench_function("prebuilt_c_api", |b| {
        b.iter(|| {
            let (i, r) = c_built[k % c_built.len()];
            k += 1;
            black_box(tenure_is_allowed(c_engine, i, r))
        })
    });

    group.bench_function("json_native", |b| {
        b.iter(|| {
            let case = &cases[k % cases.len()];
            k += 1;
            let request = Request::from_json(&case.json).expect("the case reads");
            black_box(
                engine
                    .authorize(request.identity(), request.resource())
                    .is_allowed(),
            )
        })
    });
    group.bench_function("json_c_api", |b| {
        b.iter(|| {
            let case = &cases[k % cases.len()];
            k += 1;
            let (j, jl) = s(&case.json);
            let mut i = std::ptr::null_mut();
            let mut r = std::ptr::null_mut();
            let mut d = std::ptr::null_mut();
            tenure_request_from_json(j, jl, &mut i, &mut r);
            tenure_authorize(c_engine, i, r, &mut d);
            let allowed = tenure_decision_is_allowed(d);
            tenure_decision_free(d);
            tenure_entity_free(i);
            tenure_entity_free(r);
            black_box(allowed)
        })
    });
    group.finish();

    for (i, r) in c_built {
        tenure_entity_free(i);
        tenure_entity_free(r);
    }
    tenure_engine_free(c_engine);
}

criterion_group!(benches, bench);
criterion_main!(benches);
