async def book(pool, seat_id):
    async with pool.acquire() as conn:
        async with conn.transaction():
            seat = await conn.fetchrow("SELECT * FROM seats WHERE id = $1 FOR SHARE", seat_id)
            if seat["free"]:
                await conn.execute("UPDATE seats SET free = false WHERE id = $1", seat_id)
