//! Finite candidate domains: for the attributes a set of conditions tests, a few values
//! each (absent, every literal and range bound with its neighbours, glob instances, one
//! value of each other type, sets of candidate strings), and the entities they combine
//! into. When no glob is involved and the product is enumerated whole, the candidates
//! hold a representative of every class of values the conditions can tell apart, so
//! "true for no candidate" means "never true" — `complete` says when that holds.

use std::collections::BTreeMap;

use crate::entity::Entity;
use crate::ir::{Expr, Test};
use crate::value::Value;
use crate::vocabulary::{Attribute, GlobPiece, Literal};

/// The largest product of candidates enumerated; beyond it a deterministic sample is
/// taken and the domain is not complete.
pub(crate) const MAX_ENTITIES: usize = 4096;
/// The most candidate strings whose every subset is tried as a set value.
const MAX_SET_STRINGS: usize = 7;
/// The stem of the string that stands for "any other value" of an attribute (made
/// unique against the attribute's literals).
const FRESH: &str = "other";

/// What the conditions say about one attribute.
#[derive(Default)]
struct Seen {
    strings: Vec<String>,
    ints: Vec<i64>,
    globs: Vec<Vec<GlobPiece>>,
}

/// Candidate values per attribute.
pub(crate) struct Domain {
    attributes: Vec<(Attribute, Vec<Option<Value>>)>,
    /// Whether the candidates represent every class of values (no glob, few set strings).
    exact: bool,
}

impl Domain {
    /// The domain of the attributes `exprs` test (plus `extra` attributes, whose
    /// candidates are given).
    pub(crate) fn of(exprs: &[&Expr], extra: &[(Attribute, Vec<Option<Value>>)]) -> Domain {
        let mut seen: BTreeMap<Attribute, Seen> = BTreeMap::new();
        for e in exprs {
            e.for_each_atom(&mut |atom| {
                let s = seen.entry(Attribute::clone(&atom.attribute)).or_default();
                let mut literal = |l: &Literal| match l {
                    Literal::Str(v) => s.strings.push(v.to_string()),
                    Literal::Int(i) => {
                        s.ints
                            .extend([i.saturating_sub(1), *i, i.saturating_add(1)])
                    }
                    Literal::Bool(_) => {}
                };
                match &atom.test {
                    Test::Has | Test::EmptyRange => {}
                    Test::Eq(l) => literal(l),
                    Test::In(ls) => ls.iter().for_each(literal),
                    Test::Like(g) => s.globs.push(g.pieces()),
                    Test::Range { lo, hi } => {
                        s.ints
                            .extend([lo.saturating_sub(1), *lo, *hi, hi.saturating_add(1)])
                    }
                }
            });
        }
        let mut complete = true;
        let mut attributes: Vec<(Attribute, Vec<Option<Value>>)> = Vec::new();
        for (attribute, s) in seen {
            if let Some((_, given)) = extra.iter().find(|(a, _)| *a == attribute) {
                attributes.push((attribute, given.clone()));
                continue;
            }
            let (values, exact) = candidates(&attribute, s);
            complete &= exact;
            attributes.push((attribute, values));
        }
        for (attribute, given) in extra {
            if !attributes.iter().any(|(a, _)| a == attribute) {
                attributes.push((attribute.clone(), given.clone()));
            }
        }
        Domain {
            attributes,
            exact: complete,
        }
    }

    /// Keeps only the candidate values `keep` accepts (absent is always kept): a schema's
    /// declared types. Completeness is kept: the values dropped are ones the schema rules
    /// out.
    pub(crate) fn restrict(mut self, keep: impl Fn(&Attribute, &Value) -> bool) -> Domain {
        for (attribute, values) in &mut self.attributes {
            values.retain(|v| v.as_ref().is_none_or(|v| keep(attribute, v)));
        }
        self
    }

    /// Whether every class of values is represented and the product is enumerated whole.
    pub(crate) fn complete(&self) -> bool {
        self.exact && self.size().is_some_and(|n| n <= MAX_ENTITIES)
    }

    fn size(&self) -> Option<usize> {
        self.attributes
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len().max(1)))
    }

    /// The entities: every combination, or a deterministic sample of
    /// [`MAX_ENTITIES`] when there are more.
    pub(crate) fn entities(&self) -> Vec<Entity> {
        let total = self.size();
        let count = total.map_or(MAX_ENTITIES, |n| n.min(MAX_ENTITIES));
        let sampled = total.is_none_or(|n| n > MAX_ENTITIES);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut out = Vec::with_capacity(count);
        for k in 0..count {
            let mut entity = Entity::default();
            let mut index = k;
            for (attribute, values) in &self.attributes {
                let n = values.len().max(1);
                let pick = if sampled {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // The first sample is all-first-candidates (every attribute absent).
                    if k == 0 {
                        0
                    } else {
                        (state >> 33) as usize % n
                    }
                } else {
                    let pick = index % n;
                    index /= n;
                    pick
                };
                if let Some(Some(value)) = values.get(pick) {
                    entity.put(attribute, value.clone());
                }
            }
            out.push(entity);
        }
        out
    }
}

/// The candidates of one attribute, and whether they are exact (no glob involved).
fn candidates(attribute: &Attribute, mut s: Seen) -> (Vec<Option<Value>>, bool) {
    let exact = s.globs.is_empty();
    let mut strings: Vec<String> = std::mem::take(&mut s.strings);
    // "Any other value": a string equal to no literal of the attribute.
    let mut fresh = FRESH.to_string();
    while strings.contains(&fresh) {
        fresh.push('_');
    }
    let glob_strings: Vec<Vec<String>> = s.globs.iter().map(|g| instances(g, &fresh)).collect();
    for (i, a) in glob_strings.iter().enumerate() {
        strings.extend(a.iter().cloned());
        // A string two globs both match, often: one's instance, then the other's.
        for b in glob_strings.iter().skip(i + 1).take(8) {
            strings.push(format!("{}{}", a[0], b[0]));
            strings.push(format!("{}{}", b[0], a[0]));
        }
    }
    strings.push(fresh);
    strings.sort();
    strings.dedup();
    let mut values: Vec<Option<Value>> = vec![None];
    values.extend(strings.iter().cloned().map(|v| Some(Value::Str(v))));
    if matches!(attribute, Attribute::Tag(_)) {
        return (values, exact);
    }
    s.ints.extend([0, i64::MIN, i64::MAX]);
    s.ints.sort_unstable();
    s.ints.dedup();
    values.extend(s.ints.iter().map(|i| Some(Value::Int(*i))));
    values.extend([Some(Value::Bool(true)), Some(Value::Bool(false))]);
    let mut exact = exact;
    if strings.len() <= MAX_SET_STRINGS {
        for mask in 0u32..(1 << strings.len()) {
            let items: Vec<&str> = strings
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, v)| v.as_str())
                .collect();
            values.push(Some(Value::set(items)));
        }
    } else {
        exact = false;
        values.push(Some(Value::set(Vec::<String>::new())));
        values.extend(strings.iter().map(|v| Some(Value::set([v.as_str()]))));
        values.push(Some(Value::set(strings.iter().map(String::as_str))));
    }
    (values, exact)
}

/// A few strings a glob matches: `*` as nothing, as one character, as a fresh run.
fn instances(glob: &[GlobPiece], fresh: &str) -> Vec<String> {
    let render = |run: &str, one: char| {
        glob.iter()
            .map(|p| match p {
                GlobPiece::Char(c) => c.to_string(),
                GlobPiece::AnyRun => run.to_string(),
                GlobPiece::AnyOne => one.to_string(),
            })
            .collect::<String>()
    };
    vec![render("", 'x'), render("x", '-'), render(fresh, 'x')]
}
