//! AST → checked [`ir::Rule`]s: rule ids, annotations, normalised
//! conditions. All problems are collected, not only the first.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use crate::diagnostics::Code;
use crate::error::PolicyDiagnostic;
use crate::ir::{self, Expr, Glob, Test};
use crate::source::{Source, Span};
use crate::syntax::ast::{self, Condition, Predicate};
use crate::syntax::Parsed;
use crate::vocabulary::{Attribute, Literal};

/// Checks parsed sources, in load order, into IR rules.
///
/// Rules without `@id` are named `rule-N`, N counting every rule of every source from 1
/// — rules that failed to parse included, so one broken rule renames no other.
pub(crate) fn check(
    sources: &[Source],
    parsed: &[Parsed],
) -> Result<Vec<ir::Rule>, Vec<PolicyDiagnostic>> {
    let mut checker = Checker::default();
    let mut before = 0usize;
    for (source_index, parsed) in parsed.iter().enumerate() {
        checker.source(sources, source_index, parsed, before);
        before += parsed.slots;
    }
    checker.finish()
}

/// Checks one parsed source on its own, as [`check`] would with `before` rules ahead of
/// it (for `rule-N` names). Duplicate ids are found within the source only; the caller
/// compares its ids with the other sources'.
pub(crate) fn check_source(
    sources: &[Source],
    source_index: usize,
    parsed: &Parsed,
    before: usize,
) -> Result<Vec<ir::Rule>, Vec<PolicyDiagnostic>> {
    let mut checker = Checker::default();
    checker.source(sources, source_index, parsed, before);
    checker.finish()
}

/// Checks one piece of a source (the compile's fast path, `syntax::parse_pieces`): only
/// written ids are compared (within the piece: the caller finds duplicates across
/// pieces, and written ids that take a positional `rule-N`). Strings are shared through
/// `interner`, which the worker keeps from piece to piece.
pub(crate) fn check_piece(
    sources: &[Source],
    source_index: usize,
    parsed: &Parsed,
    interner: &mut Interner,
) -> Result<Vec<ir::Rule>, Vec<PolicyDiagnostic>> {
    let mut checker = Checker {
        defer_positional_ids: true,
        interner: std::mem::take(interner),
        ..Checker::default()
    };
    checker.source(sources, source_index, parsed, 0);
    *interner = std::mem::take(&mut checker.interner);
    checker.finish()
}

/// Where each atom of a parsed rule stands, in the order its checked form lists them
/// ([`ir::Rule::sided_atoms`]): checked rules do not keep them, and diagnostics about an
/// atom parse the rule again (`Policy::atom_span`).
pub(crate) fn atom_spans(rule: &ast::Rule) -> Vec<Span> {
    // The lowering itself, so that the order is the checked rule's by construction.
    let mut spans = Vec::new();
    let mut interner = Interner::default();
    lower(&rule.who, &mut interner, &mut spans);
    lower(&rule.what, &mut interner, &mut spans);
    spans
}

/// The state of one check: rules so far, ids seen, problems found.
#[derive(Default)]
struct Checker {
    errors: Vec<PolicyDiagnostic>,
    rules: Vec<ir::Rule>,
    seen: FxHashMap<Arc<str>, (usize, Span)>,
    interner: Interner,
    /// Do not compare positional `rule-N` ids (see [`check_piece`]).
    defer_positional_ids: bool,
}

impl Checker {
    fn source(&mut self, sources: &[Source], source_index: usize, parsed: &Parsed, base: usize) {
        let source = &sources[source_index];
        for (ordinal, rule) in &parsed.rules {
            let position = base + ordinal + 1;
            let mut id: Option<(String, Span)> = None;
            let mut annotations = Vec::new();
            for a in &rule.annotations {
                if a.name != "id" {
                    annotations.push((a.name.clone(), a.value.clone()));
                    continue;
                }
                if id.is_some() {
                    self.errors.push(PolicyDiagnostic::new(
                        Code::RepeatedId,
                        source,
                        a.span,
                        "rule has more than one `@id`",
                    ));
                } else if a.value.is_empty() {
                    self.errors.push(PolicyDiagnostic::new(
                        Code::EmptyId,
                        source,
                        a.span,
                        "`@id` is empty",
                    ));
                } else {
                    id = Some((a.value.clone(), a.span));
                }
            }
            // Positional ids are compared too (a written `@id("rule-3")` takes the third
            // rule's name), except in a piece, which does not know its positions:
            // `Policy::assemble` finds those there.
            let id: Option<(Arc<str>, Span)> = id.map(|(id, span)| (id.into(), span));
            let compared = match &id {
                Some((written, span)) => Some((written.clone(), *span)),
                None if self.defer_positional_ids => None,
                None => Some((
                    ir::RuleId::positional(position - 1).as_str().into(),
                    rule.span,
                )),
            };
            if let Some((id, id_span)) = compared {
                if let Some((first_source, first_span)) = self.seen.get(&id) {
                    let first = &sources[*first_source];
                    let loc = first.location(first_span.start);
                    self.errors.push(
                        PolicyDiagnostic::new(
                            Code::DuplicateId,
                            source,
                            id_span,
                            format!("duplicate rule id `{id}`"),
                        )
                        .with_help(format!(
                            "`{id}` is first used at {}:{}:{}; rule ids must be unique across all sources",
                            first.name, loc.line, loc.column
                        )),
                    );
                } else {
                    self.seen.insert(id, (source_index, id_span));
                }
            }
            // Atom spans are found again when a diagnostic needs one (`atom_spans`).
            let mut atom_spans = Vec::new();
            let who = lower(&rule.who, &mut self.interner, &mut atom_spans);
            let what = lower(&rule.what, &mut self.interner, &mut atom_spans);
            self.rules.push(ir::Rule {
                written_id: id.map(|(id, _)| id),
                effect: rule.effect,
                who,
                what,
                annotations: annotations.into(),
                // INVARIANT: source counts and offsets fit in u32 (the size limits).
                source: source_index as u32,
                span: rule.span.into(),
            });
        }
    }

    fn finish(self) -> Result<Vec<ir::Rule>, Vec<PolicyDiagnostic>> {
        if self.errors.is_empty() {
            Ok(self.rules)
        } else {
            Err(self.errors)
        }
    }
}

/// Shares one allocation among equal attribute names and string values of a policy,
/// so that 100 000 rules naming `role` hold one `"role"`.
#[derive(Default)]
pub(crate) struct Interner {
    strings: FxHashSet<Arc<str>>,
    attributes: FxHashSet<Arc<Attribute>>,
}

impl Interner {
    fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        match self.strings.get(s) {
            Some(shared) => shared.clone(),
            None => {
                self.strings.insert(s.clone());
                s.clone()
            }
        }
    }

    fn attribute(&mut self, a: &Attribute) -> Arc<Attribute> {
        if let Some(shared) = self.attributes.get(a) {
            return shared.clone();
        }
        let shared = Arc::new(match a {
            Attribute::Name(n) => Attribute::Name(self.intern(n)),
            Attribute::Tag(k) => Attribute::Tag(self.intern(k)),
        });
        self.attributes.insert(shared.clone());
        shared
    }

    fn literal(&mut self, l: &Literal) -> Literal {
        match l {
            Literal::Str(s) => Literal::Str(self.intern(s)),
            other => other.clone(),
        }
    }

    fn literals(&mut self, ls: &[Literal]) -> Box<[Literal]> {
        ls.iter().map(|l| self.literal(l)).collect()
    }
}

/// Lowers an AST condition to its IR form, recording each atom's span in order.
fn lower(condition: &Condition, interner: &mut Interner, spans: &mut Vec<Span>) -> Expr {
    match condition {
        Condition::Any(_) => Expr::Any,
        Condition::Or(cs, _) => Expr::Or(cs.iter().map(|c| lower(c, interner, spans)).collect()),
        Condition::And(cs, _) => Expr::And(cs.iter().map(|c| lower(c, interner, spans)).collect()),
        Condition::Not(c, _) => Expr::Not(Box::new(lower(c, interner, spans))),
        Condition::Group(c, _) => lower(c, interner, spans),
        Condition::Atom(a) => {
            spans.push(a.span);
            lower_atom(a, interner)
        }
    }
}

fn lower_atom(atom: &ast::Atom, interner: &mut Interner) -> Expr {
    let attribute = interner.attribute(&atom.attribute);
    let make = |test| {
        Expr::Atom(ir::Atom {
            attribute: attribute.clone(),
            test,
        })
    };
    match &atom.predicate {
        Predicate::Has => make(Test::Has),
        Predicate::Eq(v) => make(Test::Eq(interner.literal(v))),
        Predicate::Ne(v) => Expr::Not(Box::new(make(Test::Eq(interner.literal(v))))),
        Predicate::In(vs) => make(Test::In(interner.literals(vs))),
        Predicate::NotIn(vs) => Expr::Not(Box::new(make(Test::In(interner.literals(vs))))),
        Predicate::Like(g) => make(Test::Like(Box::new(Glob::new(g)))),
        Predicate::Lt(n) => make(match n.checked_sub(1) {
            Some(hi) => Test::Range { lo: i64::MIN, hi },
            None => Test::EmptyRange,
        }),
        Predicate::Le(n) => make(Test::Range {
            lo: i64::MIN,
            hi: *n,
        }),
        Predicate::Gt(n) => make(match n.checked_add(1) {
            Some(lo) => Test::Range { lo, hi: i64::MAX },
            None => Test::EmptyRange,
        }),
        Predicate::Ge(n) => make(Test::Range {
            lo: *n,
            hi: i64::MAX,
        }),
    }
}
