"""Storage: the ``Storage`` interface and its SQLite and MongoDB backends.

``MongoStore`` is imported lazily so that commands running on the local store
never pay for importing pymongo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from jtt_tui.storage.sqlite_store import SQLiteStore

if TYPE_CHECKING:
    from jtt_tui.storage.mongo_store import MongoStore

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
    if name == "MongoStore":
        from jtt_tui.storage.mongo_store import MongoStore

        return MongoStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
