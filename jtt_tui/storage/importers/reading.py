"""Safe reading of import files: size limit, strict JSON, hostile keys."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from jtt_tui.domain.models import DataBundle, ManualTask, Session
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
        keys = KeyWatch()
        data = json_decoder(keys.seen).decode(text)
        if keys.suspect or _ESCAPED_NUL in text:
            check_keys(data, path)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg} "
            "(is the file complete?)"
        ) from None
    except RecursionError:
        raise ImportFileError(
            f"{path}: nested too deeply to be jtt data (lists or objects inside each other "
            "hundreds of levels down)"
        ) from None
    except ValueError as exc:
        raise ImportFileError(f"{path}: {exc}") from None
    return data


def json_decoder(object_hook: Callable[[dict[str, Any]], Any]) -> json.JSONDecoder:
    """The JSON reading of every import: exact decimals, numbers in range,
    no NaN or Infinity; ``object_hook`` sees every object."""
    return json.JSONDecoder(
        parse_float=_number,
        parse_int=_integer,
        parse_constant=_refuse_constant,
        object_hook=object_hook,
    )


# a number beyond these is no time, amount or count jtt keeps: refused before
# it is converted (turning 1e999999999 into an integer takes minutes and GBs)
MAX_INTEGER_DIGITS = 20
MAX_EXPONENT = 20


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise ValueError(f"the number {text[:12]}… ({digits} digits) is out of range")
    return int(text)


def _number(text: str) -> Decimal:
    if len(text) > 60:
        raise ValueError(f"the number {text[:12]}… ({len(text)} characters) is out of range")
    value = Decimal(text)
    if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"the number {text} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number jtt accepts")


# a NUL character can only be in JSON text escaped (strict JSON refuses a raw
# one), and \u0000 is the one way to write it
_ESCAPED_NUL = "\\u0000"


class KeyWatch:
    """An ``object_hook`` that notes whether any object has a key that
    :func:`check_keys` would refuse, at the cost of a set comparison per
    object (the keys of a file repeat); only then is the file walked value
    by value for the message."""

    def __init__(self) -> None:
        self.fine: set[str] = set()
        self.suspect = False

    def seen(self, obj: dict[str, Any]) -> dict[str, Any]:
        if not self.fine.issuperset(obj):
            self.note(obj)
        return obj

    def note(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key.startswith("$") or "." in key or "\0" in key:
                self.suspect = True
            else:
                self.fine.add(key)


def check_keys(data: Any, path: Path, where: str = "") -> None:
    """Refuse keys that could act as MongoDB operators or paths: ``$…``,
    anything with a dot or a NUL character; and NUL characters in text (no
    name or note has one; C programs and terminals cut text there)."""
    found = _first_hostile(data)
    if found is None:
        return
    problem, trail = found
    # where it is, put together only now (a 100,000-session file has
    # millions of values: naming each on the way cost seconds)
    for step in reversed(trail):
        if isinstance(step, int):
            where = f"{where}[{step}]"
        else:
            where = f"{where}.{step}" if where else step
    place = f" in {where}" if where else ""
    if problem is None:
        raise ImportFileError(f"{path}: a NUL character{place} (text may not contain one)")
    raise ImportFileError(
        f"{path}: the key {problem[:40]!r}{place} is not allowed (keys may not start "
        "with $ or contain . or NUL characters)"
    )


def _first_hostile(data: Any) -> tuple[str | None, list[str | int]] | None:
    """The first hostile key (or, as None, a NUL in text) and the way to it,
    innermost step first; None when there is none."""
    if isinstance(data, str):
        return (None, []) if "\0" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                continue
            if key.startswith("$") or "." in key or "\0" in key:
                return key, []
            found = _first_hostile(value)
            if found is not None:
                found[1].append(key)
                return found
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found = _first_hostile(item)
            if found is not None:
                found[1].append(index)
                return found
    return None


def detect_format(path: Path, raw: bytes) -> ImportFormat:
    if path.suffix.lower() == ".csv":
        return "tickets-csv"
    return _format_of(path, _json_object_of(path, raw))


def _json_object_of(path: Path, raw: bytes) -> Any:
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        raise ImportFileError(
            f"{path}: not a JSON object or a .csv file; say the format with --format"
        )
    return load_json(path, raw)


def _format_of(path: Path, data: Any) -> ImportFormat:
    if data.get("app") == "jtt" or "format_version" in data:
        return "bundle"
    if any(key in data for key in ("projectData", "jiraData", "manualTasks")) or isinstance(
        data.get("sessions"), dict
    ):
        return "electron"
    raise ImportFileError(
        f"{path}: neither a jtt export nor an Electron app data file; say the format with --format"
    )


def read_import(
    path: Path,
    fmt: ImportFormat | Literal["auto"],
    *,
    user_id: str,
    now: datetime | None = None,
) -> ParsedImport:
    """Read and validate a whole file; raises ImportFileError on any problem."""
    raw = read_bytes(path)
    data: Any = None
    if fmt == "auto":
        if path.suffix.lower() == ".csv":
            fmt = "tickets-csv"
        else:  # (parsed once: the format is told by what the file holds)
            data = _json_object_of(path, raw)
            fmt = _format_of(path, data)
    if fmt == "tickets-csv":
        from jtt_tui.storage.importers.tickets_csv import parse_tickets_csv

        return parse_tickets_csv(path, raw)
    if data is None:
        data = load_json(path, raw)
    del raw  # (the parsed data is what is needed from here)
    if not isinstance(data, dict):
        raise ImportFileError(f"{path}: expected a JSON object at the top level")
    if fmt == "bundle":
        try:
            parsed = ParsedImport("bundle", DataBundle.model_validate(data))
        except ValidationError as exc:
            raise ImportFileError(explain(exc, context=str(path))) from None
    else:
        from jtt_tui.storage.importers.electron import parse_electron

        parsed = parse_electron(path, data, user_id=user_id)
    check_plausible(parsed.bundle, path, now or datetime.now(UTC))
    return parsed


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)  # clocks differ; more than a day ahead is a wrong date


def check_plausible(bundle: DataBundle, path: Path, now: datetime) -> None:
    """Time that cannot be real is refused, naming where: a segment or a
    manual entry before 1970 or more than a day in the future (a segment
    from year 1 to 9999 would count as every day's 24 hours)."""
    latest = now + AHEAD
    for session in bundle.sessions:
        check_session_times(session, path, latest)
    for task in bundle.manual_tasks:
        check_task_date(task, path, latest)


def check_session_times(session: Session, path: Path, latest: datetime) -> None:
    """:func:`check_plausible` of one session (``latest``: now + AHEAD)."""

    def when(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M} UTC"

    for number, segment in enumerate(session.segments, start=1):
        for moment in (segment.start, segment.end):
            if moment is None:
                continue
            if moment < EARLIEST:
                where = f"{path}: {session.ticket_number}, segment {number}"
                raise ImportFileError(f"{where}: {when(moment)} is before 1970")
            if moment > latest:
                where = f"{path}: {session.ticket_number}, segment {number}"
                raise ImportFileError(f"{where}: {when(moment)} is in the future")


def check_task_date(task: ManualTask, path: Path, latest: datetime) -> None:
    """:func:`check_plausible` of one manual entry."""
    if not EARLIEST.date() <= task.date <= latest.date():
        side = "before 1970" if task.date < EARLIEST.date() else "in the future"
        raise ImportFileError(
            f"{path}: the manual entry {task.title[:40]!r} is dated {task.date}, {side}"
        )
