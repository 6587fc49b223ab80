"""Whose records a store holds: user id -> number of records.

The store, not settings.toml, is where the data is: when the settings are
lost (a new machine, a wiped config folder, a typo in JTT_CONFIG_DIR), this
is how jtt finds the user the data belongs to instead of starting a new,
empty one over it. Read with the standard library only (it runs while the
settings are loaded, before anything else is imported).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

# the user's data (the journal and counters are bookkeeping, not data)
DATA_TABLES = ("sessions", "projects", "manual_tasks", "billing_settings", "invoices", "tickets")


def local_owners(path: Path) -> dict[str, int]:
    """Records per user id in the SQLite store at ``path`` (read only);
    empty when there is no such file or it holds no jtt data."""
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return {}
    try:
        return count_owners(conn)
    finally:
        conn.close()


def count_owners(conn: sqlite3.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in DATA_TABLES:
        try:
            rows = conn.execute(f"SELECT user_id, COUNT(*) FROM {table} GROUP BY user_id")
        except sqlite3.Error:  # not (yet) a jtt store, or unreadable: nothing to say
            continue
        for user, count in rows:
            counts[str(user)] = counts.get(str(user), 0) + int(count)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def describe(owners: dict[str, int], *, limit: int = 5) -> str:
    """``'ann' (120 records), 'bob' (3 records)``."""
    shown = [f"'{user}' ({n} record{'s' * (n != 1)})" for user, n in list(owners.items())[:limit]]
    more = len(owners) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def others_if_none_mine(store: Any) -> dict[str, int]:
    """The store's owners, when this store holds no session of its user;
    else nothing, after one cheap read (counting every owner's records
    costs a scan: not for every command of someone whose data is there)."""
    if store.recent_sessions(limit=1):
        return {}
    return dict(store.owners())


def owner_warning(user_id: str, owners: dict[str, int]) -> str | None:
    """What to say when ``user_id`` has no records here but others do."""
    if owners.get(user_id) or not owners:
        return None
    if len(owners) == 1:
        ((other, count),) = owners.items()
        return (
            f"this store holds no data for user '{user_id}' but {count} record"
            f"{'s' * (count != 1)} of '{other}': if that is you (settings lost or moved?), "
            f"run `jtt user adopt {other}`"
        )
    return (
        f"this store holds no data for user '{user_id}' but data of {describe(owners)}: "
        "if one of them is you, run `jtt user adopt ID`"
    )
