//! `lockgraph report --store` (HTML, DOT, Mermaid, JSON over the history) and `lockgraph merge`
//! (shards analysed separately and merged give the findings of one run over both; merging a
//! store twice adds nothing), on the real binary and the shipped sample log.

use assert_cmd::Command;
use lockgraph_store::Store;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/logs/postgresql.log")
}

fn lockgraph() -> Command {
    let mut cmd = Command::cargo_bin("lockgraph").unwrap();
    cmd.env("NO_COLOR", "1").arg("--color=never");
    cmd
}

/// `logs --store STORE FILES…` (its exit code is 1: the sample has findings).
fn ingest(store: &Path, files: &[&Path]) -> serde_json::Value {
    let out = lockgraph()
        .arg("logs")
        .args(files)
        .args(["--format", "json", "--no-config"])
        .arg(format!("--store={}", store.display()))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn report(store: &Path, args: &[&str]) -> std::process::Output {
    lockgraph()
        .args(["report", "--no-config", "--store"])
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

/// Findings as comparable facts: code, relations, fingerprint, message; plus the graph's edges
/// with their transaction counts and the summary's transaction count.
fn facts(v: &serde_json::Value) -> (BTreeSet<String>, BTreeSet<String>, u64) {
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["code"], f["relations"], f["fingerprint"], f["message"]
            )
        })
        .collect();
    let edges = v["graph"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["from"], e["to"], e["transactions"]))
        .collect();
    (
        findings,
        edges,
        v["summary"]["transactions"].as_u64().unwrap(),
    )
}

/// Splits the sample by session (process id parity); continuation lines follow their entry.
fn split_by_session(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(sample()).unwrap();
    let (mut a, mut b) = (String::new(), String::new());
    let mut odd = false;
    for line in text.lines() {
        if let Some(pid) = line
            .split_once(" [")
            .and_then(|(_, r)| r.split_once(']'))
            .and_then(|(p, _)| p.parse::<u32>().ok())
        {
            odd = pid % 2 == 1;
        }
        let out = if odd { &mut b } else { &mut a };
        out.push_str(line);
        out.push('\n');
    }
    assert!(a.lines().count() > 100 && b.lines().count() > 100);
    let (pa, pb) = (dir.join("shard-a.log"), dir.join("shard-b.log"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    (pa, pb)
}

#[test]
fn html_report_from_the_sample_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.sqlite");
    ingest(&store, &[&sample()]);
    let page = dir.path().join("report.html");
    let out = report(&store, &["-o", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    let st = Store::open(&store).unwrap();
    let deadlocks = st.deadlocks().unwrap();
    let reports: usize = deadlocks.iter().map(|d| d.occurrences.len()).sum();
    assert!(deadlocks.len() >= 2 && reports >= deadlocks.len());
    // The deadlock relations, explained cycles, each stored report on the timeline.
    for needle in [
        "id=\"deadlocks\"",
        "accounts",
        "ledger",
        "id=\"timeline\"",
        "one mark per report",
        "id=\"blockers\"",
        "id=\"windows\"",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert_eq!(html.matches("class=\"deadlock-mark\"").count(), reports);
    // Every signature of the sample falls in the last 7 days of its own history: all new.
    assert!(
        html.contains(&format!(
            "New (only in the later window): {}",
            deadlocks.len()
        )),
        "window section"
    );
    assert!(html.contains("Resolved (only in the earlier window): 0"));
    for external in ["http://", "https://", "src=", "<script"] {
        assert!(!html.contains(external), "external reference {external}");
    }

    // A window shorter than the sample's span puts older signatures out of the later window.
    let short = report(&store, &["--window", "150ms"]);
    let short = String::from_utf8(short.stdout).unwrap();
    let new_count: usize = short
        .split("New (only in the later window): ")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(new_count < deadlocks.len(), "{new_count}");

    // The graph alone holds the cycle, highlighted.
    let dot = String::from_utf8(report(&store, &["--format", "dot"]).stdout).unwrap();
    assert!(
        dot.contains("\"accounts\" -> \"ledger\"") && dot.contains("\"ledger\" -> \"accounts\"")
    );
    assert!(dot.contains("color=red"));
    let mermaid = String::from_utf8(report(&store, &["-f", "mermaid"]).stdout).unwrap();
    assert!(mermaid.starts_with("flowchart") && mermaid.contains("==>"));
    assert!(mermaid.contains("[\"accounts\"]") && mermaid.contains("[\"ledger\"]"));
}

#[test]
fn missing_and_empty_stores() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    let out = report(&missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.sqlite"));
    assert!(!missing.exists(), "a report must not create the store");

    let empty = dir.path().join("empty.sqlite");
    drop(Store::open(&empty).unwrap());
    let out = report(&empty, &["-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the store is empty"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn shards_merged_give_the_findings_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a_log, b_log) = split_by_session(dir.path());
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| dir.path().join(format!("{n}.sqlite")));
    let shard_a = ingest(&a, &[&a_log]);
    let shard_b = ingest(&b, &[&b_log]);
    let whole = ingest(&d, &[&a_log, &b_log]);

    let merge = |args: &[&Path]| {
        let mut cmd = lockgraph();
        cmd.arg("merge").arg(&c).args(args);
        cmd.output().unwrap()
    };
    let out = merge(&[&a, &b]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let merged_out = report(&c, &["--format", "json"]);
    assert_eq!(merged_out.status.code(), Some(0), "{merged_out:?}");
    let merged: serde_json::Value = serde_json::from_slice(&merged_out.stdout).unwrap();
    assert_eq!(facts(&merged), facts(&whole));
    // Each shard alone misses findings the merge has (the test could fail).
    assert_ne!(facts(&shard_a).0, facts(&merged).0);
    assert_ne!(facts(&shard_b).0, facts(&merged).0);

    // Stored counts equal too: shapes, signatures and every occurrence.
    let (sc, sd) = (Store::open(&c).unwrap(), Store::open(&d).unwrap());
    let shapes = |s: &Store| {
        s.shapes()
            .unwrap()
            .into_iter()
            .map(|x| (x.key, x.count, x.first_seen, x.last_seen))
            .collect::<BTreeSet<_>>()
    };
    let occurrences = |s: &Store| {
        let mut v: Vec<(String, u64, String, Option<String>)> = Vec::new();
        for x in s.deadlocks().unwrap() {
            for (loc, at) in x.occurrences {
                v.push((x.deadlock.signature.to_hex(), x.deadlock.count, loc, at));
            }
        }
        v.sort();
        v
    };
    assert_eq!(shapes(&sc), shapes(&sd));
    assert_eq!(occurrences(&sc), occurrences(&sd));
    assert_eq!(sc.wait_stats().unwrap(), sd.wait_stats().unwrap());
    assert_eq!(sc.edges().unwrap(), sd.edges().unwrap());
    drop((sc, sd));

    // Merging the same stores again — and the merged store into itself — adds nothing.
    let out = merge(&[&a, &b, &a, &c]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already merged"));
    let again: serde_json::Value =
        serde_json::from_slice(&report(&c, &["--format", "json"]).stdout).unwrap();
    assert_eq!(facts(&again), facts(&whole));
    let sc = Store::open(&c).unwrap();
    assert_eq!(
        occurrences(&sc),
        occurrences(&Store::open(&d).unwrap()),
        "no duplicate occurrence"
    );
    drop(sc);

    // A shard that ingested more since it was merged cannot be merged again (double count).
    std::fs::write(dir.path().join("more.log"), std::fs::read(&b_log).unwrap()).unwrap();
    ingest(&a, &[&dir.path().join("more.log")]);
    let out = merge(&[&a]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a.sqlite"));

    // A JSON result or a missing file is refused with its name.
    let json = dir.path().join("result.json");
    std::fs::write(&json, serde_json::to_vec(&whole).unwrap()).unwrap();
    let out = merge(&[&json, &dir.path().join("missing.sqlite")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("result.json: a JSON result") && err.contains("missing.sqlite"));
}
