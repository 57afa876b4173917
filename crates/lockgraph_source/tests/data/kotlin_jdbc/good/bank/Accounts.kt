package bank

import java.sql.Connection

const val DEBIT = """
    UPDATE accounts SET balance = balance - ? WHERE id = ?
"""

object Accounts {
    fun debit(conn: Connection, accountId: Long, cents: Long) {
        conn.prepareStatement(DEBIT).use { ps ->
            ps.setLong(1, cents)
            ps.setLong(2, accountId)
            ps.executeUpdate()
        }
    }

    fun lockEntry(conn: Connection, entryId: Long) {
        conn.prepareStatement("SELECT * FROM ledger WHERE id = ? FOR UPDATE").use {
            it.setLong(1, entryId)
            it.executeQuery()
        }
    }
}
