"""How a pushed worklog changes the issue's remaining estimate in Jira.

Kept apart from the HTTP client so that reading the settings (which checks
this) does not import httpx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

EstimateMode = Literal["auto", "leave", "new", "manual"]


@dataclass(frozen=True)
class Estimate:
    """How Jira changes the issue's remaining estimate, as its own log-work
    dialog offers: ``auto`` (by the time logged), ``leave``, ``new`` (set it
    to ``value``) or ``manual`` (reduce it by ``value`` when a worklog is
    created, give it back when one is deleted). Values in Jira's notation:
    ``2d``, ``3h``, ``30m``, ``1d 4h``."""

    mode: EstimateMode = "auto"
    value: str = ""

    def __post_init__(self) -> None:
        problem = estimate_problem(self.mode, self.value)
        if problem:
            raise ValueError(problem)

    def params(self, method: str) -> dict[str, str]:
        if self.mode == "new":
            return {"adjustEstimate": "new", "newEstimate": self.value}
        if self.mode == "manual":
            if method == "POST":
                return {"adjustEstimate": "manual", "reduceBy": self.value}
            if method == "DELETE":
                return {"adjustEstimate": "manual", "increaseBy": self.value}
            # an update has no manual mode in Jira: the estimate was reduced
            # when the worklog was created
            return {"adjustEstimate": "leave"}
        return {"adjustEstimate": self.mode}


_DURATION = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[wdhm]\s*)+|\s*\d+\s*")


def estimate_problem(mode: str, value: str) -> str:
    """Why (mode, value) is not something Jira takes, or ""."""
    if mode not in ("auto", "leave", "new", "manual"):
        return f"adjust estimate must be auto, leave, new or manual, not {mode!r}"
    if mode in ("auto", "leave"):
        return "" if not value else f"adjust estimate {mode!r} takes no amount"
    what = "the new remaining estimate" if mode == "new" else "how much to reduce it by"
    if not value:
        return f"adjust estimate {mode!r} needs {what}, e.g. 2d, 3h, 30m or 1d 4h"
    if not _DURATION.fullmatch(value):
        return f"{value!r} is not a Jira duration: write it like 2d, 3h, 30m or 1d 4h"
    return ""
