//! One server session as the runner (and, later, live inspection) uses it: a client, its
//! backend pid, a cancel token, and session settings applied with `set_config`.

use crate::connect::{connect, query_error};
use crate::{ConnectionSpec, Error};
use std::sync::Arc;
use tokio_postgres::{CancelToken, Client, NoTls};

/// An open connection with its backend pid.
pub(crate) struct Session {
    /// Shared so a statement can run in a spawned task while the runner keeps the session.
    pub(crate) client: Arc<Client>,
    /// `pg_backend_pid()`, to find the session in `pg_locks` / `pg_stat_activity`.
    pub(crate) pid: i32,
    /// The session's name in errors (`session 2`, `monitor`).
    pub(crate) name: String,
    cancel: CancelToken,
}

impl Session {
    /// Connects with `application_name` = `<spec's>/<name>` and applies `settings`
    /// (`set_config(name, value, false)`, so values need no quoting).
    pub(crate) async fn open(
        spec: &ConnectionSpec,
        name: &str,
        settings: &[(&str, String)],
    ) -> Result<Session, Error> {
        let app = format!("{}/{}", spec.application_name(), name.replace(' ', "-"));
        let client = connect(spec, Some(&app)).await?;
        for (key, value) in settings {
            client
                .execute("SELECT pg_catalog.set_config($1, $2, false)", &[key, value])
                .await
                .map_err(|e| query_error(&format!("{name}: setting {key}"), &e))?;
        }
        let pid: i32 = client
            .query_one("SELECT pg_catalog.pg_backend_pid()", &[])
            .await
            .map_err(|e| query_error(&format!("{name}: reading the backend pid"), &e))?
            .get(0);
        Ok(Session {
            cancel: client.cancel_token(),
            client: Arc::new(client),
            pid,
            name: name.to_string(),
        })
    }

    /// Runs SQL text with the simple query protocol (several statements allowed).
    pub(crate) async fn run(&self, sql: &str, context: &str) -> Result<(), Error> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| query_error(&format!("{}: {context}", self.name), &e))
    }

    /// Asks the server to cancel whatever the session is running (a separate connection).
    pub(crate) async fn cancel(&self) -> Result<(), Error> {
        self.cancel
            .cancel_query(NoTls)
            .await
            .map_err(|e| query_error(&format!("{}: cancelling", self.name), &e))
    }
}

pub(crate) use lockgraph_core::quote_ident;
