"""LG101 good: both handlers lock the customer row first, then the invoice."""

import asyncpg


async def charge_customer(conn: asyncpg.Connection, customer_id: int, cents: int) -> None:
    await conn.execute(
        "UPDATE customers SET balance_cents = balance_cents - $2 WHERE id = $1", customer_id, cents
    )


async def set_invoice_status(conn: asyncpg.Connection, invoice_id: int, status: str) -> None:
    await conn.execute("UPDATE invoices SET status = $2 WHERE id = $1", invoice_id, status)


async def pay_invoice(pool: asyncpg.Pool, invoice_id: int, customer_id: int, cents: int) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await charge_customer(conn, customer_id, cents)
            await set_invoice_status(conn, invoice_id, "paid")


async def void_invoice(pool: asyncpg.Pool, invoice_id: int, customer_id: int, cents: int) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await charge_customer(conn, customer_id, -cents)
            await set_invoice_status(conn, invoice_id, "void")
