//! Bearer tokens and their scopes, read from the token file.
//!
//! One token per line, optionally followed by its scopes (`scim`, `read`, `admin`,
//! separated by spaces or commas; `scim` when none are given). Blank lines and lines
//! starting with `#` are skipped. Tokens are kept only as SHA-256 digests and compared in
//! constant time; no token ever appears in a message.

use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The SCIM endpoints under `/scim/v2` (what an identity provider needs).
    Scim,
    /// Read-only Tenure endpoints: entitlements, access, the journal feed.
    Read,
    /// Inventory changes and policy reload.
    Admin,
}

impl Scope {
    fn parse(word: &str) -> Option<Scope> {
        match word {
            "scim" => Some(Scope::Scim),
            "read" => Some(Scope::Read),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// The accepted tokens: digests with their scopes.
#[derive(Debug, Clone)]
pub struct Tokens {
    entries: Vec<([u8; 32], Vec<Scope>)>,
}

/// Why the token file was refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TokenError {
    /// The file cannot be read.
    #[error("cannot read the token file `{path}`: {reason}")]
    #[diagnostic(code(tenure::serve::token_file))]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file holds no token.
    #[error("the token file `{path}` holds no token")]
    #[diagnostic(
        code(tenure::serve::no_token),
        help(
            "write one bearer token per line, optionally followed by its scopes: scim, read, admin"
        )
    )]
    Empty {
        /// The file.
        path: String,
    },
    /// A word after a line's token is not a scope. The word is not printed: it may be a
    /// second token written on the same line by mistake.
    #[error("the token file `{path}`, line {line}: word {position} after the token is not a scope (expected scim, read or admin)")]
    #[diagnostic(code(tenure::serve::token_scope))]
    Scope {
        /// The file.
        path: String,
        /// The line number.
        line: usize,
        /// Which word after the token (1 for the first).
        position: usize,
    },
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// Reads the token file.
    ///
    /// # Errors
    /// The file is missing or unreadable, holds no token, or names an unknown scope.
    pub fn read(path: &Path) -> Result<Tokens, TokenError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TokenError::Unreadable {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        Tokens::parse(&text, &name)
    }

    /// Reads tokens from the text of a token file named `name` (for messages).
    ///
    /// ```
    /// use tenure_server::tokens::{Scope, Tokens};
    ///
    /// let tokens = Tokens::parse("okta-secret\nops-secret read, admin\n", "tokens")?;
    /// assert_eq!(tokens.scopes("okta-secret"), Some(&[Scope::Scim][..]));
    /// assert_eq!(tokens.scopes("ops-secret"), Some(&[Scope::Read, Scope::Admin][..]));
    /// assert_eq!(tokens.scopes("guess"), None);
    /// # Ok::<(), tenure_server::tokens::TokenError>(())
    /// ```
    ///
    /// # Errors
    /// No token, or an unknown scope.
    pub fn parse(text: &str, name: &str) -> Result<Tokens, TokenError> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty());
            let Some(token) = words.next() else { continue };
            let mut scopes = Vec::new();
            for (position, word) in words.enumerate() {
                let scope = Scope::parse(word).ok_or_else(|| TokenError::Scope {
                    path: name.to_string(),
                    line: n + 1,
                    position: position + 1,
                })?;
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
            if scopes.is_empty() {
                scopes.push(Scope::Scim);
            }
            entries.push((digest(token), scopes));
        }
        if entries.is_empty() {
            return Err(TokenError::Empty {
                path: name.to_string(),
            });
        }
        Ok(Tokens { entries })
    }

    /// The scopes of `token`, if it is one of the accepted tokens. Every entry is
    /// compared, in constant time, whatever matches.
    pub fn scopes(&self, token: &str) -> Option<&[Scope]> {
        let presented = digest(token);
        let mut found = None;
        for (known, scopes) in &self.entries {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(scopes.as_slice());
            }
        }
        found
    }
}
