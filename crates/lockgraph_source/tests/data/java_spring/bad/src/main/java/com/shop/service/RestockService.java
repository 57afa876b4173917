package com.shop.service;

import com.shop.repo.OrderRepository;
import com.shop.repo.StockRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class RestockService {
    private final OrderRepository orders;
    private final StockRepository stock;

    public RestockService(OrderRepository orders, StockRepository stock) {
        this.orders = orders;
        this.stock = stock;
    }

    @Transactional(readOnly = false)
    public void backorder(long orderId, long sku) {
        this.stock.reserve(sku, 1);
        this.orders.lockOrder(orderId);
    }
}
