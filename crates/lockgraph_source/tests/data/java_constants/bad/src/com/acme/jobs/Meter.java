package com.acme.jobs;

import static com.acme.sql.Queries.LOCK_QUOTA;

import com.acme.sql.Queries;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

public class Meter {
    private final JdbcTemplate jdbc;

    public Meter(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    public void record(String name, String tenant) {
        jdbc.update(Queries.BUMP_COUNTER, name);
        jdbc.queryForList(LOCK_QUOTA, tenant);
    }

    @Transactional
    public void reset(String name, String tenant) {
        String sql = "UPDATE quotas SET used = 0 WHERE tenant = ?";
        jdbc.update(sql, tenant);
        jdbc.update(String.format("UPDATE counters SET n = 0 WHERE name = '%s'", name));
    }
}
