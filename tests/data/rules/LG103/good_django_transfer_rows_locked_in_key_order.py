"""LG103 good: both account rows are locked first, in key order, with one query; transfers in
either direction lock the lower id first."""

from django.db import models, transaction
from django.db.models import F


class Account(models.Model):
    owner = models.CharField(max_length=200)
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        db_table = "accounts"


@transaction.atomic
def transfer(from_id: int, to_id: int, cents: int) -> None:
    list(Account.objects.select_for_update().filter(pk__in=[from_id, to_id]).order_by("pk"))
    Account.objects.filter(pk=from_id).update(balance_cents=F("balance_cents") - cents)
    Account.objects.filter(pk=to_id).update(balance_cents=F("balance_cents") + cents)
