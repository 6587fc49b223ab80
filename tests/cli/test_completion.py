"""Shell completion: the generated bash script run in a real bash, asking
the real `jtt __complete` (zsh and fish when installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    """A `jtt` on PATH that runs this checkout."""
    folder = tmp_path / "bin"
    folder.mkdir()
    jtt = folder / "jtt"
    root = Path(__file__).resolve().parents[2]
    jtt.write_text(f'#!/bin/sh\nPYTHONPATH={root} exec {sys.executable} -m jtt_tui "$@"\n')
    jtt.chmod(0o755)
    return folder


def bash_complete(cli_env, shim: Path, script: str, *words: str) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one being completed)."""
    line = " ".join(f"'{w}'" for w in words)
    program = f"""
{script}
COMP_WORDS=({line})
COMP_CWORD={len(words) - 1}
_jtt_complete
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {**os.environ, **cli_env, "PATH": f"{shim}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_options_tickets_projects_and_choices(jtt, cli_env, shim):
    script = jtt("completion", "bash").stdout
    assert "complete -o default -F _jtt_complete jtt" in script
    jtt("project", "add", "WEB", "--name", "Website")
    jtt("start", "WEB-1")
    jtt("start", "OPS-7")  # the most recent
    assert bash_complete(cli_env, shim, script, "jtt", "st") == ["start", "stop", "status"]
    assert bash_complete(cli_env, shim, script, "jtt", "resume", "") == ["OPS-7", "WEB-1"]
    assert bash_complete(cli_env, shim, script, "jtt", "stop", "W") == ["WEB-1"]
    assert "--format" in bash_complete(cli_env, shim, script, "jtt", "status", "--")
    assert bash_complete(cli_env, shim, script, "jtt", "log", "--project", "") == ["WEB"]
    assert bash_complete(cli_env, shim, script, "jtt", "invoice", "mark", "X", "p") == ["paid"]
    assert bash_complete(cli_env, shim, script, "jtt", "jira", "rec") == ["reconcile"]
    assert bash_complete(cli_env, shim, script, "jtt", "completion", "") == ["bash", "zsh", "fish"]
    # nothing to offer (a time): the shell's own completion takes over
    assert bash_complete(cli_env, shim, script, "jtt", "start", "WEB-1", "--at", "") == []


def test_completion_never_writes_and_never_fails_loudly(jtt, cli_env, tmp_path):
    fresh = jtt("__complete", "2", "jtt", "start", "")
    assert fresh.stdout == "" and fresh.stderr == ""
    assert not Path(cli_env["JTT_DATA_DIR"], "jtt.db").exists()  # no store made for it
    broken = jtt("__complete", "nonsense", expect=1)
    assert broken.stdout == broken.stderr == ""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_completes(jtt, cli_env, shim):
    script = jtt("completion", "zsh").stdout
    jtt("start", "WEB-1")
    env = {**os.environ, **cli_env, "PATH": f"{shim}:{os.environ['PATH']}"}
    # the completion function with the words zsh would give it; compadd prints
    program = f"""
autoload -Uz compinit && compinit -u
{script}
compadd() {{ print -l -- "${{(@P)2}}" }}
words=(jtt sto) CURRENT=2 _jtt
words=(jtt resume '') CURRENT=3 _jtt
"""
    done = subprocess.run(
        ["zsh", "-f", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["stop", "WEB-1"], done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_fish_completes(jtt, cli_env, shim):
    script = jtt("completion", "fish").stdout
    jtt("start", "WEB-1")
    env = {**os.environ, **cli_env, "PATH": f"{shim}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"{script}\ncomplete -C 'jtt sto'"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert "stop" in done.stdout, done.stderr
