"""Losing settings.toml must not hide your data (#19 §1): the store knows
its owners; a new id is never made silently over existing data."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def no_default_user(cli_env):
    """As on a real machine: the id comes from settings.toml, not the environment."""
    cli_env.pop("DEFAULT_USER_ID", None)


def settings_file(cli_env) -> Path:
    return Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml"


def user_id(cli_env) -> str:
    return tomllib.loads(settings_file(cli_env).read_text()).get("user_id", "")


def test_a_lost_settings_file_finds_the_one_owner_and_writes_it_back(jtt, cli_env):
    jtt("start", "WEB-1", "--name", "Login page")
    jtt("stop")
    owner = user_id(cli_env)
    assert owner
    settings_file(cli_env).unlink()  # a wiped config folder
    log = jtt("log").stdout
    assert "WEB-1" in log and "Nothing tracked" not in log
    assert user_id(cli_env) == owner  # written back
    assert "integrity" in jtt("doctor").stdout


def test_a_configured_id_without_data_says_whose_data_is_there(jtt, cli_env):
    jtt("start", "WEB-1")
    jtt("stop")
    owner = user_id(cli_env)
    other = jtt("log", env={"DEFAULT_USER_ID": "newcomer"})
    assert f"holds no data for user 'newcomer' but 1 record of '{owner}'" in other.stderr
    assert f"jtt user adopt {owner}" in other.stderr
    doctor = jtt("doctor", env={"DEFAULT_USER_ID": "newcomer"}, expect=None)
    assert "WARN  owner" in doctor.stdout and owner in doctor.stdout


def test_adopt_takes_over_another_ids_data(jtt, cli_env):
    jtt("start", "WEB-1")
    jtt("stop")
    owner = user_id(cli_env)
    settings_file(cli_env).write_text('user_id = "fresh-1234"\n')
    assert "holds no data for user 'fresh-1234'" in jtt("status").stderr
    adopted = jtt("user", "adopt", owner)
    assert f"You are now '{owner}'" in adopted.stdout
    assert user_id(cli_env) == owner
    assert "WEB-1" in jtt("log").stdout
    refused = jtt("user", "adopt", "nobody-0000", expect=1)
    assert "no records of 'nobody-0000'" in refused.stderr and owner in refused.stderr
    assert user_id(cli_env) == owner


def test_several_owners_and_no_configured_id_is_never_a_new_id(jtt, cli_env):
    jtt("start", "WEB-1", env={"DEFAULT_USER_ID": "ann"})
    jtt("start", "WEB-2", env={"DEFAULT_USER_ID": "bob"})
    if settings_file(cli_env).exists():
        settings_file(cli_env).unlink()
    refused = jtt("log", expect=2)
    assert "ann" in refused.stderr and "bob" in refused.stderr
    assert "jtt user adopt" in refused.stderr
    assert not settings_file(cli_env).exists() or not user_id(cli_env)
    jtt("user", "adopt", "bob")
    assert user_id(cli_env) == "bob" and "WEB-2" in jtt("status").stdout
