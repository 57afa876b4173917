from django.db import transaction
from django.db.models import F

from .models import Account, Payment


@transaction.atomic
def pay(account_id, payment_id):
    account = Account.objects.select_for_update().get(id=account_id)
    Payment.objects.filter(pk=payment_id).update(status="paid")
    account.balance = account.balance - 1
    account.save(update_fields=["balance"])


def cancel(account_id, payment_id):
    with transaction.atomic():
        payment = Payment.objects.select_for_update(nowait=True).get(pk=payment_id)
        Account.objects.filter(id=account_id).update(balance=F("balance") + 1)
        payment.delete()
