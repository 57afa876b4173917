//! Bounded memory: a log in which a million sessions each begin a transaction that never ends.
//! Open transactions are capped (`LogOptions::max_open_transactions`), the least recently
//! active evicted with a counted warning, so memory stops growing at the cap: the peak resident
//! memory after a million sessions is within a small factor of that after a quarter million.
//! (Alone in its test binary, so the process's peak memory is this test's.)
//! `scripts/bench-sessions.sh` prints the same figures for the release binary.

use lockgraph_logs::{LogAnalyzer, LogOptions, WarningKind};
use std::io::{BufRead, Read};

/// Streams `sessions` sessions, each `BEGIN` then an `UPDATE` of its own row, none ending —
/// without holding the log in memory.
struct Flood {
    sessions: u32,
    next: u32,
    line: Vec<u8>,
    pos: usize,
}

impl Flood {
    fn new(sessions: u32) -> Self {
        Flood {
            sessions,
            next: 0,
            line: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Flood {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Flood {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.line.len() && self.next < self.sessions {
            let pid = 100_000 + self.next;
            let (s, ms) = (self.next / 1000 % 60, self.next % 1000);
            self.line.clear();
            self.line.extend_from_slice(
                format!(
                    "2024-05-01 10:00:{s:02}.{ms:03} UTC [{pid}] app@shop LOG:  statement: BEGIN\n\
                     2024-05-01 10:00:{s:02}.{ms:03} UTC [{pid}] app@shop LOG:  statement: \
                     UPDATE accounts SET balance = balance - 1 WHERE id = {pid}\n"
                )
                .as_bytes(),
            );
            self.pos = 0;
            self.next += 1;
        }
        Ok(&self.line[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn flood(sessions: u32) -> (u64, u64) {
    let mut a = LogAnalyzer::new(LogOptions::default(), Default::default());
    a.feed("flood.log", Flood::new(sessions)).unwrap();
    let r = a.finish();
    let evicted = r.stats.warnings_of(WarningKind::EvictedTransaction);
    // Every transaction is accounted for: evicted (warned) or counted at the end of the log.
    assert_eq!(r.stats.transactions + evicted, u64::from(sessions));
    assert_eq!(r.stats.sessions, u64::from(sessions));
    (evicted, r.stats.transactions)
}

#[test]
fn a_million_open_sessions_stay_within_the_cap() {
    let cap = LogOptions::default().max_open_transactions as u64;
    let (evicted, kept) = flood(250_000);
    assert!(kept <= cap, "{kept} open transactions kept, cap {cap}");
    assert!(evicted >= 250_000 - cap);
    let quarter = peak_rss_kib();

    let (evicted, kept) = flood(1_000_000);
    assert!(kept <= cap, "{kept} open transactions kept, cap {cap}");
    assert!(evicted >= 1_000_000 - cap);
    let full = peak_rss_kib();
    eprintln!("peak RSS: {quarter} KiB after 250,000 sessions, {full} KiB after 1,000,000");
    if quarter > 0 {
        // Unbounded, four times the sessions would hold four times the transactions.
        assert!(
            full * 10 <= quarter * 15,
            "peak RSS grew from {quarter} KiB to {full} KiB with 4× the sessions"
        );
    }
}
