package com.shop.model;

import org.springframework.jdbc.core.RowMapper;

/** A row of {@code ledger_entries}. */
public record LedgerEntry(long id, long accountId, long amountCents, String status) {

    public static final RowMapper<LedgerEntry> MAPPER = (rs, row) -> new LedgerEntry(
            rs.getLong("id"), rs.getLong("account_id"), rs.getLong("amount_cents"),
            rs.getString("status"));

    public boolean isSettled() {
        return "settled".equals(status);
    }
}
