"""LG103 bad: a Django transfer updates the source account, then the destination account.

A concurrent transfer in the other direction locks the same two rows in the opposite order.
"""

from django.db import models, transaction
from django.db.models import F


class Account(models.Model):
    owner = models.CharField(max_length=200)
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        db_table = "accounts"


@transaction.atomic
def transfer(from_id: int, to_id: int, cents: int) -> None:
    Account.objects.filter(pk=from_id).update(balance_cents=F("balance_cents") - cents)
    Account.objects.filter(pk=to_id).update(balance_cents=F("balance_cents") + cents)
