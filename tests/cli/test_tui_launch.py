"""`jtt` alone opens the app: a bad setting is said in one line with exit 2
before anything is drawn (the terminal is never switched to the app's screen)."""

from __future__ import annotations


def test_a_bad_setting_exits_2_before_drawing(jtt):
    result = jtt(env={"MONGODB_MAX_POOL_SIZE": "ten"}, expect=2)
    assert result.stdout == ""  # no escape sequences: nothing was drawn
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("jtt: configuration error: MONGODB_MAX_POOL_SIZE=ten")
    assert "must be a whole number" in lines[0]


def test_a_bad_settings_file_exits_2_before_drawing(jtt, cli_env):
    from pathlib import Path

    config = Path(cli_env["JTT_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text('[ui]\ntheme = "purple"\n')
    result = jtt(expect=2)
    assert result.stdout == ""
    assert "theme" in result.stderr and "purple" in result.stderr
    assert result.stderr.count("\n") == 1
