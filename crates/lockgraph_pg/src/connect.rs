//! Opening connections: [`ConnectionSpec`] → `tokio_postgres` client, with errors turned into one
//! clear line, and [`probe`] to check a server.
//!
//! TLS is a seam here: [`connect`] picks the TLS connector from `sslmode`. Only "no TLS" exists
//! today; `sslmode=require` and stronger fail with [`Error::TlsUnsupported`] instead of silently
//! connecting in clear text.

use crate::spec::{ConnectionSpec, SslMode};
use crate::{Error, runtime};
use std::error::Error as _;
use tokio_postgres::{Client, NoTls};

/// What [`probe`] learns about a server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub version: String,
    /// `server_version_num`, e.g. `150020`.
    pub version_num: i32,
    /// `current_user`.
    pub user: String,
    /// `current_database()`.
    pub database: String,
    /// Whether the user is a superuser (needed to `SET deadlock_timeout`).
    pub superuser: bool,
}

/// Connects and asks the server who and what it is. The error for an unreachable host, a
/// refused login, or something that is not PostgreSQL is one line without the password.
pub async fn probe(spec: &ConnectionSpec) -> Result<ServerInfo, Error> {
    let client = connect(spec, None).await?;
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int4, \
                    current_user::text, current_database()::text, \
                    current_setting('is_superuser') = 'on'",
            &[],
        )
        .await
        .map_err(|e| query_error("reading the server version", &e))?;
    Ok(ServerInfo {
        version: row.get(0),
        version_num: row.get(1),
        user: row.get(2),
        database: row.get(3),
        superuser: row.get(4),
    })
}

/// Blocking [`probe`], on a current-thread runtime of its own. Do not call it from async code.
pub fn probe_blocking(spec: &ConnectionSpec) -> Result<ServerInfo, Error> {
    runtime()?.block_on(probe(spec))
}

/// Opens one connection and spawns its I/O task on the current tokio runtime.
/// `application_name` overrides the spec's (used to name the runner's sessions).
pub(crate) async fn connect(
    spec: &ConnectionSpec,
    application_name: Option<&str>,
) -> Result<Client, Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(spec.host())
        .port(spec.port())
        .user(spec.user())
        .dbname(spec.dbname())
        .application_name(application_name.unwrap_or(spec.application_name()));
    if let Some(p) = spec.password() {
        config.password(p.expose());
    }
    if let Some(t) = spec.connect_timeout() {
        config.connect_timeout(t);
    }
    if let Some(o) = spec.options() {
        config.options(o);
    }
    let sslmode = spec.sslmode();
    if sslmode.requires_tls() {
        return Err(Error::TlsUnsupported {
            sslmode: sslmode.to_string(),
        });
    }
    // Without a TLS connector, `prefer` and `allow` connect in clear text, as libpq does when
    // the server offers no TLS.
    config.ssl_mode(match sslmode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        _ => tokio_postgres::config::SslMode::Prefer,
    });
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| connect_error(spec, &e))?;
    tokio::spawn(async move {
        // Errors surface on the client's next query; nothing to report here.
        let _ = connection.await;
    });
    Ok(client)
}

/// The one-line error for a failed connection attempt.
fn connect_error(spec: &ConnectionSpec, e: &tokio_postgres::Error) -> Error {
    let mut reason = describe(e);
    if e.as_db_error().is_none() {
        reason.push_str(hint(e));
    }
    if let Some(p) = spec.password() {
        // Belt and braces: no server or driver message should contain it, but never print it.
        if p.expose().len() >= 3 {
            reason = reason.replace(p.expose(), "****");
        }
    }
    Error::Connect {
        target: spec.to_string(),
        reason,
    }
}

/// A hint for a connection failure the server did not explain itself.
fn hint(e: &tokio_postgres::Error) -> &'static str {
    use std::io::ErrorKind;
    const NOT_POSTGRES: &str = " (is that a PostgreSQL server?)";
    let top = e.to_string();
    let io = source_chain(e).find_map(|s| s.downcast_ref::<std::io::Error>());
    match io.map(std::io::Error::kind) {
        Some(ErrorKind::ConnectionRefused) => {
            " (is the server running and accepting TCP connections on that host and port?)"
        }
        Some(ErrorKind::TimedOut) => " (is the host reachable?)",
        Some(ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => NOT_POSTGRES,
        Some(_) => "",
        None if top.starts_with("timeout") => " (is the host reachable? see connect_timeout)",
        None if top.starts_with("unexpected message")
            || top.starts_with("error parsing response")
            || top.starts_with("connection closed") =>
        {
            NOT_POSTGRES
        }
        None if describe(e).contains("password missing") => {
            " (the server asks for a password: give one in the connection string)"
        }
        None => "",
    }
}

fn source_chain<'a>(
    e: &'a tokio_postgres::Error,
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |s| (*s).source())
}

/// One line for a driver error: the server's `SEVERITY: message (SQLSTATE …)` when the server
/// answered, else the driver's message and its causes joined by `: `.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut parts = vec![e.to_string()];
    for s in source_chain(e) {
        let s = s.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// A failed runner query as [`Error::Query`].
pub(crate) fn query_error(context: &str, e: &tokio_postgres::Error) -> Error {
    Error::Query {
        context: context.to_string(),
        sqlstate: e.code().map(|c| c.code().to_string()),
        message: match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => describe(e),
        },
    }
}
