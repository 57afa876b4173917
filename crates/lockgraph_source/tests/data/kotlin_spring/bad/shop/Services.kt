package shop

import org.springframework.stereotype.Service
import org.springframework.transaction.annotation.Transactional

@Service
class CheckoutService(private val orders: OrderRepository, private val stock: StockRepository) {
    @Transactional
    fun pay(orderId: Long, sku: Long) {
        orders.markPaid(orderId)
        stock.reserve(sku, 1)
    }
}

@Service
@Transactional
class RestockService(val orders: OrderRepository, val stock: StockRepository) {
    fun backorder(orderId: Long, sku: Long) {
        stock.reserve(sku, 1)
        orders.lockOrder(orderId) ?: throw IllegalStateException("no order $orderId")
    }
}
