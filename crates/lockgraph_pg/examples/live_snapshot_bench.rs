//! Benchmark of one live snapshot (`lockgraph live`) on a busy server: opens CONNECTIONS
//! sessions that each hold locks on LOCKS_PER_SESSION of TABLES tables inside an open
//! transaction (some also wait in blocking chains), then takes SAMPLES snapshots through the
//! same read-only inspector `lockgraph live` uses and prints server-side and client-side times.
//!
//! ```text
//! cargo run --release -p lockgraph_pg --example live_snapshot_bench -- URL [CONNECTIONS] [TABLES] [LOCKS_PER_SESSION] [SAMPLES]
//! ```
//!
//! `scripts/bench-live.sh` starts a throwaway cluster with `max_connections` high enough and
//! runs this. Everything is created in a schema `lockgraph_bench`, dropped at the end.

use lockgraph_pg::{ConnectionSpec, InspectOptions, Inspector};
use std::time::Instant;
use tokio_postgres::NoTls;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).ok_or(
        "usage: live_snapshot_bench URL [CONNECTIONS] [TABLES] [LOCKS_PER_SESSION] [SAMPLES]",
    )?;
    let arg = |i: usize, default: usize| -> usize {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let (connections, tables, per_session, samples) =
        (arg(2, 1000), arg(3, 200), arg(4, 5), arg(5, 30));

    let (admin, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(conn);
    let max: i32 = admin
        .query_one("SELECT current_setting('max_connections')::int4 - current_setting('superuser_reserved_connections')::int4", &[])
        .await?
        .get(0);
    let used: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
            &[],
        )
        .await?
        .get(0);
    // Leave room for the admin, the inspector and a margin.
    let allowed = (max as i64 - used - 4).max(0) as usize;
    let connections = if connections > allowed {
        eprintln!(
            "the server allows {allowed} more connections; using that many instead of {connections}"
        );
        allowed
    } else {
        connections
    };
    let mut setup = String::from(
        "DROP SCHEMA IF EXISTS lockgraph_bench CASCADE; CREATE SCHEMA lockgraph_bench;",
    );
    for t in 0..tables {
        setup.push_str(&format!(
            "CREATE TABLE lockgraph_bench.t{t} (id int PRIMARY KEY, n int); INSERT INTO lockgraph_bench.t{t} SELECT g, 0 FROM generate_series(1, {connections}) g;"
        ));
    }
    admin.batch_execute(&setup).await?;

    eprintln!(
        "opening {connections} sessions, {per_session} table locks each over {tables} tables…"
    );
    let started = Instant::now();
    let mut clients = Vec::with_capacity(connections);
    for i in 0..connections {
        let (c, conn) = tokio_postgres::connect(&format!("{url} application_name=bench"), NoTls)
            .await
            .map_err(|e| format!("session {i}: {e}"))?;
        tokio::spawn(conn);
        let mut sql = String::from("BEGIN;");
        for k in 0..per_session {
            let t = (i * per_session + k) % tables.max(1);
            sql.push_str(&format!(
                "LOCK TABLE lockgraph_bench.t{t} IN ROW SHARE MODE;"
            ));
        }
        c.batch_execute(&sql).await?;
        clients.push(c);
    }
    // Every tenth session after the first hundred also waits for a row held by the one before:
    // blocking chains, so pg_blocking_pids runs for real.
    let mut waiting = 0;
    for i in (100..connections).step_by(10) {
        let t = i % tables.max(1);
        clients[i - 1]
            .batch_execute(&format!(
                "UPDATE lockgraph_bench.t{t} SET n = n + 1 WHERE id = {i}"
            ))
            .await?;
        let c = &clients[i];
        let sql = format!("UPDATE lockgraph_bench.t{t} SET n = n + 1 WHERE id = {i}");
        let fut = c.batch_execute(&sql);
        // Start it and let it block; the future is polled by a short timeout only.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(5), fut).await;
        waiting += 1;
    }
    eprintln!(
        "ready in {:.1} s ({waiting} sessions waiting)",
        started.elapsed().as_secs_f64()
    );

    let spec: ConnectionSpec = url.parse()?;
    let mut inspector = Inspector::connect(&spec, InspectOptions::default()).await?;
    let mut server = Vec::new();
    let mut client = Vec::new();
    let mut rows = (0, 0, 0);
    // The inspecting backend's CPU time (ns) from /proc/PID/schedstat when the server runs on
    // this machine: unlike wall time, it does not grow when other processes share the cores.
    let cpu_ns = |pid: Option<u32>| -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/schedstat", pid?)).ok()?;
        text.split_whitespace().next()?.parse().ok()
    };
    let cpu_before = cpu_ns(inspector.pid());
    for _ in 0..samples {
        let t = Instant::now();
        let s = inspector.snapshot().await?;
        client.push(t.elapsed().as_secs_f64() * 1000.0);
        server.push(s.server_ms);
        rows = (s.backends.len(), s.locks.len(), s.blocked_by.len());
    }
    let cpu_per_snapshot = cpu_before
        .zip(cpu_ns(inspector.pid()))
        .map(|(a, b)| (b - a) as f64 / 1e6 / samples as f64);
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (p(0.5), p(0.95), v[v.len() - 1])
    };
    let (s50, s95, smax) = stats(&mut server);
    let (c50, c95, cmax) = stats(&mut client);
    println!(
        "sessions {connections}, pg_locks rows {}, backends {}, waiting {}",
        rows.1, rows.0, rows.2
    );
    println!("snapshot over {samples} samples     median      p95      max");
    println!("server time (ms)            {s50:>9.2} {s95:>8.2} {smax:>8.2}");
    println!("client time (ms)            {c50:>9.2} {c95:>8.2} {cmax:>8.2}");
    if let Some(cpu) = cpu_per_snapshot {
        println!("server CPU time per snapshot (ms, /proc/PID/schedstat): {cpu:.2}");
    }
    println!(
        "target: server time <= 20 ms: {}",
        if s50 <= 20.0 {
            "met (median)"
        } else {
            "NOT met"
        }
    );

    if std::env::var("EXPLAIN").is_ok_and(|v| v == "1") {
        let version: i32 = admin
            .query_one("SELECT current_setting('server_version_num')::int4", &[])
            .await?
            .get(0);
        let sql = lockgraph_pg::snapshot_sql(version);
        for row in admin
            .query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), &[])
            .await?
        {
            let line: String = row.get(0);
            println!("{line}");
        }
    }
    if let Some(secs) = std::env::var("HOLD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        eprintln!("holding the sessions for {secs} s (HOLD_SECONDS)");
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    }
    drop(clients);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    admin
        .batch_execute("DROP SCHEMA IF EXISTS lockgraph_bench CASCADE")
        .await?;
    Ok(())
}
