//! Test support: a throwaway PostgreSQL cluster ([`cluster`]), lock scenarios played on it
//! ([`scenarios`]), and [`produce`], which runs them all and returns the logs the server wrote.
#![allow(dead_code)]

pub mod cluster;
pub mod scenarios;

use cluster::{ClusterSettings, ThrowawayCluster};
use scenarios::Scenario;
use std::time::{Duration, Instant};

/// The other `log_line_prefix`es, each used for one more run of the two-table cycle:
/// `(prefix, file name of the committed stderr log)`.
pub const OTHER_PREFIXES: &[(&str, &str)] = &[
    (
        "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
        "pg15-stderr-prefix-pgbadger.log",
    ),
    ("%m %c %x %v ", "pg15-stderr-prefix-session.log"),
];

/// A stderr log written with another prefix.
#[derive(Clone, Debug)]
pub struct OtherPrefixLog {
    /// The `log_line_prefix`.
    pub prefix: String,
    /// The committed file's name.
    pub file_name: String,
    /// The log.
    pub text: String,
}

/// The logs of one complete run.
#[derive(Clone, Debug)]
pub struct ProducedLogs {
    /// `server_version` (`15.20 (Debian 15.20-0+deb12u1)`).
    pub server_version: String,
    /// The main run's `log_line_prefix`.
    pub prefix: String,
    /// The main run (every scenario): stderr, csvlog, jsonlog.
    pub stderr: String,
    /// csvlog of the main run.
    pub csv: String,
    /// jsonlog of the main run.
    pub json: String,
    /// The two-table cycle again, once per [`OTHER_PREFIXES`] entry (stderr only).
    pub other_prefixes: Vec<OtherPrefixLog>,
    /// Settings of the main run (port and temporary paths as placeholders).
    pub settings: Vec<(String, String)>,
    /// How long producing took.
    pub elapsed: Duration,
}

/// What [`produce`] came to.
#[derive(Debug)]
pub enum Produced {
    /// Logs of a complete run.
    Ready(ProducedLogs),
    /// No cluster could be started (no PostgreSQL binaries, …): skip, or fail under CI.
    Unavailable(String),
    /// A cluster started, but the run went wrong: always a failure.
    Failed(String),
}

/// Starts a throwaway cluster, plays every scenario in one run (one stderr/csv/json triple),
/// then restarts it with each of [`OTHER_PREFIXES`] for the two-table cycle, and returns the
/// logs. The cluster is gone when this returns.
pub fn produce() -> Produced {
    let started = Instant::now();
    let mut cluster = match ThrowawayCluster::start(ClusterSettings::default()) {
        Ok(c) => c,
        Err(e) => return Produced::Unavailable(e),
    };
    match produce_on(&mut cluster, started) {
        Ok(logs) => Produced::Ready(logs),
        Err(e) => Produced::Failed(e),
    }
}

fn produce_on(cluster: &mut ThrowawayCluster, started: Instant) -> Result<ProducedLogs, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let admin = cluster.conn_string();
    let app = cluster.conn_string_for(scenarios::USER, scenarios::DATABASE);
    let server_version = rt.block_on(async {
        scenarios::prepare_database(&admin).await?;
        let client = scenarios::connect(&admin).await?;
        let row = client
            .query_one("SELECT current_setting('server_version')", &[])
            .await
            .map_err(|e| format!("server_version: {e}"))?;
        Ok::<String, String>(row.get(0))
    })?;
    rt.block_on(scenarios::play(&app, &scenarios::all()))?;
    let settings = placeholder_settings(cluster);
    let prefix = cluster.settings().log_line_prefix.clone();
    cluster.stop()?;
    let (stderr, csv, json) = read_logs(cluster)?;

    let mut other_prefixes = Vec::new();
    let two_table: Vec<Scenario> = vec![scenarios::two_table_cycle()];
    for (i, (p, file_name)) in OTHER_PREFIXES.iter().enumerate() {
        cluster.restart(ClusterSettings::with_prefix(p, &format!("prefix{i}")))?;
        let app = cluster.conn_string_for(scenarios::USER, scenarios::DATABASE);
        rt.block_on(scenarios::play(&app, &two_table))?;
        cluster.stop()?;
        other_prefixes.push(OtherPrefixLog {
            prefix: p.to_string(),
            file_name: file_name.to_string(),
            text: read_logs(cluster)?.0,
        });
    }
    Ok(ProducedLogs {
        server_version,
        prefix,
        stderr,
        csv,
        json,
        other_prefixes,
        settings,
        elapsed: started.elapsed(),
    })
}

fn read_logs(cluster: &ThrowawayCluster) -> Result<(String, String, String), String> {
    let (a, b, c) = cluster.log_paths();
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))
    };
    Ok((read(&a)?, read(&b)?, read(&c)?))
}

/// The main run's settings with the machine-specific values (port, temporary paths) replaced.
fn placeholder_settings(cluster: &ThrowawayCluster) -> Vec<(String, String)> {
    cluster
        .settings()
        .all(
            0,
            std::path::Path::new("<tempdir>/sock"),
            std::path::Path::new("<tempdir>/log"),
        )
        .into_iter()
        .map(|(k, v)| {
            if k == "port" {
                (k, "<free port>".to_string())
            } else {
                (k, v)
            }
        })
        .collect()
}
