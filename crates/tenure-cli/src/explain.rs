//! `tenure explain`: why one request is decided as it is, rule by rule and atom by atom.
//!
//! The library computes the explanation ([`tenure::Policy::explain`]) and renders it
//! ([`tenure::explain::Explanation`]'s text and JSON); this module only reads the
//! command line and writes what the library returns.

use std::io::{self, Write};

use crate::authorize::read_request_flags;
use crate::report::{describe_io_error, load_policy};
use crate::{ExplainArgs, Format, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

pub(crate) fn run(args: &ExplainArgs) -> u8 {
    let Ok(policy) = load_policy(&args.policy) else {
        return EXIT_POLICY;
    };
    let (identity, resource) = match read_request_flags(&args.identity, &args.resource) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INPUT;
        }
    };
    let explanation = if args.all {
        policy.explain_all(&identity, &resource)
    } else {
        policy.explain(&identity, &resource)
    };
    let text = match args.format {
        Format::Human => explanation.render_text(),
        Format::Json => format!("{:#}\n", explanation.to_json()),
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        // Standard output closed (as under `| head`): nothing more to say.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!(
                "error: cannot write to standard output: {}",
                describe_io_error(&e)
            );
            EXIT_INPUT
        }
    }
}
