//! `tenure check`: parse and check policy files as one policy set.

use crate::report::{load_policy, plural};
use crate::{CheckArgs, EXIT_OK, EXIT_POLICY};

pub(crate) fn run(args: &CheckArgs) -> u8 {
    let Ok(policy) = load_policy(&args.files) else {
        return EXIT_POLICY;
    };
    if let Some(schema) = &args.schema {
        if let Err(code) = crate::schema_cmd::check_policy(&policy, schema) {
            return code;
        }
    }
    let rules = policy.len();
    let files = args.files.len();
    println!(
        "ok: {rules} {} in {files} {}",
        plural(rules, "rule", "rules"),
        plural(files, "file", "files")
    );
    EXIT_OK
}
