"""Hostile and implausible input (#19 §3): each is refused quickly with one
clear line naming the file or argument, and the store is unchanged (its
export is identical before and after)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest


def electron(tmp_path: Path, start: str) -> Path:
    """A 3 KB Electron file whose one segment starts at ``start`` (raw JSON)."""
    path = tmp_path / "electron.json"
    path.write_text(
        '{"sessions": {"WEB-1": {"ticketNumber": "WEB-1", "ticketName": "x", "sessions": '
        f'[{{"startTime": {start}, "duration": 60000, "status": "completed", '
        '"endTime": 1752915600000}]}}, "projectData": [], "manualTasks": [], '
        '"projects": [], "billing": {}}' + " " * 2800
    )
    return path


def exported(jtt, tmp_path: Path) -> str:
    out = tmp_path / "before.json"
    jtt("export", str(out))
    data = json.loads(out.read_text())
    data.pop("exported_at", None)
    return json.dumps(data, sort_keys=True)


@pytest.fixture
def tracked(jtt):
    jtt("start", "OPS-1", "--name", "Something real")
    jtt("stop")


@pytest.mark.parametrize(
    "start",
    ["1e10000000", "1e999999999", "1" + "0" * 5000],
    ids=["1e10000000", "1e999999999", "5000 digits"],
)
def test_absurd_numbers_are_refused_fast(jtt, tmp_path, tracked, start):
    before = exported(jtt, tmp_path)
    began = time.monotonic()
    refused = jtt("import", str(electron(tmp_path, start)), expect=1)
    assert time.monotonic() - began < 20  # it took minutes (and 440 MB) before
    assert str(tmp_path / "electron.json") in refused.stderr
    assert "out of range" in refused.stderr and "unexpected error" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert exported(jtt, tmp_path) == before


def test_deeply_nested_json_is_refused_with_the_file_named(jtt, tmp_path, tracked):
    path = tmp_path / "deep.json"
    path.write_text('{"sessions": ' + "[" * 100_000 + "]" * 100_000 + "}")
    before = exported(jtt, tmp_path)
    refused = jtt("import", str(path), expect=1)
    assert f"{path}: nested too deeply" in refused.stderr
    assert "unexpected error" not in refused.stderr
    assert exported(jtt, tmp_path) == before


def test_a_day_beyond_the_calendar_is_a_usage_error(jtt):
    refused = jtt("log", "--to", "9999-12-31", expect=2)
    assert "--to" in refused.stderr and "unexpected error" not in refused.stderr
    assert "9999-12-30" in refused.stderr
    # the first day of the calendar is fine: everything since
    assert jtt("report", "--from", "0001-01-01").returncode == 0
    assert jtt("log", "--from", "0001-01-01").returncode == 0


def bundle(tmp_path: Path, jtt, **session) -> Path:
    out = tmp_path / "bundle.json"
    jtt("export", str(out))
    data = json.loads(out.read_text())
    data["sessions"] = [
        {
            "ticket_number": "ODD-1",
            "ticket_name": "odd",
            "status": "stopped",
            "segments": [{"start": "2025-03-10T09:00:00Z", "end": "2025-03-10T10:00:00Z"}],
            **session,
        }
    ]
    out.write_text(json.dumps(data))
    return out


def test_implausible_segments_are_refused_on_import(jtt, tmp_path, tracked):
    before = exported(jtt, tmp_path)
    ages = bundle(
        tmp_path,
        jtt,
        segments=[{"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"}],
    )
    refused = jtt("import", str(ages), expect=1)
    assert "ODD-1" in refused.stderr and "before 1970" in refused.stderr
    future = bundle(
        tmp_path,
        jtt,
        segments=[{"start": "2999-01-01T00:00:00Z", "end": "2999-01-01T01:00:00Z"}],
    )
    refused = jtt("import", str(future), expect=1)
    assert "ODD-1" in refused.stderr and "in the future" in refused.stderr
    assert exported(jtt, tmp_path) == before


def test_nul_characters_in_names_are_refused_on_import(jtt, tmp_path, tracked):
    before = exported(jtt, tmp_path)
    nul = bundle(tmp_path, jtt, ticket_name="bad\u0000name")
    refused = jtt("import", str(nul), expect=1)
    assert "NUL" in refused.stderr and str(nul) in refused.stderr
    csv = tmp_path / "tickets.csv"
    csv.write_text("ticket_number,ticket_name,story_points\nWEB-7,bad\x00name,1\n")
    refused = jtt("import", str(csv), expect=1)
    assert "NUL" in refused.stderr and "line 2" in refused.stderr
    assert exported(jtt, tmp_path) == before


def test_time_before_1970_is_refused_on_entry(jtt):
    refused = jtt(
        "add", "WEB-3", "--from", "1969-07-20 20:17", "--to", "1969-07-20 21:00", expect=1
    )
    assert "before 1970" in refused.stderr


def test_every_csv_defuses_formulas_and_control_characters(jtt, tmp_path):
    jtt("start", "WEB-1", "--name", "=cmd|' /C calc'!A0\x1b[31m red")
    jtt("stop")
    out = tmp_path / "segments.csv"
    jtt("export", str(out))
    text = out.read_text()
    assert "'=cmd|' /C calc'!A0[31m red" in text and "\x1b" not in text
    report = jtt("report", "--format", "csv", "--by", "ticket").stdout
    assert "\x1b" not in report
    from jtt_tui.storage.exporters import cell

    assert [cell(t) for t in ("+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok\x00\x07")] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
    ]
