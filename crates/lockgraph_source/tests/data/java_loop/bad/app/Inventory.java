package app;

import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

public class Inventory {
    private final JdbcTemplate jdbc;

    public Inventory(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    public void reserve(List<Long> skus) {
        for (Long sku : skus) {
            jdbc.update("UPDATE stock SET reserved = reserved + 1 WHERE sku = ?", sku);
        }
    }
}
