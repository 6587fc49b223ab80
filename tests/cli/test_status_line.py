"""`jtt status --short / --format` for a shell prompt or a tmux status line."""

from __future__ import annotations


def test_short_is_empty_when_nothing_runs_and_one_line_when_something_does(jtt):
    assert jtt("status", "--short").stdout == "\n"
    jtt("start", "WEB-12", "--name", "Login page")
    assert jtt("status", "--short").stdout == "▶ WEB-12 0:00\n"
    jtt("pause")
    assert jtt("status", "--short").stdout == "\n"  # paused: nothing runs


def test_format_fields(jtt):
    fields = "{ticket}|{name}|{elapsed}|{elapsed_min}|{today}|{state}|{project}"
    assert jtt("status", "--format", fields).stdout == "||||0:00|idle|\n"
    jtt("start", "WEB-12", "--name", "Login page")
    assert jtt("status", "--format", fields).stdout == "WEB-12|Login page|0:00|0|0:00|running|WEB\n"
    jtt("pause")
    assert jtt("status", "--format", "{state} {ticket}").stdout == "paused WEB-12\n"
    assert jtt("status", "--format", "{{literal}} {ticket}").stdout == "{literal} WEB-12\n"


def test_a_bad_format_is_a_usage_error_that_names_the_fields(jtt):
    unknown = jtt("status", "--format", "{tiket}", expect=2)
    assert "no field {tiket}" in unknown.stderr and "{elapsed_min}" in unknown.stderr
    broken = jtt("status", "--format", "{ticket", expect=2)
    assert "--format" in broken.stderr and unknown.stdout == broken.stdout == ""
    both = jtt("status", "--short", "--json", expect=2)
    assert "not allowed with" in both.stderr
