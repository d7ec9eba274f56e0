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
use crate::source::{Source, Span};
use build::Builder;

/// The pest parser, private so that no pest type leaks through the public API.
pub(crate) mod schema;

pub(crate) use prescan::comment_spans;

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

/// Sources at least this long are parsed in chunks on several threads (rule boundaries
/// found by the lexer), each chunk as the sequential parse would.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// How many threads parsing uses: the cores, at most 8.
fn worker_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// Parses named sources, in order: several sources of many bytes in all are spread over
/// the cores (a large single source is split by [`parse_source`] itself).
pub(crate) fn parse_sources(sources: &[Source], limits: &Limits) -> Vec<Parsed> {
    let threads = worker_threads();
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    if threads < 2 || sources.len() < 2 || total < PARALLEL_MIN_BYTES * 2 {
        return sources.iter().map(|s| parse_source(s, limits)).collect();
    }
    // Contiguous groups of about equal bytes, one per thread, results in source order.
    let share = total.div_ceil(threads);
    let mut groups: Vec<&[Source]> = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, s) in sources.iter().enumerate() {
        bytes += s.text.len();
        if bytes >= share && groups.len() + 1 < threads {
            groups.push(&sources[from..=i]);
            (from, bytes) = (i + 1, 0);
        }
    }
    groups.push(&sources[from..]);
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                scope.spawn(move || {
                    group
                        .iter()
                        .map(|s| parse_source(s, limits))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        joined(handles).into_iter().flatten().collect()
    })
}

/// The results of scoped threads, in order; a thread's panic is resumed here.
fn joined<T>(handles: Vec<std::thread::ScopedJoinHandle<'_, T>>) -> Vec<T> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .collect()
}

/// Parses one named source, recovering from syntax errors at rule boundaries.
pub(crate) fn parse_source(source: &Source, limits: &Limits) -> Parsed {
    let threads = worker_threads();
    parse_source_in_chunks(source, limits, PARALLEL_MIN_BYTES, threads)
}

/// As [`parse_source`], splitting a source of at least twice `chunk_min_bytes` into at
/// most `max_chunks` chunks parsed on their own threads (the tests force small chunks
/// to compare with one piece).
pub(crate) fn parse_source_in_chunks(
    source: &Source,
    limits: &Limits,
    chunk_min_bytes: usize,
    max_chunks: usize,
) -> Parsed {
    let text: &str = &source.text;
    let start = if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    if let Err(e) = prescan::check_nesting(source, start, limits.effective_max_nesting()) {
        return Parsed {
            rules: Vec::new(),
            errors: vec![*e],
            slots: 0,
        };
    }
    let len = text.len() - start;
    if max_chunks < 2 || len < chunk_min_bytes.saturating_mul(2) {
        let (mut parsed, mut value_errors) = parse_range(source, limits, start, text.len());
        parsed.errors.append(&mut value_errors);
        return parsed;
    }
    let chunks = max_chunks.min(len / chunk_min_bytes.max(1)).max(2);
    let mut bounds = vec![start];
    for k in 1..chunks {
        let target = start + len * k / chunks;
        let from = bounds.last().copied().unwrap_or(start);
        let bound = prescan::rule_end_after(text, from, target);
        if bound > from && bound < text.len() {
            bounds.push(bound);
        }
    }
    bounds.push(text.len());
    let pieces: Vec<(Parsed, Vec<PolicyDiagnostic>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                scope.spawn(move || parse_range(source, limits, a, b))
            })
            .collect();
        joined(handles)
    });
    // One source's result, as the sequential parse orders it: syntax errors as found,
    // then the value errors.
    let mut parsed = Parsed {
        rules: Vec::new(),
        errors: Vec::new(),
        slots: 0,
    };
    let mut value_errors = Vec::new();
    for (piece, mut values) in pieces {
        let base = parsed.slots;
        parsed.rules.extend(
            piece
                .rules
                .into_iter()
                .map(|(ordinal, rule)| (base + ordinal, rule)),
        );
        parsed.errors.extend(piece.errors);
        parsed.slots += piece.slots;
        value_errors.append(&mut values);
    }
    parsed.errors.append(&mut value_errors);
    parsed
}

/// Pieces of a source parsed on their own by [`parse_pieces`]: about this many bytes,
/// split at rule boundaries. Small enough that pest's token queue for a piece stays in
/// the core's cache (100 000 rules in one source: 128 KiB pieces compiled in 358–405 ms,
/// 16 KiB pieces in 336–353 ms, five alternating runs of `compile_profile` each).
pub(crate) const PIECE_BYTES: usize = 16 * 1024;

/// The fast path of a compile: parses every source in pieces of about [`PIECE_BYTES`]
/// (split at rule boundaries) on the cores (policies of at least [`PARALLEL_MIN_BYTES`]),
/// and hands each piece to
/// `each(worker state, source index, piece)` on the worker that parsed it, so that its
/// syntax trees are dropped as soon as `each` has used them; returns what `each` made,
/// in source order. Each worker has a state of its own (`S::default()`), kept from piece
/// to piece.
///
/// `None` as soon as any piece has a problem (or `each` returns `None`): the caller then
/// parses the usual way, which reports every problem in order. A piece's rule ordinals
/// count from 0 within the piece.
pub(crate) fn parse_pieces<S: Default, T: Send>(
    sources: &[Source],
    limits: &Limits,
    each: impl Fn(&mut S, usize, Parsed) -> Option<T> + Sync,
) -> Option<Vec<T>> {
    let mut units: Vec<(usize, usize, usize)> = Vec::new();
    for (k, source) in sources.iter().enumerate() {
        let text: &str = &source.text;
        let start = if text.starts_with(BOM) {
            BOM.len_utf8()
        } else {
            0
        };
        let bounds =
            prescan::checked_pieces(source, start, PIECE_BYTES, limits.effective_max_nesting())
                .ok()?;
        let mut from = start;
        for bound in bounds {
            units.push((k, from, bound));
            from = bound;
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let work = || {
        let mut state = S::default();
        let mut done = Vec::new();
        loop {
            let u = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(k, a, b)) = units.get(u) else {
                break;
            };
            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let (parsed, value_errors) = parse_range(&sources[k], limits, a, b);
            let made = (parsed.errors.is_empty() && value_errors.is_empty())
                .then(|| each(&mut state, k, parsed))
                .flatten();
            match made {
                Some(t) => done.push((u, t)),
                None => failed.store(true, std::sync::atomic::Ordering::Relaxed),
            }
        }
        done
    };
    // Threads only pay for themselves on large policies (and a small one then starts
    // none, from whatever thread the caller is on).
    let threads = worker_threads();
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    let mut done: Vec<(usize, T)> = if threads < 2 || units.len() < 2 || total < PARALLEL_MIN_BYTES
    {
        work()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads.min(units.len()))
                .map(|_| scope.spawn(work))
                .collect();
            joined(handles).into_iter().flatten().collect()
        })
    };
    if failed.into_inner() || done.len() != units.len() {
        return None;
    }
    done.sort_unstable_by_key(|(u, _)| *u);
    Some(done.into_iter().map(|(_, t)| t).collect())
}

/// Parses again the one rule that stands at `span` of `source` (a rule of a compiled
/// policy: it parsed there before), with spans in the whole source. `None` when the
/// span holds anything else.
pub(crate) fn parse_rule_at(
    source: &Source,
    limits: &Limits,
    span: Span,
) -> Option<crate::syntax::ast::Rule> {
    let end = span.end.min(source.text.len());
    let (mut parsed, value_errors) = parse_range(source, limits, span.start.min(end), end);
    if !parsed.errors.is_empty() || !value_errors.is_empty() || parsed.rules.len() != 1 {
        return None;
    }
    parsed.rules.pop().map(|(_, rule)| rule)
}

/// Parses `text[start..end]` (which ends at a rule boundary, or the end of the text):
/// the rules and syntax errors, and separately the value errors.
fn parse_range(
    source: &Source,
    limits: &Limits,
    start: usize,
    end: usize,
) -> (Parsed, Vec<PolicyDiagnostic>) {
    let text: &str = &source.text;
    let mut parsed = Parsed {
        rules: Vec::new(),
        errors: Vec::new(),
        slots: 0,
    };
    let mut builder = Builder {
        source,
        limits,
        offset: start,
        errors: Vec::new(),
    };
    // The common case: the whole range parses in one call.
    let Err(error_at) = parse_segment(&mut builder, &mut parsed, start, end) else {
        return (parsed, builder.errors);
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
    let mut at = prescan::rule_end_after(text, rule_start, error_at).min(end);
    while at < end {
        let next = prescan::rule_end_after(text, at, at).min(end);
        if parse_segment(&mut builder, &mut parsed, at, next).is_err() {
            parsed.slots += 1;
        }
        at = next;
    }
    (parsed, builder.errors)
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
    fn chunked_parsing_equals_one_piece() {
        // Rules with syntax errors, value errors, strings holding `;`, comments and a
        // rule spanning lines; parsed whole, and in chunks of every small size.
        let mut text = String::new();
        for i in 0..200 {
            match i % 9 {
                0 => text.push_str(&format!("role = r{i} grants name ~ \"a;b*\";\n")),
                1 => text.push_str(&format!(
                    "x = {i} grants\n  tag:env = e; // ; not a rule end\n"
                )),
                2 => text.push_str("role = grants *;\n"),
                3 => text.push_str("n = 99999999999999999999 grants *;\n"),
                4 => text.push_str(&format!(
                    "@id(\"id-{i}\") # a comment;\n * denies t = \"q;\";\n"
                )),
                5 => text.push_str("a = b grants c = \"\\q\";\n"),
                _ => text.push_str(&format!("role in [a, b{i}] grants *;\n")),
            }
        }
        let source = Source::new("<policy>", text.as_str());
        let limits = Limits::default();
        let whole = parse_source_in_chunks(&source, &limits, usize::MAX, 1);
        let render = |p: &Parsed| {
            (
                format!("{:?}", p.rules),
                p.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                p.slots,
            )
        };
        assert!(!whole.errors.is_empty() && whole.rules.len() > 100);
        for chunk in [1, 7, 64, 500, 2000] {
            let chunked = parse_source_in_chunks(&source, &limits, chunk, 64);
            assert_eq!(render(&chunked), render(&whole), "chunks of {chunk} bytes");
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
