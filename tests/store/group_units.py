"""Driving the commit group by hand: units that join a batch without waiting for its COMMIT."""

from __future__ import annotations

from lockgate.store.sql.group_commit import CommitGroup, GroupUnitOfWork, _Batch


def join_without_waiting(group: CommitGroup, unit: GroupUnitOfWork) -> _Batch:
    """Inside `with unit`: add the unit to the open batch and return the batch, as a commit
    does, but without waiting for the batch to become durable."""
    batch = group.leave(joined=True)
    unit._open = False
    assert batch is not None
    return batch


def commit_batch(group: CommitGroup, batch: _Batch) -> None:
    """Let the committer commit `batch` (nobody is queued any more) and wait for it."""
    group._waiting = 0
    group.wait_durable(batch)
