"""A fake Jira on 127.0.0.1 for the tests, on pytest-httpserver: myself,
search (Cloud's /search/jql with nextPageToken, Server's /search with
startAt), issue worklogs GET/POST/PUT/DELETE, and on Cloud the site-wide
/worklog/updated + /worklog/list, with state, auth checks, and injectable
faults: an HTTP status (with Retry-After), a 5xx, or a reply that comes too
late *after* the worklog was stored (a lost answer).

It keeps to the published API (Cloud platform REST v3, Server / DC REST v2)
and refuses what Jira refuses: query parameters a resource does not take on
that flavour (``notifyUsers``, ``startedAfter``, ``expand`` and worklog
``properties`` are Cloud's only), an ``adjustEstimate`` without the amount
it needs (``manual`` is not an update's), ``started`` not in
``yyyy-MM-dd'T'HH:mm:ss.SSSZ``, less than a minute, a comment of the wrong
kind, and any worklog change on an issue in a done status. Worklog pages
come oldest first, capped on the server (``worklog_page``: 5000 like Cloud;
the tests lower it to make clients follow pages). Every request is recorded
with its query (``requests``), e.g. to check ``notifyUsers``.
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
from datetime import UTC, datetime
from typing import Any, ClassVar

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
        # (method, path, query) of every request
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.forbidden: set[str] = set()
        self.worklog_page = 5000  # the server's cap per page, as Cloud's
        self.me = "5b10a2844c20165700ede21g" if cloud else "mia"
        self._updated: dict[str, int] = {}  # worklog id -> updated (epoch ms), for /worklog/updated
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

    def close_issue(self, key: str) -> None:
        self.issues[key].update(status="Done", done=True)

    def add_web_worklog(
        self,
        key: str,
        started: datetime,
        seconds: int,
        comment: str = "",
        *,
        author: str | None = None,
    ) -> dict[str, Any]:
        """A worklog made without jtt (Jira's web UI, another tool)."""
        body: dict[str, Any] = {
            "started": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "timeSpentSeconds": seconds,
            "comment": _adf(comment) if self.cloud else comment,
        }
        with self._lock:
            return self._store_worklog(key, body, author or self.me)

    def queries(self, method: str, part: str = "") -> list[dict[str, str]]:
        return [q for m, p, q in self.requests if m == method and part in p]

    def count(self, method: str, part: str = "") -> int:
        return sum(1 for m, p in self.calls if m == method and part in p)

    # -- requests -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        with self._lock:
            self.calls.append((request.method, path))
            self.requests.append((request.method, path, dict(request.args.items())))
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
        if self.cloud and path == f"{api}/worklog/updated" and method == "GET":
            return self._updated_since(request)
        if self.cloud and path == f"{api}/worklog/list" and method == "POST":
            return self._worklog_list(request)
        return _json({"errorMessages": [f"no such resource {path}"]}, 404)

    def _matching(self, jql: str) -> list[str]:
        if "worklogAuthor = currentUser()" in jql:
            return self._logged_by_me(jql)
        listed = re.fullmatch(r"key in \((.*)\)", jql.strip())
        if listed:
            keys = re.findall(r'"([^"]+)"', listed.group(1))
            unknown = [k for k in keys if k not in self.issues]
            if unknown:  # Jira: the whole query is refused
                raise _Refused(f"An issue with key '{unknown[0]}' does not exist for field 'key'.")
            return keys
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

    def _logged_by_me(self, jql: str) -> list[str]:
        """``worklogAuthor = currentUser() AND worklogDate >= "d" AND worklogDate <= "d"``."""
        low = re.search(r'worklogDate >= "(\d{4}-\d\d-\d\d)"', jql)
        high = re.search(r'worklogDate <= "(\d{4}-\d\d-\d\d)"', jql)
        found = []
        for key in self.issues:
            for log in self.worklogs.get(key, []):
                day = log["started"][:10]  # the fake's users live in UTC
                if log["author"].get("accountId", log["author"].get("name")) != self.me:
                    continue
                if (low and day < low.group(1)) or (high and day > high.group(1)):
                    continue
                found.append(key)
                break
        return found

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
        try:
            keys = self._matching(request.args.get("jql", ""))
        except _Refused as exc:
            return _json({"errorMessages": [str(exc)]}, 400)
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
        try:
            keys = self._matching(request.args.get("jql", ""))
        except _Refused as exc:
            return _json({"errorMessages": [str(exc)]}, 400)
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

    # what each worklog resource takes (the published API of each flavour)
    _PARAMS: ClassVar[dict[tuple[bool, str], frozenset[str]]] = {
        (True, "GET"): frozenset(
            {"startAt", "maxResults", "startedAfter", "startedBefore", "expand"}
        ),
        (True, "POST"): frozenset(
            {
                "notifyUsers",
                "adjustEstimate",
                "newEstimate",
                "reduceBy",
                "expand",
                "overrideEditableFlag",
            }
        ),
        (True, "PUT"): frozenset(
            {"notifyUsers", "adjustEstimate", "newEstimate", "expand", "overrideEditableFlag"}
        ),
        (True, "DELETE"): frozenset(
            {"notifyUsers", "adjustEstimate", "newEstimate", "increaseBy", "overrideEditableFlag"}
        ),
        (False, "GET"): frozenset({"startAt", "maxResults"}),
        (False, "POST"): frozenset({"adjustEstimate", "newEstimate", "reduceBy"}),
        (False, "PUT"): frozenset({"adjustEstimate", "newEstimate"}),
        (False, "DELETE"): frozenset({"adjustEstimate", "newEstimate", "increaseBy"}),
    }

    def _check_params(self, method: str, args: dict[str, str]) -> str:
        allowed = self._PARAMS.get((self.cloud, method), frozenset())
        unknown = sorted(set(args) - allowed)
        if unknown:
            return f"unknown query parameters for {method}: {', '.join(unknown)}"
        if "notifyUsers" in args and args["notifyUsers"] not in ("true", "false"):
            return "notifyUsers must be true or false"
        adjust = args.get("adjustEstimate")
        if adjust is None:
            return ""
        modes = {"new", "leave", "auto"} | ({"manual"} if method in ("POST", "DELETE") else set())
        if adjust not in modes:
            return f"Invalid value for adjustEstimate: {adjust}"
        if adjust == "new" and not args.get("newEstimate"):
            return "You must supply a valid new estimate."
        amount = "reduceBy" if method == "POST" else "increaseBy"
        if adjust == "manual" and not args.get(amount):
            return f"You must supply a valid {amount}."
        for name in ("newEstimate", "reduceBy", "increaseBy"):
            value = args.get(name)
            if value is not None and not re.fullmatch(r"(\d+(\.\d+)?[wdhm]\s*)+|\d+", value):
                return f"Invalid time duration entered: {value}"
        return ""

    def _store_worklog(self, key: str, body: dict[str, Any], author: str) -> dict[str, Any]:
        who = {"accountId": author} if self.cloud else {"name": author, "key": author}
        log = {"id": str(next(self._ids)), "issueId": key, "author": who, **body}
        self.worklogs.setdefault(key, []).append(log)
        self._updated[log["id"]] = int(time.time() * 1000)
        return log

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
        method = request.method
        args = dict(request.args.items())
        problem = self._check_params(method, args)
        if problem:
            return _json({"errorMessages": [problem]}, 400)
        if key in self.forbidden and method != "GET":
            return _json({"errorMessages": ["You do not have the permission to log work."]}, 403)
        if self.issues[key]["done"] and method != "GET":
            return _json(
                {"errorMessages": ["Can not log work on an issue that is not editable."]}, 400
            )
        logs = self.worklogs.setdefault(key, [])
        if worklog_id is None and method == "GET":
            return self._worklog_page(logs, args)
        if worklog_id is None and method == "POST":
            time.sleep(self.post_delay_s)
            body = request.get_json()
            error = self._check_body(body)
            if error:
                return _json({"errorMessages": [error]}, 400)
            with self._lock:
                log = self._store_worklog(key, body, self.me)
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
            self._updated[found["id"]] = int(time.time() * 1000)
            return _json(found)
        if method == "DELETE":
            logs.remove(found)
            return Response(status=204)
        return _json(found)

    def _worklog_page(self, logs: list[dict[str, Any]], args: dict[str, str]) -> Response:
        """Oldest first; on Cloud narrowed by startedAfter/startedBefore (epoch
        ms) and with properties only when expanded."""
        after, before = args.get("startedAfter"), args.get("startedBefore")

        def started_ms(log: dict[str, Any]) -> int:
            moment = datetime.strptime(log["started"], "%Y-%m-%dT%H:%M:%S.%f%z")
            return int(moment.timestamp() * 1000)

        chosen = sorted(logs, key=started_ms)
        if after is not None:
            chosen = [w for w in chosen if started_ms(w) >= int(after)]
        if before is not None:
            chosen = [w for w in chosen if started_ms(w) < int(before)]
        if "properties" not in args.get("expand", ""):
            chosen = [{k: v for k, v in w.items() if k != "properties"} for w in chosen]
        start = int(args.get("startAt", 0))
        size = min(int(args.get("maxResults", 5000)), self.worklog_page)
        page = chosen[start : start + size]
        return _json({"startAt": start, "maxResults": size, "total": len(chosen), "worklogs": page})

    def _updated_since(self, request: Request) -> Response:
        """Cloud's site-wide ids of worklogs updated since (1000 per page)."""
        since = int(request.args.get("since", 0))
        ids = sorted(
            ((ms, wid) for wid, ms in self._updated.items() if ms >= since), key=lambda x: x
        )
        page = ids[:1000]
        last = len(ids) <= 1000
        body: dict[str, Any] = {
            "values": [{"worklogId": int(wid), "updatedTime": ms} for ms, wid in page],
            "since": since,
            "until": page[-1][0] if page else since,
            "lastPage": last,
        }
        if not last:  # like Jira: the next page starts at this one's last moment
            # (its boundary repeats; a client drops the ids it has)
            body["nextPage"] = f"{self.api}/worklog/updated?since={page[-1][0]}"
        return _json(body)

    def _worklog_list(self, request: Request) -> Response:
        wanted = {str(i) for i in (request.get_json() or {}).get("ids", [])}
        if len(wanted) > 1000:
            return _json({"errorMessages": ["ids: at most 1000"]}, 400)
        found = [w for logs in self.worklogs.values() for w in logs if w["id"] in wanted]
        return _json(found)

    def _check_body(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "body must be an object"
        fields = {"comment", "started", "timeSpentSeconds", "timeSpent", "visibility"}
        if self.cloud:
            fields.add("properties")
        unknown = sorted(set(body) - fields)
        if unknown:
            return f"Unrecognized field(s): {', '.join(unknown)}"
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
        for prop in body.get("properties") or []:
            if not (
                isinstance(prop, dict) and isinstance(prop.get("key"), str) and "value" in prop
            ):
                return "properties must be a list of {key, value}"
        return ""

    def comment_of(self, log: dict[str, Any]) -> str:
        return adf_text(log.get("comment"))


class _Refused(Exception):
    """A query Jira answers with 400."""


def _adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


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
