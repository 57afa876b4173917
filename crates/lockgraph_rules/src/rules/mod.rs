//! One module per rule; the file name is the rule's name in snake case.

pub mod lock_order_inversion;
pub mod lock_upgrade;
pub mod unmodelled_statement;
pub mod unordered_row_locks;
pub mod unparseable_statement;
