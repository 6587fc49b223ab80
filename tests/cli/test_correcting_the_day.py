"""Correcting the day from the shell (#14), the real `jtt` in subprocesses:
backdating, adding and editing time, undo and redo, billed time locked,
forgotten timers. Every refusal: exit 1, one clear line, the store
unchanged (the exports before and after are the same). Times are relative
(`-90m`), so the tests hold whenever they run."""

from __future__ import annotations

import json
import re


def _export(jtt) -> dict:
    data = json.loads(jtt("export", "-").stdout)
    data.pop("exported_at")
    return data


def _refused(jtt, *args: str, says: str, code: int = 1) -> str:
    before = _export(jtt)
    result = jtt(*args, expect=code)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("jtt: "), result.stderr
    assert says in result.stderr, result.stderr
    assert _export(jtt) == before, "a refusal changed the store"
    return result.stderr


def _timers(jtt) -> dict:
    return {t["ticket"]: t for t in json.loads(jtt("status", "--json").stdout)["timers"]}


def test_start_at_pauses_the_running_timer_then(jtt):
    jtt("start", "WEB-1", "--at", "-90m")
    out = jtt("start", "WEB-2", "--at", "-30m").stdout
    assert "Paused WEB-1" in out and "(1:00:00 in all)" in out
    timers = _timers(jtt)
    assert timers["WEB-1"]["elapsed_seconds"] == 3600  # not 1h30: no double count
    assert 1790 <= timers["WEB-2"]["elapsed_seconds"] <= 1830


def test_refusals_change_nothing(jtt):
    jtt("add", "WEB-1", "--from", "-5h", "--to", "-4h")
    jtt("add", "WEB-2", "--from", "-4h", "--to", "-3h")
    jtt("start", "WEB-3", "--at", "-2h")
    _refused(jtt, "start", "OPS-1", "--at", "-6h", says="has been running since")
    _refused(jtt, "add", "OPS-1", "--from", "-270m", "--to", "-200m", says="would overlap WEB-1")
    # a value that cannot be read is a usage error (2), like any bad argument
    _refused(jtt, "add", "OPS-1", "--from", "-1h", "--to", "+1h", says="is not a time", code=2)
    _refused(jtt, "start", "OPS-1", "--at", "25:00", says="is not a time of day", code=2)
    _refused(jtt, "add", "OPS-1", "--from", "-30h", "--to", "-4h", says="over 24 h is refused")
    _refused(jtt, "stop", "--at", "-3h", says="only started at")
    _refused(jtt, "edit", "WEB-2", "1", "--start", "-270m", says="would overlap WEB-1")


def test_add_trim_and_edit(jtt):
    jtt("add", "WEB-1", "--from", "-5h", "--to", "-3h")
    out = jtt("add", "WEB-2", "--duration", "1h", "--at", "-4h", "--trim").stdout
    assert "Added 1h 00m to WEB-2" in out and "Note: shortened WEB-1" in out
    listed = jtt("edit", "WEB-1").stdout
    assert "1  " in listed and "(1h 00m)" in listed
    jtt("edit", "WEB-1", "1", "--start", "-320m")  # 20 minutes earlier
    assert re.search(r"\(1h (19|20)m\)", jtt("edit", "WEB-1").stdout)
    jtt("edit", "WEB-1", "1", "--delete")
    sessions = {s["ticket_number"]: s for s in _export(jtt)["sessions"]}
    assert sessions["WEB-1"]["segments"] == [] and len(sessions["WEB-2"]["segments"]) == 1


def test_undo_and_redo_from_the_shell(jtt):
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h")
    jtt("start", "WEB-2")
    assert "Undid: start WEB-2" in jtt("undo").stdout
    assert "WEB-2" not in _timers(jtt)
    listed = jtt("undo", "--list").stdout
    assert "undone" in listed and "start WEB-2" in listed and "add WEB-1" in listed
    assert "Redid: start WEB-2" in jtt("redo").stdout
    assert "WEB-2" in _timers(jtt)
    jtt("undo")
    jtt("undo")
    assert _export(jtt)["sessions"] == []
    _refused(jtt, "undo", says="nothing to undo")


def test_billed_time_is_locked_until_its_invoice_is_cancelled(jtt):
    jtt("project", "add", "WEB", "--name", "Website", "--client", "Acme", "--rate", "80")
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h")
    jtt("invoice", "create", "--project", "WEB", "--from", "-1", "--to", "today")
    jtt("invoice", "mark", "INV-1001", "sent")
    assert "locked: INV-1001 (sent)" in jtt("edit", "WEB-1").stdout
    _refused(jtt, "edit", "WEB-1", "1", "--start", "-4h", says="billed on INV-1001 (sent)")
    _refused(jtt, "edit", "WEB-1", "1", "--delete", says="cancel the invoice first")
    _refused(jtt, "reset", "--sessions", "--yes", says="billed on INV-1001")
    jtt("invoice", "mark", "INV-1001", "cancelled")
    jtt("edit", "WEB-1", "1", "--start", "-4h")  # free again


def test_a_draft_says_when_its_time_changed(jtt):
    jtt("project", "add", "WEB", "--name", "Website", "--client", "Acme", "--rate", "80")
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h")
    jtt("invoice", "create", "--project", "WEB", "--from", "-1", "--to", "today")
    out = jtt("edit", "WEB-1", "1", "--start", "-4h").stdout
    assert "Note: draft INV-1001 no longer matches its time" in out
    shown = jtt("invoice", "show", "INV-1001").stdout
    assert "Out of date" in shown and "jtt invoice refresh INV-1001" in shown
    assert "Service period" in shown and "Status" in shown
    assert "Refreshed INV-1001: 1 line, total" in jtt("invoice", "refresh", "INV-1001").stdout
    shown = jtt("invoice", "show", "INV-1001").stdout
    assert "Out of date" not in shown and "2.00" in shown


def test_a_forgotten_timer_is_not_counted_silently(jtt):
    jtt("start", "WEB-1", "--at", "-11h")
    status = jtt("status")
    assert "warning: WEB-1 has been running" in status.stderr and "11h 00m" in status.stderr
    assert "Running  WEB-1" in status.stdout  # status still shows
    stopped = _refused(jtt, "stop", says="WEB-1 has been running")
    assert "nothing changed" in stopped and "--at" in stopped and "--force" in stopped
    _refused(jtt, "start", "WEB-2", says="nothing changed")
    jtt("stop", "--at", "-2h")  # when it really ended
    assert _export(jtt)["sessions"][0]["status"] == "stopped"


def test_time_on_two_tickets_is_listed_by_doctor_when_allowed(jtt):
    allow = {"JTT_ALLOW_OVERLAP": "true"}
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h", env=allow)
    jtt("add", "WEB-2", "--from", "-150m", "--to", "-1h", env=allow)
    log = jtt("log", env=allow).stdout
    assert "WEB-1 ⚠" in log and "WEB-2 ⚠" in log and "overlap another ticket's time" in log
    doctor = jtt("doctor", env=allow).stdout
    assert "1 overlapping pair(s)" in doctor and "allowed by timer.allow_overlap" in doctor
    strict = jtt("doctor").stdout  # the setting back off: a warning, nothing changed
    assert "WARN  local store timeline" in strict


def test_csv_export_has_every_tracked_item(jtt, tmp_path):
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-2h")
    from datetime import date

    jtt("import", str(_manual_bundle(tmp_path, date.today().isoformat())))
    out = tmp_path / "week.csv"
    jtt("export", str(out), "--from", "-1")
    text = out.read_text()
    assert text.splitlines()[0].startswith("kind,ticket,name")
    assert "\nsegment,WEB-1," in text and "\nmanual,WEB-1,Call," in text


def _manual_bundle(tmp_path, day: str):
    path = tmp_path / "manual.json"
    path.write_text(
        json.dumps(
            {
                "app": "jtt",
                "format_version": 1,
                "manual_tasks": [
                    {
                        "task_id": "t1",
                        "title": "Call",
                        "ticket_number": "WEB-1",
                        "duration": "PT1H30M",
                        "date": day,
                    }
                ],
            }
        )
    )
    return path


def test_the_question_in_a_terminal_ends_only_the_timer_asked_about(jtt, jtt_tty):
    jtt("add", "WEB-2", "--from", "-30h", "--to", "-29h")
    jtt("start", "WEB-2", "--at", "-28h")
    jtt("pause", "--at", "-27h")  # WEB-2 paused
    jtt("start", "WEB-3", "--at", "-20h")  # and WEB-3 left running
    code, out = jtt_tty("stop", answers="-15h\n")
    assert code == 0, out
    assert "WEB-3 has been running" in out and "Answer [s]" in out
    assert "Stopped WEB-3" in out and "WEB-2" not in out.split("Answer [s]")[-1]
    timers = _timers(jtt)
    assert "WEB-3" not in timers and timers["WEB-2"]["status"] == "paused"  # not stopped too
    exported = {s["ticket_number"]: s for s in _export(jtt)["sessions"]}
    web3 = exported["WEB-3"]["segments"][-1]
    assert web3["end"] is not None and exported["WEB-3"]["status"] == "stopped"


def test_pausing_a_long_timer_pauses_it_when_it_ended(jtt, jtt_tty):
    jtt("start", "WEB-3", "--at", "-20h")
    code, out = jtt_tty("pause", answers="-15h\n")
    assert code == 0, out
    assert "Paused WEB-3" in out and "5:00:00 in all" in out
    assert _timers(jtt)["WEB-3"]["status"] == "paused"


def test_a_backdated_switch_asks_about_the_timer_it_pauses(jtt, jtt_tty):
    jtt("start", "WEB-3", "--at", "-20h")
    _refused(jtt, "start", "WEB-5", "--at", "-1h", says="WEB-3 has been running")
    code, out = jtt_tty("start", "WEB-5", "--at", "-1h", answers="k\n")
    assert code == 0, out
    assert "Kept WEB-3" in out and "Started WEB-5" in out
