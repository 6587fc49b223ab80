"""Settings files and variables (#19 §4): a file jtt cannot read is named
with its line (exit 2); what jtt would silently ignore is said once."""

from __future__ import annotations

from pathlib import Path


def test_a_settings_file_that_is_not_utf8_is_named_with_its_line(jtt, cli_env):
    path = Path(cli_env["JTT_CONFIG_DIR"]) / "settings.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'user_id = "mia"\n[ui]\ntheme = "caf\xfd"\n')
    refused = jtt("status", expect=2)
    assert f"{path}, line 3: not UTF-8 text" in refused.stderr
    assert "codec" not in refused.stderr and "unexpected" not in refused.stderr


def test_an_env_file_that_is_not_utf8_is_named_with_its_line(jtt, tmp_path):
    (tmp_path / "work" / ".env").write_bytes(b"JTT_JOURNAL_KEEP=100\nMONGODB_USER=m\xfcller\n")
    refused = jtt("status", expect=2)
    assert ".env, line 2: not UTF-8 text" in refused.stderr


def test_a_line_of_env_that_cannot_be_read_is_said(jtt, tmp_path):
    (tmp_path / "work" / ".env").write_text('JTT_JOURNAL_KEEP=100\nMONGODB_URI="mongodb://x\n')
    warned = jtt("status")
    assert ".env, line 2" in warned.stderr and "ignored" in warned.stderr


def test_unknown_jtt_and_mongodb_variables_are_named_once(jtt):
    warned = jtt("status", env={"MONGODB_URL": "mongodb://x", "JTT_JOURNAL_KEPT": "5"})
    assert warned.stderr.count("warning: unknown setting") == 1
    assert "MONGODB_URL (did you mean MONGODB_URI?)" in warned.stderr
    assert "JTT_JOURNAL_KEPT (did you mean JTT_JOURNAL_KEEP?)" in warned.stderr


def test_a_number_that_is_not_a_number_says_so(jtt):
    refused = jtt("status", env={"JTT_HEALTH_INTERVAL_S": "nan"}, expect=2)
    assert "JTT_HEALTH_INTERVAL_S=nan" in refused.stderr and "finite number" in refused.stderr


def test_an_explicit_store_path_in_a_missing_folder_is_refused(jtt, tmp_path):
    wanted = tmp_path / "nonexistent" / "dir" / "x.db"
    refused = jtt("status", env={"LOCAL_STORE_PATH": str(wanted)}, expect=1)
    assert f"the folder {wanted.parent} does not exist" in refused.stderr
    assert "--create" in refused.stderr and not wanted.parent.exists()
    assert jtt("--create", "status", env={"LOCAL_STORE_PATH": str(wanted)}).returncode == 0
    assert wanted.parent.is_dir() and wanted.exists()
    assert jtt("status", env={"LOCAL_STORE_PATH": str(wanted)}).returncode == 0
