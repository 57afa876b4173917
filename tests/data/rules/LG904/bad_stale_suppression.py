"""LG904 bad: the suppression was written for an inversion that has since been fixed (both
functions now lock `a` before `b`), so it silences nothing."""


async def update_a_then_b(conn, id: int) -> None:
    async with conn.transaction():
        # lockgraph: ignore[LG101] known inversion with revert_a_and_b, see #412
        await conn.execute("UPDATE a SET n = n + 1 WHERE id = $1", id)
        await conn.execute("UPDATE b SET n = n + 1 WHERE id = $1", id)


async def revert_a_and_b(conn, id: int) -> None:
    async with conn.transaction():
        await conn.execute("UPDATE a SET n = n - 1 WHERE id = $1", id)
        await conn.execute("UPDATE b SET n = n - 1 WHERE id = $1", id)
