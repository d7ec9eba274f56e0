//! Schema text → declarations with spans (`grammar/schema.pest`); the meaning of a schema
//! is `src/schema/`.

use pest::iterators::Pair;
use pest::Parser as _;

use super::build::Builder;
use super::grammar::{Rule, TenureParser};
use crate::error::PolicyDiagnostic;
use crate::limits::Limits;
use crate::source::{Source, Span};
use crate::vocabulary::{Attribute, Literal};

/// Which entity a schema block describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Identity,
    Resource,
}

/// A declared type, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WrittenType {
    String,
    Int,
    Bool,
    /// `enum [..]`: strings from a list.
    Enum(Vec<Literal>),
    /// `set`, optionally `set enum [..]`.
    Set(Option<Vec<Literal>>),
}

/// `ATTRIBUTE: TYPE [required];`
#[derive(Debug, Clone)]
pub(crate) struct Declaration {
    pub(crate) attribute: Attribute,
    pub(crate) attribute_span: Span,
    pub(crate) ty: WrittenType,
    pub(crate) type_span: Span,
    pub(crate) required: bool,
}

/// `schema identity { ... }`.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) side: Side,
    pub(crate) span: Span,
    pub(crate) declarations: Vec<Declaration>,
}

/// Parses a schema source.
pub(crate) fn parse_schema(source: &Source) -> Result<Vec<Block>, Vec<PolicyDiagnostic>> {
    let limits = Limits::default();
    let text: &str = &source.text;
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let pairs = TenureParser::parse(Rule::schema_file, &text[start..])
        .map_err(|e| vec![super::errors::syntax_diagnostic(source, start, &e)])?;
    let mut builder = Builder {
        source,
        limits: &limits,
        offset: start,
        errors: Vec::new(),
    };
    let mut blocks = Vec::new();
    for file in pairs {
        for block in file.into_inner() {
            if block.as_rule() == Rule::schema_block {
                blocks.push(read_block(&mut builder, block));
            }
        }
    }
    if builder.errors.is_empty() {
        Ok(blocks)
    } else {
        Err(builder.errors)
    }
}

fn read_block(builder: &mut Builder<'_>, pair: Pair<'_, Rule>) -> Block {
    let span = builder.span_of(&pair);
    let mut side = Side::Identity;
    let mut declarations = Vec::new();
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::schema_side if inner.as_str() == "resource" => side = Side::Resource,
            Rule::declaration => declarations.push(read_declaration(builder, inner)),
            _ => {}
        }
    }
    Block {
        side,
        span,
        declarations,
    }
}

fn read_declaration(builder: &mut Builder<'_>, pair: Pair<'_, Rule>) -> Declaration {
    let mut attribute = Attribute::Name("".into());
    let mut attribute_span = builder.span_of(&pair);
    let mut ty = WrittenType::String;
    let mut type_span = attribute_span;
    let mut required = false;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::attribute => {
                attribute_span = builder.span_of(&inner);
                attribute = builder.attribute(inner);
            }
            Rule::schema_type => {
                type_span = builder.span_of(&inner);
                ty = read_type(builder, inner);
            }
            Rule::required_kw => required = true,
            _ => {}
        }
    }
    Declaration {
        attribute,
        attribute_span,
        ty,
        type_span,
        required,
    }
}

fn read_type(builder: &mut Builder<'_>, pair: Pair<'_, Rule>) -> WrittenType {
    let Some(inner) = pair.into_inner().next() else {
        return WrittenType::String;
    };
    match inner.as_rule() {
        Rule::int_kw => WrittenType::Int,
        Rule::bool_kw => WrittenType::Bool,
        Rule::enum_type => WrittenType::Enum(read_enum(builder, inner)),
        Rule::set_type => WrittenType::Set(
            inner
                .into_inner()
                .find(|p| p.as_rule() == Rule::enum_type)
                .map(|e| read_enum(builder, e)),
        ),
        _ => WrittenType::String,
    }
}

fn read_enum(builder: &mut Builder<'_>, pair: Pair<'_, Rule>) -> Vec<Literal> {
    pair.into_inner()
        .find(|p| p.as_rule() == Rule::list)
        .map(|list| builder.list(list))
        .unwrap_or_default()
}
