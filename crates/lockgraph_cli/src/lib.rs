//! The library half of the `lockgraph` binary: input discovery and the loading pipeline that
//! turns files into transactions, shared by the CLI and by end-to-end tests.
//!
//! ```no_run
//! use lockgraph_cli::pipeline::{load, LoadOptions};
//! let loaded = load(&["samples/shop".into()], &LoadOptions::default());
//! println!("{} transactions", loaded.transactions.len());
//! ```
#![warn(missing_docs)]

/// Which files to read.
pub mod discover;
/// Following live transactions across snapshots (`live --watch --report`).
pub mod learn;
/// Files → schema, transactions, statements, diagnostics.
pub mod pipeline;
