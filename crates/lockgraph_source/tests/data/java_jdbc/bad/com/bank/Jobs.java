package com.bank;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

public class Jobs {
    private final DataSource ds;

    Jobs(DataSource ds) {
        this.ds = ds;
    }

    void settle(long accountId, long entryId) throws SQLException {
        try (Connection conn = ds.getConnection()) {
            conn.setAutoCommit(false);
            try {
                Accounts.debit(conn, accountId, 100);
                Accounts.lockEntry(conn, entryId);
                conn.commit();
            } catch (SQLException e) {
                conn.rollback();
                throw e;
            }
        }
    }

    void reconcile(long accountId, long entryId) throws SQLException {
        try (Connection conn = ds.getConnection(); Statement stmt = conn.createStatement()) {
            conn.setAutoCommit(false);
            Accounts.lockEntry(conn, entryId);
            Accounts.debit(conn, accountId, 1);
            conn.commit();
        }
    }
}
