"""Storefront models (tables created by migrations/0003_shop.sql)."""

from django.db import models


class Product(models.Model):
    """A product for sale, with its stock counter."""

    name = models.CharField(max_length=200)
    price_cents = models.BigIntegerField()
    stock = models.IntegerField(default=0)


class Order(models.Model):
    """A placed order."""

    email = models.EmailField()
    total_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class OrderLine(models.Model):
    """One product of an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
