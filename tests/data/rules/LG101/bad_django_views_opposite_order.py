"""LG101 bad: two Django views lock a ticket and its event in opposite orders.

`assign_ticket` locks the ticket, then updates the event's counter; `cancel_event` locks the event,
then updates its tickets.
"""

from django.db import models, transaction
from django.db.models import F


class Event(models.Model):
    title = models.CharField(max_length=200)
    seats_taken = models.IntegerField(default=0)

    class Meta:
        db_table = "events"


class Ticket(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE)
    holder = models.CharField(max_length=200, null=True)
    status = models.CharField(max_length=20, default="open")

    class Meta:
        db_table = "tickets"


@transaction.atomic
def assign_ticket(ticket_id: int, event_id: int, holder: str) -> None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    Event.objects.filter(pk=event_id).update(seats_taken=F("seats_taken") + 1)
    ticket.holder = holder
    ticket.save(update_fields=["holder"])


def cancel_event(event_id: int, ticket_id: int) -> None:
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        Ticket.objects.filter(pk=ticket_id).update(status="cancelled")
        event.seats_taken = 0
        event.save(update_fields=["seats_taken"])
