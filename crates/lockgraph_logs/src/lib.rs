//! placeholder: PostgreSQL log analysis (being built).
