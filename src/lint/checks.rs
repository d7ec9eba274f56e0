//! The lints themselves, over the checked rules of a compiled policy.

use std::collections::BTreeMap;

use crate::decide::eval::{expr as evaluate, Truth};
use crate::diagnostics::Code;
use crate::entity::Entity;
use crate::ir::{Expr, Rule, RuleList, Test};
use crate::policy::Policy;
use crate::schema::check::atom_problems;
use crate::schema::AttributeType;
use crate::value::Value;
use crate::vocabulary::{Attribute, Effect, Literal, LiteralKind, Side};

use super::domain::Domain;
use super::registry::*;
use super::{At, LintOptions, RawFinding};

/// Identity attributes that name one person.
const PERSONAL: &[&str] = &["id", "username", "email", "external_id", "employee_number"];

/// The most deny evaluations `leaver-gap` spends on one grant (candidates × denies);
/// beyond it the grant is not checked (a policy of thousands of denies).
const MAX_GAP_WORK: usize = 20_000_000;

struct Context<'a> {
    policy: &'a Policy,
    rules: &'a RuleList,
    options: &'a LintOptions,
    out: &'a mut Vec<RawFinding>,
}

impl Context<'_> {
    fn report(
        &mut self,
        lint: &'static Lint,
        rule: usize,
        at: At,
        message: String,
        help: Option<String>,
    ) {
        self.out.push(RawFinding {
            witness: None,
            lint,
            rule,
            at,
            message,
            help,
        });
    }

    /// The candidate domain of `exprs` on `side`, restricted to declared types.
    fn domain(
        &self,
        side: Side,
        exprs: &[&Expr],
        extra: &[(Attribute, Vec<Option<Value>>)],
    ) -> Domain {
        let domain = Domain::of(exprs, extra);
        match self.options.schema() {
            Some(schema) if schema.declares(side) => domain.restrict(|attribute, value| {
                schema.declared(side, attribute).is_none_or(|d| {
                    matches!(
                        (d.ty(), value),
                        (AttributeType::String, Value::Str(_))
                            | (AttributeType::Int, Value::Int(_))
                            | (AttributeType::Bool, Value::Bool(_))
                            | (AttributeType::Set, Value::Set(_))
                    )
                })
            }),
            _ => domain,
        }
    }
}

fn side_of(rule: &Rule, side: Side) -> &Expr {
    match side {
        Side::Identity => &rule.who,
        Side::Resource => &rule.what,
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Identity => "identity",
        Side::Resource => "resource",
    }
}

pub(crate) fn run(policy: &Policy, options: &LintOptions, out: &mut Vec<RawFinding>) {
    let rules = policy.ir_rules();
    let mut cx = Context {
        policy,
        rules,
        options,
        out,
    };
    schema_and_types(&mut cx);
    let mut satisfiable = vec![true; rules.len()];
    for (r, rule) in rules.iter().enumerate() {
        satisfiable[r] = unsatisfiable(&mut cx, r, rule);
        breadth(&mut cx, r, rule);
        globs(&mut cx, r, rule);
        personal_and_residue(&mut cx, r, rule);
    }
    for (r, rule) in rules.iter().enumerate() {
        if !satisfiable[r] {
            continue;
        }
        redundant_overridden_duplicate(&mut cx, r, rule);
        if rule.effect == Effect::Grant {
            leaver_gap(&mut cx, r, rule);
        } else {
            deny_when_absent(&mut cx, r, rule);
        }
    }
}

// --- L001–L003 -----------------------------------------------------------------------

fn schema_and_types(cx: &mut Context<'_>) {
    // Without a schema: the kinds each (side, attribute) is compared with, first seen.
    let mut first: BTreeMap<(u8, Attribute), (LiteralKind, usize, usize)> = BTreeMap::new();
    for (r, rule) in cx.rules.iter().enumerate() {
        for (k, (side, atom)) in rule.sided_atoms().into_iter().enumerate() {
            let atom_at = At::Atom(k);
            if let Some(schema) = cx.options.schema() {
                if schema.declares(side) {
                    for p in atom_problems(schema, side, atom) {
                        let lint = match p.code {
                            Code::UnknownAttribute => &UNKNOWN_ATTRIBUTE,
                            Code::UnknownValue => &UNKNOWN_VALUE,
                            _ => &TYPE_MISMATCH,
                        };
                        cx.report(lint, r, atom_at, p.message, None);
                    }
                    continue;
                }
            }
            let kinds: Vec<LiteralKind> = match &atom.test {
                Test::Has => Vec::new(),
                Test::Eq(l) => vec![l.kind()],
                Test::In(ls) => ls.iter().map(Literal::kind).collect(),
                Test::Like(_) => vec![LiteralKind::Str],
                Test::Range { .. } | Test::EmptyRange => vec![LiteralKind::Int],
            };
            if let Attribute::Tag(_) = *atom.attribute {
                if let Some(kind) = kinds.iter().find(|k| **k != LiteralKind::Str) {
                    let what = match (&atom.test, kind) {
                        (Test::Range { .. } | Test::EmptyRange, _) => "an ordering",
                        (_, LiteralKind::Int) => "an integer",
                        _ => "a boolean",
                    };
                    cx.report(
                        &TYPE_MISMATCH,
                        r,
                        atom_at,
                        format!(
                            "{what} on the tag `{}` is never true: tags are strings",
                            atom.attribute
                        ),
                        Some("quote the value to compare it as a string".into()),
                    );
                }
                continue;
            }
            let key = (side as u8, Attribute::clone(&atom.attribute));
            for kind in kinds {
                match first.get(&key) {
                    None => {
                        first.insert(key.clone(), (kind, r, k));
                    }
                    Some((seen, at_rule, at_atom)) if *seen != kind => {
                        let source = &cx.policy.sources()[cx.rules[*at_rule].source()];
                        let l = source.location(cx.policy.atom_span(*at_rule, *at_atom).start);
                        let message = format!(
                            "`{}` of the {} is compared with {} here but with {} at {}:{}:{}: one of them is never true",
                            atom.attribute,
                            side_name(side),
                            kind_name(kind),
                            kind_name(*seen),
                            source.name,
                            l.line,
                            l.column
                        );
                        cx.report(&TYPE_MISMATCH, r, atom_at, message, None);
                        break;
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

fn kind_name(kind: LiteralKind) -> &'static str {
    match kind {
        LiteralKind::Str => "a string",
        LiteralKind::Int => "an integer",
        LiteralKind::Bool => "a boolean",
    }
}

// --- L004, L008, L009, L010, L012, L013 ------------------------------------------------

/// Reports `unsatisfiable`; returns whether both sides can be true.
fn unsatisfiable(cx: &mut Context<'_>, r: usize, rule: &Rule) -> bool {
    let mut both = true;
    for side in [Side::Identity, Side::Resource] {
        let e = side_of(rule, side);
        if matches!(e, Expr::Any) {
            continue;
        }
        let domain = cx.domain(side, &[e], &[]);
        let entities = domain.entities();
        let truths: Vec<Truth> = entities.iter().map(|x| evaluate(e, x)).collect();
        if truths.contains(&Truth::True) {
            continue;
        }
        both = false;
        if !domain.complete() {
            continue;
        }
        let message = match rule.effect {
            Effect::Grant => format!(
                "the {} side can never be true, so this grant never applies",
                side_name(side)
            ),
            Effect::Deny if truths.contains(&Truth::Unknown) => format!(
                "the {} side can never be true: this deny applies only through unknown values (an absent or mistyped attribute)",
                side_name(side)
            ),
            Effect::Deny => format!(
                "the {} side can never be true nor unknown, so this deny never applies",
                side_name(side)
            ),
        };
        cx.report(&UNSATISFIABLE, r, At::Rule, message, None);
    }
    both
}

fn always_true(cx: &Context<'_>, side: Side, e: &Expr) -> bool {
    if matches!(e, Expr::Any) {
        return true;
    }
    let domain = cx.domain(side, &[e], &[]);
    domain.complete()
        && domain
            .entities()
            .iter()
            .all(|x| evaluate(e, x) == Truth::True)
}

fn breadth(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    if rule.effect != Effect::Grant {
        return;
    }
    if always_true(cx, Side::Identity, &rule.who) {
        cx.report(
            &GRANT_TO_EVERYONE,
            r,
            At::Rule,
            "this grant applies to every identity".into(),
            Some("if intended, say so with `@allow(\"grant-to-everyone\")`".into()),
        );
    }
    if always_true(cx, Side::Resource, &rule.what) {
        cx.report(
            &GRANT_TO_EVERYTHING,
            r,
            At::Rule,
            "this grant reaches every resource, including every one added later".into(),
            Some("if intended, say so with `@allow(\"grant-to-everything\")`".into()),
        );
    }
}

fn globs(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    for (k, (_, atom)) in rule.sided_atoms().into_iter().enumerate() {
        let atom_at = At::Atom(k);
        if let Test::Like(g) = &atom.test {
            let pieces = g.pieces();
            let wild = pieces
                .iter()
                .any(|p| !matches!(p, crate::vocabulary::GlobPiece::Char(_)));
            if !wild {
                let text: String = pieces
                    .iter()
                    .filter_map(|p| match p {
                        crate::vocabulary::GlobPiece::Char(c) => Some(*c),
                        _ => None,
                    })
                    .collect();
                cx.report(
                    &GLOB_WITHOUT_WILDCARD,
                    r,
                    atom_at,
                    format!("`~` without `*` or `?` matches only `{text}`"),
                    Some(format!(
                        "write `{} = {}`",
                        atom.attribute,
                        Literal::Str(text.as_str().into())
                    )),
                );
            }
        }
    }
}

/// Whether each atom of `e` counts positively (under an even number of `not`s), in
/// [`Expr::for_each_atom`] order.
fn polarities(e: &Expr, positive: bool, out: &mut Vec<bool>) {
    match e {
        Expr::Any => {}
        Expr::Atom(_) => out.push(positive),
        Expr::Not(inner) => polarities(inner, !positive, out),
        Expr::And(es) | Expr::Or(es) => es.iter().for_each(|x| polarities(x, positive, out)),
    }
}

fn personal_and_residue(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    if rule.effect != Effect::Grant {
        return;
    }
    let mut polarity = Vec::new();
    polarities(&rule.who, true, &mut polarity);
    let atoms = rule.sided_atoms();
    let (status, _) = cx.options.status();
    let status = status.to_string();
    let mut residue_seen: Vec<Attribute> = Vec::new();
    for (k, ((side, atom), positive)) in atoms.iter().zip(polarity.iter()).enumerate() {
        let atom_at = At::Atom(k);
        if *side != Side::Identity || !positive {
            continue;
        }
        if let Attribute::Name(name) = &*atom.attribute {
            if PERSONAL.contains(&&**name) && matches!(atom.test, Test::Eq(_) | Test::In(_)) {
                cx.report(
                    &PERSONAL_GRANT,
                    r,
                    atom_at,
                    format!("this grant is keyed on one person (`{}`): the access will not follow them through a move", atom.attribute),
                    Some("grant to a role, group or department instead".into()),
                );
            }
        }
        if let Some(mapped) = cx.options.mapped() {
            let unwritten = match &*atom.attribute {
                Attribute::Name(n) => &**n != "id" && !mapped.contains(&**n) && **n != *status,
                Attribute::Tag(_) => true,
            };
            if unwritten && !residue_seen.contains(&atom.attribute) {
                residue_seen.push(Attribute::clone(&atom.attribute));
                cx.report(
                    &MOVER_RESIDUE,
                    r,
                    atom_at,
                    format!("the SCIM mapping never writes `{}`: a mover keeps the access it grants", atom.attribute),
                    Some("map the attribute from the identity provider (`--mapping`), or key the grant on one it writes".into()),
                );
            }
        }
    }
}

// --- L005, L006, L007 --------------------------------------------------------------------

/// A pair where `rule` applies with both sides true, if its domains hold one.
fn witness(cx: &Context<'_>, rule: &Rule) -> Option<(Entity, Entity)> {
    let find = |side: Side, e: &Expr| {
        cx.domain(side, &[e], &[])
            .entities()
            .into_iter()
            .find(|x| evaluate(e, x) == Truth::True)
    };
    Some((
        find(Side::Identity, &rule.who)?,
        find(Side::Resource, &rule.what)?,
    ))
}

/// Whether `relation(a(x), b(x))` holds for every candidate `x` of a complete domain
/// (`None` when the domain is not complete: no claim).
fn for_all(
    cx: &Context<'_>,
    side: Side,
    a: &Expr,
    b: &Expr,
    relation: impl Fn(Truth, Truth) -> bool,
) -> Option<bool> {
    let domain = cx.domain(side, &[a, b], &[]);
    if !domain.complete() {
        return None;
    }
    Some(
        domain
            .entities()
            .iter()
            .all(|x| relation(evaluate(a, x), evaluate(b, x))),
    )
}

fn both_sides(
    cx: &Context<'_>,
    a: &Rule,
    b: &Rule,
    relation: impl Fn(Truth, Truth) -> bool + Copy,
) -> bool {
    let who = if a.who == b.who {
        Some(true)
    } else {
        for_all(cx, Side::Identity, &a.who, &b.who, relation)
    };
    if who != Some(true) {
        return false;
    }
    let what = if a.what == b.what {
        Some(true)
    } else {
        for_all(cx, Side::Resource, &a.what, &b.what, relation)
    };
    what == Some(true)
}

fn implies(a: Truth, b: Truth) -> bool {
    a != Truth::True || b == Truth::True
}

fn equivalent(a: Truth, b: Truth) -> bool {
    a == b
}

fn redundant_overridden_duplicate(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    let Some((identity, resource)) = witness(cx, rule) else {
        return;
    };
    // Every rule that covers, overrides or duplicates this one applies to its witness.
    let same = cx.policy.applying(rule.effect, &identity, &resource);
    for &o in &same {
        let o = o as usize;
        if o == r {
            continue;
        }
        let other = &cx.rules[o];
        let same_truth = both_sides(cx, rule, other, equivalent);
        if same_truth {
            // Report the later of two duplicates, once.
            if o < r {
                let message = format!(
                    "this {} decides exactly the requests `{}` decides",
                    effect_name(rule.effect),
                    other.id(o)
                );
                cx.report(
                    &DUPLICATE_RULE,
                    r,
                    At::Rule,
                    message,
                    Some(format!(
                        "remove one of `{}` and `{}`",
                        other.id(o),
                        rule.id(r)
                    )),
                );
                break;
            }
            continue;
        }
        if rule.effect == Effect::Grant && both_sides(cx, rule, other, implies) {
            let message = format!(
                "every (identity, resource) this grant grants is already granted by `{}`",
                other.id(o)
            );
            cx.report(
                &REDUNDANT_GRANT,
                r,
                At::Rule,
                message,
                Some("remove it, or narrow the other grant if this one says what was meant".into()),
            );
            break;
        }
    }
    if rule.effect != Effect::Grant {
        return;
    }
    for d in cx.policy.applying(Effect::Deny, &identity, &resource) {
        let deny = &cx.rules[d as usize];
        let covered = |a: Truth, b: Truth| a != Truth::True || b != Truth::False;
        if both_sides(cx, rule, deny, covered) {
            let message = format!(
                "`{}` applies wherever this grant does (deny overrides grant): it can never allow anything",
                deny.id(d as usize)
            );
            cx.report(&OVERRIDDEN_GRANT, r, At::Rule, message, None);
            break;
        }
    }
}

fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Grant => "grant",
        Effect::Deny => "deny",
    }
}

// --- L011 ------------------------------------------------------------------------------

fn leaver_gap(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    let (status, active) = cx.options.status();
    let status = Attribute::name(status);
    let non_active = vec![
        None,
        Some(Value::from("inactive")),
        Some(Value::from(format!("{active}-not"))),
        Some(Value::Int(0)),
        Some(Value::Bool(false)),
    ];
    let denies: Vec<&Rule> = cx
        .rules
        .iter()
        .filter(|d| d.effect == Effect::Deny)
        .collect();
    let mut who: Vec<&Expr> = vec![&rule.who];
    who.extend(denies.iter().map(|d| &d.who));
    let mut what: Vec<&Expr> = vec![&rule.what];
    what.extend(denies.iter().map(|d| &d.what));
    let identities: Vec<Entity> = cx
        .domain(Side::Identity, &who, &[(status.clone(), non_active)])
        .entities()
        .into_iter()
        .filter(|i| evaluate(&rule.who, i) == Truth::True)
        .collect();
    if identities.is_empty() {
        return;
    }
    let resources: Vec<Entity> = cx
        .domain(Side::Resource, &what, &[])
        .entities()
        .into_iter()
        .filter(|x| evaluate(&rule.what, x) == Truth::True)
        .collect();
    // Which denies can apply (side not false) to each candidate, as bit sets; a gap is
    // an identity and a resource whose sets are disjoint. Distinct sets only.
    let masks = |entities: &[Entity], side: fn(&Rule) -> &Expr| {
        let mut seen: Vec<(Vec<u64>, usize)> = Vec::new();
        for (k, e) in entities.iter().enumerate() {
            let mut mask = vec![0u64; denies.len().div_ceil(64)];
            for (d, deny) in denies.iter().enumerate() {
                if evaluate(side(deny), e) != Truth::False {
                    mask[d / 64] |= 1 << (d % 64);
                }
            }
            if !seen.iter().any(|(m, _)| *m == mask) {
                seen.push((mask, k));
            }
        }
        seen
    };
    let work = (identities.len() + resources.len()).saturating_mul(denies.len().max(1));
    if work > MAX_GAP_WORK {
        return;
    }
    let identity_masks = masks(&identities, |d| &d.who);
    let resource_masks = masks(&resources, |d| &d.what);
    for (im, i) in &identity_masks {
        for (rm, x) in &resource_masks {
            if im.iter().zip(rm).any(|(a, b)| a & b != 0) {
                continue;
            }
            let (i, x) = (&identities[*i], &resources[*x]);
            let message = format!(
                "this grant lets identities whose `{status}` is not `{active}` in: no deny applies to, for example, the identity {} on the resource {}",
                crate::entity::entity_json_text(i),
                crate::entity::entity_json_text(x),
            );
            let help = format!(
                "deny everyone not active, for example `@id(\"leavers\") {status} != {active} denies *;`"
            );
            cx.report(&LEAVER_GAP, r, At::Rule, message, Some(help));
            if let Some(last) = cx.out.last_mut() {
                last.witness = Some((
                    crate::entity::Identity::from_entity(i.clone()),
                    crate::entity::Resource::from_entity(x.clone()),
                ));
            }
            return;
        }
    }
}

// --- L014 ------------------------------------------------------------------------------

fn deny_when_absent(cx: &mut Context<'_>, r: usize, rule: &Rule) {
    let Some(schema) = cx.options.schema() else {
        return;
    };
    let (status, _) = cx.options.status();
    let mut reported: Vec<(Side, Attribute)> = Vec::new();
    for (k, (side, atom)) in rule.sided_atoms().into_iter().enumerate() {
        let atom_at = At::Atom(k);
        if !schema.declares(side) || reported.contains(&(side, Attribute::clone(&atom.attribute))) {
            continue;
        }
        let Some(declared) = schema.declared(side, &atom.attribute) else {
            continue;
        };
        if declared.required() {
            continue;
        }
        let e = side_of(rule, side);
        let domain = cx.domain(side, &[e], &[]);
        let entities = domain.entities();
        // An entity lacking the attribute on which the side is unknown, where giving it
        // some value makes the side false: the deny applies because it is absent.
        let flips = entities.iter().any(|x| {
            x.value_of(&atom.attribute).is_none()
                && evaluate(e, x) == Truth::Unknown
                && entities.iter().any(|y| {
                    y.value_of(&atom.attribute).is_some()
                        && same_except(x, y, &atom.attribute)
                        && evaluate(e, y) == Truth::False
                })
        });
        if !flips {
            continue;
        }
        reported.push((side, Attribute::clone(&atom.attribute)));
        let everyone = match side {
            Side::Identity => "every identity",
            Side::Resource => "every resource",
        };
        let is_status = matches!(&*atom.attribute, Attribute::Name(n) if **n == *status);
        let help = if is_status {
            "intended (fail closed)? `@allow(\"deny-when-absent\")` it".to_string()
        } else {
            format!(
                "intended (fail closed)? `@allow(\"deny-when-absent\")` it; otherwise guard with `has {a} and …`",
                a = atom.attribute
            )
        };
        cx.report(
            &DENY_WHEN_ABSENT,
            r,
            atom_at,
            format!(
                "`{}` is not required by the schema: this deny also applies to {everyone} lacking it",
                atom.attribute
            ),
            Some(help),
        );
    }
}

/// Whether `x` and `y` agree on every attribute but `attribute`.
fn same_except(x: &Entity, y: &Entity, attribute: &Attribute) -> bool {
    let strip = |e: &Entity| {
        let mut e = e.clone();
        e.clear(attribute);
        e
    };
    strip(x) == strip(y)
}
