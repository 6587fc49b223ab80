"""Records <-> MongoDB documents in the published schema.

camelCase field names come from the models' aliases; money is Decimal128,
dates are ``YYYY-MM-DD`` strings, durations are milliseconds. Session
documents also carry the schema's summary fields (``startTime``, ``endTime``,
``duration`` in ms, ``projectName``) so that other tools and aggregation
pipelines can use them; they are derived on write and ignored on read.
``lastActivity`` orders the recent list: the last end, or far in the future
while running.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from bson.decimal128 import Decimal128

from jtt_tui.domain.models import Record, Session
from jtt_tui.storage.crypto import NO_ENCRYPTION, FieldCipher
from jtt_tui.storage.kinds import MANUAL_TASKS, SESSIONS, Kind, R

SESSION_SUMMARY_FIELDS = ("startTime", "endTime", "duration", "projectName", "lastActivity")
# "still running" sorts after every real instant in "most recent first" order
RUNNING_SENTINEL = datetime(9999, 12, 31, tzinfo=UTC)


def _to_bson(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_bson(v) for v in value]
    if isinstance(value, Decimal):
        return Decimal128(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return value


def from_bson(value: Any) -> Any:
    """BSON values back to Python: Decimal128 -> Decimal, naive -> UTC datetimes."""
    if isinstance(value, dict):
        return {k: from_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_bson(v) for v in value]
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, datetime) and value.tzinfo is None:
        # pymongo returns naive UTC unless tz_aware is set; be explicit.
        return value.replace(tzinfo=UTC)
    return value


def to_document(kind: Kind, record: Record, cipher: FieldCipher = NO_ENCRYPTION) -> dict[str, Any]:
    doc: dict[str, Any] = _to_bson(record.model_dump(by_alias=True))
    cipher.seal(kind.name, kind.key_of(record), doc, camel=True)
    if kind is SESSIONS:
        assert isinstance(record, Session)
        doc["startTime"] = record.first_start
        doc["endTime"] = record.last_end
        doc["duration"] = int(record.closed_duration().total_seconds() * 1000)
        doc["projectName"] = record.project_key
        doc["lastActivity"] = (
            RUNNING_SENTINEL if record.open_segment is not None else record.last_end
        )
    return doc


def from_document(kind: Kind[R], doc: dict[str, Any], cipher: FieldCipher = NO_ENCRYPTION) -> R:
    data = {k: v for k, v in doc.items() if k != "_id"}
    cipher.open(kind.name, data, kind.mongo_key, camel=True)
    if kind is SESSIONS:
        for name in SESSION_SUMMARY_FIELDS:
            data.pop(name, None)
    if kind is MANUAL_TASKS and isinstance(data.get("duration"), int):
        data["duration"] = timedelta(milliseconds=data["duration"])
    return kind.model.model_validate(from_bson(data))
