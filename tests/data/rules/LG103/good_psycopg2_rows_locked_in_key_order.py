"""LG103 good: the inventory rows of the cart are locked first, in key order, with one statement;
the updates in the loop then only touch rows the transaction already holds."""


def release_cart(conn, lines: list[tuple[int, int]]) -> None:
    with conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT product_id FROM inventory WHERE product_id = ANY(%s)"
                " ORDER BY product_id FOR UPDATE",
                ([product_id for product_id, _ in lines],),
            )
            for product_id, quantity in lines:
                cur.execute(
                    "UPDATE inventory SET reserved = reserved - %s WHERE product_id = %s",
                    (quantity, product_id),
                )
