package com.shop.repo;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/** {@link AccountRepository} on plain SQL; runs in the caller's transaction. */
@Repository
public class JdbcAccountRepository implements AccountRepository {

    private static final String ADJUST_BALANCE =
            "UPDATE accounts SET balance_cents = balance_cents + ?, updated_at = now() "
                    + "WHERE id = ?";

    private final JdbcTemplate jdbc;

    public JdbcAccountRepository(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public long balanceOf(long accountId) {
        Long cents = jdbc.queryForObject(
                "SELECT balance_cents FROM accounts WHERE id = ?", Long.class, accountId);
        return cents == null ? 0L : cents;
    }

    @Override
    public void adjustBalance(long accountId, long amountCents) {
        int updated = jdbc.update(ADJUST_BALANCE, amountCents, accountId);
        if (updated != 1) {
            throw new IllegalStateException("no account " + accountId);
        }
    }
}
