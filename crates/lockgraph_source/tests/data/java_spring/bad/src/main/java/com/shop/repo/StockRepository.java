package com.shop.repo;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

@Repository
public class StockRepository {
    private final JdbcTemplate jdbc;

    public StockRepository(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void reserve(long sku, int qty) {
        jdbc.update("UPDATE stock SET reserved = reserved + ? WHERE sku = ?", qty, sku);
    }
}
