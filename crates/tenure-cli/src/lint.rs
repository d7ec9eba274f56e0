//! `tenure lint`: the library's lints (`tenure::lint`) on policy files, configured by
//! flags and `tenure.toml`, rendered as human snippets, JSON, SARIF 2.1.0 or GitHub
//! workflow commands.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use tenure::lint::{lint, Finding, Level, Lint, LintOptions, LINTS};
use tenure::Policy;
use tenure_directory::mapping::Mapping;

use crate::report::{describe_io_error, print_diagnostics, read_schema};
use crate::{LintArgs, LintFormat, EXIT_INPUT, EXIT_OK, EXIT_POLICY};

/// The name of the configuration file searched upward from each policy file.
const CONFIG_FILE: &str = "tenure.toml";

pub(crate) fn run(args: &LintArgs) -> u8 {
    if let Some(name) = &args.explain {
        return explain(name);
    }
    if args.files.is_empty() {
        eprintln!("error: no policy file given (tenure lint POLICY...)");
        return EXIT_INPUT;
    }
    match lint_files(args) {
        Ok(findings) => {
            if write(args.format, &findings).is_err() {
                return EXIT_INPUT;
            }
            let threshold = args.fail_level.level();
            if findings.iter().any(|f| f.level() >= threshold) {
                EXIT_POLICY
            } else {
                EXIT_OK
            }
        }
        Err(()) => EXIT_INPUT,
    }
}

fn explain(name: &str) -> u8 {
    match Lint::find(name) {
        Some(lint) => {
            print!("{}", lint.explain());
            EXIT_OK
        }
        None => {
            eprintln!("error: unknown lint `{name}`; the lints are:");
            for l in LINTS {
                eprintln!("  {} {:<22} {}", l.code, l.name, l.summary);
            }
            EXIT_INPUT
        }
    }
}

/// Reads the policy files, schema, mapping and configurations; lints. Problems that stop
/// the run are printed on standard error.
fn lint_files(args: &LintArgs) -> Result<Vec<Finding>, ()> {
    let mut sources = Vec::with_capacity(args.files.len());
    for path in &args.files {
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push((path.display().to_string(), text)),
            Err(e) => {
                eprintln!(
                    "error: cannot read policy file `{}`: {}",
                    path.display(),
                    describe_io_error(&e)
                );
                return Err(());
            }
        }
    }
    let policy = Policy::compile_sources(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .map_err(|e| print_diagnostics(&e))?;
    let mut base = LintOptions::new();
    if let Some(path) = &args.schema {
        base = base.with_schema(read_schema(path)?);
    }
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                eprintln!(
                    "error: cannot read mapping `{}`: {}",
                    path.display(),
                    describe_io_error(&e)
                );
            })?;
            Mapping::from_toml(&text).map_err(|e| {
                eprintln!("error: {}: {e} [{}]", path.display(), e.code());
            })?
        }
        None => Mapping::default(),
    };
    let mapped: Vec<String> = mapping
        .scim_attributes_written()
        .map(str::to_string)
        .collect();
    base = base.with_mapped_attributes(mapped);
    // Which configuration governs which files: `--config`, none, or the nearest
    // `tenure.toml` above each file.
    let mut groups: BTreeMap<Option<PathBuf>, Vec<String>> = BTreeMap::new();
    for path in &args.files {
        let config = if args.no_config {
            None
        } else if let Some(c) = &args.config {
            Some(c.clone())
        } else {
            find_config(path)
        };
        groups
            .entry(config)
            .or_default()
            .push(path.display().to_string());
    }
    let mut findings = Vec::new();
    for (config, files) in groups {
        let mut options = base.clone();
        if let Some(config) = &config {
            let text = std::fs::read_to_string(config).map_err(|e| {
                eprintln!(
                    "error: cannot read configuration `{}`: {}",
                    config.display(),
                    describe_io_error(&e)
                );
            })?;
            options.apply_config(&text).map_err(|e| {
                eprintln!("error: {}: {e} [{}]", config.display(), e.code().as_str());
            })?;
        }
        // Flags override the configuration, in order: allow, warn, deny.
        for (names, level) in [
            (&args.allow, Level::Allow),
            (&args.warn, Level::Warn),
            (&args.deny, Level::Deny),
        ] {
            for name in names {
                options
                    .set_level(name, level)
                    .map_err(|e| eprintln!("error: {e}"))?;
            }
        }
        findings.extend(
            lint(&policy, &options)
                .into_iter()
                .filter(|f| files.iter().any(|n| n == f.file())),
        );
    }
    let order: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    findings.sort_by_key(|f| {
        (
            order
                .iter()
                .position(|n| n == f.file())
                .unwrap_or(usize::MAX),
            f.location().line,
            f.location().column,
            f.lint().code,
        )
    });
    Ok(findings)
}

/// The nearest `tenure.toml` in the directory of `file` or above it.
fn find_config(file: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(file).ok()?;
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

fn write(format: LintFormat, findings: &[Finding]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let result = match format {
        LintFormat::Human => write_human(&mut out, findings),
        LintFormat::Json => {
            let array: Vec<serde_json::Value> = findings.iter().map(Finding::to_json).collect();
            writeln!(out, "{}", serde_json::Value::Array(array))
        }
        LintFormat::Sarif => writeln!(out, "{}", sarif(findings)),
        LintFormat::Github => write_github(&mut out, findings),
    };
    result.and_then(|()| out.flush()).inspect_err(|e| {
        eprintln!("error: cannot write the findings: {}", describe_io_error(e));
    })
}

fn write_human(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let terminal = io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match (terminal, no_color) {
        (true, false) => miette::GraphicalTheme::unicode(),
        (true, true) => miette::GraphicalTheme::unicode_nocolor(),
        (false, _) => miette::GraphicalTheme::none(),
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100);
    for f in findings {
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &Snippet(f)).is_err() {
            rendered = format!("{f}\n");
        }
        writeln!(out, "{rendered}")?;
    }
    let denied = findings.iter().filter(|f| f.level() == Level::Deny).count();
    let warned = findings.len() - denied;
    writeln!(
        out,
        "{} {}: {denied} deny, {warned} warn",
        findings.len(),
        if findings.len() == 1 {
            "finding"
        } else {
            "findings"
        }
    )
}

/// GitHub workflow commands: one `::error` or `::warning` line per finding.
fn write_github(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let command = match f.level() {
            Level::Deny => "error",
            _ => "warning",
        };
        let mut message = format!("{} (rule `{}`)", f.message(), f.rule_id());
        if let Some(help) = f.help() {
            message.push_str(&format!("\nhelp: {help}"));
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(f.file()),
            f.location().line,
            f.location().column,
            escape_property(&format!("{} {}", f.lint().code, f.lint().name)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "none",
    }
}

/// SARIF 2.1.0: the registry as `tool.driver.rules`, one result per finding with the
/// lint code as `ruleId` and the policy rule's id as a logical location.
pub(crate) fn sarif(findings: &[Finding]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = LINTS
        .iter()
        .map(|l| {
            serde_json::json!({
                "id": l.code,
                "name": l.name,
                "shortDescription": {"text": l.summary},
                "fullDescription": {"text": l.explanation},
                "help": {"text": l.explain()},
                "defaultConfiguration": {"level": sarif_level(l.default_level)},
                "properties": {"tags": [l.group]},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let rule_index = LINTS.iter().position(|l| l.code == f.lint().code).unwrap_or(0);
            let mut text = f.message().to_string();
            if let Some(help) = f.help() {
                text.push_str(&format!(" Help: {help}"));
            }
            serde_json::json!({
                "ruleId": f.lint().code,
                "ruleIndex": rule_index,
                "level": sarif_level(f.level()),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file().replace('\\', "/")},
                        "region": {"startLine": f.location().line, "startColumn": f.location().column},
                    },
                    "logicalLocations": [{"name": f.rule_id(), "kind": "declaration"}],
                }],
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tenure",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A finding as miette renders it: the message alone (the snippet shows where), the
/// rest of the diagnostic as the finding's.
#[derive(Debug)]
struct Snippet<'a>(&'a Finding);

impl std::fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.level(), self.0.message())
    }
}

impl std::error::Error for Snippet<'_> {}

impl miette::Diagnostic for Snippet<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0
            .help()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
}
