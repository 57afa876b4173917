//! Errors of the core crate.

use thiserror::Error;

/// Errors raised while building model values from text.
#[derive(Debug, Error)]
pub enum Error {
    /// A lock mode name that is none of the documented ones.
    #[error("unknown lock mode `{0}`")]
    UnknownLockMode(String),
}
