"""jtt export / import / reset, including every documented error path."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

# the data file of the Electron app jtt replaces (copied from shared/fixtures)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "electron-store" / "app-data.json"


def _bundle(jtt) -> dict:
    return json.loads(jtt("export", "-").stdout)


def _without_export_time(bundle: dict) -> dict:
    return {k: v for k, v in bundle.items() if k != "exported_at"}


def test_electron_sample_imports_with_exact_totals_per_ticket(jtt):
    result = jtt("import", str(FIXTURE))
    assert "Imported" in result.stdout and "(electron, mode merge)" in result.stdout
    assert "WEB-102 (since 2025-07-20 08:00 UTC)" in result.stdout  # the running timer
    bundle = _bundle(jtt)
    totals = {}
    for session in bundle["sessions"]:
        closed = timedelta(0)
        for seg in session["segments"]:
            if seg["end"]:
                closed += datetime.fromisoformat(seg["end"]) - datetime.fromisoformat(seg["start"])
        totals[session["ticket_number"]] = (closed, session["status"])
    assert totals == {
        "WEB-101": (timedelta(hours=1, minutes=30), "completed"),
        "WEB-102": (timedelta(0), "running"),
        "API-7": (timedelta(minutes=30), "stopped"),
        "OPS-3": (timedelta(minutes=15), "paused"),
    }
    running = json.loads(jtt("status", "--json").stdout)["timers"]
    assert running[0]["ticket"] == "WEB-102" and running[0]["since"].startswith("2025-07-20T08:00")
    assert {p["key"] for p in bundle["projects"]} == {"WEB", "API"}
    assert bundle["billing_settings"]["project_rates"] == {"WEB": "60", "API": "72.5"}
    assert len(bundle["tickets"]) == 4


def test_import_from_electron_finds_the_usual_folder(jtt, cli_env):
    folder = Path(cli_env["XDG_CONFIG_HOME"]) / "jira-time-tracker"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE, folder / "app-data.json")
    result = jtt("import", "--from-electron", "--dry-run")
    assert f"Found {folder / 'app-data.json'}" in result.stdout
    assert "Dry run: nothing was changed." in result.stdout
    assert _bundle(jtt)["sessions"] == []


def test_from_electron_with_nothing_there(jtt):
    assert "no Electron app data file found" in jtt("import", "--from-electron", expect=1).stderr


def test_dry_run_prints_counts_and_changes_nothing(jtt):
    result = jtt("import", str(FIXTURE), "--dry-run")
    assert re.search(r"sessions\s+4\s+0\s+0", result.stdout)
    assert _bundle(jtt)["sessions"] == []


def test_round_trip_export_import_export_is_identical(jtt, tmp_path, cli_env):
    jtt("import", str(FIXTURE))
    # the file's WEB-102 has run since 2025: it ends when that day's work did
    jtt("stop", "WEB-102", "--at", "2025-07-20 17:00")
    jtt("start", "WEB-9", "--name", 'Quotes " and , commas', "--note", "ünïcödé ✓")
    first = tmp_path / "first.json"
    jtt("export", str(first))
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    other = {
        "JTT_DATA_DIR": str(tmp_path / "other-data"),
        "JTT_CONFIG_DIR": str(tmp_path / "other-config"),
    }
    jtt("import", str(first), env=other)
    second = tmp_path / "second.json"
    jtt("export", str(second), env=other)
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert _without_export_time(a) == _without_export_time(b)


def test_csv_export(jtt, tmp_path):
    jtt("import", str(FIXTURE))
    out = tmp_path / "segments.csv"
    jtt("export", str(out), "--from", "2025-07-19", "--to", "2025-07-19")
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    assert [(r["ticket"], r["duration_hours"]) for r in rows] == [
        ("WEB-101", "1.0000"),
        ("WEB-101", "0.5000"),
    ]
    assert rows[0]["project"] == "WEB" and rows[0]["status"] == "completed"
    everything = jtt("export", "-", "--format", "csv").stdout
    assert everything.count("\n") == 1 + 6  # header + every segment


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"app": "jtt", "format_version": 1, "sessions": [', "not valid JSON"),
        (
            '{"app": "jtt", "format_version": 1, "sessions": [{"ticket_number": 5}]}',
            "sessions.0.ticket_number",
        ),
        (
            '{"app": "jtt", "format_version": 1, "sessions": [{"ticket_number": "A1-1", '
            '"$set": 1}]}',
            "'$set'",
        ),
        ('{"app": "jtt", "format_version": 9}', "format_version"),
        ("\x00\x01binary", "not a JSON object"),
    ],
)
def test_bad_import_files_change_nothing(jtt, tmp_path, content, message):
    jtt("start", "KEEP-1")
    before = _without_export_time(_bundle(jtt))
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = jtt("import", str(path), expect=1)
    assert message in result.stderr
    assert _without_export_time(_bundle(jtt)) == before


def test_huge_and_missing_import_files(jtt, tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(500 * 1024 * 1024)  # sparse: no real disk used
    assert "larger than the 100 MiB" in jtt("import", str(huge), expect=1).stderr
    assert "no such file" in jtt("import", str(tmp_path / "nope.json"), expect=1).stderr
    assert "which file?" in jtt("import", expect=2).stderr


def test_tickets_csv_import(jtt, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_bytes(
        '\ufeffticket_number,ticket_name,story_points\r\nWEB-5,"Name, quoted",2\r\n'.encode()
    )
    assert "tickets-csv" in jtt("import", str(path)).stdout
    jtt("start", "WEB-5")
    assert "Name, quoted" in jtt("status").stdout


def test_reset_needs_yes_and_writes_a_backup(jtt, cli_env):
    jtt("import", str(FIXTURE))
    assert "say what to delete" in jtt("reset", "--yes", expect=2).stderr
    assert "add --yes" in jtt("reset", "--sessions", expect=2).stderr
    result = jtt("reset", "--sessions", "--tickets", "--yes")
    backup = Path(result.stdout.split("Backup written to ")[1].split("\n")[0])
    assert backup.parent == Path(cli_env["JTT_DATA_DIR"]) / "backups"
    assert len(json.loads(backup.read_text())["sessions"]) == 4
    assert "Deleted 4 sessions" in result.stdout
    after = _bundle(jtt)
    assert after["sessions"] == [] and after["tickets"] == [] and len(after["projects"]) == 2
    jtt("reset", "--all", "--yes")
    assert _without_export_time(_bundle(jtt))["projects"] == []
