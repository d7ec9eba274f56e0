//! Data against a schema: identities and resources (one, or JSON Lines of them).

use std::fmt;

use crate::diagnostics::Code;
use crate::entity::{Entity, Identity, Resource};
use crate::error::InputError;
use crate::value::Value;
use crate::vocabulary::{Attribute, Side};

use super::{AttributeType, Schema};

/// One way an identity or resource breaks its schema: a `required` attribute missing
/// (`tenure::schema::missing_required`), a value of another type
/// (`tenure::schema::wrong_type`), a value outside the enum (`tenure::schema::not_in_enum`).
///
/// Displays as `line 3: identity.role: …` (the line when read from JSON Lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    code: Code,
    line: Option<usize>,
    path: String,
    message: String,
}

impl DataProblem {
    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The 1-based line of the JSON Lines input, when read from one.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The JSON path of the problem: `identity.role`, `resource.tags.env`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DataProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(
            f,
            "{}: {} [{}]",
            self.path,
            self.message,
            self.code.as_str()
        )
    }
}

impl Schema {
    /// How `identity` breaks the schema's identity block (empty when it fits, or when the
    /// schema has no identity block). Attributes the schema does not declare are allowed.
    pub fn validate_identity(&self, identity: &Identity) -> Vec<DataProblem> {
        self.validate(Side::Identity, identity.entity())
    }

    /// How `resource` breaks the schema's resource block.
    pub fn validate_resource(&self, resource: &Resource) -> Vec<DataProblem> {
        self.validate(Side::Resource, resource.entity())
    }

    /// Validates JSON Lines of identities or resources (`tenure directory export`,
    /// inventories), blank lines skipped; each problem carries its line.
    ///
    /// ```
    /// use tenure::schema::Schema;
    /// use tenure::Side;
    ///
    /// let schema = Schema::parse("schema resource { type: enum [postgres, ssh] required; }")?;
    /// let problems = schema.validate_json_lines(Side::Resource, "{\"type\": \"ssh\"}\n{\"type\": \"mysql\"}\n{}")?;
    /// let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    /// assert_eq!(lines[0], "line 2: resource.type: `mysql` is not one of postgres, ssh [tenure::schema::not_in_enum]");
    /// assert_eq!(lines[1], "line 3: resource.type: required, but missing [tenure::schema::missing_required]");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A line that is not an identity or resource in the core JSON shape (malformed JSON,
    /// a duplicate key, a float), located as `line N: …`.
    pub fn validate_json_lines(
        &self,
        side: Side,
        text: &str,
    ) -> Result<Vec<DataProblem>, InputError> {
        let mut problems = Vec::new();
        for (n, line) in crate::json::lines(text) {
            let at = format!("line {n}");
            let found = match side {
                Side::Identity => Identity::from_json(line).map(|i| self.validate_identity(&i)),
                Side::Resource => Resource::from_json(line).map(|r| self.validate_resource(&r)),
            }
            .map_err(|e| e.located(&at))?;
            problems.extend(found.into_iter().map(|mut p| {
                p.line = Some(n);
                p
            }));
        }
        Ok(problems)
    }

    fn validate(&self, side: Side, entity: &Entity) -> Vec<DataProblem> {
        let what = match side {
            Side::Identity => "identity",
            Side::Resource => "resource",
        };
        let mut problems = Vec::new();
        for (attribute, declared) in self.declarations(side) {
            let (path, value) = match attribute {
                Attribute::Name(n) => (format!("{what}.{n}"), entity.get(n).cloned()),
                Attribute::Tag(k) => (
                    format!("{what}.tags.{k}"),
                    entity.tag(k).map(|v| Value::Str(v.to_string())),
                ),
            };
            let problem = |code, message: String| DataProblem {
                code,
                line: None,
                path: path.clone(),
                message,
            };
            let Some(value) = value else {
                if declared.required() {
                    problems.push(problem(
                        Code::MissingRequired,
                        "required, but missing".into(),
                    ));
                }
                continue;
            };
            let fits = matches!(
                (declared.ty(), &value),
                (AttributeType::String, Value::Str(_))
                    | (AttributeType::Int, Value::Int(_))
                    | (AttributeType::Bool, Value::Bool(_))
                    | (AttributeType::Set, Value::Set(_))
            );
            if !fits {
                problems.push(problem(
                    Code::WrongType,
                    format!(
                        "{} {}, but the schema declares `{}`",
                        article(value.type_name()),
                        value.type_name(),
                        declared.ty()
                    ),
                ));
                continue;
            }
            let allowed = declared.values().map(|v| v.join(", ")).unwrap_or_default();
            match &value {
                Value::Str(s) if !declared.allows(s) => problems.push(problem(
                    Code::NotInEnum,
                    format!("`{s}` is not one of {allowed}"),
                )),
                Value::Set(set) => {
                    for item in set.iter().filter(|item| !declared.allows(item)) {
                        problems.push(problem(
                            Code::NotInEnum,
                            format!("element `{item}` is not one of {allowed}"),
                        ));
                    }
                }
                _ => {}
            }
        }
        problems
    }
}

/// `a` or `an` before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
