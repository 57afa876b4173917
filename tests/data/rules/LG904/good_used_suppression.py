"""LG904 good: the suppression silences the dynamic-relation finding on its line."""

PARTITIONS = ("events_2024", "events_2025")


def purge_partition(conn, partition: str, cutoff) -> None:
    if partition not in PARTITIONS:
        raise ValueError(partition)
    with conn:
        with conn.cursor() as cur:
            # lockgraph: ignore[LG903] partitions come from the fixed list above
            cur.execute(f"DELETE FROM {partition} WHERE created_at < %s", (cutoff,))
