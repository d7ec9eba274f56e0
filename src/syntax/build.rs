//! pest pairs → AST nodes with spans, collecting value and limit errors.

use pest::iterators::Pair;

use super::ast::{self, Annotation, Atom, Condition, Predicate};
use super::grammar::Rule;
use super::unescape::{Piece, Unescaper};
use crate::diagnostics::Code;
use crate::error::PolicyDiagnostic;
use crate::lexical;
use crate::limits::Limits;
use crate::source::{Source, Span};
use crate::vocabulary::{Attribute, Effect, GlobPiece, Literal};

/// Turns pest pairs into AST nodes, collecting value errors.
pub(super) struct Builder<'s> {
    pub(super) source: &'s Source,
    pub(super) limits: &'s Limits,
    /// Where the text pest parsed starts in the source (after a BOM, or a recovery point).
    pub(super) offset: usize,
    pub(super) errors: Vec<PolicyDiagnostic>,
}

impl Builder<'_> {
    pub(super) fn span_of(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(s.start(), s.end()).shifted(self.offset)
    }

    pub(super) fn error(&mut self, code: Code, span: Span, message: String) {
        self.errors
            .push(PolicyDiagnostic::new(code, self.source, span, message));
    }

    fn error_help(&mut self, code: Code, span: Span, message: String, help: &str) {
        self.errors
            .push(PolicyDiagnostic::new(code, self.source, span, message).with_help(help));
    }

    pub(super) fn rule(&mut self, pair: Pair<'_, Rule>) -> ast::Rule {
        let span = self.span_of(&pair);
        let mut annotations = Vec::new();
        let mut sides = Vec::with_capacity(2);
        let mut effect = Effect::Grant;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::annotation => {
                    let a = self.annotation(p);
                    if annotations.len() == self.limits.max_annotations {
                        self.error(
                            Code::TooManyAnnotations,
                            a.span,
                            format!(
                                "a rule carries more than {} annotations",
                                self.limits.max_annotations
                            ),
                        );
                    }
                    annotations.push(a);
                }
                Rule::side => sides.push(self.side(p)),
                Rule::effect => {
                    effect = match p.into_inner().next().map(|p| p.as_rule()) {
                        Some(Rule::denies) => Effect::Deny,
                        _ => Effect::Grant,
                    }
                }
                _ => {}
            }
        }
        let what = sides.pop().unwrap_or(Condition::Any(span));
        let who = sides.pop().unwrap_or(Condition::Any(span));
        ast::Rule {
            annotations,
            who,
            effect,
            what,
            span,
        }
    }

    fn annotation(&mut self, pair: Pair<'_, Rule>) -> Annotation {
        let span = self.span_of(&pair);
        let mut name = String::new();
        let mut value = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::annotation_name => name = p.as_str().to_string(),
                Rule::string => value = self.string(p),
                _ => {}
            }
        }
        Annotation { name, value, span }
    }

    fn side(&mut self, pair: Pair<'_, Rule>) -> Condition {
        let span = self.span_of(&pair);
        match pair.into_inner().next() {
            Some(p) if p.as_rule() == Rule::condition => self.condition(p, 0),
            _ => Condition::Any(span),
        }
    }

    /// `depth` counts the parentheses and `not`s around this condition.
    fn condition(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        self.chain(pair, Rule::conjunction, Condition::Or, |b, p| {
            b.conjunction(p, depth)
        })
    }

    fn conjunction(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        self.chain(pair, Rule::negation, Condition::And, |b, p| {
            b.negation(p, depth)
        })
    }

    /// An `or` or `and` chain: its `operand` pairs built by `build`, or the lone operand.
    fn chain<'i>(
        &mut self,
        pair: Pair<'i, Rule>,
        operand: Rule,
        join: fn(Vec<Condition>, Span) -> Condition,
        build: impl Fn(&mut Self, Pair<'i, Rule>) -> Condition,
    ) -> Condition {
        let span = self.span_of(&pair);
        let mut operands: Vec<Condition> = pair
            .into_inner()
            .filter(|p| p.as_rule() == operand)
            .map(|p| build(self, p))
            .collect();
        if operands.len() == 1 {
            operands.pop().unwrap_or(Condition::Any(span))
        } else {
            join(operands, span)
        }
    }

    fn negation(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Condition {
        let span = self.span_of(&pair);
        let mut not_starts = Vec::new();
        let mut inner = None;
        let mut group_start = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::not_kw => not_starts.push(self.offset + p.as_span().start()),
                Rule::open_paren => group_start = Some(self.offset + p.as_span().start()),
                Rule::close_paren => {}
                _ => inner = Some(p),
            }
        }
        let nested = depth + not_starts.len() + usize::from(group_start.is_some());
        let max_nesting = self.limits.effective_max_nesting();
        if nested > max_nesting {
            self.error_help(
                Code::TooDeep,
                span,
                format!("conditions are nested deeper than {max_nesting} levels"),
                "`not not x` is `x`; remove the doubled negations",
            );
            return Condition::Any(span);
        }
        let Some(inner) = inner else {
            return Condition::Any(span);
        };
        let mut cond = match (inner.as_rule(), group_start) {
            (Rule::condition, Some(start)) => {
                let c = self.condition(inner, nested);
                Condition::Group(Box::new(c), Span::new(start, span.end))
            }
            (Rule::atom, _) => Condition::Atom(self.atom(inner)),
            _ => Condition::Any(span),
        };
        // Innermost `not` first, so each node's span starts at its own keyword.
        for start in not_starts.into_iter().rev() {
            cond = Condition::Not(Box::new(cond), Span::new(start, span.end));
        }
        cond
    }

    fn atom(&mut self, pair: Pair<'_, Rule>) -> Atom {
        let span = self.span_of(&pair);
        let mut inner = pair.into_inner();
        let Some(first) = inner.next() else {
            return Atom {
                attribute: Attribute::Name("".into()),
                predicate: Predicate::Has,
                span,
            };
        };
        if first.as_rule() == Rule::has_atom {
            let attribute = first
                .into_inner()
                .find(|p| p.as_rule() == Rule::attribute)
                .map(|p| self.attribute(p))
                .unwrap_or(Attribute::Name("".into()));
            return Atom {
                attribute,
                predicate: Predicate::Has,
                span,
            };
        }
        let attribute = self.attribute(first);
        let predicate = match inner.next() {
            Some(p) => self.predicate(p),
            None => Predicate::Has,
        };
        Atom {
            attribute,
            predicate,
            span,
        }
    }

    fn predicate(&mut self, pair: Pair<'_, Rule>) -> Predicate {
        let which = pair.as_rule();
        let operand = pair
            .into_inner()
            .find(|p| !matches!(p.as_rule(), Rule::in_kw | Rule::not_kw));
        let Some(operand) = operand else {
            return Predicate::Has;
        };
        match which {
            Rule::eq => Predicate::Eq(self.value(operand)),
            Rule::ne => Predicate::Ne(self.value(operand)),
            Rule::in_list => Predicate::In(self.list(operand)),
            Rule::not_in => Predicate::NotIn(self.list(operand)),
            Rule::like => Predicate::Like(self.glob(operand)),
            Rule::le => Predicate::Le(self.integer(&operand)),
            Rule::ge => Predicate::Ge(self.integer(&operand)),
            Rule::lt => Predicate::Lt(self.integer(&operand)),
            Rule::gt => Predicate::Gt(self.integer(&operand)),
            _ => Predicate::Has,
        }
    }

    pub(super) fn attribute(&mut self, pair: Pair<'_, Rule>) -> Attribute {
        let Some(inner) = pair.into_inner().next() else {
            return Attribute::Name("".into());
        };
        let span = self.span_of(&inner);
        let attribute = match inner.as_rule() {
            Rule::tag_attribute => match inner.into_inner().next() {
                Some(k) if k.as_rule() == Rule::string => Attribute::Tag(self.string(k).into()),
                Some(k) => Attribute::Tag(k.as_str().into()),
                None => Attribute::Tag("".into()),
            },
            _ => Attribute::Name(inner.as_str().into()),
        };
        let len = match &attribute {
            Attribute::Name(s) | Attribute::Tag(s) => s.len(),
        };
        if len > self.limits.max_string_bytes {
            self.error(
                Code::StringTooLong,
                span,
                format!(
                    "attribute name is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        attribute
    }

    pub(super) fn list(&mut self, pair: Pair<'_, Rule>) -> Vec<Literal> {
        let span = self.span_of(&pair);
        let values: Vec<Literal> = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::value)
            .map(|p| self.value(p))
            .collect();
        if values.len() > self.limits.max_list_len {
            self.error(
                Code::ListTooLong,
                span,
                format!(
                    "list has {} values, more than the limit of {}",
                    values.len(),
                    self.limits.max_list_len
                ),
            );
        }
        values
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Literal {
        let Some(inner) = pair.into_inner().next() else {
            return Literal::Str("".into());
        };
        if inner.as_rule() == Rule::string {
            return Literal::Str(self.string(inner).into());
        }
        let word = inner.as_str();
        let span = self.span_of(&inner);
        if word.len() > self.limits.max_string_bytes {
            self.error(
                Code::StringTooLong,
                span,
                format!(
                    "value is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        match word {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            w if lexical::is_integer_text(w) => Literal::Int(self.integer(&inner)),
            w => Literal::Str(w.into()),
        }
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> i64 {
        match pair.as_str().parse::<i64>() {
            Ok(i) => i,
            Err(_) => {
                let span = self.span_of(pair);
                self.error(
                    Code::IntegerRange,
                    span,
                    format!("integer `{}` does not fit in 64 bits", pair.as_str()),
                );
                0
            }
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let span = self.span_of(&pair);
        let raw = pair
            .into_inner()
            .next()
            .map(|p| p.as_str())
            .unwrap_or_default();
        if raw.len() > self.limits.max_string_bytes {
            self.error(
                Code::StringTooLong,
                span,
                format!(
                    "string is longer than {} bytes",
                    self.limits.max_string_bytes
                ),
            );
        }
        let mut out = String::with_capacity(raw.len());
        let base = span.start + 1;
        for (offset, piece) in Unescaper::new(raw) {
            match piece {
                Ok(Piece::Char(c) | Piece::Escaped(c)) => out.push(c),
                Err(msg) => {
                    self.error(
                        Code::UnicodeEscape,
                        Span::new(base + offset, base + offset + 1),
                        msg,
                    );
                }
            }
        }
        out
    }

    fn glob(&mut self, pair: Pair<'_, Rule>) -> Vec<GlobPiece> {
        let span = self.span_of(&pair);
        let raw = pair
            .into_inner()
            .next()
            .map(|p| p.as_str())
            .unwrap_or_default();
        let base = span.start + 1;
        let mut pieces = Vec::new();
        for (offset, piece) in Unescaper::new(raw) {
            match piece {
                Ok(Piece::Char('*')) => {
                    // Consecutive stars mean the same as one.
                    if pieces.last() != Some(&GlobPiece::AnyRun) {
                        pieces.push(GlobPiece::AnyRun);
                    }
                }
                Ok(Piece::Char('?')) => pieces.push(GlobPiece::AnyOne),
                Ok(Piece::Char(c) | Piece::Escaped(c)) => pieces.push(GlobPiece::Char(c)),
                Err(msg) => self.error(
                    Code::UnicodeEscape,
                    Span::new(base + offset, base + offset + 1),
                    msg,
                ),
            }
        }
        if pieces.len() > self.limits.max_glob_len {
            self.error(
                Code::GlobTooLong,
                span,
                format!(
                    "glob is longer than {} characters",
                    self.limits.max_glob_len
                ),
            );
        }
        pieces
    }
}
