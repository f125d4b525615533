"""Salesforce destination: upserts by external id through Bulk API 2.0 (or, for small batches,
the REST sObject Collections upsert), privacy deletes, a describe check of the fields.

Talks to Salesforce only through `simple-salesforce` built from an access token:
`Salesforce(instance_url=..., session_id=..., session=<requests.Session, verify=CA bundle>)`.

Configuration (environment, see `SalesforceSettings.from_env`):

| variable | meaning |
| --- | --- |
| `SALESFORCE_INSTANCE_URL` | `https://<your domain>.my.salesforce.com` (required) |
| `SALESFORCE_ACCESS_TOKEN` | OAuth access token (required; a secret, never in a file) |
| `SALESFORCE_CA_BUNDLE` | PEM file of CAs to trust, for private endpoints [system CAs] |
| `SALESFORCE_API_VERSION` | REST API version [62.0] |
| `SALESFORCE_OBJECT` | sObject type [Contact] |
| `SALESFORCE_EXTERNAL_ID_FIELD` | external id field the upserts match on [CDP_Customer_Id__c] |
| `SALESFORCE_DELETE_OPERATION` | `hardDelete` (skips the recycle bin; needs the "Bulk API Hard |
|   | Delete" permission) or `delete` (recycle bin, purged after 15 days) [hardDelete] |

Decisions:

- Nulls never overwrite unless the mapping says so. The engine leaves a null out of
  Record.fields unless its field mapping has `send_nulls: true`; so a field absent from a record
  (and an empty string, which Salesforce would store as null) is left as Salesforce holds it:
  an empty CSV cell in Bulk API 2.0, no key in a REST record. A field present with the value
  None is cleared: `#N/A` in the CSV, JSON null in REST.
- max_batch_size 10,000: Salesforce splits a Bulk 2.0 job into internal batches of 10,000
  records, so one engine batch is one job and one internal batch (the 15,000 batches per 24 h
  limit then allows 150M records, the records limit); the CSV stays a few MB (limit 150 MB)
  and the results of one job join in memory. Batches under `rest_threshold` (2,000) go through
  sObject Collections (200 records a request, synchronous, no job to poll).
- Results are joined back by external id (result order is not guaranteed): a record is ok only
  when it appears in successfulResults alone; failedResults give `sf__Error`; unprocessed
  records and records missing from every result set fail with the reason. A Failed or Aborted
  job fails every record with the job's errorMessage; it is not an exception.
- Deletes look the Ids up by external id with SOQL, then run a Bulk 2.0 delete job on them. A key
  Salesforce does not hold (or an Id already deleted) counts as deleted.
- update_only (send_updates) looks the Ids up the same way (SOQL by external id, never the ids
  the sync state remembers), then updates those records by Id: a Bulk 2.0 `update` job (Id
  column plus the fields) from `rest_threshold` records, sObject Collections PATCH
  `composite/sobjects` (200 a request) below. A key Salesforce does not hold is reported
  missing (not_in_destination) and never created; a key held by several records (an external
  id not marked unique) fails without an update; a record deleted between the lookup and the
  update fails, and the next run looks it up again.
- Custom fields are metadata (Setup or the Metadata API), not data: `ensure_fields` never
  creates them; it checks them with describe and raises ConfigError naming what is missing.
- 401 INVALID_SESSION_ID -> DestinationError (renew SALESFORCE_ACCESS_TOKEN). 5xx and
  connection errors are retried with exponential backoff, then DestinationError. A retried job
  creation can leave an empty Open job behind; Salesforce deletes it after 7 days.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import call_salesforce

from cdp.sync.destinations.base import DestinationError, Record, RecordResult, not_in_destination
from cdp.warehouse import ConfigError

T = TypeVar("T")

DEFAULT_API_VERSION = "62.0"
DEFAULT_OBJECT = "Contact"
DEFAULT_EXTERNAL_ID_FIELD = "CDP_Customer_Id__c"
CLEAR_MARKER = "#N/A"
TERMINAL_STATES = ("JobComplete", "Failed", "Aborted")
COLLECTION_LIMIT = 200
#: deleted or never there: the record is gone either way
GONE_ERRORS = ("ENTITY_IS_DELETED",)
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: crm_salesforce_contacts column -> Contact field (also in the model's yml meta.salesforce_field)
CONTACT_FIELD_MAP: dict[str, str] = {
    "cdp_customer_id": "CDP_Customer_Id__c",
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "cdp_order_count": "CDP_Order_Count__c",
    "cdp_total_revenue": "CDP_Total_Revenue__c",
    "cdp_last_order_date": "CDP_Last_Order_Date__c",
    "cdp_first_seen_date": "CDP_First_Seen_Date__c",
    "cdp_lifecycle_stage": "CDP_Lifecycle_Stage__c",
}

#: cdp field type -> Salesforce describe types that hold it
COMPATIBLE_TYPES: dict[str, set[str]] = {
    "string": {"string", "textarea", "email", "phone", "url", "picklist", "combobox", "id", "reference"},
    "number": {"double", "currency", "percent", "int", "long"},
    "date": {"date"},
    "datetime": {"datetime"},
    "bool": {"boolean"},
}


@dataclass(frozen=True)
class SalesforceSettings:
    instance_url: str
    access_token: str
    ca_bundle: str | None = None
    api_version: str = DEFAULT_API_VERSION
    object_type: str = DEFAULT_OBJECT
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD
    delete_operation: str = "hardDelete"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SalesforceSettings:
        def required(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise ConfigError(f"environment: {name} is not set; the Salesforce sync needs it")
            return value

        return cls(
            instance_url=required("SALESFORCE_INSTANCE_URL"),
            access_token=required("SALESFORCE_ACCESS_TOKEN"),
            ca_bundle=environ.get("SALESFORCE_CA_BUNDLE", "").strip() or None,
            api_version=environ.get("SALESFORCE_API_VERSION", "").strip() or DEFAULT_API_VERSION,
            object_type=environ.get("SALESFORCE_OBJECT", "").strip() or DEFAULT_OBJECT,
            external_id_field=environ.get("SALESFORCE_EXTERNAL_ID_FIELD", "").strip() or DEFAULT_EXTERNAL_ID_FIELD,
            delete_operation=environ.get("SALESFORCE_DELETE_OPERATION", "").strip() or "hardDelete",
        )

    def validate(self) -> None:
        url = urlparse(self.instance_url)
        if url.scheme != "https" or not url.hostname:
            raise ConfigError(
                f"SALESFORCE_INSTANCE_URL={self.instance_url!r}: expected https://<host>[:port] "
                "(simple-salesforce always speaks https)"
            )
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise ConfigError(f"SALESFORCE_CA_BUNDLE={self.ca_bundle!r}: no such file")
        if not re.fullmatch(r"\d+\.\d", self.api_version):
            raise ConfigError(f"SALESFORCE_API_VERSION={self.api_version!r}: expected a version such as 62.0")
        for name, value in (("SALESFORCE_OBJECT", self.object_type),
                            ("SALESFORCE_EXTERNAL_ID_FIELD", self.external_id_field)):
            if not IDENTIFIER.match(value):
                raise ConfigError(f"{name}={value!r}: not a Salesforce API name")
        if self.delete_operation not in ("delete", "hardDelete"):
            raise ConfigError(
                f"SALESFORCE_DELETE_OPERATION={self.delete_operation!r}: choose hardDelete or delete"
            )


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout on every request (requests has none), and whose
    `verify` wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: requests lets those environment
    variables override a session's verify, which would silently drop SALESFORCE_CA_BUNDLE."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


class SalesforceDestination:
    """One sObject type (Contact by default) of one Salesforce org."""

    name = "salesforce"
    max_batch_size = 10_000

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        rest_threshold: int = 2_000,
        poll_interval: float = 0.5,
        max_poll_interval: float = 10.0,
        job_timeout: float = 1_800.0,
        retries: int = 4,
        retry_backoff: float = 1.0,
        request_timeout: float = 120.0,
    ) -> None:
        settings.validate()
        self.settings = settings
        self.object_type = settings.object_type
        self.rest_threshold = rest_threshold
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.job_timeout = job_timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        session = _TimeoutSession(request_timeout)
        if settings.ca_bundle:
            session.verify = settings.ca_bundle
        self.sf = Salesforce(instance_url=settings.instance_url, session_id=settings.access_token,
                             version=settings.api_version, session=session)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> SalesforceDestination:
        return cls(SalesforceSettings.from_env(os.environ if environ is None else environ), **options)

    # fields -------------------------------------------------------------------------------

    def ensure_fields(self, fields: Mapping[str, str]) -> None:
        """Check (never create: Salesforce fields are metadata, created in Setup) that every
        mapped field exists, is writable and can hold its cdp type, and that the external id
        field is one. Raises ConfigError naming every problem."""
        describe = self._call("describe", lambda: getattr(self.sf, self.object_type).describe())
        known = {f["name"].lower(): f for f in describe.get("fields", [])}
        missing, problems = [], []
        for name, cdp_type in fields.items():
            described = known.get(name.lower())
            if described is None:
                missing.append(f"{name} ({cdp_type})")
                continue
            if cdp_type not in COMPATIBLE_TYPES:
                problems.append(f"{name}: unknown cdp type {cdp_type!r} (one of {sorted(COMPATIBLE_TYPES)})")
            elif described.get("type") not in COMPATIBLE_TYPES[cdp_type]:
                problems.append(f"{name} is a Salesforce {described.get('type')} field, cannot hold a {cdp_type}")
            if not (described.get("createable") and described.get("updateable")):
                problems.append(f"{name} is not writable by this user (createable and updateable)")
        external = known.get(self.settings.external_id_field.lower())
        if external is None:
            missing.append(f"{self.settings.external_id_field} (string, External ID, Unique)")
        elif not external.get("externalId"):
            problems.append(f"{self.settings.external_id_field} is not marked External ID")
        if missing:
            problems.insert(0, "missing fields " + ", ".join(missing)
                            + ": create them in Setup > Object Manager (custom fields are metadata; "
                              "the sync does not create them)")
        if problems:
            raise ConfigError(
                f"Salesforce {self.object_type} at {self.settings.instance_url}: " + "; ".join(problems)
            )

    # upserts ------------------------------------------------------------------------------

    def _unique(self, match_key: str, records: Sequence[Record]
                ) -> tuple[dict[int, RecordResult], dict[str, int], list[Record]]:
        """(results of the records not sent: empty or repeated keys, index of each key's first
        record, the records to send)."""
        self._check_name(match_key)
        if len(records) > self.max_batch_size:
            raise DestinationError(f"{len(records)} records in one batch; the limit is {self.max_batch_size}")
        results: dict[int, RecordResult] = {}
        first_index: dict[str, int] = {}
        to_send: list[Record] = []
        for index, record in enumerate(records):
            if not record.key:
                results[index] = RecordResult(key=record.key, ok=False, error=f"empty {match_key}: not sent")
            elif record.key in first_index:
                results[index] = RecordResult(key=record.key, ok=False,
                                              error=f"duplicate {match_key} in the batch: not sent")
            else:
                first_index[record.key] = index
                to_send.append(record)
        return results, first_index, to_send

    def send_upserts(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        results, first_index, to_send = self._unique(match_key, records)
        if to_send:
            if len(to_send) < self.rest_threshold:
                by_key = self._collection_upsert(match_key, to_send)
            else:
                by_key = self._bulk_upsert(match_key, to_send)
            for key, index in first_index.items():
                results[index] = by_key[key]
        return [results[index] for index in range(len(records))]

    def _collection_upsert(self, match_key: str, records: Sequence[Record]) -> dict[str, RecordResult]:
        path = f"composite/sobjects/{self.object_type}/{match_key}"
        results: dict[str, RecordResult] = {}
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start:start + COLLECTION_LIMIT]
            body = {"allOrNone": False, "records": [self._json_record(match_key, r) for r in chunk]}
            answer = self._call(
                "sObject Collections upsert",
                lambda body=body: self.sf.restful(path, method="PATCH", data=json.dumps(body)),
            )
            answers = answer if isinstance(answer, list) else []
            for position, record in enumerate(chunk):
                item = answers[position] if position < len(answers) else None
                if item is None:
                    results[record.key] = RecordResult(record.key, ok=False, error="no result from Salesforce")
                elif item.get("success"):
                    results[record.key] = RecordResult(record.key, ok=True, destination_id=item.get("id"),
                                                       created=bool(item.get("created")))
                else:
                    errors = "; ".join(
                        f"{e.get('statusCode')}:{e.get('message')}:{','.join(e.get('fields') or [])}"
                        for e in item.get("errors") or []
                    ) or "failed without an error message"
                    results[record.key] = RecordResult(record.key, ok=False, error=errors,
                                                       destination_id=item.get("id"))
        return results

    def _bulk_upsert(self, match_key: str, records: Sequence[Record]) -> dict[str, RecordResult]:
        columns = [match_key]
        seen = {match_key.lower()}
        for record in records:
            for name in record.fields:
                if name.lower() not in seen:
                    self._check_name(name)
                    seen.add(name.lower())
                    columns.append(name)
        rows = [[record.key] + [_csv_value(record.fields, name) for name in columns[1:]] for record in records]
        job = {"object": self.object_type, "operation": "upsert", "externalIdFieldName": match_key,
               "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}
        outcome = self._run_job(job, columns, rows)
        keys = [record.key for record in records]
        if isinstance(outcome, str):
            return {key: RecordResult(key, ok=False, error=outcome) for key in keys}
        return _join_results(keys, match_key, *outcome)

    # updates (update_only) ----------------------------------------------------------------

    def send_updates(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        results, first_index, to_send = self._unique(match_key, records)
        if to_send:
            ids_by_key = self._lookup_ids(match_key, [r.key for r in to_send])
            folded: dict[str, list[str]] = {}  # external ids match case-insensitively unless marked otherwise
            for value, ids in ids_by_key.items():
                folded.setdefault(value.lower(), []).extend(ids)
            by_key: dict[str, RecordResult] = {}
            held: list[tuple[Record, str]] = []
            for record in to_send:
                ids = ids_by_key.get(record.key) or folded.get(record.key.lower(), [])
                if not ids:
                    by_key[record.key] = not_in_destination(record.key)
                elif len(ids) > 1:
                    by_key[record.key] = RecordResult(
                        record.key, ok=False,
                        error=f"DUPLICATE_EXTERNAL_ID: {len(ids)} records hold {match_key}={record.key}: not updated")
                else:
                    held.append((record, ids[0]))
            if held:
                by_id = (self._collection_update(match_key, held) if len(held) < self.rest_threshold
                         else self._bulk_update(match_key, held))
                for record, record_id in held:
                    by_key[record.key] = replace(by_id[record_id], key=record.key)
            for key, index in first_index.items():
                results[index] = by_key[key]
        return [results[index] for index in range(len(records))]

    def _collection_update(self, match_key: str, held: Sequence[tuple[Record, str]]) -> dict[str, RecordResult]:
        """Update by Id through sObject Collections; results by Id."""
        results: dict[str, RecordResult] = {}
        for start in range(0, len(held), COLLECTION_LIMIT):
            chunk = held[start:start + COLLECTION_LIMIT]
            rows = []
            for record, record_id in chunk:
                row = self._json_record(match_key, record)
                del row[match_key]
                row["Id"] = record_id
                rows.append(row)
            body = {"allOrNone": False, "records": rows}
            answer = self._call(
                "sObject Collections update",
                lambda body=body: self.sf.restful("composite/sobjects", method="PATCH", data=json.dumps(body)),
            )
            answers = answer if isinstance(answer, list) else []
            for position, (_, record_id) in enumerate(chunk):
                item = answers[position] if position < len(answers) else None
                if item is None:
                    results[record_id] = RecordResult(record_id, ok=False, destination_id=record_id,
                                                      error="no result from Salesforce")
                elif item.get("success"):
                    results[record_id] = RecordResult(record_id, ok=True, destination_id=record_id, created=False)
                else:
                    errors = "; ".join(
                        f"{e.get('statusCode')}:{e.get('message')}:{','.join(e.get('fields') or [])}"
                        for e in item.get("errors") or []
                    ) or "failed without an error message"
                    results[record_id] = RecordResult(record_id, ok=False, destination_id=record_id, error=errors)
        return results

    def _bulk_update(self, match_key: str, held: Sequence[tuple[Record, str]]) -> dict[str, RecordResult]:
        """Update by Id through a Bulk 2.0 update job; results by Id."""
        columns = ["Id"]
        seen = {"id", match_key.lower()}
        for record, _ in held:
            for name in record.fields:
                if name.lower() not in seen:
                    self._check_name(name)
                    seen.add(name.lower())
                    columns.append(name)
        rows = [[record_id] + [_csv_value(record.fields, name) for name in columns[1:]] for record, record_id in held]
        job = {"object": self.object_type, "operation": "update", "contentType": "CSV", "lineEnding": "LF",
               "columnDelimiter": "COMMA"}
        outcome = self._run_job(job, columns, rows)
        ids = [record_id for _, record_id in held]
        if isinstance(outcome, str):
            return {i: RecordResult(i, ok=False, destination_id=i, error=outcome) for i in ids}
        joined = _join_results(ids, "Id", *outcome)
        return {i: replace(r, destination_id=r.destination_id or i, created=False if r.ok else None)
                for i, r in joined.items()}

    # deletes ------------------------------------------------------------------------------

    def send_deletes(self, match_key: str, keys: Sequence[str]) -> list[RecordResult]:
        self._check_name(match_key)
        if len(keys) > self.max_batch_size:
            raise DestinationError(f"{len(keys)} keys in one batch; the limit is {self.max_batch_size}")
        wanted = list(dict.fromkeys(k for k in keys if k))
        ids_by_key = self._lookup_ids(match_key, wanted)
        id_rows = [[record_id] for key in wanted for record_id in ids_by_key.get(key, [])]
        by_id: dict[str, RecordResult] = {}
        if id_rows:
            job = {"object": self.object_type, "operation": self.settings.delete_operation,
                   "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}
            outcome = self._run_job(job, ["Id"], id_rows)
            ids = [row[0] for row in id_rows]
            by_id = ({i: RecordResult(i, ok=False, error=outcome) for i in ids} if isinstance(outcome, str)
                     else _join_results(ids, "Id", *outcome))
        results = []
        for key in keys:
            if not key:
                results.append(RecordResult(key, ok=False, error=f"empty {match_key}: nothing to delete"))
                continue
            ids = ids_by_key.get(key, [])
            failures = [by_id[i] for i in ids if not by_id[i].ok
                        and not (by_id[i].error or "").startswith(GONE_ERRORS)]
            if failures:
                results.append(RecordResult(key, ok=False, destination_id=failures[0].key,
                                            error="; ".join(f"{f.key}: {f.error}" for f in failures)))
            else:
                results.append(RecordResult(key, ok=True, destination_id=ids[0] if ids else None))
        return results

    def _lookup_ids(self, match_key: str, keys: Sequence[str]) -> dict[str, list[str]]:
        """Salesforce Ids per external id, by SOQL IN lists short enough for a GET URL."""
        found: dict[str, list[str]] = {}
        for chunk in _soql_chunks(keys):
            soql = (f"SELECT Id, {match_key} FROM {self.object_type} WHERE {match_key} IN ("
                    + ", ".join(_soql_string(k) for k in chunk) + ")")
            answer = self._call("SOQL query", lambda soql=soql: self.sf.query_all(soql))
            for row in answer.get("records", []):
                value = next((v for k, v in row.items() if k.lower() == match_key.lower()), None)
                if value is not None:
                    found.setdefault(value, []).append(row["Id"])
        return found

    # Bulk API 2.0 -------------------------------------------------------------------------

    def _run_job(self, job: dict[str, Any], columns: list[str],
                 rows: list[list[str]]) -> str | tuple[str, str, str, str]:
        """Create, upload, close and wait. Returns the three result CSVs (successful, failed,
        unprocessed) and the job id, or the reason every record failed (a Failed or Aborted job)."""
        created = self._call("create job", lambda: self._bulk("POST", "", data=json.dumps(job)).json())
        job_id = created["id"]
        try:
            data = _to_csv(columns, rows)
            self._call("upload job data", lambda: self._bulk("PUT", f"/{job_id}/batches", data=data.encode("utf-8"),
                                                              content_type="text/csv"))
            self._close(job_id)
        except DestinationError:
            self._abort(job_id)
            raise
        info = self._wait(job_id)
        if info["state"] != "JobComplete":
            return (f"Salesforce job {job_id} ended {info['state']}: "
                    f"{info.get('errorMessage') or 'no error message'}")
        successful = self._call("read successfulResults", lambda: self._results(job_id, "successfulResults"))
        failed = self._call("read failedResults", lambda: self._results(job_id, "failedResults"))
        unprocessed = self._call("read unprocessed records", lambda: self._unprocessed(job_id))
        return successful, failed, unprocessed, job_id

    def _close(self, job_id: str) -> None:
        try:
            self._call("close job", lambda: self._bulk("PATCH", f"/{job_id}", data=json.dumps(
                {"state": "UploadComplete"})))
        except DestinationError:
            # the close may have landed before its answer was lost: then the job is past Open
            state = self._call("read job", lambda: self._bulk("GET", f"/{job_id}").json())["state"]
            if state == "Open":
                raise

    def _wait(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.job_timeout
        delay = self.poll_interval
        while True:
            info = self._call("poll job", lambda: self._bulk("GET", f"/{job_id}").json())
            if info.get("state") in TERMINAL_STATES:
                return info
            if time.monotonic() + delay > deadline:
                self._abort(job_id)
                raise DestinationError(
                    f"Salesforce job {job_id} still {info.get('state')} after {self.job_timeout:.0f} s: "
                    "aborted; the batch will be sent again"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, self.max_poll_interval)

    def _abort(self, job_id: str) -> None:
        # best effort: an Open job Salesforce never processes is harmless
        with contextlib.suppress(SalesforceError, requests.RequestException):
            self._bulk("PATCH", f"/{job_id}", data=json.dumps({"state": "Aborted"}))

    def _results(self, job_id: str, kind: str) -> str:
        return self._bulk("GET", f"/{job_id}/{kind}/", accept="text/csv").content.decode("utf-8-sig")

    def _unprocessed(self, job_id: str) -> str:
        try:
            return self._results(job_id, "unprocessedrecords")
        except SalesforceResourceNotFound:
            return self._results(job_id, "unprocessedRecords")

    def _bulk(self, method: str, path: str, *, data: str | bytes | None = None,
              content_type: str = "application/json", accept: str = "application/json") -> requests.Response:
        headers = {"Authorization": f"Bearer {self.sf.session_id}", "Content-Type": content_type, "Accept": accept}
        return call_salesforce(url=f"{self.sf.bulk2_url}ingest{path}", method=method, session=self.sf.session,
                               headers=headers, data=data)

    # plumbing -----------------------------------------------------------------------------

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run one API request: retry 5xx and connection errors with backoff, translate the rest."""
        attempt = 0
        while True:
            try:
                return request()
            except SalesforceExpiredSession as error:
                raise DestinationError(
                    f"Salesforce {what}: 401 INVALID_SESSION_ID, the access token is expired or invalid; "
                    f"renew SALESFORCE_ACCESS_TOKEN ({self.settings.instance_url})"
                ) from error
            except requests.exceptions.SSLError as error:
                raise DestinationError(
                    f"Salesforce {what}: TLS verification of {self.settings.instance_url} failed "
                    f"(SALESFORCE_CA_BUNDLE={self.settings.ca_bundle!r}): {error}"
                ) from error
            except (SalesforceGeneralError, requests.ConnectionError, requests.Timeout) as error:
                status = getattr(error, "status", None)
                retryable = status is None or status >= 500 or status == 429
                if not retryable or attempt >= self.retries:
                    detail = f"HTTP {status}: {error.content!r}" if status else str(error)
                    raise DestinationError(
                        f"Salesforce {what} failed after {attempt + 1} attempts: {detail}"
                    ) from error
            except SalesforceError as error:
                raise DestinationError(f"Salesforce {what}: HTTP {error.status}: {error.content!r}") from error
            time.sleep(self.retry_backoff * 2 ** attempt)
            attempt += 1

    def _check_name(self, name: str) -> None:
        if not IDENTIFIER.match(name):
            raise ConfigError(f"Salesforce {self.object_type}: {name!r} is not a field API name")

    def _json_record(self, match_key: str, record: Record) -> dict[str, Any]:
        body: dict[str, Any] = {"attributes": {"type": self.object_type}}
        for name, value in record.fields.items():
            if name.lower() == match_key.lower():
                continue
            if value is None:
                body[name] = None  # present and null: the mapping asks to clear the field
            elif (converted := _json_value(value)) is not None:
                body[name] = converted
        body[match_key] = record.key
        return body


def create(sync: Any, environ: Mapping[str, str] | None = None) -> SalesforceDestination:
    """Factory for the registry: the destination for one sync definition (syncs.yml), whose
    object_type and match_key field override SALESFORCE_OBJECT and SALESFORCE_EXTERNAL_ID_FIELD."""
    settings = SalesforceSettings.from_env(os.environ if environ is None else environ)
    object_type = getattr(sync, "object_type", None) or settings.object_type
    external_id = getattr(sync, "match_field", None) or settings.external_id_field
    return SalesforceDestination(replace(settings, object_type=object_type, external_id_field=external_id))


def _text(value: Any) -> str | None:
    """A value as Salesforce reads it in CSV; None for null (and empty strings, which it stores as null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    text = str(value).replace("\x00", "")
    return text or None


def _csv_value(fields: Mapping[str, Any], name: str) -> str:
    """A CSV cell: empty leaves the Salesforce value, #N/A clears it (a field present with None)."""
    if name not in fields:
        return ""
    value = fields[name]
    if value is None:
        return CLEAR_MARKER
    return _text(value) or ""


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    return _text(value)


def _to_csv(columns: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _read_csv(text: str) -> Iterator[dict[str, str]]:
    if text.strip():
        yield from csv.DictReader(io.StringIO(text, newline=""))


def _join_results(keys: Sequence[str], key_column: str, successful: str, failed: str, unprocessed: str,
                  job_id: str) -> dict[str, RecordResult]:
    """One result per key from the three result CSVs, matched on the key column, whatever their order."""
    def key_of(row: dict[str, str]) -> str | None:
        return next((v for k, v in row.items() if k is not None and k.lower() == key_column.lower()), None)

    wanted = set(keys)
    results: dict[str, RecordResult] = {}
    for row in _read_csv(successful):
        key = key_of(row)
        if key in wanted:
            results[key] = RecordResult(key, ok=True, destination_id=row.get("sf__Id") or None,
                                        created=(row.get("sf__Created") or "").lower() == "true")
    for row in _read_csv(failed):
        key = key_of(row)
        if key in wanted:
            results[key] = RecordResult(key, ok=False, destination_id=row.get("sf__Id") or None,
                                        error=row.get("sf__Error") or "failed without an error message")
    for row in _read_csv(unprocessed):
        key = key_of(row)
        if key in wanted:
            results[key] = RecordResult(key, ok=False, error=f"unprocessed: Salesforce job {job_id} did not "
                                                             "process this record; it will be sent again")
    for key in keys:
        results.setdefault(key, RecordResult(key, ok=False, error=f"no result: Salesforce job {job_id} "
                                                                  "reported nothing for this record"))
    return results


def _soql_string(value: str) -> str:
    escaped = (value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f"'{escaped}'"


def _soql_chunks(keys: Sequence[str], max_keys: int = 200, max_chars: int = 8_000) -> Iterator[list[str]]:
    """IN lists that keep the query URL well under Salesforce's 16,384-character URI limit."""
    chunk: list[str] = []
    size = 0
    for key in keys:
        length = len(_soql_string(key).encode("utf-8")) * 3 + 2  # percent-encoded worst case
        if chunk and (len(chunk) >= max_keys or size + length > max_chars):
            yield chunk
            chunk, size = [], 0
        chunk.append(key)
        size += length
    if chunk:
        yield chunk
