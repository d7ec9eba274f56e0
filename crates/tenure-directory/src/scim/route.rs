//! Request paths: which endpoint a path names, and its query parameters.
//!
//! Everything up to and including the SCIM base is dropped — `/scim/v2`, `/v2`, `/scim`,
//! a full URL, a leading `~`, a test tool's `{{SCIMBaseURL}}` — by finding the `Users`
//! or `Groups` segment that is followed by at most one more segment.

use super::error::ScimError;
use super::record::ScimKind;

/// The longest request path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 8192;

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/Users`, `/Groups`.
    Collection,
    /// `/Users/.search`, `/Groups/.search`.
    Search,
    /// `/Users/{id}`, `/Groups/{id}`.
    Resource(String),
}

/// A routed path: the resource type, the target and the decoded query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub kind: ScimKind,
    pub target: Target,
    pub query: Vec<(String, String)>,
}

impl Route {
    /// The query parameter `name` (case-insensitive), if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes `text`, reading `+` as a space; an invalid escape stays as written.
///
/// # Errors
/// 400 `invalidSyntax` when the decoded bytes are not UTF-8.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> Result<String, ScimError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' && plus_is_space { b' ' } else { b });
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ScimError::invalid_syntax("the request path is not UTF-8 once decoded"))
}

/// Routes `path`.
///
/// # Errors
/// 404 when no `Users`/`Groups` endpoint is named; 400 for a duplicated query parameter
/// or undecodable text.
pub(crate) fn route(path: &str) -> Result<Route, ScimError> {
    if path.len() > MAX_PATH_LEN {
        return Err(ScimError::new(
            414,
            None,
            format!("the request path is longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let path = path.split('#').next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').collect();
    let mut found = None;
    for (i, segment) in segments.iter().enumerate() {
        let kind = match *segment {
            "Users" => ScimKind::User,
            "Groups" => ScimKind::Group,
            _ => continue,
        };
        let rest: Vec<&str> = segments[i + 1..].to_vec();
        let rest: Vec<&str> = match rest.as_slice() {
            [.., ""] => rest[..rest.len() - 1].to_vec(),
            _ => rest,
        };
        if rest.len() <= 1 {
            found = Some((kind, rest.first().map(|s| s.to_string())));
            break;
        }
    }
    let Some((kind, rest)) = found else {
        return Err(ScimError::not_found(format!(
            "no SCIM endpoint at `{path}`; expected `/Users`, `/Groups`, `/Users/{{id}}`, `/Groups/{{id}}` or `/…/.search`"
        )));
    };
    let target = match rest {
        None => Target::Collection,
        Some(s) if s == ".search" => Target::Search,
        Some(s) => {
            let id = decode(&s, false)?;
            if id.is_empty() {
                Target::Collection
            } else {
                Target::Resource(id)
            }
        }
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k, true)?;
        let v = decode(v, true)?;
        if params.iter().any(|(p, _)| p.eq_ignore_ascii_case(&k)) {
            return Err(ScimError::invalid_syntax(format!(
                "query parameter `{k}` is given twice"
            )));
        }
        params.push((k, v));
    }
    Ok(Route {
        kind,
        target,
        query: params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bases() {
        for path in [
            "/scim/v2/Users",
            "/v2/Users",
            "/Users",
            "/scim/Users",
            "~/scim/Users",
            "https://example.com/scim/v2/Users/",
            "{{SCIMBaseURL}}/Users",
            "{{Protocol}}://{{Server}}{{Port}}/{{Api}}/Users",
        ] {
            let r = route(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(r.target, Target::Collection, "{path}");
        }
        let r = route("/scim/v2/Users?filter=userName%20eq%20%22a%40b%22&count=1+0")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.param("FILTER"), Some("userName eq \"a@b\""));
        assert_eq!(r.param("count"), Some("1 0"));
        assert!(route("/scim/v2/Schemas").is_err());
        assert!(route("/Users/a/b").is_err());
        assert_eq!(decode("%zz%4", true).ok().as_deref(), Some("%zz%4"));
    }
}
