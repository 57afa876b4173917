from django.db import transaction

from inventory.models import Item


@transaction.atomic()
def decrement_all(item_ids):
    items = list(Item.objects.select_for_update().filter(pk__in=item_ids).order_by("pk"))
    for item in items:
        item.qty = item.qty - 1
        item.save()
