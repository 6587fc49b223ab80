"""Storage contract, part 2: projects, manual tasks, billing settings,
invoices, the invoice counter and user isolation. Runs on every backend."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from jtt_tui.domain import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ManualTask,
    Project,
    Session,
)
from jtt_tui.storage import ConflictError, NotFoundError


def _invoice(
    number: str,
    *,
    status="draft",
    client=None,
    project=None,
    issued=date(2025, 3, 1),
    amounts=("100.00",),
) -> Invoice:
    items = [
        InvoiceLine(description=f"line {i}", hours=Decimal(1), rate=Decimal(a), amount=Decimal(a))
        for i, a in enumerate(amounts)
    ]
    subtotal = sum((Decimal(a) for a in amounts), Decimal(0))
    tax = (subtotal * Decimal("0.1")).quantize(Decimal("0.01"))
    return Invoice(
        invoice_number=number,
        status=status,
        client_id=client,
        project_id=project,
        issue_date=issued,
        items=items,
        subtotal=subtotal,
        tax_rate=Decimal(10),
        tax_amount=tax,
        total=subtotal + tax,
    )


class TestProjects:
    def test_crud(self, store):
        web = store.save_project(
            Project(
                key="web",
                name="Website",
                hourly_rate="60.50",
                client={"name": "Acme", "email": "a@acme.test"},
            )
        )
        store.save_project(Project(key="API", name="Public API"))
        assert [p.key for p in store.get_projects()] == ["API", "WEB"]
        got = store.get_project(web.project_id)
        assert got.hourly_rate == Decimal("60.50")
        assert str(got.hourly_rate) == "60.50"  # the exponent survives, no float in between
        assert got.client.name == "Acme"
        changed = store.update_project(web.project_id, status="archived", budget=Decimal("5000"))
        assert changed.status == "archived" and changed.budget == Decimal(5000)
        assert store.delete_project(web.project_id)
        assert store.get_project(web.project_id) is None
        with pytest.raises(NotFoundError):
            store.update_project(web.project_id, name="x")

    def test_invalid_project_is_refused(self, store):
        project = store.save_project(Project(key="WEB", name="Website"))
        with pytest.raises(ValidationError):
            store.update_project(project.project_id, hourly_rate=Decimal("-1"))
        with pytest.raises(ValidationError):
            store.update_project(
                project.project_id, end_date=date(2020, 1, 1), start_date=date(2021, 1, 1)
            )
        assert store.get_project(project.project_id) == project

    def test_stale_project_save_is_a_conflict(self, store):
        project = store.save_project(Project(key="WEB", name="Website"))
        copy = store.get_project(project.project_id)
        store.update_project(project.project_id, name="Renamed")
        copy.description = "stale"
        with pytest.raises(ConflictError):
            store.save_project(copy)
        assert store.get_project(project.project_id).name == "Renamed"


class TestManualTasks:
    def test_crud_and_order(self, store):
        older = store.save_manual_task(
            ManualTask(
                title="Call",
                date=date(2025, 3, 1),
                duration=timedelta(minutes=45),
                ticket_number="web-7",
                hourly_rate=Decimal("80"),
            )
        )
        newer = store.save_manual_task(
            ManualTask(title="Meeting", date=date(2025, 3, 5), duration="PT1H30M", billable=False)
        )
        assert [t.task_id for t in store.get_manual_tasks()] == [newer.task_id, older.task_id]
        got = store.get_manual_task(older.task_id)
        assert got.duration == timedelta(minutes=45)
        assert got.ticket_number == "WEB-7"
        assert store.get_manual_task(newer.task_id).duration == timedelta(hours=1, minutes=30)
        assert store.update_manual_task(older.task_id, billable=False).billable is False
        with pytest.raises(ValidationError):
            store.update_manual_task(older.task_id, duration=timedelta(minutes=-5))
        assert store.delete_manual_task(older.task_id)
        assert store.get_manual_task(older.task_id) is None


class TestBillingSettings:
    def test_defaults_save_and_update(self, store):
        defaults = store.get_billing_settings()
        assert defaults.version == 0
        assert defaults.currency == "USD"
        settings = BillingSettings(
            global_hourly_rate="50", project_rates={"web": "72.50"}, tax_rate="7.25", currency="eur"
        )
        store.save_billing_settings(settings)
        stored = store.get_billing_settings()
        assert stored.project_rates == {"WEB": Decimal("72.50")}
        assert stored.tax_rate == Decimal("7.25")
        assert stored.currency == "EUR"
        updated = store.update_billing_settings(invoice_prefix="ACME", payment_terms="Net 15")
        assert updated.invoice_prefix == "ACME"
        assert updated.global_hourly_rate == Decimal(50)
        assert updated.version == stored.version + 1

    def test_update_creates_settings_when_none_exist(self, store):
        assert store.update_billing_settings(currency="GBP").currency == "GBP"
        assert store.get_billing_settings().currency == "GBP"

    def test_bad_settings_change_nothing(self, store):
        store.update_billing_settings(tax_rate=Decimal(10))
        with pytest.raises(ValidationError):
            store.update_billing_settings(tax_rate=Decimal(150))
        with pytest.raises(ValidationError):
            store.update_billing_settings(currency="dollars")
        assert store.get_billing_settings().tax_rate == Decimal(10)


class TestInvoices:
    def test_crud_filters_and_order(self, store):
        a = store.save_invoice(
            _invoice("INV-1", client="Acme", project="p1", issued=date(2025, 1, 5))
        )
        b = store.save_invoice(
            _invoice(
                "INV-2",
                status="sent",
                client="Acme",
                issued=date(2025, 2, 5),
                amounts=("10.10", "0.05"),
            )
        )
        c = store.save_invoice(
            _invoice("INV-3", status="paid", client="Globex", project="p1", issued=date(2025, 3, 5))
        )
        assert [i.invoice_number for i in store.get_invoices()] == ["INV-3", "INV-2", "INV-1"]
        assert [i.invoice_id for i in store.get_invoices(status="sent")] == [b.invoice_id]
        assert [i.invoice_id for i in store.get_invoices(status=InvoiceStatus.DRAFT)] == [
            a.invoice_id
        ]
        assert {i.invoice_id for i in store.get_invoices(client_id="Acme")} == {
            a.invoice_id,
            b.invoice_id,
        }
        assert {i.invoice_id for i in store.get_invoices(project_id="p1")} == {
            a.invoice_id,
            c.invoice_id,
        }
        assert [i.invoice_id for i in store.get_invoices(status="paid", client_id="Acme")] == []
        got = store.get_invoice(b.invoice_id)
        assert got.total == Decimal("11.17") and got.items[1].amount == Decimal("0.05")
        assert store.update_invoice(a.invoice_id, status="cancelled").status == "cancelled"
        assert store.delete_invoice(c.invoice_id)
        assert store.get_invoice(c.invoice_id) is None

    def test_invoice_whose_totals_do_not_add_up_is_refused(self, store):
        invoice = store.save_invoice(_invoice("INV-1"))
        with pytest.raises(ValidationError, match="do not add up"):
            store.update_invoice(invoice.invoice_id, total=Decimal("999"))
        assert store.get_invoice(invoice.invoice_id).total == invoice.total

    def test_unknown_status_filter_is_an_error(self, store):
        with pytest.raises(ValueError):
            store.get_invoices(status="lost")


class TestInvoiceNumbers:
    def test_sequence_and_prefix(self, store):
        assert store.next_invoice_number() == "INV-1001"
        assert store.next_invoice_number() == "INV-1002"
        store.update_billing_settings(invoice_prefix="ACME", next_invoice_number=7)
        assert store.next_invoice_number() == "ACME-7"
        assert store.get_billing_settings().next_invoice_number == 8

    def test_fifty_threads_get_fifty_distinct_consecutive_numbers(self, store):
        results: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(50)

        def take() -> None:
            try:
                barrier.wait()
                results.append(store.next_invoice_number())
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=take) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        numbers = sorted(int(r.split("-")[1]) for r in results)
        assert numbers == list(range(1001, 1051))
        assert store.get_billing_settings().next_invoice_number == 1051


class TestUserIsolation:
    def test_users_never_see_each_others_records(self, make_store):
        alice = make_store("alice")
        bob = make_store("bob")
        alice.save_session(Session(ticket_number="WEB-1", notes="alice"))
        bob.save_session(Session(ticket_number="WEB-1", notes="bob"))  # same ticket, own record
        project = alice.save_project(Project(key="WEB", name="Alice's"))
        task = alice.save_manual_task(ManualTask(title="t", date=date(2025, 1, 1)))
        invoice = alice.save_invoice(_invoice("INV-1"))
        alice.update_billing_settings(currency="EUR")

        assert bob.get_session("WEB-1").notes == "bob"
        assert alice.get_session("WEB-1").notes == "alice"
        assert bob.get_projects() == []
        assert bob.get_project(project.project_id) is None
        assert bob.get_manual_tasks() == [] and bob.get_manual_task(task.task_id) is None
        assert bob.get_invoices() == [] and bob.get_invoice(invoice.invoice_id) is None
        assert bob.get_billing_settings().currency == "USD"
        assert bob.active_sessions() == []
        # nor change or delete them
        assert bob.delete_project(project.project_id) is False
        assert bob.delete_invoice(invoice.invoice_id) is False
        assert bob.delete_manual_task(task.task_id) is False
        with pytest.raises(NotFoundError):
            bob.update_project(project.project_id, name="mine now")
        stolen = project.model_copy(update={"name": "stolen"})
        with pytest.raises(ConflictError):
            bob.save_project(stolen)
        assert alice.get_project(project.project_id).name == "Alice's"
        assert bob.export_all().record_count() == 1
        # and the counters are per user
        assert alice.next_invoice_number() == "INV-1001"
        assert bob.next_invoice_number() == "INV-1001"

    def test_team_member_sees_and_edits_a_shared_project(self, make_store):
        alice = make_store("alice")
        bob = make_store("bob")
        shared = alice.save_project(Project(key="WEB", name="Shared", team_members=["bob"]))
        assert [p.project_id for p in bob.get_projects()] == [shared.project_id]
        edited = bob.update_project(shared.project_id, description="bob was here")
        assert edited.user_id == "alice"  # ownership stays with alice
        assert alice.get_project(shared.project_id).description == "bob was here"
        assert bob.delete_project(shared.project_id) is False  # only the owner deletes


class TestKnownTickets:
    def test_crud(self, store):
        from jtt_tui.domain import Ticket

        store.save_ticket(Ticket(ticket_number="web-1", ticket_name="Login", story_points="2.5"))
        store.save_ticket(Ticket(ticket_number="API-2", source="jira", jira_status="In Progress"))
        assert sorted(store.get_tickets()) == ["API-2", "WEB-1"]
        assert store.get_ticket("web-1").story_points == Decimal("2.5")
        assert store.update_ticket("WEB-1", ticket_name="Login page").version == 2
        assert store.delete_ticket("WEB-1") and store.get_ticket("WEB-1") is None
        assert [t.ticket_number for t in store.export_all().tickets] == ["API-2"]


class TestManualTasksByDate:
    def test_range_is_inclusive_and_ordered(self, store):
        for day in (1, 5, 9, 3):
            store.save_manual_task(ManualTask(title=f"d{day}", date=date(2025, 3, day)))
        found = store.manual_tasks_between(date(2025, 3, 3), date(2025, 3, 9))
        assert [t.title for t in found] == ["d3", "d5", "d9"]


def test_count_records(make_store):
    alice, bob = make_store("alice"), make_store("bob")
    alice.save_session(Session(ticket_number="WEB-1"))
    alice.save_session(Session(ticket_number="WEB-2"))
    bob.save_session(Session(ticket_number="WEB-1"))
    alice.save_project(Project(key="WEB", name="Shared", team_members=["bob"]))
    assert alice.count_records() == {
        "sessions": 2,
        "projects": 1,
        "manual_tasks": 0,
        "billing_settings": 0,
        "invoices": 0,
        "tickets": 0,
    }
    assert bob.count_records()["sessions"] == 1
    assert bob.count_records()["projects"] == 1  # shared with bob
