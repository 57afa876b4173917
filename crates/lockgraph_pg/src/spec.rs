//! Connection settings: [`ConnectionSpec`], parsed from a `postgres://` URL or a libpq-style
//! `key=value` list, and resolved the way libpq resolves them.
//!
//! Every setting is kept as "given or not" (`Option`), and the effective value is computed by the
//! accessors. [`ConnectionSpec::parse`] (and `FromStr`) reads exactly what is written;
//! [`ConnectionSpec::resolve`] then layers in what libpq would: a given setting wins, then the
//! `PG*` environment variable of [`ENVIRONMENT`](crate::spec::ENVIRONMENT), then the default —
//! and, when no password was given, the password file (`PGPASSFILE`, else `~/.pgpass`).
//! [`ConnectionSpec::resolve_with`] takes the environment as a function, so tests never touch the
//! process environment.
//!
//! The password lives in a private newtype whose `Debug` prints `****`, and `Display` prints the
//! URL form with `****` in its place, so neither can leak it by accident.
//!
//! Where lockgraph differs from libpq, on purpose:
//!
//! - The default host is `localhost` over TCP, not libpq's Unix socket directory.
//! - An empty environment variable counts as unset.
//! - The password file is skipped without a warning (libpq prints one) when it is not a regular
//!   file or when group or others may read it (Unix); the "password missing" error then says so.
//! - The OS user is the effective user's entry in `/etc/passwd` (found through
//!   `/proc/self/status`), else `USER` / `USERNAME`: users known only to NSS (LDAP, …) fall
//!   back to those variables.

use crate::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// `application_name` used when none is given, so lockgraph's sessions are easy to spot in
/// `pg_stat_activity`.
pub const DEFAULT_APPLICATION_NAME: &str = "lockgraph";
/// Port used when none is given.
pub const DEFAULT_PORT: u16 = 5432;
/// Host used when none is given (TCP, not the Unix socket libpq would use).
pub const DEFAULT_HOST: &str = "localhost";
/// How long to wait for a connection when `connect_timeout` is not given.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variables [`ConnectionSpec::resolve`] reads, each with the connection
/// keyword it stands for (libpq docs, "Environment Variables"). A variable is used only when its
/// keyword was not given.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
];

/// Unix socket directories that match `localhost` in the password file (libpq compares with
/// its compiled-in default: `/var/run/postgresql` on Debian, `/tmp` upstream).
const DEFAULT_SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/run/postgresql", "/tmp"];

/// libpq's `sslmode`.
///
/// | mode | encrypted | server certificate checked |
/// |---|---|---|
/// | `disable` | never | — |
/// | `allow` | only if the server refuses the login without TLS | no |
/// | `prefer` (default) | when the server offers TLS | no |
/// | `require` | always | no, unless a root certificate file exists: then as `verify-ca` |
/// | `verify-ca` | always | signed by a CA of `sslrootcert` |
/// | `verify-full` | always | signed by a CA of `sslrootcert`, and names the host |
///
/// The default is `verify-full` when `sslrootcert=system`, `prefer` otherwise. Unix socket
/// connections are never encrypted, whatever the mode (as in libpq).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Connect without TLS; if the server refuses that login, try again with TLS.
    Allow,
    /// Use TLS when the server offers it, without checking its certificate (libpq's default).
    #[default]
    Prefer,
    /// TLS; the certificate is checked only when a root certificate file exists.
    Require,
    /// TLS, certificate signed by a trusted CA.
    VerifyCa,
    /// TLS, certificate signed by a trusted CA and matching the host name.
    VerifyFull,
}

impl SslMode {
    /// Parses libpq's spelling (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`).
    pub fn parse(s: &str) -> Option<SslMode> {
        match s {
            "disable" => Some(SslMode::Disable),
            "allow" => Some(SslMode::Allow),
            "prefer" => Some(SslMode::Prefer),
            "require" => Some(SslMode::Require),
            "verify-ca" => Some(SslMode::VerifyCa),
            "verify-full" => Some(SslMode::VerifyFull),
            _ => None,
        }
    }

    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the connection must be encrypted.
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(String);

impl Password {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Where the password came from, for error hints (never the password itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PasswordSource {
    /// In the connection string, or [`ConnectionSpec::with_password`].
    Given,
    /// `PGPASSWORD`.
    Environment,
    /// A line of this password file.
    File(PathBuf),
}

/// Where and how to connect: host, port, user, password, database, `sslmode` and the TLS files,
/// `application_name`, `connect_timeout`, `options`.
///
/// Parse one with [`ConnectionSpec::parse`] (or `str::parse`), from either form libpq accepts:
///
/// - a URL: `postgres://user:pass@host:5432/db?sslmode=disable&application_name=x`
///   (`postgresql://` too; percent-encoded parts; `[::1]` for IPv6; a Unix socket directory as
///   `?host=/var/run/postgresql` or a percent-encoded host);
/// - `key=value` pairs: `host=localhost port=5432 user=me password='a b' dbname=db`
///   (values with spaces in single quotes, `\'` and `\\` escapes).
///
/// Keywords: `host`, `hostaddr`, `port`, `user`, `password`, `passfile`, `dbname`, `sslmode`,
/// `sslrootcert` (a file, or `system` for the platform's CAs), `sslcert`, `sslkey`,
/// `application_name`, `connect_timeout`, `options`.
///
/// Use [`ConnectionSpec::resolve`] to also read the `PG*` environment variables and the password
/// file, as libpq does.
///
/// `Display` gives the URL form with the password as `****`; `Debug` also shows `****`.
///
/// ```
/// use lockgraph_pg::ConnectionSpec;
/// let spec: ConnectionSpec = "postgres://app:s3cret@db.internal:6432/shop".parse().unwrap();
/// assert_eq!(spec.host(), "db.internal");
/// assert_eq!(spec.application_name(), "lockgraph");
/// assert_eq!(spec.to_string(), "postgres://app:****@db.internal:6432/shop");
/// assert!(!format!("{spec:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionSpec {
    host: Option<String>,
    hostaddr: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<Password>,
    passfile: Option<String>,
    dbname: Option<String>,
    sslmode: Option<SslMode>,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
    application_name: Option<String>,
    connect_timeout: Option<Duration>,
    options: Option<String>,
    /// The home directory seen by [`ConnectionSpec::resolve_with`] (`~/.postgresql/…`).
    home: Option<PathBuf>,
    password_source: Option<PasswordSource>,
    /// A password file that was skipped because others may read it.
    passfile_ignored: Option<PathBuf>,
}

impl ConnectionSpec {
    /// All defaults: `localhost:5432`, the current OS user, database named like the user.
    pub fn new() -> ConnectionSpec {
        ConnectionSpec::default()
    }

    /// Parses a `postgres://` / `postgresql://` URL or a `key=value` list. An empty string gives
    /// all defaults. Errors never contain the password. Reads nothing but `s`: see
    /// [`ConnectionSpec::resolve`] for the environment and the password file.
    pub fn parse(s: &str) -> Result<ConnectionSpec, Error> {
        let trimmed = s.trim();
        for scheme in ["postgres://", "postgresql://"] {
            if trimmed.len() >= scheme.len() && trimmed[..scheme.len()].eq_ignore_ascii_case(scheme)
            {
                return parse_url(&trimmed[scheme.len()..]);
            }
        }
        if let Some((scheme, _)) = trimmed.split_once("://")
            && !scheme.contains(char::is_whitespace)
            && !scheme.contains('=')
        {
            return Err(Error::InvalidSpec(format!(
                "unsupported URL scheme `{scheme}` (expected postgres:// or postgresql://)"
            )));
        }
        parse_key_value(trimmed)
    }

    /// The settings libpq would use: `given` (a URL or `key=value` list) when present, then the
    /// `PG*` variables of [`ENVIRONMENT`] for what it leaves out, then the defaults; without a
    /// password, the password file (`passfile` / `PGPASSFILE`, else `~/.pgpass`).
    ///
    /// With `given = None` the settings come from the environment alone, so
    /// `PGHOST=db PGUSER=app lockgraph live` works. Errors name the variable they come from and
    /// never contain the password.
    ///
    /// ```no_run
    /// use lockgraph_pg::ConnectionSpec;
    /// // PGHOST=db.internal PGUSER=app in the environment:
    /// let spec = ConnectionSpec::resolve(None)?;
    /// println!("connecting to {spec}");
    /// # Ok::<(), lockgraph_pg::Error>(())
    /// ```
    pub fn resolve(given: Option<&str>) -> Result<ConnectionSpec, Error> {
        ConnectionSpec::resolve_with(given, |name| std::env::var(name).ok())
    }

    /// [`ConnectionSpec::resolve`] with the environment given as a function from a variable
    /// name to its value (`HOME` and `USER` are asked for too), e.g. a map in tests.
    ///
    /// ```
    /// use lockgraph_pg::ConnectionSpec;
    /// use std::collections::HashMap;
    /// let env = HashMap::from([("PGHOST", "db.internal"), ("PGPORT", "6432"), ("PGUSER", "app")]);
    /// let spec = ConnectionSpec::resolve_with(Some("port=7000"), |k| {
    ///     env.get(k).map(|v| v.to_string())
    /// })?;
    /// assert_eq!(spec.host(), "db.internal");
    /// assert_eq!(spec.port(), 7000); // given wins over PGPORT
    /// assert_eq!(spec.dbname(), "app"); // the database defaults to the user
    /// # Ok::<(), lockgraph_pg::Error>(())
    /// ```
    pub fn resolve_with(
        given: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectionSpec, Error> {
        let mut spec = match given {
            Some(s) => ConnectionSpec::parse(s)?,
            None => ConnectionSpec::default(),
        };
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        for (var, key) in ENVIRONMENT {
            if spec.is_given(key) {
                continue;
            }
            if let Some(value) = env(var) {
                spec.set(key, value, None).map_err(|e| match e {
                    Error::InvalidSpec(m) => Error::InvalidSpec(format!("{m} (from {var})")),
                    other => other,
                })?;
                if *key == "password" {
                    spec.password_source = Some(PasswordSource::Environment);
                }
            }
        }
        if spec.user.is_none() {
            spec.user = Some(os_user(&env));
        }
        spec.home = env("HOME")
            .map(PathBuf::from)
            .or_else(|| passwd_entry().map(|(_, home)| home));
        if spec.password.as_ref().is_none_or(|p| p.0.is_empty()) {
            spec.password_from_file();
        }
        Ok(spec)
    }

    /// Host name, IP address, or Unix socket directory (starts with `/`); without `host`, the
    /// `hostaddr`, else [`DEFAULT_HOST`].
    pub fn host(&self) -> &str {
        self.host
            .as_deref()
            .or(self.hostaddr.as_deref())
            .unwrap_or(DEFAULT_HOST)
    }

    /// `hostaddr`: the IP address to connect to without a name look-up (`host` then only names
    /// the server for TLS and the password file).
    pub fn hostaddr(&self) -> Option<&str> {
        self.hostaddr.as_deref()
    }

    /// TCP port (also the socket file's suffix for Unix sockets).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// User name: as given, else the OS user (see the module docs), else `postgres`.
    pub fn user(&self) -> String {
        match &self.user {
            Some(u) => u.clone(),
            None => os_user(&|k| std::env::var(k).ok().filter(|v| !v.is_empty())),
        }
    }

    /// Database: as given, else named like the user (libpq's rule).
    pub fn dbname(&self) -> String {
        self.dbname.clone().unwrap_or_else(|| self.user())
    }

    /// Whether a password was given (it is never returned).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// `sslmode`: as given, else `verify-full` with `sslrootcert=system`, else `prefer`.
    pub fn sslmode(&self) -> SslMode {
        match self.sslmode {
            Some(m) => m,
            None if self.sslrootcert.as_deref() == Some("system") => SslMode::VerifyFull,
            None => SslMode::Prefer,
        }
    }

    /// `sslrootcert` as given: a file of trusted CA certificates (PEM), or `system`. When not
    /// given, `~/.postgresql/root.crt` is used if it exists.
    pub fn sslrootcert(&self) -> Option<&str> {
        self.sslrootcert.as_deref()
    }

    /// `sslcert` as given: the client certificate (PEM). When not given,
    /// `~/.postgresql/postgresql.crt` is used if it exists.
    pub fn sslcert(&self) -> Option<&str> {
        self.sslcert.as_deref()
    }

    /// `sslkey` as given: the client certificate's private key (PEM, not encrypted). When not
    /// given, `~/.postgresql/postgresql.key`.
    pub fn sslkey(&self) -> Option<&str> {
        self.sslkey.as_deref()
    }

    /// `passfile` as given (or from `PGPASSFILE`); the default is `~/.pgpass`.
    pub fn passfile(&self) -> Option<&str> {
        self.passfile.as_deref()
    }

    /// `application_name`, [`DEFAULT_APPLICATION_NAME`] unless given.
    pub fn application_name(&self) -> &str {
        self.application_name
            .as_deref()
            .unwrap_or(DEFAULT_APPLICATION_NAME)
    }

    /// How long to wait for the connection; `None` means wait forever (`connect_timeout=0`).
    pub fn connect_timeout(&self) -> Option<Duration> {
        match self.connect_timeout {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        }
    }

    /// Server options sent at startup (`-c name=value …`), if given.
    pub fn options(&self) -> Option<&str> {
        self.options.as_deref()
    }

    /// Replaces the password (e.g. from a prompt).
    pub fn with_password(mut self, password: impl Into<String>) -> ConnectionSpec {
        self.password = Some(Password(password.into()));
        self.password_source = Some(PasswordSource::Given);
        self
    }

    /// Replaces `application_name`.
    pub fn with_application_name(mut self, name: impl Into<String>) -> ConnectionSpec {
        self.application_name = Some(name.into());
        self
    }

    pub(crate) fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    pub(crate) fn password_source(&self) -> Option<&PasswordSource> {
        self.password_source.as_ref()
    }

    /// The password file skipped because group or others may read it.
    pub(crate) fn passfile_ignored(&self) -> Option<&Path> {
        self.passfile_ignored.as_deref()
    }

    /// Whether the host is a Unix socket directory.
    pub(crate) fn is_unix_socket(&self) -> bool {
        self.hostaddr.is_none() && self.host().starts_with('/')
    }

    /// `~/.postgresql/<name>`, with the home directory seen at resolution, else the process's.
    pub(crate) fn postgresql_file(&self, name: &str) -> Option<PathBuf> {
        let home = self.home.clone().or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .or_else(|| passwd_entry().map(|(_, home)| home))
        })?;
        Some(home.join(".postgresql").join(name))
    }

    /// Whether `key` was given (in the string, or by an earlier layer).
    fn is_given(&self, key: &str) -> bool {
        match key {
            "host" => self.host.is_some(),
            "hostaddr" => self.hostaddr.is_some(),
            "port" => self.port.is_some(),
            "user" => self.user.is_some(),
            "password" => self.password.is_some(),
            "passfile" => self.passfile.is_some(),
            "dbname" => self.dbname.is_some(),
            "sslmode" => self.sslmode.is_some(),
            "sslrootcert" => self.sslrootcert.is_some(),
            "sslcert" => self.sslcert.is_some(),
            "sslkey" => self.sslkey.is_some(),
            "application_name" => self.application_name.is_some(),
            "connect_timeout" => self.connect_timeout.is_some(),
            "options" => self.options.is_some(),
            _ => false,
        }
    }

    /// Looks the password up in the password file, libpq's way. A file that does not exist, is
    /// not a regular file, or may be read by group or others (Unix) is skipped.
    fn password_from_file(&mut self) {
        let path = match &self.passfile {
            Some(p) => PathBuf::from(p),
            None => match &self.home {
                Some(home) => home.join(".pgpass"),
                None => return,
            },
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        if !meta.is_file() {
            return;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if meta.permissions().mode() & 0o077 != 0 {
                self.passfile_ignored = Some(path);
                return;
            }
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let host = match self.host.as_deref().or(self.hostaddr.as_deref()) {
            None => DEFAULT_HOST,
            Some(h) if DEFAULT_SOCKET_DIRS.contains(&h.trim_end_matches('/')) => DEFAULT_HOST,
            Some(h) => h,
        };
        let found = pgpass_lookup(
            &text,
            host,
            &self.port().to_string(),
            &self.dbname(),
            &self.user(),
        );
        if let Some(password) = found.filter(|p| !p.is_empty()) {
            self.password = Some(Password(password));
            self.password_source = Some(PasswordSource::File(path));
        }
    }

    /// Applies one libpq keyword. `prev` is the keyword before it, to avoid echoing text that may
    /// be a piece of a badly quoted password.
    fn set(&mut self, key: &str, value: String, prev: Option<&str>) -> Result<(), Error> {
        match key {
            "host" => {
                if value.contains(',') {
                    return Err(Error::InvalidSpec(
                        "several hosts are not supported; give one host".to_string(),
                    ));
                }
                self.host = non_empty(value);
            }
            "hostaddr" => {
                if value.contains(',') {
                    return Err(Error::InvalidSpec(
                        "several host addresses are not supported; give one hostaddr".to_string(),
                    ));
                }
                if !value.is_empty() && value.trim().parse::<std::net::IpAddr>().is_err() {
                    return Err(Error::InvalidSpec(format!(
                        "invalid hostaddr `{value}` (expected an IPv4 or IPv6 address)"
                    )));
                }
                self.hostaddr = non_empty(value.trim().to_string());
            }
            "port" => self.port = Some(parse_port(&value, true)?),
            "user" => self.user = non_empty(value),
            "password" => {
                self.password = Some(Password(value));
                self.password_source = Some(PasswordSource::Given);
            }
            "passfile" => self.passfile = non_empty(value),
            "dbname" => self.dbname = non_empty(value),
            "sslmode" => {
                self.sslmode = Some(SslMode::parse(&value).ok_or_else(|| {
                    Error::InvalidSpec(format!(
                        "invalid sslmode `{value}` (expected disable, allow, prefer, require, \
                         verify-ca or verify-full)"
                    ))
                })?)
            }
            "sslrootcert" => self.sslrootcert = non_empty(value),
            "sslcert" => self.sslcert = non_empty(value),
            "sslkey" => self.sslkey = non_empty(value),
            "application_name" => self.application_name = Some(value),
            "connect_timeout" => {
                let secs: u64 = value.trim().parse().map_err(|_| {
                    Error::InvalidSpec(format!(
                        "invalid connect_timeout `{value}` (expected whole seconds)"
                    ))
                })?;
                self.connect_timeout = Some(Duration::from_secs(secs));
            }
            "options" => self.options = non_empty(value),
            _ if prev == Some("password") => {
                return Err(Error::InvalidSpec(
                    "unexpected text after the password (quote a password that contains \
                     spaces: password='…')"
                        .to_string(),
                ));
            }
            _ => {
                return Err(Error::InvalidSpec(format!(
                    "unknown connection option `{key}` (supported: host, hostaddr, port, user, \
                     password, passfile, dbname, sslmode, sslrootcert, sslcert, sslkey, \
                     application_name, connect_timeout, options)"
                )));
            }
        }
        Ok(())
    }
}

impl FromStr for ConnectionSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<ConnectionSpec, Error> {
        ConnectionSpec::parse(s)
    }
}

impl fmt::Display for ConnectionSpec {
    /// The URL form, password as `****`; query parameters only for settings that were given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("postgres://")?;
        f.write_str(&encode(&self.user()))?;
        if self.password.is_some() {
            f.write_str(":****")?;
        }
        f.write_str("@")?;
        let host = self.host.as_deref().unwrap_or(match &self.hostaddr {
            Some(_) => "",
            None => DEFAULT_HOST,
        });
        if host.contains(':') && !host.starts_with('/') {
            write!(f, "[{host}]")?;
        } else {
            f.write_str(&encode(host))?;
        }
        write!(f, ":{}/{}", self.port(), encode(&self.dbname()))?;
        let mut sep = '?';
        let mut param = |f: &mut fmt::Formatter<'_>, k: &str, v: &str| {
            let r = write!(f, "{sep}{k}={}", encode(v));
            sep = '&';
            r
        };
        if let Some(a) = &self.hostaddr {
            param(f, "hostaddr", a)?;
        }
        if let Some(m) = self.sslmode {
            param(f, "sslmode", m.as_str())?;
        }
        for (k, v) in [
            ("sslrootcert", &self.sslrootcert),
            ("sslcert", &self.sslcert),
            ("sslkey", &self.sslkey),
            ("passfile", &self.passfile),
            ("application_name", &self.application_name),
        ] {
            if let Some(v) = v {
                param(f, k, v)?;
            }
        }
        if let Some(t) = self.connect_timeout {
            param(f, "connect_timeout", &t.as_secs().to_string())?;
        }
        if let Some(o) = &self.options {
            param(f, "options", o)?;
        }
        Ok(())
    }
}

/// The OS user, like libpq's: the effective user's name, else `USER` / `USERNAME`, else
/// `postgres`.
fn os_user(env: &dyn Fn(&str) -> Option<String>) -> String {
    passwd_entry()
        .map(|(name, _)| name)
        .or_else(|| env("USER"))
        .or_else(|| env("USERNAME"))
        .unwrap_or_else(|| "postgres".to_string())
}

/// The effective user's name and home directory from `/etc/passwd` (Linux: the effective uid
/// is read from `/proc/self/status`). `None` elsewhere or when the user is not in the file.
fn passwd_entry() -> Option<(String, PathBuf)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[2] == euid && !fields[0].is_empty())
            .then(|| (fields[0].to_string(), PathBuf::from(fields[5])))
    })
}

/// The password of the first line of a password file (`hostname:port:database:username:password`)
/// whose first four fields match; `*` alone matches anything, `\:` and `\\` are a literal `:`
/// and `\`, lines starting with `#` are comments. The password ends at the next unescaped `:`.
/// A matching line stops the search, also when its password is empty (libpq's rule).
pub(crate) fn pgpass_lookup(
    text: &str,
    host: &str,
    port: &str,
    dbname: &str,
    user: &str,
) -> Option<String> {
    let wanted = [host, port, dbname, user];
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields
            .iter()
            .zip(wanted)
            .all(|((text, wildcard), want)| *wildcard || text == want);
        if matches {
            return Some(fields[4].0.clone());
        }
    }
    None
}

/// Splits a password file line at unescaped `:`, removing the escapes; each field comes with
/// whether it was a bare `*`.
fn pgpass_fields(line: &str) -> Vec<(String, bool)> {
    let mut fields = Vec::new();
    let mut text = String::new();
    let mut raw_star = true;
    let mut raw_len = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' => {
                fields.push((std::mem::take(&mut text), raw_star && raw_len == 1));
                raw_star = true;
                raw_len = 0;
                continue;
            }
            '\\' => {
                // A trailing backslash stays, as in libpq.
                text.push(chars.next().unwrap_or('\\'));
                raw_star = false;
            }
            _ => {
                text.push(c);
                raw_star &= c == '*';
            }
        }
        raw_len += 1;
    }
    fields.push((text, raw_star && raw_len == 1));
    fields
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

/// `echo` is false where the text may be a piece of a password (a URL authority).
fn parse_port(s: &str, echo: bool) -> Result<u16, Error> {
    match s.trim().parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ if echo => Err(Error::InvalidSpec(format!(
            "invalid port `{s}` (expected a number from 1 to 65535)"
        ))),
        _ => Err(Error::InvalidSpec(
            "invalid port in the URL (expected a number from 1 to 65535; percent-encode `@`, \
             `:`, `/` and `?` in the user name and password)"
                .to_string(),
        )),
    }
}

/// Parses what follows `postgres://`, following libpq: the user info ends at the first `@`
/// before any `/`; the host ends at `:`, `/` or `?`.
fn parse_url(rest: &str) -> Result<ConnectionSpec, Error> {
    let mut spec = ConnectionSpec::default();
    let after_userinfo = match rest.find(['@', '/']) {
        Some(i) if rest.as_bytes()[i] == b'@' => {
            let userinfo = &rest[..i];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            spec.user = non_empty(decode(user, "the user name")?);
            if let Some(p) = password {
                spec.password = Some(Password(decode(p, "the password")?));
            }
            &rest[i + 1..]
        }
        _ => rest,
    };
    let host_end = after_userinfo
        .find(['/', '?'])
        .unwrap_or(after_userinfo.len());
    let (hostport, tail) = after_userinfo.split_at(host_end);
    if hostport.contains(',') {
        return Err(Error::InvalidSpec(
            "several hosts are not supported; give one host".to_string(),
        ));
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| {
            Error::InvalidSpec("unterminated `[` in the URL's IPv6 host".to_string())
        })?;
        match after {
            "" => (addr.to_string(), None),
            _ => match after.strip_prefix(':') {
                Some(p) => (addr.to_string(), Some(p)),
                None => {
                    return Err(Error::InvalidSpec(
                        "unexpected text after the URL's IPv6 host".to_string(),
                    ));
                }
            },
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (decode(h, "the host")?, Some(p)),
            None => (decode(hostport, "the host")?, None),
        }
    };
    spec.host = non_empty(host);
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        spec.port = Some(parse_port(p, false)?);
    }
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let db = path.strip_prefix('/').unwrap_or(path);
    spec.dbname = non_empty(decode(db, "the database name")?);
    let mut prev: Option<String> = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::InvalidSpec(
                "URL query parameter without `=` (expected name=value)".to_string(),
            ));
        };
        let key = decode(k, "a query parameter name")?;
        let value = decode(v, "a query parameter value")?;
        spec.set(&key, value, prev.as_deref())?;
        prev = Some(key);
    }
    Ok(spec)
}

/// Parses libpq's `key = value` list: values may be single-quoted (`\'`, `\\` escapes);
/// unquoted values end at whitespace (a backslash escapes the next character).
fn parse_key_value(s: &str) -> Result<ConnectionSpec, Error> {
    let mut spec = ConnectionSpec::default();
    let mut chars = s.chars().peekable();
    let mut prev: Option<String> = None;
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            return Err(Error::InvalidSpec(if prev.as_deref() == Some("password") {
                "unexpected text after the password (quote a password that contains spaces: \
                 password='…')"
                    .to_string()
            } else {
                format!("missing `=` after `{key}` (expected key=value pairs)")
            }));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(Error::InvalidSpec(format!(
                            "unterminated quoted value for `{key}`"
                        )));
                    }
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => {
                            return Err(Error::InvalidSpec(format!(
                                "unterminated quoted value for `{key}`"
                            )));
                        }
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        spec.set(&key, value, prev.as_deref())?;
        prev = Some(key);
    }
    Ok(spec)
}

/// Percent-decodes a URL part. The error names the part, never its text.
fn decode(s: &str, what: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => {
                    return Err(Error::InvalidSpec(format!(
                        "invalid percent-encoding in {what}"
                    )));
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| Error::InvalidSpec(format!("{what} is not UTF-8 after percent-decoding")))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "pa55-w0rd_XyZ";

    fn assert_hidden(spec: &ConnectionSpec) {
        let shown = format!("{spec} {spec:?} {spec:#?}");
        assert!(!shown.contains(SECRET), "password leaked: {shown}");
        assert!(shown.contains("****"), "{shown}");
    }

    #[test]
    fn url_all_parts() {
        let spec = ConnectionSpec::parse(&format!(
            "postgres://alice:{SECRET}@db.example.com:6543/shop?sslmode=disable&application_name=etl&connect_timeout=3"
        ))
        .unwrap();
        assert_eq!(spec.host(), "db.example.com");
        assert_eq!(spec.port(), 6543);
        assert_eq!(spec.user(), "alice");
        assert_eq!(spec.dbname(), "shop");
        assert_eq!(spec.sslmode(), SslMode::Disable);
        assert_eq!(spec.application_name(), "etl");
        assert_eq!(spec.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(spec.password().unwrap().expose(), SECRET);
        assert_eq!(
            spec.to_string(),
            "postgres://alice:****@db.example.com:6543/shop?sslmode=disable&application_name=etl&connect_timeout=3"
        );
        assert_hidden(&spec);
    }

    #[test]
    fn url_defaults_and_scheme_spelling() {
        let spec = ConnectionSpec::parse("postgresql://bob@/").unwrap();
        assert_eq!(spec.host(), DEFAULT_HOST);
        assert_eq!(spec.port(), DEFAULT_PORT);
        assert_eq!(spec.dbname(), "bob");
        assert_eq!(spec.application_name(), "lockgraph");
        assert_eq!(spec.sslmode(), SslMode::Prefer);
        assert_eq!(spec.connect_timeout(), Some(DEFAULT_CONNECT_TIMEOUT));
        assert!(!spec.has_password());
        assert_eq!(spec.to_string(), "postgres://bob@localhost:5432/bob");
        let upper = ConnectionSpec::parse("POSTGRES://bob@h/d").unwrap();
        assert_eq!(upper.host(), "h");
    }

    #[test]
    fn url_percent_encoding_ipv6_and_socket() {
        let spec =
            ConnectionSpec::parse("postgres://us%40er:p%2Fa%3Fss%40@[::1]:5433/my%20db").unwrap();
        assert_eq!(spec.user(), "us@er");
        assert_eq!(spec.password().unwrap().expose(), "p/a?ss@");
        assert_eq!(spec.host(), "::1");
        assert_eq!(spec.port(), 5433);
        assert_eq!(spec.dbname(), "my db");
        assert_eq!(
            spec.to_string(),
            "postgres://us%40er:****@[::1]:5433/my%20db"
        );

        let sock = ConnectionSpec::parse("postgres://u@/d?host=%2Fvar%2Frun%2Fpostgresql").unwrap();
        assert_eq!(sock.host(), "/var/run/postgresql");
        let again = ConnectionSpec::parse(&sock.to_string()).unwrap();
        assert_eq!(again.host(), "/var/run/postgresql");
    }

    #[test]
    fn display_round_trips_without_the_password() {
        let spec = ConnectionSpec::parse(
            "host=10.0.0.5 port=7000 user='we ird' password=x dbname=d sslmode=allow options='-c work_mem=64MB'",
        )
        .unwrap();
        let again = ConnectionSpec::parse(&spec.to_string()).unwrap();
        assert_eq!(again.host(), "10.0.0.5");
        assert_eq!(again.port(), 7000);
        assert_eq!(again.user(), "we ird");
        assert_eq!(again.dbname(), "d");
        assert_eq!(again.sslmode(), SslMode::Allow);
        assert_eq!(again.options(), Some("-c work_mem=64MB"));
        assert_eq!(again.password().unwrap().expose(), "****");
    }

    #[test]
    fn key_value_forms() {
        let spec = ConnectionSpec::parse(&format!(
            "host = 127.0.0.1  port=5432 user=postgres password='{SECRET} it\\'s' dbname=test"
        ))
        .unwrap();
        assert_eq!(spec.host(), "127.0.0.1");
        assert_eq!(spec.port(), 5432);
        assert_eq!(spec.user(), "postgres");
        assert_eq!(spec.dbname(), "test");
        assert_eq!(spec.password().unwrap().expose(), format!("{SECRET} it's"));
        assert_eq!(spec.application_name(), "lockgraph");
        assert_hidden(&spec);

        let escaped = ConnectionSpec::parse("password=a\\ b user=u").unwrap();
        assert_eq!(escaped.password().unwrap().expose(), "a b");
        assert_eq!(
            ConnectionSpec::parse("").unwrap(),
            ConnectionSpec::default()
        );
        let zero = ConnectionSpec::parse("connect_timeout=0").unwrap();
        assert_eq!(zero.connect_timeout(), None);
    }

    #[test]
    fn errors_are_clear_and_never_show_the_password() {
        let cases = [
            format!("postgres://u:{SECRET}@host:notaport/db"),
            format!("postgres://u:{SECRET}/x@host/db"),
            format!("postgres://u:{SECRET}%zz@host/db"),
            format!("postgres://u:{SECRET}@h/d?sslmode"),
            format!("postgres://u:{SECRET}@h1,h2/d"),
            format!("user=u password={SECRET} more words"),
            format!("user=u password={SECRET} {SECRET}=1"),
            format!("user=u password='{SECRET}"),
            format!("mysql://u:{SECRET}@h/d"),
        ];
        for case in &cases {
            let err = ConnectionSpec::parse(case).expect_err(case);
            let msg = err.to_string();
            assert!(!msg.contains(SECRET), "{msg}");
            assert!(!format!("{err:?}").contains(SECRET), "{err:?}");
            assert!(!msg.contains('\n'), "{msg}");
            assert!(msg.starts_with("invalid connection string: "), "{msg}");
        }
        let msg = ConnectionSpec::parse("host=h sslmode=maybe")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("invalid sslmode `maybe`"), "{msg}");
        let msg = ConnectionSpec::parse("host=h colour=blue")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown connection option `colour`"), "{msg}");
        let msg = ConnectionSpec::parse("host=h port=99999")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("invalid port `99999`"), "{msg}");
    }

    /// An environment for [`ConnectionSpec::resolve_with`] from pairs.
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    /// A temporary home directory, with a `.pgpass` of `text` and mode `mode` when given.
    fn home_with_pgpass(text: Option<&str>, mode: u32) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            let path = home.path().join(".pgpass");
            std::fs::write(&path, text).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            #[cfg(not(unix))]
            let _ = mode;
        }
        home
    }

    #[test]
    fn environment_fills_what_was_not_given() {
        let e = env(&[
            ("PGHOST", "db.env"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", SECRET),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
            ("PGSSLROOTCERT", "/etc/ca.pem"),
            ("PGSSLCERT", "/etc/client.crt"),
            ("PGSSLKEY", "/etc/client.key"),
            ("PGAPPNAME", "envapp"),
            ("PGCONNECT_TIMEOUT", "7"),
            ("PGOPTIONS", "-c lock_timeout=1s"),
            ("PGHOSTADDR", "127.0.0.2"),
        ]);
        let spec =
            ConnectionSpec::resolve_with(Some("host=given port=7000 sslmode=disable"), &e).unwrap();
        // Given settings win.
        assert_eq!(spec.host(), "given");
        assert_eq!(spec.port(), 7000);
        assert_eq!(spec.sslmode(), SslMode::Disable);
        // The environment fills the rest.
        assert_eq!(spec.hostaddr(), Some("127.0.0.2"));
        assert_eq!(spec.user(), "envuser");
        assert_eq!(spec.dbname(), "envdb");
        assert_eq!(spec.password().unwrap().expose(), SECRET);
        assert_eq!(spec.password_source(), Some(&PasswordSource::Environment));
        assert_eq!(spec.sslrootcert(), Some("/etc/ca.pem"));
        assert_eq!(spec.sslcert(), Some("/etc/client.crt"));
        assert_eq!(spec.sslkey(), Some("/etc/client.key"));
        assert_eq!(spec.application_name(), "envapp");
        assert_eq!(spec.connect_timeout(), Some(Duration::from_secs(7)));
        assert_eq!(spec.options(), Some("-c lock_timeout=1s"));
        assert_hidden(&spec);

        // A given password, even an empty one, is not replaced by PGPASSWORD.
        let given = ConnectionSpec::resolve_with(Some("password=mine"), &e).unwrap();
        assert_eq!(given.password().unwrap().expose(), "mine");
        assert_eq!(given.password_source(), Some(&PasswordSource::Given));
    }

    #[test]
    fn defaults_when_neither_given_nor_in_the_environment() {
        let home = home_with_pgpass(None, 0o600);
        let e = env(&[("HOME", home.path().to_str().unwrap()), ("PGPORT", "")]);
        let spec = ConnectionSpec::resolve_with(None, &e).unwrap();
        assert_eq!(spec.host(), DEFAULT_HOST);
        assert_eq!(
            spec.port(),
            DEFAULT_PORT,
            "an empty variable counts as unset"
        );
        assert_eq!(spec.user(), os_user(&e), "the OS user, like libpq");
        assert_eq!(
            spec.dbname(),
            spec.user(),
            "the database is named like the user"
        );
        assert_eq!(spec.sslmode(), SslMode::Prefer);
        assert_eq!(spec.application_name(), DEFAULT_APPLICATION_NAME);
        assert!(!spec.has_password());
        assert_eq!(
            spec.postgresql_file("root.crt"),
            Some(home.path().join(".postgresql").join("root.crt"))
        );

        // PGUSER alone: the database follows it.
        let spec = ConnectionSpec::resolve_with(None, env(&[("PGUSER", "app")])).unwrap();
        assert_eq!(
            (spec.user().as_str(), spec.dbname().as_str()),
            ("app", "app")
        );
    }

    #[test]
    fn resolve_none_works_from_the_environment_alone() {
        let e = env(&[
            ("PGHOST", "10.1.2.3"),
            ("PGPORT", "5433"),
            ("PGUSER", "me"),
            ("PGDATABASE", "shop"),
        ]);
        let spec = ConnectionSpec::resolve_with(None, e).unwrap();
        assert_eq!(spec.to_string(), "postgres://me@10.1.2.3:5433/shop");
    }

    #[test]
    fn environment_errors_name_the_variable_and_hide_the_password() {
        let cases = [
            ("PGPORT", "fifty", "invalid port `fifty`"),
            ("PGSSLMODE", "sometimes", "invalid sslmode `sometimes`"),
            (
                "PGCONNECT_TIMEOUT",
                "soon",
                "invalid connect_timeout `soon`",
            ),
            ("PGHOST", "a,b", "several hosts"),
            ("PGHOSTADDR", "db.example.com", "invalid hostaddr"),
        ];
        for (var, value, expected) in cases {
            let e = env(&[(var, value), ("PGPASSWORD", SECRET)]);
            let msg = ConnectionSpec::resolve_with(None, e)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(expected), "{msg}");
            assert!(msg.ends_with(&format!("(from {var})")), "{msg}");
            assert!(!msg.contains(SECRET) && !msg.contains('\n'), "{msg}");
        }
        // A bad given setting is reported as such, not blamed on the environment.
        let msg = ConnectionSpec::resolve_with(Some("port=x"), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("(from"), "{msg}");
    }

    #[test]
    fn sslrootcert_system_defaults_to_verify_full() {
        let spec = ConnectionSpec::parse("host=db sslrootcert=system").unwrap();
        assert_eq!(spec.sslmode(), SslMode::VerifyFull);
        let spec = ConnectionSpec::parse("host=db sslrootcert=/ca.pem").unwrap();
        assert_eq!(spec.sslmode(), SslMode::Prefer);
    }

    #[test]
    fn new_keywords_round_trip_through_display() {
        let spec = ConnectionSpec::parse(
            "host=db hostaddr=::1 user=u dbname=d sslmode=verify-ca sslrootcert='/a b/ca.pem' \
             sslcert=/c.crt sslkey=/c.key passfile=/p",
        )
        .unwrap();
        let shown = spec.to_string();
        assert_eq!(
            shown,
            "postgres://u@db:5432/d?hostaddr=%3A%3A1&sslmode=verify-ca&sslrootcert=%2Fa%20b%2Fca.pem&sslcert=%2Fc.crt&sslkey=%2Fc.key&passfile=%2Fp"
        );
        let again = ConnectionSpec::parse(&shown).unwrap();
        assert_eq!(again.hostaddr(), Some("::1"));
        assert_eq!(again.sslrootcert(), Some("/a b/ca.pem"));
        assert_eq!(again.sslcert(), Some("/c.crt"));
        assert_eq!(again.sslkey(), Some("/c.key"));
        assert_eq!(again.passfile(), Some("/p"));
        assert_eq!(again.to_string(), shown);
        let only_addr = ConnectionSpec::parse("hostaddr=127.0.0.1 user=u").unwrap();
        assert_eq!(only_addr.host(), "127.0.0.1");
        let again = ConnectionSpec::parse(&only_addr.to_string()).unwrap();
        assert_eq!(again.hostaddr(), Some("127.0.0.1"));
        assert_eq!(again.host(), "127.0.0.1");
    }

    #[test]
    fn pgpass_lines_match_like_libpq() {
        let text = "\
# comment line: host:port:db:user:password
db.example.com:5432:shop:alice:first
*:*:*:bob:bob\\:s\\\\pass:ignored after an unescaped colon
short:line
host\\:with\\:colons:5432:*:carol:carol-pw
localhost:*:*:*:
*:*:*:*:fallback
";
        let look = |h, p, d, u| pgpass_lookup(text, h, p, d, u);
        assert_eq!(
            look("db.example.com", "5432", "shop", "alice"),
            Some("first".into())
        );
        // The first match wins; `*` matches anything.
        assert_eq!(
            look("db.example.com", "5432", "other", "alice"),
            Some("fallback".into())
        );
        // `\:` and `\\` in the password; the password ends at the next unescaped `:`.
        assert_eq!(look("h", "1", "d", "bob"), Some("bob:s\\pass".into()));
        // Escaped colons in a field that must match exactly.
        assert_eq!(
            look("host:with:colons", "5432", "x", "carol"),
            Some("carol-pw".into())
        );
        // An empty password stops the search (libpq's rule).
        assert_eq!(look("localhost", "5432", "d", "dave"), Some(String::new()));
        // `*` only as a whole field: `\*` is a literal star.
        assert_eq!(pgpass_lookup("\\*:*:*:*:x\n", "h", "1", "d", "u"), None);
        assert_eq!(
            pgpass_lookup("\\*:*:*:*:x\n", "*", "1", "d", "u"),
            Some("x".into())
        );
        assert_eq!(pgpass_lookup("h:1:d:u\n", "h", "1", "d", "u"), None);
        assert_eq!(
            pgpass_lookup("h:1:d:u:p\\\r\n", "h", "1", "d", "u"),
            Some("p\\".into())
        );
    }

    #[test]
    fn pgpass_file_is_used_when_no_password_is_given() {
        let home = home_with_pgpass(
            Some(&format!(
                "127.0.0.1:5432:test:postgres:{SECRET}\nlocalhost:*:*:postgres:sock\n"
            )),
            0o600,
        );
        let home_str = home.path().to_str().unwrap();
        let e = env(&[("HOME", home_str)]);
        let spec = ConnectionSpec::resolve_with(
            Some("host=127.0.0.1 port=5432 user=postgres dbname=test"),
            &e,
        )
        .unwrap();
        assert_eq!(spec.password().unwrap().expose(), SECRET);
        assert_eq!(
            spec.password_source(),
            Some(&PasswordSource::File(home.path().join(".pgpass")))
        );
        assert_hidden(&spec);

        // A Unix socket in the default directory matches `localhost`; so does no host.
        for given in ["host=/var/run/postgresql user=postgres", "user=postgres"] {
            let spec = ConnectionSpec::resolve_with(Some(given), &e).unwrap();
            assert_eq!(spec.password().unwrap().expose(), "sock", "{given}");
        }
        // No matching line: no password.
        let spec = ConnectionSpec::resolve_with(Some("host=other user=postgres"), &e).unwrap();
        assert!(!spec.has_password());
        // A given password or PGPASSWORD wins over the file.
        let spec = ConnectionSpec::resolve_with(
            Some("host=127.0.0.1 user=postgres dbname=test password=given"),
            &e,
        )
        .unwrap();
        assert_eq!(spec.password().unwrap().expose(), "given");
        let spec = ConnectionSpec::resolve_with(
            Some("host=127.0.0.1 user=postgres dbname=test"),
            env(&[("HOME", home_str), ("PGPASSWORD", "fromenv")]),
        )
        .unwrap();
        assert_eq!(spec.password().unwrap().expose(), "fromenv");
        // An empty given password still looks in the file (libpq).
        let spec = ConnectionSpec::resolve_with(
            Some("host=127.0.0.1 user=postgres dbname=test password=''"),
            &e,
        )
        .unwrap();
        assert_eq!(spec.password().unwrap().expose(), SECRET);
    }

    #[test]
    fn pgpassfile_and_passfile_choose_the_file() {
        let home = home_with_pgpass(Some("*:*:*:*:from-home\n"), 0o600);
        let other = home_with_pgpass(Some("*:*:*:*:from-other\n"), 0o600);
        let other_file = other.path().join(".pgpass");
        let e = env(&[
            ("HOME", home.path().to_str().unwrap()),
            ("PGPASSFILE", other_file.to_str().unwrap()),
        ]);
        let spec = ConnectionSpec::resolve_with(Some("user=u"), &e).unwrap();
        assert_eq!(spec.password().unwrap().expose(), "from-other");
        let given = format!("user=u passfile={}", home.path().join(".pgpass").display());
        let spec = ConnectionSpec::resolve_with(Some(&given), &e).unwrap();
        assert_eq!(spec.password().unwrap().expose(), "from-home");
        // A missing file is no error.
        let spec =
            ConnectionSpec::resolve_with(Some("user=u passfile=/nonexistent/pgpass"), &e).unwrap();
        assert!(!spec.has_password());
    }

    #[cfg(unix)]
    #[test]
    fn pgpass_readable_by_others_is_skipped() {
        for mode in [0o644, 0o640, 0o604] {
            let home = home_with_pgpass(Some("*:*:*:*:secret\n"), mode);
            let e = env(&[("HOME", home.path().to_str().unwrap())]);
            let spec = ConnectionSpec::resolve_with(Some("user=u"), &e).unwrap();
            assert!(!spec.has_password(), "mode {mode:o}");
            assert_eq!(
                spec.passfile_ignored(),
                Some(home.path().join(".pgpass").as_path())
            );
        }
        // A directory is not a password file either.
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".pgpass")).unwrap();
        let e = env(&[("HOME", home.path().to_str().unwrap())]);
        let spec = ConnectionSpec::resolve_with(Some("user=u"), &e).unwrap();
        assert!(!spec.has_password() && spec.passfile_ignored().is_none());
    }
}
