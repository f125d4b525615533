"""HubSpot contacts through the official client (hubspot-api-client).

Batch upserts (at most 100 inputs) by email or a unique custom property; missing custom
properties created first; 207 partial results read input by input; a batch refused as a whole
without per-input errors is split in halves until the bad input stands alone; a client-side
limiter paces requests under the rolling ten-second window (its size read from the
X-HubSpot-RateLimit-* headers); 429, 5xx, timeouts and connection resets retried with backoff;
privacy deletions through the GDPR delete endpoint (404 = already gone = ok).

update_only (send_updates): per batch of at most 100, one batch/read by the match key
(`idProperty`) finds which contacts exist (missing ones come back as OBJECT_NOT_FOUND errors
in a 207, or simply absent), then one batch/update by HubSpot id updates those; a key HubSpot
does not hold is reported missing (not_in_destination) and nothing is created. The ids the
sync state remembers are not used: contacts get merged and deleted in HubSpot, the match key
is the truth, at the cost of one read request per batch. Both requests get the same pacing,
retries, 207 reading and splitting as upserts.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdp.sync.destinations.base import DestinationError, Record, RecordResult, not_in_destination
from cdp.warehouse import ConfigError

DEFAULT_API_BASE = "https://api.hubapi.com"
MAX_BATCH = 100

PROPERTY_TYPES = {
    "string": ("string", "text"),
    "number": ("number", "number"),
    "date": ("date", "date"),
    "datetime": ("datetime", "date"),
    "bool": ("bool", "booleancheckbox"),
}


class _Transient(Exception):
    """A failure worth retrying: 5xx, timeout, reset."""


class _RateLimited(Exception):
    def __init__(self, daily: bool) -> None:
        super().__init__("429 rate limited")
        self.daily = daily


class _Refused(Exception):
    """A 4xx answer: the request as sent will not succeed."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('category', '')}: {body.get('message', '')}")
        self.status = status
        self.body = body


@dataclass
class RateLimiter:
    """Paces requests evenly at `share` of max per interval, and never lets more than max start
    in any rolling interval (plus a margin for clock and network skew)."""

    max_requests: int = 100
    interval: float = 10.0
    share: float = 0.99
    margin: float = 0.05
    cap: int | None = None
    _sent: collections.deque = field(default_factory=collections.deque)
    _next: float = 0.0
    _pause_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def effective_max(self) -> int:
        return min(self.max_requests, self.cap) if self.cap else self.max_requests

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                limit = self.effective_max()
                window = self.interval + self.margin
                while self._sent and self._sent[0] <= now - window:
                    self._sent.popleft()
                wait = max(self._next - now, self._pause_until - now, 0.0)
                if len(self._sent) >= limit:
                    wait = max(wait, self._sent[0] + window - now)
                if wait <= 0:
                    self._sent.append(now)
                    self._next = now + self.interval / (limit * self.share)
                    return
            time.sleep(min(wait, 1.0))

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Adopt the server's window from its headers; pause a step when it says none remain."""
        if not headers:
            return
        lowered = {k.lower(): v for k, v in dict(headers).items()}
        try:
            max_requests = int(lowered["x-hubspot-ratelimit-max"])
            interval = int(lowered["x-hubspot-ratelimit-interval-milliseconds"]) / 1000.0
            remaining = int(lowered.get("x-hubspot-ratelimit-remaining", "1"))
        except (KeyError, ValueError):
            return
        with self._lock:
            if max_requests > 0 and interval > 0:
                self.max_requests, self.interval = max_requests, interval
            if remaining <= 0:
                step = self.interval / max(self.effective_max(), 1)
                self._pause_until = max(self._pause_until, time.monotonic() + step)

    def back_off(self, attempt: int) -> float:
        """After a 429: pause everyone, growing with the attempt but never past one window."""
        pause = min(self.interval, (self.interval / 10.0) * (2 ** attempt)) * random.uniform(0.8, 1.0)
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + pause)
        return pause


@dataclass
class HubSpotSettings:
    access_token: str
    api_base: str = DEFAULT_API_BASE
    timeout: float = 30.0
    max_attempts: int = 5          # for 5xx, timeouts and resets
    max_rate_limited: int = 30     # 429 answers tolerated for one request
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    rate_limit_max: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubSpotSettings:
        env = os.environ if environ is None else environ
        token = env.get("HUBSPOT_ACCESS_TOKEN", "").strip()
        if not token:
            raise ConfigError("environment: HUBSPOT_ACCESS_TOKEN is not set (the HubSpot private app token)")
        settings = cls(access_token=token, api_base=env.get("HUBSPOT_API_BASE", DEFAULT_API_BASE).rstrip("/"))
        for name, attr, kind in (("HUBSPOT_TIMEOUT_SECONDS", "timeout", float),
                                 ("HUBSPOT_MAX_ATTEMPTS", "max_attempts", int),
                                 ("HUBSPOT_RATE_LIMIT_MAX", "rate_limit_max", int)):
            if env.get(name):
                try:
                    setattr(settings, attr, kind(env[name]))
                except ValueError:
                    raise ConfigError(f"environment: {name}={env[name]!r} is not a {kind.__name__}") from None
        return settings


class HubSpotContacts:
    """Destination: HubSpot contacts."""

    name = "hubspot"
    max_batch_size = MAX_BATCH

    def __init__(self, settings: HubSpotSettings, unique_properties: Sequence[str] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from hubspot import HubSpot
        from urllib3.util.retry import Retry

        self.settings = settings
        self.unique_properties = set(unique_properties)
        self.limiter = RateLimiter(cap=settings.rate_limit_max)
        if settings.rate_limit_max:
            self.limiter.max_requests = settings.rate_limit_max
        self._sleep = sleep
        # retries are ours (429 pacing, backoff); the client's pool must not retry POSTs on its own
        client = HubSpot(access_token=settings.access_token, host=settings.api_base,
                         retry=Retry(total=0, raise_on_status=False))
        self._batch = client.crm.contacts.batch_api
        self._basic = client.crm.contacts.basic_api
        self._properties = client.crm.properties.core_api
        self.requests = 0
        self.error_responses = 0
        self._stats_lock = threading.Lock()

    # -- fields ----------------------------------------------------------------------------
    def ensure_fields(self, fields: Mapping[str, str]) -> None:
        existing = {p["name"] for p in self._call(lambda kw: self._properties.get_all("contacts", **kw))["results"]}
        for name, cdp_type in fields.items():
            if name in existing:
                continue
            if cdp_type not in PROPERTY_TYPES:
                raise ConfigError(f"HubSpot property {name}: type {cdp_type!r} is not one of {sorted(PROPERTY_TYPES)}")
            hs_type, field_type = PROPERTY_TYPES[cdp_type]
            body: dict[str, Any] = {"name": name, "label": name.replace("_", " ").title(), "type": hs_type,
                                    "fieldType": field_type, "groupName": "contactinformation"}
            if cdp_type == "bool":
                body["options"] = [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]
            if name in self.unique_properties:
                body["hasUniqueValue"] = True
            try:
                self._call(lambda kw, body=body: self._properties.create("contacts", body, **kw))
            except _Refused as exc:
                if exc.status != 409:  # 409: it exists already, fine
                    raise DestinationError(f"HubSpot: creating property {name} failed: {exc}") from None

    # -- upserts ---------------------------------------------------------------------------
    def send_upserts(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start in range(0, len(records), MAX_BATCH):
            results.extend(self._upsert_isolating(match_key, list(records[start:start + MAX_BATCH])))
        return results

    def _upsert_isolating(self, match_key: str, records: list[Record]) -> list[RecordResult]:
        inputs = [{"idProperty": match_key, "id": r.key, "properties": _properties(r.fields)} for r in records]
        try:
            body = self._call(lambda kw: self._batch.upsert({"inputs": inputs}, **kw))
        except _Refused as exc:
            if exc.status == 401 or exc.status == 403:
                raise DestinationError(
                    f"HubSpot refused the credentials ({exc.status}): check HUBSPOT_ACCESS_TOKEN") from None
            whole_batch_fault = exc.body.get("subCategory") == "PROPERTY_DOESNT_EXIST"
            if len(records) > 1 and not whole_batch_fault:
                half = len(records) // 2
                return (self._upsert_isolating(match_key, records[:half])
                        + self._upsert_isolating(match_key, records[half:]))
            return [RecordResult(key=r.key, ok=False, error=str(exc)) for r in records]
        return _read_batch_results(match_key, records, body)

    # -- updates (update_only) -------------------------------------------------------------
    def send_updates(self, match_key: str, records: Sequence[Record]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start in range(0, len(records), MAX_BATCH):
            chunk = list(records[start:start + MAX_BATCH])
            found, failed = self._read_isolating(match_key, chunk)
            by_key: dict[str, RecordResult] = {}
            held: list[tuple[Record, str]] = []
            for record in chunk:
                key = _norm(match_key, record.key)
                if key in failed:
                    by_key[record.key] = RecordResult(key=record.key, ok=False, error=f"lookup: {failed[key]}")
                elif key in found:
                    held.append((record, found[key]))
                else:
                    by_key[record.key] = not_in_destination(record.key)
            if held:
                for result in self._update_isolating(held):
                    by_key[result.key] = result
            results.extend(by_key[record.key] for record in chunk)
        return results

    def _read_isolating(self, match_key: str, records: list[Record]) -> tuple[dict[str, str], dict[str, str]]:
        """(HubSpot id by normalised key of the contacts HubSpot holds, error by key of the lookups
        that failed). A key in neither is not in HubSpot."""
        body: dict[str, Any] = {"properties": [match_key], "propertiesWithHistory": [],
                                "inputs": [{"id": r.key} for r in records]}
        if match_key != "hs_object_id":
            body["idProperty"] = match_key
        try:
            answer = self._call(lambda kw: self._batch.read(body, archived=False, **kw))
        except _Refused as exc:
            if exc.status in (401, 403):
                raise DestinationError(
                    f"HubSpot refused the credentials ({exc.status}): check HUBSPOT_ACCESS_TOKEN") from None
            if len(records) > 1 and exc.body.get("subCategory") != "PROPERTY_DOESNT_EXIST":
                half = len(records) // 2
                found, failed = self._read_isolating(match_key, records[:half])
                more_found, more_failed = self._read_isolating(match_key, records[half:])
                return {**found, **more_found}, {**failed, **more_failed}
            return {}, {_norm(match_key, r.key): str(exc) for r in records}
        found: dict[str, str] = {}
        for result in answer.get("results", []) or []:
            props = result.get("properties") or {}
            value = str(result.get("id")) if match_key == "hs_object_id" else props.get(match_key)
            if value is not None and result.get("id") is not None:
                found[_norm(match_key, value)] = str(result["id"])
        failed: dict[str, str] = {}
        unattributed: list[str] = []
        for error in answer.get("errors", []) or []:
            if error.get("category") == "OBJECT_NOT_FOUND":
                continue  # the keys it names are not in HubSpot: absent from `found`
            message = f"{error.get('category', 'ERROR')}: {error.get('message', '')}".strip()
            ids = [str(i) for i in ((error.get("context") or {}).get("ids") or [])]
            if not ids:
                unattributed.append(message)
            for ident in ids:
                failed[_norm(match_key, ident)] = message
        if unattributed:  # an error naming no input: a key HubSpot did not return may exist or not
            for record in records:
                key = _norm(match_key, record.key)
                if key not in found:
                    failed.setdefault(key, "; ".join(unattributed))
        return found, failed

    def _update_isolating(self, held: list[tuple[Record, str]]) -> list[RecordResult]:
        inputs = [{"id": hs_id, "properties": _properties(r.fields)} for r, hs_id in held]
        try:
            body = self._call(lambda kw: self._batch.update({"inputs": inputs}, **kw))
        except _Refused as exc:
            if exc.status in (401, 403):
                raise DestinationError(
                    f"HubSpot refused the credentials ({exc.status}): check HUBSPOT_ACCESS_TOKEN") from None
            if len(held) > 1 and exc.body.get("subCategory") != "PROPERTY_DOESNT_EXIST":
                half = len(held) // 2
                return self._update_isolating(held[:half]) + self._update_isolating(held[half:])
            return [RecordResult(key=r.key, ok=False, destination_id=hs_id, error=str(exc)) for r, hs_id in held]
        confirmed = {str(result.get("id")) for result in body.get("results", []) or []}
        failed, unattributed = _batch_errors(body)
        out = []
        for record, hs_id in held:
            if hs_id in confirmed:
                out.append(RecordResult(key=record.key, ok=True, destination_id=hs_id, created=False))
            else:
                # deleted since the lookup, or refused: a failure, looked up again on the next run
                reason = failed.get(hs_id) or "; ".join(unattributed) or "HubSpot returned no result for this input"
                out.append(RecordResult(key=record.key, ok=False, destination_id=hs_id, error=reason))
        return out

    # -- deletes ---------------------------------------------------------------------------
    def send_deletes(self, match_key: str, keys: Sequence[str]) -> list[RecordResult]:
        results = []
        for key in keys:
            payload: dict[str, Any] = {"objectId": key}
            if match_key != "hs_object_id":
                payload["idProperty"] = match_key
            try:
                self._call(lambda kw, payload=payload: self._basic.purge(payload, **kw))
                results.append(RecordResult(key=key, ok=True))
            except _Refused as exc:
                if exc.status == 404:
                    results.append(RecordResult(key=key, ok=True, error="already gone (404)"))
                elif exc.status in (401, 403):
                    raise DestinationError(f"HubSpot refused the credentials ({exc.status})") from None
                else:
                    results.append(RecordResult(key=key, ok=False, error=str(exc)))
        return results

    def send_archives(self, destination_ids: Sequence[str]) -> list[RecordResult]:
        """Archive (not GDPR-delete) records by HubSpot id: the mirror mode's deletes."""
        results: list[RecordResult] = []
        for start in range(0, len(destination_ids), MAX_BATCH):
            chunk = list(destination_ids[start:start + MAX_BATCH])
            try:
                self._call(lambda kw, chunk=chunk: self._batch.archive({"inputs": [{"id": i} for i in chunk]}, **kw))
                results.extend(RecordResult(key=i, ok=True, destination_id=i) for i in chunk)
            except _Refused as exc:
                results.extend(RecordResult(key=i, ok=False, destination_id=i, error=str(exc)) for i in chunk)
        return results

    # -- one request with pacing and retries ------------------------------------------------
    def _call(self, request: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
        from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
        from urllib3.exceptions import HTTPError

        transient_failures = 0
        rate_limited = 0
        last_error = ""
        while True:
            self.limiter.acquire()
            kwargs = {"_preload_content": False, "_request_timeout": (self.settings.timeout, self.settings.timeout)}
            with self._stats_lock:
                self.requests += 1
            try:
                try:
                    response = request(kwargs)
                except (ContactsApiException, PropertiesApiException) as exc:
                    if exc.status == 0 or exc.status is None:
                        raise _Transient(str(exc.reason)) from None
                    self.limiter.observe(exc.headers)
                    body = _json(exc.body)
                    if exc.status == 429:
                        raise _RateLimited(daily=body.get("policyName") == "DAILY") from None
                    if exc.status >= 500:
                        raise _Transient(f"{exc.status}: {body.get('message', exc.reason)}") from None
                    raise _Refused(exc.status, body) from None
                except HTTPError as exc:  # timeouts, resets, refused connections
                    raise _Transient(f"{type(exc).__name__}: {exc}") from None
                self.limiter.observe(response.headers)
                return _json(response.data)
            except _RateLimited as exc:
                self._count_error()
                if exc.daily:
                    raise DestinationError("HubSpot: the daily request limit is reached; the run stops here") from None
                rate_limited += 1
                if rate_limited > self.settings.max_rate_limited:
                    raise DestinationError(f"HubSpot: still rate limited after {rate_limited} attempts") from None
                self.limiter.back_off(min(rate_limited - 1, 4))
            except _Transient as exc:
                self._count_error()
                transient_failures += 1
                last_error = str(exc)
                if transient_failures >= self.settings.max_attempts:
                    raise DestinationError(
                        f"HubSpot unreachable after {transient_failures} attempts: {last_error}") from None
                delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (transient_failures - 1))
                self._sleep(delay * random.uniform(0.5, 1.0))
            except _Refused:
                self._count_error()
                raise

    def _count_error(self) -> None:
        with self._stats_lock:
            self.error_responses += 1


def _json(data: Any) -> dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except (TypeError, ValueError):
        return {"message": str(data)[:500]}
    return value if isinstance(value, dict) else {"results": value}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _properties(fields: Mapping[str, Any]) -> dict[str, str]:
    """HubSpot takes property values as text; an empty string clears a property, so a null is
    sent only when the engine put it in the record (the mapping's send_nulls)."""
    return {name: ("" if value is None else _text(value)) for name, value in fields.items()}


def _norm(match_key: str, value: Any) -> str:
    text = "" if value is None else str(value)
    return text.lower() if match_key == "email" else text


def _read_batch_results(match_key: str, records: list[Record], body: dict[str, Any]) -> list[RecordResult]:
    """Map a 200/207 answer back onto its inputs: results by their match-key property, errors by
    the ids their context names."""
    confirmed: dict[str, dict[str, Any]] = {}
    for result in body.get("results", []) or []:
        props = result.get("properties") or {}
        confirmed[_norm(match_key, props.get(match_key))] = result
    failed, unattributed = _batch_errors(body, lambda ident: _norm(match_key, ident))
    out = []
    for record in records:
        key = _norm(match_key, record.key)
        if key in confirmed:
            result = confirmed[key]
            out.append(RecordResult(key=record.key, ok=True, destination_id=str(result.get("id")),
                                    created=bool(result.get("new"))))
        elif key in failed:
            out.append(RecordResult(key=record.key, ok=False, error=failed[key]))
        else:
            reason = "; ".join(unattributed) or "HubSpot returned no result for this input"
            out.append(RecordResult(key=record.key, ok=False, error=reason))
    return out


def create(sync: Any, environ: Mapping[str, str] | None = None) -> HubSpotContacts:
    """Factory for the registry: a HubSpot destination for one sync definition."""
    if getattr(sync, "object_type", "contacts") != "contacts":
        raise ConfigError(f"{sync.source}: sync {sync.name!r}: key 'object_type': value {sync.object_type!r} "
                          "is not supported by the HubSpot destination (contacts)")
    unique = [] if sync.match_field == "email" else [sync.match_field]
    return HubSpotContacts(HubSpotSettings.from_env(environ), unique_properties=unique)


def _batch_errors(body: dict[str, Any], key: Callable[[str], str] = str) -> tuple[dict[str, str], list[str]]:
    """The errors of a batch answer (200/207): message per id their context names (ids through
    `key`), and the messages that name no id."""
    failed: dict[str, str] = {}
    unattributed: list[str] = []
    for error in body.get("errors", []) or []:
        message = f"{error.get('category', 'ERROR')}: {error.get('message', '')}".strip()
        ids = [str(i) for i in ((error.get("context") or {}).get("ids") or [])]
        if not ids:
            unattributed.append(message)
        for ident in ids:
            failed[key(ident)] = message
    return failed, unattributed
