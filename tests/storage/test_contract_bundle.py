"""Storage contract, part 3: export_all / import_all on every backend."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from jtt_tui.domain import (
    BillingSettings,
    DataBundle,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
    TimerMachine,
)
from jtt_tui.storage import ConflictError
from tests.conftest import START


def _fill(store, clock) -> None:
    machine = TimerMachine(clock)
    store.save_session(machine.start("WEB-1", ticket_name="Login", tags=["ui"]).session)
    clock.advance(minutes=50)
    store.save_session(machine.pause(store.get_session("WEB-1")))
    store.save_session(
        Session(
            ticket_number="API-2",
            notes="ünïcödé ✓ — 漢字",
            segments=[Segment(start=START, end=START + timedelta(hours=1))],
        )
    )
    store.save_project(Project(key="WEB", name="Website", hourly_rate="60", budget="5000.00"))
    store.save_manual_task(
        ManualTask(
            title="Call", date=date(2025, 3, 10), duration=timedelta(minutes=30), hourly_rate="72.5"
        )
    )
    store.save_billing_settings(
        BillingSettings(global_hourly_rate="50", tax_rate="10", project_rates={"WEB": "60"})
    )


def _comparable(bundle: DataBundle) -> dict:
    data = bundle.model_dump(mode="json", exclude={"exported_at", "user_id"})
    for kind in ("sessions", "projects", "manual_tasks", "invoices"):
        for record in data[kind]:
            record.pop("user_id")
    if data["billing_settings"]:
        data["billing_settings"].pop("user_id")
    return data


def test_export_then_import_into_an_empty_store_gives_the_same_bundle(make_store, clock):
    source = make_store("alice")
    _fill(source, clock)
    bundle = source.export_all()
    assert bundle.format_version == 1
    assert bundle.record_count() == 5

    target = make_store("carol", where="elsewhere")
    report = target.import_all(bundle)
    assert report.written == 5
    again = target.export_all()
    assert _comparable(again) == _comparable(bundle)
    # versions and timestamps travel as they are
    assert again.sessions[0].version == bundle.sessions[0].version
    assert again.sessions[0].updated_at == bundle.sessions[0].updated_at


def test_import_is_idempotent(make_store, clock):
    source = make_store("alice")
    _fill(source, clock)
    bundle = source.export_all()
    target = make_store("carol", where="elsewhere")
    target.import_all(bundle)
    second = target.import_all(bundle)
    assert second.written == 0
    assert sum(k.unchanged for k in second.kinds.values()) == 5
    assert _comparable(target.export_all()) == _comparable(bundle)


def test_merge_keeps_the_newer_version_and_reports_the_other(make_store, clock):
    store = make_store("alice")
    store.save_session(Session(ticket_number="WEB-1", notes="old"))
    bundle = store.export_all()
    clock.advance(hours=1)
    store.update_session("WEB-1", notes="newer in the store")
    store.save_session(Session(ticket_number="KEEP-1", notes="not in the bundle"))

    report = store.import_all(bundle, mode="merge")
    assert report.kept_existing == [("sessions", "WEB-1")]
    assert store.get_session("WEB-1").notes == "newer in the store"
    assert store.get_session("KEEP-1") is not None  # merge never deletes

    newer = bundle.model_copy(deep=True)
    newer.sessions[0].notes = "newer in the bundle"
    newer.sessions[0].updated_at = clock.now() + timedelta(minutes=1)
    report = store.import_all(newer, mode="merge")
    assert report.kinds["sessions"].updated == 1
    stored = store.get_session("WEB-1")
    assert stored.notes == "newer in the bundle"
    assert stored.version == 3  # past the stored version 2: stale holders get a conflict


def test_replace_leaves_exactly_the_bundle(make_store, clock):
    store = make_store("alice")
    _fill(store, clock)
    bundle = store.export_all()
    store.save_session(Session(ticket_number="EXTRA-1"))
    store.update_session("API-2", notes="changed after the export")
    clock.advance(hours=1)

    report = store.import_all(bundle, mode="replace")
    assert report.kinds["sessions"].deleted == 1
    assert store.get_session("EXTRA-1") is None
    assert store.get_session("API-2").notes == bundle.sessions[0].notes
    assert _comparable(store.export_all())["projects"] == _comparable(bundle)["projects"]
    assert set(store.get_sessions()) == {"API-2", "WEB-1"}


def test_replace_only_touches_this_users_records(make_store, clock):
    alice = make_store("alice")
    bob = make_store("bob")
    bob.save_session(Session(ticket_number="BOB-1"))
    alice.save_session(Session(ticket_number="ALICE-1"))
    alice.import_all(DataBundle(), mode="replace")
    assert alice.get_sessions() == {}
    assert set(bob.get_sessions()) == {"BOB-1"}


def test_invalid_bundles_are_refused_before_anything_is_written():
    with pytest.raises(ValidationError, match="appears twice"):
        DataBundle(sessions=[Session(ticket_number="A1-1"), Session(ticket_number="A1-1")])
    with pytest.raises(ValidationError):
        DataBundle.model_validate({"format_version": 2})
    with pytest.raises(ValidationError):
        DataBundle.model_validate({"sessions": [{"ticket_number": "not a ticket"}]})
    with pytest.raises(ValidationError):
        DataBundle.model_validate({"sessions": [], "$where": "1"})


def test_import_is_all_or_nothing_when_a_record_collides(make_store, clock):
    alice = make_store("alice")
    bob = make_store("bob")
    taken = alice.save_project(Project(key="WEB", name="Alice's"))
    bundle = DataBundle(
        sessions=[Session(ticket_number=f"BOB-{i}") for i in range(1, 30)],
        projects=[Project(project_id=taken.project_id, key="WEB", name="Bob's")],
        billing_settings=BillingSettings(currency="EUR"),
    )
    with pytest.raises(ConflictError, match="another user"):
        bob.import_all(bundle)
    assert bob.export_all().record_count() == 0
    assert alice.get_project(taken.project_id).name == "Alice's"


def test_import_keeps_running_timers_running(make_store, clock):
    source = make_store("alice")
    source.save_session(TimerMachine(clock).start("WEB-1").session)
    target = make_store("carol")
    target.import_all(source.export_all())
    clock.advance(minutes=90)
    session = target.get_session("WEB-1")
    assert session.status == SessionStatus.RUNNING
    assert session.elapsed(clock.now()) == timedelta(minutes=90)
    assert [s.ticket_number for s in target.active_sessions()] == ["WEB-1"]


def test_money_stays_exact_through_export_and_import(make_store, clock):
    store = make_store("alice")
    store.save_billing_settings(
        BillingSettings(global_hourly_rate=Decimal("0.10"), tax_rate=Decimal("8.875"))
    )
    bundle = DataBundle.model_validate_json(store.export_all().model_dump_json())
    target = make_store("carol")
    target.import_all(bundle)
    settings = target.get_billing_settings()
    assert settings.global_hourly_rate == Decimal("0.10")
    assert str(settings.tax_rate) == "8.875"
