//! The registry of diagnostics: every problem Tenure reports — in a policy, in request
//! JSON, in an export — has a stable [`Code`] defined here once, with its kind, the
//! label that points at the problem and the help that says what to do.
//!
//! Codes are part of the public interface: programs match on them, and they never change
//! meaning. A new problem gets a new code.
//!
//! ```
//! let err = tenure::Policy::compile("role = x grants").unwrap_err();
//! let d = err.first();
//! assert_eq!(d.code(), tenure::Code::Unexpected);
//! assert_eq!(d.code().as_str(), "tenure::syntax::unexpected");
//! ```

/// The kind of a policy problem; stable, for programs that match on errors. Each
/// policy [`Code`] belongs to one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A value is malformed: an integer out of range, a bad escape.
    Value,
    /// Two rules share an `@id`, or one rule carries `@id` twice.
    DuplicateId,
    /// An annotation is malformed (for example an empty `@id`).
    Annotation,
    /// An input limit was exceeded (size, rule count, nesting, list or string length).
    Limit,
    /// A schema is malformed, or a policy breaks its schema (an undeclared attribute, a
    /// value outside an enum, a type mismatch).
    Schema,
}

impl ErrorKind {
    /// A short stable code such as `tenure::syntax`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "tenure::syntax",
            ErrorKind::Value => "tenure::value",
            ErrorKind::DuplicateId => "tenure::duplicate_id",
            ErrorKind::Annotation => "tenure::annotation",
            ErrorKind::Limit => "tenure::limit",
            ErrorKind::Schema => "tenure::schema",
        }
    }
}

macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $kind:expr, $label:literal, $help:expr), )*) => {
        /// A stable diagnostic code: programs match on it, and it never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed, such as `tenure::syntax::unexpected`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The kind of policy problem, or `None` for request and export problems.
            pub fn kind(self) -> Option<ErrorKind> {
                match self { $(Code::$variant => $kind,)* }
            }

            /// What the label under the offending text says.
            pub fn label(self) -> &'static str {
                match self { $(Code::$variant => $label,)* }
            }

            /// The default help text, when there is one.
            pub fn help(self) -> Option<&'static str> {
                match self { $(Code::$variant => $help,)* }
            }
        }
    };
}

const SYNTAX: Option<ErrorKind> = Some(ErrorKind::Syntax);
const VALUE: Option<ErrorKind> = Some(ErrorKind::Value);
const LIMIT: Option<ErrorKind> = Some(ErrorKind::Limit);
const SCHEMA: Option<ErrorKind> = Some(ErrorKind::Schema);

registry! {
    /// The text does not follow the grammar.
    Unexpected => ("tenure::syntax::unexpected", SYNTAX, "unexpected here", None),
    /// A string is missing its closing quote.
    UnterminatedString => ("tenure::syntax::unterminated_string", SYNTAX, "string starts here", Some("close the string with `\"`")),
    /// An unknown or malformed escape in a string.
    BadEscape => ("tenure::syntax::bad_escape", SYNTAX, "bad escape", Some(crate::lexical::ESCAPES_HELP)),
    /// A byte-order mark anywhere but at the very start of a source.
    MisplacedBom => ("tenure::syntax::misplaced_bom", SYNTAX, "byte-order mark", Some("a byte-order mark (U+FEFF) is accepted only as the first character of a source; remove it")),
    /// An integer outside the 64-bit range.
    IntegerRange => ("tenure::value::integer_range", VALUE, "out of range", Some("integers range from -9223372036854775808 to 9223372036854775807; quote the value to compare it as a string")),
    /// `\u{...}` names no Unicode scalar value.
    UnicodeEscape => ("tenure::value::unicode_escape", VALUE, "not a Unicode scalar value", Some(crate::lexical::ESCAPES_HELP)),
    /// Two rules share an `@id`.
    DuplicateId => ("tenure::id::duplicate", Some(ErrorKind::DuplicateId), "id used again", None),
    /// One rule carries `@id` twice.
    RepeatedId => ("tenure::id::repeated", Some(ErrorKind::DuplicateId), "second `@id`", Some("keep one `@id` per rule")),
    /// `@id("")`.
    EmptyId => ("tenure::id::empty", Some(ErrorKind::Annotation), "empty id", Some("give the rule a name, such as `@id(\"cloud-engineers\")`")),
    /// The policy text is over `Limits::max_policy_bytes`.
    PolicyTooLarge => ("tenure::limit::policy_bytes", LIMIT, "policy too large", None),
    /// More rules than `Limits::max_rules`.
    TooManyRules => ("tenure::limit::rules", LIMIT, "one rule too many", None),
    /// Nesting deeper than `Limits::max_nesting`.
    TooDeep => ("tenure::limit::nesting", LIMIT, "nested too deep", Some("flatten the condition; `and`/`or` chains need no parentheses")),
    /// An `in` list longer than `Limits::max_list_len`.
    ListTooLong => ("tenure::limit::list", LIMIT, "list too long", None),
    /// A string, name or tag key longer than `Limits::max_string_bytes`.
    StringTooLong => ("tenure::limit::string", LIMIT, "too long", None),
    /// A glob longer than `Limits::max_glob_len`.
    GlobTooLong => ("tenure::limit::glob", LIMIT, "glob too long", None),
    /// More annotations on a rule than `Limits::max_annotations`.
    TooManyAnnotations => ("tenure::limit::annotations", LIMIT, "one annotation too many", None),
    /// Request JSON that does not parse.
    MalformedJson => ("tenure::input::malformed_json", None, "malformed JSON", None),
    /// A key given twice in one JSON object.
    DuplicateKey => ("tenure::input::duplicate_key", None, "duplicate key", Some("give each key once; duplicate keys are refused rather than resolved")),
    /// A JSON value of a type the field cannot hold.
    JsonType => ("tenure::input::type", None, "wrong type", Some("an attribute is a string, a 64-bit integer, a boolean or an array of strings; tags are strings")),
    /// A JSON integer outside the 64-bit range.
    NumberRange => ("tenure::input::integer_range", None, "out of range", Some("integers range from -9223372036854775808 to 9223372036854775807; send larger numbers as strings")),
    /// A floating-point JSON number.
    FloatNumber => ("tenure::input::float", None, "floating-point number", Some("use an integer or a string")),
    /// An entity over the size limits (bytes, attributes, set elements).
    InputTooLarge => ("tenure::input::limit", None, "too large", None),
    /// An attribute named `tags`, which the JSON form reserves for tags.
    ReservedName => ("tenure::input::reserved_name", None, "reserved name", Some("`tags` holds an entity's tags in JSON; name the attribute differently, or set a tag")),
    /// A request without `identity` or `resource`.
    MissingField => ("tenure::input::missing_field", None, "missing field", Some("a request is {\"identity\": {...}, \"resource\": {...}}")),
    /// Export to Cedar: see `ExportProblemKind::MixedList`.
    ExportMixedList => ("tenure::export::mixed_list", None, "not expressible in Cedar", Some("keep only values of the type the attribute holds: a value of another type never matches and makes the comparison unknown, so the list is never false")),
    /// Export to Cedar: see `ExportProblemKind::GlobAnyOne`.
    ExportGlobAnyOne => ("tenure::export::glob_any_one", None, "not expressible in Cedar", Some("replace `?` with `*` if the looser match is acceptable, or list the values with `in`")),
    /// Export to Cedar: see `ExportProblemKind::GlobOnSet`.
    ExportGlobOnSet => ("tenure::export::glob_on_set", None, "not expressible in Cedar", Some("list the values with `in`, or, if the attribute does not hold sets, remove it from `CedarOptions::set_attributes`")),
    /// Export to Cedar: see `ExportProblemKind::OrderingOnSet`.
    ExportOrderingOnSet => ("tenure::export::ordering_on_set", None, "not expressible in Cedar", Some("an ordering on a set is always unknown in Tenure: order an integer attribute instead, or, if the attribute holds integers, remove it from `CedarOptions::set_attributes`")),
    /// Export to Cedar: see `ExportProblemKind::NonStringSetValue`.
    ExportNonStringSetValue => ("tenure::export::non_string_set_value", None, "not expressible in Cedar", Some("sets hold strings: quote the value to compare it as a string, or, if the attribute does not hold sets, remove it from `CedarOptions::set_attributes`")),
    /// Export to Cedar: see `ExportProblemKind::AnnotationName`.
    ExportAnnotationName => ("tenure::export::annotation_name", None, "not expressible in Cedar", Some("rename the annotation to ASCII letters, digits and `_`, starting with a letter or `_` (and not a Cedar keyword)")),
    /// Export to Cedar: see `ExportProblemKind::DuplicateAnnotation`.
    ExportDuplicateAnnotation => ("tenure::export::duplicate_annotation", None, "not expressible in Cedar", Some("merge the annotation's values into one, or rename all but one")),
    /// A directory or inventory entry, or a `Join`, without a string `id` attribute.
    MissingId => ("tenure::lifecycle::missing_id", None, "missing id", Some("every identity and resource of a directory or inventory carries its id as a string attribute `id`")),
    /// Two directory or inventory entries with the same `id`, or a `Join` of an id already on record.
    DuplicateEntityId => ("tenure::lifecycle::duplicate_id", None, "id already on record", Some("ids are unique; change an existing identity with a `Move`")),
    /// An event naming an identity the directory does not hold.
    UnknownIdentity => ("tenure::lifecycle::unknown_identity", None, "unknown identity", None),
    /// An event naming a resource the inventory does not hold.
    UnknownResource => ("tenure::lifecycle::unknown_resource", None, "unknown resource", None),
    /// A change to the `id` attribute, which names the record.
    ImmutableId => ("tenure::lifecycle::immutable_id", None, "id cannot change", Some("purge the record and join it under the new id")),
    /// A set-member change on an attribute that holds something other than a set.
    NotASet => ("tenure::lifecycle::not_a_set", None, "not a set", Some("`add_member` and `remove_member` change set attributes; `set` replaces any value")),
    /// A malformed event (JSON shape) or timestamp.
    MalformedEvent => ("tenure::lifecycle::malformed_event", None, "malformed event", None),
    /// A scheduled event id that is not (or no longer) scheduled.
    UnknownScheduled => ("tenure::lifecycle::unknown_scheduled", None, "not scheduled", None),
    /// A schema declares one side twice, or one attribute twice.
    SchemaDuplicate => ("tenure::schema::duplicate", SCHEMA, "declared again", Some("declare each side once (`schema identity { ... }`, `schema resource { ... }`) and each attribute once")),
    /// A schema declares a tag with a type other than `string` or a string `enum`.
    SchemaTagType => ("tenure::schema::tag_type", SCHEMA, "tags are strings", Some("declare a tag as `string` or `enum [...]`")),
    /// A schema enum lists a value that is not a string.
    SchemaEnumValue => ("tenure::schema::enum_value", SCHEMA, "not a string", Some("enum values are strings: quote numbers and booleans (`enum [\"1\", \"2\"]`), or declare the attribute `int` or `bool`")),
    /// A policy names an attribute or tag its schema does not declare.
    UnknownAttribute => ("tenure::schema::unknown_attribute", SCHEMA, "not declared", None),
    /// A policy compares an attribute with a value outside its schema enum.
    UnknownValue => ("tenure::schema::unknown_value", SCHEMA, "not in the enum", None),
    /// A comparison whose operator or literal does not fit the attribute's type.
    TypeMismatch => ("tenure::schema::type_mismatch", SCHEMA, "type mismatch", None),
    /// Data lacks an attribute its schema marks `required`.
    MissingRequired => ("tenure::schema::missing_required", None, "missing", None),
    /// Data holds a value of another type than its schema declares.
    WrongType => ("tenure::schema::wrong_type", None, "wrong type", None),
    /// Data holds a value outside its schema enum.
    NotInEnum => ("tenure::schema::not_in_enum", None, "not in the enum", None),
    /// A `tenure.toml` whose `[lint]` or `[lifecycle]` table is malformed.
    LintConfig => ("tenure::lint::config", None, "lint configuration", Some("`[lint]` maps lint names or codes to \"allow\", \"warn\" or \"deny\"; `[lifecycle]` takes `status_attribute` and `active_value`")),
    /// A journal record (a line of `tenure serve`'s `/v1/journal` feed) that is malformed or does not apply to the engine's directory.
    JournalRecord => ("tenure::engine::journal_record", None, "journal record", Some("feed the records of `GET /v1/journal?since=SEQ` in order, starting after the sequence number the directory was loaded at")),
    /// Journal records missing between the engine's directory and the records given.
    JournalGap => ("tenure::engine::journal_gap", None, "records missing", Some("poll `GET /v1/journal?since=SEQ` with the engine's `journal_seq()`, or reload the directory")),
    /// A claims mapping (TOML) that is malformed.
    ClaimsMapping => ("tenure::claims::mapping", None, "claims mapping", None),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("tenure::"), "{code:?}");
            assert!(seen.insert(code.as_str()), "{code:?} repeats a code");
            assert!(!code.label().is_empty());
        }
    }
}
