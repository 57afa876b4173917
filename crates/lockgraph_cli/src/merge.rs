//! `lockgraph merge OUT IN…`: history stores made on different machines (one per database host
//! or log shard) merged into one, so `report --store OUT` shows the whole fleet
//! (docs/scaling.md).
//!
//! Counts add up key by key, first/last seen widen, deadlock occurrences are appended; file
//! positions are not merged. Each input is merged in its own SQLite transaction, and an input
//! already merged (same store id at the same generation) adds nothing
//! (`lockgraph_store::Store::merge_from`).

use anyhow::Context;
use lockgraph_store::{Merged, Store};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Options of `lockgraph merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The store to merge into (created when missing).
    pub out: PathBuf,
    /// Stores to merge (written by `logs --store` or by an earlier `merge`).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Merges; 0 when every input was merged, 2 when one could not be (the others still are).
pub fn run(args: &MergeArgs) -> anyhow::Result<u8> {
    let mut out = Store::open(&args.out)?;
    let mut failed = false;
    for input in &args.inputs {
        if let Err(e) = check_input(input) {
            eprintln!("lockgraph: error: {e:#}");
            failed = true;
            continue;
        }
        match out.merge_from(input) {
            Ok(Merged::Added {
                shapes,
                deadlocks,
                occurrences,
            }) => eprintln!(
                "lockgraph: merged {}: {shapes} transaction shapes, {deadlocks} deadlock signatures, {occurrences} deadlock reports",
                input.display()
            ),
            Ok(Merged::AlreadyPresent) => eprintln!(
                "lockgraph: {}: already merged into {}, nothing added",
                input.display(),
                args.out.display()
            ),
            Ok(Merged::Empty) => {
                eprintln!("lockgraph: {}: empty store, nothing added", input.display())
            }
            Err(e) => {
                eprintln!("lockgraph: error: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed { 2 } else { 0 })
}

/// An input must exist (opening would create it) and be a SQLite file.
fn check_input(path: &Path) -> anyhow::Result<()> {
    let mut f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut head = [0u8; 16];
    let n = f
        .read(&mut head)
        .with_context(|| format!("{}", path.display()))?;
    if &head[..n] != b"SQLite format 3\0" {
        let what = if head[..n].trim_ascii_start().starts_with(b"{") {
            "a JSON result, not a store: merging `--format json` results is not supported; run `logs --store` on each shard and merge the stores"
        } else {
            "not a lockgraph store (SQLite file)"
        };
        anyhow::bail!("{}: {what}", path.display());
    }
    Ok(())
}
