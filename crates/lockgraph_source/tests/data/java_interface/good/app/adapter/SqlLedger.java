package app.adapter;

import app.port.Ledger;
import org.springframework.jdbc.core.JdbcTemplate;

public class SqlLedger implements Ledger {
    private final JdbcTemplate jdbc;

    public SqlLedger(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public void post(long entryId) {
        jdbc.update("UPDATE entries SET posted = true WHERE id = ?", entryId);
    }

    @Override
    public void hold(long accountId) {
        jdbc.update("UPDATE holds SET active = true WHERE account_id = ?", accountId);
    }
}
