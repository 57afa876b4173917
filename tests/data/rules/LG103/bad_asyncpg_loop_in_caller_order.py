"""LG103 bad: the same settlement, walking the ids in whatever order the caller gave them.

Two runs with {1: …, 2: …} and {2: …, 1: …} lock customers 1 and 2 in opposite orders.
"""


async def settle_balances(conn, charges: dict[int, int]) -> None:
    async with conn.transaction():
        for customer_id, cents in charges.items():
            await conn.execute(
                "UPDATE customers SET balance_cents = balance_cents - $1 WHERE id = $2",
                cents,
                customer_id,
            )
