"""MongoDB backend (pymongo): a local mongod, a replica set or Atlas.

Every query is scoped by ``userId`` (projects also by ``teamMembers``); a save
is one conditional ``find_one_and_update`` on ``version`` with
``$set``/``$setOnInsert``; imports go out as ``bulk_write`` batches; the
invoice counter is one ``$inc``. The client comes from an injectable factory
so tests can hand in ``mongomock`` or point the real driver at a wire-level
test server.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError, PyMongoError

from jtt_tui.domain.clock import Clock
from jtt_tui.domain.journal import JournalEntry, entry_id
from jtt_tui.domain.models import (
    BillingSettings,
    DataBundle,
    Invoice,
    InvoiceStatus,
    ManualTask,
    Project,
    Record,
    Session,
)
from jtt_tui.storage.base import (
    DAY_MS,
    READ_BATCH,
    UPDATE_ATTEMPTS,
    ImportMode,
    ImportReport,
    Offsets,
    ProjectTime,
    Storage,
    TrackedTime,
    Write,
    add_pieces,
    bundle_records,
    plan_import_record,
    sort_active,
    split_days,
    tracked_rows,
    visible_to,
)
from jtt_tui.storage.bulk import gc_paused
from jtt_tui.storage.errors import (
    ConflictError,
    StorageError,
    StoreUnavailableError,
    is_operation_timeout,
    redact,
)
from jtt_tui.storage.kinds import (
    ALL_KINDS,
    BILLING,
    INVOICES,
    JOURNAL,
    MANUAL_TASKS,
    PROJECTS,
    SESSIONS,
    Kind,
    R,
)
from jtt_tui.storage.mongo_codec import from_bson, from_document, to_document

ClientFactory = Callable[..., Any]

DEFAULT_BATCH_SIZE = 1000
# the smallest write batch a timeout halves a batch to before giving up
MIN_BATCH_SIZE = 8
PING_TIMEOUT_S = 1.5

# Indexes created on connect (idempotent), per collection.
INDEXES: dict[str, list[IndexModel]] = {
    "sessions": [
        IndexModel([("ticketNumber", ASCENDING)], name="ticketNumber"),
        IndexModel(
            [("userId", ASCENDING), ("ticketNumber", ASCENDING)],
            unique=True,
            name="userId_ticketNumber_unique",
        ),
        IndexModel([("userId", ASCENDING), ("startTime", DESCENDING)], name="userId_startTime"),
        IndexModel([("status", ASCENDING), ("userId", ASCENDING)], name="status_userId"),
        IndexModel(
            [("userId", ASCENDING), ("lastActivity", DESCENDING)], name="userId_lastActivity"
        ),
        # the app's "has anything changed?" read
        IndexModel([("userId", ASCENDING), ("updatedAt", DESCENDING)], name="userId_updatedAt"),
    ],
    "projects": [
        IndexModel([("projectId", ASCENDING)], unique=True, name="projectId_unique"),
        IndexModel([("userId", ASCENDING), ("status", ASCENDING)], name="userId_status"),
        IndexModel([("teamMembers", ASCENDING)], name="teamMembers"),
        IndexModel([("userId", ASCENDING), ("updatedAt", DESCENDING)], name="userId_updatedAt"),
        IndexModel(
            [("teamMembers", ASCENDING), ("updatedAt", DESCENDING)], name="teamMembers_updatedAt"
        ),
    ],
    "manual_tasks": [
        IndexModel([("taskId", ASCENDING)], unique=True, name="taskId_unique"),
        IndexModel([("userId", ASCENDING), ("date", DESCENDING)], name="userId_date"),
        IndexModel([("projectId", ASCENDING)], name="projectId"),
    ],
    "billing_settings": [
        IndexModel([("userId", ASCENDING)], unique=True, name="userId_unique"),
    ],
    "invoices": [
        IndexModel([("invoiceId", ASCENDING)], unique=True, name="invoiceId_unique"),
        IndexModel([("userId", ASCENDING), ("status", ASCENDING)], name="userId_status"),
        IndexModel([("clientId", ASCENDING)], name="clientId"),
    ],
    "tickets": [
        IndexModel(
            [("userId", ASCENDING), ("ticketNumber", ASCENDING)],
            unique=True,
            name="userId_ticketNumber_unique",
        ),
    ],
    # the undo journal: numbered per user (the unique number serialises writers)
    "journal": [
        IndexModel(
            [("userId", ASCENDING), ("entryId", DESCENDING)],
            unique=True,
            name="userId_entryId_unique",
        ),
        IndexModel([("userId", ASCENDING), ("at", ASCENDING)], name="userId_at"),
    ],
}

_TRANSACTIONAL_TOPOLOGIES = {"ReplicaSetWithPrimary", "Sharded", "LoadBalanced"}


def default_client_factory(uri: str, **options: Any) -> Any:
    from pymongo import MongoClient

    return MongoClient(uri, **options)


def _heartbeat_listener(store: MongoStore) -> Any:
    """A pymongo listener passing each server heartbeat's outcome to
    ``store.on_heartbeat`` (the driver checks the server every
    heartbeatFrequencyMS on its own thread: the quickest sign of an outage)."""
    from pymongo import monitoring

    class Heartbeats(monitoring.ServerHeartbeatListener):
        def started(self, event: Any) -> None:
            return None  # only the outcome matters

        def succeeded(self, event: Any) -> None:
            callback = store.on_heartbeat
            if callback is not None:
                callback(True)

        def failed(self, event: Any) -> None:
            callback = store.on_heartbeat
            if callback is not None:
                callback(False)

    return Heartbeats()


class MongoStore(Storage):
    def __init__(
        self,
        uri: str,
        database: str,
        *,
        user_id: str,
        client_factory: ClientFactory | None = None,
        clock: Clock | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        **options: Any,
    ) -> None:
        super().__init__(user_id, clock=clock)
        if not database or any(c in database for c in '/\\. "$\0'):
            raise ValueError(f"{database!r} is not a valid MongoDB database name")
        self.uri = uri
        self.database_name = database
        self._factory = client_factory or default_client_factory
        self._options = {"appname": "jtt", **options}
        self.batch_size = batch_size
        self.halvings = 0  # batches cut in half after a timeout (tests, the bench)
        # called with True / False after each driver heartbeat (see StorageService)
        self.on_heartbeat: Callable[[bool], None] | None = None
        self._client: Any = None
        self._db: Any = None
        self._stream: Any = None  # the change stream (False: refused, poll instead)

    # -- lifecycle -----------------------------------------------------------------

    @property
    def kind(self) -> str:
        return "mongodb"

    @property
    def location(self) -> str:
        return f"{redact(self.uri)} (database {self.database_name})"

    @property
    def client(self) -> Any:
        return self._client

    def connect(self) -> None:
        if self._client is not None:
            return
        client = None
        try:
            options = dict(self._options)
            options["event_listeners"] = [
                *options.get("event_listeners", []),
                _heartbeat_listener(self),
            ]
            client = self._factory(self.uri, **options)
            db = client[self.database_name]
            self._first_ping(client)
            for name, indexes in INDEXES.items():
                db[name].create_indexes(indexes)
        except StorageError:
            if client is not None:
                client.close()
            raise  # already in words (e.g. no password configured)
        except PyMongoError as exc:
            if client is not None:
                client.close()
            raise StoreUnavailableError(f"cannot use MongoDB at {redact(self.uri)}: {exc}") from exc
        except (ValueError, TypeError) as exc:
            # pymongo's URI parser raises plain ValueError for some mistakes
            # (e.g. a port that is not a number): still a settings problem
            from pymongo.errors import InvalidURI

            raise StoreUnavailableError(
                f"the MongoDB connection string is not valid: {exc}"
            ) from InvalidURI(str(exc))
        self._client, self._db = client, db

    def _first_ping(self, client: Any) -> None:
        """Reach the server within the server-selection timeout, even when the
        per-operation limit (timeoutMS) is longer — with timeoutMS set, the
        driver would otherwise keep looking for a server that long."""
        limit_ms = self._options.get("serverSelectionTimeoutMS")
        if limit_ms is None or "timeoutMS" not in self._options:
            client.admin.command("ping")
            return
        import pymongo

        budget_ms = min(float(limit_ms), float(self._options["timeoutMS"] or limit_ms))
        with pymongo.timeout(budget_ms / 1000):
            client.admin.command("ping")

    def disconnect(self) -> None:
        self._close_stream()
        client, self._client, self._db = self._client, None, None
        if client is not None:
            client.close()

    def is_connected(self) -> bool:
        return self._client is not None

    def health_check(self) -> bool:
        try:
            self.ping()
            return True
        except StorageError:
            return False

    def ping(self, timeout_s: float = PING_TIMEOUT_S) -> None:
        """One round trip, bounded by ``timeout_s`` whatever the client's
        timeouts: a dead or hung server is noticed in seconds."""
        if self._client is None:
            raise StoreUnavailableError("MongoDB is not connected")
        import pymongo

        with _translated(), pymongo.timeout(timeout_s):
            self._client.admin.command("ping")

    def _collection(self, kind: Kind) -> Any:
        if self._db is None:
            raise StoreUnavailableError("MongoDB is not connected (call connect() first)")
        return self._db[kind.name]

    # -- filters ---------------------------------------------------------------------

    def _visible(self, kind: Kind) -> dict[str, Any]:
        if kind is PROJECTS:
            return {"$or": [{"userId": self.user_id}, {"teamMembers": self.user_id}]}
        return {"userId": self.user_id}

    def _key_filter(self, kind: Kind, key: str) -> dict[str, Any]:
        filt: dict[str, Any] = {kind.mongo_key: key}
        if kind.per_user_key:
            filt["userId"] = self.user_id
        return filt

    # -- primitives ------------------------------------------------------------------

    def _load(self, kind: Kind[R], key: str) -> R | None:
        with _translated():
            doc = self._collection(kind).find_one(
                {**self._key_filter(kind, key), **self._visible(kind)}
            )
        return from_document(kind, doc, self.cipher) if doc else None

    def _load_all(self, kind: Kind[R]) -> list[R]:
        with _translated(), gc_paused():
            docs = list(self._collection(kind).find(self._visible(kind)).sort("_id", ASCENDING))
            return [from_document(kind, doc, self.cipher) for doc in docs]

    def iter_records(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Iterator[R]:
        # MongoDB compares strings by their UTF-8 bytes: Python's (code point) order
        with _translated():
            cursor = (
                self._collection(kind)
                .find(self._visible(kind), batch_size=batch_size)
                .sort(kind.mongo_key, ASCENDING)
            )
            try:
                for doc in cursor:
                    yield from_document(kind, doc, self.cipher)
            finally:
                cursor.close()

    def raw_records(self, kind: Kind) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, stored document) of this user's own records, unopened."""
        with _translated():
            docs = list(self._collection(kind).find({"userId": self.user_id}, {"_id": 0}))
        for doc in docs:
            yield str(doc.get(kind.mongo_key, "")), from_bson(doc)

    def rewrite_records(self, kind: Kind, keys: Sequence[str]) -> int:
        """Write these records back unchanged (same version) in their stored
        form under the current cipher; each write is conditional on the
        version read, so a concurrent edit is re-read, never overwritten."""
        done = 0
        for key in keys:
            for _attempt in range(UPDATE_ATTEMPTS):
                record = self._load(kind, key)
                if record is None:
                    break
                try:
                    self._store(kind, record, record.version)
                except ConflictError:
                    continue
                done += 1
                break
            else:
                raise ConflictError(kind.label, key, 0, None, detail="it keeps changing; try again")
        return done

    def _store(self, kind: Kind[R], record: R, expected_version: int, *, session: Any = None) -> R:
        key = kind.key_of(record)
        doc = to_document(kind, record, self.cipher)
        on_insert = {"createdAt": doc.pop("createdAt"), "userId": doc.pop("userId")}
        doc.pop(kind.mongo_key, None)
        filt = self._key_filter(kind, key)
        if expected_version == 0:
            # Matches nothing that was ever saved (versions start at 1): the
            # upsert inserts, or trips the unique index if the key exists.
            filt["version"] = {"$exists": False}
            on_insert[kind.mongo_key] = key
        else:
            filt.update(self._visible(kind))
            filt["version"] = expected_version
        collection = self._collection(kind)
        try:
            with _translated():
                stored = collection.find_one_and_update(
                    filt,
                    {"$set": doc, "$setOnInsert": on_insert},
                    upsert=expected_version == 0,
                    projection={"createdAt": 1, "userId": 1, "_id": 0},
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
        except StorageError as exc:
            if not isinstance(exc.__cause__, DuplicateKeyError):
                raise
            stored = None
        if stored is None:
            current = None if session is not None else self._load(kind, key)
            raise ConflictError(
                kind.label, key, expected_version, current.version if current else None
            )
        record.user_id = stored.get("userId", record.user_id)
        if stored.get("createdAt") is not None:
            record.created_at = from_bson(stored["createdAt"])
        return record

    def _remove(self, kind: Kind, key: str) -> bool:
        with _translated():
            result = self._collection(kind).delete_one(
                {**self._key_filter(kind, key), "userId": self.user_id}
            )
        return bool(result.deleted_count)

    def _delete(self, kind: Kind, key: str, expected_version: int, *, session: Any = None) -> None:
        with _translated():
            result = self._collection(kind).delete_one(
                {
                    **self._key_filter(kind, key),
                    "userId": self.user_id,
                    "version": expected_version,
                },
                session=session,
            )
        if not result.deleted_count:
            current = None if session is not None else self._load(kind, key)
            raise ConflictError(
                kind.label, key, expected_version, current.version if current else None
            )

    def _commit(self, writes: Sequence[Write]) -> list[Record | None]:
        """One multi-document transaction where the deployment has them;
        on a standalone server the writes go in order (the journal entry
        first: its number is taken or the change stops there) and the earlier
        ones are taken back if a later one conflicts."""
        if not self._transactional():
            return super()._commit(writes)
        stored: list[Record | None] = []
        with self._transaction() as session:
            for write in writes:
                if write.record is None:
                    self._delete(write.kind, write.key, write.expected_version, session=session)
                    stored.append(None)
                else:
                    stored.append(
                        self._store(
                            write.kind, write.record, write.expected_version, session=session
                        )
                    )
        return stored

    # -- queries ---------------------------------------------------------------------

    def tracked_time(self, start: datetime, end: datetime, offsets: Offsets) -> list[TrackedTime]:
        """One aggregation: segments unwound and clipped to the range; those
        within one local day (the offset in force applied by $switch) are
        summed per day, project and ticket; the rare ones across local
        midnight come back whole ($facet) and are split here."""
        # naive UTC: BSON dates carry no zone (the driver reads naive as UTC)
        epoch = datetime(1970, 1, 1)
        naive = {
            name: moment.astimezone(UTC).replace(tzinfo=None)
            for name, moment in (("lo", start), ("hi", end), ("now", self.clock.now()))
        }

        def local_day(field: Any) -> dict[str, Any]:
            branches = [
                {"case": {"$gte": [field, since]}, "then": value}
                for since, value in reversed(offsets[1:])
            ]
            offset: Any = (
                {"$switch": {"branches": branches, "default": offsets[0][1]}}
                if branches
                else offsets[0][1]
            )
            return {"$floor": {"$divide": [{"$add": [field, offset]}, DAY_MS]}}

        pipeline = [
            {
                "$match": {
                    "userId": self.user_id,
                    "startTime": {"$lt": end},
                    "$or": [{"endTime": {"$gte": start}}, {"endTime": None}],
                }
            },
            {"$unwind": "$segments"},
            {
                "$project": {
                    "_id": 0,
                    "ticket": "$ticketNumber",
                    "project": "$projectId",
                    "s": {"$max": ["$segments.startTime", naive["lo"]]},
                    "e": {"$min": [{"$ifNull": ["$segments.endTime", naive["now"]]}, naive["hi"]]},
                }
            },
            {"$match": {"$expr": {"$lt": ["$s", "$e"]}}},
            {
                "$project": {
                    "ticket": 1,
                    "project": 1,
                    "s": {"$subtract": ["$s", epoch]},  # dates: milliseconds
                    "e": {"$subtract": ["$e", epoch]},
                }
            },
            {
                "$project": {
                    "ticket": 1,
                    "project": 1,
                    "s": 1,
                    "e": 1,
                    "ds": local_day("$s"),
                    "de": local_day({"$subtract": ["$e", 1]}),
                }
            },
            {
                "$facet": {
                    "days": [
                        {"$match": {"$expr": {"$eq": ["$ds", "$de"]}}},
                        {
                            "$group": {
                                "_id": {"day": "$ds", "project": "$project", "ticket": "$ticket"},
                                "ms": {"$sum": {"$subtract": ["$e", "$s"]}},
                            }
                        },
                    ],
                    "crossing": [
                        {"$match": {"$expr": {"$ne": ["$ds", "$de"]}}},
                        {"$project": {"_id": 0, "ticket": 1, "project": 1, "s": 1, "e": 1}},
                    ],
                }
            },
        ]
        with _translated():
            (result,) = list(self._collection(SESSIONS).aggregate(pipeline))
        totals: dict[tuple[int, str | None, str], int] = {}
        for row in result["days"]:
            group = row["_id"]
            pieces = [(int(group["day"]), int(row["ms"]))]
            add_pieces(totals, group.get("project"), group["ticket"], pieces)
        for row in result["crossing"]:
            pieces = split_days(int(row["s"]), int(row["e"]), offsets)
            add_pieces(totals, row.get("project"), row["ticket"], pieces)
        return tracked_rows(totals)

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        query = {
            "userId": self.user_id,
            "startTime": {"$lt": end},
            "$or": [{"endTime": {"$gte": start}}, {"endTime": None}],
        }
        with _translated():
            docs = list(self._collection(SESSIONS).find(query).sort("startTime", ASCENDING))
        now = self.clock.now()
        sessions = [from_document(SESSIONS, doc, self.cipher) for doc in docs]
        return [s for s in sessions if s.touches(start, end, now)]

    def active_sessions(self) -> list[Session]:
        query = {"userId": self.user_id, "status": {"$in": ["running", "paused"]}}
        with _translated():
            docs = list(self._collection(SESSIONS).find(query))
        return sort_active([from_document(SESSIONS, doc, self.cipher) for doc in docs])

    def recent_sessions(
        self, limit: int = 50, offset: int = 0, text: str | None = None
    ) -> list[Session]:
        query: dict[str, Any] = {"userId": self.user_id}
        if text and text.strip():
            # a literal substring: the user's text is escaped, never a pattern
            pattern = {"$regex": re.escape(text.strip()), "$options": "i"}
            query["$or"] = [{"ticketNumber": pattern}, {"ticketName": pattern}]
        with _translated():
            docs = list(
                self._collection(SESSIONS)
                .find(query)
                .sort([("lastActivity", DESCENDING), ("_id", DESCENDING)])
                .skip(offset)
                .limit(limit)
            )
        return [from_document(SESSIONS, doc, self.cipher) for doc in docs]

    def team_time(self, project: Project) -> list[tuple[str, timedelta]]:
        """One aggregation over every member's sessions on the project."""
        if not visible_to(PROJECTS, project, self.user_id):
            return []
        members = sorted({project.user_id or self.user_id, *project.team_members})
        pipeline = [
            {
                "$match": {
                    "userId": {"$in": members},
                    "$or": [
                        {"projectId": project.project_id},
                        {"projectId": None, "projectName": project.key},
                    ],
                }
            },
            {"$group": {"_id": "$userId", "ms": {"$sum": "$duration"}}},
            {"$sort": {"_id": 1}},
        ]
        with _translated():
            rows = list(self._collection(SESSIONS).aggregate(pipeline))
        return [(row["_id"], timedelta(milliseconds=int(row["ms"] or 0))) for row in rows]

    def time_by_project(self) -> list[ProjectTime]:
        pipeline = [
            {"$match": {"userId": self.user_id}},
            {
                "$group": {
                    "_id": {"projectId": "$projectId", "key": "$projectName"},
                    "ms": {"$sum": "$duration"},
                }
            },
        ]
        with _translated():
            rows = list(self._collection(SESSIONS).aggregate(pipeline))
        return [
            ProjectTime(
                row["_id"].get("projectId"),
                row["_id"].get("key") or "",
                timedelta(milliseconds=int(row["ms"])),
            )
            for row in rows
        ]

    def sessions_for_project(self, project_id: str, key: str) -> list[Session]:
        query = {
            "userId": self.user_id,
            "$or": [{"projectId": project_id}, {"projectId": None, "projectName": key}],
        }
        with _translated():
            docs = list(self._collection(SESSIONS).find(query).sort("startTime", ASCENDING))
        return [from_document(SESSIONS, doc, self.cipher) for doc in docs]

    def manual_tasks_between(self, first: date, last: date) -> list[ManualTask]:
        query = {
            "userId": self.user_id,
            "date": {"$gte": first.isoformat(), "$lte": last.isoformat()},
        }
        with _translated():
            docs = list(self._collection(MANUAL_TASKS).find(query).sort("date", ASCENDING))
        return [from_document(MANUAL_TASKS, doc, self.cipher) for doc in docs]

    def get_invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Invoice]:
        query: dict[str, Any] = {"userId": self.user_id}
        if status is not None:
            query["status"] = InvoiceStatus(status).value
        if client_id is not None:
            query["clientId"] = str(client_id)
        if project_id is not None:
            query["projectId"] = str(project_id)
        with _translated():
            docs = list(
                self._collection(INVOICES)
                .find(query)
                .sort([("issueDate", DESCENDING), ("invoiceNumber", DESCENDING)])
            )
        return [from_document(INVOICES, doc, self.cipher) for doc in docs]

    # -- change notification ---------------------------------------------------------

    def change_token(self) -> Hashable:
        """The newest journal entry (every change a user makes, also one
        that deletes), the newest session write (Jira links, written without
        the journal) and the newest write to a project this user can see (a
        teammate's): three indexed reads of one field each."""
        newest = {"projection": {"updatedAt": 1, "_id": 0}, "sort": [("updatedAt", DESCENDING)]}
        with _translated():
            session = self._collection(SESSIONS).find_one({"userId": self.user_id}, **newest)
            project = self._collection(PROJECTS).find_one(self._visible(PROJECTS), **newest)
        return (
            self.last_journal_seq(),
            session.get("updatedAt") if session else None,
            project.get("updatedAt") if project else None,
        )

    def wait_for_change(self, timeout_s: float) -> bool | None:
        """On a replica set (Atlas always is) the server tells: a change
        stream on the database, held open across calls; None on a standalone
        server (or where change streams are refused), where the watcher polls."""
        if self._stream is False or not self._transactional():
            return None
        try:
            with _translated():
                if self._stream is None:
                    self._stream = self._db.watch(
                        [{"$match": {"ns.coll": {"$in": [k.name for k in ALL_KINDS]}}}],
                        max_await_time_ms=max(int(timeout_s * 1000), 1),
                    )
                return self._stream.try_next() is not None
        except StorageError as exc:
            from pymongo.errors import OperationFailure

            if isinstance(exc.__cause__, OperationFailure):
                self._stream = False  # not allowed here: poll from now on
                return None
            self._close_stream()
            raise

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream not in (None, False):
            with contextlib.suppress(PyMongoError):
                stream.close()

    # -- the journal ---------------------------------------------------------------

    def journal_entries(self, limit: int = 20, before: int | None = None) -> list[JournalEntry]:
        query: dict[str, Any] = {"userId": self.user_id}
        if before is not None:
            query["entryId"] = {"$lt": entry_id(before)}
        with _translated():
            docs = list(
                self._collection(JOURNAL).find(query).sort("entryId", DESCENDING).limit(limit)
            )
        return [from_document(JOURNAL, doc, self.cipher) for doc in docs]

    def last_journal_seq(self) -> int:
        with _translated():
            doc = self._collection(JOURNAL).find_one(
                {"userId": self.user_id},
                projection={"entryId": 1, "_id": 0},
                sort=[("entryId", DESCENDING)],
            )
        return int(doc["entryId"]) if doc else 0

    def prune_journal(self, keep: int, older_than: datetime) -> int:
        collection = self._collection(JOURNAL)
        with _translated():
            cutoff = list(
                collection.find({"userId": self.user_id}, projection={"entryId": 1, "_id": 0})
                .sort("entryId", DESCENDING)
                .skip(max(keep, 0))
                .limit(1)
            )
            condition: list[dict[str, Any]] = [{"at": {"$lt": older_than}}]
            if cutoff:
                condition.append({"entryId": {"$lte": cutoff[0]["entryId"]}})
            result = collection.delete_many({"userId": self.user_id, "$or": condition})
        return int(result.deleted_count)

    def next_invoice_number(self) -> str:
        collection = self._collection(BILLING)
        for _ in range(2):
            with _translated():
                after = collection.find_one_and_update(
                    {"userId": self.user_id},
                    {
                        "$inc": {"nextInvoiceNumber": 1, "version": 1},
                        "$set": {"updatedAt": self.clock.now()},
                    },
                    projection={"nextInvoiceNumber": 1, "invoicePrefix": 1, "_id": 0},
                    return_document=ReturnDocument.AFTER,
                )
            if after is not None:
                settings = BillingSettings(invoice_prefix=after.get("invoicePrefix", ""))
                return settings.format_invoice_number(int(after["nextInvoiceNumber"]) - 1)
            self._create_default_billing()
        raise StorageError("could not create the billing settings to number the invoice")

    def _create_default_billing(self) -> None:
        now = self.clock.now()
        defaults = BillingSettings(user_id=self.user_id, version=1, created_at=now, updated_at=now)
        with _translated():
            self._collection(BILLING).update_one(
                {"userId": self.user_id},
                {"$setOnInsert": to_document(BILLING, defaults, self.cipher)},
                upsert=True,
            )

    # -- bulk ------------------------------------------------------------------------

    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        if mode not in ("merge", "replace"):
            raise ValueError("mode must be 'merge' or 'replace'")
        while True:
            try:
                return self._import_once(bundle, mode, journal)
            except StorageError as exc:
                # in a transaction a timeout aborted all of it: plan it again
                # and send it in smaller batches (outside one, _bulk_write
                # halves the batch that timed out and goes on)
                if not (self._transactional() and is_operation_timeout(exc)):
                    raise
                if self.batch_size <= MIN_BATCH_SIZE:
                    raise
                self.batch_size = max(MIN_BATCH_SIZE, self.batch_size // 2)
                self.halvings += 1

    def _import_once(
        self, bundle: DataBundle, mode: ImportMode, journal: JournalEntry | None
    ) -> ImportReport:
        report = ImportReport(mode=mode)
        now = self.clock.now()
        # Plan everything first (reads only): a conflict aborts before any write.
        plans = [
            (kind, records, self._plan_import(kind, records, report, now))
            for kind, records in bundle_records(bundle, self.user_id)
        ]
        with self._transaction() as session:
            if journal is not None:  # first: a taken number stops the import here
                self._store(JOURNAL, journal, 0, session=session)
            for kind, records, operations in plans:
                collection = self._collection(kind)
                self._bulk_write(collection, operations, session)
                if mode == "replace":
                    # Delete what the bundle does not have only after writing
                    # it, so an interrupted replace never leaves less data.
                    keep = [kind.key_of(r) for r in records]
                    with _translated():
                        result = collection.delete_many(
                            {"userId": self.user_id, kind.mongo_key: {"$nin": keep}},
                            session=session,
                        )
                    report.for_kind(kind).deleted = result.deleted_count
        return report

    def _bulk_write(self, collection: Any, operations: list[UpdateOne], session: Any) -> None:
        """Send the operations in batches. A batch that outlasts the time
        limit (a throttled server, a slow link) is sent again in halves, down
        to ``MIN_BATCH_SIZE`` — the upserts are idempotent, so a batch the
        server applied after the client gave up is simply written again — and
        later batches keep the smaller size. Inside a transaction a timeout
        has aborted it: that is left to the caller."""
        start = 0
        while start < len(operations):
            batch = operations[start : start + self.batch_size]
            try:
                with _translated():
                    collection.bulk_write(batch, ordered=True, session=session)
            except StorageError as exc:
                if session is not None or not is_operation_timeout(exc):
                    raise
                if len(batch) <= MIN_BATCH_SIZE:
                    raise StorageError(
                        f"{exc} (even a write of {len(batch)} records outlasted the time limit)"
                    ) from exc
                self.batch_size = max(MIN_BATCH_SIZE, len(batch) // 2)
                self.halvings += 1
                continue
            start += len(batch)

    def _plan_import(
        self, kind: Kind, records: Sequence[Record], report: ImportReport, now: datetime
    ) -> list[UpdateOne]:
        operations: list[UpdateOne] = []
        collection = self._collection(kind)
        for start in range(0, len(records), self.batch_size):
            batch = records[start : start + self.batch_size]
            query: dict[str, Any] = {kind.mongo_key: {"$in": [kind.key_of(r) for r in batch]}}
            if kind.per_user_key:
                query["userId"] = self.user_id
            with _translated():
                docs = list(collection.find(query))
            existing: dict[str, Record] = {}
            for doc in docs:
                record = from_document(kind, doc, self.cipher)
                if not visible_to(kind, record, self.user_id):
                    raise ConflictError(
                        kind.label,
                        kind.key_of(record),
                        0,
                        record.version,
                        detail="the id belongs to another user's record",
                    )
                existing[kind.key_of(record)] = record
            for incoming in batch:
                key = kind.key_of(incoming)
                stored = plan_import_record(
                    kind, existing.get(key), incoming, report, user_id=self.user_id, now=now
                )
                if stored is None:
                    continue
                doc = to_document(kind, stored, self.cipher)
                created_at = doc.pop("createdAt")
                operations.append(
                    UpdateOne(
                        self._key_filter(kind, key),
                        {"$set": doc, "$setOnInsert": {"createdAt": created_at}},
                        upsert=True,
                    )
                )
        return operations

    def _transactional(self) -> bool:
        topology = getattr(self._client, "topology_description", None)
        return getattr(topology, "topology_type_name", None) in _TRANSACTIONAL_TOPOLOGIES

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A multi-document transaction where the deployment has them (replica
        sets, sharded clusters, Atlas); a standalone mongod has none, so there
        the writes are idempotent upserts that a re-run completes."""
        if not self._transactional():
            yield None
            return
        with _translated(), self._client.start_session() as session, session.start_transaction():
            yield session

    def count_records(self) -> dict[str, int]:
        with _translated():
            return {
                kind.name: self._collection(kind).count_documents(self._visible(kind))
                for kind in ALL_KINDS
            }

    def owners(self) -> dict[str, int]:
        """Records per user id in this database (a team's: for `jtt doctor`)."""
        from jtt_tui.storage.owners import DATA_TABLES

        counts: dict[str, int] = {}
        with _translated():
            for kind in ALL_KINDS:
                if kind.name not in DATA_TABLES:
                    continue
                pipeline = [{"$group": {"_id": "$userId", "n": {"$sum": 1}}}]
                for row in self._collection(kind).aggregate(pipeline):
                    user = str(row["_id"])
                    counts[user] = counts.get(user, 0) + int(row["n"])
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def server_info(self) -> dict[str, Any]:
        """Version and similar facts about the server (for `jtt doctor`)."""
        with _translated():
            info = self._client.server_info() if self._client is not None else {}
        return dict(info)

    def connection_status(self) -> dict[str, Any]:
        """Who this connection is authenticated as, with roles and
        privileges (``connectionStatus`` with ``showPrivileges``)."""
        with _translated():
            if self._client is None:
                return {}
            reply = self._client.admin.command({"connectionStatus": 1, "showPrivileges": True})
        return dict(reply.get("authInfo", {}))

    def index_names(self) -> dict[str, set[str]]:
        with _translated():
            return {
                kind.name: set(self._collection(kind).index_information()) for kind in ALL_KINDS
            }


@contextmanager
def _translated() -> Iterator[None]:
    """Driver errors become StorageError (redacted); the original stays as
    ``__cause__`` for classification by the resilience layer."""
    try:
        yield
    except PyMongoError as exc:
        raise StorageError(f"MongoDB: {exc}") from exc
