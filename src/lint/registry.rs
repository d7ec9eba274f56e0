//! Every lint: its stable code and name, default level, group, and the explanation
//! `tenure lint --explain NAME` prints with a bad and a good example.

use std::fmt;

/// How a finding counts: `allow` silences a lint, `warn` reports it, `deny` reports it as
/// an error (and `tenure lint` fails on it by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error.
    Deny,
}

impl Level {
    /// `allow`, `warn` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// Reads `allow`, `warn` or `deny` (case-insensitive).
    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_lowercase().as_str() {
            "allow" => Some(Level::Allow),
            "warn" | "warning" => Some(Level::Warn),
            "deny" | "error" => Some(Level::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint of the registry.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Lint {
    /// The stable code, `L001` …
    pub code: &'static str,
    /// The stable name, `unknown-attribute` …
    pub name: &'static str,
    /// The level when nothing configures it.
    pub default_level: Level,
    /// `schema`, `correctness`, `redundancy`, `breadth`, `style` or `lifecycle`.
    pub group: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    /// Why it matters, and what the lint cannot see.
    pub explanation: &'static str,
    /// A policy it reports.
    pub bad: &'static str,
    /// The same intent, written so that it does not.
    pub good: &'static str,
}

impl Lint {
    /// The lint with this name or code (`leaver-gap` or `L011`, case-insensitive).
    pub fn find(name_or_code: &str) -> Option<&'static Lint> {
        LINTS.iter().find(|l| {
            l.name.eq_ignore_ascii_case(name_or_code) || l.code.eq_ignore_ascii_case(name_or_code)
        })
    }

    /// The text `tenure lint --explain` prints.
    pub fn explain(&self) -> String {
        format!(
            "{code} {name} (default: {level}, group: {group})\n\n{summary}\n\n{explanation}\n\nBad:\n\n{bad}\n\nGood:\n\n{good}\n",
            code = self.code,
            name = self.name,
            level = self.default_level,
            group = self.group,
            summary = self.summary,
            explanation = self.explanation,
            bad = indent(self.bad),
            good = indent(self.good),
        )
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! lints {
    ($( $konst:ident = $code:literal $name:literal $level:ident $group:literal
        summary $summary:literal explanation $explanation:literal bad $bad:literal good $good:literal; )*) => {
        $(
            #[doc = concat!("`", $code, "` `", $name, "`: ", $summary)]
            pub const $konst: Lint = Lint {
                code: $code,
                name: $name,
                default_level: Level::$level,
                group: $group,
                summary: $summary,
                explanation: $explanation,
                bad: $bad,
                good: $good,
            };
        )*
        /// Every lint, in code order.
        pub const LINTS: &[Lint] = &[$($konst),*];
    };
}

lints! {
    UNKNOWN_ATTRIBUTE = "L001" "unknown-attribute" Deny "schema"
        summary "an attribute or tag the schema does not declare (with a did-you-mean)"
        explanation "A comparison on an undeclared attribute is almost always a typo: the attribute is never there, so a grant on it never applies and a deny on it applies to everyone (unknown is fail-closed). Only reported with a schema; a side the schema has no block for is not checked."
        bad "schema identity { department: string; }\n\ndepartmnet = Cloud grants tag:env = cloud;"
        good "department = Cloud grants tag:env = cloud;";
    UNKNOWN_VALUE = "L002" "unknown-value" Deny "schema"
        summary "a literal outside the attribute's enum (with a did-you-mean)"
        explanation "An enum lists every value an attribute takes; a literal outside it never matches, so the comparison is never true. Only reported with a schema."
        bad "schema identity { role: enum [DBA, SRE]; }\n\nrole = DBS grants type = postgres;"
        good "role = DBA grants type = postgres;";
    TYPE_MISMATCH = "L003" "type-mismatch" Deny "schema"
        summary "a comparison whose literal or operator does not fit the attribute's type"
        explanation "A comparison between values of different types is unknown: it never grants and always denies. With a schema, a literal or operator that does not fit the declared type is reported. Without one, an attribute compared with two types in the same policy (one of them is wrong), and a comparison that can never be true by type: an integer or boolean literal, or an ordering, on a tag (tags are strings)."
        bad "clearance >= 3 grants tag:level = 2;\nclearance = high grants *;"
        good "clearance >= 3 grants tag:level = \"2\";\nclearance >= 4 grants *;";
    UNSATISFIABLE = "L004" "unsatisfiable" Warn "correctness"
        summary "a rule with a side that can never be true"
        explanation "A grant whose identity or resource side can never be true never applies. A deny whose side can never be true still applies through unknown values (an absent or mistyped attribute), which is rarely what was meant. Without a schema a plain name may hold a set, so `x = a and x = b` is satisfiable (a set holding both); tags hold one string. Cannot see through globs: a side with a glob is never reported."
        bad "* grants tag:env = dev and tag:env = prod;"
        good "* grants tag:env in [dev, prod];";
    REDUNDANT_GRANT = "L005" "redundant-grant" Warn "redundancy"
        summary "a grant whose every (identity, resource) another grant already grants"
        explanation "If another grant applies wherever this one does, removing this one changes no decision; keeping it hides what the policy means and makes the next edit of the other grant surprising. Only a single other grant is considered (not several that together cover it)."
        bad "role = DBA grants type = postgres;\nrole = DBA grants type in [postgres, mysql];"
        good "role = DBA grants type in [postgres, mysql];";
    OVERRIDDEN_GRANT = "L006" "overridden-grant" Warn "correctness"
        summary "a grant that a deny always overrides: it can never allow anything"
        explanation "Deny overrides grant. If one deny applies (true or unknown) wherever this grant applies, the grant never allows anything. Only a single deny is considered."
        bad "role = contractor grants tag:env = prod;\nrole = contractor denies *;"
        good "role = contractor grants tag:env = staging;\nrole = contractor denies tag:env = prod;";
    DUPLICATE_RULE = "L007" "duplicate-rule" Warn "redundancy"
        summary "two rules with the same effect and equivalent conditions"
        explanation "Two rules that decide exactly the same requests (their conditions have the same value on every entity) are one rule written twice; the second is reported."
        bad "role in [DBA, SRE] grants type = postgres;\nrole = SRE or role = DBA grants type = postgres;"
        good "role in [DBA, SRE] grants type = postgres;";
    GRANT_TO_EVERYONE = "L008" "grant-to-everyone" Warn "breadth"
        summary "a grant whose identity side is `*` or always true"
        explanation "A grant to every identity reaches every joiner on day one and every leaver a deny does not catch. Sometimes intended (a bastion everyone may reach): say so with `@allow(\"grant-to-everyone\")`."
        bad "* grants type = ssh;"
        good "@allow(\"grant-to-everyone\")\n* grants name ~ \"bastion-*\";";
    GRANT_TO_EVERYTHING = "L009" "grant-to-everything" Warn "breadth"
        summary "a grant whose resource side is `*` or always true"
        explanation "A grant of every resource also grants every resource added later. Sometimes intended (administrators): say so with `@allow(\"grant-to-everything\")`."
        bad "role = SRE grants *;"
        good "role = SRE grants tag:env in [staging, prod];";
    GLOB_WITHOUT_WILDCARD = "L010" "glob-without-wildcard" Warn "style"
        summary "`~ \"text\"` with no `*` or `?`: use `=`"
        explanation "A glob without wildcards matches exactly its text, as `=` does; `=` says so, and is indexed."
        bad "* grants name ~ \"bastion\";"
        good "* grants name = bastion;";
    LEAVER_GAP = "L011" "leaver-gap" Deny "lifecycle"
        summary "a grant that can reach an identity whose lifecycle status is not active, because no deny covers it"
        explanation "A leaver keeps their attributes (role, groups) until someone removes them; only their status changes. An identity is active exactly when `status = active` is true (false or unknown — absent, mistyped — is not active). A grant that applies to a non-active identity on some resource where no deny applies lets leavers in. Reported with a witness: the kind of identity and resource that gets through. The usual fix is one deny for everyone not active. The status attribute and its active value are `status` / `active` unless configured."
        bad "role = DBA grants type = postgres;"
        good "role = DBA grants type = postgres;\nstatus != active denies *;";
    PERSONAL_GRANT = "L012" "personal-grant" Warn "lifecycle"
        summary "a grant keyed on one person (`id`, `username`, `email`, `external_id`, `employee_number`)"
        explanation "Access granted to a named person does not follow them through a move: it stays when their role changes. Grant to the role, group or department instead."
        bad "email = \"pam@example.com\" grants type = k8s;"
        good "role = CloudEngineer grants type = k8s;";
    MOVER_RESIDUE = "L013" "mover-residue" Warn "lifecycle"
        summary "a grant keyed on an identity attribute the SCIM mapping never writes"
        explanation "Attributes the identity provider pushes (through the SCIM mapping) change when a person moves; an attribute nothing writes keeps its old value, and so does the access it grants. Checked against the default mapping of the lifecycle, or the one given with `--mapping`. Identity tags are never written by SCIM."
        bad "badge_level = gold grants tag:env = prod;"
        good "department = Security grants tag:env = prod;";
    DENY_WHEN_ABSENT = "L014" "deny-when-absent" Warn "lifecycle"
        summary "a deny testing an attribute the schema does not require: it also applies to everyone or everything lacking it"
        explanation "A comparison on an absent attribute is unknown, and a deny applies on unknown (fail closed). If the attribute is optional, the deny also applies to every identity or resource that lacks it. If that is intended, `@allow` it; otherwise guard the comparison with `has` (never on the status attribute: a leaver without a status must stay denied). Schema only."
        bad "schema resource { tag:team: string; }\n\ndepartment != Finance denies tag:team = finance;"
        good "department != Finance denies has tag:team and tag:team = finance;";
}
