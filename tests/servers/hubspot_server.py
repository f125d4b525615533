"""A local HubSpot CRM v3 server (contacts and their properties) for tests and benchmarks.

It enforces the contract in /work/shared/reference/crm-apis.md: bearer auth (401), at most 100
inputs per batch (400), unknown properties (400 VALIDATION_ERROR / PROPERTY_DOESNT_EXIST),
properties created through the properties API (409 when the name exists), a rolling rate-limit
window answering 429 with HubSpot's JSON body, X-HubSpot-RateLimit-* headers on every
response, 207 with per-input errors for invalid inputs (malformed email, an address blocked by
a GDPR delete), GDPR delete by email that blocks the address from being re-created, batch
read (by id or a unique `idProperty`; ids it does not hold come back in `errors` as
OBJECT_NOT_FOUND with a 207), batch update by HubSpot id (an unknown id is a per-input
OBJECT_NOT_FOUND error in a 207; it never creates) and batch archive. Contacts live in memory
(`server.contacts_by_email()`).

Fault injection (`server.faults`): 429 storms, 5xx bursts, slow responses, connection resets
(the socket closed without an answer), a poisoned value that fails its whole batch with a bare
400 (upserts and updates), and a hook called after every confirmed upsert batch (to SIGKILL a
sync process mid-run). Faults apply to every /crm/v3/objects/ request: reads and updates too.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_INPUTS = 100
DEFAULT_PROPERTIES = ("email", "firstname", "lastname", "phone", "hs_object_id", "createdate",
                      "lastmodifieddate", "lifecyclestage", "company")


@dataclass
class Faults:
    """Counters of faults still to inject; each request that takes one decrements it."""

    rate_limit_storm: int = 0          # next N requests answered 429 whatever the window says
    server_errors: int = 0             # next N requests answered 503
    slow: int = 0                      # next N requests processed, then answered after slow_seconds
    slow_seconds: float = 3.0
    resets: int = 0                    # next N requests: socket closed without an answer
    reset_after_processing: bool = True  # resets happen after the request took effect
    poison_value: str | None = None    # an upsert/update batch holding this value anywhere fails with 400
    on_upsert_batch: Callable[[int], None] | None = None  # called with the count of confirmed batches
    only_paths: tuple[str, ...] = ("/crm/v3/objects/",)   # faults apply to these path prefixes

    def take(self, name: str) -> bool:
        value = getattr(self, name)
        if value > 0:
            setattr(self, name, value - 1)
            return True
        return False


@dataclass
class Stats:
    requests: int = 0
    by_status: collections.Counter = field(default_factory=collections.Counter)
    upsert_inputs: int = 0
    upsert_batches_ok: int = 0
    read_inputs: int = 0
    update_inputs: int = 0
    resets: int = 0

    def errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 400) + self.resets


class HubSpotServer:
    def __init__(self, token: str = "test-token", rate_limit_max: int = 100, rate_limit_interval: float = 10.0,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.rate_limit_max = rate_limit_max
        self.rate_limit_interval = rate_limit_interval
        self.faults = Faults()
        self.stats = Stats()
        self.lock = threading.RLock()
        self.contacts: dict[str, dict[str, Any]] = {}
        self.properties: dict[str, dict[str, Any]] = {
            name: {"name": name, "label": name, "type": "string", "fieldType": "text",
                   "groupName": "contactinformation", "hasUniqueValue": name in ("email", "hs_object_id")}
            for name in DEFAULT_PROPERTIES
        }
        self.blocked_emails: set[str] = set()
        self.created_total = 0
        self._window: collections.deque[float] = collections.deque()
        self._next_id = 1001
        self._index: dict[tuple[str, str], str] = {}
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubSpotServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubSpotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection ------------------------------------------------------------------------
    def contacts_by_email(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {c["properties"]["email"]: dict(c["properties"]) for c in self.contacts.values()
                    if c["properties"].get("email")}

    def add_property(self, name: str, unique: bool = False) -> None:
        with self.lock:
            self.properties[name] = {"name": name, "label": name, "type": "string", "fieldType": "text",
                                     "groupName": "contactinformation", "hasUniqueValue": unique}

    # -- rate limit ------------------------------------------------------------------------
    def _admit(self) -> tuple[bool, int]:
        """Count the request in the rolling window; False when over the limit."""
        now = time.monotonic()
        with self.lock:
            while self._window and self._window[0] <= now - self.rate_limit_interval:
                self._window.popleft()
            if len(self._window) >= self.rate_limit_max:
                return False, 0
            self._window.append(now)
            return True, self.rate_limit_max - len(self._window)

    # -- operations ------------------------------------------------------------------------
    def _find(self, id_property: str, value: str) -> dict[str, Any] | None:
        if id_property == "hs_object_id":
            return self.contacts.get(str(value))
        if id_property == "email":
            value = value.lower()
        cid = self._index.get((id_property, value))
        return self.contacts.get(cid) if cid is not None else None

    def _reindex(self, contact: dict[str, Any]) -> None:
        for name, value in contact["properties"].items():
            if value and self.properties.get(name, {}).get("hasUniqueValue"):
                self._index[(name, value)] = contact["id"]

    def _remove(self, contact: dict[str, Any]) -> None:
        for name, value in contact["properties"].items():
            if self._index.get((name, value)) == contact["id"]:
                del self._index[(name, value)]
        del self.contacts[contact["id"]]

    def _refuse_batch(self, inputs: Any) -> tuple[int, dict[str, Any]] | None:
        """The 400 a batch endpoint answers for a missing, oversized or poisoned input list."""
        if not isinstance(inputs, list) or not inputs:
            return 400, _error("VALIDATION_ERROR", "inputs must be a non-empty list")
        if len(inputs) > MAX_INPUTS:
            return 400, _error("VALIDATION_ERROR", f"Batch input size {len(inputs)} exceeds the limit of {MAX_INPUTS}")
        poison = self.faults.poison_value
        if poison is not None and poison in json.dumps(inputs):
            return 400, _error("VALIDATION_ERROR", "Invalid input JSON on line 1")
        return None

    def batch_upsert(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        inputs = body.get("inputs")
        refusal = self._refuse_batch(inputs)
        if refusal is not None:
            return refusal
        seen: set[tuple[str, str]] = set()
        with self.lock:
            for item in inputs:
                id_property = item.get("idProperty", "email")
                prop = self.properties.get(id_property)
                if prop is None or not prop.get("hasUniqueValue"):
                    return 400, _error("VALIDATION_ERROR", f"{id_property} is not a unique property",
                                       subCategory="PROPERTY_DOESNT_EXIST" if prop is None else None)
                for name in (item.get("properties") or {}):
                    if name not in self.properties:
                        return 400, _error(
                            "VALIDATION_ERROR", f'Property "{name}" does not exist',
                            subCategory="PROPERTY_DOESNT_EXIST", context={"propertyName": [name]})
                key = (id_property, str(item.get("id", "")).lower() if id_property == "email" else str(item.get("id")))
                if key in seen:
                    return 400, _error("VALIDATION_ERROR", f"Duplicate IDs found in batch input: {key[1]}")
                seen.add(key)
            results: list[dict[str, Any]] = []
            errors: list[dict[str, Any]] = []
            now = _now()
            for item in inputs:
                id_property = item.get("idProperty", "email")
                raw_id = str(item.get("id", ""))
                ident = raw_id.lower() if id_property == "email" else raw_id
                props = {k: ("" if v is None else str(v)) for k, v in (item.get("properties") or {}).items()}
                email = ident if id_property == "email" else props.get("email", "").lower() or None
                if email is not None and not EMAIL.match(email):
                    errors.append(_error("VALIDATION_ERROR", f"Email address {email} is invalid",
                                         context={"ids": [raw_id]}))
                    continue
                if email is not None and email in self.blocked_emails:
                    errors.append(_error("VALIDATION_ERROR", f"{email} was permanently deleted (GDPR) and is blocked",
                                         context={"ids": [raw_id]}))
                    continue
                contact = self._find(id_property, ident)
                new = contact is None
                if new:
                    cid = str(self._next_id)
                    self._next_id += 1
                    contact = {"id": cid, "createdAt": now, "properties": {"hs_object_id": cid, "createdate": now}}
                    self.contacts[cid] = contact
                    self.created_total += 1
                if email is not None:
                    props["email"] = email
                props[id_property] = ident
                contact["properties"].update(props)
                contact["properties"]["lastmodifieddate"] = now
                contact["updatedAt"] = now
                self._reindex(contact)
                results.append({"id": contact["id"], "new": new, "properties": dict(contact["properties"]),
                                "createdAt": contact["createdAt"], "updatedAt": now})
            self.stats.upsert_inputs += len(inputs)
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            payload["errors"] = errors
            payload["numErrors"] = len(errors)
            return 207, payload
        return 200, payload

    def batch_read(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        id_property = body.get("idProperty") or "hs_object_id"
        inputs = body.get("inputs") or []
        if len(inputs) > MAX_INPUTS:
            return 400, _error("VALIDATION_ERROR", f"Batch input size {len(inputs)} exceeds the limit of {MAX_INPUTS}")
        prop = self.properties.get(id_property)
        if prop is None or not prop.get("hasUniqueValue"):
            return 400, _error("VALIDATION_ERROR", f"{id_property} is not a unique property",
                               subCategory="PROPERTY_DOESNT_EXIST" if prop is None else None)
        results, missing = [], []
        with self.lock:
            self.stats.read_inputs += len(inputs)
            for item in inputs:
                contact = self._find(id_property, str(item.get("id")))
                if contact is None:
                    missing.append(str(item.get("id")))
                else:
                    results.append({"id": contact["id"], "properties": dict(contact["properties"])})
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            payload["errors"] = [_error("OBJECT_NOT_FOUND", "Could not get some CONTACT objects",
                                        context={"ids": missing})]
            payload["numErrors"] = 1
            return 207, payload
        return 200, payload

    def batch_update(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Update contacts by HubSpot id; never creates. Unknown ids: 207 with OBJECT_NOT_FOUND."""
        inputs = body.get("inputs")
        refusal = self._refuse_batch(inputs)
        if refusal is not None:
            return refusal
        seen: set[str] = set()
        with self.lock:
            for item in inputs:
                if item.get("idProperty") not in (None, "hs_object_id"):
                    return 400, _error("VALIDATION_ERROR", "this server updates by HubSpot id only")
                ident = str(item.get("id", ""))
                if ident in seen:
                    return 400, _error("VALIDATION_ERROR", f"Duplicate IDs found in batch input: {ident}")
                seen.add(ident)
                for name in (item.get("properties") or {}):
                    if name not in self.properties:
                        return 400, _error(
                            "VALIDATION_ERROR", f'Property "{name}" does not exist',
                            subCategory="PROPERTY_DOESNT_EXIST", context={"propertyName": [name]})
            results: list[dict[str, Any]] = []
            missing: list[str] = []
            now = _now()
            for item in inputs:
                ident = str(item.get("id", ""))
                contact = self.contacts.get(ident)
                if contact is None:
                    missing.append(ident)
                    continue
                props = {k: ("" if v is None else str(v)) for k, v in (item.get("properties") or {}).items()}
                if "email" in props:
                    props["email"] = props["email"].lower()
                contact["properties"].update(props)
                contact["properties"]["lastmodifieddate"] = now
                contact["updatedAt"] = now
                self._reindex(contact)
                results.append({"id": contact["id"], "properties": dict(contact["properties"]),
                                "createdAt": contact["createdAt"], "updatedAt": now})
            self.stats.update_inputs += len(inputs)
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if missing:
            payload["errors"] = [_error("OBJECT_NOT_FOUND", f"Could not find CONTACT {ident}", context={"ids": [ident]})
                                 for ident in missing]
            payload["numErrors"] = len(missing)
            return 207, payload
        return 200, payload

    def batch_archive(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        inputs = body.get("inputs") or []
        if len(inputs) > MAX_INPUTS:
            return 400, _error("VALIDATION_ERROR", f"Batch input size {len(inputs)} exceeds the limit of {MAX_INPUTS}")
        with self.lock:
            for item in inputs:
                contact = self.contacts.get(str(item.get("id")))
                if contact is not None:
                    self._remove(contact)
        return 204, None

    def gdpr_delete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        object_id = str(body.get("objectId", ""))
        id_property = body.get("idProperty") or "hs_object_id"
        with self.lock:
            contact = self._find(id_property, object_id)
            if id_property == "email":
                self.blocked_emails.add(object_id.lower())
            if contact is None:
                return 404, _error("OBJECT_NOT_FOUND", f"Contact {object_id} not found")
            email = contact["properties"].get("email")
            if email:
                self.blocked_emails.add(email)
            self._remove(contact)
        return 204, None

    def create_property(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            return 400, _error("VALIDATION_ERROR", f"missing {', '.join(missing)}")
        with self.lock:
            if body["name"] in self.properties:
                return 409, _error("CONFLICT", f"Property named '{body['name']}' already exists.")
            self.properties[body["name"]] = dict(body)
        return 201, dict(body)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _error(category: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "category": category, "message": message,
                            "correlationId": "00000000-0000-0000-0000-000000000000"}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _handler_for(server: HubSpotServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(OSError):
                super().handle()

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _send(self, status: int, body: dict[str, Any] | None, remaining: int) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            with server.lock:
                server.stats.by_status[status] += 1
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-HubSpot-RateLimit-Max", str(server.rate_limit_max))
            self.send_header("X-HubSpot-RateLimit-Remaining", str(remaining))
            self.send_header("X-HubSpot-RateLimit-Interval-Milliseconds", str(int(server.rate_limit_interval * 1000)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def _reset(self) -> None:
            with server.lock:
                server.stats.resets += 1
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with server.lock:
                server.stats.requests += 1
            if self.headers.get("Authorization") != f"Bearer {server.token}":
                self._send(401, _error("INVALID_AUTHENTICATION", "Authentication credentials not found."), 0)
                return
            path = self.path.split("?")[0]
            faults = server.faults
            faulty = any(path.startswith(p) for p in faults.only_paths)
            with server.lock:
                storm = faulty and faults.take("rate_limit_storm")
                crash = faulty and not storm and faults.take("server_errors")
                reset = faulty and not (storm or crash) and faults.take("resets")
                slow = faulty and not (storm or crash or reset) and faults.take("slow")
            if storm:
                self._send(429, _rate_limit_body(server), 0)
                return
            admitted, remaining = server._admit()
            if not admitted:
                self._send(429, _rate_limit_body(server), 0)
                return
            if crash:
                self._send(503, _error("INTERNAL_ERROR", "Service Unavailable"), remaining)
                return
            if reset and not faults.reset_after_processing:
                self._reset()
                return
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                self._send(400, _error("VALIDATION_ERROR", "Invalid input JSON"), remaining)
                return
            status, payload = self._route(method, path, body)
            if status == 0:
                self._send(404, _error("NOT_FOUND", f"no route {method} {path}"), remaining)
                return
            if path.endswith("/batch/upsert") and status in (200, 207):
                with server.lock:
                    server.stats.upsert_batches_ok += 1
                    count = server.stats.upsert_batches_ok
                if faults.on_upsert_batch is not None:
                    faults.on_upsert_batch(count)
            if reset:
                self._reset()
                return
            if slow:
                time.sleep(faults.slow_seconds)
            self._send(status, payload, remaining)

        def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
            if method == "POST" and path == "/crm/v3/objects/contacts/batch/upsert":
                return server.batch_upsert(body)
            if method == "POST" and path == "/crm/v3/objects/contacts/batch/read":
                return server.batch_read(body)
            if method == "POST" and path == "/crm/v3/objects/contacts/batch/update":
                return server.batch_update(body)
            if method == "POST" and path == "/crm/v3/objects/contacts/batch/archive":
                return server.batch_archive(body)
            if method == "POST" and path == "/crm/v3/objects/contacts/gdpr-delete":
                return server.gdpr_delete(body)
            if method == "POST" and path == "/crm/v3/properties/contacts":
                return server.create_property(body)
            if method == "GET" and path == "/crm/v3/properties/contacts":
                with server.lock:
                    return 200, {"results": [dict(p) for p in server.properties.values()]}
            return 0, None

    return Handler


def _rate_limit_body(server: HubSpotServer) -> dict[str, Any]:
    return {"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING",
            "message": f"You have reached your ten_secondly_rolling limit ({server.rate_limit_max}).",
            "correlationId": "00000000-0000-0000-0000-000000000000"}


def main() -> None:
    """Serve on a fixed port for manual runs: python -m tests.servers.hubspot_server [port]."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    with HubSpotServer(port=port) as srv:
        print(f"HubSpot stand-in at {srv.url}, token {srv.token}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
