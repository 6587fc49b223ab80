"""Small helpers shared by the screens' tables."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None (an empty table)."""
    if not table.row_count:
        return None
    try:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
    except CellDoesNotExist:
        return None
    return key.value
