"""A MongoDB wire-protocol server for tests, on 127.0.0.1.

The real pymongo driver talks to it over TCP (OP_MSG); each command is
carried out on an in-process mongomock-ng server, so data behaves like
MongoDB's for everything jtt uses. Faults can be switched on at any time:

- ``stop()`` / ``start()``: the server goes away and comes back on the same port
- ``mode = "hangup"``: every command is answered by closing the connection
- ``mode = "silent"``: nothing is ever answered (a hung server)
- ``mode = "auth_refused"``: authentication fails with code 18
- ``mode = "lose_replies"``: data commands are carried out, but their
  answers never arrive (pings are answered: the server looks alive)
- ``latency``: seconds added before every reply

Facts learnt building it: pymongo >= 4.20 refuses maxWireVersion < 8, every
command is OP_MSG with ``lsid`` and ``$db``, document batches arrive as type-1
sections (mockupdb merges them into the command document), and a handler that
raises would leave the client waiting, so every failure becomes an error reply.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import mongomock_ng
from mockupdb import MockupDB
from mongomock_ng.store import ServerStore
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

HANDSHAKE = {"hello", "ismaster", "isMaster".lower()}
SERVER_VERSION = "7.0.12"
_BOOKKEEPING = {
    "lsid",
    "$db",
    "$readPreference",
    "txnNumber",
    "$clusterTime",
    "autocommit",
    "startTransaction",
    "apiVersion",
    "apiStrict",
    "apiDeprecationErrors",
    "maxTimeMS",
    "writeConcern",
    "readConcern",
    "comment",
    "bypassDocumentValidation",
}


class WireServer:
    def __init__(self, port: int | None = None) -> None:
        self._store = ServerStore()
        self._client = mongomock_ng.MongoClient(_store=self._store)
        self._port = port
        self._server: MockupDB | None = None
        self._lock = threading.Lock()
        self._connection_ids = iter(range(1, 1_000_000))
        self.mode = "normal"
        # what connectionStatus reports (tests set users and roles)
        self.auth_info: dict[str, Any] = {"authenticatedUsers": [], "authenticatedUserRoles": []}
        self.latency = 0.0
        # a throttled server (Atlas's shared tiers, a slow link): each write
        # command takes this long per document it writes — and is applied
        # even when the client gave up waiting for the answer
        self.write_latency_per_doc = 0.0
        self.commands: list[str] = []  # names of the data commands received, in order

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> WireServer:
        server = MockupDB(port=self._port, auto_ismaster=None)
        # MockupDB binds "localhost" (which may resolve to ::1): pin IPv4 loopback
        server._address = ("127.0.0.1", self._port or 0)
        server.autoresponds(self._handle)
        self._port = server.run()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving now: the port is closed and every connection is cut
        before this returns. (MockupDB's own stop() then waits up to a second
        for its accept loop's select() to time out; that wait runs in the
        background so a restart does not have to sit through it.)"""
        server, self._server = self._server, None
        if server is None:
            return
        server._stopped = True
        # Wake the accept loop's select() at once: shut the listening socket
        # down through a second handle, after detaching it from the object
        # the loop uses (its accept() then fails with EBADF, which it ignores).
        listener = socket.socket(fileno=server._listening_sock.detach())
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for sock in list(server._server_socks):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        threading.Thread(target=server.stop, name="wire-stop", daemon=True).start()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        assert self._port is not None, "start the server first"
        return self._port

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def data(self) -> Any:
        """The mongomock client holding the server's data (for assertions)."""
        return self._client

    def count_commands(self, *names: str) -> int:
        return sum(1 for command in self.commands if command in names)

    # -- dispatch ----------------------------------------------------------------------

    def _handle(self, request: Any) -> bool:
        name = (request.command_name or "").lower()
        if self.latency:
            time.sleep(self.latency)
        if self.mode == "silent":
            return True  # "handled": the client waits for a reply that never comes
        if self.mode == "hangup" and name not in HANDSHAKE:
            return request.hangup()
        try:
            if name in HANDSHAKE:
                return request.replies(self._hello(request.doc))
            handler: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = getattr(
                self, f"_cmd_{name}", None
            )
            if handler is None:
                return request.command_err(59, f"no such command: '{name}'")
            self.commands.append(name)
            if self.write_latency_per_doc and name in ("insert", "update", "delete"):
                statements = doc_count(request.doc)
                time.sleep(self.write_latency_per_doc * statements)
            with self._lock:
                reply = handler(self._client[request.doc["$db"]], request.doc)
            if self.mode == "lose_replies" and name != "ping":
                return True  # done, but the answer never arrives
            return request.replies(reply)
        except OperationFailure as exc:
            return request.command_err(exc.code or 8, str(exc))
        except Exception as exc:  # never leave the client hanging
            return request.command_err(8, f"{type(exc).__name__}: {exc}")

    def _hello(self, doc: dict[str, Any]) -> dict[str, Any]:
        reply = {
            "ismaster": True,
            "isWritablePrimary": True,
            "helloOk": True,
            "maxWireVersion": 21,
            "minWireVersion": 0,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "localTime": datetime.now(UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": next(self._connection_ids),
            "readOnly": False,
        }
        if "saslSupportedMechs" in doc:
            reply["saslSupportedMechs"] = ["SCRAM-SHA-256", "SCRAM-SHA-1"]
        return reply

    # -- authentication: only refusing is needed by the tests ----------------------------

    def _cmd_saslstart(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        raise OperationFailure("Authentication failed.", code=18)

    _cmd_authenticate = _cmd_saslstart

    # -- commands ----------------------------------------------------------------------

    @staticmethod
    def _ok(**fields: Any) -> dict[str, Any]:
        return {"ok": 1, **fields}

    def _cmd_ping(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        return self._ok()

    def _cmd_buildinfo(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        return self._ok(version=SERVER_VERSION, versionArray=[7, 0, 12, 0])

    def _cmd_endsessions(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        return self._ok()

    _cmd_killcursors = _cmd_endsessions

    def _cmd_connectionstatus(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        return self._ok(authInfo=self.auth_info)

    def _cursor(self, db: Any, collection: str, docs: list[Any]) -> dict[str, Any]:
        return self._ok(cursor={"id": 0, "ns": f"{db.name}.{collection}", "firstBatch": docs})

    def _cmd_find(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        name = doc["find"]
        found = _find_by_keys(db[name], doc)
        if found is not None:
            return self._cursor(db, name, found)
        cursor = db[name].find(doc.get("filter") or {}, doc.get("projection"))
        if doc.get("sort"):
            cursor = cursor.sort(list(doc["sort"].items()))
        if doc.get("skip"):
            cursor = cursor.skip(doc["skip"])
        if doc.get("limit"):
            cursor = cursor.limit(abs(doc["limit"]))
        return self._cursor(db, name, list(cursor))

    def _cmd_aggregate(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        name = doc["aggregate"]
        return self._cursor(db, name, list(db[name].aggregate(doc["pipeline"])))

    def _cmd_count(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        return self._ok(n=db[doc["count"]].count_documents(doc.get("query") or {}))

    def _cmd_insert(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        collection = db[doc["insert"]]
        errors, n = [], 0
        for index, document in enumerate(doc.get("documents", [])):
            try:
                collection.insert_one(document)
                n += 1
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": 11000, "errmsg": str(exc)})
                if doc.get("ordered", True):
                    break
        return self._ok(n=n, **({"writeErrors": errors} if errors else {}))

    def _cmd_update(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        collection = db[doc["update"]]
        fast = _keyed_upserts(collection, doc.get("updates", []))
        if fast is not None:
            return self._ok(**fast)
        n = modified = 0
        upserted, errors = [], []
        for index, statement in enumerate(doc.get("updates", [])):
            method = collection.update_many if statement.get("multi") else collection.update_one
            try:
                result = method(
                    statement["q"], statement["u"], upsert=bool(statement.get("upsert"))
                )
            except DuplicateKeyError as exc:
                errors.append({"index": index, "code": 11000, "errmsg": str(exc)})
                if doc.get("ordered", True):
                    break
                continue
            n += result.matched_count
            modified += result.modified_count
            if result.upserted_id is not None:
                n += 1
                upserted.append({"index": index, "_id": result.upserted_id})
        reply = self._ok(n=n, nModified=modified)
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _cmd_delete(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        collection = db[doc["delete"]]
        n = 0
        for statement in doc.get("deletes", []):
            method = (
                collection.delete_one if statement.get("limit") == 1 else (collection.delete_many)
            )
            n += method(statement["q"]).deleted_count
        return self._ok(n=n)

    def _cmd_findandmodify(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        collection = db[doc["findAndModify"]]
        query = doc.get("query") or {}
        if doc.get("remove"):
            value = collection.find_one_and_delete(query, projection=doc.get("fields"))
            return self._ok(value=value, lastErrorObject={"n": int(value is not None)})
        existed = collection.count_documents(query) > 0
        try:
            value = collection.find_one_and_update(
                query,
                doc["update"],
                projection=doc.get("fields"),
                sort=list(doc["sort"].items()) if doc.get("sort") else None,
                upsert=bool(doc.get("upsert")),
                return_document=ReturnDocument.AFTER if doc.get("new") else (ReturnDocument.BEFORE),
            )
        except DuplicateKeyError as exc:
            raise OperationFailure(str(exc), code=11000) from None
        last_error = {"n": 1 if existed or doc.get("upsert") else 0, "updatedExisting": existed}
        return self._ok(value=value, lastErrorObject=last_error)

    def _cmd_createindexes(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        collection = db[doc["createIndexes"]]
        before = len(collection.index_information())
        for spec in doc.get("indexes", []):
            options = {k: v for k, v in spec.items() if k in ("name", "unique", "sparse")}
            collection.create_index(list(spec["key"].items()), **options)
        return self._ok(
            numIndexesBefore=before, numIndexesAfter=len(collection.index_information())
        )

    def _cmd_listindexes(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        name = doc["listIndexes"]
        indexes = []
        for index_name, info in db[name].index_information().items():
            entry = {"v": 2, "key": dict(info["key"]), "name": index_name}
            if info.get("unique"):
                entry["unique"] = True
            indexes.append(entry)
        return self._cursor(db, name, indexes)

    def _cmd_drop(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        db[doc["drop"]].drop()
        return self._ok()

    def _cmd_dropdatabase(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        self._client.drop_database(db.name)
        return self._ok()

    def _cmd_listcollections(self, db: Any, doc: dict[str, Any]) -> dict[str, Any]:
        names = db.list_collection_names()
        return self._cursor(
            db, "$cmd.listCollections", [{"name": n, "type": "collection"} for n in names]
        )


def doc_count(doc: dict[str, Any]) -> int:
    """How many documents a write command carries."""
    for field in ("documents", "updates", "deletes"):
        if field in doc:
            return len(doc[field])
    return 1


def _find_by_keys(collection: Any, doc: dict[str, Any]) -> list[Any] | None:
    """A plain ``find`` whose filter has ``field: {"$in": [...]}``: narrowed
    with a set first, then mongomock's own matching on the few candidates.
    (mongomock checks each document against each ``$in`` value: a bulk
    import's lookups of 500 keys in 10,000 documents took seconds each.)"""
    from mongomock_ng.filtering import filter_applies

    query = doc.get("filter") or {}
    if any(doc.get(option) for option in ("sort", "skip", "limit", "projection")):
        return None
    for field, condition in query.items():
        if field.startswith("$") or not isinstance(condition, dict):
            continue
        values = condition.get("$in")
        if set(condition) != {"$in"} or not isinstance(values, list):
            continue
        try:
            wanted = set(values)
        except TypeError:
            return None
        if any(isinstance(v, dict | list) for v in values):
            return None
        documents = list(collection._store.documents)  # test-side shortcut (releases its lock)
        return [
            document
            for document in documents
            if _may_match(document.get(field), wanted) and filter_applies(query, document)
        ]
    return None


def _may_match(value: Any, wanted: set[Any]) -> bool:
    if isinstance(value, list | dict):
        return True  # arrays match element-wise: let mongomock decide
    try:
        return value in wanted
    except TypeError:
        return True


def _keyed_upserts(collection: Any, statements: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Apply a batch of keyed upserts in one pass over the collection.

    mongomock scans every document for each statement, and again for each
    unique index, so a 10,000-record bulk import takes minutes (and starves
    the heartbeats). Bulk imports send exactly one shape — an equality filter
    on the fields of the collection's unique index, ``$set`` and
    ``$setOnInsert`` of top-level fields — which this applies with a dict
    index built once per command, with MongoDB's semantics for that shape
    (matched/modified/upserted counts, no duplicate keys possible). Anything
    else returns None and goes through mongomock."""
    from bson import ObjectId
    from mongomock_ng import helpers

    fields: tuple[str, ...] | None = None
    for statement in statements:
        query, update = statement.get("q", {}), statement.get("u")
        if statement.get("multi") or not statement.get("upsert") or not isinstance(update, dict):
            return None
        if not update or set(update) - {"$set", "$setOnInsert"}:
            return None
        if any(k.startswith("$") or "." in k or isinstance(v, dict) for k, v in query.items()):
            return None
        for part in update.values():
            if any(k.startswith("$") or "." in k or k == "_id" for k in part):
                return None
        shape = tuple(sorted(query))
        if fields not in (None, shape):
            return None
        fields = shape
    store = collection._store  # mongomock-ng's documents (test-side shortcut)
    uniques = [
        tuple(sorted(name for name, _ in index["key"]))
        for index in store.indexes.values()
        if index.get("unique")
    ]
    if fields is None or uniques != [fields]:
        return None
    documents = list(store.documents)  # (iterating holds mongomock's lock: finish first)
    try:
        index = {tuple(d.get(f) for f in fields): d for d in documents}
    except TypeError:  # an unhashable key value
        return None
    n = modified = 0
    upserted: list[dict[str, Any]] = []
    for position, statement in enumerate(statements):
        query, update = statement["q"], statement["u"]
        key = tuple(query[f] for f in fields)
        current = index.get(key)
        if current is None:
            new = {**query, **update.get("$setOnInsert", {}), **update.get("$set", {})}
            new["_id"] = ObjectId()
            new = helpers.patch_datetime_awareness_in_document(new)
            store[new["_id"]] = new
            index[key] = new
            upserted.append({"index": position, "_id": new["_id"]})
        else:
            changed = helpers.patch_datetime_awareness_in_document(
                {**current, **update.get("$set", {})}
            )
            if changed != current:
                store[current["_id"]] = changed
                index[key] = changed
                modified += 1
        n += 1
    reply: dict[str, Any] = {"n": n, "nModified": modified}
    if upserted:
        reply["upserted"] = upserted
    return reply
