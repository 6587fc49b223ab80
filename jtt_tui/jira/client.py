"""A small Jira REST client: who am I, search, worklogs.

Jira Cloud (``*.atlassian.net``): e-mail + API token as basic auth, REST v3,
comments in Atlassian Document Format, search on ``/search/jql`` paged with
``nextPageToken``. Jira Server / Data Center: a personal access token as a
bearer token, REST v2, plain-text comments, search paged with ``startAt``.

Every request has a timeout. 429 is retried for every method after the
``Retry-After`` the server asks for; 5xx, timeouts and dropped connections
are retried only for requests that are safe to repeat (GET, PUT, DELETE) — a
worklog POST is never blindly repeated: the caller looks for the worklog it
may have created first (see ``services/jira_push.py``). Other 4xx are never
retried. Failures are :class:`JiraError` with a kind and a message that
names the cause and the fix; the token never appears in one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from jtt_tui.jira.estimate import Estimate, estimate_problem
from jtt_tui.redaction import redact, register_secret

__all__ = ["Estimate", "JiraClient", "JiraError", "Worklog", "estimate_problem"]

JiraErrorKind = Literal[
    "auth", "forbidden", "not_found", "invalid", "rate_limited", "server", "network", "timeout"
]
# kinds after which trying again later may work (the push stays queued)
TRANSIENT: frozenset[str] = frozenset({"rate_limited", "server", "network", "timeout"})
SAFE_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
MAX_RETRY_AFTER_S = 60.0
MARKER_PREFIX = "jtt:"
# the worklog property (Cloud) that carries the push id instead of the comment
PROPERTY_KEY = "jtt"
WORKLOG_PAGE = 5000  # what Cloud serves at most per page; a server may cap lower
MAX_PAGES = 1000  # a server that never ends its pages is not followed forever


class JiraError(Exception):
    def __init__(self, kind: JiraErrorKind, message: str, status: int | None = None) -> None:
        self.kind = kind
        self.status = status
        super().__init__(redact(message))

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT


@dataclass(frozen=True)
class JiraUser:
    display_name: str
    account: str  # accountId on Cloud, the user name on Server
    email: str = ""


@dataclass(frozen=True)
class Issue:
    key: str
    summary: str
    status: str
    done: bool = False


@dataclass(frozen=True)
class Worklog:
    id: str
    started: str
    seconds: int
    comment_text: str
    author: str = ""  # accountId on Cloud, the user name on Server
    push_id: str = ""  # from the worklog's jtt property (Cloud)

    def has_marker(self, push_id: str) -> bool:
        return self.push_id == push_id or f"{MARKER_PREFIX}{push_id}" in self.comment_text

    @property
    def marker(self) -> str:
        """The push id jtt left on it (property or comment marker), or ""."""
        if self.push_id:
            return self.push_id
        found = re.search(rf"{MARKER_PREFIX}([0-9a-f]{{16,40}})", self.comment_text)
        return found.group(1) if found else ""

    @property
    def started_at(self) -> datetime | None:
        """``started`` as an instant (Jira writes it in the user's offset)."""
        return parse_jira_time(self.started)

    @property
    def text(self) -> str:
        """The comment without jtt's marker line."""
        lines = [ln for ln in self.comment_text.splitlines() if not ln.startswith(MARKER_PREFIX)]
        return "\n".join(lines).strip()


@dataclass
class JiraClient:
    url: str
    token: str
    email: str = ""  # Cloud when set
    # Cloud e-mails the issue's watchers about every worklog unless told not
    # to (notifyUsers); Server / Data Center has no such choice
    notify: bool = False
    timeout_s: float = 10.0
    attempts: int = 4
    backoff_s: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    requests: int = 0  # sent, retries included (tests and the bench count them)
    _http: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        register_secret(self.token)
        self.url = self.url.rstrip("/")

    @property
    def cloud(self) -> bool:
        return bool(self.email)

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.cloud else "/rest/api/2"

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            auth: Any = (self.email, self.token) if self.cloud else None
            headers = {"Accept": "application/json", "User-Agent": "jtt"}
            if not self.cloud:
                headers["Authorization"] = f"Bearer {self.token}"
            self._http = httpx.Client(
                base_url=self.url,
                auth=auth,
                headers=headers,
                timeout=httpx.Timeout(self.timeout_s),
                transport=self.transport,
                follow_redirects=False,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One call, with the retries its method allows; the decoded JSON
        (None for an empty answer)."""
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                self.requests += 1
                response = self.http.request(method, path, params=params, json=body)
            except httpx.TimeoutException:
                error = JiraError(
                    "timeout", f"Jira did not answer within {self.timeout_s:g} s ({self.url})"
                )
            except httpx.TransportError as exc:
                error = JiraError("network", f"cannot reach Jira at {self.url}: {exc}")
            else:
                if response.status_code < 300:
                    return response.json() if response.content else None
                error = _error_for(response, self.url, self.cloud)
                if error.kind == "rate_limited" and not last:
                    self.sleep(_retry_after(response, self.backoff_s * 2 ** (attempt - 1)))
                    continue
            retryable = error.kind in ("server", "timeout", "network") and method in SAFE_METHODS
            if not retryable or last:
                raise error
            self.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the calls jtt makes ---------------------------------------------------------------

    def myself(self) -> JiraUser:
        data = self.request("GET", f"{self.api}/myself")
        return JiraUser(
            display_name=str(data.get("displayName") or data.get("name") or "?"),
            account=str(data.get("accountId") or data.get("name") or data.get("key") or "?"),
            email=str(data.get("emailAddress") or ""),
        )

    def search(self, jql: str, *, limit: int = 50, page_size: int = 50) -> list[Issue]:
        """Issues matching ``jql``, all pages up to ``limit``."""
        return list(self._search_pages(jql, limit=limit, page_size=page_size))

    def _search_pages(self, jql: str, *, limit: int, page_size: int) -> Iterator[Issue]:
        found = 0
        token: str | None = None
        start = 0
        while found < limit:
            size = min(page_size, limit - found)
            params: dict[str, Any] = {"jql": jql, "maxResults": size, "fields": "summary,status"}
            if self.cloud:
                if token:
                    params["nextPageToken"] = token
                data = self.request("GET", f"{self.api}/search/jql", params=params)
            else:
                params["startAt"] = start
                data = self.request("GET", f"{self.api}/search", params=params)
            issues = data.get("issues") or []
            for raw in issues:
                yield _issue(raw)
                found += 1
                if found >= limit:
                    return
            start += len(issues)
            if self.cloud:
                token = data.get("nextPageToken")
                if not token or data.get("isLast") or not issues:
                    return
            elif not issues or start >= int(data.get("total", 0)):
                return

    def worklogs(
        self,
        issue: str,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> list[Worklog]:
        """The issue's worklogs, oldest first, every page: a page shorter than
        the server says it serves (or empty) is the last one (``total`` is not
        trusted). On Cloud the period narrows the answer on the server and the
        jtt property comes along; Server / DC sends all and they are narrowed
        here."""
        params: dict[str, Any] = {"maxResults": WORKLOG_PAGE}
        if self.cloud:
            params["expand"] = "properties"
            if started_after is not None:
                params["startedAfter"] = _epoch_ms(started_after)
            if started_before is not None:
                params["startedBefore"] = _epoch_ms(started_before)
        found: list[Worklog] = []
        seen: set[str] = set()
        start = 0
        for _ in range(MAX_PAGES):
            data = self.request(
                "GET", self._worklog_path(issue), params={**params, "startAt": start}
            )
            page = (data or {}).get("worklogs") or []
            fresh = [w for w in (_worklog(raw) for raw in page) if w.id not in seen]
            seen.update(w.id for w in fresh)
            found += fresh
            served = int((data or {}).get("maxResults") or WORKLOG_PAGE)
            ignored_start = int((data or {}).get("startAt") or 0) != start
            if not fresh or len(page) < served or ignored_start:
                break
            start += len(page)
        if not self.cloud:
            found = [w for w in found if _within(w, started_after, started_before)]
        return found

    def worklog(self, issue: str, worklog_id: str) -> Worklog | None:
        """One worklog by id, or None when Jira has no such worklog."""
        try:
            data = self.request("GET", self._worklog_path(issue, worklog_id))
        except JiraError as exc:
            if exc.kind == "not_found":
                return None
            raise
        return _worklog(data if isinstance(data, dict) else {})

    def add_worklog(
        self,
        issue: str,
        started: datetime,
        seconds: int,
        comment: str,
        *,
        adjust: Estimate | str = "auto",
        push_id: str = "",
    ) -> Worklog:
        data = self.request(
            "POST",
            self._worklog_path(issue),
            params=self._write_params("POST", adjust),
            body=self._worklog_body(started, seconds, comment, push_id),
        )
        return _written(data)

    def update_worklog(
        self,
        issue: str,
        worklog_id: str,
        started: datetime,
        seconds: int,
        comment: str,
        *,
        adjust: Estimate | str = "auto",
        push_id: str = "",
    ) -> Worklog:
        data = self.request(
            "PUT",
            self._worklog_path(issue, worklog_id),
            params=self._write_params("PUT", adjust),
            body=self._worklog_body(started, seconds, comment, push_id),
        )
        return _written(data)

    def delete_worklog(
        self, issue: str, worklog_id: str, *, adjust: Estimate | str = "auto"
    ) -> None:
        self.request(
            "DELETE",
            self._worklog_path(issue, worklog_id),
            params=self._write_params("DELETE", adjust),
        )

    def _write_params(self, method: str, adjust: Estimate | str) -> dict[str, Any]:
        estimate = adjust if isinstance(adjust, Estimate) else Estimate(adjust)  # type: ignore[arg-type]
        params: dict[str, Any] = estimate.params(method)
        if self.cloud:
            params["notifyUsers"] = "true" if self.notify else "false"
        return params

    def _worklog_path(self, issue: str, worklog_id: str | None = None) -> str:
        path = f"{self.api}/issue/{quote(issue)}/worklog"
        return f"{path}/{quote(worklog_id)}" if worklog_id is not None else path

    def _worklog_body(
        self, started: datetime, seconds: int, comment: str, push_id: str = ""
    ) -> dict[str, Any]:
        """Cloud: the comment as the user wrote it and the push id in a
        worklog property; Server / DC (no properties): the marker in the comment."""
        body: dict[str, Any] = {"started": jira_time(started), "timeSpentSeconds": seconds}
        if self.cloud:
            body["comment"] = adf(comment)
            if push_id:
                body["properties"] = [{"key": PROPERTY_KEY, "value": {"push_id": push_id}}]
        else:
            body["comment"] = f"{comment}\n{MARKER_PREFIX}{push_id}" if push_id else comment
        return body


# -- formats ---------------------------------------------------------------------------------


def jira_time(moment: datetime) -> str:
    """Jira's ``started`` format: ``2025-03-10T09:00:00.000+0000`` (UTC)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_jira_time(text: str) -> datetime | None:
    """An instant from Jira's ``started`` (``2025-03-10T10:00:00.000+0100``)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _within(worklog: Worklog, after: datetime | None, before: datetime | None) -> bool:
    started = worklog.started_at
    if started is None:
        return after is None and before is None
    return (after is None or started >= after) and (before is None or started < before)


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per line."""
    paragraphs = []
    for line in text.splitlines() or [""]:
        content = [{"type": "text", "text": line}] if line else []
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(node: Any) -> str:
    """The text of an ADF document (or a v2 plain comment) for marker search."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        text = node.get("text")
        own = text if isinstance(text, str) else ""
        between = "\n" if node.get("type") == "doc" else ""  # a line per paragraph
        return own + between.join(adf_text(child) for child in node.get("content") or [])
    if isinstance(node, list):
        return "\n".join(adf_text(child) for child in node)
    return ""


def _issue(raw: dict[str, Any]) -> Issue:
    fields = raw.get("fields") or {}
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key", "")
    return Issue(
        key=str(raw.get("key", "")),
        summary=str(fields.get("summary") or ""),
        status=str(status.get("name") or ""),
        done=category == "done",
    )


def _worklog(raw: dict[str, Any]) -> Worklog:
    author = raw.get("author") or {}
    if not isinstance(author, dict):
        author = {}
    push_id = ""
    for prop in raw.get("properties") or []:
        if isinstance(prop, dict) and prop.get("key") == PROPERTY_KEY:
            value = prop.get("value")
            if isinstance(value, dict) and isinstance(value.get("push_id"), str):
                push_id = value["push_id"]
    return Worklog(
        id=str(raw.get("id", "")),
        started=str(raw.get("started", "")),
        seconds=int(raw.get("timeSpentSeconds") or 0),
        comment_text=adf_text(raw.get("comment")),
        author=str(author.get("accountId") or author.get("name") or author.get("key") or ""),
        push_id=push_id,
    )


def _written(data: Any) -> Worklog:
    """The worklog Jira says it stored; an answer without its id is an error
    (the id is what makes the next push update instead of create)."""
    worklog = _worklog(data if isinstance(data, dict) else {})
    if not worklog.id.isdigit():
        raise JiraError("server", "Jira's answer did not name the worklog it stored")
    return worklog


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _jira_messages(response: httpx.Response) -> str:
    try:
        data = response.json()
    except (json.JSONDecodeError, ValueError):
        return ""
    if not isinstance(data, dict):
        return ""
    messages = [str(m) for m in data.get("errorMessages") or []]
    errors = data.get("errors") or {}
    if isinstance(errors, dict):
        messages += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(messages)[:300]


def _error_for(response: httpx.Response, url: str, cloud: bool) -> JiraError:
    status = response.status_code
    said = _jira_messages(response)
    detail = f" ({said})" if said else ""
    if status == 401:
        how = (
            "check the e-mail and create a new API token at "
            "https://id.atlassian.com/manage-profile/security/api-tokens"
            if cloud
            else "create a new personal access token in your Jira profile"
        )
        return JiraError(
            "auth",
            f"Jira rejected the token (401): {how}, then `jtt jira configure --token-stdin`",
            status,
        )
    if status == 403:
        return JiraError(
            "forbidden", f"Jira refused this (403, no permission){detail or ''}", status
        )
    if status == 404:
        return JiraError("not_found", f"not found in Jira (404){detail}", status)
    if status == 429:
        return JiraError("rate_limited", "Jira is rate-limiting requests (429)", status)
    if status >= 500:
        return JiraError("server", f"Jira answered with an error ({status}){detail}", status)
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return JiraError(
            "invalid",
            f"Jira at {url} redirects ({status}) to {where}: use that address as the Jira URL",
            status,
        )
    return JiraError("invalid", f"Jira refused the request ({status}){detail}", status)
