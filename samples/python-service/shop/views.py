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

    The body is `{"email": "...", "lines": [{"product": 7, "quantity": 2}, ...]}`, lines in the
    order the customer added them to the cart.
    """
    cart = json.loads(request.body)
    order = Order.objects.create(email=cart["email"])
    total = 0
    for line in cart["lines"]:
        product = Product.objects.select_for_update().get(pk=line["product"])
        if product.stock < line["quantity"]:
            raise ValidationError(f"{product.name} is out of stock")
        product.stock -= line["quantity"]
        product.save(update_fields=["stock"])
        OrderLine.objects.create(order=order, product=product, quantity=line["quantity"])
        total += product.price_cents * line["quantity"]
    order.total_cents = total
    order.save(update_fields=["total_cents"])
    return JsonResponse({"order": order.pk}, status=201)
