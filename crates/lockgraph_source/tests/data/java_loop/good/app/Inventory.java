package app;

import java.util.ArrayList;
import java.util.Collections;
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
        List<Long> ordered = new ArrayList<>(skus);
        Collections.sort(ordered);
        for (Long sku : ordered) {
            jdbc.update("UPDATE stock SET reserved = reserved + 1 WHERE sku = ?", sku);
        }
    }
}
