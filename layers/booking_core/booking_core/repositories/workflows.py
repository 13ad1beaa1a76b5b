"""Workflows and the index that finds those active on an event type (no Scan).

- `WORKFLOW#<id>` / `WORKFLOW`: the workflow document (versioned).
- `WORKFLOWS` / `<id:010>`: the listing.
- `WORKFLOWSCOPE#<all|eventType#n>` / `<id:010>`: one pointer per event type it is active on (or one under `all`).

A booking change reads the pointers of `all` and of its event type (two Queries in one concurrent round) and the
workflows they name (one BatchGetItem). A workflow and its pointers change in one transaction.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from booking_core.concurrency import gather
from booking_core.domain.workflows import Workflow
from booking_core.repositories.bookings import batch_get
from booking_core.repositories.counters import next_id
from booking_core.repositories.entities import ConcurrentUpdate
from booking_core.repositories.tables import Item, WorkflowIndexItem, WorkflowItem, connection, minute_key


def _key(workflow_id: int) -> tuple[str, str]:
    return f"WORKFLOW#{workflow_id}", "WORKFLOW"


def _scopes(workflow: Workflow) -> list[str]:
    """The scope index entries a workflow is found under: `all`, or one per event type it is active on."""
    active_on = workflow.active_on
    if active_on.all:
        return ["all"]
    return [_type_scope(event_type_id) for event_type_id in active_on.event_type_ids or []]


def _type_scope(event_type_id: int) -> str:
    return f"eventType#{event_type_id}"


def _pointer(scope: str, workflow_id: int) -> WorkflowIndexItem:
    return WorkflowIndexItem(f"WORKFLOWSCOPE#{scope}", minute_key(workflow_id), workflow_id=workflow_id)


def _from(item: WorkflowItem) -> Workflow:
    return Workflow.model_validate(item.doc)


class WorkflowRepository:
    @staticmethod
    def next_id() -> int:
        return next_id("workflow")

    def create(self, workflow: Workflow) -> None:
        with TransactWrite(connection=connection()) as tx:
            tx.save(WorkflowItem(*_key(workflow.id), doc=workflow.dump(), version=1),
                    condition=Item.pk.does_not_exist())
            tx.save(WorkflowIndexItem("WORKFLOWS", minute_key(workflow.id), workflow_id=workflow.id))
            for scope in _scopes(workflow):
                tx.save(_pointer(scope, workflow.id))

    def get(self, workflow_id: int) -> tuple[Workflow, int] | None:
        try:
            item = WorkflowItem.get(*_key(workflow_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _from(item), int(item.version)

    def save(self, workflow: Workflow, previous: Workflow, version: int) -> None:
        """The new document (if still at `version`) and the pointers that changed, in one transaction."""
        old, new = set(_scopes(previous)), set(_scopes(workflow))
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(WorkflowItem(*_key(workflow.id), doc=workflow.dump(), version=version + 1),
                        condition=WorkflowItem.version == version)
                for scope in sorted(old - new):
                    tx.delete(_pointer(scope, workflow.id))
                for scope in sorted(new - old):
                    tx.save(_pointer(scope, workflow.id))
        except TransactWriteError as exc:
            raise ConcurrentUpdate(str(exc)) from exc

    def delete(self, workflow: Workflow, version: int) -> None:
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(WorkflowItem(*_key(workflow.id)), condition=WorkflowItem.version == version)
                tx.delete(WorkflowIndexItem("WORKFLOWS", minute_key(workflow.id)))
                for scope in _scopes(workflow):
                    tx.delete(_pointer(scope, workflow.id))
        except TransactWriteError as exc:
            raise ConcurrentUpdate(str(exc)) from exc

    def count(self) -> int:
        return sum(1 for _ in WorkflowIndexItem.query("WORKFLOWS", consistent_read=True))

    def list(self) -> list[Workflow]:
        ids = [int(item.workflow_id) for item in WorkflowIndexItem.query("WORKFLOWS", consistent_read=True)]
        return self._load(ids)

    def active_on(self, event_type_id: int) -> list[Workflow]:
        """The workflows active on every event type or on this one (read by the workflows subscriber)."""
        scopes = ["all", _type_scope(event_type_id)]
        pages = gather([lambda scope=scope: list(WorkflowIndexItem.query(f"WORKFLOWSCOPE#{scope}",
                                                                         consistent_read=True))
                        for scope in scopes])
        return self._load(sorted({int(item.workflow_id) for page in pages for item in page}))

    def _load(self, ids: list[int]) -> list[Workflow]:
        found = [_from(item) for item in batch_get(_key(i) for i in ids) if isinstance(item, WorkflowItem)]
        return sorted(found, key=lambda workflow: workflow.id)
