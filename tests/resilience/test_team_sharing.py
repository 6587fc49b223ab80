"""Two people on one database (the real driver over the wire server): each
sees only their own sessions, both see the shared project and its team
total (summed in MongoDB), and concurrent edits of the shared project are a
conflict, never a lost update. The same on one SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jtt_tui.domain import FixedClock, Project, Segment, Session, SessionStatus
from jtt_tui.services.projects import ProjectService
from jtt_tui.storage import MongoStore, SQLiteStore
from jtt_tui.storage.errors import ConflictError
from tests.conftest import WIRE_OPTIONS

T = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _session(ticket: str, minutes: int) -> Session:
    return Session(
        ticket_number=ticket,
        status=SessionStatus.STOPPED,
        segments=[Segment(start=T, end=T + timedelta(minutes=minutes))],
    )


@pytest.fixture(params=["wire", "sqlite"])
def two_people(request, tmp_path):
    clock = FixedClock(T + timedelta(days=1))
    if request.param == "wire":
        server = request.getfixturevalue("wire")

        def open_as(user: str):
            return MongoStore(server.uri, "team", user_id=user, clock=clock, **WIRE_OPTIONS)
    else:

        def open_as(user: str):
            return SQLiteStore(tmp_path / "team.db", user_id=user, clock=clock)

    alice, bob = open_as("alice"), open_as("bob")
    alice.connect()
    bob.connect()
    yield alice, bob, request.param, (server if request.param == "wire" else None)
    alice.disconnect()
    bob.disconnect()


def test_shared_project_team_totals_and_private_sessions(two_people):
    alice, bob, backend, server = two_people
    shared = alice.save_project(Project(key="WEB", name="Website", team_members=["bob"]))
    alice.save_project(Project(key="OPS", name="Alice's own"))
    alice.save_session(_session("WEB-1", 90))
    alice.save_session(_session("OPS-1", 30))
    bob.save_session(_session("WEB-2", 45))
    carol_only = Session(ticket_number="WEB-3", status=SessionStatus.STOPPED,
                         segments=[Segment(start=T, end=T + timedelta(hours=5))])  # fmt: skip
    # someone not on the team tracking under the same key does not count
    if backend == "wire":
        carol = MongoStore(server.uri, "team", user_id="carol", clock=alice.clock, **WIRE_OPTIONS)
    else:
        carol = SQLiteStore(alice.path, user_id="carol", clock=alice.clock)
    carol.connect()
    carol.save_session(carol_only)
    carol.disconnect()

    assert sorted(alice.get_sessions()) == ["OPS-1", "WEB-1"]
    assert sorted(bob.get_sessions()) == ["WEB-2"]
    assert [p.key for p in bob.get_projects()] == ["WEB"]  # the shared one only
    expected = [("alice", timedelta(minutes=90)), ("bob", timedelta(minutes=45))]
    assert alice.team_time(shared) == expected
    assert bob.team_time(bob.get_project(shared.project_id)) == expected
    detail = ProjectService(bob).detail(bob.get_project(shared.project_id))
    assert sum((t for _, t in detail.team), timedelta(0)) == timedelta(minutes=135)
    # not on the team: nothing to see
    outsider = Project(key="OPS", name="x", user_id="alice")
    assert bob.team_time(outsider) == []


def test_concurrent_edits_of_the_shared_project_conflict(two_people):
    alice, bob, _, _ = two_people
    shared = alice.save_project(Project(key="WEB", name="Website", team_members=["bob"]))
    mine = alice.get_project(shared.project_id)
    theirs = bob.get_project(shared.project_id)
    mine.name = "Website (alice)"
    alice.save_project(mine)
    theirs.name = "Website (bob)"
    with pytest.raises(ConflictError):
        bob.save_project(theirs)  # stale: reload and re-apply, nothing overwritten
    assert bob.get_project(shared.project_id).name == "Website (alice)"
    updated = bob.update_project(shared.project_id, description="bob's note")
    assert updated.name == "Website (alice)" and updated.user_id == "alice"
