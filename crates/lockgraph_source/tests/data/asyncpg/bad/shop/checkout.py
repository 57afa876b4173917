from shop.repo import carts


async def add_to_cart(pool, cart_id, sku):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await carts.lock_cart(conn, cart_id)
            await carts.lock_product(conn, sku)
            await carts.add_item(conn, cart_id, sku)


async def restock(pool, cart_id, sku):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await carts.lock_product(conn, sku)
            await carts.lock_cart(conn, cart_id)
