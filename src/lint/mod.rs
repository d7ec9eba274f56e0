//! Lints: mistakes a policy compiles with — schema violations, rules that can never
//! apply or change nothing, grants that reach too far, and the joiner–mover–leaver
//! mistakes that leave people with access they should have lost.
//!
//! [`lint`] runs every lint of the [registry](LINTS) on a compiled [`Policy`] and
//! returns [`Finding`]s at their configured [`Level`]. A rule annotated
//! `@allow("lint-name")` (or the code, `@allow("L008")`) is exempt from that lint.
//!
//! ```
//! use tenure::lint::{lint, Level, LintOptions};
//! use tenure::Policy;
//!
//! let policy = Policy::compile(r#"
//!     @id("dba") role = DBA grants type = postgres;
//!     @id("bastion") @allow("grant-to-everyone") * grants name ~ "bastion-*";
//! "#)?;
//! let findings = lint(&policy, &LintOptions::new());
//! let found: Vec<(&str, &str, Level)> =
//!     findings.iter().map(|f| (f.lint().name, f.rule_id(), f.level())).collect();
//! // Nothing denies leavers: a DBA who left still reaches the databases.
//! assert_eq!(found, [("leaver-gap", "dba", Level::Deny), ("leaver-gap", "bastion", Level::Deny)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What each lint finds, and what it cannot see, is in its
//! [`explanation`](Lint::explanation) (`tenure lint --explain NAME`). The lints that
//! reason about conditions (`unsatisfiable`, `redundant-grant`, `overridden-grant`,
//! `duplicate-rule`, `leaver-gap`) evaluate them over finite candidate domains: a finding
//! is reported only when it is certain — a claim that something never happens needs a
//! domain that represents every class of values (no globs, few set values), and a claim
//! that something can happen comes with a witness.

mod checks;
mod domain;
mod registry;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};

use crate::diagnostics::Code;
use crate::error::InputError;
use crate::policy::Policy;
use crate::schema::Schema;
use crate::source::{Location, Source, Span};

pub use registry::{
    Level, Lint, DENY_WHEN_ABSENT, DUPLICATE_RULE, GLOB_WITHOUT_WILDCARD, GRANT_TO_EVERYONE,
    GRANT_TO_EVERYTHING, LEAVER_GAP, LINTS, MOVER_RESIDUE, OVERRIDDEN_GRANT, PERSONAL_GRANT,
    REDUNDANT_GRANT, TYPE_MISMATCH, UNKNOWN_ATTRIBUTE, UNKNOWN_VALUE, UNSATISFIABLE,
};

/// How [`lint`] runs: levels, the schema, the attributes the SCIM mapping writes, the
/// lifecycle status attribute.
#[derive(Debug, Clone)]
pub struct LintOptions {
    levels: BTreeMap<&'static str, Level>,
    schema: Option<Schema>,
    mapped: Option<BTreeSet<String>>,
    status_attribute: String,
    active_value: String,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions::new()
    }
}

/// A lint name or code that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("unknown lint `{0}`: lints are named by name (`leaver-gap`) or code (`L011`), L001 to L014; `tenure lint --explain NAME` explains one")]
#[diagnostic(code(tenure::lint::unknown_lint))]
pub struct UnknownLint(pub String);

impl LintOptions {
    /// Every lint at its default level; no schema, no mapping; `status` / `active`.
    pub fn new() -> LintOptions {
        LintOptions {
            levels: BTreeMap::new(),
            schema: None,
            mapped: None,
            status_attribute: crate::lifecycle::STATUS_ATTRIBUTE.to_string(),
            active_value: crate::lifecycle::ACTIVE.to_string(),
        }
    }

    /// Sets the level of one lint, by name or code.
    ///
    /// # Errors
    /// The name is not a lint's.
    pub fn set_level(&mut self, name_or_code: &str, level: Level) -> Result<(), UnknownLint> {
        let lint = Lint::find(name_or_code).ok_or_else(|| UnknownLint(name_or_code.to_string()))?;
        self.levels.insert(lint.name, level);
        Ok(())
    }

    /// The level `lint` runs at.
    pub fn level(&self, lint: &Lint) -> Level {
        self.levels
            .get(lint.name)
            .copied()
            .unwrap_or(lint.default_level)
    }

    /// Checks the policy against `schema` too (`unknown-attribute`, `unknown-value`,
    /// `type-mismatch` by declared type, `deny-when-absent`), and lets the reasoning
    /// lints assume declared types.
    pub fn with_schema(mut self, schema: Schema) -> LintOptions {
        self.schema = Some(schema);
        self
    }

    /// The identity attributes the SCIM mapping writes (`mover-residue` runs only when
    /// they are given; `tenure lint` gives the lifecycle's default mapping's, or
    /// `--mapping`'s).
    pub fn with_mapped_attributes<I, S>(mut self, attributes: I) -> LintOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.mapped = Some(attributes.into_iter().map(Into::into).collect());
        self
    }

    /// The lifecycle status attribute and its active value (default `status` /
    /// `active`).
    pub fn with_status(mut self, attribute: &str, active_value: &str) -> LintOptions {
        self.status_attribute = attribute.to_string();
        self.active_value = active_value.to_string();
        self
    }

    /// Applies a `tenure.toml`: its `[lint]` table (`name = "allow" | "warn" | "deny"`,
    /// names or codes) and its `[lifecycle]` table (`status_attribute`, `active_value`).
    /// Other tables are left to other tools.
    ///
    /// ```
    /// use tenure::lint::{Level, LintOptions, GRANT_TO_EVERYONE};
    ///
    /// let mut options = LintOptions::new();
    /// options.apply_config("[lint]\ngrant-to-everyone = \"allow\"\n")?;
    /// assert_eq!(options.level(&GRANT_TO_EVERYONE), Level::Allow);
    /// # Ok::<(), tenure::InputError>(())
    /// ```
    ///
    /// # Errors
    /// Malformed TOML, an unknown lint, a level other than allow/warn/deny, located as
    /// `line L, column C` (`tenure::lint::config`).
    pub fn apply_config(&mut self, toml_text: &str) -> Result<(), InputError> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            lint: BTreeMap<String, toml::Spanned<String>>,
            #[serde(default)]
            lifecycle: Lifecycle,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Lifecycle {
            status_attribute: Option<String>,
            active_value: Option<String>,
        }
        let at = |offset: usize| Location::of_offset(toml_text, offset).to_string();
        let file: File = toml::from_str(toml_text).map_err(|e| {
            InputError::new(
                Code::LintConfig,
                e.span().map_or_else(String::new, |s| at(s.start)),
                e.message().to_string(),
            )
        })?;
        for (name, level) in file.lint {
            let span = level.span();
            let level_text = level.into_inner();
            let level = Level::parse(&level_text).ok_or_else(|| {
                InputError::new(
                    Code::LintConfig,
                    at(span.start),
                    format!("`{level_text}` is not a level: allow, warn or deny"),
                )
            })?;
            self.set_level(&name, level)
                .map_err(|e| InputError::new(Code::LintConfig, at(span.start), e.to_string()))?;
        }
        if let Some(a) = file.lifecycle.status_attribute {
            self.status_attribute = a;
        }
        if let Some(v) = file.lifecycle.active_value {
            self.active_value = v;
        }
        Ok(())
    }

    pub(crate) fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    pub(crate) fn mapped(&self) -> Option<&BTreeSet<String>> {
        self.mapped.as_ref()
    }

    pub(crate) fn status(&self) -> (&str, &str) {
        (&self.status_attribute, &self.active_value)
    }
}

/// One thing a lint found, located in the policy.
#[derive(Clone)]
pub struct Finding {
    lint: &'static Lint,
    level: Level,
    message: String,
    help: Option<String>,
    rule_id: String,
    origin: Source,
    span: Span,
    location: Location,
    witness: Option<(crate::entity::Identity, crate::entity::Resource)>,
}

impl Finding {
    /// A request that shows what was found, when the lint has one (`leaver-gap`: a
    /// non-active identity and a resource the grant reaches with no deny applying).
    pub fn witness(&self) -> Option<(&crate::entity::Identity, &crate::entity::Resource)> {
        self.witness.as_ref().map(|(i, r)| (i, r))
    }

    /// The lint that found it.
    pub fn lint(&self) -> &'static Lint {
        self.lint
    }

    /// The level it is reported at.
    pub fn level(&self) -> Level {
        self.level
    }

    /// What was found.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it, when there is a specific hint.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The id of the policy rule it is about (`@id`, or `rule-N`).
    pub fn rule_id(&self) -> &str {
        &self.rule_id
    }

    /// The source (file) name.
    pub fn file(&self) -> &str {
        &self.origin.name
    }

    /// The byte span in the source.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The 1-based line and column.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The JSON form `tenure lint --format json` prints:
    /// `{"code","name","level","message","file","line","column","rule","help"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.lint.code,
            "name": self.lint.name,
            "level": self.level.as_str(),
            "message": self.message,
            "file": self.file(),
            "line": self.location.line,
            "column": self.location.column,
            "rule": self.rule_id(),
            "help": self.help,
        })
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("lint", &self.lint.name)
            .field("level", &self.level)
            .field("rule", &self.rule_id)
            .field("message", &self.message)
            .field("file", &self.file())
            .field("location", &self.location)
            .finish()
    }
}

impl fmt::Display for Finding {
    /// `file:line:column: level[L011 leaver-gap] message (rule `id`)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{} {}] {} (rule `{}`)",
            self.file(),
            self.location.line,
            self.location.column,
            self.level,
            self.lint.code,
            self.lint.name,
            self.message,
            self.rule_id
        )
    }
}

impl std::error::Error for Finding {}

impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("{} {}", self.lint.code, self.lint.name)))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.level {
            Level::Deny => Severity::Error,
            _ => Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.origin as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(format!("in rule `{}`", self.rule_id)),
            self.span.start,
            self.span.end.saturating_sub(self.span.start),
        ))))
    }
}

/// Runs every lint on `policy`; returns the findings not at `allow` and not silenced by
/// an `@allow` on their rule, in source order.
pub fn lint(policy: &Policy, options: &LintOptions) -> Vec<Finding> {
    let mut raw = Vec::new();
    checks::run(policy, options, &mut raw);
    let rules = policy.ir_rules();
    let mut findings: Vec<Finding> = raw
        .into_iter()
        .filter_map(|r| {
            let level = options.level(r.lint);
            let rule = rules.get(r.rule)?;
            let silenced = rule
                .annotations
                .iter()
                .filter(|(name, _)| name == "allow")
                .flat_map(|(_, value)| value.split([',', ' ']))
                .any(|name| {
                    let name = name.trim();
                    name.eq_ignore_ascii_case(r.lint.name) || name.eq_ignore_ascii_case(r.lint.code)
                });
            if level == Level::Allow || silenced {
                return None;
            }
            let origin = policy.sources().get(rule.source())?.clone();
            let span = match r.at {
                At::Rule => rule.span(),
                At::Atom(k) => policy.atom_span(r.rule, k),
            };
            let location = origin.location(span.start);
            Some(Finding {
                lint: r.lint,
                level,
                message: r.message,
                help: r.help,
                rule_id: rule.id(r.rule).to_string(),
                origin,
                span,
                location,
                witness: r.witness,
            })
        })
        .collect();
    let position = |f: &Finding| {
        let source = policy
            .sources()
            .iter()
            .position(|s| Arc::ptr_eq(&s.text, &f.origin.text))
            .unwrap_or(0);
        (source, f.span.start, f.lint.code)
    };
    findings.sort_by(|a, b| position(a).cmp(&position(b)));
    findings
}

/// Where in its rule a finding points: the whole rule, or one atom (by its place in
/// `ir::Rule::sided_atoms`, found in the source only for the findings reported).
#[derive(Debug, Clone, Copy)]
pub(crate) enum At {
    /// The rule.
    Rule,
    /// The atom at this place.
    Atom(usize),
}

/// A finding before levels and `@allow` are applied.
pub(crate) struct RawFinding {
    /// A request that shows the finding (`leaver-gap`).
    pub(crate) witness: Option<(crate::entity::Identity, crate::entity::Resource)>,
    pub(crate) lint: &'static Lint,
    /// The rule's position in the policy.
    pub(crate) rule: usize,
    /// Where in the rule.
    pub(crate) at: At,
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}
