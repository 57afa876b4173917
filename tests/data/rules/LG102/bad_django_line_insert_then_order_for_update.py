"""LG102 bad: adding a line to an order, then locking the order to update its total.

Inserting the line checks its foreign key, which takes FOR KEY SHARE on the order row; the
`select_for_update()` that follows needs FOR UPDATE on the same row. Two requests adding lines to
the same order both hold the key-share lock and each waits for the other's.
"""

from django.db import models, transaction


class Order(models.Model):
    total_cents = models.BigIntegerField(default=0)

    class Meta:
        db_table = "orders"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    sku = models.CharField(max_length=40)
    price_cents = models.BigIntegerField()

    class Meta:
        db_table = "order_lines"


@transaction.atomic
def add_line(order_id: int, sku: str, price_cents: int) -> None:
    OrderLine.objects.create(order_id=order_id, sku=sku, price_cents=price_cents)
    order = Order.objects.select_for_update().get(pk=order_id)
    order.total_cents = order.total_cents + price_cents
    order.save(update_fields=["total_cents"])
