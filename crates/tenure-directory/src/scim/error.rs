//! The one error type of SCIM handling, with its RFC 7644 §3.12 JSON form.

use std::fmt;

/// The `schemas` URN of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A refused SCIM request: the HTTP status, the RFC 7644 `scimType` and a detail.
///
/// A request that fails changes nothing: [`crate::scim::handle`] returns the error
/// instead of an outcome, so there are no writes and no identity updates.
///
/// ```
/// use tenure_directory::scim::ScimError;
///
/// let error = ScimError::invalid_filter("expected an operator after `userName`");
/// assert_eq!(error.status, 400);
/// assert_eq!(error.code(), "tenure::scim::invalid_filter");
/// assert_eq!(error.to_json()["scimType"], "invalidFilter");
/// assert_eq!(error.to_json()["status"], "400");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    /// The HTTP status: 400, 404, 405, 409, 412, 413 or 500.
    pub status: u16,
    /// The RFC 7644 `scimType` (`invalidFilter`, `invalidSyntax`, `invalidValue`,
    /// `invalidPath`, `noTarget`, `mutability`, `uniqueness`, `tooMany`, and this crate's
    /// `preconditionFailed`), when the status has one.
    pub scim_type: Option<&'static str>,
    /// What is wrong, for people; user input in backticks.
    pub detail: String,
}

impl ScimError {
    /// An error with any status and type; prefer the named constructors.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidFilter`: a filter that does not parse.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }

    /// 400 `invalidSyntax`: malformed JSON or a request that has the wrong shape.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidValue`: a value of the wrong type or out of range.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    /// 400 `invalidPath`: a PATCH path that does not parse.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    /// 400 `noTarget`: a PATCH path that selects nothing where something is needed.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }

    /// 400 `mutability`: an attempt to change what cannot change.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }

    /// 404: no such resource or endpoint.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 405: the endpoint does not accept this method.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }

    /// 409 `uniqueness`: another resource already holds the value.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    /// 412 `preconditionFailed`: `If-Match` names another version.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, Some("preconditionFailed"), detail)
    }

    /// 500: the data behind [`crate::scim::ScimData`] failed.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// A stable code for this error, such as `tenure::scim::invalid_filter` or
    /// `tenure::scim::not_found`.
    pub fn code(&self) -> &'static str {
        match (self.status, self.scim_type) {
            (_, Some("invalidFilter")) => "tenure::scim::invalid_filter",
            (_, Some("invalidSyntax")) => "tenure::scim::invalid_syntax",
            (_, Some("invalidValue")) => "tenure::scim::invalid_value",
            (_, Some("invalidPath")) => "tenure::scim::invalid_path",
            (_, Some("noTarget")) => "tenure::scim::no_target",
            (_, Some("mutability")) => "tenure::scim::mutability",
            (_, Some("uniqueness")) => "tenure::scim::uniqueness",
            (_, Some("tooMany")) => "tenure::scim::too_many",
            (_, Some("preconditionFailed")) => "tenure::scim::precondition_failed",
            (404, _) => "tenure::scim::not_found",
            (405, _) => "tenure::scim::method_not_allowed",
            (413, _) => "tenure::scim::too_large",
            (500, _) => "tenure::scim::internal",
            _ => "tenure::scim::error",
        }
    }

    /// The RFC 7644 §3.12 error body: `schemas`, `status` (a string), `scimType` when
    /// there is one, and `detail`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("schemas".into(), serde_json::json!([ERROR_SCHEMA]));
        body.insert("status".into(), self.status.to_string().into());
        if let Some(scim_type) = self.scim_type {
            body.insert("scimType".into(), scim_type.into());
        }
        body.insert("detail".into(), self.detail.clone().into());
        serde_json::Value::Object(body)
    }
}

impl miette::Diagnostic for ScimError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(ScimError::code(self)))
    }
}
