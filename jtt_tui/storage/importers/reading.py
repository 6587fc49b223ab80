"""Safe reading of import files: size limit, strict JSON, hostile keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from jtt_tui.domain.models import DataBundle
from jtt_tui.domain.validation import explain

ImportFormat = Literal["bundle", "electron", "tickets-csv"]
MAX_IMPORT_BYTES = 100 * 1024 * 1024  # 100 MiB: ~150,000 sessions as a bundle


class ImportFileError(ValueError):
    """The file cannot be imported; the message says why and where."""


@dataclass
class ParsedImport:
    format: ImportFormat
    bundle: DataBundle
    # what could not be mapped or was adjusted, for the user to read
    notes: list[str] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not path.is_file():
        raise ImportFileError(f"{path}: not a regular file")
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError(
            f"{path}: {size / 1024 / 1024:.0f} MiB is larger than the "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MiB jtt imports at once; split the data or "
            "import a bundle exported by jtt"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror})") from None


def load_json(path: Path, raw: bytes) -> Any:
    """JSON with exact decimals and no hostile keys."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg} "
            "(is the file complete?)"
        ) from None
    except ValueError as exc:
        raise ImportFileError(f"{path}: {exc}") from None
    check_keys(data, path)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number jtt accepts")


def check_keys(data: Any, path: Path, where: str = "") -> None:
    """Refuse keys that could act as MongoDB operators or paths: ``$…``,
    anything with a dot or a NUL character."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                continue
            if key.startswith("$") or "." in key or "\0" in key:
                place = f" in {where}" if where else ""
                raise ImportFileError(
                    f"{path}: the key {key[:40]!r}{place} is not allowed (keys may not start "
                    "with $ or contain . or NUL characters)"
                )
            check_keys(value, path, f"{where}.{key}" if where else key)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            check_keys(item, path, f"{where}[{index}]")


def detect_format(path: Path, raw: bytes) -> ImportFormat:
    if path.suffix.lower() == ".csv":
        return "tickets-csv"
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        raise ImportFileError(
            f"{path}: not a JSON object or a .csv file; say the format with --format"
        )
    data = load_json(path, raw)
    if data.get("app") == "jtt" or "format_version" in data:
        return "bundle"
    if any(key in data for key in ("projectData", "jiraData", "manualTasks")) or isinstance(
        data.get("sessions"), dict
    ):
        return "electron"
    raise ImportFileError(
        f"{path}: neither a jtt export nor an Electron app data file; say the format with --format"
    )


def read_import(path: Path, fmt: ImportFormat | Literal["auto"], *, user_id: str) -> ParsedImport:
    """Read and validate a whole file; raises ImportFileError on any problem."""
    raw = read_bytes(path)
    if fmt == "auto":
        fmt = detect_format(path, raw)
    if fmt == "tickets-csv":
        from jtt_tui.storage.importers.tickets_csv import parse_tickets_csv

        return parse_tickets_csv(path, raw)
    data = load_json(path, raw)
    if not isinstance(data, dict):
        raise ImportFileError(f"{path}: expected a JSON object at the top level")
    if fmt == "bundle":
        try:
            return ParsedImport("bundle", DataBundle.model_validate(data))
        except ValidationError as exc:
            raise ImportFileError(explain(exc, context=str(path))) from None
    from jtt_tui.storage.importers.electron import parse_electron

    return parse_electron(path, data, user_id=user_id)
