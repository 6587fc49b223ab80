"""jtt jira, end to end: the real command against a fake Jira over HTTP."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.support.fake_jira import serving


@pytest.fixture
def fake():
    with serving(cloud=True, email="mia@example.com", token="api-token-xyz") as jira:
        jira.add_issue("WEB-1", "Login page redirects twice")
        jira.add_issue("WEB-2", "Checkout button", "Done")
        yield jira


def _settings(cli_env) -> dict:
    return tomllib.loads((Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml").read_text())


def configure(jtt, fake, *extra: str, **options):
    return jtt(
        "jira",
        "configure",
        "--url",
        fake.url,
        "--email",
        fake.email,
        "--token-stdin",
        *extra,
        stdin=fake.token + "\n",
        **options,
    )


def test_configure_test_pull_push_status(jtt, cli_env, fake):
    out = configure(jtt, fake)
    assert "Jira Cloud" in out.stdout and "token in keyring" in out.stdout
    assert "plain http" in out.stderr  # the fake is http://127.0.0.1
    saved = _settings(cli_env)["jira"]
    assert saved["url"] == fake.url and saved["email"] == fake.email
    assert fake.token not in (Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml").read_text()
    assert "as Mia Krystof" in jtt("jira", "test").stdout

    pulled = jtt("jira", "pull", "--jql", "project = WEB").stdout
    assert "2 tickets from Jira; 2 new or changed" in pulled
    found = jtt("jira", "search", "login").stdout
    assert "WEB-1" in found and "Login page redirects twice" in found

    jtt("start", "WEB-1", "--note", "fixed the loop")
    jtt("stop")
    dry = jtt("jira", "push", "--dry-run").stdout
    assert "1 worklog to send" in dry and fake.count("POST") == 0
    assert "1 min  would create (tracked 0 min)" in dry  # Jira's one-minute floor
    pushed = jtt("jira", "push").stdout
    assert "Pushed 1, failed 0, queued 0" in pushed
    assert len(fake.all_worklogs("WEB-1")) == 1
    assert "Nothing to push" in jtt("jira", "push").stdout
    assert "Pushed 1, queued 0, failed 0" in jtt("jira", "status").stdout
    log_lines = jtt("log").stdout.splitlines()
    assert log_lines[0].endswith("Jira") and any(line.endswith("✓") for line in log_lines)
    log = "".join(p.read_text() for p in Path(cli_env["JTT_LOG_DIR"]).glob("*.log*"))
    assert fake.token not in log


def test_env_variables_work_without_a_keyring(jtt, fake):
    env = {
        "JTT_JIRA_URL": fake.url,
        "JTT_JIRA_EMAIL": fake.email,
        "JTT_JIRA_TOKEN": fake.token,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    assert "as Mia Krystof" in jtt("jira", "test", env=env).stdout
    refused = jtt(
        "jira",
        "configure",
        "--url",
        fake.url,
        "--server",
        "--token-stdin",
        stdin="t\n",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        expect=1,
    ).stderr
    assert "JTT_JIRA_TOKEN" in refused and "nothing changed" in refused
    overridden = jtt("jira", "configure", "--url", fake.url, "--email", fake.email, env=env)
    assert "JTT_JIRA_URL is set in the environment and overrides" in overridden.stderr


def test_errors_are_clear_and_change_nothing(jtt, cli_env, fake):
    assert "Jira is not set up" in jtt("jira", "test", expect=1).stderr
    bad = jtt("jira", "configure", "--url", "ftp://x", "--email", "a@b.co", expect=2).stderr
    assert "atlassian.net" in bad
    assert not (Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml").exists() or "jira" not in (
        _settings(cli_env)
    )
    wrong = jtt(
        "jira",
        "configure",
        "--url",
        fake.url,
        "--email",
        fake.email,
        "--token-stdin",
        stdin="wrong-token\n",
    )
    assert wrong.returncode == 0
    rejected = jtt("jira", "test", expect=1).stderr
    assert "rejected the token" in rejected and "wrong-token" not in rejected
    assert "Traceback" not in rejected


def test_push_while_jira_is_down_queues_then_sends(jtt, fake):
    configure(jtt, fake)
    jtt("start", "WEB-1")
    jtt("stop")
    fake.server.stop()
    down = jtt("jira", "push", expect=1)
    assert "queued 1" in down.stdout and "cannot reach Jira" in down.stderr
    assert "queued 1" in jtt("jira", "status").stdout
    fake.server.start()
    assert "Pushed 1, failed 0, queued 0" in jtt("jira", "push").stdout
    assert len(fake.all_worklogs("WEB-1")) == 1


def test_server_flavour(jtt, cli_env):
    with serving(cloud=False, token="pat-abc") as dc:
        dc.add_issue("OPS-3", "Rotate certificates")
        out = jtt(
            "jira", "configure", "--url", dc.url, "--server", "--token-stdin", stdin="pat-abc\n"
        ).stdout
        assert "Server / Data Center" in out
        assert "as Mia Krystof (mia)" in jtt("jira", "test").stdout
        assert "OPS-3" in jtt("jira", "search", "certificates").stdout
        jtt("start", "OPS-3")
        jtt("stop")
        assert "Pushed 1" in jtt("jira", "push").stdout
        assert all(path.startswith("/rest/api/2/") for _m, path in dc.calls)


def test_reconcile_command_json_exit_codes_and_import(jtt, fake):
    import json
    from datetime import UTC, datetime, timedelta

    utc = {"TZ": "UTC"}
    configure(jtt, fake, env=utc)
    jtt("start", "WEB-1", env=utc)
    jtt("stop", env=utc)
    jtt("jira", "push", env=utc)
    quiet = fake.queries("POST", "/worklog")[-1]
    assert quiet["notifyUsers"] == "false"  # the default: no e-mail to the watchers
    synced = jtt("jira", "reconcile", env=utc)
    assert "1 in sync" in synced.stdout and "Jira and jtt agree." in synced.stdout
    # logged in Jira's web UI, today
    fake.add_web_worklog("WEB-1", datetime.now(UTC) - timedelta(hours=2), 1800, "Review")
    found = jtt("jira", "reconcile", "--json", env=utc, expect=3)
    data = json.loads(found.stdout)
    assert data["in_sync"] is False and data["counts"]["jira_only"] == 1
    [outside] = [e for e in data["entries"] if e["kind"] == "jira_only"]
    assert outside["jira"]["seconds"] == 1800 and outside["jira"]["comment"] == "Review"
    assert data["requests"] <= 1 + 1 + 1  # myself, one search, WEB-1's worklogs
    text = jtt("jira", "reconcile", env=utc, expect=3).stdout
    assert "Jira only" in text and "--import" in text
    imported = jtt("jira", "reconcile", "--import", outside["worklog"], env=utc)
    assert (
        "imported as a manual entry" in imported.stdout and "Jira and jtt agree." in imported.stdout
    )
    log = jtt("log", env=utc).stdout
    assert "Review" in log and log.count("✓") == 2  # the timed segment and the imported entry
    assert "Nothing to push" in jtt("jira", "push", env=utc).stdout
    requests = len(fake.requests)
    unknown = jtt("jira", "reconcile", "--forget", "999", env=utc, expect=2)
    assert "--forget 999: no worklog deleted in Jira has that id" in unknown.stderr
    assert "nothing was changed" in unknown.stderr
    assert len(fake.requests) - requests == 3  # read once: nothing to read again


def test_configure_refuses_an_unbounded_search_on_cloud_and_checks_estimates(jtt, cli_env, fake):
    refused = configure(jtt, fake, "--jql", "ORDER BY updated DESC", expect=2)
    assert "Jira Cloud refuses a search" in refused.stderr and "statusCategory" in refused.stderr
    assert not (Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml").exists()
    bad = configure(jtt, fake, "--adjust-estimate", "manual", expect=2)
    assert "needs how much to reduce it by" in bad.stderr and "nothing was changed" in bad.stderr
    pointless = configure(jtt, fake, "--adjust-estimate", "leave", "--estimate", "3h", expect=2)
    assert "--estimate is the amount for --adjust-estimate new or manual" in pointless.stderr
    configure(jtt, fake, "--adjust-estimate", "new", "--estimate", "2d", "--notify-watchers")
    saved = _settings(cli_env)["jira"]
    assert (saved["adjust_estimate"], saved["estimate_value"], saved["notify_watchers"]) == (
        "new",
        "2d",
        True,
    )
