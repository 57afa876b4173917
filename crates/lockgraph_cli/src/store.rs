//! `--store`: incremental ingest of log files into the history (`lockgraph_store`), the report
//! over everything stored, and production shapes for `check`.
//!
//! A plain file is read in chunks (default 64 MiB, `LOCKGRAPH_STORE_CHUNK_BYTES`), each ending at
//! a line end; every chunk is one SQLite transaction holding its counts and the file's new
//! position, so a killed run resumes at the last committed chunk. A chunk is read from the first
//! line of the oldest transaction still open at the previous cut, and counts only what ends after
//! that cut (`LogOptions::count_after_line` / `hold_open`). Compressed files are read whole, once.

use crate::args::{ColorChoice, Format, LogsArgs};
use crate::check::{RuleSettings, emit};
use anyhow::Context;
use lockgraph_core::{Schema, Transaction};
use lockgraph_logs::{LogAnalysis, LogAnalyzer, LogOptions};
use lockgraph_report::{GraphView, Report, Sources};
use lockgraph_rules::Analysis;
use lockgraph_store::{FileId, FileState, Ingest, Run, Store};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes of a file's head that identify its content.
const HEAD: u64 = 4096;
/// Default chunk size.
const CHUNK: u64 = 64 << 20;

/// `--store` / `--store FILE` → the store path.
pub fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    if path.as_os_str().is_empty() {
        lockgraph_store::default_path().context(
            "--store: this platform has no user data directory; give the store file: --store FILE",
        )
    } else {
        Ok(path.to_path_buf())
    }
}

/// What one `logs --store` read.
#[derive(Default, serde::Serialize)]
struct Summary {
    files: usize,
    bytes_read: u64,
    new_bytes: u64,
    transactions_added: u64,
    deadlocks_added: u64,
    lock_waits_added: u64,
}

/// `lockgraph logs --store`: ingests what is new, then reports on everything stored.
pub fn logs(
    args: &LogsArgs,
    color: ColorChoice,
    store: &Path,
    opts: LogOptions,
    schema: &Schema,
    settings: &RuleSettings,
) -> anyhow::Result<u8> {
    let path = resolve(store)?;
    let mut st = Store::open(&path)?;
    let chunk = std::env::var("LOCKGRAPH_STORE_CHUNK_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(CHUNK);
    let mut summary = Summary::default();
    let mut input_error = false;
    let inputs = lockgraph_logs::order_inputs(args.files.clone());
    for file in &inputs {
        if let Err(e) = ingest_file(&mut st, file, &opts, schema, chunk, &mut summary) {
            eprintln!("lockgraph: error: {}: {e:#}", file.display());
            input_error = true;
        } else {
            summary.files += 1;
        }
    }

    let shapes = st.shapes()?;
    let transactions: Vec<Transaction> = shapes.iter().map(production_tx).collect();
    let deadlocks: Vec<lockgraph_core::ObservedDeadlock> =
        st.deadlocks()?.into_iter().map(|d| d.deadlock).collect();
    let options = settings.options(args.show_literals);
    let rules = Analysis::new(&transactions, &[], schema, &[], options).with_deadlocks(&deadlocks);
    let mut findings = settings.check(&rules);
    if args.schema.is_empty() {
        for f in &mut findings {
            f.repro = None;
        }
    }
    let graph = GraphView::build(&rules.graph, &transactions, &findings);
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: shapes.iter().map(|s| s.count).sum::<u64>() as usize,
        files: inputs.len(),
    };
    let trailer = if args.format == Format::Text {
        let waits = st.worst_waits()?;
        let stats = lockgraph_logs::LogStats {
            lock_waits: st.wait_stats()?.iter().map(|w| w.count).sum(),
            ..Default::default()
        };
        crate::logs::lock_wait_summary(&waits, &stats)
    } else {
        String::new()
    };
    emit(args.format, &report, color, &trailer)?;
    st.record_run(&Run {
        started_at: now(),
        command: "logs".into(),
        inputs: serde_json::json!(
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        ),
        summary: serde_json::to_value(&summary)?,
        findings: serde_json::to_value(&findings)?,
    })?;
    if input_error {
        return Ok(2);
    }
    Ok(u8::from(settings.fails(&findings)))
}

/// `check --store`: the stored production shapes join the analysis, named after their log
/// location and count, in no group.
pub fn add_production(store: &Path, transactions: &mut Vec<Transaction>) -> anyhow::Result<()> {
    let path = resolve(store)?;
    if !path.exists() {
        anyhow::bail!(
            "--store {}: no such store (fill it with `lockgraph logs --store`)",
            path.display()
        );
    }
    let st = Store::open(&path)?;
    for s in st.shapes()? {
        transactions.push(production_tx(&s));
    }
    Ok(())
}

pub(crate) fn production_tx(s: &lockgraph_store::StoredShape) -> Transaction {
    let mut tx = s.transaction.clone();
    tx.group = None;
    tx.name = format!(
        "production {} ({} time{})",
        tx.location,
        s.count,
        if s.count == 1 { "" } else { "s" }
    )
    .into();
    tx
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId {
        dev: meta.dev(),
        inode: meta.ino(),
    }
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> FileId {
    FileId { dev: 0, inode: 0 }
}

fn read_at(f: &mut std::fs::File, at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::with_capacity(len as usize);
    f.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The end of the last complete line in `[from, to)` (just after its `\n`), if any.
fn last_line_end(f: &mut std::fs::File, from: u64, to: u64) -> std::io::Result<Option<u64>> {
    let mut end = to;
    while end > from {
        let start = end.saturating_sub(1 << 16).max(from);
        let buf = read_at(f, start, end - start)?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(start + i as u64 + 1));
        }
        end = start;
    }
    Ok(None)
}

/// The byte offset of line `target`, counting from `at` (the start of line `line`).
fn offset_of_line(f: &mut std::fs::File, at: u64, line: u32, target: u32) -> std::io::Result<u64> {
    f.seek(SeekFrom::Start(at))?;
    let mut r = BufReader::with_capacity(1 << 20, &mut *f);
    let mut pos = at;
    let mut need = target.saturating_sub(line);
    while need > 0 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let mut used = buf.len();
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\n' {
                need -= 1;
                if need == 0 {
                    used = i + 1;
                    break;
                }
            }
        }
        pos += used as u64;
        r.consume(used);
    }
    Ok(pos)
}

fn is_compressed(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("gz" | "zst" | "zstd")
    )
}

/// Reads what is new in one file into the store.
fn ingest_file(
    st: &mut Store,
    path: &Path,
    opts: &LogOptions,
    schema: &Schema,
    chunk: u64,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        anyhow::bail!("standard input cannot be stored (no position to resume from)");
    }
    let name = path.to_string_lossy().into_owned();
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
    let meta = f.metadata()?;
    let id = file_id(&meta);
    let size = meta.len();
    let head = read_at(&mut f, 0, HEAD.min(size))?;
    let prev = st.file_state(id)?.filter(|s| {
        // Same content as before: not shorter, same head.
        s.size <= size
            && (s.head_len as usize) <= head.len()
            && lockgraph_store::head_hash(&head[..s.head_len as usize]) == s.head_hash
    });
    let mut state = prev.unwrap_or(FileState {
        path: name.clone(),
        dev: id.dev,
        inode: id.inode,
        head_len: 0,
        head_hash: 0,
        size: 0,
        resume_offset: 0,
        resume_line: 1,
        counted_through: 0,
    });
    state.path = name.clone();
    state.head_len = head.len() as u64;
    state.head_hash = lockgraph_store::head_hash(&head);

    if is_compressed(path) {
        if state.size == size && size > 0 {
            return Ok(());
        }
        let reader = lockgraph_logs::open_input(path)?;
        let mut analyzer = LogAnalyzer::new(opts.clone(), schema.clone());
        analyzer.feed(&name, reader)?;
        let analysis = analyzer.finish();
        summary.bytes_read += size;
        summary.new_bytes += size;
        state.size = size;
        state.resume_offset = size;
        state.counted_through = u32::MAX;
        return commit(st, state, analysis, summary);
    }

    loop {
        let done = state.size.max(state.resume_offset);
        let Some(cut) =
            last_line_end(&mut f, done, size.min(done.saturating_add(chunk)).max(done))?.or(
                if done + chunk < size {
                    // One line longer than a chunk: take up to the next line end.
                    last_line_end(&mut f, done, size)?
                } else {
                    None
                },
            )
        else {
            return Ok(());
        };
        if cut <= state.size {
            return Ok(());
        }
        let (from, line) = (state.resume_offset, state.resume_line);
        f.seek(SeekFrom::Start(from))?;
        let reader = BufReader::with_capacity(1 << 20, (&mut f).take(cut - from));
        let mut analyzer = LogAnalyzer::new(
            LogOptions {
                count_after_line: state.counted_through,
                hold_open: true,
                hold_last_entry: cut < size,
                record_occurrences: true,
                ..opts.clone()
            },
            schema.clone(),
        );
        analyzer.feed_from(&name, reader, line)?;
        let analysis = analyzer.finish();
        let last_line = line
            .saturating_add(analysis.stats.lines as u32)
            .saturating_sub(1);
        let (resume_offset, resume_line) = match analysis.resume_line {
            Some(r) => (offset_of_line(&mut f, from, line, r)?, r),
            None => (cut, last_line.saturating_add(1)),
        };
        summary.bytes_read += cut - from;
        summary.new_bytes += cut - state.size;
        state.size = cut;
        state.resume_offset = resume_offset;
        state.resume_line = resume_line;
        state.counted_through = analysis
            .unread_from
            .map_or(last_line, |l| l.saturating_sub(1));
        commit(st, state.clone(), analysis, summary)?;
    }
}

fn commit(
    st: &mut Store,
    file: FileState,
    a: LogAnalysis,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.transactions_added += a.shape_counts.iter().sum::<u64>();
    summary.deadlocks_added += a.deadlocks.iter().map(|d| d.count).sum::<u64>();
    summary.lock_waits_added += a.lock_waits.len() as u64;
    let shapes = a
        .transactions
        .into_iter()
        .zip(a.shape_counts)
        .zip(a.shape_seen)
        .map(|((t, n), (first, last))| (t, n, first, last))
        .collect();
    let occurrences = a
        .deadlock_occurrences
        .into_iter()
        .map(|o| (o.deadlock, o.location.to_string(), o.timestamp))
        .collect();
    st.ingest(&Ingest {
        file,
        shapes,
        deadlocks: a.deadlocks,
        occurrences,
        waits: a.lock_waits,
    })?;
    Ok(())
}

/// `live --watch --store`: the origin of what a watch of `server` learned (`live <server>`).
pub fn live_origin(server: &str) -> String {
    format!("live {server}")
}

/// The transactions a watch followed to their end as stored shapes: located at `origin`,
/// counted per [`shape_key`] (the key `logs --store` uses), seen at `at`. (The store redacts
/// every shape it writes.)
///
/// [`shape_key`]: lockgraph_store::shape_key
pub fn live_shapes(
    origin: &str,
    at: &str,
    transactions: Vec<Transaction>,
) -> Vec<(Transaction, u64, Option<String>, Option<String>)> {
    use lockgraph_core::{Location, Statement};
    use std::sync::Arc;
    let location = Location::new(origin, 0);
    let mut out: Vec<(Transaction, u64, Option<String>, Option<String>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for mut tx in transactions {
        let statements: Vec<Arc<Statement>> = tx
            .statements
            .iter()
            .map(|s| {
                Arc::new(Statement {
                    location: location.clone(),
                    ..Statement::clone(s)
                })
            })
            .collect();
        for l in &mut tx.locks {
            if let Some(i) = tx
                .statements
                .iter()
                .position(|s| Arc::ptr_eq(s, &l.statement))
            {
                l.statement = statements[i].clone();
            }
        }
        tx.statements = statements;
        tx.location = location.clone();
        tx.name = origin.into();
        let key = lockgraph_store::shape_key(&tx);
        match index.get(&key) {
            Some(&i) => out[i].1 += 1,
            None => {
                index.insert(key, out.len());
                out.push((tx, 1, Some(at.to_string()), Some(at.to_string())));
            }
        }
    }
    out
}
