"""Ask for a file path (for export or import)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widget import Widget

from jtt_tui.ui.modals.forms import FieldErrors, FormModal, text_field


class PathPrompt(FormModal[Path]):
    SUBMIT = "OK"

    def __init__(
        self,
        title: str,
        default: str,
        *,
        must_exist: bool = False,
        suffixes: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.heading = title
        self.default = default
        self.must_exist = must_exist
        self.suffixes = suffixes  # allowed extensions (".pdf", …); empty: any

    def fields(self) -> Iterable[Widget]:
        yield from text_field("path", "File", self.default, hint="~ is your home folder")

    def build(self) -> Path:
        text = str(self.value("path"))
        if not text:
            raise FieldErrors({"path": "enter a file path"})
        path = Path(text).expanduser()
        if self.must_exist and not path.is_file():
            raise FieldErrors({"path": f"{path} is not a file"})
        if not self.must_exist and path.is_dir():
            raise FieldErrors({"path": f"{path} is a folder: add a file name"})
        if not self.must_exist and not path.parent.is_dir():
            raise FieldErrors({"path": f"the folder {path.parent} does not exist"})
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            raise FieldErrors(
                {"path": "end the name with " + ", ".join(self.suffixes) + " (the format)"}
            )
        return path
