//! Shared pieces of the live rules (LG402–LG405): how a session is named, where a finding about
//! it points, and what it waits for.
//!
//! A live finding has no file: its labels point at sessions, `pid 5477` with line 0 (printed
//! without a line number). Queries in the snapshot are already redacted by the front-end unless
//! literals were asked for.

use lockgraph_core::{Backend, Fingerprint, Label, Location, LockSnapshot};
use lockgraph_graph::{WaitEdge, WaitGraph, WaitKind};

/// The location of a session in live findings.
pub(crate) fn at(pid: u32) -> Location {
    Location::new(format!("pid {pid}"), 0)
}

/// `user@app (client)`, as far as known.
pub(crate) fn who(b: &Backend) -> String {
    let mut s = b.user.clone().unwrap_or_else(|| "?".into());
    if !b.application.is_empty() {
        s.push_str(&format!(" via {}", b.application));
    }
    if let Some(c) = &b.client {
        s.push_str(&format!(" from {c}"));
    }
    s
}

/// Seconds as a short duration (`850 ms`, `42 s`, `3 min 5 s`, `2 h 4 min`).
pub(crate) fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{} ms", (secs * 1000.0).round() as u64)
    } else if secs < 60.0 {
        format!("{} s", secs.round() as u64)
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {} min", m / 60, m % 60)
    }
}

/// What a session is doing: `idle in transaction for 42 s (transaction open 1 min 3 s)`.
pub(crate) fn doing(b: &Backend) -> String {
    let mut s = b.state.clone().unwrap_or_else(|| "state unknown".into());
    if let Some(age) = b.state_age_s {
        s.push_str(&format!(" for {}", duration(age)));
    }
    if let Some(x) = b.xact_age_s {
        s.push_str(&format!(" (transaction open {})", duration(x)));
    }
    s
}

/// [`LockSnapshot::awaited_relation`] as text.
fn awaited_relation(s: &LockSnapshot, pid: u32) -> Option<String> {
    s.awaited_relation(pid).map(|n| n.to_string())
}

/// `waits for ShareLock on transaction 729 (orders), held by pid 5478` for one edge.
pub(crate) fn wait_text(g: &WaitGraph<'_>, e: &WaitEdge) -> String {
    let s = g.snapshot;
    let what = match e.awaited.map(|i| &s.locks[i]) {
        Some(l) => format!("{} on {}", l.mode, l.describe()),
        None => "a lock".to_string(),
    };
    let on = match (
        awaited_relation(s, e.waiter),
        e.awaited.map(|i| &s.locks[i]),
    ) {
        (Some(r), Some(l)) if l.relation_name.is_none() => format!(" ({r})"),
        _ => String::new(),
    };
    let how = match e.kind {
        WaitKind::Hard => "held by",
        WaitKind::Soft => "queued behind the request of",
    };
    format!("waits for {what}{on}, {how} pid {}", e.blocker)
}

/// A label for a session: `message`, with the session's (redacted) query.
pub(crate) fn session_label(s: &LockSnapshot, pid: u32, message: String, primary: bool) -> Label {
    Label {
        location: at(pid),
        message,
        primary,
        statement: s.backend(pid).and_then(|b| b.query.clone()),
    }
}

/// The relations a session holds granted `relation` locks on, strongest mode first per relation
/// (`orders (RowExclusiveLock)`), at most eight.
pub(crate) fn held_relations(s: &LockSnapshot, pid: u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in s
        .locks_of(pid)
        .filter(|l| l.granted && l.locktype == "relation" && !l.on_index())
    {
        let Some(n) = &l.relation_name else { continue };
        if n.as_str().starts_with("pg_catalog.") || n.as_str().starts_with("pg_") {
            continue;
        }
        let item = format!("{n} ({})", l.mode);
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out.sort();
    out.truncate(8);
    out
}

/// A fingerprint stable across snapshots of the same situation (code, pids, and the
/// transactions' start times, so a reused pid is a new finding).
pub(crate) fn fingerprint(code: &str, s: &LockSnapshot, pids: &[u32]) -> Fingerprint {
    let mut parts: Vec<Vec<u8>> = vec![code.as_bytes().to_vec()];
    for &p in pids {
        parts.push(p.to_le_bytes().to_vec());
        parts.push(
            s.backend(p)
                .and_then(|b| b.xact_start.clone())
                .unwrap_or_default()
                .into_bytes(),
        );
    }
    Fingerprint::of(parts.iter().map(|p| p.as_slice()))
}

/// Relations of the waits of `pids`, deduplicated in order.
pub(crate) fn relations_of(s: &LockSnapshot, pids: impl IntoIterator<Item = u32>) -> Vec<String> {
    let mut out = Vec::new();
    for p in pids {
        if let Some(r) = awaited_relation(s, p)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}
