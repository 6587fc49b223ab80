"""A list of tickets as CSV: ``ticket_number,ticket_name,story_points``
(RFC 4180 quoting, UTF-8 with or without a byte-order mark)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from jtt_tui.domain.models import DataBundle, Ticket
from jtt_tui.domain.validation import explain
from jtt_tui.storage.importers.reading import ImportFileError, ParsedImport

HEADER = ("ticket_number", "ticket_name", "story_points")


def parse_tickets_csv(path: Path, raw: bytes) -> ParsedImport:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError(f"{path}: the file is empty")
        names = tuple(h.strip().lower() for h in header)
        missing = {"ticket_number", "ticket_name"} - set(names)
        unknown = set(names) - set(HEADER)
        if missing or unknown or len(set(names)) != len(names):
            raise ImportFileError(
                f"{path}: the header must be {','.join(HEADER)} (got {','.join(header)[:80]})"
            )
        tickets: dict[str, Ticket] = {}
        notes: list[str] = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise ImportFileError(
                    f"{path}, line {line}: {len(row)} fields, the header has {len(names)}"
                )
            if any("\0" in cell for cell in row):
                raise ImportFileError(
                    f"{path}, line {line}: a NUL character (text may not contain one)"
                )
            values = dict(zip(names, row, strict=True))
            points = values.get("story_points", "").strip()
            try:
                ticket = Ticket(
                    ticket_number=values["ticket_number"],
                    ticket_name=values.get("ticket_name", ""),
                    story_points=points or None,
                    source="csv",
                )
            except ValidationError as exc:
                raise ImportFileError(explain(exc, context=f"{path}, line {line}")) from None
            if ticket.ticket_number in tickets:
                notes.append(
                    f"line {line}: {ticket.ticket_number} appears again; the last line wins"
                )
            tickets[ticket.ticket_number] = ticket
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line {reader.line_num}: {exc}") from None
    return ParsedImport("tickets-csv", DataBundle(tickets=list(tickets.values())), notes)
