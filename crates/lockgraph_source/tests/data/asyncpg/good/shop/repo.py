class CartRepo:
    async def lock_cart(self, conn, cart_id):
        return await conn.fetchrow("SELECT * FROM carts WHERE id = $1 FOR UPDATE", cart_id)

    async def add_item(self, conn, cart_id, sku):
        await conn.execute("INSERT INTO cart_items (cart_id, sku) VALUES ($1, $2)", cart_id, sku)

    async def lock_product(self, conn, sku):
        return await conn.fetchval("SELECT stock FROM products WHERE sku = $1 FOR UPDATE", sku)


carts = CartRepo()
