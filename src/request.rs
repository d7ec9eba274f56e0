//! [`Request`]: what every decision path decides — an identity and a resource today,
//! with room for an action and a context later.

use crate::diagnostics::Code;
use crate::entity::{strict_object, Identity, Resource};
use crate::error::InputError;

/// One authorization question: may `identity` reach `resource`?
///
/// [`Policy::decide`](crate::Policy::decide) and [`Policy::allows`](crate::Policy::allows)
/// take a `Request`; [`Policy::authorize`](crate::Policy::authorize) and
/// [`Policy::is_allowed`](crate::Policy::is_allowed) are the same decisions on borrowed
/// parts. Fields are private so that an action and a context can join later without
/// breaking callers.
///
/// ```
/// use tenure::{Policy, Request};
///
/// let policy = Policy::compile("role = dba grants type = postgres;")?;
/// let request = Request::from_json(
///     r#"{"identity": {"role": "dba"}, "resource": {"type": "postgres"}}"#,
/// )?;
/// assert!(policy.decide(&request).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Request {
    identity: Identity,
    resource: Resource,
}

impl Request {
    /// A request of `identity` for `resource`.
    pub fn new(identity: Identity, resource: Resource) -> Request {
        Request { identity, resource }
    }

    /// Who asks.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// What is asked for.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The identity and the resource, taken apart.
    pub fn into_parts(self) -> (Identity, Resource) {
        (self.identity, self.resource)
    }

    /// Reads `{"identity": {...}, "resource": {...}}`. Other keys are ignored (room for
    /// later fields); a duplicate key at any level is refused. Each entity is limited as
    /// in [`Identity::from_json`]. Error paths read `identity.groups[2]`; problems with
    /// the request object itself have the path `request`.
    ///
    /// # Errors
    /// Malformed JSON, a missing or duplicate `identity`/`resource`, or any problem of
    /// [`Identity::from_json`] in either entity.
    pub fn from_json(text: &str) -> Result<Request, InputError> {
        let fields = strict_object(
            text,
            "request",
            "a JSON object with `identity` and `resource`",
        )?;
        let field = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, raw)| raw.get())
                .ok_or_else(|| {
                    InputError::new(
                        Code::MissingField,
                        "request",
                        format!(
                            "missing `{key}`; a request is {{\"identity\": {{...}}, \"resource\": {{...}}}}"
                        ),
                    )
                })
        };
        let identity = Identity::from_json(field("identity")?)?;
        let resource = Resource::from_json(field("resource")?)?;
        Ok(Request { identity, resource })
    }
}

impl<'de> serde::Deserialize<'de> for Request {
    /// Reads the JSON form of [`Request::from_json`] through any serde deserializer.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Request, D::Error> {
        use serde::de::Error as _;
        let json = crate::entity::StrictJson::deserialize(deserializer)?;
        Request::from_json(&json.0.to_string()).map_err(D::Error::custom)
    }
}
