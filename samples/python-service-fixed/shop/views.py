"""Checkout endpoint of the storefront."""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from shop.models import Order, OrderLine, Product


@require_POST
@transaction.atomic
def checkout(request: HttpRequest) -> JsonResponse:
    """Places an order for the cart in the request body and takes its products off the shelf.

    The body is `{"email": "...", "lines": [{"product": 7, "quantity": 2}, ...]}`. The products are
    locked up front in primary-key order, whatever the order of the cart, so two checkouts of
    overlapping carts queue instead of deadlocking.
    """
    cart = json.loads(request.body)
    quantities = {line["product"]: line["quantity"] for line in cart["lines"]}
    products = Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
    order = Order.objects.create(email=cart["email"])
    total = 0
    for product in products:
        quantity = quantities[product.pk]
        if product.stock < quantity:
            raise ValidationError(f"{product.name} is out of stock")
        product.stock -= quantity
        product.save(update_fields=["stock"])
        OrderLine.objects.create(order=order, product=product, quantity=quantity)
        total += product.price_cents * quantity
    order.total_cents = total
    order.save(update_fields=["total_cents"])
    return JsonResponse({"order": order.pk}, status=201)
