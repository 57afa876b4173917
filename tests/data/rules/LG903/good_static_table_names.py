"""LG903 good: one statement per table, so each table is written in the SQL."""


def purge_audit_log(conn, cutoff) -> int:
    with conn:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM audit_log WHERE created_at < %s", (cutoff,))
            return cur.rowcount


def purge_sessions(conn, cutoff) -> int:
    with conn:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM sessions WHERE created_at < %s", (cutoff,))
            return cur.rowcount
