//! The library half of the `lockgraph` binary: input discovery and the loading pipeline that
//! turns files into transactions, shared by the CLI and by end-to-end tests.
//!
//! ```no_run
//! use lockgraph_cli::pipeline::{load, LoadOptions};
//! let loaded = load(&["samples/shop".into()], &LoadOptions::default());
//! println!("{} transactions", loaded.transactions.len());
//! ```
#![warn(missing_docs)]

/// Baselines: accepted findings by fingerprint (`--baseline`, `--write-baseline`).
pub mod baseline;
/// `lockgraph.toml` / `[tool.lockgraph]`: discovery, parsing with spans, validation.
pub mod config;
/// `--diff-base REV`: lines changed since a git revision.
pub mod diffbase;
/// Which files to read.
pub mod discover;
/// Following live transactions across snapshots (`live --watch --report`).
pub mod learn;
/// Files → schema, transactions, statements, diagnostics.
pub mod pipeline;
