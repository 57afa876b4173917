//! Connection settings, TLS and connection errors against real servers.
//!
//! Most tests share one throwaway PostgreSQL cluster ([`Cluster`]): `initdb` into a temporary
//! directory, `ssl=on` with a CA and a server certificate for `localhost` made here with rcgen,
//! a `pg_hba.conf` with `scram-sha-256` for a role with a password and `cert` for a role with a
//! client certificate, and `reject` lines that make a role log in only with, or only without,
//! TLS. The cluster lives as long as some test holds it (an `Arc` behind a
//! `Weak` in a static): the last test to let go stops it and removes the directory, and a later
//! test starts a new one. Their names start with `cluster_`, so that the test harness, which
//! runs tests in name order, runs them one after the other and one cluster serves them all.
//!
//! Server binaries come from `LOCKGRAPH_PG_BINDIR`, else `PATH`, else the newest
//! `/usr/lib/postgresql/<version>/bin`; as root, they run as the `postgres` user (`runuser`),
//! because `initdb` refuses root. Under `CI=true` a test whose server cannot be had fails;
//! elsewhere it prints why on stderr and returns.
//!
//! Every spec is resolved with an environment of the test's own (a temporary, empty `HOME`), so
//! the machine's `~/.pgpass` and `~/.postgresql/` never change a result.

use lockgraph_pg::{ConnectionSpec, Error, ReproOptions, probe_blocking, run_repro_blocking};
use lockgraph_pg::{Repro, ReproStep};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The password of [`PASSWORD_ROLE`].
const SECRET: &str = "Zq9-pw_Secret-77";
/// A role that logs in with `scram-sha-256`.
const PASSWORD_ROLE: &str = "lg_pw";
/// A role that logs in with a client certificate (`cert`), over TLS only.
const CERT_ROLE: &str = "lg_cert";
/// A role that may log in only without TLS (`hostssl … reject`).
const PLAIN_ROLE: &str = "lg_plain";
/// The machine's own server, for the tests that need no throwaway cluster.
const MAIN_SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Fails under `CI=true`; elsewhere prints that `test` did not run, and why.
fn skip_or_fail(test: &str, reason: &str) {
    if in_ci() {
        panic!("{test}: its PostgreSQL server is required under CI=true: {reason}");
    }
    // Straight to stderr: the harness captures `eprintln!` of passing tests.
    let _ = writeln!(std::io::stderr(), "note: {test} did not run: {reason}");
}

/// An environment for `resolve_with`: `pairs`, with `HOME` an empty temporary directory unless
/// given.
struct Env {
    vars: HashMap<String, String>,
    _home: Option<tempfile::TempDir>,
}

impl Env {
    fn new(pairs: &[(&str, &str)]) -> Env {
        let mut vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home = if vars.contains_key("HOME") {
            None
        } else {
            let dir = tempfile::tempdir().expect("temporary HOME");
            vars.insert("HOME".into(), dir.path().display().to_string());
            Some(dir)
        };
        Env { vars, _home: home }
    }

    fn resolve(&self, given: Option<&str>) -> Result<ConnectionSpec, Error> {
        ConnectionSpec::resolve_with(given, |k| self.vars.get(k).cloned())
    }

    fn spec(&self, given: &str) -> ConnectionSpec {
        self.resolve(Some(given))
            .expect("the test's connection string")
    }
}

/// What a one-line error must look like: no newline, no password. Shown with `--nocapture`.
fn assert_one_line(msg: &str) {
    eprintln!("error as shown: {msg}");
    assert!(!msg.contains('\n'), "more than one line: {msg}");
    assert!(!msg.contains(SECRET), "the password leaked: {msg}");
}

/// Files of the TLS tests: the CA the server's certificate comes from, another CA, and a client
/// certificate for [`CERT_ROLE`]. Root-owned, outside the cluster's directory.
struct TlsFiles {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    other_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

/// Certificates for the cluster: `(files for clients, server cert PEM, server key PEM, CA PEM)`.
fn make_certificates() -> (TlsFiles, String, String, String) {
    let ca_params = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p
    };
    let ca =
        CertifiedIssuer::self_signed(ca_params("lockgraph test CA"), KeyPair::generate().unwrap())
            .unwrap();
    let other =
        CertifiedIssuer::self_signed(ca_params("some other CA"), KeyPair::generate().unwrap())
            .unwrap();

    // The server's certificate names `localhost` only: 127.0.0.1 is a host name mismatch.
    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = server.signed_by(&server_key, &ca).unwrap();

    // PostgreSQL's `cert` method maps the certificate's CN to the role.
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, CERT_ROLE);
    let client_cert = client.signed_by(&client_key, &ca).unwrap();

    let dir = tempfile::Builder::new()
        .prefix("lockgraph-tls-")
        .tempdir()
        .unwrap();
    let write = |name: &str, text: &str, mode: u32| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        set_mode(&path, mode);
        path
    };
    let files = TlsFiles {
        ca: write("ca.crt", &ca.pem(), 0o644),
        other_ca: write("other-ca.crt", &other.pem(), 0o644),
        client_cert: write("client.crt", &client_cert.pem(), 0o644),
        client_key: write("client.key", &client_key.serialize_pem(), 0o600),
        _dir: dir,
    };
    (
        files,
        server_cert.pem(),
        server_key.serialize_pem(),
        ca.pem(),
    )
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// A throwaway cluster with TLS, stopped and removed on drop.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    tls: TlsFiles,
}

/// The shared cluster, while some test holds it.
static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());

impl Cluster {
    /// The shared cluster, started if no test holds one; `None` (after a note, or a panic under
    /// CI) when it cannot start.
    fn get(test: &str) -> Option<Arc<Cluster>> {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = shared.upgrade() {
            return Some(c);
        }
        match Cluster::start() {
            Ok(c) => {
                let c = Arc::new(c);
                *shared = Arc::downgrade(&c);
                Some(c)
            }
            Err(e) => {
                skip_or_fail(test, &format!("no throwaway PostgreSQL cluster: {e}"));
                None
            }
        }
    }

    fn start() -> Result<Cluster, String> {
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("lockgraph-conn-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        std::fs::create_dir(&sock).map_err(|e| format!("creating sock/: {e}"))?;
        let (tls, server_cert, server_key, ca) = make_certificates();
        for (name, text) in [
            ("server.crt", &server_cert),
            ("server.key", &server_key),
            ("ca.crt", &ca),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).map_err(|e| format!("writing {name}: {e}"))?;
            set_mode(&path, 0o600);
        }
        hand_to_server_user(dir.path())?;
        run(server_command(dir.path(), "initdb")?
            .arg("-D")
            .arg(&data)
            .args(["--auth=trust", "--no-sync", "-U", "postgres"])
            .args(["--encoding=UTF8", "--locale=C"]))
        .map_err(|e| format!("initdb: {e}"))?;
        let hba = format!(
            "# written by lockgraph_pg's tests/connect.rs\n\
             local all all trust\n\
             hostssl all {CERT_ROLE} 127.0.0.1/32 cert\n\
             hostssl all {CERT_ROLE} ::1/128 cert\n\
             hostnossl all {CERT_ROLE} 127.0.0.1/32 reject\n\
             hostnossl all {CERT_ROLE} ::1/128 reject\n\
             hostssl all {PLAIN_ROLE} 127.0.0.1/32 reject\n\
             hostssl all {PLAIN_ROLE} ::1/128 reject\n\
             host all {PLAIN_ROLE} 127.0.0.1/32 trust\n\
             host all {PLAIN_ROLE} ::1/128 trust\n\
             host all postgres 127.0.0.1/32 trust\n\
             host all postgres ::1/128 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n\
             host all all ::1/128 scram-sha-256\n"
        );
        write_as_server(&data.join("pg_hba.conf"), &hba)?;
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let d = dir.path().display();
            let conf = format!(
                "port = {port}\n\
                 listen_addresses = 'localhost'\n\
                 unix_socket_directories = '{d}/sock'\n\
                 ssl = on\n\
                 ssl_cert_file = '{d}/server.crt'\n\
                 ssl_key_file = '{d}/server.key'\n\
                 ssl_ca_file = '{d}/ca.crt'\n\
                 password_encryption = 'scram-sha-256'\n\
                 fsync = off\n\
                 synchronous_commit = off\n\
                 full_page_writes = off\n"
            );
            write_as_server(&data.join("postgresql.auto.conf"), &conf)?;
            let log = dir.path().join("server.log");
            let start = run(server_command(dir.path(), "pg_ctl")?
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "start"]));
            match start {
                Ok(_) => {
                    let cluster = Cluster { dir, port, tls };
                    cluster.create_roles()?;
                    eprintln!(
                        "throwaway cluster on port {port} ready in {:?}",
                        started.elapsed()
                    );
                    return Ok(cluster);
                }
                Err(e) => {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    last = format!("pg_ctl start on port {port}: {e}; log: {text}");
                }
            }
        }
        Err(last)
    }

    fn create_roles(&self) -> Result<(), String> {
        let admin = format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
            self.port
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("connecting as postgres: {e}"))?;
            tokio::spawn(conn);
            client
                .batch_execute(&format!(
                    "CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{SECRET}';
                     CREATE ROLE {CERT_ROLE} LOGIN;
                     CREATE ROLE {PLAIN_ROLE} LOGIN;"
                ))
                .await
                .map_err(|e| format!("creating roles: {e}"))
        })
    }

    /// A `key=value` string for this cluster's port plus `rest`.
    fn conn(&self, host: &str, rest: &str) -> String {
        format!(
            "host={host} port={} dbname=postgres connect_timeout=10 {rest}",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stop = server_command(self.dir.path(), "pg_ctl").and_then(|mut c| {
            run(c.arg("-D").arg(self.dir.path().join("data")).args([
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
                "stop",
            ]))
        });
        if let Err(e) = stop {
            let _ = writeln!(std::io::stderr(), "warning: stopping the cluster: {e}");
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// As root: `chown -R postgres:postgres path`, so the server user owns what it reads and writes.
fn hand_to_server_user(path: &Path) -> Result<(), String> {
    if !is_root() {
        return Ok(());
    }
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path))
    .map(drop)
}

fn write_as_server(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    hand_to_server_user(path)
}

/// A server binary, run as `postgres` when we are root, from `cwd`.
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

fn pg_binary(program: &str) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LOCKGRAPH_PG_BINDIR") {
        return Ok(PathBuf::from(dir).join(program));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if let Some(p) = on_path {
        return Ok(p);
    }
    let mut installed: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin").join(program);
            bin.is_file().then_some((version, bin))
        })
        .collect();
    installed.sort();
    installed
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| format!("`{program}` is neither on PATH nor in /usr/lib/postgresql/*/bin"))
}

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

/// A local server that is not PostgreSQL: for each connection (at most `connections`, for at
/// most three seconds), reads what the client sends first and answers `reply` (nothing when
/// empty), keeping the connections open until the end.
fn fake_server(reply: &'static [u8], connections: usize) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut open = Vec::new();
        while open.len() < connections && Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8];
            let _ = stream.read_exact(&mut buf);
            let _ = stream.write_all(reply);
            open.push(stream);
        }
    });
    (port, handle)
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .is_ok()
}

// ---------------------------------------------------------------------------------------------
// TLS against the throwaway cluster
// ---------------------------------------------------------------------------------------------

#[test]
fn cluster_require_encrypts_without_checking_the_certificate() {
    let Some(c) = Cluster::get("cluster_require_encrypts_without_checking_the_certificate") else {
        return;
    };
    let env = Env::new(&[]);
    // 127.0.0.1 is not in the certificate, and no root certificate is around: require does not
    // care.
    let spec = env.spec(&c.conn("127.0.0.1", "user=postgres sslmode=require"));
    let info = probe_blocking(&spec).expect("sslmode=require");
    assert!(info.tls, "pg_stat_ssl.ssl must be true for the session");
    assert_eq!(info.user, "postgres");
}

#[test]
fn cluster_prefer_uses_tls_when_offered_and_disable_does_not() {
    let Some(c) = Cluster::get("cluster_prefer_uses_tls_when_offered_and_disable_does_not") else {
        return;
    };
    let env = Env::new(&[]);
    let prefer = env.spec(&c.conn("127.0.0.1", "user=postgres"));
    assert!(
        probe_blocking(&prefer).unwrap().tls,
        "prefer is the default"
    );
    let disable = env.spec(&c.conn("127.0.0.1", "user=postgres sslmode=disable"));
    assert!(!probe_blocking(&disable).unwrap().tls);
    // allow: the plain login is accepted, so no TLS.
    let allow = env.spec(&c.conn("127.0.0.1", "user=postgres sslmode=allow"));
    assert!(!probe_blocking(&allow).unwrap().tls);
}

#[test]
fn cluster_allow_and_prefer_retry_when_the_server_refuses_the_login() {
    let Some(c) = Cluster::get("cluster_allow_and_prefer_retry_when_the_server_refuses_the_login")
    else {
        return;
    };
    // lg_cert may only log in over TLS: allow's plain login is refused (28000), so it tries
    // again with TLS.
    let env = Env::new(&[]);
    let files = format!(
        "user={CERT_ROLE} sslcert={} sslkey={}",
        c.tls.client_cert.display(),
        c.tls.client_key.display()
    );
    let allow = env.spec(&c.conn("127.0.0.1", &format!("{files} sslmode=allow")));
    let info = probe_blocking(&allow).expect("allow retries with TLS");
    assert!(info.tls);
    assert_eq!(info.user, CERT_ROLE);
    // …and disable does not.
    let disable = env.spec(&c.conn("127.0.0.1", &format!("{files} sslmode=disable")));
    let msg = probe_blocking(&disable).unwrap_err().to_string();
    assert!(msg.contains("28000"), "{msg}");
    assert_one_line(&msg);
    // When the retry fails too, both attempts are reported.
    let no_cert = env.spec(&c.conn("127.0.0.1", &format!("user={CERT_ROLE} sslmode=allow")));
    let msg = probe_blocking(&no_cert).unwrap_err().to_string();
    assert!(msg.contains(": without TLS: FATAL: "), "{msg}");
    assert!(msg.contains("; with TLS: FATAL: "), "{msg}");
    assert!(msg.contains("valid client certificate"), "{msg}");
    assert_one_line(&msg);

    // lg_plain may only log in without TLS: prefer's TLS login is refused, so it tries again
    // without.
    let prefer = env.spec(&c.conn("127.0.0.1", &format!("user={PLAIN_ROLE}")));
    let info = probe_blocking(&prefer).expect("prefer retries without TLS");
    assert!(!info.tls);
    assert_eq!(info.user, PLAIN_ROLE);
    let require = env.spec(&c.conn("127.0.0.1", &format!("user={PLAIN_ROLE} sslmode=require")));
    let msg = probe_blocking(&require).unwrap_err().to_string();
    assert!(msg.contains("28000") && msg.contains("rejects"), "{msg}");
    assert_one_line(&msg);
}

#[test]
fn cluster_verify_full_accepts_the_right_ca_and_host_name() {
    let Some(c) = Cluster::get("cluster_verify_full_accepts_the_right_ca_and_host_name") else {
        return;
    };
    let env = Env::new(&[]);
    let spec = env.spec(&c.conn(
        "localhost",
        &format!(
            "user=postgres sslmode=verify-full sslrootcert={}",
            c.tls.ca.display()
        ),
    ));
    let info = probe_blocking(&spec).expect("verify-full with the right CA and name");
    assert!(info.tls);

    // The runner's sessions (and their cancel connector) go over the same TLS.
    let repro = Repro {
        setup: vec!["CREATE TABLE t (id int PRIMARY KEY)".into()],
        steps: vec![
            ReproStep {
                session: 1,
                sql: "INSERT INTO t VALUES (1)".into(),
                origin: None,
                expect_block: false,
            },
            ReproStep {
                session: 2,
                sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl".into(),
                origin: None,
                expect_block: false,
            },
        ],
        sessions: 2,
        ..Repro::default()
    };
    let outcome = run_repro_blocking(&spec, &repro, &ReproOptions::default()).unwrap();
    assert!(
        outcome.steps.iter().all(|s| s.error.is_none()),
        "{outcome:#?}"
    );
}

#[test]
fn cluster_verify_full_rejects_a_host_name_the_certificate_does_not_name() {
    let Some(c) =
        Cluster::get("cluster_verify_full_rejects_a_host_name_the_certificate_does_not_name")
    else {
        return;
    };
    let env = Env::new(&[]);
    let spec = env.spec(&c.conn(
        "127.0.0.1",
        &format!(
            "user={PASSWORD_ROLE} password={SECRET} sslmode=verify-full sslrootcert={}",
            c.tls.ca.display()
        ),
    ));
    let err = probe_blocking(&spec).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(
        msg.contains("not valid for the host name `127.0.0.1`"),
        "{msg}"
    );
    assert!(
        msg.contains("(it names localhost)"),
        "the names it has: {msg}"
    );
    assert!(msg.contains("verify-ca"), "what to do: {msg}");
    assert_one_line(&msg);
}

#[test]
fn cluster_verify_full_rejects_an_untrusted_ca() {
    let Some(c) = Cluster::get("cluster_verify_full_rejects_an_untrusted_ca") else {
        return;
    };
    let env = Env::new(&[]);
    let spec = env.spec(&c.conn(
        "localhost",
        &format!(
            "user=postgres sslmode=verify-full sslrootcert={}",
            c.tls.other_ca.display()
        ),
    ));
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(msg.contains("certificate is not trusted"), "{msg}");
    assert!(
        msg.contains("other-ca.crt"),
        "which CAs were trusted: {msg}"
    );
    assert_one_line(&msg);
}

#[test]
fn cluster_verify_ca_accepts_a_host_name_mismatch() {
    let Some(c) = Cluster::get("cluster_verify_ca_accepts_a_host_name_mismatch") else {
        return;
    };
    let env = Env::new(&[]);
    let spec = env.spec(&c.conn(
        "127.0.0.1",
        &format!(
            "user=postgres sslmode=verify-ca sslrootcert={}",
            c.tls.ca.display()
        ),
    ));
    assert!(
        probe_blocking(&spec)
            .expect("verify-ca ignores the name")
            .tls
    );
    // …but not an untrusted chain.
    let spec = env.spec(&c.conn(
        "127.0.0.1",
        &format!(
            "user=postgres sslmode=verify-ca sslrootcert={}",
            c.tls.other_ca.display()
        ),
    ));
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(msg.contains("not trusted"), "{msg}");
}

#[test]
fn cluster_require_with_a_root_certificate_checks_the_chain_like_libpq() {
    let Some(c) =
        Cluster::get("cluster_require_with_a_root_certificate_checks_the_chain_like_libpq")
    else {
        return;
    };
    let env = Env::new(&[]);
    let wrong = env.spec(&c.conn(
        "127.0.0.1",
        &format!(
            "user=postgres sslmode=require sslrootcert={}",
            c.tls.other_ca.display()
        ),
    ));
    let msg = probe_blocking(&wrong).unwrap_err().to_string();
    assert!(msg.contains("not trusted"), "{msg}");
    assert!(msg.contains("sslmode=require"), "{msg}");

    // The default root certificate file, ~/.postgresql/root.crt, counts too.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(&c.tls.ca, home.path().join(".postgresql/root.crt")).unwrap();
    let env = Env::new(&[("HOME", home.path().to_str().unwrap())]);
    let right = env.spec(&c.conn("127.0.0.1", "user=postgres sslmode=require"));
    assert!(probe_blocking(&right).unwrap().tls);
    std::fs::copy(&c.tls.other_ca, home.path().join(".postgresql/root.crt")).unwrap();
    let msg = probe_blocking(&right).unwrap_err().to_string();
    assert!(msg.contains("root.crt"), "{msg}");
}

#[test]
fn cluster_client_certificate_logs_in_with_cert_auth() {
    let Some(c) = Cluster::get("cluster_client_certificate_logs_in_with_cert_auth") else {
        return;
    };
    let env = Env::new(&[]);
    let spec = env.spec(&c.conn(
        "localhost",
        &format!(
            "user={CERT_ROLE} sslmode=verify-full sslrootcert={} sslcert={} sslkey={}",
            c.tls.ca.display(),
            c.tls.client_cert.display(),
            c.tls.client_key.display()
        ),
    ));
    let info = probe_blocking(&spec).expect("cert auth");
    assert_eq!(info.user, CERT_ROLE);

    // Without the certificate the server refuses, in one line.
    let spec = env.spec(&c.conn("127.0.0.1", &format!("user={CERT_ROLE} sslmode=require")));
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(msg.starts_with("cannot connect to "), "{msg}");
    assert_one_line(&msg);

    // A key others may read is refused before connecting, as libpq does.
    let loose = tempfile::tempdir().unwrap();
    let key = loose.path().join("client.key");
    std::fs::copy(&c.tls.client_key, &key).unwrap();
    set_mode(&key, 0o644);
    let spec = env.spec(&c.conn(
        "127.0.0.1",
        &format!(
            "user={CERT_ROLE} sslmode=require sslcert={} sslkey={}",
            c.tls.client_cert.display(),
            key.display()
        ),
    ));
    let err = probe_blocking(&spec).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("group or world access"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Passwords against the throwaway cluster
// ---------------------------------------------------------------------------------------------

#[test]
fn cluster_wrong_password_is_one_line_with_its_sqlstate() {
    let Some(c) = Cluster::get("cluster_wrong_password_is_one_line_with_its_sqlstate") else {
        return;
    };
    let env = Env::new(&[]);
    let right = env.spec(&c.conn(
        "127.0.0.1",
        &format!("user={PASSWORD_ROLE} password={SECRET}"),
    ));
    assert_eq!(probe_blocking(&right).unwrap().user, PASSWORD_ROLE);

    let wrong_pw = format!("{SECRET}-wrong");
    let wrong = env.spec(&c.conn(
        "127.0.0.1",
        &format!("user={PASSWORD_ROLE} password={wrong_pw}"),
    ));
    let err = probe_blocking(&wrong).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("28P01"), "{msg}");
    assert!(msg.contains("password authentication failed"), "{msg}");
    assert!(msg.contains(":****@"), "{msg}");
    assert!(!msg.contains(&wrong_pw) && !format!("{err:?}").contains(&wrong_pw));
    assert_one_line(&msg);

    // No password at all: the server asks for one, and the error says where to put it.
    let none = env.spec(&c.conn("127.0.0.1", &format!("user={PASSWORD_ROLE}")));
    let msg = probe_blocking(&none).unwrap_err().to_string();
    assert!(msg.contains("password missing"), "{msg}");
    assert!(msg.contains("PGPASSWORD"), "{msg}");
    assert_one_line(&msg);
}

#[test]
fn cluster_pgpass_supplies_the_password_and_is_named_when_wrong() {
    let Some(c) = Cluster::get("cluster_pgpass_supplies_the_password_and_is_named_when_wrong")
    else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    let write = |text: String, mode: u32| {
        std::fs::write(&pgpass, text).unwrap();
        set_mode(&pgpass, mode);
    };
    let env = Env::new(&[("HOME", home.path().to_str().unwrap())]);
    let given = c.conn("127.0.0.1", &format!("user={PASSWORD_ROLE}"));

    write(
        format!(
            "# lockgraph test\nother:*:*:*:nope\n127.0.0.1:{}:*:{PASSWORD_ROLE}:{SECRET}\n",
            c.port
        ),
        0o600,
    );
    let spec = env.spec(&given);
    assert_eq!(probe_blocking(&spec).unwrap().user, PASSWORD_ROLE);

    write(format!("*:*:*:{PASSWORD_ROLE}:{SECRET}-stale\n"), 0o600);
    let msg = probe_blocking(&env.spec(&given)).unwrap_err().to_string();
    assert!(msg.contains("28P01"), "{msg}");
    assert!(
        msg.contains(&format!("password from {}", pgpass.display())),
        "{msg}"
    );
    assert_one_line(&msg);

    // PGPASSWORD is named too.
    let env_pw = Env::new(&[("PGPASSWORD", "not-it")]);
    let msg = probe_blocking(&env_pw.spec(&given))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("password from PGPASSWORD"), "{msg}");

    // A file others may read is skipped; the error says so.
    write(format!("*:*:*:{PASSWORD_ROLE}:{SECRET}\n"), 0o644);
    let msg = probe_blocking(&env.spec(&given)).unwrap_err().to_string();
    assert!(msg.contains("password missing"), "{msg}");
    assert!(msg.contains("chmod 0600"), "{msg}");
    assert_one_line(&msg);
}

#[test]
fn cluster_resolve_none_connects_from_the_pg_environment() {
    let Some(c) = Cluster::get("cluster_resolve_none_connects_from_the_pg_environment") else {
        return;
    };
    let port = c.port.to_string();
    let env = Env::new(&[
        ("PGHOST", "localhost"),
        ("PGPORT", &port),
        ("PGUSER", PASSWORD_ROLE),
        ("PGPASSWORD", SECRET),
        ("PGDATABASE", "postgres"),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", c.tls.ca.to_str().unwrap()),
        ("PGAPPNAME", "lockgraph-env-test"),
    ]);
    let spec = env.resolve(None).unwrap();
    assert!(!spec.to_string().contains(SECRET));
    let info = probe_blocking(&spec).expect("settings from the environment alone");
    assert_eq!(info.user, PASSWORD_ROLE);
    assert_eq!(info.database, "postgres");
    assert!(info.tls);
}

// ---------------------------------------------------------------------------------------------
// Errors that need no cluster
// ---------------------------------------------------------------------------------------------

#[test]
fn verify_modes_need_a_root_certificate_before_connecting() {
    let env = Env::new(&[]);
    for mode in ["verify-ca", "verify-full"] {
        let spec = env.spec(&format!("host=127.0.0.1 port=1 sslmode={mode}"));
        let err = probe_blocking(&spec).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Tls(_)), "{err:?}");
        assert!(msg.contains(".postgresql/root.crt does not exist"), "{msg}");
        assert!(msg.contains("sslrootcert=system"), "{msg}");
        assert_one_line(&msg);
    }
    let spec = env.spec("host=127.0.0.1 port=1 sslmode=require sslrootcert=system");
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(
        msg.contains("weak sslmode=require may not be used with sslrootcert=system"),
        "{msg}"
    );
    // A root certificate file that is not PEM.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.crt");
    std::fs::write(&bad, "not a certificate").unwrap();
    let spec = env.spec(&format!(
        "host=127.0.0.1 port=1 sslmode=verify-ca sslrootcert={}",
        bad.display()
    ));
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(msg.contains("bad.crt"), "{msg}");
    assert_one_line(&msg);
}

#[test]
fn tls_required_but_the_server_has_no_ssl() {
    // A server that answers the SSL request with `N`, as PostgreSQL with ssl=off does (once for
    // the connection, once more when lockgraph asks again to tell PostgreSQL from others).
    let (port, fake) = fake_server(b"N", 2);
    let env = Env::new(&[]);
    let spec = env.spec(&format!(
        "host=127.0.0.1 port={port} user=u password={SECRET} sslmode=require"
    ));
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    fake.join().unwrap();
    assert!(
        msg.contains("the server does not support SSL, but sslmode=require needs TLS"),
        "{msg}"
    );
    assert_one_line(&msg);
}

#[test]
fn sslmode_require_against_the_main_server() {
    let text = std::env::var("LOCKGRAPH_TEST_PG").unwrap_or_else(|_| MAIN_SERVER.to_string());
    // PGSSLMODE, so that LOCKGRAPH_TEST_PG may be a URL or a key=value list.
    let plain = Env::new(&[("PGSSLMODE", "disable")]).spec(&text);
    if let Err(e) = probe_blocking(&plain) {
        skip_or_fail(
            "sslmode_require_against_the_main_server",
            &format!("no PostgreSQL test server at {plain}: {e}"),
        );
        return;
    }
    let spec = Env::new(&[("PGSSLMODE", "require")]).spec(&text);
    match probe_blocking(&spec) {
        Ok(info) => assert!(info.tls, "require must encrypt"),
        Err(e) => {
            // A server with ssl=off: one clear line.
            let msg = e.to_string();
            assert!(msg.contains("does not support SSL"), "{msg}");
            assert_one_line(&msg);
        }
    }
}

#[test]
fn redis_port_is_not_postgres() {
    // Redis does not answer PostgreSQL's SSL request at all; a local stand-in that stays silent
    // when no Redis listens on 6379.
    let (port, fake) = if listening(6379) {
        (6379, None)
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "note: no Redis on 127.0.0.1:6379; using a silent stand-in"
        );
        let (port, handle) = fake_server(b"", 1);
        (port, Some(handle))
    };
    let env = Env::new(&[]);
    let spec = env.spec(&format!(
        "host=127.0.0.1 port={port} user=u password={SECRET} connect_timeout=1"
    ));
    let started = Instant::now();
    let msg = probe_blocking(&spec).unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "connect_timeout"
    );
    assert!(msg.contains("is that a PostgreSQL server?"), "{msg}");
    assert!(msg.contains("within 1 s"), "{msg}");
    assert_one_line(&msg);
    if let Some(f) = fake {
        f.join().unwrap();
    }
}

#[test]
fn mariadb_port_is_not_postgres() {
    // MariaDB greets first; a stand-in with a MySQL-like greeting when none listens on 3306.
    const GREETING: &[u8] = b"d\x00\x00\x00\x0a5.5.5-10.11-MariaDB\x00\x08\x00\x00\x00";
    for mode in ["prefer", "require"] {
        let (port, fake) = if listening(3306) {
            (3306, None)
        } else {
            let (port, handle) = fake_server(GREETING, 2);
            (port, Some(handle))
        };
        let env = Env::new(&[]);
        let spec = env.spec(&format!(
            "host=127.0.0.1 port={port} user=u password={SECRET} sslmode={mode} \
             connect_timeout=2"
        ));
        let msg = probe_blocking(&spec).unwrap_err().to_string();
        assert!(
            msg.contains("is that a PostgreSQL server?"),
            "{mode}: {msg}"
        );
        assert_one_line(&msg);
        if let Some(f) = fake {
            f.join().unwrap();
        }
    }
}

#[test]
fn refused_port_has_a_clear_hint() {
    let port = free_port().unwrap();
    let env = Env::new(&[]);
    for mode in ["prefer", "require", "disable"] {
        let spec = env.spec(&format!(
            "host=127.0.0.1 port={port} user=u password={SECRET} sslmode={mode}"
        ));
        let msg = probe_blocking(&spec).unwrap_err().to_string();
        assert!(
            msg.contains("is the server running and accepting TCP connections"),
            "{mode}: {msg}"
        );
        assert_one_line(&msg);
    }
}
