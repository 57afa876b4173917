package bank

import javax.sql.DataSource

class Jobs(private val ds: DataSource) {
    fun settle(accountId: Long, entryId: Long) {
        ds.connection.use { conn ->
            conn.autoCommit = false
            try {
                Accounts.debit(conn, accountId, 100)
                Accounts.lockEntry(conn, entryId)
                conn.commit()
            } catch (e: Exception) {
                conn.rollback()
                throw e
            }
        }
    }

    fun reconcile(accountId: Long, entryId: Long) {
        ds.connection.use { conn ->
            conn.autoCommit = false
            Accounts.lockEntry(conn, entryId)
            Accounts.debit(conn, accountId, 1)
            conn.commit()
        }
    }
}
