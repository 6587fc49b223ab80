"""jtt start / pause / resume / stop / complete / status / log."""

from __future__ import annotations

import json
import re

FIXTURE_BUNDLE = {
    "app": "jtt",
    "format_version": 1,
    "projects": [
        {"project_id": "p-web", "key": "WEB", "name": "Website"},
        {"project_id": "p-ops", "key": "OPS", "name": "Operations"},
    ],
    "sessions": [
        {
            "ticket_number": "WEB-7",
            "ticket_name": "Old work",
            "status": "stopped",
            "segments": [
                {"start": "2025-07-18T09:00:00Z", "end": "2025-07-18T10:15:00Z"},
                {"start": "2025-07-18T23:30:00Z", "end": "2025-07-19T00:30:00Z"},
            ],
        },
        {
            "ticket_number": "OPS-1",
            "status": "completed",
            "segments": [{"start": "2025-07-19T08:00:00Z", "end": "2025-07-19T08:45:00Z"}],
        },
    ],
}


def test_timer_lifecycle(jtt):
    out = jtt("start", "web-1", "--name", "Login page", "--tag", "ui", "--note", "hi").stdout
    assert re.match(r"Started WEB-1 \(Login page\) at \d\d:\d\d", out)
    out = jtt("start", "API-2").stdout
    assert "Paused WEB-1 (Login page)" in out and "Started API-2" in out
    status = json.loads(jtt("status", "--json").stdout)
    assert [(t["ticket"], t["status"]) for t in status["timers"]] == [
        ("API-2", "running"),
        ("WEB-1", "paused"),
    ]
    assert status["store"] == "local"
    text = jtt("status").stdout
    assert "Running  API-2" in text and "Paused   WEB-1" in text and "Today:" in text
    assert "Paused API-2" in jtt("pause").stdout
    assert "Resumed API-2" in jtt("resume").stdout
    assert "Stopped API-2" in jtt("stop").stdout
    assert "Resumed WEB-1" in jtt("resume", "WEB-1").stdout
    assert "Completed WEB-1" in jtt("complete").stdout
    assert "No timer is running." in jtt("status").stdout


def test_start_at_an_earlier_time(jtt):
    jtt("start", "WEB-1", "--at", "00:00")
    timer = json.loads(jtt("status", "--json").stdout)["timers"][0]
    assert timer["since"].endswith("T00:00:00+00:00")


def test_timer_errors_have_clear_messages_and_exit_1(jtt):
    for args, message in [
        (("pause",), "no timer is running"),
        (("resume",), "no paused timer"),
        (("stop", "WEB-404"), "no timer for WEB-404"),
        (("start", "WEB-1", "--project", "NOPE"), "no project with the key NOPE"),
        (("log", "--from", "2025-07-20", "--to", "2025-07-01"), "before the start date"),
    ]:
        result = jtt(*args, expect=1)
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("jtt: ")


def test_values_that_cannot_be_read_are_usage_errors(jtt):
    """Exit 2 with the command's usage, before anything is opened."""
    for args, message in [
        (("start", "not-a-ticket"), "argument ticket: 'not-a-ticket' is not a Jira ticket"),
        (("start", "WEB-1", "--at", "7pm"), "argument --at: '7pm' is not a time"),
        (("start", "WEB-1", "--at", "25:00"), "'25:00' is not a time of day"),
        (("stop", "--at", "yesterday 9"), "is not a time"),
        (("add", "WEB-1", "--duration", "soon"), "argument --duration: 'soon' is not a duration"),
        (("edit", "WEB-1", "1", "--end", "99:99"), "argument --end: '99:99'"),
        (("log", "--from", "2025-02-30"), "argument --from: '2025-02-30' is not a date"),
        (("invoice", "create", "--from", "soon", "--to", "today"), "'soon' is not a date"),
    ]:
        result = jtt(*args, expect=2)
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("usage: jtt "), result.stderr
        assert "Traceback" not in result.stderr
    jtt("start", "WEB-1")
    assert "already running" in jtt("start", "WEB-1", expect=1).stderr


def test_log_table_with_daily_totals_and_project_filter(jtt, tmp_path):
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps(FIXTURE_BUNDLE))
    jtt("import", str(bundle))
    out = jtt("log", "--from", "2025-07-18", "--to", "2025-07-19").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["Date", "Start", "End", "Duration", "Ticket", "Project", "Name"]
    assert "2025-07-18  09:00  10:15   1:15:00  WEB-7" in out
    assert "23:30  24:00   0:30:00  WEB-7" in out  # split at midnight
    assert "2025-07-19  00:00  00:30   0:30:00  WEB-7" in out
    totals = [line.split()[-1] for line in lines if " total " in line]
    assert totals == ["1:45:00", "1:15:00"]
    assert "2 days, 3h 00m in all" in out
    web = jtt("log", "--from", "2025-07-18", "--to", "2025-07-19", "--project", "web").stdout
    assert "OPS-1" not in web and "WEB-7" in web
    assert "Nothing tracked" in jtt("log", "--from", "2020-01-01", "--to", "2020-01-02").stdout


def test_start_on_a_project(jtt, tmp_path):
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps(FIXTURE_BUNDLE))
    jtt("import", str(bundle))
    jtt("start", "X1-5", "--project", "ops")
    exported = json.loads(jtt("export", "-").stdout)
    session = next(s for s in exported["sessions"] if s["ticket_number"] == "X1-5")
    assert session["project_id"] == "p-ops"


def test_commands_keep_rolling_backups_when_due(jtt, cli_env):
    from pathlib import Path

    backups = Path(cli_env["JTT_DATA_DIR"]) / "backups"
    jtt("start", "WEB-1")
    first = sorted(backups.glob("jtt-*.db"))
    assert len(first) == 1
    jtt("stop")  # not due again for 24 hours
    assert sorted(backups.glob("jtt-*.db")) == first
    jtt("start", "WEB-2", env={"LOCAL_BACKUP_ENABLED": "false"})
    assert sorted(backups.glob("jtt-*.db")) == first


def test_resume_says_when_it_paused_the_running_timer(jtt):
    """The timer a resume pauses is told like any pause: its clock time and
    its total (it once printed the total where the time belongs)."""
    import re

    jtt("start", "WEB-1")
    jtt("start", "WEB-2")  # WEB-1 paused, WEB-2 running
    out = jtt("resume", "WEB-1").stdout
    assert re.search(r"^Paused WEB-2 at \d\d:\d\d \(\d+:\d\d:\d\d in all\)$", out, re.M), out
    assert re.search(r"^Resumed WEB-1 at \d\d:\d\d ", out, re.M), out
