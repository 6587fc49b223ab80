"""Jira ticket search and the offline ticket cache: the JQL for what was
typed (an issue key, or words that narrow the default filter), the search,
the cache that answers when Jira cannot (``pull`` refreshes it from a JQL
search), and the check that the default search narrows the issues (Jira
Cloud refuses one that does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from jtt_tui.domain.models import Ticket
from jtt_tui.jira.client import Issue, JiraClient, JiraError
from jtt_tui.storage.errors import ConflictError

if TYPE_CHECKING:
    from jtt_tui.storage.base import Storage

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
_LUCENE = re.compile(r'[+\-&|!(){}\[\]^"~*?:\\/]')

BOUNDED_EXAMPLE = "assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC"


def unbounded_jql(jql: str, *, cloud: bool) -> str | None:
    """Why Jira Cloud would refuse ``jql`` as the default search (its
    /search/jql takes only a query that narrows the issues), or None."""
    if not cloud:
        return None
    condition, _ = split_order(jql)
    if condition.strip():
        return None
    said = "is empty" if not jql.strip() else "only orders the issues"
    return (
        f"the default search {said}: Jira Cloud refuses a search that does not narrow "
        f"the issues; give a condition, e.g. {BOUNDED_EXAMPLE!r}"
    )


def jql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_order(jql: str) -> tuple[str, str]:
    match = re.search(r"\border\s+by\b", jql, flags=re.IGNORECASE)
    if not match:
        return jql.strip(), ""
    return jql[: match.start()].strip(), jql[match.start() :].strip()


def search_jql(text: str, base: str) -> str:
    """The JQL for what was typed: an issue key finds that issue wherever it
    is; words narrow the default filter with a text search."""
    text = text.strip()
    condition, order = split_order(base)
    if not text:
        return base
    if _KEY.fullmatch(text):
        return f"key = {jql_string(text.upper())}"
    # Lucene's operators mean something inside text ~ "…" (and a stray one is
    # a 400): searching for words, they are only separators
    words = " ".join(_LUCENE.sub(" ", text).split())
    if not words:
        return base
    clause = f"text ~ {jql_string(words)}"
    joined = f"({condition}) AND {clause}" if condition else clause
    return f"{joined} {order}".strip()


def search(client: JiraClient, text: str, base: str, *, limit: int = 20) -> list[Issue]:
    jql = search_jql(text, base)
    try:
        return client.search(jql, limit=limit)
    except JiraError as exc:
        if exc.kind == "invalid" and _KEY.fullmatch(text.strip()):
            return []  # Jira answers 400 for a key that does not exist
        raise


def cache_issues(store: Storage, issues: Iterable[Issue]) -> int:
    """Keep the issues as tickets for offline use (one read of the cache,
    a write per new or changed ticket); returns how many changed."""
    known = store.get_tickets()
    changed = 0
    for issue in issues:
        name, status = issue.summary[:200], issue.status[:200]
        current = known.get(issue.key)
        try:
            if current is None:
                store.save_ticket(
                    Ticket(
                        ticket_number=issue.key,
                        ticket_name=name,
                        jira_status=status,
                        jira_done=issue.done,
                        source="jira",
                    )
                )
            elif (current.ticket_name, current.jira_status, current.jira_done) != (
                name,
                status,
                issue.done,
            ):
                store.update_ticket(
                    issue.key, ticket_name=name, jira_status=status, jira_done=issue.done
                )
            else:
                continue
        except ConflictError:
            continue  # another jtt cached it at the same moment: as good as ours
        changed += 1
    return changed


def cached_search(store: Storage, text: str, *, limit: int = 20) -> list[Issue]:
    """The offline answer: cached tickets whose key or summary contain the text."""
    needle = text.strip().lower()
    found = [
        Issue(t.ticket_number, t.ticket_name, t.jira_status)
        for t in store.get_tickets().values()
        if not needle or needle in t.ticket_number.lower() or needle in t.ticket_name.lower()
    ]
    found.sort(key=lambda i: (not i.key.lower().startswith(needle), i.key))
    return found[:limit]


def pull(store: Storage, client: JiraClient, jql: str, *, limit: int = 500) -> tuple[int, int]:
    """Refresh the cache from a JQL search: (issues found, tickets changed)."""
    issues = client.search(jql, limit=limit)
    return len(issues), cache_issues(store, issues)
