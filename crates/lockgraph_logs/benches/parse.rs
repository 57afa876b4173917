//! Throughput of the log analyzer on generated stderr, csvlog and jsonlog inputs with statement
//! logging (`log_statement = all`): 40 sessions interleaved, explicit transactions and autocommit
//! statements with varying literals, extended-protocol executes with parameters, multi-line
//! statements, lock waits and a deadlock now and then.
//!
//! ```text
//! cargo bench -p lockgraph_logs --bench parse
//! ```
//!
//! divan prints bytes per second for each input (32 MiB, generated once, in memory).

use lockgraph_logs::{LogAnalyzer, LogOptions};
use std::fmt::Write as _;
use std::sync::OnceLock;

fn main() {
    divan::main();
}

const SIZE: usize = 32 << 20;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `(pid, severity, message)` events of a busy server.
fn events(mut emit: impl FnMut(u32, &str, &str) -> bool) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let tables = [
        "accounts",
        "ledger",
        "orders",
        "order_items",
        "customers",
        "jobs",
        "inventory",
    ];
    let mut step = [0u8; 40];
    let mut tx = 0u64;
    loop {
        let s = rng.below(40) as usize;
        let pid = 20_000 + s as u32;
        let id = rng.below(1_000_000);
        let t = tables[rng.below(tables.len() as u64) as usize];
        let go = match step[s] {
            0 if rng.below(3) == 0 => emit(
                pid,
                "LOG",
                &format!("statement: SELECT id, balance, updated_at FROM {t} WHERE id = {id}"),
            ),
            0 => {
                step[s] = 1;
                emit(pid, "LOG", "statement: BEGIN")
            }
            1 => {
                step[s] = 2;
                emit(
                    pid,
                    "LOG",
                    &format!(
                        "statement: UPDATE {t} SET balance = balance - {} WHERE id = {id}",
                        rng.below(500)
                    ),
                )
            }
            2 => {
                step[s] = 3;
                emit(
                    pid,
                    "LOG",
                    "execute S_1: INSERT INTO ledger (account_id, amount, note) VALUES ($1, $2, $3)",
                ) && emit(
                    pid,
                    "DETAIL",
                    &format!(
                        "parameters: $1 = '{id}', $2 = '{}', $3 = 'transfer {tx}'",
                        rng.below(1000)
                    ),
                )
            }
            3 => {
                step[s] = 4;
                emit(
                    pid,
                    "LOG",
                    &format!(
                        "statement: SELECT o.id, o.total\n\t  FROM orders o\n\t WHERE o.customer_id = {id}\n\t   AND o.status = 'open' FOR UPDATE"
                    ),
                )
            }
            _ => {
                step[s] = 0;
                tx += 1;
                let mut ok = emit(pid, "LOG", "statement: COMMIT");
                if tx.is_multiple_of(5000) {
                    ok &= emit(
                        pid,
                        "LOG",
                        &format!(
                            "process {pid} still waiting for ShareLock on transaction {tx} after 1000.123 ms"
                        ),
                    ) && emit(
                        pid,
                        "DETAIL",
                        &format!("Process holding the lock: {}. Wait queue: {pid}.", pid + 1),
                    ) && emit(
                        pid,
                        "CONTEXT",
                        &format!("while updating tuple (0,{}) in relation \"{t}\"", id % 100),
                    );
                }
                if tx.is_multiple_of(20000) {
                    ok &= emit(pid, "ERROR", "deadlock detected")
                        && emit(
                            pid,
                            "DETAIL",
                            &format!(
                                "Process {pid} waits for ShareLock on transaction {tx}; blocked by process {}.\n\tProcess {} waits for ShareLock on transaction {}; blocked by process {pid}.\n\tProcess {pid}: UPDATE accounts SET balance = 0 WHERE id = 1\n\tProcess {}: UPDATE ledger SET amount = 0 WHERE id = 2",
                                pid + 1,
                                pid + 1,
                                tx + 1,
                                pid + 1
                            ),
                        )
                        && emit(
                            pid,
                            "STATEMENT",
                            "UPDATE accounts SET balance = 0 WHERE id = 1",
                        );
                }
                ok
            }
        };
        if !go {
            return;
        }
    }
}

fn stderr_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut out = String::with_capacity(SIZE + 4096);
        let mut ms = 0u64;
        events(|pid, sev, msg| {
            ms += 1;
            let _ = writeln!(
                out,
                "2024-05-01 {:02}:{:02}:{:02}.{:03} UTC [{pid}] app@shop {sev}:  {msg}",
                (ms / 3_600_000) % 24,
                (ms / 60_000) % 60,
                (ms / 1000) % 60,
                ms % 1000
            );
            out.len() < SIZE
        });
        out.into_bytes()
    })
}

fn csv_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut out = String::with_capacity(SIZE + 4096);
        let mut n = 0u64;
        let mut pending: Option<(u32, String, String)> = None;
        let flush = |out: &mut String, p: &mut Option<(u32, String, String)>, n: &mut u64| {
            if let Some((pid, msg, detail)) = p.take() {
                *n += 1;
                let sev = if msg == "deadlock detected" { "ERROR" } else { "LOG" };
                let _ = writeln!(
                    out,
                    "2024-05-01 10:00:00.{:03} UTC,\"app\",\"shop\",{pid},\"10.0.0.1:5000\",6632a0.{pid:x},{n},\"UPDATE\",2024-05-01 09:00:00 UTC,3/{n},0,{sev},00000,\"{}\",\"{}\",,,,,,,,\"app\",\"client backend\",,0",
                    *n % 1000,
                    msg.replace('"', "\"\"").replace("\n\t", "\n"),
                    detail.replace('"', "\"\"").replace("\n\t", "\n"),
                );
            }
        };
        events(|pid, sev, msg| {
            if matches!(sev, "DETAIL" | "CONTEXT" | "STATEMENT") {
                if let Some(p) = pending.as_mut()
                    && sev == "DETAIL"
                {
                    p.2 = msg.to_string();
                }
            } else {
                flush(&mut out, &mut pending, &mut n);
                pending = Some((pid, msg.to_string(), String::new()));
            }
            out.len() < SIZE
        });
        out.into_bytes()
    })
}

fn json_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut out = String::with_capacity(SIZE + 4096);
        events(|pid, sev, msg| {
            if sev == "LOG" {
                let _ = writeln!(
                    out,
                    "{{\"timestamp\":\"2024-05-01 10:00:00.123 UTC\",\"user\":\"app\",\"dbname\":\"shop\",\"pid\":{pid},\"session_id\":\"6632a0.{pid:x}\",\"error_severity\":\"LOG\",\"message\":{}}}",
                    serde_json_string(msg)
                );
            }
            out.len() < SIZE
        });
        out.into_bytes()
    })
}

fn serde_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn analyze(input: &[u8]) -> u64 {
    let mut a = LogAnalyzer::new(LogOptions::default(), Default::default());
    a.feed("bench.log", input).expect("in-memory input");
    let r = a.finish();
    r.stats.statements
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn stderr(bencher: divan::Bencher) {
    let input = stderr_log();
    bencher
        .counter(divan::counter::BytesCount::new(input.len()))
        .bench(|| analyze(divan::black_box(input)));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn csvlog(bencher: divan::Bencher) {
    let input = csv_log();
    bencher
        .counter(divan::counter::BytesCount::new(input.len()))
        .bench(|| analyze(divan::black_box(input)));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn jsonlog(bencher: divan::Bencher) {
    let input = json_log();
    bencher
        .counter(divan::counter::BytesCount::new(input.len()))
        .bench(|| analyze(divan::black_box(input)));
}
