"""LG103 bad: restocking updates one inventory row per cart line, in the order of the cart.

Two carts listing the same products in different orders lock the rows in different orders.
"""


def release_cart(conn, lines: list[tuple[int, int]]) -> None:
    with conn:
        with conn.cursor() as cur:
            for product_id, quantity in lines:
                cur.execute(
                    "UPDATE inventory SET reserved = reserved - %s WHERE product_id = %s",
                    (quantity, product_id),
                )
