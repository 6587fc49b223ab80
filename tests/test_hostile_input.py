"""Hostile text through every input path — storage on each backend, import
files, the command line and the TUI: stored literally or refused with a
clear error; never a query operator, never a field name, never a broken
screen."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jtt_tui.domain import Project, Segment, Session, SessionStatus
from jtt_tui.storage.importers import read_import
from jtt_tui.storage.importers.reading import ImportFileError

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [
    '{"$gt": ""}',
    "$where: function() { return true }",
    "'; DROP TABLE sessions; --",
    "a.b.c",
    "\x00nul\x00",
    "\u202eRTL override\u202c",
    "emoji 🧨🔥👩‍💻",
    "[bold red]markup[/] [link=http://x]",
    "\x1b[2J\x1b[31mred",
    "line\nbreak\rcarriage\ttab",
    "x" * 5000,
]
_EXAMPLES = itertools.count()
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=hostile_text)
def test_free_text_is_stored_literally_on_every_backend(make_store, clock, text):
    store = make_store(where=f"h{next(_EXAMPLES)}")  # a fresh store for each example
    start = clock.now() - timedelta(hours=1)
    session = store.save_session(
        Session(
            ticket_number="WEB-1",
            status=SessionStatus.STOPPED,
            notes=text,
            description=text[:2000],
            tags=[text[:50]] if text.strip() else [],
            segments=[Segment(start=start, end=clock.now())],
        )
    )
    assert store.get_session("WEB-1").notes == session.notes == text
    found = store.recent_sessions(text=text[:30]) if text.strip() else []
    assert all(s.ticket_number == "WEB-1" for s in found)
    project = store.save_project(
        Project(key="WEB", name=text.strip()[:200] or "x", client={"address": text[:1000]})
    )
    assert store.get_project(project.project_id).client.address == text[:1000]
    if len(text) > 1000:  # too long: refused, saying the limit
        with pytest.raises(ValueError, match="at most 1000 characters"):
            Project(key="WEB", name="x", client={"address": text})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("project_rates", {"$gt": "1"}),
        ("project_rates", {"a.b": "1"}),
        ("project_rates", {"WEB\x00": "1"}),
    ],
)
def test_hostile_keys_in_an_import_file_are_refused(tmp_path, field, value):
    bundle = {
        "format_version": 1,
        "app": "jtt",
        "billing_settings": {"user_id": "u", field: value},
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(ImportFileError) as refused:
        read_import(path, "auto", user_id="u")
    assert "is not allowed (keys may not start with $ or contain . or NUL" in str(refused.value)


def test_unknown_fields_and_operators_in_records_are_refused(tmp_path):
    bundle = {
        "format_version": 1,
        "app": "jtt",
        "sessions": [{"ticket_number": "WEB-1", "$set": {"userId": "someone-else"}}],
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(ImportFileError) as refused:
        read_import(path, "auto", user_id="u")
    assert "$set" in str(refused.value)


def test_the_command_line_keeps_hostile_names_literal(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JTT_CONFIG_DIR": str(tmp_path / "c"),
        "JTT_DATA_DIR": str(tmp_path / "d"),
        "JTT_LOG_DIR": str(tmp_path / "l"),
        "DEFAULT_USER_ID": "u",
    }

    def jtt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jtt_tui", *args],
            capture_output=True, text=True, env=env, check=False, timeout=60,
        )  # fmt: skip

    name = '{"$gt": ""} 🧨 \u202eevil'
    assert jtt("start", "WEB-1", "--name", name).returncode == 0
    status = json.loads(jtt("status", "--json").stdout)
    assert status["timers"][0]["name"] == name
    refused = jtt("start", "$where")
    assert refused.returncode != 0 and "not a Jira ticket number" in refused.stderr
    # a control sequence in a name never reaches the terminal raw
    jtt("start", "WEB-2", "--name", "\x1b[2Jcleared")
    assert "\x1b[2J" not in jtt("status").stdout
