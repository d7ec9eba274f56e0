//! The checks behind Tenure's fuzz targets.
//!
//! Each `check_*` function takes the fuzzer's bytes, panics when it finds a bug, and
//! returns `false` for inputs it rejects (too large, not UTF-8 where text is needed) so
//! that libFuzzer keeps them out of the corpus. The same functions replay the checked-in
//! regression inputs in the main crate's `tests/fuzz_regressions.rs`, which includes this
//! file as a module; so it uses nothing but `tenure`, `serde_json` and `arbitrary`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use tenure::unstable::ast::{self, Condition, Span};
use tenure::{DecidedBy, Decision, Effect, Identity, Policy, Resource};

/// Largest input the text targets look at (libFuzzer's `-max_len` is set below it too).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// parse

/// `parse`: arbitrary bytes through parse → check → compile → authorize → export never
/// panic, and every error renders.
pub fn check_parse(data: &[u8]) -> bool {
    if data.len() > MAX_TEXT_BYTES {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = tenure::unstable::parse(text);
    match Policy::compile(text) {
        Ok(policy) => {
            assert!(
                parsed.is_ok(),
                "compile accepted what parse refused: {text:?}"
            );
            let d = policy.authorize(&Identity::new(), &Resource::new());
            assert_eq!(
                d.is_allowed(),
                policy.is_allowed(&Identity::new(), &Resource::new())
            );
            let _ = tenure::export::to_cedar(&policy);
            for rule in policy.rules() {
                let _ = (rule.location(), rule.source_name());
                assert!(policy
                    .rule(rule.id())
                    .is_some_and(|r| r.index() == rule.index()));
            }
        }
        Err(e) => {
            let rendered = e.to_string();
            assert!(!rendered.is_empty());
            for d in e.diagnostics() {
                let _ = d.location();
                let _ = d.message();
            }
        }
    }
    if let Err(e) = parsed {
        let _ = e.to_string();
    }
    true
}

// ---------------------------------------------------------------------------------------
// roundtrip

/// `roundtrip`: a policy that parses prints to text that parses back to the same AST
/// (spans aside) and compiles to the same rules.
pub fn check_roundtrip(data: &[u8]) -> bool {
    if data.len() > MAX_TEXT_BYTES {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(ast) = tenure::unstable::parse(text) else {
        return true;
    };
    let printed = ast.to_string();
    let again = match tenure::unstable::parse(&printed) {
        Ok(a) => a,
        Err(e) => {
            panic!("printed policy does not parse: {e}\n--- source\n{text}\n--- printed\n{printed}")
        }
    };
    assert_eq!(
        strip_policy(&ast),
        strip_policy(&again),
        "printed policy parses to another AST\n--- source\n{text}\n--- printed\n{printed}"
    );
    assert_eq!(again.to_string(), printed, "printing is not idempotent");
    // Same checked rules (ids, effects, conditions), when the original compiles.
    if let Ok(p1) = Policy::compile(text) {
        let p2 = match Policy::compile(&printed) {
            Ok(p) => p,
            Err(e) => panic!("printed policy does not compile: {e}\n--- printed\n{printed}"),
        };
        assert_eq!(p1.rules().len(), p2.rules().len());
        let (c1, c2) = (
            tenure::unstable::checked_rules(&p1),
            tenure::unstable::checked_rules(&p2),
        );
        for (a, b) in c1.iter().zip(&c2) {
            assert_eq!(a, b);
        }
    }
    true
}

/// The AST with every span zeroed.
fn strip_policy(p: &ast::Policy) -> ast::Policy {
    ast::Policy {
        rules: p
            .rules
            .iter()
            .map(|r| ast::Rule {
                annotations: r
                    .annotations
                    .iter()
                    .map(|a| ast::Annotation {
                        span: Span::default(),
                        ..a.clone()
                    })
                    .collect(),
                who: strip_condition(&r.who),
                effect: r.effect,
                what: strip_condition(&r.what),
                span: Span::default(),
            })
            .collect(),
    }
}

fn strip_condition(c: &Condition) -> Condition {
    let z = Span::default();
    match c {
        Condition::Any(_) => Condition::Any(z),
        Condition::Or(cs, _) => Condition::Or(cs.iter().map(strip_condition).collect(), z),
        Condition::And(cs, _) => Condition::And(cs.iter().map(strip_condition).collect(), z),
        Condition::Not(c, _) => Condition::Not(Box::new(strip_condition(c)), z),
        Condition::Group(c, _) => Condition::Group(Box::new(strip_condition(c)), z),
        Condition::Atom(a) => Condition::Atom(ast::Atom {
            span: z,
            ..a.clone()
        }),
    }
}

// ---------------------------------------------------------------------------------------
// fmt

/// `fmt`: a policy that parses formats (`tenure::format`) to text that parses back to the
/// same AST (spans aside), keeps every comment (text and order), formats to itself, and
/// compiles to the same checked rules (so decides every request the same); a text that
/// does not parse is refused, as `Policy::compile` refuses it.
pub fn check_fmt(data: &[u8]) -> bool {
    if data.len() > MAX_TEXT_BYTES {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = tenure::unstable::parse(text);
    let formatted = match tenure::format::format(text) {
        Ok(f) => f,
        Err(e) => {
            assert!(
                parsed.is_err(),
                "format refused a policy that parses: {e}\n{text}"
            );
            assert!(
                Policy::compile(text).is_err(),
                "format refused what compiles"
            );
            let _ = e.to_string();
            return true;
        }
    };
    let ast = match parsed {
        Ok(ast) => ast,
        Err(e) => panic!("format accepted a policy that does not parse: {e}\n{text}"),
    };
    let again = match tenure::unstable::parse(&formatted) {
        Ok(a) => a,
        Err(e) => panic!(
            "formatted policy does not parse: {e}\n--- source\n{text}\n--- formatted\n{formatted}"
        ),
    };
    assert_eq!(
        strip_policy(&ast),
        strip_policy(&again),
        "formatted policy parses to another AST\n--- source\n{text}\n--- formatted\n{formatted}"
    );
    assert_eq!(
        tenure::format::format(&formatted).ok().as_deref(),
        Some(formatted.as_str()),
        "formatting is not idempotent\n--- source\n{text}"
    );
    assert_eq!(
        tenure::format::comments(text).ok(),
        tenure::format::comments(&formatted).ok(),
        "comments changed\n--- source\n{text}\n--- formatted\n{formatted}"
    );
    assert!(
        formatted.lines().all(|l| l == l.trim_end()),
        "trailing whitespace"
    );
    match (Policy::compile(text), Policy::compile(&formatted)) {
        (Ok(p1), Ok(p2)) => assert_eq!(
            tenure::unstable::checked_rules(&p1),
            tenure::unstable::checked_rules(&p2),
            "formatted policy compiles to other rules\n--- source\n{text}\n--- formatted\n{formatted}"
        ),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("formatted policy does not compile: {e}\n{formatted}"),
        (Err(e), Ok(_)) => panic!("formatting fixed a policy that does not compile: {e}\n{text}"),
    }
    true
}

// ---------------------------------------------------------------------------------------
// json_inputs

/// `json_inputs`: `Identity::from_json` / `Resource::from_json` never panic, and what they
/// accept survives a trip through `to_json` and serde.
pub fn check_json_inputs(data: &[u8]) -> bool {
    if data.len() > 2 * 1024 * 1024 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    if let Ok(identity) = Identity::from_json(text) {
        let back = Identity::from_json_value(&identity.to_json())
            .unwrap_or_else(|e| panic!("to_json output refused: {e}"));
        assert_eq!(identity, back);
        let serialized = serde_json::to_string(&identity).expect("serialize");
        let de: Identity = serde_json::from_str(&serialized).expect("deserialize");
        assert_eq!(identity, de);
    } else if let Err(e) = Identity::from_json(text) {
        let _ = e.to_string();
    }
    if let Ok(resource) = Resource::from_json(text) {
        let back = Resource::from_json_value(&resource.to_json())
            .unwrap_or_else(|e| panic!("to_json output refused: {e}"));
        assert_eq!(resource, back);
        let policy = Policy::compile("has tag:env denies *; * grants *;").expect("fixed policy");
        let _ = policy.authorize(&Identity::new(), &resource);
    }
    true
}

// ---------------------------------------------------------------------------------------
// authorize_differential: a structured case and an independent evaluator.

/// A generated value.
#[derive(Debug, Clone, PartialEq)]
pub enum GValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A set of strings (sorted, no duplicates).
    Set(Vec<String>),
}

/// A generated literal (what a policy compares with).
#[derive(Debug, Clone, PartialEq)]
pub enum GLit {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// A generated glob piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GGlob {
    /// A literal character.
    Char(char),
    /// `*`.
    Star,
    /// `?`.
    One,
}

/// A generated attribute: a name or a tag key.
#[derive(Debug, Clone, PartialEq)]
pub enum GAttr {
    /// A plain attribute.
    Name(&'static str),
    /// A tag.
    Tag(&'static str),
}

/// A generated comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum GTest {
    /// `has`.
    Has,
    /// `=`.
    Eq(GLit),
    /// `!=`.
    Ne(GLit),
    /// `in`.
    In(Vec<GLit>),
    /// `not in`.
    NotIn(Vec<GLit>),
    /// `~`.
    Like(Vec<GGlob>),
    /// `<`.
    Lt(i64),
    /// `<=`.
    Le(i64),
    /// `>`.
    Gt(i64),
    /// `>=`.
    Ge(i64),
}

/// A generated condition.
#[derive(Debug, Clone, PartialEq)]
pub enum GCond {
    /// `*` (only as a whole side).
    Any,
    /// A comparison.
    Atom(GAttr, GTest),
    /// `not (c)`.
    Not(Box<GCond>),
    /// `(a and b ...)`.
    And(Vec<GCond>),
    /// `(a or b ...)`.
    Or(Vec<GCond>),
}

/// A generated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GRule {
    /// `Some` for `@id`.
    pub id: Option<String>,
    /// Grant or deny.
    pub deny: bool,
    /// Identity side.
    pub who: GCond,
    /// Resource side.
    pub what: GCond,
}

/// A generated entity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GEntity {
    /// Attributes.
    pub attrs: BTreeMap<&'static str, GValue>,
    /// Tags.
    pub tags: BTreeMap<&'static str, String>,
}

/// A whole generated case.
#[derive(Debug, Clone, PartialEq)]
pub struct GCase {
    /// The rules, in order.
    pub rules: Vec<GRule>,
    /// The identity.
    pub identity: GEntity,
    /// The resource.
    pub resource: GEntity,
}

const NAMES: &[&str] = &[
    "role",
    "dept",
    "groups",
    "level",
    "active",
    "name",
    "notes",
    "manager.id",
];
const TAGS: &[&str] = &["env", "team", "k8s.io/cluster", ""];
const STRS: &[&str] = &[
    "a", "b", "admin", "prod", "x-1", "", "42", "a*b", "é", "a\"b\\c", "true",
];
const INTS: &[i64] = &[
    -1,
    0,
    1,
    3,
    42,
    i64::MIN,
    i64::MAX,
    i64::MIN + 1,
    i64::MAX - 1,
];
const GLOB_CHARS: &[char] = &['a', 'b', '*', '?', '-', 'é', '\\'];

type R<T> = arbitrary::Result<T>;

fn g_str(u: &mut Unstructured<'_>) -> R<String> {
    Ok((*u.choose(STRS)?).to_string())
}

fn g_lit(u: &mut Unstructured<'_>) -> R<GLit> {
    Ok(match u.int_in_range(0..=5u8)? {
        0..=3 => GLit::Str(g_str(u)?),
        4 => GLit::Int(*u.choose(INTS)?),
        _ => GLit::Bool(u.arbitrary()?),
    })
}

fn g_value(u: &mut Unstructured<'_>) -> R<GValue> {
    Ok(match u.int_in_range(0..=6u8)? {
        0..=2 => GValue::Str(g_str(u)?),
        3 => GValue::Int(*u.choose(INTS)?),
        4 => GValue::Bool(u.arbitrary()?),
        _ => {
            let n = u.int_in_range(0..=3usize)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(g_str(u)?);
            }
            v.sort();
            v.dedup();
            GValue::Set(v)
        }
    })
}

fn g_attr(u: &mut Unstructured<'_>) -> R<GAttr> {
    Ok(if u.ratio(1u8, 4u8)? {
        GAttr::Tag(u.choose(TAGS)?)
    } else {
        GAttr::Name(u.choose(NAMES)?)
    })
}

fn g_list(u: &mut Unstructured<'_>) -> R<Vec<GLit>> {
    let n = u.int_in_range(1..=3usize)?;
    (0..n).map(|_| g_lit(u)).collect()
}

fn g_test(u: &mut Unstructured<'_>) -> R<GTest> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => GTest::Has,
        1 => GTest::Eq(g_lit(u)?),
        2 => GTest::Ne(g_lit(u)?),
        3 => GTest::In(g_list(u)?),
        4 => GTest::NotIn(g_list(u)?),
        5 => {
            let n = u.int_in_range(0..=6usize)?;
            let mut g = Vec::with_capacity(n);
            for _ in 0..n {
                g.push(match u.int_in_range(0..=3u8)? {
                    0 => GGlob::Star,
                    1 => GGlob::One,
                    _ => GGlob::Char(*u.choose(GLOB_CHARS)?),
                });
            }
            GTest::Like(g)
        }
        6 => GTest::Lt(*u.choose(INTS)?),
        7 => GTest::Le(*u.choose(INTS)?),
        8 => GTest::Gt(*u.choose(INTS)?),
        _ => GTest::Ge(*u.choose(INTS)?),
    })
}

fn g_cond(u: &mut Unstructured<'_>, depth: u32) -> R<GCond> {
    let pick = if depth >= 3 {
        0
    } else {
        u.int_in_range(0..=4u8)?
    };
    Ok(match pick {
        0 | 1 => GCond::Atom(g_attr(u)?, g_test(u)?),
        2 => GCond::Not(Box::new(g_cond(u, depth + 1)?)),
        3 | 4 => {
            let n = u.int_in_range(2..=3usize)?;
            let cs = (0..n)
                .map(|_| g_cond(u, depth + 1))
                .collect::<R<Vec<_>>>()?;
            if pick == 3 {
                GCond::And(cs)
            } else {
                GCond::Or(cs)
            }
        }
        _ => unreachable!(),
    })
}

fn g_side(u: &mut Unstructured<'_>) -> R<GCond> {
    if u.ratio(1u8, 5u8)? {
        Ok(GCond::Any)
    } else {
        g_cond(u, 0)
    }
}

fn g_entity(u: &mut Unstructured<'_>) -> R<GEntity> {
    let mut e = GEntity::default();
    for name in NAMES {
        if u.ratio(2u8, 3u8)? {
            e.attrs.insert(name, g_value(u)?);
        }
    }
    for key in TAGS {
        if u.ratio(1u8, 2u8)? {
            e.tags.insert(key, g_str(u)?);
        }
    }
    Ok(e)
}

/// Up to 8 rules, some with `@id`.
fn g_rules(u: &mut Unstructured<'_>) -> R<Vec<GRule>> {
    let n = u.int_in_range(0..=8usize)?;
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        let id = if u.arbitrary()? {
            Some(format!("r{i}"))
        } else {
            None
        };
        rules.push(GRule {
            id,
            deny: u.ratio(1u8, 3u8)?,
            who: g_side(u)?,
            what: g_side(u)?,
        });
    }
    Ok(rules)
}

impl GCase {
    /// Reads a case from the fuzzer's bytes.
    pub fn from_bytes(data: &[u8]) -> R<GCase> {
        let mut u = Unstructured::new(data);
        Ok(GCase {
            rules: g_rules(&mut u)?,
            identity: g_entity(&mut u)?,
            resource: g_entity(&mut u)?,
        })
    }

    /// The case's policy as Tenure text, written by this crate's own printer.
    pub fn policy_text(&self) -> String {
        let mut out = String::new();
        for r in &self.rules {
            if let Some(id) = &r.id {
                out.push_str(&format!("@id({})\n", quote(id)));
            }
            out.push_str(&format!(
                "{} {} {};\n",
                cond_text(&r.who),
                if r.deny { "denies" } else { "grants" },
                cond_text(&r.what)
            ));
        }
        out
    }

    /// The identity, through the builder.
    pub fn identity(&self) -> Identity {
        let mut i = Identity::new();
        for (k, v) in &self.identity.attrs {
            i = match v {
                GValue::Str(s) => i.with(*k, s.as_str()),
                GValue::Int(n) => i.with(*k, *n),
                GValue::Bool(b) => i.with(*k, *b),
                GValue::Set(s) => i.with_set(*k, s.iter().cloned()),
            };
        }
        for (k, v) in &self.identity.tags {
            i = i.with_tag(*k, v.as_str());
        }
        i
    }

    /// The resource, through JSON (so both input paths are exercised).
    pub fn resource(&self) -> Resource {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.resource.attrs {
            let j = match v {
                GValue::Str(s) => serde_json::Value::from(s.as_str()),
                GValue::Int(n) => serde_json::Value::from(*n),
                GValue::Bool(b) => serde_json::Value::from(*b),
                GValue::Set(s) => serde_json::Value::from(s.clone()),
            };
            map.insert((*k).to_string(), j);
        }
        let tags: serde_json::Map<String, serde_json::Value> = self
            .resource
            .tags
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::Value::from(v.as_str())))
            .collect();
        map.insert("tags".into(), serde_json::Value::Object(tags));
        Resource::from_json_value(&serde_json::Value::Object(map))
            .unwrap_or_else(|e| panic!("generated resource refused: {e}"))
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn lit_text(l: &GLit) -> String {
    match l {
        GLit::Str(s) => quote(s),
        GLit::Int(i) => i.to_string(),
        GLit::Bool(b) => b.to_string(),
    }
}

fn attr_text(a: &GAttr) -> String {
    match a {
        GAttr::Name(n) => (*n).to_string(),
        GAttr::Tag(k) => format!("tag:{}", quote(k)),
    }
}

fn cond_text(c: &GCond) -> String {
    match c {
        GCond::Any => "*".into(),
        GCond::Not(c) => format!("not ({})", cond_text(c)),
        GCond::And(cs) => format!(
            "({})",
            cs.iter().map(cond_text).collect::<Vec<_>>().join(" and ")
        ),
        GCond::Or(cs) => format!(
            "({})",
            cs.iter().map(cond_text).collect::<Vec<_>>().join(" or ")
        ),
        GCond::Atom(a, t) => {
            let a = attr_text(a);
            let list = |ls: &[GLit]| ls.iter().map(lit_text).collect::<Vec<_>>().join(", ");
            match t {
                GTest::Has => format!("has {a}"),
                GTest::Eq(l) => format!("{a} = {}", lit_text(l)),
                GTest::Ne(l) => format!("{a} != {}", lit_text(l)),
                GTest::In(ls) => format!("{a} in [{}]", list(ls)),
                GTest::NotIn(ls) => format!("{a} not in [{}]", list(ls)),
                GTest::Like(g) => {
                    let mut s = String::from("\"");
                    for p in g {
                        match p {
                            GGlob::Star => s.push('*'),
                            GGlob::One => s.push('?'),
                            GGlob::Char(c @ ('*' | '?' | '\\')) => {
                                s.push('\\');
                                s.push(*c);
                            }
                            GGlob::Char(c) => s.push(*c),
                        }
                    }
                    s.push('"');
                    format!("{a} ~ {s}")
                }
                GTest::Lt(n) => format!("{a} < {n}"),
                GTest::Le(n) => format!("{a} <= {n}"),
                GTest::Gt(n) => format!("{a} > {n}"),
                GTest::Ge(n) => format!("{a} >= {n}"),
            }
        }
    }
}

/// Kleene truth for the independent evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    /// False.
    F,
    /// Unknown.
    U,
    /// True.
    T,
}

fn k(b: bool) -> K {
    if b {
        K::T
    } else {
        K::F
    }
}

fn k_not(x: K) -> K {
    match x {
        K::T => K::F,
        K::F => K::T,
        K::U => K::U,
    }
}

fn k_or(xs: impl Iterator<Item = K>) -> K {
    let mut acc = K::F;
    for x in xs {
        if x == K::T {
            return K::T;
        }
        if x == K::U {
            acc = K::U;
        }
    }
    acc
}

fn k_and(xs: impl Iterator<Item = K>) -> K {
    k_not(k_or(xs.map(k_not)))
}

/// Anchored glob match by dynamic programming over characters (no shared code with the
/// engine's strategy-based matcher).
fn glob_match(pattern: &[GGlob], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    // reach[j]: the pattern prefix read so far can match t[..j].
    let mut reach = vec![false; t.len() + 1];
    reach[0] = true;
    for p in pattern {
        let mut next = vec![false; t.len() + 1];
        match p {
            GGlob::Star => {
                let mut on = false;
                for j in 0..=t.len() {
                    on |= reach[j];
                    next[j] = on;
                }
            }
            GGlob::One => next[1..].copy_from_slice(&reach[..t.len()]),
            GGlob::Char(c) => {
                for j in 0..t.len() {
                    next[j + 1] = reach[j] && t[j] == *c;
                }
            }
        }
        reach = next;
    }
    reach[t.len()]
}

fn lookup<'a>(e: &'a GEntity, a: &GAttr) -> Option<std::borrow::Cow<'a, GValue>> {
    match a {
        GAttr::Name(n) => e.attrs.get(n).map(std::borrow::Cow::Borrowed),
        GAttr::Tag(t) => e
            .tags
            .get(t)
            .map(|s| std::borrow::Cow::Owned(GValue::Str(s.clone()))),
    }
}

fn eq(v: &GValue, l: &GLit) -> K {
    match (v, l) {
        (GValue::Str(a), GLit::Str(b)) => k(a == b),
        (GValue::Int(a), GLit::Int(b)) => k(a == b),
        (GValue::Bool(a), GLit::Bool(b)) => k(a == b),
        (GValue::Set(s), GLit::Str(b)) => k(s.iter().any(|x| x == b)),
        _ => K::U,
    }
}

fn ord(v: &GValue, f: impl Fn(i64) -> bool) -> K {
    match v {
        GValue::Int(i) => k(f(*i)),
        _ => K::U,
    }
}

/// Evaluates one comparison by the language spec.
pub fn eval_atom(e: &GEntity, a: &GAttr, t: &GTest) -> K {
    let v = lookup(e, a);
    if let GTest::Has = t {
        return k(v.is_some());
    }
    let Some(v) = v else { return K::U };
    let v = v.as_ref();
    match t {
        GTest::Has => K::T,
        GTest::Eq(l) => eq(v, l),
        GTest::Ne(l) => k_not(eq(v, l)),
        GTest::In(ls) => k_or(ls.iter().map(|l| eq(v, l))),
        GTest::NotIn(ls) => k_not(k_or(ls.iter().map(|l| eq(v, l)))),
        GTest::Like(g) => match v {
            GValue::Str(s) => k(glob_match(g, s)),
            GValue::Set(s) => k(s.iter().any(|x| glob_match(g, x))),
            _ => K::U,
        },
        GTest::Lt(n) => ord(v, |i| i < *n),
        GTest::Le(n) => ord(v, |i| i <= *n),
        GTest::Gt(n) => ord(v, |i| i > *n),
        GTest::Ge(n) => ord(v, |i| i >= *n),
    }
}

/// Evaluates a condition under Kleene logic.
pub fn eval_cond(e: &GEntity, c: &GCond) -> K {
    match c {
        GCond::Any => K::T,
        GCond::Atom(a, t) => eval_atom(e, a, t),
        GCond::Not(c) => k_not(eval_cond(e, c)),
        GCond::And(cs) => k_and(cs.iter().map(|c| eval_cond(e, c))),
        GCond::Or(cs) => k_or(cs.iter().map(|c| eval_cond(e, c))),
    }
}

/// One expected reason: rule id, whether certain, and the unknown attributes
/// (`identity.role`, `resource.tag:env`, with cause) in order.
pub type ExpectedReason = (String, bool, Vec<String>);

fn collect_unknowns(side: &str, e: &GEntity, c: &GCond, out: &mut Vec<String>) {
    match c {
        GCond::Any => {}
        GCond::Not(c) => collect_unknowns(side, e, c, out),
        GCond::And(cs) | GCond::Or(cs) => cs.iter().for_each(|c| collect_unknowns(side, e, c, out)),
        GCond::Atom(a, t) => {
            if eval_atom(e, a, t) == K::U {
                let cause = if lookup(e, a).is_some() {
                    "type"
                } else {
                    "missing"
                };
                let s = format!("{side}.{} ({cause})", attr_text(a));
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
}

/// The independent reference decision: (allowed, decided by, reasons in load order).
pub fn reference_decision(case: &GCase) -> (bool, DecidedBy, Vec<ExpectedReason>) {
    let mut denies = Vec::new();
    let mut grants = Vec::new();
    for (i, r) in case.rules.iter().enumerate() {
        let id = r.id.clone().unwrap_or_else(|| format!("rule-{}", i + 1));
        let who = eval_cond(&case.identity, &r.who);
        let what = eval_cond(&case.resource, &r.what);
        if r.deny {
            if who != K::F && what != K::F {
                let certain = who == K::T && what == K::T;
                let mut unknowns = Vec::new();
                if who == K::U {
                    collect_unknowns("identity", &case.identity, &r.who, &mut unknowns);
                }
                if what == K::U {
                    collect_unknowns("resource", &case.resource, &r.what, &mut unknowns);
                }
                denies.push((id, certain, unknowns));
            }
        } else if who == K::T && what == K::T {
            grants.push((id, true, Vec::new()));
        }
    }
    if !denies.is_empty() {
        (false, DecidedBy::Deny, denies)
    } else if !grants.is_empty() {
        (true, DecidedBy::Grant, grants)
    } else {
        (false, DecidedBy::Default, Vec::new())
    }
}

/// A decision in the reference's terms.
pub fn decision_summary(d: &Decision) -> (bool, DecidedBy, Vec<ExpectedReason>) {
    let reasons = d
        .reasons()
        .iter()
        .map(|r| {
            let unknowns = r
                .unknowns()
                .iter()
                .map(|u| {
                    let cause = match u.cause {
                        tenure::UnknownCause::Missing => "missing",
                        tenure::UnknownCause::TypeMismatch => "type",
                        other => panic!("unknown cause {other:?}"),
                    };
                    let attr = match &u.attribute {
                        tenure::Attribute::Name(n) => n.to_string(),
                        tenure::Attribute::Tag(k) => format!("tag:{}", quote(k)),
                    };
                    format!("{}.{attr} ({cause})", u.side)
                })
                .collect();
            (r.rule_id().to_string(), r.is_certain(), unknowns)
        })
        .collect();
    (d.is_allowed(), d.decided_by(), reasons)
}

/// `authorize_differential`: for a structured case, `authorize`, `authorize_linear`,
/// `is_allowed`, the per-identity fast path and the independent evaluator above all agree,
/// reasons included.
pub fn check_authorize_differential(data: &[u8]) -> bool {
    let Ok(case) = GCase::from_bytes(data) else {
        return false;
    };
    let text = case.policy_text();
    let policy = match Policy::compile(&text) {
        Ok(p) => p,
        Err(e) => panic!("generated policy does not compile: {e}\n{text}"),
    };
    for r in policy.rules() {
        assert!(matches!(r.effect(), Effect::Grant | Effect::Deny));
    }
    let identity = case.identity();
    let resource = case.resource();
    let expected = reference_decision(&case);
    let indexed = policy.authorize(&identity, &resource);
    let linear = policy.authorize_linear(&identity, &resource);
    assert_eq!(
        decision_summary(&indexed),
        expected,
        "indexed decision differs from the reference\n{text}\n{case:#?}"
    );
    assert_eq!(indexed, linear, "indexed differs from linear\n{text}");
    assert_eq!(policy.is_allowed(&identity, &resource), expected.0);
    let prepared = policy.for_identity(&identity);
    assert_eq!(prepared.is_allowed(&resource), expected.0);
    assert_eq!(
        prepared.authorize(&resource),
        indexed,
        "prepared differs\n{text}"
    );
    true
}

// ---------------------------------------------------------------------------------------
// builder_differential: entities built through the public builder API in any order.

/// Builder and mutation calls shared by [`Identity`] and [`Resource`].
trait Build: Default {
    fn with_value(self, name: &str, value: tenure::Value) -> Self;
    fn with_set_of(self, name: &str, items: Vec<String>) -> Self;
    fn with_tag_of(self, key: &str, value: &str) -> Self;
    fn try_with_value(self, name: &str, value: tenure::Value) -> Result<Self, tenure::InputError>;
    fn set_value(&mut self, name: &str, value: tenure::Value) -> Result<(), tenure::InputError>;
    fn remove_value(&mut self, name: &str) -> Option<tenure::Value>;
    fn set_tag_of(&mut self, key: &str, value: &str);
    fn remove_tag_of(&mut self, key: &str) -> Option<String>;
    fn value(&self, name: &str) -> Option<&tenure::Value>;
}

macro_rules! build_impl {
    ($t:ty) => {
        impl Build for $t {
            fn with_value(self, name: &str, value: tenure::Value) -> Self {
                self.with(name, value)
            }
            fn with_set_of(self, name: &str, items: Vec<String>) -> Self {
                self.with_set(name, items)
            }
            fn with_tag_of(self, key: &str, value: &str) -> Self {
                self.with_tag(key, value)
            }
            fn try_with_value(
                self,
                name: &str,
                value: tenure::Value,
            ) -> Result<Self, tenure::InputError> {
                self.try_with(name, value)
            }
            fn set_value(
                &mut self,
                name: &str,
                value: tenure::Value,
            ) -> Result<(), tenure::InputError> {
                self.set(name, value)
            }
            fn remove_value(&mut self, name: &str) -> Option<tenure::Value> {
                self.remove(name)
            }
            fn set_tag_of(&mut self, key: &str, value: &str) {
                self.set_tag(key, value)
            }
            fn remove_tag_of(&mut self, key: &str) -> Option<String> {
                self.remove_tag(key)
            }
            fn value(&self, name: &str) -> Option<&tenure::Value> {
                self.get(name)
            }
        }
    };
}
build_impl!(Identity);
build_impl!(Resource);

/// Unsorted strings with repeats, as a caller might hand them to a set constructor.
fn g_raw_set(u: &mut Unstructured<'_>) -> R<Vec<String>> {
    let n = u.int_in_range(0..=4usize)?;
    (0..n).map(|_| g_str(u)).collect()
}

/// A mirror value: what the reference sees (sets sorted and unique, as the spec says).
fn mirror_set(items: &[String]) -> GValue {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    GValue::Set(v)
}

fn to_value(v: &GValue) -> tenure::Value {
    match v {
        GValue::Str(s) => tenure::Value::from(s.as_str()),
        GValue::Int(i) => tenure::Value::Int(*i),
        GValue::Bool(b) => tenure::Value::Bool(*b),
        // Built unsorted on purpose: the `Set` type must sort it.
        GValue::Set(s) => {
            let mut items = s.clone();
            items.reverse();
            tenure::Value::Set(items.into_iter().collect())
        }
    }
}

/// Builds one entity through a random sequence of builder and mutation calls, and the
/// mirror the reference evaluates.
fn g_built<B: Build>(u: &mut Unstructured<'_>) -> R<(B, GEntity)> {
    let mut built = B::default();
    let mut mirror = GEntity::default();
    for _ in 0..u.int_in_range(0..=12usize)? {
        let name: &'static str = u.choose(NAMES)?;
        let key: &'static str = u.choose(TAGS)?;
        match u.int_in_range(0..=9u8)? {
            0 => {
                let v = g_value(u)?;
                built = built.with_value(name, to_value(&v));
                mirror.attrs.insert(name, v);
            }
            1 => {
                let items = g_raw_set(u)?;
                built = built.with_set_of(name, items.clone());
                mirror.attrs.insert(name, mirror_set(&items));
            }
            2 => {
                // `Value::Set` from an unsorted iterator, and from `Set::insert` calls.
                let items = g_raw_set(u)?;
                let mut set = tenure::Set::default();
                for item in &items {
                    set.insert(item.as_str());
                }
                let value = if u.arbitrary()? {
                    tenure::Value::Set(set)
                } else {
                    tenure::Value::Set(items.iter().cloned().collect())
                };
                built.set_value(name, value).expect("not `tags`");
                mirror.attrs.insert(name, mirror_set(&items));
            }
            3 => {
                // Take a set out, change it, put it back.
                if let Some(tenure::Value::Set(set)) = built.value(name).cloned() {
                    let mut set = set;
                    let item = g_str(u)?;
                    let mut items: Vec<String> = set.iter().map(str::to_string).collect();
                    if u.arbitrary()? {
                        set.insert(item.as_str());
                        items.push(item);
                    } else {
                        set.remove(&item);
                        items.retain(|x| *x != item);
                    }
                    built
                        .set_value(name, tenure::Value::Set(set))
                        .expect("not `tags`");
                    mirror.attrs.insert(name, mirror_set(&items));
                }
            }
            4 => {
                let removed = built.remove_value(name);
                assert_eq!(removed.is_some(), mirror.attrs.remove(name).is_some());
            }
            5 => {
                let v = g_str(u)?;
                built = built.with_tag_of(key, &v);
                mirror.tags.insert(key, v);
            }
            6 => {
                let v = g_str(u)?;
                built.set_tag_of(key, &v);
                mirror.tags.insert(key, v);
            }
            7 => {
                assert_eq!(
                    built.remove_tag_of(key).is_some(),
                    mirror.tags.remove(key).is_some()
                );
            }
            8 => {
                // `tags` is reserved: refused by the fallible builder and by `set`,
                // and `set` leaves the entity as it was.
                let v = g_value(u)?;
                assert!(B::default().try_with_value("tags", to_value(&v)).is_err());
                assert!(built.set_value("tags", to_value(&v)).is_err());
                assert!(built.value("tags").is_none());
            }
            _ => {
                let v = g_value(u)?;
                built = built
                    .try_with_value(name, to_value(&v))
                    .expect("not `tags`");
                mirror.attrs.insert(name, v);
            }
        }
    }
    Ok((built, mirror))
}

/// `builder_differential`: identities and resources built through the public builder and
/// mutation API, in any order (sets from unsorted input, changed in place), decide as
/// the reference evaluator says on their mirrors.
pub fn check_builder_differential(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let built = (|| {
        let rules = g_rules(&mut u)?;
        let (identity, gi) = g_built::<Identity>(&mut u)?;
        let (resource, gr) = g_built::<Resource>(&mut u)?;
        Ok::<_, arbitrary::Error>((rules, identity, gi, resource, gr))
    })();
    let Ok((rules, identity, gi, resource, gr)) = built else {
        return false;
    };
    let case = GCase {
        rules,
        identity: gi,
        resource: gr,
    };
    let text = case.policy_text();
    let policy = match Policy::compile(&text) {
        Ok(p) => p,
        Err(e) => panic!("generated policy does not compile: {e}\n{text}"),
    };
    let expected = reference_decision(&case);
    let decision = policy.authorize(&identity, &resource);
    assert_eq!(
        decision_summary(&decision),
        expected,
        "built entities decide differently from the reference\n{text}\n{case:#?}\n{identity:?}\n{resource:?}"
    );
    assert_eq!(policy.is_allowed(&identity, &resource), expected.0);
    assert_eq!(
        policy.for_identity(&identity).authorize(&resource),
        decision
    );
    // The JSON form of a built entity reads back to the same entity.
    assert_eq!(
        Identity::from_json_value(&identity.to_json()).as_ref(),
        Ok(&identity)
    );
    assert_eq!(
        Resource::from_json_value(&resource.to_json()).as_ref(),
        Ok(&resource)
    );
    true
}

/// Fuzz target `lint`: the lints never panic, on any policy and (after a line `---`) any
/// schema. Every finding names a rule of the policy, points inside its source, renders as
/// JSON and text; a `leaver-gap` witness is a real gap: a non-active identity the grant
/// reaches where no deny applies.
pub fn check_lint(data: &[u8]) -> bool {
    use tenure::lint::{lint, LintOptions};

    if data.len() > MAX_TEXT_BYTES {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let (policy_text, schema_text) = match text.split_once("\n---\n") {
        Some((p, s)) => (p, Some(s)),
        None => (text, None),
    };
    let Ok(policy) = Policy::compile(policy_text) else {
        return false;
    };
    let mut options = LintOptions::new().with_mapped_attributes(["department", "groups", "email"]);
    if let Some(schema_text) = schema_text {
        match tenure::schema::Schema::parse(schema_text) {
            Ok(schema) => options = options.with_schema(schema),
            Err(e) => {
                let _ = e.to_string();
                return false;
            }
        }
    }
    for finding in lint(&policy, &options) {
        assert!(
            policy.rule(finding.rule_id()).is_some(),
            "a finding names no rule: {finding}"
        );
        assert!(
            finding.span().end <= policy_text.len() + 3,
            "a finding points past its source"
        );
        let _ = finding.to_json().to_string();
        let _ = finding.to_string();
        if finding.lint().name == "leaver-gap" {
            let (identity, resource) = finding.witness().expect("a leaver gap has a witness");
            assert_ne!(
                identity.get("status"),
                Some(&tenure::Value::from("active")),
                "the witness of a leaver gap is active: {finding}"
            );
            let decision = policy.authorize(identity, resource);
            assert_ne!(
                decision.decided_by(),
                DecidedBy::Deny,
                "a deny applies to the witness: {finding}"
            );
            let single = policy
                .rule(finding.rule_id())
                .map(|r| r.index())
                .expect("the rule exists");
            let grants: Vec<usize> = decision.reasons().iter().map(|r| r.rule_index()).collect();
            assert!(
                grants.contains(&single),
                "the grant does not apply to its witness: {finding}"
            );
        }
    }
    true
}
