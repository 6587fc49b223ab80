"""Storage contract, part 4: several writes as one change (``commit``) and
the undo journal. Every test runs against each backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jtt_tui.domain import Segment, Session, SessionStatus
from jtt_tui.domain.journal import JournalEntry, JournalImage, entry_id
from jtt_tui.storage import ConflictError
from jtt_tui.storage.base import Write
from jtt_tui.storage.kinds import JOURNAL, SESSIONS
from tests.conftest import START


def _session(ticket: str, minutes: int = 30) -> Session:
    return Session(
        ticket_number=ticket,
        status=SessionStatus.STOPPED,
        segments=[Segment(start=START, end=START + timedelta(minutes=minutes))],
    )


def _entry(seq: int, store, *, minutes_ago: int = 0, **fields) -> JournalEntry:
    return JournalEntry(
        entry_id=entry_id(seq),
        at=store.clock.now() - timedelta(minutes=minutes_ago),
        action="test",
        description=f"change {seq}",
        **fields,
    )


def _journal_write(entry: JournalEntry) -> Write:
    return Write(JOURNAL, entry.entry_id, entry, 0)


class TestCommit:
    def test_several_writes_land_together(self, store):
        one = store.save_session(_session("WEB-1"))
        changed = one.model_copy(update={"notes": "changed"})
        new = _session("WEB-2")
        stored = store.commit(
            [
                _journal_write(_entry(1, store)),
                Write(SESSIONS, "WEB-1", changed, one.version, before=one),
                Write(SESSIONS, "WEB-2", new, 0),
            ]
        )
        assert [r.version for r in stored] == [1, 2, 1]
        assert store.get_session("WEB-1").notes == "changed"
        assert store.get_session("WEB-2") is not None
        assert store.last_journal_seq() == 1

    def test_a_stale_version_anywhere_changes_nothing(self, store):
        one = store.save_session(_session("WEB-1"))
        two = store.save_session(_session("WEB-2"))
        stale = two.model_copy(update={"notes": "mine"})
        store.save_session(two.model_copy(update={"notes": "theirs"}))  # two is now v2
        with pytest.raises(ConflictError):
            store.commit(
                [
                    _journal_write(_entry(1, store)),
                    Write(SESSIONS, "WEB-1", one.model_copy(update={"notes": "x"}), 1, before=one),
                    Write(SESSIONS, "WEB-2", stale, 1, before=two),
                ]
            )
        # (a store without transactions takes the first write back with a
        # new version: the content is what counts)
        assert store.get_session("WEB-1").notes == ""
        assert store.get_session("WEB-2").notes == "theirs"
        assert store.last_journal_seq() == 0

    def test_deletes_are_conditional_on_the_version(self, store):
        one = store.save_session(_session("WEB-1"))
        with pytest.raises(ConflictError):
            store.commit([Write(SESSIONS, "WEB-1", None, one.version + 1, before=one)])
        assert store.get_session("WEB-1") is not None
        assert store.commit([Write(SESSIONS, "WEB-1", None, one.version, before=one)]) == [None]
        assert store.get_session("WEB-1") is None

    def test_a_taken_journal_number_stops_the_change(self, store):
        store.commit([_journal_write(_entry(1, store))])
        with pytest.raises(ConflictError):
            store.commit(
                [_journal_write(_entry(1, store)), Write(SESSIONS, "WEB-9", _session("WEB-9"), 0)]
            )
        assert store.get_session("WEB-9") is None


class TestJournal:
    def test_entries_newest_first_and_paged(self, store, clock):
        for seq in range(1, 8):
            store.commit([_journal_write(_entry(seq, store))])
            clock.advance(seconds=1)
        assert store.last_journal_seq() == 7
        assert [e.seq for e in store.journal_entries(3)] == [7, 6, 5]
        assert [e.seq for e in store.journal_entries(3, before=5)] == [4, 3, 2]
        assert store.journal_entries(1)[0].description == "change 7"

    def test_journals_are_per_user(self, make_store):
        alice = make_store("alice")
        bob = make_store("bob")
        alice.commit([_journal_write(_entry(1, alice))])
        bob.commit([_journal_write(_entry(1, bob))])  # the same number, another user
        assert bob.last_journal_seq() == 1
        assert [e.user_id for e in bob.journal_entries()] == ["bob"]

    def test_pruned_to_the_newest_and_by_age(self, store, clock):
        for seq in range(1, 11):
            store.commit([_journal_write(_entry(seq, store, minutes_ago=100 - seq))])
        assert store.prune_journal(6, clock.now() - timedelta(days=30)) == 4
        assert [e.seq for e in store.journal_entries(20)] == [10, 9, 8, 7, 6, 5]
        # entries written before the cut-off go whatever their number
        assert store.prune_journal(500, clock.now() - timedelta(minutes=92)) == 3
        assert [e.seq for e in store.journal_entries(20)] == [10, 9, 8]
        assert store.last_journal_seq() == 10

    def test_images_round_trip(self, store):
        image = JournalImage(
            kind="sessions",
            key="WEB-1",
            before=None,
            after=_session("WEB-1").model_dump(mode="json"),
        )
        store.commit([_journal_write(_entry(1, store, images=[image]))])
        got = store.journal_entries(1)[0]
        assert got.images == [image]
        assert Session.model_validate(got.images[0].after).ticket_number == "WEB-1"

    def test_updating_an_entry_is_version_checked(self, store):
        first = store.commit([_journal_write(_entry(1, store))])[0]
        undone = first.model_copy(update={"undone": True})
        store.commit([Write(JOURNAL, first.entry_id, undone, first.version)])
        assert store.journal_entries(1)[0].undone
        with pytest.raises(ConflictError):
            store.commit([Write(JOURNAL, first.entry_id, undone, first.version)])

    def test_the_journal_is_not_user_data(self, store):
        store.commit([_journal_write(_entry(1, store))])
        assert "journal" not in store.count_records()
        assert store.export_all().record_count() == 0
