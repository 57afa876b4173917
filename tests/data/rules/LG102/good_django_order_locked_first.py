"""LG102 good: the order row is locked FOR UPDATE before the line is inserted, so a second request
waits before it holds anything."""

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
    order = Order.objects.select_for_update().get(pk=order_id)
    OrderLine.objects.create(order_id=order_id, sku=sku, price_cents=price_cents)
    order.total_cents = order.total_cents + price_cents
    order.save(update_fields=["total_cents"])
