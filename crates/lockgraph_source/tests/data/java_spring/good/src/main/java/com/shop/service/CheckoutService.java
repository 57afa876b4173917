package com.shop.service;

import com.shop.repo.OrderRepository;
import com.shop.repo.StockRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
@Transactional
public class CheckoutService {
    private final OrderRepository orders;
    private final StockRepository stock;

    public CheckoutService(OrderRepository orders, StockRepository stock) {
        this.orders = orders;
        this.stock = stock;
    }

    public void pay(long orderId, long sku) {
        orders.markPaid(orderId);
        reserveOne(sku);
    }

    @Transactional
    public void reserveOne(long sku) {
        stock.reserve(sku, 1);
    }
}
