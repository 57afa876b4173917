//! Data access. Every function runs on the connection or transaction it is given.

pub mod accounts;
pub mod ledger;
