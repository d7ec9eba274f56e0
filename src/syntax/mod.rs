//! Text → [`ast::Policy`]: the only module that knows about pest.
//!
//! One stage per file:
//!
//! * `prescan` — a lexer that follows the grammar's lexical rules; it bounds nesting
//!   before pest recurses and finds rule boundaries for error recovery;
//! * the pest grammar (`grammar/tenure.pest`) parses;
//! * `errors` — a pest failure becomes a diagnostic;
//! * `build` — pest pairs become an AST whose nodes keep their spans (`unescape`
//!   decodes strings);
//! * `ast` — the tree and its printer.
//!
//! A syntax error does not stop the source: it is reported, parsing resumes after the
//! `;` that ends the broken rule, and rule numbering goes on as if that rule had parsed.

pub mod ast;
mod build;
mod errors;
mod prescan;
mod unescape;

use pest::Parser as _;

use crate::error::{Error, PolicyDiagnostic};
use crate::lexical::BOM;
use crate::limits::Limits;
use crate::source::Source;
use build::Builder;

/// The pest parser, private so that no pest type leaks through the public API.
pub(crate) mod schema;

mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/tenure.pest"]
    #[grammar = "../grammar/schema.pest"]
    pub(super) struct TenureParser;
}
use grammar::{Rule, TenureParser};

/// Parses one policy text into its AST, with default [`Limits`].
///
/// ```
/// let ast = tenure::unstable::parse("role = admin grants *;")?;
/// assert_eq!(ast.rules.len(), 1);
/// assert_eq!(ast.to_string(), "role = admin grants *;\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// Every syntax error (one per broken rule), malformed value and exceeded limit.
#[cfg_attr(not(feature = "unstable"), allow(dead_code))]
pub fn parse(text: &str) -> Result<ast::Policy, Error> {
    let source = Source::new("<policy>", text);
    let parsed = parse_source(&source, &Limits::default());
    if parsed.errors.is_empty() {
        Ok(ast::Policy {
            rules: parsed.rules.into_iter().map(|(_, r)| r).collect(),
        })
    } else {
        Err(Error::from_diagnostics(parsed.errors))
    }
}

/// One parsed source: the rules that parsed, each with its ordinal among all the rules
/// of the source (broken ones included), and every problem found.
pub(crate) struct Parsed {
    pub(crate) rules: Vec<(usize, ast::Rule)>,
    pub(crate) errors: Vec<PolicyDiagnostic>,
    /// How many rules the source holds, broken ones included.
    pub(crate) slots: usize,
}

/// Parses one named source, recovering from syntax errors at rule boundaries.
pub(crate) fn parse_source(source: &Source, limits: &Limits) -> Parsed {
    let text: &str = &source.text;
    let start = if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    let mut parsed = Parsed {
        rules: Vec::new(),
        errors: Vec::new(),
        slots: 0,
    };
    if let Err(e) = prescan::check_nesting(source, start, limits.effective_max_nesting()) {
        parsed.errors.push(*e);
        return parsed;
    }
    let mut builder = Builder {
        source,
        limits,
        offset: start,
        errors: Vec::new(),
    };
    // The common case: the whole source parses in one call.
    let Err(error_at) = parse_segment(&mut builder, &mut parsed, start, text.len()) else {
        parsed.errors.append(&mut builder.errors);
        return parsed;
    };
    // Recovery: keep the rules before the broken one, skip past its `;`, then go on rule
    // by rule, so that each later error costs the length of its own rule (pest's error
    // reads the rest of the line: per error over a whole one-line source that would be
    // quadratic).
    let rule_start = prescan::last_rule_end_before(text, start, error_at);
    if rule_start > start {
        // An error here means the lexer and pest disagree on a boundary; it is reported.
        let _ = parse_segment(&mut builder, &mut parsed, start, rule_start);
    }
    parsed.slots += 1;
    let mut at = prescan::rule_end_after(text, rule_start, error_at);
    while at < text.len() {
        let end = prescan::rule_end_after(text, at, at);
        if parse_segment(&mut builder, &mut parsed, at, end).is_err() {
            parsed.slots += 1;
        }
        at = end;
    }
    parsed.errors.append(&mut builder.errors);
    parsed
}

/// Parses `text[start..end]` as rules, appending them; on a syntax error, records it
/// and returns where it is.
fn parse_segment(
    builder: &mut Builder<'_>,
    parsed: &mut Parsed,
    start: usize,
    end: usize,
) -> Result<(), usize> {
    let text = &builder.source.text[start..end];
    match TenureParser::parse(Rule::policy, text) {
        Ok(mut pairs) => {
            builder.offset = start;
            if let Some(policy) = pairs.next() {
                for pair in policy.into_inner() {
                    if pair.as_rule() == Rule::rule {
                        let rule = builder.rule(pair);
                        parsed.rules.push((parsed.slots, rule));
                        parsed.slots += 1;
                    }
                }
            }
            Ok(())
        }
        Err(e) => {
            let diagnostic = errors::syntax_diagnostic(builder.source, start, &e);
            let at = diagnostic.span().start;
            parsed.errors.push(diagnostic);
            Err(at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ast::{Atom, Attribute, Condition, Literal, Predicate};
    use super::*;
    use crate::error::ErrorKind;

    fn parse_ok(text: &str) -> ast::Policy {
        match parse(text) {
            Ok(p) => p,
            Err(e) => panic!("{text:?} failed: {e}"),
        }
    }

    #[test]
    fn spec_example_parses() {
        let p = parse_ok(
            r#"
            @id("devops-staging")
            role = DevOpsEngineer grants tag:env in [dev, staging] and type != rdp;
            @id("named-hosts")
            * grants name ~ "bastion-*";
            "#,
        );
        assert_eq!(p.rules.len(), 2);
    }

    #[test]
    fn whitespace_is_free() {
        parse_ok("role in[x,y]grants*;");
        parse_ok("");
        parse_ok("# only a comment\n// and another");
    }

    #[test]
    fn keyword_prefixed_names_are_names() {
        let p = parse_ok("notes = a and order = b and grantsx = c grants *;");
        assert_eq!(
            p.to_string(),
            "notes = a and order = b and grantsx = c grants *;\n"
        );
    }

    #[test]
    fn bare_words_classify() {
        let p = parse_ok("a = 42 and b = \"42\" and c = 10.0.0.1 and d = true and e = true-ish and f = -7 grants *;");
        let Condition::And(atoms, _) = &p.rules[0].who else {
            panic!()
        };
        let lits: Vec<_> = atoms
            .iter()
            .map(|c| match c {
                Condition::Atom(Atom {
                    predicate: Predicate::Eq(l),
                    ..
                }) => l.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            lits,
            vec![
                Literal::Int(42),
                Literal::Str("42".into()),
                Literal::Str("10.0.0.1".into()),
                Literal::Bool(true),
                Literal::Str("true-ish".into()),
                Literal::Int(-7),
            ]
        );
    }

    #[test]
    fn integer_out_of_range_is_an_error() {
        let e = parse("a = 99999999999999999999 grants *;").unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Value);
        assert_eq!(e.first().location().column, 5);
    }

    #[test]
    fn ordering_needs_an_integer() {
        let e = parse("a < abc grants *;").unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Syntax);
        assert!(e.to_string().contains("an integer"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!(
            "{}a = b{} grants *;",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Limit);
        let nots = format!("{}a = b grants *;", "not ".repeat(250_000));
        let e = parse(&nots).unwrap_err();
        assert_eq!(e.first().kind(), ErrorKind::Limit);
    }

    #[test]
    fn printer_round_trips() {
        let text = r#"@id("x") @note("a \"quoted\" note")
            not (a = "b c" or tag:"k8s.io/cluster" ~ "pr\*od-*?") and n >= -3 and g not in [x, 1, false] denies has tag:env;"#;
        let p = parse_ok(text);
        let printed = p.to_string();
        let again = parse_ok(&printed);
        assert_eq!(printed, again.to_string());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("role = x grants *\nrole = y grants *;").unwrap_err();
        let d = e.first();
        assert_eq!(d.location().line, 2);
        assert!(d.message().contains("`;`"), "{}", d.message());
    }

    /// Every `char`, in a string value, a tag key, an annotation and (where the lexical
    /// rules say it is a name character) an attribute name, prints and parses back.
    #[test]
    fn every_char_prints_and_parses_back() {
        use crate::lexical;
        let chars: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .collect();
        for chunk in chars.chunks(2048) {
            let values: Vec<Literal> = chunk
                .iter()
                .map(|c| Literal::Str(format!("a{c}").into()))
                .collect();
            let keys: Vec<String> = chunk
                .iter()
                .map(|c| Attribute::Tag(format!("{c}").into()).to_string())
                .collect();
            let list = values
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let text = format!(
                "x in [{list}] grants {} ;",
                keys.iter()
                    .map(|k| format!("has {k}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
            let ast = parse_ok(&text);
            let Condition::Atom(Atom {
                predicate: Predicate::In(parsed),
                ..
            }) = &ast.rules[0].who
            else {
                panic!("not an in-list")
            };
            assert_eq!(parsed, &values);
            let Condition::And(haves, _) = &ast.rules[0].what else {
                panic!("not an and")
            };
            for (c, have) in chunk.iter().zip(haves) {
                let Condition::Atom(Atom { attribute, .. }) = have else {
                    panic!()
                };
                assert_eq!(attribute, &Attribute::Tag(format!("{c}").into()), "{c:?}");
            }
        }
        let mut names = Vec::new();
        for &c in &chars {
            let name = format!("n{c}");
            let is_name = lexical::is_bare_name(&name);
            assert_eq!(is_name, lexical::is_name_char(c), "{c:?}");
            if is_name {
                names.push(name);
            }
            if lexical::is_name_start(c) && !c.is_ascii() {
                names.push(c.to_string());
            }
        }
        // Every name character, in names printed bare, parses back as the same names.
        for chunk in names.chunks(2048) {
            let atoms: Vec<String> = chunk.iter().map(|n| format!("{n} = v")).collect();
            let text = format!("{} grants *;", atoms.join(" and "));
            assert_eq!(parse_ok(&text).to_string(), format!("{text}\n"));
        }
        assert!(lexical::KEYWORDS
            .iter()
            .all(|k| !lexical::is_bare_name(k) && lexical::is_keyword(k)));
    }

    #[test]
    fn comment_after_a_keyword_hides_its_parentheses() {
        // `and//` starts a comment, so its parentheses do not count towards nesting.
        let text = format!("x = 1 and// see {}\ny = 2 grants *;", "(".repeat(65));
        parse_ok(&text);
        // `not//` hides the closing parenthesis: nesting is counted as pest sees it.
        let deep = format!(
            "{}x = 1{} grants *;",
            "(not// :-)\n".repeat(20_000),
            ")".repeat(20_000)
        );
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.first().code(), crate::Code::TooDeep, "{e}");
        assert!(e.to_string().contains("nested deeper than 64 levels"));
        // In a bare value `//` is part of the value, not a comment.
        let ast = parse_ok("x = http://a//b grants *;");
        assert_eq!(ast.to_string(), "x = \"http://a//b\" grants *;\n");
    }

    #[test]
    fn every_broken_rule_is_reported_and_numbering_survives() {
        let e = parse("x = grants *;\n* grants *;\ny == 2 grants *;\n").unwrap_err();
        let lines: Vec<usize> = e.diagnostics().iter().map(|d| d.location().line).collect();
        assert_eq!(lines, [1, 3], "{e}");
        let e = crate::Policy::compile_sources([
            ("a", "x = grants *; * grants *;"),
            ("b", "@id(\"rule-2\") * grants *;"),
        ])
        .unwrap_err();
        // a's second rule is rule-2 although its first is broken, so b's explicit
        // `rule-2` collides with it.
        let codes: Vec<_> = e.diagnostics().iter().map(|d| d.code()).collect();
        assert_eq!(
            codes,
            [crate::Code::Unexpected, crate::Code::DuplicateId],
            "{e}"
        );
    }

    #[test]
    fn a_bom_is_accepted_only_first() {
        parse_ok("\u{FEFF}* grants *;");
        let e = parse("not\u{FEFF}es = x grants *;").unwrap_err();
        assert_eq!(e.first().code(), crate::Code::MisplacedBom, "{e}");
        let e = parse(" \u{FEFF}* grants *;").unwrap_err();
        assert_eq!(e.first().code(), crate::Code::MisplacedBom, "{e}");
    }
}
