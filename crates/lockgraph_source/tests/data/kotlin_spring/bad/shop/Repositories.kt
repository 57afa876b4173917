package shop

import org.springframework.jdbc.core.JdbcTemplate
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate
import org.springframework.stereotype.Repository

@Repository
class OrderRepository(private val jdbc: JdbcTemplate) {
    fun markPaid(orderId: Long) {
        jdbc.update("UPDATE orders SET status = 'paid' WHERE id = ?", orderId)
    }

    fun lockOrder(orderId: Long): Long? =
        jdbc.queryForObject("SELECT customer_id FROM orders WHERE id = ? FOR UPDATE", Long::class.java, orderId)
}

@Repository
class StockRepository(private val named: NamedParameterJdbcTemplate) {
    fun reserve(sku: Long, qty: Int) {
        named.update(
            """
            UPDATE stock SET reserved = reserved + :qty
             WHERE sku = :sku
            """.trimIndent(),
            mapOf("sku" to sku, "qty" to qty),
        )
    }
}
