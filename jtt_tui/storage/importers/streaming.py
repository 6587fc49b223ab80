"""A jtt bundle read a record at a time: the file in chunks, each record
parsed, checked and validated on its own, handed on in batches.

It takes exactly what :func:`reading.read_import` takes (the same JSON
parsing, key check, model validation and plausible times). Anything it
cannot read that way, or any problem at all, is :class:`NotStreamable`:
the caller then reads the file whole, which says what is wrong in the same
words as always (or imports it whole, for an unusual but valid layout). The
records must come kind by kind in the bundle's order, as ``jtt export``
writes them.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from jtt_tui.domain.models import BillingSettings, DataBundle, ManualTask, Record, Session
from jtt_tui.storage.base import READ_BATCH, imported_settings
from jtt_tui.storage.importers.reading import (
    AHEAD,
    MAX_IMPORT_BYTES,
    ImportFileError,
    KeyWatch,
    check_keys,
    check_session_times,
    check_task_date,
    json_decoder,
)
from jtt_tui.storage.kinds import ALL_KINDS, BILLING, MANUAL_TASKS, SESSIONS, Kind

CHUNK = 1 << 20  # characters read at a time
_ESCAPED_NUL = "\\u0000"
_WHITESPACE = " \t\n\r"
# the bundle's record lists and settings by their names in a file (either spelling)
_KINDS = {name: kind for kind in ALL_KINDS for name in (kind.name, kind.mongo_key)}


class NotStreamable(Exception):
    """Not readable a record at a time (or not valid): read it whole."""


def stream_bundle(
    path: Path, *, user_id: str, detect: bool, now: datetime | None = None
) -> Iterator[tuple[Kind, list[Record]]]:
    """(kind, batch of validated records) of the bundle at ``path``, kind by
    kind in the bundle's order; billing settings re-keyed to ``user_id`` as
    an import does. ``detect``: the file must say it is a jtt bundle before
    its first records (else it is left to the whole-file reader to tell)."""
    try:
        size = path.stat().st_size
    except OSError:
        raise NotStreamable from None
    if size > MAX_IMPORT_BYTES or not path.is_file():
        raise NotStreamable
    with path.open("rb") as handle:
        reader = _Reader(handle)
        yield from _Bundle(reader, path, user_id, detect, now or datetime.now(UTC)).records()


class _Reader:
    """JSON text read in chunks: parse a value where the reader stands,
    reading on while the value might go on past what was read."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.decode = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.at = 0
        self.eof = False
        self.keys = KeyWatch()
        self.decoder = json_decoder(self.keys.seen)

    def _more(self, wanted: int = CHUNK) -> bool:
        if self.eof:
            return False
        data = self.handle.read(wanted)
        try:
            chunk = self.decode.decode(data, final=not data)
        except UnicodeDecodeError:
            raise NotStreamable from None
        self.eof = not data
        self.text = self.text[self.at :] + chunk
        self.at = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            text, at = self.text, self.at
            while at < len(text) and text[at] in _WHITESPACE:
                at += 1
            self.at = at
            if at < len(text):
                return text[at]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise NotStreamable
        self.at += 1

    def value(self) -> Any:
        """The JSON value here. A value that reaches the end of what was
        read is read again with more (a number could go on; a record cut
        off is an error only at the end of the file): the reads grow, so a
        long value is parsed a few times, not once per chunk."""
        self.peek()
        wanted = CHUNK
        while True:
            start = self.at
            try:
                value, end = self.decoder.raw_decode(self.text, start)
            except json.JSONDecodeError:
                value, end = None, -1
            except (ValueError, RecursionError):
                raise NotStreamable from None  # (a number out of range, nesting)
            if end != -1 and self._followed(end):
                if _ESCAPED_NUL in self.text[start:end]:
                    self._check_nul(value)
                self.at = end
                return value
            if not self._more(wanted):
                raise NotStreamable  # cut off, or not JSON
            wanted *= 2

    def _followed(self, end: int) -> bool:
        """Whether something other than white space follows ``end`` in what
        was read (or the file ends there)."""
        text = self.text
        while end < len(text) and text[end] in _WHITESPACE:
            end += 1
        return end < len(text) or self.eof

    def _check_nul(self, value: Any) -> None:
        try:
            check_keys(value, Path())
        except ImportFileError:
            raise NotStreamable from None

    def end(self) -> None:
        if self.peek() != "":
            raise NotStreamable  # (more after the bundle: json.loads says "Extra data")


class _Bundle:
    def __init__(
        self, reader: _Reader, path: Path, user_id: str, detect: bool, now: datetime
    ) -> None:
        self.reader = reader
        self.path = path
        self.user_id = user_id
        self.detect = detect
        self.latest = now + AHEAD
        self.top: dict[str, Any] = {}  # the bundle's other fields

    def records(self) -> Iterator[tuple[Kind, list[Record]]]:
        reader = self.reader
        reader.expect("{")
        order = 0  # the bundle's kinds come in ALL_KINDS order
        names: set[str] = set()
        kinds: set[Kind] = set()
        while (char := reader.peek()) != "}":
            if names:
                if char != ",":
                    raise NotStreamable
                reader.at += 1
            name = reader.value()
            if not isinstance(name, str) or name in names:
                raise NotStreamable  # (a name twice: json.loads keeps the last)
            names.add(name)
            reader.keys.note([name])
            reader.expect(":")
            kind = _KINDS.get(name)
            if kind is None:
                self.top[name] = reader.value()
                continue
            if kind in kinds or ALL_KINDS.index(kind) < order:
                raise NotStreamable  # (both spellings, or out of order)
            kinds.add(kind)
            order = ALL_KINDS.index(kind)
            if self.detect and not self._told():
                raise NotStreamable  # not told to be a bundle (yet): the whole reader decides
            if kind is BILLING:
                yield from self._settings(reader.value())
            else:
                yield from self._list(kind)
        reader.at += 1
        reader.end()
        if self.detect and not self._told():
            raise NotStreamable
        if reader.keys.suspect:
            raise NotStreamable  # a key check_keys refuses
        try:
            DataBundle.model_validate(self.top)  # (the bundle's own fields, records aside)
        except ValidationError:
            raise NotStreamable from None

    def _told(self) -> bool:
        """Whether the file says it is a jtt bundle (as reading.detect_format asks)."""
        return "format_version" in self.top or self.top.get("app") == "jtt"

    def _settings(self, data: Any) -> Iterator[tuple[Kind, list[Record]]]:
        if data is None:
            return
        settings = self._validated(BILLING, data)
        assert isinstance(settings, BillingSettings)
        yield BILLING, [imported_settings(settings, self.user_id)]

    def _list(self, kind: Kind) -> Iterator[tuple[Kind, list[Record]]]:
        reader = self.reader
        reader.expect("[")
        keys: set[str] = set()
        batch: list[Record] = []
        while (char := reader.peek()) != "]":
            if keys:
                if char != ",":
                    raise NotStreamable
                reader.at += 1
            record = self._validated(kind, reader.value())
            key = kind.key_of(record)
            if key in keys:
                raise NotStreamable  # (a key twice)
            keys.add(key)
            batch.append(record)
            if len(batch) >= READ_BATCH:
                yield kind, batch
                batch = []
        reader.at += 1
        if batch:
            yield kind, batch

    def _validated(self, kind: Kind, data: Any) -> Record:
        if not isinstance(data, dict) or self.reader.keys.suspect:
            raise NotStreamable
        try:
            record = kind.model.model_validate(data)
            if kind is SESSIONS:
                assert isinstance(record, Session)
                check_session_times(record, self.path, self.latest)
            elif kind is MANUAL_TASKS:
                assert isinstance(record, ManualTask)
                check_task_date(record, self.path, self.latest)
        except (ValidationError, ImportFileError):
            raise NotStreamable from None
        return record
