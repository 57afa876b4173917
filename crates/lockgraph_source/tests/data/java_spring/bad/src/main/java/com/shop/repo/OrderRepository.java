package com.shop.repo;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

@Repository
public class OrderRepository {
    private final JdbcTemplate jdbcTemplate;

    public OrderRepository(JdbcTemplate jdbcTemplate) {
        this.jdbcTemplate = jdbcTemplate;
    }

    public void markPaid(long orderId) {
        jdbcTemplate.update("UPDATE orders SET status = 'paid' WHERE id = ?", orderId);
    }

    public long lockOrder(long orderId) {
        return jdbcTemplate.queryForObject(
                "SELECT customer_id FROM orders WHERE id = ? FOR UPDATE", Long.class, orderId);
    }
}
