"""Blocklist entries (with the host flags they imply), private links and routing form responses."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from booking_core.domain.access import (
    BlocklistEntry,
    BlocklistInput,
    PrivateLink,
    RoutingFormResponse,
    RoutingFormResponseInput,
    lookup_keys,
)
from booking_core.repositories.bookings import batch_get
from booking_core.repositories.counters import next_id
from booking_core.repositories.tables import (
    PROFILE_SK,
    BlocklistIndexItem,
    BlocklistItem,
    Item,
    LinkUsageItem,
    PrivateLinkItem,
    RoutingResponseItem,
    UserIndexItem,
    UserItem,
    connection,
    minute_key,
    user_pk,
)


class AlreadyExists(Exception):
    pass


def _entry_key(entry_type: str, value: str) -> tuple[str, str]:
    return f"BLOCK#{entry_type}#{value}", "BLOCK"


def user_index_keys(email: str) -> list[tuple[str, str]]:
    """Index partitions a user's email is filed under: the address and each (parent) domain."""
    return [(f"USER{kind.upper()}#{value}", "") for kind, value in lookup_keys(email)]


class BlocklistRepository:
    def create(self, data: BlocklistInput, now: datetime) -> BlocklistEntry:
        entry = BlocklistEntry(**data.model_dump(), id=next_id("blocklist"), created_at=now)
        doc = entry.dump()
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(BlocklistItem(*_entry_key(entry.type, entry.value), doc=doc), condition=Item.pk.does_not_exist())
                tx.save(BlocklistIndexItem("BLOCKLIST", minute_key(entry.id), entry_type=entry.type, value=entry.value))
        except TransactWriteError as exc:
            raise AlreadyExists(f"{entry.type} {entry.value} is already on the blocklist") from exc
        return entry

    def list(self) -> list[BlocklistEntry]:
        keys = [_entry_key(item.entry_type, item.value) for item in BlocklistIndexItem.query("BLOCKLIST", consistent_read=True)]
        entries = [BlocklistEntry.model_validate(item.doc) for item in batch_get(keys) if isinstance(item, BlocklistItem)]
        return sorted(entries, key=lambda entry: entry.id)

    def delete(self, entry_id: int) -> BlocklistEntry | None:
        try:
            index = BlocklistIndexItem.get("BLOCKLIST", minute_key(entry_id), consistent_read=True)
            item = BlocklistItem.get(*_entry_key(index.entry_type, index.value), consistent_read=True)
        except DoesNotExist:
            return None
        entry = BlocklistEntry.model_validate(item.doc)
        with TransactWrite(connection=connection()) as tx:
            tx.delete(item)
            tx.delete(index)
        return entry

    def matching(self, email: str) -> list[BlocklistEntry]:
        keys = [_entry_key(kind, value) for kind, value in lookup_keys(email)]
        return [BlocklistEntry.model_validate(item.doc) for item in batch_get(keys) if isinstance(item, BlocklistItem)]

    # -- host flags --------------------------------------------------------------------------------------------
    def users_matching(self, entry: BlocklistInput) -> list[int]:
        pk = f"USER{entry.type.upper()}#{entry.value}"
        return [int(item.user_id) for item in UserIndexItem.query(pk, consistent_read=True)]

    def index_user(self, user_id: int, old_email: str | None, new_email: str) -> None:
        """File the user under their address and domains (and out of the old ones)."""
        old = {key for key in user_index_keys(old_email)} if old_email else set()
        new = set(user_index_keys(new_email))
        with TransactWrite(connection=connection()) as tx:
            for pk, _ in old - new:
                tx.delete(UserIndexItem(pk, f"USER#{user_id}"))
            for pk, _ in new - old:
                tx.save(UserIndexItem(pk, f"USER#{user_id}", user_id=user_id))

    def refresh_flag(self, user_id: int, email: str) -> bool:
        """A host is blocked while a `block` entry matches their address or domain; store the flag on the profile
        so the booking path reads it with the host (no extra round trip)."""
        blocked = any(entry.action == "block" for entry in self.matching(email))
        try:
            UserItem(user_pk(user_id), PROFILE_SK).update(
                actions=[UserItem.blocked.set(blocked)], condition=Item.pk.exists()
            )
        except UpdateError:
            pass  # the user is gone
        return blocked


class PrivateLinkRepository:
    def create(self, link: PrivateLink) -> None:
        PrivateLinkItem(f"EVENTTYPE#{link.event_type_id}", f"LINK#{link.link_id}", doc=link.dump(), usage_count=0).save(
            condition=Item.pk.does_not_exist()
        )

    def list(self, event_type_id: int) -> list[PrivateLink]:
        items = PrivateLinkItem.query(f"EVENTTYPE#{event_type_id}", PrivateLinkItem.sk.startswith("LINK#"),
                                      consistent_read=True)
        links = [PrivateLink.model_validate({**item.doc, "usageCount": int(item.usage_count)}) for item in items]
        return sorted(links, key=lambda link: link.created_at)

    def get(self, event_type_id: int, link_id: str) -> PrivateLink | None:
        try:
            item = PrivateLinkItem.get(f"EVENTTYPE#{event_type_id}", f"LINK#{link_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return PrivateLink.model_validate({**item.doc, "usageCount": int(item.usage_count)})

    def count_use(self, event_type_id: int, link_id: str, booking_uid: str) -> bool:
        """Count one booking's use of a link, exactly once (a per-booking marker in the same transaction).
        False when this booking was already counted or the link is gone."""
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(LinkUsageItem(f"LINKUSE#{link_id}#{booking_uid}", "LINKUSE", booking_uid=booking_uid),
                        condition=Item.pk.does_not_exist())
                tx.update(PrivateLinkItem(f"EVENTTYPE#{event_type_id}", f"LINK#{link_id}"),
                          actions=[PrivateLinkItem.usage_count.add(1)], condition=Item.pk.exists())
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True


class RoutingResponseRepository:
    def create(self, data: RoutingFormResponseInput, now: datetime) -> RoutingFormResponse:
        response = RoutingFormResponse(**data.model_dump(), id=next_id("routing_response"), created_at=now)
        RoutingResponseItem(f"ROUTINGRESPONSE#{response.id}", "ROUTINGRESPONSE", doc=response.dump()).save(
            condition=Item.pk.does_not_exist()
        )
        return response

    def get(self, response_id: int) -> RoutingFormResponse | None:
        try:
            item = RoutingResponseItem.get(f"ROUTINGRESPONSE#{response_id}", "ROUTINGRESPONSE", consistent_read=True)
        except DoesNotExist:
            return None
        return RoutingFormResponse.model_validate(item.doc)
