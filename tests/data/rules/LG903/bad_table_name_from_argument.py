"""LG903 bad: the table a purge job deletes from is an f-string hole, so its locks are unknown."""


def purge_before(conn, table: str, cutoff) -> int:
    with conn:
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE created_at < %s", (cutoff,))
            return cur.rowcount
