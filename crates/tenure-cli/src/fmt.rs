//! `tenure fmt`: rewrite policy files in the canonical layout of `tenure::format`.
//!
//! The library formats; this module reads, writes and reports. Every file is handled,
//! even after one fails, and the exit status is the worst outcome: 2 when a file cannot
//! be read or formatted or written, else 1 when `--check` found a file that would change,
//! else 0.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::report::{describe_io_error, print_diagnostics};
use crate::FmtArgs;

/// Exit status: every file is formatted (or, with `--check`, already was).
const EXIT_FORMATTED: u8 = 0;
/// Exit status: with `--check`, a file would change.
const EXIT_WOULD_CHANGE: u8 = 1;
/// Exit status: a file cannot be read, is not UTF-8, does not parse, or cannot be
/// written.
const EXIT_ERROR: u8 = 2;

/// The name `-` stands for standard input (and output).
const STDIN_NAME: &str = "<stdin>";

/// A file `tenure fmt` could not handle.
#[derive(Debug, thiserror::Error)]
enum FmtError {
    #[error("cannot read policy file `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write policy file `{path}`: {reason}")]
    Write { path: String, reason: String },
    #[error("cannot write to standard output: {reason}")]
    Stdout { reason: String },
    /// The diagnostics were printed already.
    #[error("`{path}` does not parse")]
    Parse { path: String },
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
}

pub(crate) fn run(args: &FmtArgs) -> u8 {
    let mut status = EXIT_FORMATTED;
    for path in &args.files {
        let result = if path.as_os_str() == "-" {
            format_stdin(args.check)
        } else {
            format_file(path, args.check)
        };
        match result {
            Ok(Outcome::Unchanged) => {}
            Ok(Outcome::Changed) if args.check => status = status.max(EXIT_WOULD_CHANGE),
            Ok(Outcome::Changed) => {}
            Err(error) => {
                if !matches!(error, FmtError::Parse { .. }) {
                    eprintln!("error: {error}");
                }
                status = EXIT_ERROR;
            }
        }
    }
    status
}

/// Formats one file in place, or with `check` prints its diff.
fn format_file(path: &Path, check: bool) -> Result<Outcome, FmtError> {
    let name = path.display().to_string();
    let read_error = |e: &io::Error| FmtError::Read {
        path: name.clone(),
        reason: describe_io_error(e),
    };
    let bytes = fs::read(path).map_err(|e| read_error(&e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error(&io::Error::from(io::ErrorKind::InvalidData)))?;
    let formatted = format_text(&name, &text)?;
    if formatted == text {
        return Ok(Outcome::Unchanged);
    }
    if check {
        print_diff(&name, &text, &formatted)?;
    } else {
        write_atomically(path, &formatted).map_err(|e| FmtError::Write {
            path: name,
            reason: describe_io_error(&e),
        })?;
    }
    Ok(Outcome::Changed)
}

/// Formats standard input to standard output, or with `check` prints its diff.
fn format_stdin(check: bool) -> Result<Outcome, FmtError> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| FmtError::Read {
            path: STDIN_NAME.to_string(),
            reason: describe_io_error(&e),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| FmtError::Read {
        path: STDIN_NAME.to_string(),
        reason: describe_io_error(&io::Error::from(io::ErrorKind::InvalidData)),
    })?;
    let formatted = format_text(STDIN_NAME, &text)?;
    let outcome = if formatted == text {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    if check {
        if matches!(outcome, Outcome::Changed) {
            print_diff(STDIN_NAME, &text, &formatted)?;
        }
    } else {
        write_stdout(&formatted)?;
    }
    Ok(outcome)
}

/// Formats `text`, printing the diagnostics when it does not parse.
fn format_text(name: &str, text: &str) -> Result<String, FmtError> {
    tenure::format::format_source(name, text).map_err(|error| {
        print_diagnostics(&error);
        FmtError::Parse {
            path: name.to_string(),
        }
    })
}

/// Writes the unified diff between `before` and `after` to standard output.
fn print_diff(name: &str, before: &str, after: &str) -> Result<(), FmtError> {
    let diff = similar::TextDiff::from_lines(before, after);
    let formatted_name = format!("{name} (formatted)");
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(name, &formatted_name)
        .to_string();
    write_stdout(&text)
}

fn write_stdout(text: &str) -> Result<(), FmtError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| FmtError::Stdout {
            reason: describe_io_error(&e),
        })
}

/// Replaces the file at `path` with `text` so that a reader sees the old content or the
/// new, never a mix: a new file in the same directory, written, synced, given the old
/// file's permissions, then renamed over the old one. A symbolic link is followed, so
/// the link stays and its target changes.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let target: PathBuf = fs::canonicalize(path)?;
    let directory = target.parent().unwrap_or(Path::new("."));
    let permissions = fs::metadata(&target)?.permissions();
    let mut temporary = tempfile::Builder::new()
        .prefix(".tenure-fmt-")
        .suffix(".tmp")
        .tempfile_in(directory)?;
    temporary.write_all(text.as_bytes())?;
    temporary.as_file().sync_all()?;
    fs::set_permissions(temporary.path(), permissions)?;
    temporary.persist(&target).map_err(|e| e.error)?;
    // Make the rename itself durable where directories can be opened and synced.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(directory) {
        let _ = dir.sync_all();
    }
    Ok(())
}
