"""Shared fixtures: a frozen clock, and stores of every backend.

``make_store`` builds connected stores that share one backing store (one
SQLite file, or one mongomock client), so tests can open it as several users
or reopen it as after a restart. The MongoDB client is injected through the
store's ``client_factory``; nothing global is patched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jtt_tui.domain.clock import FixedClock
from jtt_tui.storage import Storage

# sqlite: the embedded store; mongomock: MongoStore on an in-process fake;
# wire: MongoStore through the real pymongo driver over TCP (tests/support)
BACKENDS = ["sqlite", "mongomock", "wire"]
START = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday

StoreFactory = Callable[..., Storage]

# The command server (jtt_tui/cmdserver.py) is on by default for users; the
# suite's own `jtt` processes run on their own so no server outlives the
# tests. tests/cli/test_command_server.py turns it on, in a folder of its own.
os.environ["JTT_SERVER"] = "off"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test runs on an in-memory keyring: no test touches a real one."""
    import keyring

    from tests.support.keyrings import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    """A host without a usable keyring (a bare SSH server)."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


_JTT_VARIABLES = (
    "MONGODB_",
    "JTT_",
    "DEFAULT_USER_ID",
    "ENABLE_MULTI_USER",
    "LOCAL_",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture
def jtt_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An isolated environment: own config and data folders, no .env in the
    working directory, none of the developer's MONGODB_/JTT_ variables."""
    for name in list(os.environ):
        if name.startswith(_JTT_VARIABLES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    env = {
        "JTT_CONFIG_DIR": str(home / "config"),
        "JTT_DATA_DIR": str(home / "data"),
        "JTT_LOG_DIR": str(home / "logs"),  # never the developer's own log
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def mongomock_server():
    """An in-process stand-in for one MongoDB server: returns a client factory
    whose clients all share the same data.

    Test-side shim: mongomock-ng's ``MongoClient.close()`` wipes its databases,
    whereas a real server keeps them when a client disconnects; the clients
    made here only mark themselves closed, so a test can "restart the app"
    (close the store, open a new one) and find its data.
    """
    import mongomock_ng
    from mongomock_ng.store import ServerStore

    class ClientOfSharedServer(mongomock_ng.MongoClient):
        def close(self) -> None:
            self._closed = True

    server = ServerStore()

    def client_factory(uri: str, **options):
        return ClientOfSharedServer(_store=server)

    return client_factory


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def wire():
    """A wire-level MongoDB server of this test's own, to stop, hang or break."""
    from tests.support.wire_server import WireServer

    server = WireServer().start()
    yield server
    server.mode = "normal"
    server.stop()


@pytest.fixture(scope="session")
def wire_server_shared():
    """One wire-level MongoDB server for the whole run (each test uses its
    own databases); stopping one takes about a second."""
    from tests.support.wire_server import WireServer

    server = WireServer().start()
    yield server
    server.stop()


WIRE_OPTIONS = {
    "serverSelectionTimeoutMS": 2000,
    "connectTimeoutMS": 2000,
    "heartbeatFrequencyMS": 1000,
    "tz_aware": True,
}


@pytest.fixture
def make_store(
    backend: str, tmp_path: Path, clock: FixedClock, request: pytest.FixtureRequest
) -> Iterator[StoreFactory]:
    opened: list[Storage] = []
    servers: dict[str, Callable] = {}
    run = os.urandom(4).hex()

    def factory(
        user_id: str = "alice", *, where: str = "main", connect: bool = True, **kwargs
    ) -> Storage:
        """A store for ``user_id``; stores with the same ``where`` share data."""
        store: Storage
        if backend == "sqlite":
            from jtt_tui.storage import SQLiteStore

            store = SQLiteStore(tmp_path / f"{where}.db", user_id=user_id, clock=clock, **kwargs)
        elif backend == "wire":
            from jtt_tui.storage import MongoStore

            server = request.getfixturevalue("wire_server_shared")
            store = MongoStore(
                server.uri,
                f"t{run}_{where}",
                user_id=user_id,
                clock=clock,
                **{**WIRE_OPTIONS, **kwargs},
            )
        else:
            from jtt_tui.storage import MongoStore

            store = MongoStore(
                "mongodb://localhost:27017",
                "jtt_test",
                user_id=user_id,
                clock=clock,
                client_factory=servers.setdefault(where, mongomock_server()),
                **kwargs,
            )
        if connect:
            store.connect()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.disconnect()


@pytest.fixture
def store(make_store: StoreFactory) -> Storage:
    return make_store()


# The long tests, marked `slow` here in one place so that `pytest -m "not slow"`
# is a quick loop (CI runs everything): command-line flows (a process per
# command), the real terminal (tmux), kill -9 and outage cycles, big migrations,
# the hostile-file corpus (a process per file) and Jira retry loops.
_SLOW_FILES = (
    "tests/cli/",
    "tests/ui/test_real_terminal.py",
    "tests/ui/test_recovery.py",
    "tests/ui/test_clicks.py",
    "tests/ui/test_small_screens.py",
    "tests/storage/test_sqlite_processes.py",
    "tests/storage/test_migrate_kill.py",
    "tests/storage/test_hostile_corpus.py",
    "tests/resilience/test_outbox.py",
    "tests/resilience/test_switch.py",
    "tests/resilience/test_dual_write.py",
)
_SLOW_TESTS = (
    "test_10000_records_take_one_write_command_per_batch",
    "test_a_throttled_server_gets_smaller_batches_and_the_migration_completes",
    "test_when_even_a_small_batch_times_out_the_hint_names_the_operation_limit",
    "test_queued_pushes_are_sent_by_the_app_when_jira_is_back",
    "test_every_key_pressed_while_the_store_opens_waits_for_it",
    "test_the_wheel_ships_the_stylesheets",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        name = item.name.split("[")[0]
        if where.startswith(_SLOW_FILES) or name in _SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
