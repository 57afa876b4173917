//! Errors of the live MySQL/MariaDB side.
//!
//! Every message is one line and never contains a password: the server is named by
//! [`Target`](crate::Target)'s `Display`, which leaves the password out, and the driver's and
//! server's messages never echo it.

use thiserror::Error;

/// Errors from reading a URL, connecting, reading the lock tables, or running a reproduction.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a `mysql://` or `mariadb://` URL the driver can use.
    #[error("invalid MySQL/MariaDB URL: {0}")]
    InvalidUrl(String),

    /// The server could not be reached or refused the login.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// The server, without the password.
        target: String,
        /// What went wrong, in one line.
        reason: String,
    },

    /// A statement of the snapshot (a session setting or a read of the lock tables) failed.
    #[error("{target}: {context}: {reason}")]
    Query {
        /// The server, without the password.
        target: String,
        /// What was being read or set (`reading information_schema.INNODB_TRX`).
        context: String,
        /// The server's or driver's message, with a hint when one is known.
        reason: String,
    },

    /// The server cannot show its lock waits the way this crate reads them (performance_schema
    /// off on MySQL 8, a server older than MySQL 5.6 / MariaDB 10.0).
    #[error("{target}: {reason}")]
    Unsupported {
        /// The server, without the password.
        target: String,
        /// Why, and what to do.
        reason: String,
    },

    /// A reproduction cannot run as given: no steps, a step in a session that does not exist,
    /// or a script written for another engine.
    #[error("invalid reproduction: {0}")]
    InvalidRepro(String),

    /// A statement of a reproduction's setup failed.
    #[error("{target}: setup statement {index} failed: {reason} (`{statement}`)")]
    Setup {
        /// The server, without the password.
        target: String,
        /// 1-based index of the statement in the setup.
        index: usize,
        /// The statement's first line.
        statement: String,
        /// The server's message.
        reason: String,
    },

    /// A reproduction script could not be read.
    #[error("line {line}: {message}")]
    Script {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A reproduction's scratch database could not be dropped.
    #[error(
        "{target}: could not drop the scratch database `{database}`: {reason}; drop it by hand"
    )]
    Cleanup {
        /// The server, without the password.
        target: String,
        /// The scratch database.
        database: String,
        /// The server's message.
        reason: String,
    },
}

/// One line of a driver error, with a hint for the errors a monitoring login typically meets.
pub(crate) fn describe(e: &mysql::Error) -> String {
    let mut s = e.to_string().replace(['\n', '\r'], " ");
    if let mysql::Error::MySqlError(m) = e {
        // 1227 ER_SPECIFIC_ACCESS_DENIED_ERROR (PROCESS for INNODB_TRX / INNODB_LOCKS),
        // 1142 ER_TABLEACCESS_DENIED_ERROR (SELECT on performance_schema tables).
        if m.code == 1227 {
            s.push_str(" (grant the login PROCESS: GRANT PROCESS ON *.* TO …)");
        } else if m.code == 1142 {
            s.push_str(" (grant the login SELECT ON performance_schema.*)");
        }
    }
    s
}
