"""Out-of-office entries: `USER#<userId>`, `HC#OOO#<id:010>` (in the profile's HC# range, so the booking path loads
them with the host in the Query it makes anyway), expiring by TTL after their end."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError
from pynamodb.transactions import TransactWrite

from booking_core.domain.out_of_office import OutOfOffice
from booking_core.ports import OutboxEvent
from booking_core.repositories.bookings import outbox_item
from booking_core.repositories.counters import next_id
from booking_core.repositories.tables import Item, OutOfOfficeItem, connection, out_of_office_sk, user_pk

_sk = out_of_office_sk


class OutOfOfficeRepository:
    @staticmethod
    def next_id() -> int:
        return next_id("out_of_office")

    def create(self, entry: OutOfOffice, event: OutboxEvent) -> None:
        """The entry and its outOfOfficeCreated event, in one transaction."""
        item = OutOfOfficeItem(user_pk(entry.user_id), _sk(entry.id), doc=entry.model_dump(mode="json", by_alias=True),
                               expires_at=int(entry.end.timestamp()))
        with TransactWrite(connection=connection()) as tx:
            tx.save(item, condition=Item.pk.does_not_exist())
            tx.save(outbox_item(event))

    def delete(self, user_id: int, entry_id: int) -> bool:
        try:
            OutOfOfficeItem(user_pk(user_id), _sk(entry_id)).delete(condition=Item.pk.exists())
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
