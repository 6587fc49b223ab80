"""Reading data files into a validated :class:`DataBundle`, all or nothing:
a file that cannot be read completely and correctly changes nothing.

Formats: ``bundle`` (jtt's own export), ``electron`` (the data file of the
Electron app jtt replaces) and ``tickets-csv`` (a list of tickets)."""

from __future__ import annotations

from jtt_tui.storage.importers.reading import (
    MAX_IMPORT_BYTES,
    ImportFileError,
    ParsedImport,
    detect_format,
    read_import,
)

__all__ = ["MAX_IMPORT_BYTES", "ImportFileError", "ParsedImport", "detect_format", "read_import"]
