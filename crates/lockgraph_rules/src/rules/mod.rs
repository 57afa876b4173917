//! One module per rule; the file name is the rule's name in snake case.

/// LG401 `deadlock-observed`.
pub mod deadlock_observed;
/// LG903 `dynamic-relation`.
pub mod dynamic_relation;
/// LG101 `lock-order-inversion`.
pub mod lock_order_inversion;
/// LG102 `lock-upgrade`.
pub mod lock_upgrade;
/// LG902 `unmodelled-statement`.
pub mod unmodelled_statement;
/// LG103 `unordered-row-locks`.
pub mod unordered_row_locks;
/// LG901 `unparseable-statement`.
pub mod unparseable_statement;
/// LG904 `unused-suppression`.
pub mod unused_suppression;
