"""One way to run blocking work (storage, Jira, files) off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.dom import DOMNode
from textual.worker import Worker

T = TypeVar("T")


def background(
    node: DOMNode,
    work: Callable[[], T],
    then: Callable[[T], None] | None = None,
    *,
    group: str = "default",
    exclusive: bool = True,
    description: str = "",
) -> Worker[None]:
    """Run ``work`` in a thread worker of ``node``; hand its result to
    ``then`` on the UI thread (not after the app has stopped). A failure
    ends the worker in the ERROR state, which the app's one failure handler
    turns into words (never a crash: ``exit_on_error=False``)."""
    app = node.app

    def run() -> None:
        result = work()
        if then is not None and app.is_running:
            app.call_from_thread(then, result)

    return node.run_worker(
        run,
        group=group,
        exclusive=exclusive,
        thread=True,
        exit_on_error=False,
        description=description or group,
    )
