"""LG103 good: settles many customers in one transaction, one row at a time — in key order.

Every run walks the ids sorted, so two runs lock any two shared rows in the same order.
"""


async def settle_balances(conn, charges: dict[int, int]) -> None:
    async with conn.transaction():
        for customer_id in sorted(charges):
            await conn.execute(
                "UPDATE customers SET balance_cents = balance_cents - $1 WHERE id = $2",
                charges[customer_id],
                customer_id,
            )
