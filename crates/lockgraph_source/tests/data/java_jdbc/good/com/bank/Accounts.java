package com.bank;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

public class Accounts {
    static void debit(Connection conn, long accountId, long cents) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE accounts SET balance = balance - ? WHERE id = ?")) {
            ps.setLong(1, cents);
            ps.setLong(2, accountId);
            ps.executeUpdate();
        }
    }

    static void lockEntry(Connection conn, long entryId) throws SQLException {
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM ledger WHERE id = ? FOR UPDATE");
        ps.setLong(1, entryId);
        ps.executeQuery();
    }
}
