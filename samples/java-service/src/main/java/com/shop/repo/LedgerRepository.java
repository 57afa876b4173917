package com.shop.repo;

import com.shop.model.LedgerEntry;
import java.util.Map;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Repository;

/** Ledger entries: one row per leg of a transfer, {@code pending} until it is settled. */
@Repository
public class LedgerRepository {

    private static final String LOCK_ENTRY = """
            SELECT id, account_id, amount_cents, status
              FROM ledger_entries
             WHERE id = :entryId
               FOR UPDATE
            """;

    private final NamedParameterJdbcTemplate jdbc;

    public LedgerRepository(NamedParameterJdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Records a pending entry and returns its id. */
    public long addEntry(long accountId, long amountCents) {
        MapSqlParameterSource params = new MapSqlParameterSource()
                .addValue("accountId", accountId)
                .addValue("amountCents", amountCents);
        return jdbc.queryForObject(
                "INSERT INTO ledger_entries (account_id, amount_cents) "
                        + "VALUES (:accountId, :amountCents) RETURNING id",
                params, Long.class);
    }

    /** Reads an entry without locking it. */
    public LedgerEntry findEntry(long entryId) {
        return jdbc.queryForObject(
                "SELECT id, account_id, amount_cents, status FROM ledger_entries WHERE id = :entryId",
                Map.of("entryId", entryId), LedgerEntry.MAPPER);
    }

    /** Locks the entry for the rest of the transaction and returns it. */
    public LedgerEntry lockEntry(long entryId) {
        return jdbc.queryForObject(LOCK_ENTRY, Map.of("entryId", entryId), LedgerEntry.MAPPER);
    }

    /** Marks a pending entry as settled. */
    public void markSettled(long entryId) {
        jdbc.update(
                "UPDATE ledger_entries SET status = 'settled', settled_at = now() WHERE id = :entryId",
                Map.of("entryId", entryId));
    }

    /** Replaces the amount of an entry with the refunded one. */
    public void markRefunded(long entryId, long amountCents) {
        jdbc.update(
                "UPDATE ledger_entries SET amount_cents = :amountCents, status = 'refunded' "
                        + "WHERE id = :entryId",
                Map.of("entryId", entryId, "amountCents", amountCents));
    }
}
