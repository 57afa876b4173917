//! One module per rule; the file name is the rule's name in snake case.

/// LG405 `access-exclusive-queue`.
pub mod access_exclusive_queue;
/// LG402 `deadlock-in-progress`.
pub mod deadlock_in_progress;
/// LG401 `deadlock-observed`.
pub mod deadlock_observed;
/// LG104 `declared-order-violation`.
pub mod declared_order_violation;
/// LG903 `dynamic-relation`.
pub mod dynamic_relation;
/// LG404 `idle-in-transaction-blocker`.
pub mod idle_in_transaction_blocker;
/// LG101 `lock-order-inversion`.
pub mod lock_order_inversion;
/// LG102 `lock-upgrade`.
pub mod lock_upgrade;
/// LG403 `root-blocker`.
pub mod root_blocker;
/// LG902 `unmodelled-statement`.
pub mod unmodelled_statement;
/// LG103 `unordered-row-locks`.
pub mod unordered_row_locks;
/// LG901 `unparseable-statement`.
pub mod unparseable_statement;
/// LG904 `unused-suppression`.
pub mod unused_suppression;
