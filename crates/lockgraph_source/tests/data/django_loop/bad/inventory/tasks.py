from django.db import transaction

from inventory.models import Item


@transaction.atomic()
def decrement_all(item_ids):
    for item_id in item_ids:
        item = Item.objects.select_for_update().get(pk=item_id)
        item.qty = item.qty - 1
        item.save()
