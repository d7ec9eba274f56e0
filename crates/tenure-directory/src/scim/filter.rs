//! Attribute paths and filters (RFC 7644 §3.4.2.2 and §3.5.2): text → [`Path`] /
//! [`Filter`], and their evaluation over JSON resources.
//!
//! A small recursive-descent parser: `or` binds weaker than `and`, `not` needs
//! parentheses, value paths (`emails[type eq "work"]`) nest one filter relative to the
//! elements of a multi-valued attribute. Limits: [`MAX_FILTER_LEN`] bytes,
//! [`MAX_FILTER_TERMS`] comparisons and [`MAX_FILTER_DEPTH`] levels of parentheses, `not`
//! and brackets, so no input can
//! overflow the stack.
//!
//! Leniency: an unquoted comparison value (`externalId eq jyoung`, as Microsoft Entra ID's
//! legacy requests send it) is read as the string up to the next space or bracket.
//! `true`, `false`, `null` and numbers keep their JSON meaning. A filter that is a bare
//! word (`filter=JDOE`) is refused: the operator is missing.

use serde_json::{Map, Value};

use super::attrs::{self, get_ci, is_case_exact, ENTERPRISE_USER};
use super::error::ScimError;

/// The longest filter or path accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// The deepest nesting of parentheses, `not` and brackets accepted.
pub const MAX_FILTER_DEPTH: usize = 16;
/// The most comparisons (`attr op value`, `attr pr`) one filter may hold.
pub const MAX_FILTER_TERMS: usize = 64;

/// An attribute path: `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:department`,
/// `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    /// The schema URN prefix, unless it is a core schema.
    pub urn: Option<String>,
    /// The attribute (or, for a path that is a whole extension URN, the URN).
    pub name: String,
    /// A value filter over the elements of a multi-valued attribute.
    pub filter: Option<Box<Filter>>,
    /// The sub-attribute.
    pub sub: Option<String>,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Str(String),
    /// A number, with its text (compared as text against string attributes).
    Number(f64, String),
    Bool(bool),
    Null,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(Path),
    Compare(Path, Op, Literal),
    /// `attr[filter]`: some element of `attr` matches `filter`.
    Has(Path, Box<Filter>),
}

/// Parses a filter such as `userName eq "ada" and not (emails pr)`.
///
/// # Errors
/// 400 `invalidFilter` naming what is wrong.
pub(crate) fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let mut parser = Parser::new(text).map_err(ScimError::invalid_filter)?;
    let filter = parser.or_expr().map_err(ScimError::invalid_filter)?;
    parser.ws();
    if !parser.at_end() {
        return Err(ScimError::invalid_filter(format!(
            "unexpected `{}` in filter `{text}`",
            parser.rest_preview()
        )));
    }
    Ok(filter)
}

/// Parses an attribute path, with an optional value filter and sub-attribute.
///
/// # Errors
/// A message naming what is wrong (the caller picks the SCIM error type).
pub(crate) fn parse_path(text: &str) -> Result<Path, String> {
    let mut parser = Parser::new(text)?;
    parser.ws();
    let path = parser.path(true)?;
    parser.ws();
    if !parser.at_end() {
        return Err(format!(
            "unexpected `{}` in path `{text}`",
            parser.rest_preview()
        ));
    }
    Ok(path)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Comparisons read so far.
    terms: usize,
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '$')
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

/// Splits `urn:…:attr.sub`, `attr.sub` or a whole schema URN into a path.
fn split_attribute(token: &str) -> Result<Path, String> {
    let whole_urn = [ENTERPRISE_USER, attrs::CORE_USER, attrs::CORE_GROUP]
        .iter()
        .any(|u| u.eq_ignore_ascii_case(token));
    if whole_urn {
        return Ok(Path {
            urn: None,
            name: token.to_string(),
            filter: None,
            sub: None,
        });
    }
    let (urn, rest) = if token.len() > 4 && token[..4].eq_ignore_ascii_case("urn:") {
        match token.rfind(':') {
            Some(i) => (Some(&token[..i]), &token[i + 1..]),
            None => (None, token),
        }
    } else {
        (None, token)
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if !valid_name(name) {
        return Err(format!("`{token}` is not an attribute path"));
    }
    if let Some(sub) = sub {
        if !valid_name(sub) {
            return Err(format!("`{token}` is not an attribute path"));
        }
    }
    let urn = urn.filter(|u| {
        !(u.eq_ignore_ascii_case(attrs::CORE_USER) || u.eq_ignore_ascii_case(attrs::CORE_GROUP))
    });
    Ok(Path {
        urn: urn.map(str::to_string),
        name: name.to_string(),
        filter: None,
        sub: sub.map(str::to_string),
    })
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Self, String> {
        if text.len() > MAX_FILTER_LEN {
            return Err(format!("longer than {MAX_FILTER_LEN} bytes"));
        }
        Ok(Parser {
            text,
            pos: 0,
            depth: 0,
            terms: 0,
        })
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn rest_preview(&self) -> String {
        self.rest().chars().take(20).collect()
    }

    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(format!("nested deeper than {MAX_FILTER_DEPTH} levels"));
        }
        Ok(())
    }

    /// The next run of letters, without consuming it.
    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Consumes keyword `word` (any case) when it stands alone.
    fn keyword(&mut self, word: &str) -> bool {
        let next = self.peek_word();
        if next.eq_ignore_ascii_case(word) {
            let after = self.rest()[next.len()..].chars().next();
            if after.is_none_or(|c| !is_path_char(c)) {
                self.pos += next.len();
                return true;
            }
        }
        false
    }

    fn or_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.and_expr()?;
        loop {
            let save = self.pos;
            self.ws();
            if self.pos > save && self.keyword("or") {
                self.ws();
                let right = self.and_expr()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        loop {
            let save = self.pos;
            self.ws();
            if self.pos > save && self.keyword("and") {
                self.ws();
                let right = self.unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Filter, String> {
        self.ws();
        if self.eat('(') {
            self.enter()?;
            let inner = self.or_expr()?;
            self.ws();
            if !self.eat(')') {
                return Err(format!("expected `)` at `{}`", self.rest_preview()));
            }
            self.depth -= 1;
            return Ok(inner);
        }
        let save = self.pos;
        if self.keyword("not") {
            self.ws();
            if self.eat('(') {
                self.enter()?;
                let inner = self.or_expr()?;
                self.ws();
                if !self.eat(')') {
                    return Err(format!("expected `)` at `{}`", self.rest_preview()));
                }
                self.depth -= 1;
                return Ok(Filter::Not(Box::new(inner)));
            }
            self.pos = save;
        }
        self.comparison()
    }

    /// An attribute path: `attr`, `urn:…:attr.sub`, and with `value_paths`,
    /// `attr[filter]` and `attr[filter].sub`.
    fn path(&mut self, value_paths: bool) -> Result<Path, String> {
        let rest = self.rest();
        let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
        if end == 0 {
            return Err(if rest.is_empty() {
                "expected an attribute path, found the end".to_string()
            } else {
                format!("expected an attribute path at `{}`", self.rest_preview())
            });
        }
        let token = &rest[..end];
        self.pos += end;
        let mut path = split_attribute(token)?;
        if self.peek() == Some('[') {
            if path.sub.is_some() {
                return Err(format!("a value filter cannot follow `{token}`"));
            }
            self.pos += 1;
            self.enter()?;
            let inner = self.or_expr()?;
            self.ws();
            if !self.eat(']') {
                return Err(format!("expected `]` at `{}`", self.rest_preview()));
            }
            self.depth -= 1;
            path.filter = Some(Box::new(inner));
            if value_paths && self.eat('.') {
                let rest = self.rest();
                let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
                let sub = &rest[..end];
                if !valid_name(sub) {
                    return Err(format!("`{sub}` is not a sub-attribute"));
                }
                self.pos += end;
                path.sub = Some(sub.to_string());
            }
        }
        Ok(path)
    }

    fn comparison(&mut self) -> Result<Filter, String> {
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(format!("more than {MAX_FILTER_TERMS} comparisons"));
        }
        let mut path = self.path(false)?;
        if let Some(inner) = path.filter.take() {
            return Ok(Filter::Has(path, inner));
        }
        let before = self.pos;
        self.ws();
        let word = self.peek_word();
        if self.pos == before || word.is_empty() {
            return Err(format!(
                "expected an operator (`eq`, `co`, `pr`, …) after `{}`",
                path_text(&path)
            ));
        }
        let op = match word.to_ascii_lowercase().as_str() {
            "pr" => {
                self.pos += word.len();
                return Ok(Filter::Present(path));
            }
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return Err(format!("unknown operator `{word}`")),
        };
        self.pos += word.len();
        let before = self.pos;
        self.ws();
        if self.pos == before {
            return Err(format!("expected a space after `{word}`"));
        }
        let literal = self.literal()?;
        Ok(Filter::Compare(path, op, literal))
    }

    fn literal(&mut self) -> Result<Literal, String> {
        if self.peek() == Some('"') {
            let rest = self.rest();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(i);
                    break;
                }
            }
            let end = end.ok_or_else(|| "unterminated string".to_string())?;
            let quoted = &rest[..=end];
            self.pos += end + 1;
            return match tenure::json::parse(quoted) {
                Ok(Value::String(s)) => Ok(Literal::Str(s)),
                _ => Err(format!("malformed string {quoted}")),
            };
        }
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"'))
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if token.is_empty() {
            return Err("expected a comparison value".to_string());
        }
        self.pos += end;
        Ok(match token {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            "null" => Literal::Null,
            _ if looks_numeric(token) => match token.parse::<f64>() {
                Ok(n) if n.is_finite() => Literal::Number(n, token.to_string()),
                _ => Literal::Str(token.to_string()),
            },
            _ => Literal::Str(token.to_string()),
        })
    }
}

fn looks_numeric(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token);
    digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
}

/// A path as text, for messages.
pub(crate) fn path_text(path: &Path) -> String {
    let mut text = String::new();
    if let Some(urn) = &path.urn {
        text.push_str(urn);
        text.push(':');
    }
    text.push_str(&path.name);
    if path.filter.is_some() {
        text.push_str("[…]");
    }
    if let Some(sub) = &path.sub {
        text.push('.');
        text.push_str(sub);
    }
    text
}

/// The object that holds `path`'s attribute in `resource`: the resource itself, or the
/// extension object its URN names. `user` routes bare enterprise names (`manager`) into
/// the enterprise extension when the top level does not have them.
pub(crate) fn container<'a>(
    resource: &'a Map<String, Value>,
    path: &Path,
    user: bool,
) -> Option<&'a Map<String, Value>> {
    match &path.urn {
        Some(urn) => get_ci(resource, urn).and_then(Value::as_object),
        None => {
            if user
                && get_ci(resource, &path.name).is_none()
                && attrs::is_enterprise_attribute(&path.name)
            {
                get_ci(resource, ENTERPRISE_USER).and_then(Value::as_object)
            } else {
                Some(resource)
            }
        }
    }
}

/// The attribute `path` names (before its filter and sub-attribute), if present.
fn attribute<'a>(resource: &'a Map<String, Value>, path: &Path, user: bool) -> Option<&'a Value> {
    if let Some(urn) = &path.urn {
        if get_ci(resource, urn).is_none() {
            // `urn:…:CustomExtension:2.0:User` as a whole path, split at its last colon.
            let whole = format!("{urn}:{}", path.name);
            if path.sub.is_none() && path.filter.is_none() {
                return get_ci(resource, &whole);
            }
            return None;
        }
    }
    container(resource, path, user).and_then(|c| get_ci(c, &path.name))
}

/// Every leaf value `path` reaches in `resource` (arrays flattened; a complex value with
/// no sub-attribute named stands for its `value`).
fn leaves<'a>(resource: &'a Map<String, Value>, path: &Path, user: bool) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let Some(value) = attribute(resource, path, user) else {
        return out;
    };
    let elements: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for element in elements {
        if let Some(filter) = &path.filter {
            match element.as_object() {
                Some(object) if matches_in(filter, object, Some(&path.name)) => {}
                _ => continue,
            }
        }
        let leaf = match (&path.sub, element) {
            (Some(sub), Value::Object(o)) => get_ci(o, sub),
            (Some(_), _) => None,
            (None, Value::Object(o)) => get_ci(o, "value"),
            (None, other) => Some(other),
        };
        match leaf {
            Some(Value::Array(items)) => out.extend(items.iter()),
            Some(Value::Null) | None => {}
            Some(leaf) => out.push(leaf),
        }
    }
    out
}

/// Whether a User (`user`) or Group resource matches `filter`.
pub(crate) fn matches(filter: &Filter, resource: &Map<String, Value>, user: bool) -> bool {
    eval(filter, resource, user, None)
}

/// Whether one element of multi-valued attribute `parent` matches a value filter.
pub(crate) fn matches_in(
    filter: &Filter,
    element: &Map<String, Value>,
    parent: Option<&str>,
) -> bool {
    eval(filter, element, false, parent)
}

fn eval(filter: &Filter, resource: &Map<String, Value>, user: bool, parent: Option<&str>) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, resource, user, parent) && eval(b, resource, user, parent),
        Filter::Or(a, b) => eval(a, resource, user, parent) || eval(b, resource, user, parent),
        Filter::Not(a) => !eval(a, resource, user, parent),
        Filter::Present(path) => leaves(resource, path, user).iter().any(|v| !is_empty(v)),
        Filter::Has(path, inner) => match attribute(resource, path, user) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_object)
                .any(|o| eval(inner, o, false, Some(&path.name))),
            Some(Value::Object(o)) => eval(inner, o, false, Some(&path.name)),
            _ => false,
        },
        Filter::Compare(path, op, literal) => {
            let found = leaves(resource, path, user);
            let exact = is_case_exact(parent, &path.name, path.sub.as_deref());
            let any = |op: Op| found.iter().any(|leaf| compare(op, leaf, literal, exact));
            match (op, literal) {
                (Op::Eq, Literal::Null) => found.is_empty(),
                (Op::Ne, Literal::Null) => !found.is_empty(),
                (Op::Ne, _) => !any(Op::Eq),
                (op, _) => any(*op),
            }
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn compare(op: Op, leaf: &Value, literal: &Literal, exact: bool) -> bool {
    use std::cmp::Ordering;
    let strings = |a: &str, b: &str| {
        let (a, b) = if exact {
            (a.to_string(), b.to_string())
        } else {
            (a.to_lowercase(), b.to_lowercase())
        };
        match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Co => a.contains(&b),
            Op::Sw => a.starts_with(&b),
            Op::Ew => a.ends_with(&b),
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
        }
    };
    match (leaf, literal) {
        (Value::String(a), Literal::Str(b)) => strings(a, b),
        (Value::String(a), Literal::Number(_, text)) => strings(a, text),
        (Value::Number(a), Literal::Number(b, _)) => {
            let Some(a) = a.as_f64() else { return false };
            let ordering = a.partial_cmp(b);
            match op {
                Op::Eq => ordering == Some(Ordering::Equal),
                Op::Ne => ordering != Some(Ordering::Equal),
                Op::Gt => ordering == Some(Ordering::Greater),
                Op::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => ordering == Some(Ordering::Less),
                Op::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        (Value::Bool(a), Literal::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        _ => false,
    }
}

/// The one value `path` selects in `resource`, for the attribute mapping and sorting:
/// a filtered path picks the first primary match, else the first match; a multi-valued
/// attribute without a filter picks its preferred element (see [`preferred`]); with a
/// sub-attribute, that element's sub-attribute.
pub(crate) fn lookup<'a>(
    resource: &'a Map<String, Value>,
    path: &Path,
    user: bool,
) -> Option<&'a Value> {
    let value = attribute(resource, path, user)?;
    let element = match value {
        Value::Array(items) => {
            let objects: Vec<&'a Map<String, Value>> =
                items.iter().filter_map(Value::as_object).collect();
            if objects.is_empty() {
                // An array of plain values: the array itself (a set), or nothing to pick.
                if path.filter.is_some() || path.sub.is_some() {
                    return None;
                }
                return Some(value);
            }
            let chosen = match &path.filter {
                Some(filter) => {
                    let hits: Vec<_> = objects
                        .into_iter()
                        .filter(|o| matches_in(filter, o, Some(&path.name)))
                        .collect();
                    hits.iter()
                        .find(|o| get_ci(o, "primary") == Some(&Value::Bool(true)))
                        .or_else(|| hits.first())
                        .copied()
                }
                None => preferred(&objects),
            }?;
            return match &path.sub {
                Some(sub) => get_ci(chosen, sub),
                None => items.iter().find(|v| v.as_object() == Some(chosen)),
            };
        }
        other => other,
    };
    match (&path.filter, &path.sub, element) {
        (Some(filter), _, Value::Object(o)) if !matches_in(filter, o, Some(&path.name)) => None,
        (_, Some(sub), Value::Object(o)) => get_ci(o, sub),
        // A bare string standing for a complex attribute's `value` (Entra's `manager`).
        (None, Some(sub), Value::String(_)) if sub.eq_ignore_ascii_case("value") => Some(element),
        (_, Some(_), _) => None,
        (_, None, other) => Some(other),
    }
}

/// The element a single value is read from: type `work` and primary, else type `work`,
/// else primary, else the first.
pub(crate) fn preferred<'a>(elements: &[&'a Map<String, Value>]) -> Option<&'a Map<String, Value>> {
    let is_work = |o: &Map<String, Value>| {
        get_ci(o, "type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("work"))
    };
    let is_primary = |o: &Map<String, Value>| get_ci(o, "primary") == Some(&Value::Bool(true));
    elements
        .iter()
        .find(|o| is_work(o) && is_primary(o))
        .or_else(|| elements.iter().find(|o| is_work(o)))
        .or_else(|| elements.iter().find(|o| is_primary(o)))
        .or_else(|| elements.first())
        .copied()
}

/// The attribute/value pairs an `a eq "x" and b eq "y"` filter pins down, so a PATCH
/// can create the element it names; `None` for any other filter.
pub(crate) fn equalities(filter: &Filter) -> Option<Vec<(String, Value)>> {
    match filter {
        Filter::And(a, b) => {
            let mut pairs = equalities(a)?;
            pairs.extend(equalities(b)?);
            Some(pairs)
        }
        Filter::Compare(path, Op::Eq, literal) if path.urn.is_none() && path.sub.is_none() => {
            let value = match literal {
                Literal::Str(s) => Value::String(s.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Number(_, text) => tenure::json::parse(text).ok()?,
                Literal::Null => return None,
            };
            Some(vec![(attrs::canonical(&path.name), value)])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_and_value_paths() {
        let f = parse_filter(r#"a eq "1" or b eq "2" and c pr"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(f, Filter::Or(_, _)));
        let f = parse_filter(r#"emails[type eq "work" and primary eq true]"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(f, Filter::Has(_, _)));
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p =
            parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.urn.as_deref(), Some(ENTERPRISE_USER));
        assert_eq!(p.name, "manager");
    }

    #[test]
    fn refuses_bare_words_and_deep_nesting() {
        assert!(parse_filter("JDOE").is_err());
        assert!(parse_filter("userName eq").is_err());
        assert!(parse_filter(&"(".repeat(100)).is_err());
        assert!(parse_filter(&format!("{}a pr{}", "not (".repeat(40), ")".repeat(40))).is_err());
    }
}
