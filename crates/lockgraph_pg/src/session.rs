//! One server session as the runner (and, later, live inspection) uses it: a client, its
//! backend pid, a cancel token, and session settings applied with `set_config`.

use crate::connect::{Tls, connect_with, query_error};
use crate::{ConnectionSpec, Error};
use std::sync::Arc;
use tokio_postgres::{CancelToken, Client};

/// An open connection with its backend pid.
pub(crate) struct Session {
    /// Shared so a statement can run in a spawned task while the runner keeps the session.
    pub(crate) client: Arc<Client>,
    /// `pg_backend_pid()`, to find the session in `pg_locks` / `pg_stat_activity`.
    pub(crate) pid: i32,
    /// The session's name in errors (`session 2`, `monitor`).
    pub(crate) name: String,
    cancel: CancelToken,
    /// The connection's TLS, for cancel requests (a connection of their own).
    tls: Tls,
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
        let tls = Tls::new(spec)?;
        let client = connect_with(spec, Some(&app), &tls).await?;
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
            tls,
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

    /// Asks the server to cancel whatever the session is running (a separate connection, with
    /// the session's TLS).
    pub(crate) async fn cancel(&self) -> Result<(), Error> {
        self.cancel
            .cancel_query(self.tls.connector())
            .await
            .map_err(|e| query_error(&format!("{}: cancelling", self.name), &e))
    }
}

pub(crate) use lockgraph_core::quote_ident;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    /// The test server of `tests/repro_pg.rs`, with `sslmode=prefer`: TLS when it offers it.
    fn server() -> ConnectionSpec {
        let text = std::env::var("LOCKGRAPH_TEST_PG")
            .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into());
        ConnectionSpec::resolve_with(Some(&text), |k| {
            (k == "PGSSLMODE").then(|| "prefer".to_string())
        })
        .expect("LOCKGRAPH_TEST_PG")
    }

    #[test]
    fn cancel_goes_over_the_sessions_tls() {
        let rt = crate::runtime().unwrap();
        rt.block_on(async {
            let spec = server();
            let session = match Session::open(&spec, "cancel test", &[]).await {
                Ok(s) => s,
                Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                    panic!("the PostgreSQL test server is required under CI=true: {e}")
                }
                Err(e) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: cancel_goes_over_the_sessions_tls did not run: {e}"
                    );
                    return;
                }
            };
            let client = Arc::clone(&session.client);
            let sleeping =
                tokio::spawn(async move { client.batch_execute("SELECT pg_sleep(30)").await });
            let monitor = crate::connect::connect(&spec, None).await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let active: bool = monitor
                    .query_one(
                        "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1",
                        &[&session.pid],
                    )
                    .await
                    .unwrap()
                    .get(0);
                if active {
                    break;
                }
                assert!(Instant::now() < deadline, "pg_sleep never started");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let started = Instant::now();
            session.cancel().await.expect("cancel request");
            let result = tokio::time::timeout(Duration::from_secs(10), sleeping)
                .await
                .expect("the cancel request must end pg_sleep")
                .unwrap();
            let err = result.expect_err("cancelled");
            assert_eq!(err.code().map(|c| c.code()), Some("57014"), "{err}");
            assert!(started.elapsed() < Duration::from_secs(10));
        });
    }
}
