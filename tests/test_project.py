"""The project's own promises: README and CI agree, styles ship in the wheel."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set-up: two commands.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README.md lost its set-up section"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_two_set_up_commands_and_ci_runs_the_test_one():
    install, test = _readme_commands()
    assert install.endswith(".venv/bin/jtt")
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci, "CI must run exactly the README's test command"
    assert "set -euo pipefail" in ci


def test_the_wheel_ships_the_stylesheets(tmp_path):
    """An installed (non-editable) jtt must find styles/*.tcss inside itself."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("jtt-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    styles = {p.name for p in (ROOT / "styles").glob("*.tcss")}
    assert styles, "the repository lost its styles/"
    assert {f"jtt_tui/styles/{name}" for name in styles} <= names
    from jtt_tui.ui.resources import stylesheets

    assert {p.name for p in stylesheets()} == styles
