//! Schemas: the attributes and tags identities and resources carry, with their types —
//! `string`, `int`, `bool`, `set` — optional enums of allowed values, and `required`.
//!
//! A schema is written in Tenure's own syntax (`grammar/schema.pest`), in its own file:
//!
//! ```text
//! schema identity { role: enum [DevOpsEngineer, CloudEngineer, DBA]; status: enum [active, inactive] required; clearance: int; groups: set; }
//! schema resource { type: enum [postgres, mysql, ssh, k8s, rdp, http] required; tag:env: enum [dev, staging, prod, cloud]; tag:classification: string; }
//! ```
//!
//! `enum [..]` is a string with a closed set of values; `set enum [..]` a set whose
//! elements come from the list. Tags are strings (`string` or `enum`). A side may be left
//! out; a schema says nothing about an attribute it does not declare (data may carry
//! more), but a policy that names one breaks it.
//!
//! Two uses: [`Policy::check_against`](crate::Policy::check_against) finds the policy's
//! type errors (an undeclared attribute, a value outside an enum, an ordering on a string,
//! a literal of the wrong type), and [`Schema::validate_identity`] /
//! [`Schema::validate_resource`] / [`Schema::validate_json_lines`] check data.
//!
//! ```
//! use tenure::schema::Schema;
//! use tenure::{Identity, Policy, Side};
//!
//! let schema = Schema::parse(r#"
//!     schema identity { role: enum [DBA, SRE]; status: enum [active, inactive] required; clearance: int; }
//!     schema resource { type: string required; tag:env: enum [dev, prod]; }
//! "#)?;
//! let policy = Policy::compile("role = DBS grants tag:env = prod; clearance >= high grants *;");
//! assert!(policy.is_err()); // `>= high`: orderings take integers, a syntax error
//! let policy = Policy::compile("role = DBS grants tag:env = prod and type < 3;")?;
//! let problems = policy.check_against(&schema);
//! let codes: Vec<&str> = problems.iter().map(|d| d.code().as_str()).collect();
//! assert_eq!(codes, ["tenure::schema::unknown_value", "tenure::schema::type_mismatch"]);
//! assert!(problems[0].to_string().contains("did you mean `DBA`?"));
//!
//! let pam = Identity::new().with("role", "DBA").with("clearance", "3");
//! let found = schema.validate_identity(&pam);
//! assert_eq!(found.len(), 2); // `status` missing, `clearance` not an int
//! assert_eq!(found[0].path(), "identity.clearance");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod check;
mod data;

use std::collections::BTreeMap;
use std::fmt;

use crate::diagnostics::Code;
use crate::error::{Error, PolicyDiagnostic};
use crate::source::{Location, Source};
use crate::syntax::schema::{self as written, WrittenType};
use crate::vocabulary::{Attribute, Literal, Side};

pub use data::DataProblem;

/// The type a schema declares for an attribute or tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// A string (`string`, or `enum [..]` with its allowed values).
    String,
    /// A 64-bit integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// A set of strings (`set`, or `set enum [..]` with its allowed elements).
    Set,
}

impl AttributeType {
    /// The type's name as written in a schema (`string`, `int`, `bool`, `set`).
    pub fn name(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Int => "int",
            AttributeType::Bool => "bool",
            AttributeType::Set => "set",
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One declared attribute or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    ty: AttributeType,
    values: Option<Vec<String>>,
    required: bool,
    location: Location,
}

impl Declared {
    /// Its type.
    pub fn ty(&self) -> AttributeType {
        self.ty
    }

    /// The allowed values (of a string) or elements (of a set), when an enum is declared.
    pub fn values(&self) -> Option<&[String]> {
        self.values.as_deref()
    }

    /// Whether every entity of the side must carry it.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Where it is declared in the schema source.
    pub fn location(&self) -> Location {
        self.location
    }

    /// Whether `value` is allowed by the enum (always, without one).
    pub(crate) fn allows(&self, value: &str) -> bool {
        self.values
            .as_ref()
            .is_none_or(|values| values.iter().any(|v| v == value))
    }
}

/// A parsed schema; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Schema {
    identity: BTreeMap<Attribute, Declared>,
    resource: BTreeMap<Attribute, Declared>,
    declares_identity: bool,
    declares_resource: bool,
    name: String,
}

impl Schema {
    /// Parses a schema text (named `<schema>` in errors).
    ///
    /// # Errors
    /// Syntax errors; a side or an attribute declared twice; a tag declared other than
    /// `string` or `enum`; an enum value that is not a string. Each with its location.
    pub fn parse(text: &str) -> Result<Schema, Error> {
        Schema::parse_named("<schema>", text)
    }

    /// Parses a schema text named `name` (a file name, for errors).
    ///
    /// # Errors
    /// As [`Schema::parse`].
    pub fn parse_named(name: &str, text: &str) -> Result<Schema, Error> {
        let source = Source::new(name, text);
        let blocks = written::parse_schema(&source).map_err(Error::from_diagnostics)?;
        let mut errors = Vec::new();
        let mut schema = Schema {
            identity: BTreeMap::new(),
            resource: BTreeMap::new(),
            declares_identity: false,
            declares_resource: false,
            name: name.to_string(),
        };
        for block in blocks {
            let declared_before = match block.side {
                written::Side::Identity => std::mem::replace(&mut schema.declares_identity, true),
                written::Side::Resource => std::mem::replace(&mut schema.declares_resource, true),
            };
            if declared_before {
                errors.push(PolicyDiagnostic::new(
                    Code::SchemaDuplicate,
                    &source,
                    block.span,
                    "this side is declared twice",
                ));
                continue;
            }
            let side = match block.side {
                written::Side::Identity => &mut schema.identity,
                written::Side::Resource => &mut schema.resource,
            };
            for d in block.declarations {
                let location = source.location(d.attribute_span.start);
                let (ty, values) = match d.ty {
                    WrittenType::String => (AttributeType::String, None),
                    WrittenType::Int => (AttributeType::Int, None),
                    WrittenType::Bool => (AttributeType::Bool, None),
                    WrittenType::Enum(values) => (AttributeType::String, Some(values)),
                    WrittenType::Set(values) => (AttributeType::Set, values),
                };
                let values = values.map(|values| {
                    let mut strings = Vec::with_capacity(values.len());
                    for v in values {
                        match v {
                            Literal::Str(s) => strings.push(s.to_string()),
                            other => errors.push(PolicyDiagnostic::new(
                                Code::SchemaEnumValue,
                                &source,
                                d.type_span,
                                format!("enum value `{other}` is not a string"),
                            )),
                        }
                    }
                    strings
                });
                if matches!(d.attribute, Attribute::Tag(_)) && ty != AttributeType::String {
                    errors.push(PolicyDiagnostic::new(
                        Code::SchemaTagType,
                        &source,
                        d.type_span,
                        format!(
                            "tag `{}` is declared `{ty}`, but tags are strings",
                            d.attribute
                        ),
                    ));
                }
                let declared = Declared {
                    ty,
                    values,
                    required: d.required,
                    location,
                };
                if side.insert(d.attribute.clone(), declared).is_some() {
                    errors.push(PolicyDiagnostic::new(
                        Code::SchemaDuplicate,
                        &source,
                        d.attribute_span,
                        format!("`{}` is declared twice", d.attribute),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(schema)
        } else {
            Err(Error::from_diagnostics(errors))
        }
    }

    /// The schema's name (its file name, or `<schema>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the schema has a block for `side` (a side without one is not checked).
    pub fn declares(&self, side: Side) -> bool {
        match side {
            Side::Identity => self.declares_identity,
            Side::Resource => self.declares_resource,
        }
    }

    /// The declaration of `attribute` on `side`, if any.
    pub fn declared(&self, side: Side, attribute: &Attribute) -> Option<&Declared> {
        self.side(side).get(attribute)
    }

    /// Every declaration of `side`, in attribute order (names before tags).
    pub fn declarations(&self, side: Side) -> impl Iterator<Item = (&Attribute, &Declared)> {
        self.side(side).iter()
    }

    fn side(&self, side: Side) -> &BTreeMap<Attribute, Declared> {
        match side {
            Side::Identity => &self.identity,
            Side::Resource => &self.resource,
        }
    }

    /// The declared attribute of `side` closest to `attribute` by edit distance, for a
    /// "did you mean" (only plausible ones: distance at most a third of the length, and
    /// at most 3).
    pub(crate) fn suggest(&self, side: Side, attribute: &Attribute) -> Option<&Attribute> {
        closest(
            attribute.to_string().as_str(),
            self.side(side).keys().map(|a| (a.to_string(), a)),
        )
    }
}

/// The candidate closest to `word` by edit distance, when plausibly a typo of it.
pub(crate) fn closest<'a, T>(
    word: &str,
    candidates: impl Iterator<Item = (String, &'a T)>,
) -> Option<&'a T> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .map(|(text, item)| (strsim::levenshtein(word, &text), text, item))
        .filter(|(d, text, _)| *d <= limit && text != word)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, _, item)| item)
}
