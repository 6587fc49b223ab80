"""Jira as configured: the connection (:func:`client_for`, with the token
from the environment or the keyring) and :class:`JiraService`, the one
object an interface uses over the settings and the store — search with the
offline cache, push, delete worklogs, a summary — and :func:`describe`, a
push's report in a line.

The parts: ``jira_search`` (search and the ticket cache), ``jira_plan``
(what a push would send), ``jira_links`` (the worklog links on our records)
and ``jira_push`` (sending, idempotently).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from jtt_tui.domain.models import ManualTask, Session, WorklogLink, WorklogState
from jtt_tui.jira.client import Issue, JiraClient, JiraError
from jtt_tui.services.jira_links import with_link
from jtt_tui.services.jira_plan import PushReport, manual_started, plan
from jtt_tui.services.jira_push import delete_worklog, delete_worklogs, push, refresh_done
from jtt_tui.services.jira_search import cache_issues, cached_search, search
from jtt_tui.storage.errors import NotFoundError, redact
from jtt_tui.words import count

if TYPE_CHECKING:
    from jtt_tui.config import JiraConfig, Settings
    from jtt_tui.storage.base import Storage

TOKEN_SECRET = "jira-token"


class JiraNotConfigured(JiraError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


def jira_token(config: JiraConfig) -> str | None:
    """JTT_JIRA_TOKEN, else the keyring's."""
    if config.token is not None:
        return config.token.get_secret_value()
    from jtt_tui.secrets import get_secret

    return get_secret(TOKEN_SECRET)


def client_for(settings: Settings, **options: object) -> JiraClient:
    config = settings.jira
    if not config.configured:
        raise JiraNotConfigured(
            "Jira is not set up: run `jtt jira configure --url https://yoursite.atlassian.net "
            "--email you@example.com --token-stdin` (or set JTT_JIRA_URL, JTT_JIRA_EMAIL "
            "and JTT_JIRA_TOKEN)"
        )
    token = jira_token(config)
    if not token:
        raise JiraNotConfigured(
            "no Jira token: run `jtt jira configure --token-stdin` (saved in keyring) or set "
            "JTT_JIRA_TOKEN"
        )
    return JiraClient(
        config.url,
        token,
        email=config.email,
        notify=config.notify_watchers,
        timeout_s=config.timeout_s,
        **options,  # type: ignore[arg-type]
    )


def insecure_warning(config: JiraConfig) -> str | None:
    if config.url.startswith("http://"):
        return (
            f"{config.url} is plain http: the token and your worklogs travel unencrypted "
            "(fine for a local test server, not for a real site)"
        )
    return None


@dataclass
class PushSummary:
    pushed: int = 0
    queued: int = 0
    failed: int = 0
    unpushed: int = 0  # finished segments (and manual entries with a ticket) never sent
    kept_local: int = 0  # deleted in Jira and kept here on purpose
    problems: list[tuple[str, datetime, str, str]] = field(default_factory=list)


class JiraService:
    """What the TUI does with Jira, each call blocking (run it off the UI thread)."""

    def __init__(
        self,
        settings: Settings | None,
        store: Storage,
        *,
        tz: object = None,
        client_options: dict[str, object] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.tz = tz
        self.client_options = client_options or {}

    @property
    def configured(self) -> bool:
        return self.settings is not None and self.settings.jira.configured

    @property
    def config(self) -> JiraConfig:
        from jtt_tui.config import JiraConfig

        return self.settings.jira if self.settings is not None else JiraConfig()

    def client(self, **options: object) -> JiraClient:
        if self.settings is None:
            raise JiraNotConfigured("settings are not available in this session")
        return client_for(self.settings, **{**self.client_options, **options})

    def test(self) -> str:
        with self.client() as client:
            me = client.myself()
        kind = "Jira Cloud" if client.cloud else "Jira Server / Data Center"
        return f"Connected to {kind} as {me.display_name} ({me.account})"

    def search(self, text: str, *, limit: int = 15) -> tuple[list[Issue], str]:
        """Jira's answer (cached for later), or the cache with why when Jira
        cannot be asked: (issues, note)."""
        if not self.configured:
            return cached_search(self.store, text, limit=limit), ""
        try:
            # interactive: one quick retry at most, then the cache
            with self.client(attempts=2, backoff_s=0.3) as client:
                issues = search(client, text, self.config.jql, limit=limit)
        except JiraNotConfigured as exc:
            return cached_search(self.store, text, limit=limit), str(exc)
        except JiraError as exc:
            if exc.kind == "auth":
                raise
            why = f"offline: {exc}" if exc.transient else f"{exc}; showing cached tickets"
            return cached_search(self.store, text, limit=limit), why
        cache_issues(self.store, issues)
        return issues, ""

    def push(
        self,
        *,
        ticket: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        only_pending: bool = False,
        only_linked: bool = False,
        include_closed: bool = False,
    ) -> PushReport:
        """Push as planned; ``only_linked`` re-sends only time already sent
        (or on its way): an edit, never a first push."""
        units = [
            u
            for u in plan(
                self.store,
                self.config,
                ticket=ticket,
                start=start,
                end=end,
                tz=self.tz,
                only_pending=only_pending,
            )
            if not u.up_to_date and (u.link is not None or not only_linked)
        ]
        if not units:
            return PushReport()
        with self.client() as client:
            if not include_closed:
                refresh_done(self.store, client, units)
            return push(
                self.store,
                client,
                units,
                adjust=self.config.estimate,
                now=self.store.clock.now,
                include_closed=include_closed,
            )

    def delete_worklogs(self, session: Session, starts: Iterable[datetime]) -> int:
        """Delete these segments' worklogs in Jira, then forget the links here
        (so an undo of the deletion brings the time back unpushed, and the
        next push sends it again instead of believing Jira still has it)."""
        starts = list(starts)
        with self.client() as client:
            count = delete_worklogs(client, session, starts, self.config.estimate)
        with suppress(NotFoundError):
            self.store.modify_session(
                session.ticket_number, lambda current: with_link(current, starts, None)
            )
        return count

    def delete_task_worklog(self, task: ManualTask) -> int:
        """Delete a manual entry's worklog in Jira (before the entry is
        deleted here); returns how many (0 or 1)."""
        link = task.worklog
        if link is None or link.worklog_id is None:
            return 0
        with self.client() as client:
            delete_worklog(client, link.issue, link.worklog_id, self.config.estimate)
        return 1

    def summary(self) -> PushSummary:
        summary = PushSummary()
        links: list[tuple[str, datetime, WorklogLink | None]] = [
            (session.ticket_number, seg.start, seg.worklog)
            for session in self.store.get_sessions().values()
            for seg in session.segments
            if seg.end is not None
        ]
        links += [
            (task.ticket_number, manual_started(task, self.tz), task.worklog)
            for task in self.store.get_manual_tasks()
            if task.ticket_number
        ]
        for ticket, start, link in links:
            if link is None:
                summary.unpushed += 1
            elif link.state == WorklogState.PUSHED:
                summary.pushed += 1
            elif link.state == WorklogState.LOCAL:
                summary.kept_local += 1
            else:
                if link.state == WorklogState.PENDING:
                    summary.queued += 1
                else:
                    summary.failed += 1
                summary.problems.append((ticket, start, link.state.value, link.error))
        summary.problems.sort(key=lambda p: p[1], reverse=True)
        return summary


def describe(report: PushReport) -> str:
    """One line for a toast."""
    parts = [f"{count(report.sent, 'worklog')} sent"]
    if report.count("failed"):
        first = next(o for o in report.outcomes if o.action == "failed")
        parts.append(f"{report.count('failed')} failed ({first.unit.issue}: {first.detail})")
    if report.count("queued"):
        parts.append(f"{report.count('queued')} queued: {report.stopped}")
    if report.count("skipped"):
        parts.append(f"{report.count('skipped')} left to another jtt pushing them")
    if report.count("closed"):
        closed = sorted({o.unit.issue for o in report.outcomes if o.action == "closed"})
        parts.append(
            f"{report.count('closed')} skipped: {', '.join(closed[:3])} done in Jira "
            "(`jtt jira push --include-closed` tries anyway)"
        )
    if not report.outcomes:
        return "Nothing to push: Jira is up to date."
    return redact("; ".join(parts))
