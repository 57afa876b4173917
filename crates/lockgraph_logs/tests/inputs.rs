//! Whole inputs through the public API: bad inputs (`tests/data/bad/`, plus a truncated `.gz` and
//! a 10 MB line made here) and the real-server logs (`tests/data/real/`) read without a warning.

use lockgraph_logs::{LogAnalysis, LogAnalyzer, LogOptions, WarningKind, open_input, order_inputs};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
}

fn analyze_paths(paths: &[PathBuf]) -> LogAnalysis {
    let mut a = LogAnalyzer::new(LogOptions::default(), Default::default());
    for p in order_inputs(paths.to_vec()) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let r = open_input(&p).expect("opens");
        a.feed(&name, r).expect("reads");
    }
    a.finish()
}

fn kinds(a: &LogAnalysis) -> Vec<(WarningKind, u64)> {
    a.stats.warnings.iter().map(|(k, n)| (*k, *n)).collect()
}

#[test]
fn garbage_lines_orphans_and_a_cut_deadlock() {
    let a = analyze_paths(&[data("bad").join("garbage_and_cut_deadlock.log")]);
    assert_eq!(
        kinds(&a),
        [
            (WarningKind::UnrecognizedLine, 3),
            (WarningKind::OrphanLine, 1),
            (WarningKind::CutDeadlockReport, 1),
        ]
    );
    let at: Vec<String> = a.warnings.iter().map(|w| w.location.to_string()).collect();
    assert_eq!(
        at,
        [
            "garbage_and_cut_deadlock.log:2",
            "garbage_and_cut_deadlock.log:5",
            "garbage_and_cut_deadlock.log:8",
            "garbage_and_cut_deadlock.log:9",
            "garbage_and_cut_deadlock.log:26",
        ]
    );
    // The whole deadlock between them is read, and the cut one is kept.
    assert_eq!(a.deadlocks.len(), 2);
    assert_eq!(a.deadlocks[0].edges.len(), 2);
    assert_eq!(a.deadlocks[0].participants[0].statements.len(), 3);
    assert_eq!(a.deadlocks[1].edges.len(), 1);
    assert_eq!(a.deadlocks[1].participants[0].statements.len(), 2);
    assert_eq!(a.stats.lines, 27);
}

#[test]
fn crlf_and_invalid_utf8() {
    let a = analyze_paths(&[data("bad").join("crlf.log")]);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.deadlocks.len(), 1);
    assert!(
        !a.deadlocks[0].participants[0].statements[1]
            .text
            .ends_with('\r')
    );

    let b = analyze_paths(&[data("bad").join("invalid_utf8.log")]);
    assert_eq!(
        kinds(&b),
        [
            (WarningKind::UnrecognizedLine, 1),
            (WarningKind::InvalidUtf8, 2)
        ]
    );
    let at: Vec<String> = b.warnings.iter().map(|w| w.location.to_string()).collect();
    assert_eq!(
        at,
        [
            "invalid_utf8.log:1",
            "invalid_utf8.log:1",
            "invalid_utf8.log:3"
        ]
    );
    assert_eq!(b.deadlocks.len(), 1);
    assert_eq!(b.deadlocks[0].participants[0].statements.len(), 3);
    assert!(
        b.deadlocks[0].participants[0].statements[1]
            .text
            .contains('\u{fffd}')
    );
}

#[test]
fn truncated_gzip_keeps_what_was_read() {
    let text = std::fs::read(data("bad").join("crlf.log")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..200 {
        enc.write_all(&text).unwrap();
    }
    let gz = enc.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgresql.log.1.gz");
    std::fs::write(&path, &gz[..gz.len() * 2 / 3]).unwrap();
    let a = analyze_paths(&[path]);
    assert_eq!(
        a.stats.warnings_of(WarningKind::ReadError),
        1,
        "{:?}",
        a.warnings
    );
    assert!(a.deadlocks[0].count > 10, "{}", a.deadlocks[0].count);
    assert!(a.stats.lines > 500);
    // Only the last report may be cut.
    assert!(a.stats.warnings_of(WarningKind::CutDeadlockReport) <= 1);
}

#[test]
fn ten_megabyte_line_is_bounded() {
    let mut text = String::from(
        "2024-05-01 10:00:00.000 UTC [1] app@shop LOG:  statement: BEGIN\n\
         2024-05-01 10:00:00.000 UTC [1] app@shop LOG:  statement: INSERT INTO blobs VALUES ('",
    );
    text.extend(std::iter::repeat_n('x', 10 << 20));
    text.push_str(
        "')\n2024-05-01 10:00:00.000 UTC [1] app@shop LOG:  statement: UPDATE t SET a = 1\n",
    );
    text.push_str("2024-05-01 10:00:00.000 UTC [1] app@shop LOG:  statement: COMMIT\n");
    let mut a = LogAnalyzer::new(LogOptions::default(), Default::default());
    a.feed("big.log", text.as_bytes()).unwrap();
    let a = a.finish();
    assert_eq!(kinds(&a), [(WarningKind::OverlongLine, 1)]);
    assert_eq!(a.warnings[0].location.to_string(), "big.log:2");
    assert_eq!(a.transactions.len(), 1);
    let stmts = &a.transactions[0].statements;
    assert_eq!(stmts.len(), 4);
    assert!(stmts[1].text.len() <= lockgraph_logs::MAX_LINE);
    assert_eq!(a.stats.bytes, text.len() as u64);
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A deterministic mix of log-like fragments and noise, in every format.
    let pieces: [&[u8]; 12] = [
        b"2024-05-01 10:00:00.000 UTC [1] app@shop LOG:  statement: BEGIN",
        b"\tProcess 1: UPDATE",
        b"ERROR:  deadlock detected",
        b"DETAIL:  Process 1 waits for ShareLock on transaction ",
        b"\"quoted,\"\"field",
        b"{\"pid\":1,\"error_severity\":\"ERROR\",\"message\":\"deadlock detected\"}",
        b"'unterminated $$ dollar /* comment",
        b"\xff\xfe\x00",
        b"process 1 still waiting for ShareLock on ",
        b"LOG:  execute S_1: SELECT $1",
        b"DETAIL:  parameters: $1 = '",
        b"\r\n",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(round % 40) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            input.extend_from_slice(pieces[(seed % 12) as usize]);
            if seed.is_multiple_of(3) {
                input.push(b'\n');
            }
        }
        for name in ["x.log", "x.csv", "x.json"] {
            let mut a = LogAnalyzer::new(LogOptions::default(), Default::default());
            a.feed(name, &input[..]).unwrap();
            let _ = a.finish();
        }
    }
}

#[test]
fn real_server_logs_read_without_warnings() {
    let dir = data("real");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        seen += 1;
        let a = analyze_paths(std::slice::from_ref(&path));
        assert!(a.warnings.is_empty(), "{name}: {:#?}", a.warnings);
        // Only what lockgraph_sql does not model (CREATE DATABASE … OWNER, DROP SCHEMA … CASCADE).
        for d in &a.diagnostics {
            let s = d.statement.as_deref().unwrap_or_default();
            assert!(
                s.starts_with("CREATE DATABASE") || s.starts_with("DROP SCHEMA"),
                "{name}: {d:#?}"
            );
        }
        let expected = if name.contains("prefix") { 1 } else { 8 };
        assert_eq!(a.deadlocks.len(), expected, "{name}");
        for d in &a.deadlocks {
            assert!(
                !d.relations.is_empty() || d.edges[0].target.starts_with("advisory"),
                "{name}: {d:#?}"
            );
            for p in &d.participants {
                assert!(p.current.is_some(), "{name}: {d:#?}");
                assert!(p.statements.len() >= 2, "{name}: {d:#?}");
            }
        }
        assert!(!a.transactions.is_empty());
    }
    assert_eq!(seen, 5);
}
