//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, start a server
//! on a free port with every log destination on (stderr, csvlog, jsonlog), stop it and delete
//! everything on drop.
//!
//! The binaries (`initdb`, `pg_ctl`) come from `LOCKGRAPH_PG_BINDIR` when set, else from `PATH`,
//! else from the newest `/usr/lib/postgresql/<version>/bin`. `initdb` refuses to run as root, so
//! when the tests run as root every server command runs as the `postgres` user (`runuser`), and
//! the directories it writes are handed to that user first.
//!
//! [`start_or_skip`] is what tests call: under `CI=true` a cluster that cannot start fails the
//! test; elsewhere the test prints why on stderr and is skipped.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `log_line_prefix` of the main run: timestamp with milliseconds, pid, and for session
/// processes only (`%q`) `user@database`.
pub const DEFAULT_PREFIX: &str = "%m [%p] %q%u@%d ";

/// Server settings of one start. Everything about logging that the tests rely on is fixed here;
/// `extra` adds or overrides settings.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// `log_line_prefix`.
    pub log_line_prefix: String,
    /// Base name of the log files: `<base>.log` (stderr), `<base>.csv`, `<base>.json`.
    pub log_basename: String,
    /// More `name = value` settings, written after the fixed ones (so they win).
    pub extra: Vec<(String, String)>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            log_line_prefix: DEFAULT_PREFIX.to_string(),
            log_basename: "pg".to_string(),
            extra: Vec::new(),
        }
    }
}

impl ClusterSettings {
    /// The default settings with another `log_line_prefix` and log file base name.
    pub fn with_prefix(prefix: &str, basename: &str) -> Self {
        ClusterSettings {
            log_line_prefix: prefix.to_string(),
            log_basename: basename.to_string(),
            extra: Vec::new(),
        }
    }

    /// Every setting of a start, in the order written to the configuration file.
    pub fn all(&self, port: u16, socket_dir: &Path, log_dir: &Path) -> Vec<(String, String)> {
        let mut s: Vec<(String, String)> = [
            ("port", port.to_string()),
            ("listen_addresses", "127.0.0.1".to_string()),
            ("unix_socket_directories", socket_dir.display().to_string()),
            ("logging_collector", "on".to_string()),
            ("log_destination", "stderr,csvlog,jsonlog".to_string()),
            ("log_directory", log_dir.display().to_string()),
            ("log_filename", format!("{}.log", self.log_basename)),
            ("log_file_mode", "0644".to_string()),
            ("log_rotation_age", "0".to_string()),
            ("log_rotation_size", "0".to_string()),
            ("log_line_prefix", self.log_line_prefix.clone()),
            ("log_statement", "all".to_string()),
            ("log_lock_waits", "on".to_string()),
            ("deadlock_timeout", "200ms".to_string()),
            ("log_error_verbosity", "default".to_string()),
            ("log_timezone", "UTC".to_string()),
            // Speed only: a throwaway cluster never needs durability.
            ("fsync", "off".to_string()),
            ("synchronous_commit", "off".to_string()),
            ("full_page_writes", "off".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        s.extend(self.extra.iter().cloned());
        s
    }
}

/// A running (or stopped) cluster in a temporary directory that is removed on drop.
pub struct ThrowawayCluster {
    dir: tempfile::TempDir,
    port: u16,
    settings: ClusterSettings,
    running: bool,
}

impl ThrowawayCluster {
    /// `initdb` (`--auth=trust`, `--no-sync`) and start a server with `settings`.
    pub fn start(settings: ClusterSettings) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("lockgraph-pg-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        for sub in ["data", "log", "sock"] {
            std::fs::create_dir(dir.path().join(sub))
                .map_err(|e| format!("creating {sub}/ in the temporary directory: {e}"))?;
        }
        hand_to_server_user(dir.path())?;
        let data = dir.path().join("data");
        let initdb = run(server_command(dir.path(), "initdb")?
            .arg("-D")
            .arg(&data)
            .args(["--auth=trust", "--no-sync", "-U", "postgres"])
            .args(["--encoding=UTF8", "--locale=C"]))
        .map_err(|e| format!("initdb: {e}"))?;
        drop(initdb);
        let mut cluster = ThrowawayCluster {
            dir,
            port: 0,
            settings,
            running: false,
        };
        cluster.boot()?;
        Ok(cluster)
    }

    /// Stops the server (if running) and starts it again on the same data directory with other
    /// settings — e.g. another `log_line_prefix` into other log files.
    pub fn restart(&mut self, settings: ClusterSettings) -> Result<(), String> {
        self.stop()?;
        self.settings = settings;
        self.boot()
    }

    /// Writes the configuration and starts the server, trying a few free ports.
    fn boot(&mut self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..3 {
            self.port = free_port()?;
            self.write_config()?;
            match self.pg_ctl_start() {
                Ok(()) => {
                    self.running = true;
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn write_config(&self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        let mut text =
            String::from("# written by lockgraph's test support (tests/support/cluster.rs)\n");
        for (k, v) in self
            .settings
            .all(self.port, &self.socket_dir(), &self.log_dir())
        {
            let _ = writeln!(text, "{k} = '{}'", v.replace('\'', "''"));
        }
        // postgresql.auto.conf is read last, so these settings win over postgresql.conf.
        let path = data.join("postgresql.auto.conf");
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        hand_to_server_user(&path)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let startup_log = self.dir.path().join("log").join("pg_ctl-start.log");
        let _ = std::fs::remove_file(&startup_log);
        let result = run(server_command(self.dir.path(), "pg_ctl")?
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(&startup_log)
            .args(["-w", "-t", "30", "start"]));
        match result {
            Ok(_) => {
                // The collector creates the log files shortly after startup.
                let (stderr, _, _) = self.log_paths();
                let deadline = Instant::now() + Duration::from_secs(5);
                while !stderr.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(())
            }
            Err(e) => {
                let log = std::fs::read_to_string(&startup_log).unwrap_or_default();
                let server_log = std::fs::read_to_string(self.log_paths().0).unwrap_or_default();
                Err(format!(
                    "pg_ctl start on port {}: {e}\n{}{}",
                    self.port,
                    tail(&log, 20),
                    tail(&server_log, 20)
                ))
            }
        }
    }

    /// `pg_ctl stop -m fast`; a no-op when not running.
    pub fn stop(&mut self) -> Result<(), String> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        run(server_command(self.dir.path(), "pg_ctl")?
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "fast", "-w", "-t", "30", "stop"]))
        .map(drop)
        .map_err(|e| format!("pg_ctl stop: {e}"))
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A libpq `key=value` connection string for user `postgres`, database `dbname`.
    pub fn conn_string_for(&self, user: &str, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} dbname={dbname} connect_timeout=10",
            self.port
        )
    }

    /// A libpq `key=value` connection string: user `postgres`, database `postgres`.
    pub fn conn_string(&self) -> String {
        self.conn_string_for("postgres", "postgres")
    }

    /// The settings of the current (or last) start.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// `(stderr, csv, json)` log files of the current (or last) start.
    pub fn log_paths(&self) -> (PathBuf, PathBuf, PathBuf) {
        let dir = self.log_dir();
        let base = &self.settings.log_basename;
        (
            dir.join(format!("{base}.log")),
            dir.join(format!("{base}.csv")),
            dir.join(format!("{base}.json")),
        )
    }

    fn log_dir(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            let _ = writeln!(std::io::stderr(), "warning: throwaway cluster: {e}");
        }
    }
}

/// Starts a cluster, or returns `None` after printing why (on stderr, past the test harness's
/// capture). Under `CI=true` a cluster that cannot start fails the test instead.
pub fn start_or_skip(test: &str, settings: ClusterSettings) -> Option<ThrowawayCluster> {
    match ThrowawayCluster::start(settings) {
        Ok(c) => Some(c),
        Err(e) => {
            skip_or_fail(test, &e);
            None
        }
    }
}

/// Fails under `CI=true`, else prints a note that `test` did not run.
pub fn skip_or_fail(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: a throwaway PostgreSQL cluster is required under CI=true: {reason}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "note: {test} did not run: could not start a throwaway PostgreSQL cluster \
         (initdb/pg_ctl on PATH, or LOCKGRAPH_PG_BINDIR): {reason}"
    );
}

/// Whether the environment says CI (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A port nobody listens on right now (the OS picks it; small race until the server binds).
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// When running as root: `chown -R postgres:postgres path`, so the server user may write there.
fn hand_to_server_user(path: &Path) -> Result<(), String> {
    if !is_root() {
        return Ok(());
    }
    run(Command::new("chown")
        .arg("-R")
        .arg("postgres:postgres")
        .arg(path))
    .map(drop)
    .map_err(|e| format!("chown postgres {}: {e}", path.display()))
}

/// A command for a server binary, run as `postgres` when we are root, from `cwd` (the server
/// user may not be allowed into the test's working directory).
fn server_command(cwd: &Path, program: &str) -> Result<Command, String> {
    let bin = pg_binary(program)?;
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.current_dir(cwd).env("LC_ALL", "C").env_remove("PGDATA");
    Ok(cmd)
}

/// Where `program` is: `LOCKGRAPH_PG_BINDIR`, `PATH`, or the newest Debian-style install.
fn pg_binary(program: &str) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LOCKGRAPH_PG_BINDIR") {
        return Ok(PathBuf::from(dir).join(program));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(program);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin").join(program);
            bin.is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| format!("`{program}` is not on PATH nor in /usr/lib/postgresql/*/bin"))
}

/// Runs a command to completion; a failure carries its stderr.
fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("running {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{:?} exited with {}: {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}
