//! Errors of the live PostgreSQL side.
//!
//! Every message is one line and never contains a password: connection targets are printed with
//! [`ConnectionSpec`](crate::ConnectionSpec)'s redacting `Display`, and server messages never echo
//! credentials.

use thiserror::Error;

/// Errors from connecting, running a reproduction, or reading a reproduction script.
///
/// Statement failures *during the steps* of a reproduction are not errors: they are the result
/// (see [`StepResult`](crate::StepResult)). Failures before the steps (connection, setup) and
/// failures of the runner itself are.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string (URL or `key=value` list) or a `PG*` environment variable could not
    /// be read.
    #[error("invalid connection string: {0}")]
    InvalidSpec(String),

    /// The server could not be reached, refused the login, failed the TLS handshake, or does
    /// not speak PostgreSQL.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// The target, password shown as `****`.
        target: String,
        /// What went wrong, in one line.
        reason: String,
    },

    /// TLS could not be set up before connecting: a root certificate or client key file is
    /// missing or unreadable, or `sslmode` does not go with `sslrootcert=system`. (A failed
    /// handshake — certificate not trusted, wrong host name, a server without SSL — is a
    /// [`Error::Connect`] whose reason says so.)
    #[error("cannot set up TLS: {0}")]
    Tls(String),

    /// A statement of the reproduction's setup failed; nothing of the steps was run.
    #[error(
        "setup statement {index} failed: {message} (SQLSTATE {sqlstate}); statement: {statement}"
    )]
    Setup {
        /// 1-based position in `Repro::setup`.
        index: usize,
        /// The server's SQLSTATE, e.g. `42P01`.
        sqlstate: String,
        /// The server's message.
        message: String,
        /// The statement, shortened to one line.
        statement: String,
    },

    /// A query the runner itself issues failed, or a session's connection broke mid-run.
    #[error("{context}: {message}")]
    Query {
        /// What the runner was doing (`creating the scratch schema`, `step 3 (session 1)`).
        context: String,
        /// The server's SQLSTATE when the server answered with an error.
        sqlstate: Option<String>,
        /// What went wrong, in one line.
        message: String,
    },

    /// The reproduction cannot be run as given (no sessions, a step in session 0, …).
    #[error("invalid reproduction: {0}")]
    InvalidRepro(String),

    /// [`ReproOptions`](crate::ReproOptions) out of range.
    #[error("invalid options: {0}")]
    InvalidOptions(String),

    /// A reproduction script could not be read.
    #[error("line {line}: {message}")]
    Script {
        /// 1-based line in the script.
        line: usize,
        /// What is wrong there.
        message: String,
    },

    /// The server did not answer in time (a bound of the runner, beyond the server-side timeouts).
    #[error("timed out: {0}")]
    Timeout(String),

    /// The scratch schema could not be dropped; it must be dropped by hand.
    #[error(
        "could not drop the scratch schema {schema}: {message} (drop it by hand: DROP SCHEMA {schema} CASCADE)"
    )]
    Cleanup {
        /// The schema left behind.
        schema: String,
        /// Why the drop failed.
        message: String,
    },

    /// The async runtime behind the blocking wrappers could not be started.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}
