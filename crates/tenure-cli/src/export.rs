//! `tenure export --to cedar`: the library's Cedar exporter (`tenure::export`), and the
//! schema as a Cedar schema.

use std::io::{self, Write};

use tenure::export::{to_cedar_schema, to_cedar_with, CedarOptions};
use tenure::schema::AttributeType;
use tenure::Side;

use crate::report::{describe_io_error, load_policy, read_schema};
use crate::{CedarExportArgs, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

pub(crate) fn run(args: &CedarExportArgs) -> u8 {
    let Ok(policy) = load_policy(&args.policy) else {
        return EXIT_POLICY;
    };
    let schema = match &args.schema {
        Some(path) => match read_schema(path) {
            Ok(schema) => Some(schema),
            Err(()) => return EXIT_POLICY,
        },
        None => None,
    };
    let mut options = CedarOptions::default();
    if let Some(schema) = &schema {
        // The schema says which attributes hold sets.
        options.set_attributes = [Side::Identity, Side::Resource]
            .into_iter()
            .flat_map(|side| schema.declarations(side))
            .filter(|(_, d)| d.ty() == AttributeType::Set)
            .map(|(a, _)| a.key().to_string())
            .collect();
    }
    let cedar = match to_cedar_with(&policy, &options) {
        Ok(cedar) => cedar,
        Err(error) => {
            let mut stderr = io::stderr().lock();
            for problem in error.problems() {
                let _ = writeln!(stderr, "error[{}]: {problem}", problem.code().as_str());
                if let Some(help) = problem.code().help() {
                    let _ = writeln!(stderr, "  help: {help}");
                }
            }
            let n = error.problems().len();
            let _ = writeln!(
                stderr,
                "error: {n} {} cannot be expressed in Cedar; nothing was exported",
                if n == 1 { "construct" } else { "constructs" }
            );
            return EXIT_POLICY;
        }
    };
    let mut out = io::stdout().lock();
    let mut written = out.write_all(cedar.as_bytes());
    if let Some(schema) = &schema {
        let text = to_cedar_schema(schema);
        written = written.and_then(|()| match &args.schema_out {
            Some(path) => std::fs::write(path, &text),
            None => write!(
                out,
                "\n// ---- Cedar schema (write it to its own file with --schema-out) ----\n{text}"
            ),
        });
    }
    match written.and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: cannot write the export: {}", describe_io_error(&e));
            EXIT_INPUT
        }
    }
}
