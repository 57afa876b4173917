//! Connection settings: [`ConnectionSpec`], parsed from a `postgres://` URL or a libpq-style
//! `key=value` list.
//!
//! Every setting is kept as "given or not" (`Option`), and the effective value is computed by the
//! accessors. That is where PG* environment variables and `.pgpass` will be layered in later,
//! without changing the parsers: a given setting wins, then the environment, then the default.
//!
//! The password lives in a private newtype whose `Debug` prints `****`, and `Display` prints the
//! URL form with `****` in its place, so neither can leak it by accident.

use crate::Error;
use std::fmt;
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

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Try without TLS first (treated like `prefer` without TLS support: no TLS).
    Allow,
    /// Use TLS when the server offers it (libpq's default); without TLS support, no TLS.
    #[default]
    Prefer,
    /// TLS, no certificate check.
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

/// Where and how to connect: host, port, user, password, database, `sslmode`,
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
    port: Option<u16>,
    user: Option<String>,
    password: Option<Password>,
    dbname: Option<String>,
    sslmode: Option<SslMode>,
    application_name: Option<String>,
    connect_timeout: Option<Duration>,
    options: Option<String>,
}

impl ConnectionSpec {
    /// All defaults: `localhost:5432`, the current OS user, database named like the user.
    pub fn new() -> ConnectionSpec {
        ConnectionSpec::default()
    }

    /// Parses a `postgres://` / `postgresql://` URL or a `key=value` list. An empty string gives
    /// all defaults. Errors never contain the password.
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

    /// Host name, IP address, or Unix socket directory (starts with `/`).
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or(DEFAULT_HOST)
    }

    /// TCP port (also the socket file's suffix for Unix sockets).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// User name: as given, else the OS user (`USER`/`USERNAME`), else `postgres`.
    pub fn user(&self) -> String {
        if let Some(u) = &self.user {
            return u.clone();
        }
        ["USER", "USERNAME"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "postgres".to_string())
    }

    /// Database: as given, else named like the user (libpq's rule).
    pub fn dbname(&self) -> String {
        self.dbname.clone().unwrap_or_else(|| self.user())
    }

    /// Whether a password was given (it is never returned).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// `sslmode`, `prefer` unless given.
    pub fn sslmode(&self) -> SslMode {
        self.sslmode.unwrap_or_default()
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

    /// Replaces the password (e.g. from a prompt or, later, `PGPASSWORD` / `.pgpass`).
    pub fn with_password(mut self, password: impl Into<String>) -> ConnectionSpec {
        self.password = Some(Password(password.into()));
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
            "port" => self.port = Some(parse_port(&value, true)?),
            "user" => self.user = non_empty(value),
            "password" => self.password = Some(Password(value)),
            "dbname" => self.dbname = non_empty(value),
            "sslmode" => {
                self.sslmode = Some(SslMode::parse(&value).ok_or_else(|| {
                    Error::InvalidSpec(format!(
                        "invalid sslmode `{value}` (expected disable, allow, prefer, require, \
                         verify-ca or verify-full)"
                    ))
                })?)
            }
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
                    "unknown connection option `{key}` (supported: host, port, user, password, \
                     dbname, sslmode, application_name, connect_timeout, options)"
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
        let host = self.host();
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
        if let Some(m) = self.sslmode {
            param(f, "sslmode", m.as_str())?;
        }
        if let Some(a) = &self.application_name {
            param(f, "application_name", a)?;
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
}
