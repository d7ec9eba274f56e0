//! `tenure check --schema` (a policy's type errors against its schema) and
//! `tenure validate` (identities or resources against a schema).

use std::io::{self, Write};

use tenure::Side;

use crate::report::{describe_io_error, print_policy_problems, read_schema};
use crate::{ValidateArgs, ValidateFormat, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

/// Checks a compiled policy against the schema at `path`: prints the problems as
/// diagnostics and returns `EXIT_POLICY` when there are any.
pub(crate) fn check_policy(policy: &tenure::Policy, path: &std::path::Path) -> Result<(), u8> {
    let schema = read_schema(path).map_err(|()| EXIT_POLICY)?;
    let problems = policy.check_against(&schema);
    if problems.is_empty() {
        Ok(())
    } else {
        print_policy_problems(&problems);
        Err(EXIT_POLICY)
    }
}

pub(crate) fn validate(args: &ValidateArgs) -> u8 {
    let Ok(schema) = read_schema(&args.schema) else {
        return EXIT_INPUT;
    };
    let (side, path) = match (&args.identities, &args.resources) {
        (Some(p), None) => (Side::Identity, p),
        (None, Some(p)) => (Side::Resource, p),
        _ => {
            eprintln!("error: give exactly one of --identities and --resources");
            return EXIT_INPUT;
        }
    };
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        if let Err(e) = io::Read::read_to_string(&mut io::stdin(), &mut text) {
            eprintln!(
                "error: cannot read standard input: {}",
                describe_io_error(&e)
            );
            return EXIT_INPUT;
        }
        text
    } else {
        match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!(
                    "error: cannot read `{}`: {}",
                    path.display(),
                    describe_io_error(&e)
                );
                return EXIT_INPUT;
            }
        }
    };
    let problems = match schema.validate_json_lines(side, &text) {
        Ok(problems) => problems,
        Err(e) => {
            eprintln!("error: {}: {e} [{}]", path.display(), e.code().as_str());
            return EXIT_INPUT;
        }
    };
    let name = path.display().to_string();
    let mut out = io::stdout().lock();
    let written = match args.format {
        ValidateFormat::Human => problems
            .iter()
            .try_for_each(|p| writeln!(out, "{name}:{p}"))
            .and_then(|()| {
                if problems.is_empty() {
                    writeln!(out, "ok: every line of {name} fits the schema")
                } else {
                    Ok(())
                }
            }),
        ValidateFormat::Json => {
            let array: Vec<serde_json::Value> = problems
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "file": name, "line": p.line(), "path": p.path(),
                        "code": p.code().as_str(), "message": p.message(),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::Array(array))
        }
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        eprintln!("error: cannot write: {}", describe_io_error(&e));
        return EXIT_INPUT;
    }
    if problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_POLICY
    }
}
