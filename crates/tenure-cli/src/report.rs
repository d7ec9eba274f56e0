//! Reading policy files and reporting their problems on standard error.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use tenure::{Policy, MAX_DISPLAYED_DIAGNOSTICS};

/// A policy file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} `{path}`: {reason}")]
struct ReadError {
    what: &'static str,
    path: String,
    reason: String,
}

/// Reads every policy file as (name, text), the name being the path as given.
fn read_policy_files(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Vec<ReadError>> {
    let mut sources = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => errors.push(ReadError {
                what: "policy file",
                path: name,
                reason: describe_io_error(&e),
            }),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

/// An I/O error in words, lowercase.
pub(crate) fn describe_io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidData => "file is not valid UTF-8".to_string(),
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            // Drop the " (os error N)" suffix and lowercase the first letter.
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

/// Whether diagnostics on standard error should be coloured: only on a terminal, and
/// only when `NO_COLOR` is unset or empty (<https://no-color.org>).
fn stderr_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && io::stderr().is_terminal()
}

/// Writes every diagnostic of `error` to standard error, with source snippets.
pub(crate) fn print_diagnostics(error: &tenure::Error) {
    print_policy_problems(error.diagnostics());
}

/// Writes diagnostics to standard error, with source snippets.
pub(crate) fn print_policy_problems(diagnostics: &[tenure::PolicyDiagnostic]) {
    let terminal = io::stderr().is_terminal();
    let theme = match (terminal, stderr_color()) {
        (true, true) => miette::GraphicalTheme::unicode(),
        (true, false) => miette::GraphicalTheme::unicode_nocolor(),
        (false, _) => miette::GraphicalTheme::none(),
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100);
    let mut out = String::new();
    // At most `MAX_DISPLAYED_DIAGNOSTICS` snippets, then a count: 40 000 errors must not
    // print 40 000 snippets.
    for diagnostic in diagnostics.iter().take(MAX_DISPLAYED_DIAGNOSTICS) {
        let report = diagnostic.to_report();
        let mut rendered = String::new();
        if handler
            .render_report(&mut rendered, report.as_ref())
            .is_err()
        {
            // Rendering into a String cannot fail in practice; fall back to the plain form.
            rendered = format!("error: {diagnostic}\n");
        }
        out.push_str(&rendered);
        out.push('\n');
    }
    let n = diagnostics.len();
    if let Some(more) = tenure::more_than_displayed(n) {
        out.push_str(&format!("error: {more}\n"));
    }
    out.push_str(&format!(
        "error: {n} {} found\n",
        plural(n, "problem", "problems")
    ));
    let _ = io::stderr().lock().write_all(out.as_bytes());
}

fn print_read_errors(errors: &[ReadError]) {
    let mut stderr = io::stderr().lock();
    for e in errors {
        let _ = writeln!(stderr, "error: {e}");
    }
}

pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Reads and compiles the policy files, reporting problems on standard error.
pub(crate) fn load_policy(paths: &[PathBuf]) -> Result<Policy, ()> {
    load_policy_with_hash(paths).map(|(policy, _)| policy)
}

/// As [`load_policy`], with the content hash of the sources (journal records name the
/// policy that computed an access change by it).
pub(crate) fn load_policy_with_hash(paths: &[PathBuf]) -> Result<(Policy, String), ()> {
    let sources = read_policy_files(paths).map_err(|errors| print_read_errors(&errors))?;
    let hash = tenure_directory::policy_hash(&sources);
    let policy = Policy::compile_sources(sources).map_err(|error| print_diagnostics(&error))?;
    Ok((policy, hash))
}

/// Reads and parses a schema file, reporting problems on standard error.
pub(crate) fn read_schema(path: &std::path::Path) -> Result<tenure::schema::Schema, ()> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        print_read_errors(&[ReadError {
            what: "schema",
            path: path.display().to_string(),
            reason: describe_io_error(&e),
        }]);
    })?;
    tenure::schema::Schema::parse_named(&path.display().to_string(), &text)
        .map_err(|error| print_diagnostics(&error))
}
