//! Use cases: one transaction each.

pub mod refund;
pub mod transfer;
