//! A policy against its schema: undeclared attributes, values outside enums, comparisons
//! whose operator or literal does not fit the declared type.

use crate::diagnostics::Code;
use crate::error::PolicyDiagnostic;
use crate::ir::{Atom, Test};
use crate::policy::Policy;
use crate::vocabulary::{Literal, Side};

use super::{closest, AttributeType, Declared, Schema};

/// One problem of one atom, before it is located.
pub(crate) struct AtomProblem {
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl Policy {
    /// The policy's type errors against `schema`, in source order, each located at its
    /// comparison: an attribute or tag the schema does not declare on that side
    /// (`tenure::schema::unknown_attribute`, with a "did you mean"), a value outside an
    /// enum (`tenure::schema::unknown_value`), and a comparison that does not fit the
    /// declared type — an ordering on a string, a literal of another type, a glob on an
    /// integer (`tenure::schema::type_mismatch`). A side the schema has no block for is
    /// not checked. Empty when the policy fits.
    ///
    /// ```
    /// let schema = tenure::schema::Schema::parse("schema identity { clearance: int; }")?;
    /// let policy = tenure::Policy::compile("clearance = high grants *; clerance > 2 grants *;")?;
    /// let problems = policy.check_against(&schema);
    /// assert_eq!(problems[0].code().as_str(), "tenure::schema::type_mismatch");
    /// assert!(problems[1].message().contains("did you mean `clearance`?"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_against(&self, schema: &Schema) -> Vec<PolicyDiagnostic> {
        let mut problems = Vec::new();
        for (r, rule) in self.ir_rules().iter().enumerate() {
            let source = &self.sources()[rule.source()];
            for (k, (side, atom)) in rule.sided_atoms().into_iter().enumerate() {
                for p in atom_problems(schema, side, atom) {
                    let span = self.atom_span(r, k);
                    problems.push(PolicyDiagnostic::new(p.code, source, span, p.message));
                }
            }
        }
        problems
    }
}

/// Where a rule's atom is, and what is wrong with it against `schema`.
pub(crate) fn atom_problems(schema: &Schema, side: Side, atom: &Atom) -> Vec<AtomProblem> {
    if !schema.declares(side) {
        return Vec::new();
    }
    let Some(declared) = schema.declared(side, &atom.attribute) else {
        let hint = schema
            .suggest(side, &atom.attribute)
            .map_or(String::new(), |a| format!("; did you mean `{a}`?"));
        return vec![AtomProblem {
            code: Code::UnknownAttribute,
            message: format!(
                "`{}` is not declared for the {side} in the schema{hint}",
                atom.attribute
            ),
        }];
    };
    let mut problems = Vec::new();
    let mismatch = |what: String| AtomProblem {
        code: Code::TypeMismatch,
        message: format!(
            "{what}, but `{}` is declared `{}`: the comparison is never true",
            atom.attribute,
            declared.ty()
        ),
    };
    match &atom.test {
        Test::Has => {}
        Test::Range { .. } | Test::EmptyRange => {
            if declared.ty() != AttributeType::Int {
                problems.push(mismatch("an ordering compares integers".into()));
            }
        }
        Test::Like(_) => {
            if matches!(declared.ty(), AttributeType::Int | AttributeType::Bool) {
                problems.push(mismatch("a glob matches strings".into()));
            }
        }
        Test::Eq(literal) => literal_problems(declared, atom, literal, &mut problems),
        Test::In(literals) => {
            for literal in literals {
                literal_problems(declared, atom, literal, &mut problems);
            }
        }
    }
    problems
}

fn literal_problems(
    declared: &Declared,
    atom: &Atom,
    literal: &Literal,
    problems: &mut Vec<AtomProblem>,
) {
    let fits = matches!(
        (declared.ty(), literal),
        (AttributeType::String | AttributeType::Set, Literal::Str(_))
            | (AttributeType::Int, Literal::Int(_))
            | (AttributeType::Bool, Literal::Bool(_))
    );
    if !fits {
        let kind = match literal {
            Literal::Str(_) => "a string",
            Literal::Int(_) => "an integer",
            Literal::Bool(_) => "a boolean",
        };
        problems.push(AtomProblem {
            code: Code::TypeMismatch,
            message: format!(
                "`{literal}` is {kind}, but `{}` is declared `{}`: the comparison is never true",
                atom.attribute,
                declared.ty()
            ),
        });
        return;
    }
    if let Literal::Str(value) = literal {
        if !declared.allows(value) {
            let values = declared.values().unwrap_or_default();
            let hint = closest(value, values.iter().map(|v| (v.clone(), v)))
                .map_or(String::new(), |v| format!("; did you mean `{v}`?"));
            problems.push(AtomProblem {
                code: Code::UnknownValue,
                message: format!(
                    "`{literal}` is not one of the values the schema allows for `{}` ({}){hint}",
                    atom.attribute,
                    values.join(", ")
                ),
            });
        }
    }
}
