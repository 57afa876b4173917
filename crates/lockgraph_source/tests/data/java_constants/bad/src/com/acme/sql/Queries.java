package com.acme.sql;

/** Every statement of the jobs, in one place. */
public final class Queries {
    private Queries() {}

    public static final String TABLE_PREFIX = "UPDATE ";

    public static final String BUMP_COUNTER = TABLE_PREFIX + "counters SET n = n + 1 "
            + "WHERE name = ?";

    public static final String LOCK_QUOTA = """
            SELECT * FROM quotas
             WHERE tenant = ?
               FOR UPDATE
            """;
}
