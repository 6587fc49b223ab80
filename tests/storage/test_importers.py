"""Import files: the Electron app's data, ticket lists, and hostile input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from jtt_tui.domain import SessionStatus, Ticket
from jtt_tui.services.data import import_data
from jtt_tui.storage.importers import ImportFileError, read_import, reading

# the data file of the Electron app jtt replaces (copied from shared/fixtures)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "electron-store" / "app-data.json"
WEB_102_START = datetime.fromtimestamp(1752998400, UTC)


@pytest.fixture
def electron() -> dict:
    return json.loads(FIXTURE.read_text())


def _write(tmp_path: Path, data: object, name: str = "app-data.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


class TestElectronSample:
    def test_detected_and_mapped_with_exact_totals(self):
        parsed = read_import(FIXTURE, "auto", user_id="alice")
        assert parsed.format == "electron"
        sessions = {s.ticket_number: s for s in parsed.bundle.sessions}
        later = WEB_102_START + timedelta(hours=3)
        totals = {t: s.elapsed(later) for t, s in sessions.items()}
        assert totals == {
            "WEB-101": timedelta(hours=1, minutes=30),  # timestamps, not the 5,396 s recorded
            "WEB-102": timedelta(hours=3),  # still running since its start
            "API-7": timedelta(minutes=30),  # 10 + 20 minutes by the timestamps
            "OPS-3": timedelta(minutes=15),
        }
        assert {t: s.status for t, s in sessions.items()} == {
            "WEB-101": SessionStatus.COMPLETED,
            "WEB-102": SessionStatus.RUNNING,
            "API-7": SessionStatus.STOPPED,
            "OPS-3": SessionStatus.PAUSED,
        }
        assert sessions["WEB-102"].segments[-1].start == WEB_102_START
        assert sessions["API-7"].ticket_name == "Rate limit the public API"  # from the catalogue
        assert sessions["WEB-101"].story_points == Decimal(3)

    def test_projects_tickets_and_billing(self):
        bundle = read_import(FIXTURE, "electron", user_id="alice").bundle
        projects = {p.key: p for p in bundle.projects}
        assert set(projects) == {"WEB", "API"}
        web = projects["WEB"]
        assert web.name == "WEB" and web.description == "Website redesign"
        assert web.client.name == "Acme" and web.budget == Decimal(5000)
        assert str(web.start_date) == "2025-07-01" and str(web.end_date) == "2025-09-30"
        assert projects["API"].budget is None  # 0 means "no budget" in the old app
        tickets = {t.ticket_number: t for t in bundle.tickets}
        assert set(tickets) == {"WEB-101", "WEB-102", "API-7", "WEB-200"}
        assert tickets["WEB-200"].project_id == web.project_id  # manual task's projectId
        assert tickets["API-7"].story_points == Decimal(5)
        billing = bundle.billing_settings
        assert billing.global_hourly_rate == Decimal(50)
        assert billing.project_rates == {"WEB": Decimal(60), "API": Decimal("72.5")}
        assert billing.tax_rate == Decimal(10) and billing.currency == "USD"
        assert billing.company.name == ""

    def test_notes_report_every_adjustment(self):
        notes = "\n".join(read_import(FIXTURE, "electron", user_id="alice").notes)
        assert "WEB-101 segment 1: recorded duration 0:59:57 differs" in notes
        assert "API-7: the app's total said 0:20:00" in notes
        assert "WEB-102 (since 2025-07-20 08:00 UTC)" in notes
        assert "progress" in notes and "activities" in notes

    def test_ids_are_stable_per_user_so_a_reimport_changes_nothing(self, make_store):
        store = make_store("alice")
        first = import_data(store, FIXTURE)
        assert first.report.written == 11
        again = import_data(store, FIXTURE)
        assert again.report.written == 0
        assert read_import(FIXTURE, "electron", user_id="bob").bundle.projects[0].project_id != (
            read_import(FIXTURE, "electron", user_id="alice").bundle.projects[0].project_id
        )

    def test_dry_run_writes_nothing(self, make_store):
        store = make_store("alice")
        outcome = import_data(store, FIXTURE, dry_run=True)
        assert outcome.report.kinds["sessions"].inserted == 4
        assert store.export_all().record_count() == 0


class TestElectronEdgeCases:
    def test_old_jira_data_key_and_odd_statuses(self, tmp_path, electron):
        electron.pop("projectData")
        electron["sessions"]["X1-1"] = {
            "ticketNumber": "X1-1",
            "sessions": [
                {"startTime": 1752000000000, "duration": 60000, "status": "queue"},
                {
                    "startTime": 1752000600000,
                    "endTime": 1752000300000,
                    "duration": 1000,
                    "status": "stopped",
                },
            ],
        }
        parsed = read_import(_write(tmp_path, electron), "auto", user_id="alice")
        session = next(s for s in parsed.bundle.sessions if s.ticket_number == "X1-1")
        assert session.status == SessionStatus.STOPPED
        assert [seg.end - seg.start for seg in session.segments] == [
            timedelta(minutes=1),
            timedelta(seconds=1),
        ]
        notes = "\n".join(parsed.notes)
        assert "no end time" in notes and "ended before it started" in notes

    def test_free_text_tickets_are_left_out_and_listed(self, tmp_path, electron):
        electron["sessions"]["Team meeting"] = {"ticketNumber": "Team meeting", "sessions": []}
        parsed = read_import(_write(tmp_path, electron), "auto", user_id="alice")
        assert "Team meeting".upper() not in {s.ticket_number for s in parsed.bundle.sessions}
        assert any("TEAM MEETING" in note for note in parsed.notes)

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (
                lambda d: d["sessions"]["WEB-101"]["sessions"][0].update(startTime="yesterday"),
                r"startTime: expected milliseconds",
            ),
            (lambda d: d.update(sessions=[1, 2]), r"sessions: expected an object"),
            (lambda d: d["projects"][0].update(budget="lots"), r"budget: expected a number"),
            (lambda d: d["billing"]["settings"].update(currency="Dollars"), r"currency"),
            (lambda d: d["projects"][0].update(startDate="soon"), r"is not a date"),
        ],
    )
    def test_structural_damage_refuses_the_whole_file(
        self, tmp_path, electron, make_store, mutate, message
    ):
        mutate(electron)
        path = _write(tmp_path, electron)
        store = make_store("alice")
        with pytest.raises(ImportFileError, match=message):
            import_data(store, path)
        assert store.export_all().record_count() == 0


class TestTicketsCsv:
    def test_bom_quoting_and_merge_without_wiping(self, tmp_path, make_store):
        store = make_store("alice")
        store.save_ticket(
            Ticket(ticket_number="WEB-1", ticket_name="Old name", story_points=Decimal(8))
        )
        store.save_ticket(Ticket(ticket_number="KEEP-1", ticket_name="Untouched"))
        path = tmp_path / "tickets.csv"
        path.write_bytes(
            "\ufeffticket_number,ticket_name,story_points\r\n"
            'web-1,"New name, with comma",\r\n'
            'API-2,"Quote ""inside"" and ünïcode ✓",3\r\n'
            "\r\n".encode()
        )
        outcome = import_data(store, path)
        assert outcome.parsed.format == "tickets-csv"
        tickets = store.get_tickets()
        assert tickets["WEB-1"].ticket_name == "New name, with comma"
        assert tickets["WEB-1"].story_points == Decimal(8)  # empty cell keeps the old value
        assert tickets["API-2"].ticket_name == 'Quote "inside" and ünïcode ✓'
        assert tickets["API-2"].story_points == Decimal(3)
        assert tickets["KEEP-1"].ticket_name == "Untouched"

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("ticket,name\nWEB-1,x\n", "the header must be"),
            ("ticket_number,ticket_name,story_points\nnot-a-ticket,x,1\n", "line 2"),
            ("ticket_number,ticket_name,story_points\nWEB-1,x,lots\n", "line 2"),
            ("ticket_number,ticket_name,story_points\nWEB-1,x\n", "2 fields"),
            ('ticket_number,ticket_name,story_points\nWEB-1,"open quote,1\n', "line"),
            ("", "empty"),
        ],
    )
    def test_bad_lists_change_nothing(self, tmp_path, make_store, content, message):
        store = make_store("alice")
        path = tmp_path / "t.csv"
        path.write_text(content)
        with pytest.raises(ImportFileError, match=message):
            import_data(store, path)
        assert store.get_tickets() == {}

    def test_replace_mode_is_refused_for_a_ticket_list(self, tmp_path, make_store):
        path = tmp_path / "t.csv"
        path.write_text("ticket_number,ticket_name,story_points\nWEB-1,x,1\n")
        with pytest.raises(ValueError, match="merged"):
            import_data(make_store("alice"), path, mode="replace")


class TestHostileFiles:
    @pytest.mark.parametrize("key", ["$where", "$gt", "a.b", "nul\u0000key"])
    def test_operator_and_path_keys_are_refused(self, tmp_path, electron, key):
        electron["projects"][0][key] = "1"
        with pytest.raises(ImportFileError, match="is not allowed"):
            read_import(_write(tmp_path, electron), "auto", user_id="alice")

    def test_truncated_json(self, tmp_path):
        with pytest.raises(ImportFileError, match="not valid JSON at line 1"):
            read_import(_write(tmp_path, '{"app": "jtt", "sessions": ['), "auto", user_id="a")

    def test_wrong_types_in_a_bundle(self, tmp_path):
        path = _write(
            tmp_path,
            {
                "app": "jtt",
                "format_version": 1,
                "sessions": [{"ticket_number": "WEB-1", "segments": "x"}],
            },
        )
        with pytest.raises(ImportFileError, match="sessions.0.segments"):
            read_import(path, "auto", user_id="a")

    def test_nan_is_refused(self, tmp_path):
        path = _write(tmp_path, '{"app": "jtt", "format_version": 1, "x": NaN}')
        with pytest.raises(ImportFileError, match="NaN"):
            read_import(path, "auto", user_id="a")

    def test_too_large_files_are_refused_before_reading(self, tmp_path, monkeypatch):
        path = tmp_path / "huge.json"
        with path.open("wb") as handle:
            handle.truncate(600 * 1024 * 1024)  # a sparse 600 MiB file
        with pytest.raises(ImportFileError, match="larger than the 100 MiB"):
            read_import(path, "auto", user_id="a")
        monkeypatch.setattr(reading, "MAX_IMPORT_BYTES", 10)
        with pytest.raises(ImportFileError, match="larger than"):
            read_import(_write(tmp_path, {"app": "jtt"}), "auto", user_id="a")

    def test_unrecognised_json(self, tmp_path):
        with pytest.raises(ImportFileError, match="neither a jtt export nor"):
            read_import(_write(tmp_path, {"hello": "world"}), "auto", user_id="a")

    def test_missing_and_directory(self, tmp_path):
        with pytest.raises(ImportFileError, match="no such file"):
            read_import(tmp_path / "nope.json", "auto", user_id="a")
        with pytest.raises(ImportFileError, match="not a regular file"):
            read_import(tmp_path, "auto", user_id="a")
