//! A real, throwaway PostgreSQL server for tests.
//!
//! [`start`] runs `initdb` and `pg_ctl` from the machine's PostgreSQL installation in a
//! temporary directory: trust authentication, no TCP (`listen_addresses=''`), a Unix
//! socket in that directory, `fsync=off`. As root, the directory is handed to the
//! `postgres` user and the server tools run through `runuser -u postgres --` (`initdb`
//! refuses to run as root). Dropping the [`PgCluster`] stops the server and deletes the
//! directory.
//!
//! Without PostgreSQL installed, [`start`] prints `skipped: …` and returns `None` — or
//! panics when `CI=true`, so CI cannot pass by skipping.
//!
//! ```ignore
//! let Some(cluster) = support::postgres::start() else { return };
//! let url = cluster.fresh_database();
//! let mut store = tenure_directory::store::open(&url)?;
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOT_INSTALLED: &str = "PostgreSQL not installed (apt-get install postgresql)";

/// A running PostgreSQL server in a temporary directory, stopped on drop.
pub struct PgCluster {
    bindir: PathBuf,
    /// Holds the data directory, the socket and the log; deleted last.
    dir: tempfile::TempDir,
    as_postgres_user: bool,
    databases: AtomicUsize,
}

/// Starts a server; `None` (after printing `skipped: …`) when PostgreSQL is not
/// installed and `CI` is not `true`.
///
/// # Panics
/// PostgreSQL missing under `CI=true`, or a server that fails to start (its log is in
/// the message).
pub fn start() -> Option<PgCluster> {
    let Some(bindir) = server_bindir() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{NOT_INSTALLED}");
        }
        eprintln!("skipped: {NOT_INSTALLED}");
        return None;
    };
    let dir = tempfile::Builder::new()
        .prefix("tenure-pg-")
        .tempdir()
        .expect("create a temporary directory for PostgreSQL");
    let as_postgres_user = is_root();
    if as_postgres_user {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.path())
            .status()
            .expect("run chown");
        assert!(
            status.success(),
            "chown postgres {} failed",
            dir.path().display()
        );
    }
    let cluster = PgCluster {
        bindir,
        dir,
        as_postgres_user,
        databases: AtomicUsize::new(0),
    };
    cluster.initdb();
    let data = cluster.data_dir();
    let options = format!(
        "-k {} -c listen_addresses='' -c fsync=off -c full_page_writes=off",
        cluster.dir.path().display()
    );
    let log = cluster.dir.path().join("server.log");
    let output = cluster.run_server_tool(
        "pg_ctl",
        &[
            "-D".as_ref(),
            data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-o".as_ref(),
            options.as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "start".as_ref(),
        ],
    );
    if !output.status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!(
            "pg_ctl start failed: {}{}\n--- server log ---\n{log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Some(cluster)
}

impl PgCluster {
    /// The directory that holds the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection URL for database `database` as user `postgres`.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&user=postgres",
            self.socket_dir().display()
        )
    }

    /// A connection URL for the maintenance database `postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Creates the empty database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let output = Command::new(self.bindir.join("createdb"))
            .arg("-h")
            .arg(self.socket_dir())
            .args(["-U", "postgres", name])
            .output()
            .expect("run createdb");
        assert!(
            output.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url_for(name)
    }

    /// Creates a new, empty database with a name of its own and returns its URL.
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        self.create_database(&format!("test_{n}"))
    }

    /// Creates the cluster. Its default collation is ICU's `en-US` where the server
    /// supports it (PostgreSQL 15 and later), so that tests notice any ordering that
    /// depends on the locale; plain `initdb` otherwise.
    fn initdb(&self) {
        let data = self.data_dir();
        let common: [&std::ffi::OsStr; 9] = [
            "-D".as_ref(),
            data.as_os_str(),
            "-A".as_ref(),
            "trust".as_ref(),
            "-U".as_ref(),
            "postgres".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--no-sync".as_ref(),
        ];
        let icu: [&std::ffi::OsStr; 3] = [
            "--locale-provider=icu".as_ref(),
            "--icu-locale=en-US".as_ref(),
            "--locale=C.UTF-8".as_ref(),
        ];
        let with_icu: Vec<&std::ffi::OsStr> = common.iter().chain(&icu).copied().collect();
        if self.run_server_tool("initdb", &with_icu).status.success() {
            return;
        }
        // A partly created data directory would make the second initdb fail.
        let _ = std::fs::remove_dir_all(&data);
        self.server_tool("initdb", &common);
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a server tool (as `postgres` when we are root) and returns its output.
    fn run_server_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Output {
        let program = self.bindir.join(tool);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"))
    }

    fn server_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let output = self.run_server_tool(tool, args);
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        // Best effort: a failure to stop must not hide the test's own outcome.
        let _ = self.run_server_tool(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }
}

/// The directory of `initdb`, `pg_ctl` and `createdb`: `pg_config --bindir`, else the
/// newest `/usr/lib/postgresql/VERSION/bin`.
fn server_bindir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| {
        ["initdb", "pg_ctl", "createdb"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_tools(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
