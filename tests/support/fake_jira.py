"""A fake Jira on 127.0.0.1 for the tests, on pytest-httpserver: myself,
search (Cloud's /search/jql with nextPageToken, Server's /search with
startAt), issue worklogs GET/POST/PUT/DELETE, with state, auth checks, and
injectable faults: an HTTP status (with Retry-After), a 5xx, or a reply that
comes too late *after* the worklog was stored (a lost answer).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from jtt_tui.jira.client import adf_text


@dataclass
class Fault:
    method: str  # "POST", "GET", … or "*"
    path_part: str  # a substring of the path, e.g. "/worklog"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer this late (after doing the work, for a lost answer)
    apply: bool = False  # do the work first (a worklog POST that lands, then "fails")
    times: int = 1


class FakeJira:
    def __init__(
        self,
        server: HTTPServer,
        *,
        cloud: bool = True,
        email: str = "me@example.com",
        token: str = "s3cret-token",
    ) -> None:
        self.server = server
        self.cloud = cloud
        self.email = email
        self.token = token
        self.api = "/rest/api/3" if cloud else "/rest/api/2"
        self.issues: dict[str, dict[str, Any]] = {}
        self.worklogs: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.forbidden: set[str] = set()
        self.worklog_page = 2  # small pages on purpose: clients must follow them
        self.post_delay_s = 0.0  # a slow Jira: widens the window for races
        self._ids = itertools.count(10_001)
        self._lock = threading.Lock()
        server.expect_request(re.compile(r"^/rest/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add_issue(self, key: str, summary: str, status: str = "In Progress") -> None:
        done = status.lower() == "done"
        self.issues[key] = {"summary": summary, "status": status, "done": done}

    def fail(self, method: str, path_part: str, status: int = 500, **kwargs: Any) -> Fault:
        fault = Fault(method, path_part, status, **kwargs)
        self.faults.append(fault)
        return fault

    def all_worklogs(self, key: str) -> list[dict[str, Any]]:
        return self.worklogs.get(key, [])

    def count(self, method: str, part: str = "") -> int:
        return sum(1 for m, p in self.calls if m == method and part in p)

    # -- requests -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        with self._lock:
            self.calls.append((request.method, path))
        if not self._authorised(request):
            return _json({"errorMessages": ["Client must be authenticated"]}, 401)
        fault = self._fault_for(request.method, path)
        if fault is not None and not fault.apply:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            return _json(
                {"errorMessages": [f"injected {fault.status}"]}, fault.status, fault.headers
            )
        response = self._route(request)
        if fault is not None:  # the work is done; the answer is lost or wrong
            if fault.delay_s:
                time.sleep(fault.delay_s)
            return _json(
                {"errorMessages": [f"injected {fault.status}"]}, fault.status, fault.headers
            )
        return response

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.cloud:
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {self.token}"

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method in (method, "*") and fault.path_part in path:
                    fault.times -= 1
                    return fault
        return None

    def _route(self, request: Request) -> Response:
        api, method, path = self.api, request.method, request.path
        if path == f"{api}/myself" and method == "GET":
            if self.cloud:
                return _json(
                    {
                        "accountId": "5b10a2844c20165700ede21g",
                        "displayName": "Mia Krystof",
                        "emailAddress": self.email,
                    }
                )
            return _json({"name": "mia", "key": "mia", "displayName": "Mia Krystof"})
        if self.cloud and path == f"{api}/search/jql" and method == "GET":
            return self._search_cloud(request)
        if not self.cloud and path == f"{api}/search" and method == "GET":
            return self._search_server(request)
        match = re.fullmatch(rf"{api}/issue/([^/]+)/worklog(?:/(\d+))?", path)
        if match:
            return self._worklog(request, match.group(1), match.group(2))
        return _json({"errorMessages": [f"no such resource {path}"]}, 404)

    def _matching(self, jql: str) -> list[str]:
        key = re.search(r'key = "([^"]+)"', jql)
        if key:
            if key.group(1) not in self.issues:
                return []  # (real Jira: 400 for an unknown key)
            return [key.group(1)]
        text = re.search(r'text ~ "((?:[^"\\]|\\.)*)"', jql)
        words = text.group(1).lower() if text else ""
        open_only = "statusCategory != Done" in jql
        return [
            k
            for k, issue in self.issues.items()
            if (not words or words in issue["summary"].lower() or words in k.lower())
            and not (open_only and issue["done"])
        ]

    def _issue_json(self, key: str) -> dict[str, Any]:
        issue = self.issues[key]
        category = "done" if issue["done"] else "indeterminate"
        return {
            "id": str(abs(hash(key)) % 100000),
            "key": key,
            "fields": {
                "summary": issue["summary"],
                "status": {"name": issue["status"], "statusCategory": {"key": category}},
            },
        }

    def _search_cloud(self, request: Request) -> Response:
        keys = self._matching(request.args.get("jql", ""))
        size = int(request.args.get("maxResults", 50))
        start = int(request.args.get("nextPageToken") or 0)
        page = keys[start : start + size]
        body: dict[str, Any] = {"issues": [self._issue_json(k) for k in page]}
        if start + size < len(keys):
            body["nextPageToken"] = str(start + size)
        else:
            body["isLast"] = True
        return _json(body)

    def _search_server(self, request: Request) -> Response:
        keys = self._matching(request.args.get("jql", ""))
        size = int(request.args.get("maxResults", 50))
        start = int(request.args.get("startAt", 0))
        page = keys[start : start + size]
        return _json(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(keys),
                "issues": [self._issue_json(k) for k in page],
            }
        )

    def _worklog(self, request: Request, key: str, worklog_id: str | None) -> Response:
        if key not in self.issues:
            return _json(
                {
                    "errorMessages": [
                        "Issue does not exist or you do not have permission to see it."
                    ]
                },
                404,
            )
        if key in self.forbidden and request.method != "GET":
            return _json({"errorMessages": ["You do not have the permission to log work."]}, 403)
        logs = self.worklogs.setdefault(key, [])
        method = request.method
        if worklog_id is None and method == "GET":
            start = int(request.args.get("startAt", 0))
            size = min(int(request.args.get("maxResults", 5000)), self.worklog_page)
            page = logs[start : start + size]
            return _json(
                {"startAt": start, "maxResults": size, "total": len(logs), "worklogs": page}
            )
        if worklog_id is None and method == "POST":
            time.sleep(self.post_delay_s)
            body = request.get_json()
            error = self._check_body(body)
            if error:
                return _json({"errorMessages": [error]}, 400)
            with self._lock:
                log = {"id": str(next(self._ids)), "issueId": key, **body}
                logs.append(log)
            return _json(log, 201)
        found = next((w for w in logs if w["id"] == worklog_id), None)
        if found is None:
            return _json({"errorMessages": [f"Cannot find worklog with id: {worklog_id}"]}, 404)
        if method == "PUT":
            body = request.get_json()
            error = self._check_body(body)
            if error:
                return _json({"errorMessages": [error]}, 400)
            found.update(body)
            return _json(found)
        if method == "DELETE":
            logs.remove(found)
            return Response(status=204)
        return _json(found)

    def _check_body(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "body must be an object"
        started = str(body.get("started", ""))
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}", started):
            return f"started {started!r} is not in Jira's format"
        if int(body.get("timeSpentSeconds") or 0) < 60:
            return "Worklog must not be less than one minute"
        comment = body.get("comment")
        if self.cloud and not (isinstance(comment, dict) and comment.get("type") == "doc"):
            return "comment must be an Atlassian Document"
        if not self.cloud and not isinstance(comment, str):
            return "comment must be a string"
        return ""

    def comment_of(self, log: dict[str, Any]) -> str:
        return adf_text(log.get("comment"))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )


@contextmanager
def threaded_server() -> Iterator[HTTPServer]:
    """An HTTP server on 127.0.0.1 that answers requests in parallel (a slow
    answer does not hold up the next request), stopped afterwards."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@contextmanager
def serving(**options: Any) -> Iterator[FakeJira]:
    """A fake Jira on a server of its own."""
    with threaded_server() as server:
        yield FakeJira(server, **options)
