"""Storage: the ``Storage`` interface and its SQLite and MongoDB backends.

Names load on first use (PEP 562): ``jtt_tui.storage.errors`` stays cheap,
and commands on the local store never pay for importing pymongo.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jtt_tui.storage.base import ImportReport, KindReport, Storage
    from jtt_tui.storage.errors import (
        ConflictError,
        InvalidChangeError,
        NotFoundError,
        SchemaTooNewError,
        StorageError,
        StoreUnavailableError,
        redact,
    )
    from jtt_tui.storage.mongo_store import MongoStore
    from jtt_tui.storage.sqlite_store import SQLiteStore

_HOMES = {
    "jtt_tui.storage.base": ("ImportReport", "KindReport", "Storage"),
    "jtt_tui.storage.errors": (
        "ConflictError",
        "InvalidChangeError",
        "NotFoundError",
        "SchemaTooNewError",
        "StorageError",
        "StoreUnavailableError",
        "redact",
    ),
    "jtt_tui.storage.mongo_store": ("MongoStore",),
    "jtt_tui.storage.sqlite_store": ("SQLiteStore",),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "ConflictError",
    "ImportReport",
    "InvalidChangeError",
    "KindReport",
    "MongoStore",
    "NotFoundError",
    "SQLiteStore",
    "SchemaTooNewError",
    "Storage",
    "StorageError",
    "StoreUnavailableError",
    "redact",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
