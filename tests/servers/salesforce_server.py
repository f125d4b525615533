"""A local Salesforce over TLS that enforces the contract in reference/crm-apis.md.

It serves the pieces of the REST API the Salesforce destination uses: bearer auth, sObject
describe, SOQL queries (`SELECT <fields> FROM <object> [WHERE <field> IN (...)]`), the Bulk
API 2.0 ingest job lifecycle (create -> Open, PUT text/csv -> 201, PATCH UploadComplete ->
InProgress for a few polls -> JobComplete, results as CSV in a shuffled order) for upsert by
external id, update by Id, delete and hardDelete, and the sObject Collections upsert (by
external id) and update (`PATCH composite/sobjects`, by Id). An update never creates: an Id
the store does not hold fails that record with ENTITY_IS_DELETED. Records live in an
in-memory store; LastName is required and Email must look like an address.

The certificate comes from a throwaway trustme CA; clients trust it through `ca_bundle`.
Fault knobs: `fail_requests` (5xx on the next N requests), `fail_next_job`, `unprocess_next_job`,
`drop_results_next_job`, `expire_token`.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

#: (name, type, external id) of the Contact fields the server knows by default
CONTACT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("Id", "id", False),
    ("FirstName", "string", False),
    ("LastName", "string", False),
    ("Email", "email", False),
    ("Phone", "phone", False),
    ("CDP_Customer_Id__c", "string", True),
    ("CDP_Order_Count__c", "double", False),
    ("CDP_Total_Revenue__c", "currency", False),
    ("CDP_Last_Order_Date__c", "date", False),
    ("CDP_First_Seen_Date__c", "date", False),
    ("CDP_Lifecycle_Stage__c", "string", False),
)

REQUIRED_FIELDS = ("LastName",)
NULL_MARKER = "#N/A"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SOQL_PATTERN = re.compile(
    r"^\s*select\s+(?P<fields>[\w\s,]+?)\s+from\s+(?P<object>\w+)"
    r"(?:\s+where\s+(?P<field>\w+)\s+in\s*\((?P<values>.*)\))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
SOQL_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'", re.DOTALL)
SOQL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
MAX_SOQL_LENGTH = 100_000
MAX_COLLECTION_RECORDS = 200
UNCHANGED = object()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Job:
    id: str
    object: str
    operation: str
    external_id_field: str | None
    state: str = "Open"
    data: list[str] = field(default_factory=list)
    polls: int = 0
    error_message: str = ""
    successful: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    fail_with: str | None = None
    unprocess: int = 0
    drop: int = 0

    def info(self, api_version: str) -> dict[str, Any]:
        return {
            "id": self.id, "operation": self.operation, "object": self.object,
            "createdById": "005000000000001AAA", "state": self.state,
            "externalIdFieldName": self.external_id_field, "concurrencyMode": "Parallel",
            "contentType": "CSV", "apiVersion": float(api_version), "lineEnding": "LF",
            "columnDelimiter": "COMMA",
            "contentUrl": f"services/data/v{api_version}/jobs/ingest/{self.id}/batches",
            "numberRecordsProcessed": len(self.successful) + len(self.failed),
            "numberRecordsFailed": len(self.failed),
            "errorMessage": self.error_message or None,
        }


class SalesforceServer:
    """Start with `with SalesforceServer() as sf:`; point clients at sf.instance_url, sf.ca_bundle."""

    def __init__(self, token: str = "test-token", object_fields: tuple[tuple[str, str, bool], ...] = CONTACT_FIELDS,
                 in_progress_polls: int = 2, seed: int = 0) -> None:
        self.token = token
        self.fields = {name.lower(): (name, kind, external) for name, kind, external in object_fields}
        self.in_progress_polls = in_progress_polls
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}  # Id -> field values (canonical names)
        self.jobs: dict[str, Job] = {}
        self.requests: list[tuple[str, str]] = []
        self._next_id = 1
        self._fail_requests: list[int] = []
        self._fail_next_job: str | None = None
        self._unprocess_next_job = 0
        self._drop_next_job = 0
        self._token_expired = False
        #: how the unprocessed records endpoint may be spelt (Salesforce documents the lowercase one)
        self.unprocessed_spellings = {"unprocessedrecords", "unprocessedRecords"}
        self._dir = tempfile.TemporaryDirectory(prefix="sf-server-")
        self.ca = trustme.CA()
        self.ca_bundle = str(Path(self._dir.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_bundle)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ----------------------------------------------------------------------------

    def start(self) -> SalesforceServer:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="salesforce-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._dir.cleanup()

    def __enter__(self) -> SalesforceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def instance_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    # fault knobs --------------------------------------------------------------------------

    def fail_requests(self, count: int, status: int = 503) -> None:
        """The next `count` requests answer `status` before anything else is looked at."""
        with self.lock:
            self._fail_requests.extend([status] * count)

    def fail_next_job(self, message: str = "InternalServerError : the job failed") -> None:
        """The next job closed with UploadComplete ends Failed with this errorMessage."""
        with self.lock:
            self._fail_next_job = message

    def unprocess_next_job(self, count: int) -> None:
        """The next job completes but leaves its last `count` records unprocessed."""
        with self.lock:
            self._unprocess_next_job = count

    def drop_results_next_job(self, count: int) -> None:
        """The next job's first `count` records appear in none of the result sets."""
        with self.lock:
            self._drop_next_job = count

    def expire_token(self) -> None:
        with self.lock:
            self._token_expired = True

    # store helpers for tests --------------------------------------------------------------

    def find(self, field_name: str, value: str) -> list[dict[str, Any]]:
        canonical = self.fields[field_name.lower()][0]
        with self.lock:
            return [dict(r) for r in self.records.values() if r.get(canonical) == value]

    def paths(self, method: str | None = None) -> list[str]:
        with self.lock:
            return [p for m, p in self.requests if method is None or m == method]

    # request handling ---------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
        with self.lock:
            self.requests.append((method, path))
            if self._fail_requests:
                status = self._fail_requests.pop(0)
                return _json(status, [{"errorCode": "SERVER_UNAVAILABLE", "message": "try again later"}])
            if headers.get("Authorization") != f"Bearer {self.token}" or self._token_expired:
                return _json(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
            try:
                return self._route(method, path, headers, body)
            except ApiError as error:
                return _json(error.status, [{"errorCode": error.code, "message": error.message}])

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
        parts = urlsplit(path)
        match = re.fullmatch(r"/services/data/v(\d+\.\d)/(.*?)/?", parts.path)
        if not match:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = match.groups()
        query = parse_qs(parts.query)
        if method == "GET" and (m := re.fullmatch(r"sobjects/(\w+)/describe", rest)):
            return _json(200, self._describe(m.group(1)))
        if method == "GET" and rest == "query":
            return _json(200, self._query(query.get("q", [""])[0]))
        if method == "PATCH" and rest == "composite/sobjects":
            return _json(200, self._collection_update(_load(body)))
        if method == "PATCH" and (m := re.fullmatch(r"composite/sobjects/(\w+)/(\w+)", rest)):
            return _json(200, self._collection_upsert(m.group(1), m.group(2), _load(body)))
        if method == "POST" and rest == "jobs/ingest":
            return _json(200, self._create_job(_load(body)).info(version))
        if m := re.fullmatch(r"jobs/ingest/(\w+)", rest):
            job = self._job(m.group(1))
            if method == "GET":
                self._poll(job)
                return _json(200, job.info(version))
            if method == "PATCH":
                return _json(200, self._set_state(job, _load(body)).info(version))
            if method == "DELETE":
                del self.jobs[job.id]
                return 204, "text/plain", b""
        if method == "PUT" and (m := re.fullmatch(r"jobs/ingest/(\w+)/batches", rest)):
            job = self._job(m.group(1))
            if not headers.get("Content-Type", "").startswith("text/csv"):
                raise ApiError(400, "INVALIDCONTENTTYPE", "batches take Content-Type: text/csv")
            if job.state != "Open":
                raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}: it takes no more data")
            job.data.append(body.decode("utf-8"))
            return 201, "text/plain", b""
        kinds = {"successfulResults": "successful", "failedResults": "failed",
                 **dict.fromkeys(self.unprocessed_spellings, "unprocessed")}
        if method == "GET" and (m := re.fullmatch(r"jobs/ingest/(\w+)/(\w+)", rest)) and m.group(2) in kinds:
            job = self._job(m.group(1))
            if job.state not in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}: no results yet")
            return 200, "text/csv", self._results_csv(job, kinds[m.group(2)]).encode("utf-8")
        raise ApiError(404, "NOT_FOUND", f"The requested resource does not exist: {method} {rest}")

    # describe and query -------------------------------------------------------------------

    def _check_object(self, name: str) -> None:
        if name != "Contact":
            raise ApiError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")

    def _field(self, name: str) -> str | None:
        known = self.fields.get(name.lower())
        return known[0] if known else None

    def _describe(self, name: str) -> dict[str, Any]:
        self._check_object(name)
        return {
            "name": name,
            "fields": [
                {"name": field_name, "type": kind, "externalId": external, "idLookup": external or kind == "id",
                 "unique": external, "createable": kind != "id", "updateable": kind != "id",
                 "nillable": field_name not in REQUIRED_FIELDS and kind != "id"}
                for field_name, kind, external in self.fields.values()
            ],
        }

    def _query(self, soql: str) -> dict[str, Any]:
        if len(soql) > MAX_SOQL_LENGTH:
            raise ApiError(400, "MALFORMED_QUERY", "Query is too long")
        match = SOQL_PATTERN.match(soql)
        if not match:
            raise ApiError(400, "MALFORMED_QUERY", f"unsupported query: {soql[:200]}")
        self._check_object(match.group("object"))
        selected = []
        for name in (f.strip() for f in match.group("fields").split(",")):
            canonical = self._field(name)
            if canonical is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity 'Contact'")
            selected.append(canonical)
        rows = list(self.records.values())
        if match.group("field"):
            where = self._field(match.group("field"))
            if where is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{match.group('field')}' on entity 'Contact'")
            values_text = match.group("values")
            if SOQL_STRING.sub("", values_text).replace(",", "").strip():
                raise ApiError(400, "MALFORMED_QUERY", "IN takes a list of quoted strings")
            wanted = {
                re.sub(r"\\(.)", lambda m: SOQL_ESCAPES.get(m.group(1), m.group(1)), v)
                for v in SOQL_STRING.findall(values_text)
            }
            rows = [r for r in rows if r.get(where) in wanted]
        records = [
            {"attributes": {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{r['Id']}"},
             **{name: r.get(name) for name in selected}}
            for r in rows
        ]
        return {"totalSize": len(records), "done": True, "records": records}

    # the store ----------------------------------------------------------------------------

    def _new_id(self) -> str:
        number = self._next_id
        self._next_id += 1
        return f"003{number:012d}AAA"

    def _upsert(self, external_field: str, values: dict[str, Any]) -> tuple[str | None, bool, str | None]:
        """values: canonical field -> value, None (clear) or UNCHANGED. Returns (id, created, error)."""
        key = values.get(external_field)
        if key in (None, UNCHANGED, ""):
            return None, False, f"MISSING_ARGUMENT:{external_field} not specified:--"
        existing = [r for r in self.records.values() if r.get(external_field) == key]
        if len(existing) > 1:
            return None, False, f"DUPLICATE_EXTERNAL_ID:{external_field}: more than one record found:--"
        current = dict(existing[0]) if existing else {}
        for name, value in values.items():
            if value is not UNCHANGED:
                current[name] = value
        for required in REQUIRED_FIELDS:
            if not current.get(required):
                return (existing[0]["Id"] if existing else None, False,
                        f"REQUIRED_FIELD_MISSING:Required fields are missing: [{required}]:{required} --")
        email = current.get("Email")
        if email and not EMAIL_PATTERN.match(email):
            return (existing[0]["Id"] if existing else None, False,
                    f"INVALID_EMAIL_ADDRESS:Email: invalid email address: {email}:Email --")
        if existing:
            self.records[current["Id"]] = current
            return current["Id"], False, None
        current["Id"] = self._new_id()
        self.records[current["Id"]] = current
        return current["Id"], True, None

    def _update(self, values: dict[str, Any]) -> tuple[str | None, bool, str | None]:
        """values: canonical field -> value, None (clear) or UNCHANGED, with the Id. Never creates."""
        record_id = values.get("Id")
        if record_id in (None, UNCHANGED, ""):
            return None, False, "MISSING_ARGUMENT:Id not specified:--"
        if record_id not in self.records:
            return record_id, False, "ENTITY_IS_DELETED:entity is deleted:--"
        current = dict(self.records[record_id])
        for name, value in values.items():
            if value is not UNCHANGED:
                current[name] = value
        for required in REQUIRED_FIELDS:
            if not current.get(required):
                return (record_id, False,
                        f"REQUIRED_FIELD_MISSING:Required fields are missing: [{required}]:{required} --")
        email = current.get("Email")
        if email and not EMAIL_PATTERN.match(email):
            return record_id, False, f"INVALID_EMAIL_ADDRESS:Email: invalid email address: {email}:Email --"
        self.records[record_id] = current
        return record_id, False, None

    def _collection_update(self, body: Any) -> list[dict[str, Any]]:
        _check_collection(body)
        results = []
        for record in body["records"]:
            object_name = (record.get("attributes") or {}).get("type")
            if object_name != "Contact":
                results.append(_failure("INVALID_TYPE", "attributes.type is required", []))
                continue
            values: dict[str, Any] = {}
            unknown = None
            for name, value in record.items():
                if name == "attributes":
                    continue
                canonical = self._field(name)
                if canonical is None:
                    unknown = name
                    break
                values[canonical] = None if value is None else str(value) if not isinstance(value, bool) else (
                    "true" if value else "false")
            if unknown is not None:
                results.append(_failure("INVALID_FIELD", f"No such column '{unknown}' on sobject of type Contact",
                                        [unknown]))
                continue
            record_id, _, error = self._update(values)
            if error:
                code, _, rest = error.partition(":")
                results.append({**_failure(code, rest.rsplit(":", 1)[0], []), "id": record_id})
            else:
                results.append({"id": record_id, "success": True, "errors": []})
        return results

    def _collection_upsert(self, object_name: str, external: str, body: Any) -> list[dict[str, Any]]:
        self._check_object(object_name)
        external_field = self._field(external)
        if external_field is None or not self.fields[external.lower()][2]:
            raise ApiError(400, "INVALID_FIELD", f"{external} is not an external id field of {object_name}")
        _check_collection(body)
        results = []
        for record in body["records"]:
            if (record.get("attributes") or {}).get("type") != object_name:
                results.append(_failure("INVALID_TYPE", "attributes.type is required and must match the URL", []))
                continue
            values: dict[str, Any] = {}
            unknown = None
            for name, value in record.items():
                if name == "attributes":
                    continue
                canonical = self._field(name)
                if canonical is None or canonical == "Id":
                    unknown = name
                    break
                values[canonical] = None if value is None else str(value) if not isinstance(value, bool) else (
                    "true" if value else "false")
            if unknown is not None:
                results.append(_failure("INVALID_FIELD", f"No such column '{unknown}' on sobject of type Contact",
                                        [unknown]))
                continue
            record_id, created, error = self._upsert(external_field, values)
            if error:
                code, _, rest = error.partition(":")
                results.append(_failure(code, rest.rsplit(":", 1)[0], []))
            else:
                results.append({"id": record_id, "success": True, "errors": [], "created": created})
        return results

    # bulk jobs ----------------------------------------------------------------------------

    def _create_job(self, body: Any) -> Job:
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "expected a JSON object")
        operation = body.get("operation")
        if operation not in ("upsert", "update", "delete", "hardDelete"):
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : unsupported operation {operation!r}")
        self._check_object(body.get("object", ""))
        if body.get("contentType", "CSV") != "CSV" or body.get("lineEnding", "LF") != "LF" \
                or body.get("columnDelimiter", "COMMA") != "COMMA":
            raise ApiError(400, "INVALIDJOB", "InvalidJob : this server takes CSV, LF, COMMA")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            known = self.fields.get(str(external).lower())
            if not known or not known[2]:
                raise ApiError(400, "INVALIDJOB",
                               f"InvalidJob : externalIdFieldName {external!r} is not an external id field")
            external = known[0]
        job = Job(id=f"750{len(self.jobs) + 1:012d}AAA", object=body["object"], operation=operation,
                  external_id_field=external)
        self.jobs[job.id] = job
        return job

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise ApiError(404, "NOT_FOUND", f"no job {job_id}")
        return self.jobs[job_id]

    def _set_state(self, job: Job, body: Any) -> Job:
        state = body.get("state") if isinstance(body, dict) else None
        if state == "UploadComplete":
            if job.state != "Open":
                raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}, not Open")
            job.state = "UploadComplete"
            job.fail_with, self._fail_next_job = self._fail_next_job, None
            job.unprocess, self._unprocess_next_job = self._unprocess_next_job, 0
            job.drop, self._drop_next_job = self._drop_next_job, 0
        elif state == "Aborted":
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is already {job.state}")
            job.state = "Aborted"
            job.error_message = "Aborted by the client"
        else:
            raise ApiError(400, "INVALIDJOBSTATE", f"cannot set state {state!r}")
        return job

    def _poll(self, job: Job) -> None:
        """Closed jobs run asynchronously: InProgress for a few polls, then processed at once."""
        if job.state not in ("UploadComplete", "InProgress"):
            return
        job.polls += 1
        if job.polls <= self.in_progress_polls:
            job.state = "InProgress"
            return
        if job.fail_with:
            job.state, job.error_message = "Failed", job.fail_with
            return
        self._process(job)

    def _process(self, job: Job) -> None:
        rows: list[list[str]] = []
        header: list[str] | None = None
        for chunk in job.data:
            reader = csv.reader(io.StringIO(chunk, newline=""))
            chunk_header = next(reader, None)
            if chunk_header is None:
                continue
            if header is not None and chunk_header != header:
                job.state, job.error_message = "Failed", "InvalidBatch : batches have different headers"
                return
            header = chunk_header
            rows.extend(reader)
        if header is None or not rows:
            job.state, job.error_message = "Failed", "InvalidBatch : no data was uploaded"
            return
        canonical: list[str] = []
        for name in header:
            known = self._field(name)
            if known is None:
                job.state, job.error_message = "Failed", f"InvalidBatch : Field name not found : {name}"
                return
            canonical.append(known)
        key_column = "Id" if job.operation in ("update", "delete", "hardDelete") else job.external_id_field
        if key_column not in canonical:
            job.state, job.error_message = "Failed", f"InvalidBatch : the {key_column} column is missing"
            return
        job.columns = header
        cut = len(rows) - job.unprocess if job.unprocess else len(rows)
        for index, row in enumerate(rows):
            if len(row) != len(header):
                job.failed.append({"sf__Id": "", "sf__Error": "INVALID_FIELD:wrong number of columns:--",
                                   **dict(zip(header, row, strict=False))})
                continue
            original = dict(zip(header, row, strict=True))
            if index < job.drop:
                continue
            if index >= cut:
                job.unprocessed.append(original)
                continue
            values = {name: (UNCHANGED if v == "" else None if v == NULL_MARKER else v)
                      for name, v in zip(canonical, row, strict=True)}
            if job.operation == "upsert":
                record_id, created, error = self._upsert(key_column, values)
            elif job.operation == "update":
                record_id, created, error = self._update(values)
            else:
                record_id, created, error = self._delete(values.get("Id"))
            if error:
                job.failed.append({"sf__Id": record_id or "", "sf__Error": error, **original})
            else:
                job.successful.append({"sf__Id": record_id or "", "sf__Created": "true" if created else "false",
                                       **original})
        job.state = "JobComplete"

    def _delete(self, record_id: Any) -> tuple[str | None, bool, str | None]:
        if not isinstance(record_id, str) or not record_id:
            return None, False, "MISSING_ARGUMENT:Id not specified:--"
        if record_id not in self.records:
            return record_id, False, "ENTITY_IS_DELETED:entity is deleted:--"
        del self.records[record_id]
        return record_id, False, None

    def _results_csv(self, job: Job, kind: str) -> str:
        rows = list(getattr(job, kind))
        self.random.shuffle(rows)
        prefix = {"successful": ["sf__Id", "sf__Created"], "failed": ["sf__Id", "sf__Error"], "unprocessed": []}[kind]
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(prefix + job.columns)
        for row in rows:
            writer.writerow([row.get(name, "") for name in prefix + job.columns])
        return out.getvalue()


def _failure(code: str, message: str, fields: list[str]) -> dict[str, Any]:
    return {"id": None, "success": False, "errors": [{"statusCode": code, "message": message, "fields": fields}]}


def _load(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as error:
        raise ApiError(400, "JSON_PARSER_ERROR", f"body is not JSON: {error}") from None


def _json(status: int, payload: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(payload).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    app: SalesforceServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, content_type, payload = self.app.handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _check_collection(body: Any) -> None:
    """Refuse an sObject Collections body that is malformed, all-or-none, or over the record limit."""
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "expected {\"allOrNone\": ..., \"records\": [...]}")
    if body.get("allOrNone") not in (False, None):
        raise ApiError(400, "INVALID_FIELD", "this server only implements allOrNone false")
    if len(body["records"]) > MAX_COLLECTION_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", f"record limit is {MAX_COLLECTION_RECORDS}")
