"""Where the stylesheets are: inside the installed package (the wheel ships
them as ``jtt_tui/styles``), or the repository's top-level ``styles/``."""

from __future__ import annotations

from pathlib import Path, PurePath

_PACKAGE = Path(__file__).resolve().parents[1]


def styles_dir() -> Path:
    for candidate in (_PACKAGE / "styles", _PACKAGE.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(
        f"jtt's stylesheets are missing (looked in {_PACKAGE / 'styles'} and "
        f"{_PACKAGE.parent / 'styles'}); reinstall jtt"
    )


def stylesheets() -> list[str | PurePath]:
    folder = styles_dir()
    return [
        folder / name
        for name in (
            "app.tcss",
            "timer.tcss",
            "projects.tcss",
            "billing.tcss",
            "database.tcss",
            "screens.tcss",
            "modals.tcss",
        )
    ]
