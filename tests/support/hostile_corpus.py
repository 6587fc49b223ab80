"""A bounded corpus of hostile and implausible import files (#19): written
into a folder by :func:`write_corpus` (nothing large is committed). Each
file is something a careless export, a truncated copy or a malicious hand
could produce; every importer must answer each with a clean refusal (or a
clean import) quickly and in little memory."""

from __future__ import annotations

import json
from pathlib import Path

ELECTRON_HEAD = '{"projectData": [], "manualTasks": [], "projects": [], "billing": {}, '


def _electron(start: str, *, end: str = "1752915600000", name: str = '"x"') -> str:
    return (
        ELECTRON_HEAD
        + '"sessions": {"WEB-1": {"ticketNumber": "WEB-1", "ticketName": '
        + name
        + ', "sessions": [{"startTime": '
        + start
        + ', "duration": 60000, "status": "completed", "endTime": '
        + end
        + "}]}}}"
    )


def _bundle(**session: object) -> str:
    base = {
        "app": "jtt",
        "format_version": 1,
        "sessions": [
            {
                "ticket_number": "ODD-1",
                "ticket_name": "odd",
                "status": "stopped",
                "segments": [{"start": "2025-03-10T09:00:00Z", "end": "2025-03-10T10:00:00Z"}],
                **session,
            }
        ],
    }
    return json.dumps(base)


CASES: dict[str, bytes | str] = {
    "huge-exponent.json": _electron("1e10000000"),
    "huger-exponent.json": _electron("1e999999999"),
    "many-digits.json": _electron("1" + "0" * 5000),
    "negative-time.json": _electron("-99999999999999"),
    "float-time.json": _electron("1752912000000.5"),
    "nan.json": _electron("NaN"),
    "infinity.json": _electron("Infinity"),
    "string-time.json": _electron('"yesterday"'),
    "deep-object.json": '{"sessions": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "deep-dicts.json": '{"a": ' * 5_000 + "1" + "}" * 5_000,
    "nul-in-name.json": _electron("1752912000000", name='"bad\\u0000name"'),
    "dollar-key.json": '{"sessions": {"$where": {}}, "projectData": []}',
    "dotted-key.json": '{"sessions": {"a.b": {}}, "projectData": []}',
    "not-utf8.json": b'{"sessions": {}, "projectData": ["caf\xe9"]}',
    "bom-only.json": b"\xef\xbb\xbf",
    "empty.json": b"",
    "truncated.json": _electron("1752912000000")[:-20],
    "top-level-list.json": "[1, 2, 3]",
    "ages-long-segment.json": _bundle(
        segments=[{"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"}]
    ),
    "far-future.json": _bundle(
        segments=[{"start": "2999-01-01T00:00:00Z", "end": "2999-01-01T01:00:00Z"}]
    ),
    "bundle-nul.json": _bundle(ticket_name="a\u0000b"),
    "bundle-wrong-types.json": _bundle(segments="all of them"),
    "long-line.json": '{"sessions": {}, "projectData": [], "x": "' + "a" * 2_000_000 + '"}',
    "tickets-nul.csv": "ticket_number,ticket_name,story_points\nWEB-7,bad\x00name,1\n",
    "tickets-formula.csv": "ticket_number,ticket_name,story_points\nWEB-7,=cmd|' /C calc'!A0,1\n",
    "tickets-bad-header.csv": "a,b,c\n1,2,3\n",
    "tickets-huge-points.csv": "ticket_number,ticket_name,story_points\nWEB-7,x,"
    + "9" * 5000
    + "\n",
    "tickets-unbalanced-quote.csv": 'ticket_number,ticket_name,story_points\nWEB-7,"open,1\n',
}


def write_corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in CASES.items():
        path = folder / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        paths.append(path)
    return paths


if __name__ == "__main__":
    import sys

    for written in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")):
        print(written)
