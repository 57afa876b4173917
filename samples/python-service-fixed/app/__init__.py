"""Ledger service: wallet accounts, transfers between them and nightly reconciliation."""
