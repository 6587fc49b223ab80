"""Errors stay in the form (#15 §3): a save the store refuses (an unknown
project, overlapping times, a bad running-since) keeps the dialog open with
the message under its field and what was typed, and no toast; messages are
sentences, not pydantic's texts; a form reopened after Esc starts from the
saved values; a colour is checked; a multi-line address stays multi-line."""

from __future__ import annotations

import io
from datetime import UTC
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError
from pypdf import PdfReader
from textual.widgets import DataTable, Input, Static, TextArea

from jtt_tui.domain.models import BillingSettings, Project
from jtt_tui.domain.types import Color, Currency
from jtt_tui.domain.validation import sentence
from jtt_tui.ui.modals.project_form import ProjectFormModal
from jtt_tui.ui.modals.timer_forms import EditSessionModal, SegmentModal
from tests.ui.conftest import NOW, settle


def _error(app, name: str) -> str:
    return str(app.screen.query_one(f"#e-{name}", Static).render())


def _toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def _project(store, key: str) -> Project:
    return next(p for p in store.get_projects() if p.key == key)


def _select(app, table_id: str, ticket: str) -> None:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(f"s:{ticket}"))


async def test_a_project_deleted_meanwhile_is_refused_in_the_dialog(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _select(app, "top", "WEB-2")
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, EditSessionModal)
        app.screen.query_one("#f-name", Input).value = "Header, sticky"
        app.screen.query_one("#f-project", Input).value = "API"
        # someone else deletes the project while the dialog is open
        store.delete_project(_project(store, "API").project_id)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditSessionModal)  # still open
        assert "no project with the key API" in _error(app, "project")
        assert app.screen.query_one("#f-name", Input).value == "Header, sticky"  # kept
        assert _toasts(app) == []
        await pilot.press("escape")
        await settle(pilot)
    assert store.get_session("WEB-2").ticket_name == "Header"  # nothing changed


async def test_an_unknown_project_key_is_shown_under_its_field(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        app.screen.query_one("#f-project", Input).value = "ZZZ"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditSessionModal)
        assert "no project with the key ZZZ" in _error(app, "project")
        assert _toasts(app) == []


async def test_overlapping_segment_times_stay_in_the_dialog(make_app, store):
    before = store.get_session("WEB-2").segments
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _select(app, "top", "WEB-2")
        await settle(pilot)
        segments = app.screen.query_one("#segments", DataTable)
        segments.focus()
        segments.move_cursor(row=0)
        await pilot.press("e")
        assert isinstance(app.screen, SegmentModal)
        # WEB-2 ran 07:30-08:15; WEB-1 runs since 08:30
        app.screen.query_one("#f-end", Input).value = "2025-03-12 09:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SegmentModal)
        message = _error(app, "start")
        assert "would overlap WEB-1" in message and "two tickets at once" in message
        assert app.screen.query_one("#f-end", Input).value == "2025-03-12 09:00"
        assert _toasts(app) == []
        # corrected in place, then saved: the dialog closes with one toast
        app.screen.query_one("#f-end", Input).value = "2025-03-12 08:25"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, SegmentModal)
        assert _toasts(app) == ["Segment saved"]
    after = store.get_session("WEB-2").segments
    assert after[0].start == before[0].start
    assert after[0].end == NOW.replace(hour=8, minute=25)


async def test_a_bad_running_since_stays_in_the_dialog(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # WEB-1, running since 08:30
        app.screen.query_one("#f-tags", Input).value = "ui, auth"
        app.screen.query_one("#f-start", Input).value = "07:45"  # WEB-2 ran 07:30-08:15
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditSessionModal)
        assert "would overlap WEB-2" in _error(app, "start")
        assert app.screen.query_one("#f-start", Input).value == "07:45"
        assert app.screen.query_one("#f-tags", Input).value == "ui, auth"
        assert _toasts(app) == []
        app.screen.query_one("#f-start", Input).value = "08:20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, EditSessionModal)
        assert _toasts(app) == ["Saved WEB-1"]
    session = store.get_session("WEB-1")
    assert session.segments[-1].start == NOW.replace(hour=8, minute=20)
    assert session.tags == ["ui", "auth"]


async def test_a_store_failure_while_saving_keeps_the_input(make_app, store, monkeypatch):
    from jtt_tui.storage.errors import StoreUnavailableError

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        app.screen.query_one("#f-name", Input).value = "Login page v3"

        def down(*args, **kwargs):
            raise StoreUnavailableError("the database did not answer")

        monkeypatch.setattr(app.services.timer, "edit", down)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditSessionModal)
        assert "not saved" in str(app.screen.query_one("#form-error").render())
        assert app.screen.query_one("#f-name", Input).value == "Login page v3"


async def test_billing_settings_speak_sentences_and_forget_rejected_values(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "g")
        await settle(pilot)
        currency = app.screen.query_one("#f-currency", Input)
        assert currency.value == "USD"
        currency.value = "eur1"
        app.screen.query_one("#f-tax_rate", Input).value = "-3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _error(app, "currency") == "✗ a currency is three capital letters, e.g. EUR"
        assert _error(app, "tax_rate") == "✗ must be 0 or more"
        assert "should" not in _error(app, "currency") + _error(app, "tax_rate")
        await pilot.press("escape")  # back to the invoices: the rejected values go
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert app.screen.query_one("#f-currency", Input).value == "USD"
        assert app.screen.query_one("#f-tax_rate", Input).value == "10"
        assert _error(app, "currency") == ""
    assert store.get_billing_settings().currency == "USD"


async def test_a_project_colour_is_checked(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ProjectFormModal)
        app.screen.query_one("#f-key", Input).value = "MOB"
        app.screen.query_one("#f-name", Input).value = "Mobile app"
        app.screen.query_one("#f-color", Input).value = "blurple"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProjectFormModal)
        assert "'blurple' is not a colour" in _error(app, "color")
        app.screen.query_one("#f-color", Input).value = "#1E90FF"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ProjectFormModal)
    assert _project(store, "MOB").color == "#1E90FF"


async def test_a_project_key_taken_meanwhile_is_shown_under_the_key(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("n")
        app.screen.query_one("#f-key", Input).value = "MOB"
        app.screen.query_one("#f-name", Input).value = "Mobile app"
        store.save_project(Project(key="MOB", name="Made elsewhere"))  # meanwhile
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProjectFormModal)
        assert "already uses the key MOB" in _error(app, "key")
        assert app.screen.query_one("#f-name", Input).value == "Mobile app"


@pytest.mark.parametrize("good", ["", "red", "Teal", "bright_blue", "dark_orange", "#1e90ff"])
def test_colours_named_or_rgb(good):
    class Model(BaseModel):
        color: Color = ""

    Model(color=good)


@pytest.mark.parametrize("bad", ["blurple", "#12345", "#gggggg", "rgb(1,2,3)", "1e90ff"])
def test_colours_refused_with_a_sentence(bad):
    class Model(BaseModel):
        color: Color = ""

    with pytest.raises(ValidationError) as caught:
        Model(color=bad)
    message = sentence(caught.value.errors()[0])
    assert "is not a colour: give #rrggbb" in message


def test_pydantic_texts_become_sentences():
    class Model(BaseModel):
        currency: Currency = "EUR"

    with pytest.raises(ValidationError) as caught:
        Model(currency="euro")
    assert sentence(caught.value.errors()[0]) == "a currency is three capital letters, e.g. EUR"
    with pytest.raises(ValidationError) as caught:
        BillingSettings(tax_rate=Decimal(-1))
    assert sentence(caught.value.errors()[0]) == "must be 0 or more"


async def test_a_multi_line_address_stays_multi_line(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "g")
        await settle(pilot)
        app.screen.query_one("#f-company_name", Input).value = "Zoë's Café"
        address = app.screen.query_one("#f-company_address", TextArea)
        address.focus()
        await pilot.press(*"Lindenstraße 5", "enter", *"10115 Berlin")
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert store.get_billing_settings().company.address == "Lindenstraße 5\n10115 Berlin"
    from jtt_tui.services.invoice_docs import build_document, to_html, to_pdf

    (invoice,) = store.get_invoices()
    document = build_document(store, invoice, NOW.date(), tz=UTC)
    html = to_html(document)
    assert "Lindenstraße 5<br>10115 Berlin" in html
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(document))).pages)
    assert "Lindenstraße 5\n10115 Berlin" in text
    assert "Lindenstraße 510115" not in text
