//! Why a deny applied by unknown: the attributes whose comparisons were unknown.

use rustc_hash::FxHashSet;

use super::decision::{UnknownAttribute, UnknownCause};
use super::eval::{self, Truth};
use crate::entity::Entity;
use crate::ir::Rule;
use crate::vocabulary::Side;

/// The attributes whose comparisons are unknown on the sides of `rule` that are
/// unknown, in rule order (identity side first), each once. Linear in the rule's size.
pub(crate) fn unknowns_of(
    rule: &Rule,
    identity: &Entity,
    resource: &Entity,
) -> Vec<UnknownAttribute> {
    let mut out: Vec<UnknownAttribute> = Vec::new();
    let mut seen = FxHashSet::default();
    for (side, expr, entity) in [
        (Side::Identity, &rule.who, identity),
        (Side::Resource, &rule.what, resource),
    ] {
        if eval::expr(expr, entity) != Truth::Unknown {
            continue;
        }
        expr.for_each_atom(&mut |atom| {
            if eval::atom(atom, entity) != Truth::Unknown {
                return;
            }
            let cause = if entity.value_of(&atom.attribute).is_none() {
                UnknownCause::Missing
            } else {
                UnknownCause::TypeMismatch
            };
            if seen.insert((side, &atom.attribute, cause)) {
                out.push(UnknownAttribute {
                    side,
                    attribute: atom.attribute.clone(),
                    cause,
                });
            }
        });
    }
    out
}
