"""The narrow interface every CRM destination implements, so a new CRM is one new file.

The sync engine (cdp.sync.engine) owns everything that is the same for every CRM: reading the
model, diffing against the sync state, consent and the suppression list, run logs, retries on
later runs. A destination only talks to its API: it makes sure the fields exist, sends one
batch of upserts, updates or deletes, and says, per record, whether the CRM confirmed it. It never
raises for a record the CRM refused: that record's result carries the reason. It raises
DestinationError only when nothing can be said about the batch (bad credentials, the API
unreachable after its retries); the engine then records the whole batch as failed and the
next run retries it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class DestinationError(RuntimeError):
    """The destination could not process a batch at all; the message says why."""


@dataclass(frozen=True)
class Record:
    """One row to send: its match key value and the mapped fields (CRM field name -> value)."""

    key: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class RecordResult:
    """What the destination said about one record. ok only when the CRM confirmed it.

    `missing` is send_updates' third outcome, neither success nor failure: the CRM holds no
    record with this key, so nothing was written (update_only never creates). ok is then
    False and error starts with NOT_IN_DESTINATION; the engine records the row as skipped
    `not_in_destination` instead of failed, so it is not retried until the row changes."""

    key: str
    ok: bool
    destination_id: str | None = None
    error: str | None = None
    created: bool | None = None
    missing: bool = False


#: the skip reason (and error prefix) of a record send_updates found absent from the CRM
NOT_IN_DESTINATION = "not_in_destination"


def not_in_destination(key: str) -> RecordResult:
    """The result of send_updates for a key the CRM does not hold."""
    return RecordResult(key=key, ok=False, missing=True,
                        error=f"{NOT_IN_DESTINATION}: the CRM holds no record with this key "
                              "(update_only never creates)")


class Destination(Protocol):
    """A CRM object type the syncs write to (HubSpot contacts, Salesforce Contact, ...)."""

    #: 'hubspot', 'salesforce', ...
    name: str
    #: the largest number of records send_upserts / send_updates / send_deletes accept in one call
    max_batch_size: int

    def ensure_fields(self, fields: Mapping[str, str]) -> None:
        """Create the custom fields the mapping needs that the CRM lacks (name -> cdp type:
        string, number, date, datetime, bool). Idempotent."""
        ...

    def send_upserts(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        """Create or update records matched on the CRM field `match_key`; one result per record."""
        ...

    def send_updates(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        """Update, never create, the records matched on the CRM field `match_key` (mode
        update_only); one result per record, in order. The destination first finds which
        keys the CRM holds (by the match key, never by ids remembered from earlier runs: records
        get merged and deleted in the CRM), then updates those. A key the CRM does not hold gets
        `not_in_destination(key)` (missing=True); a record the CRM refused gets ok=False with the
        reason; a record deleted between the lookup and the update is an ordinary failure (the
        next run looks it up again). Same retries, pacing and isolation of bad records as
        send_upserts."""
        ...

    def send_deletes(self, match_key: str, keys: Sequence[str]) -> list[RecordResult]:
        """Permanently delete the records whose `match_key` is one of `keys` (privacy requests);
        a record the CRM does not hold counts as deleted (ok)."""
        ...
